"""Hand-written (build/audit_migration.py, the document_line part): document_line gained `name`, so its
three audit triggers are dropped and re-created to record the new column. No baseline: the rows already
have theirs, and a column the trail never recorded is not compared (app.audit.logic.disagreements).

Copied here, not imported from app.documents.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T04:18:04:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit trail triggers on document_line re-created with its new column, name"

DROP = ['DROP TRIGGER IF EXISTS audit_document_line_insert', 'DROP TRIGGER IF EXISTS audit_document_line_update',
        'DROP TRIGGER IF EXISTS audit_document_line_delete']

FORWARDS = [
    'CREATE TRIGGER audit_document_line_insert AFTER INSERT ON "document_line" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'document_line\', new.id, \'document\', new."document", json_object(\'document\', new."document", \'position\', new."position", \'item\', new."item", \'name\', new."name", \'description\', new."description", \'quantity\', new."quantity", \'unit\', new."unit", \'unit_price\', new."unit_price", \'discount_percent\', new."discount_percent", \'tax_codes\', new."tax_codes", \'net_minor\', new."net_minor")); END',
    'CREATE TRIGGER audit_document_line_update AFTER UPDATE ON "document_line" WHEN old."id" IS NOT new."id" OR old."document" IS NOT new."document" OR old."position" IS NOT new."position" OR old."item" IS NOT new."item" OR old."name" IS NOT new."name" OR old."description" IS NOT new."description" OR old."quantity" IS NOT new."quantity" OR old."unit" IS NOT new."unit" OR old."unit_price" IS NOT new."unit_price" OR old."discount_percent" IS NOT new."discount_percent" OR old."tax_codes" IS NOT new."tax_codes" OR old."net_minor" IS NOT new."net_minor" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'document_line\', new.id, \'document\', new."document", (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'document\' AS k, json_array(old."document", new."document") AS v WHERE old."document" IS NOT new."document" UNION ALL SELECT \'position\' AS k, json_array(old."position", new."position") AS v WHERE old."position" IS NOT new."position" UNION ALL SELECT \'item\' AS k, json_array(old."item", new."item") AS v WHERE old."item" IS NOT new."item" UNION ALL SELECT \'name\' AS k, json_array(old."name", new."name") AS v WHERE old."name" IS NOT new."name" UNION ALL SELECT \'description\' AS k, json_array(old."description", new."description") AS v WHERE old."description" IS NOT new."description" UNION ALL SELECT \'quantity\' AS k, json_array(old."quantity", new."quantity") AS v WHERE old."quantity" IS NOT new."quantity" UNION ALL SELECT \'unit\' AS k, json_array(old."unit", new."unit") AS v WHERE old."unit" IS NOT new."unit" UNION ALL SELECT \'unit_price\' AS k, json_array(old."unit_price", new."unit_price") AS v WHERE old."unit_price" IS NOT new."unit_price" UNION ALL SELECT \'discount_percent\' AS k, json_array(old."discount_percent", new."discount_percent") AS v WHERE old."discount_percent" IS NOT new."discount_percent" UNION ALL SELECT \'tax_codes\' AS k, json_array(old."tax_codes", new."tax_codes") AS v WHERE old."tax_codes" IS NOT new."tax_codes" UNION ALL SELECT \'net_minor\' AS k, json_array(old."net_minor", new."net_minor") AS v WHERE old."net_minor" IS NOT new."net_minor"))); END',
    'CREATE TRIGGER audit_document_line_delete AFTER DELETE ON "document_line" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'document_line\', old.id, \'document\', old."document", json_object(\'document\', old."document", \'position\', old."position", \'item\', old."item", \'name\', old."name", \'description\', old."description", \'quantity\', old."quantity", \'unit\', old."unit", \'unit_price\', old."unit_price", \'discount_percent\', old."discount_percent", \'tax_codes\', old."tax_codes", \'net_minor\', old."net_minor")); END',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)

    async def create():
        from app.db.engine import DB

        for statement in [*DROP, *FORWARDS]:
            await DB.run_ddl(statement)

    manager.add_raw(create)
    return manager
