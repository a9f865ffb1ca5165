"""Hand-written (build/audit_migration.py, the catalog_item part): the audit trail's triggers on
catalog_item re-created with every column. Two migrations of the same day each re-created them with
the column they added (tax_category, prices_json) but not the other's; whichever ran last left the
other column out of the trail. These name both.

Copied here, not imported from app.catalog.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T05:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit triggers on catalog_item re-created with tax_category and prices_json"

CREATE = [
    'CREATE TRIGGER audit_catalog_item_insert AFTER INSERT ON "catalog_item" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'catalog_item\', new.id, NULL, NULL, json_object(\'code\', new."code", \'name\', new."name", \'kind\', new."kind", \'description\', new."description", \'unit\', new."unit", \'unit_price_e4\', new."unit_price_e4", \'default_tax_codes\', new."default_tax_codes", \'tax_category\', new."tax_category", \'category\', new."category", \'active\', new."active", \'prices_json\', new."prices_json", \'created_at\', new."created_at", \'updated_at\', new."updated_at")); END',
    'CREATE TRIGGER audit_catalog_item_update AFTER UPDATE ON "catalog_item" WHEN old."id" IS NOT new."id" OR old."code" IS NOT new."code" OR old."name" IS NOT new."name" OR old."kind" IS NOT new."kind" OR old."description" IS NOT new."description" OR old."unit" IS NOT new."unit" OR old."unit_price_e4" IS NOT new."unit_price_e4" OR old."default_tax_codes" IS NOT new."default_tax_codes" OR old."tax_category" IS NOT new."tax_category" OR old."category" IS NOT new."category" OR old."active" IS NOT new."active" OR old."prices_json" IS NOT new."prices_json" OR old."created_at" IS NOT new."created_at" OR old."updated_at" IS NOT new."updated_at" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'catalog_item\', new.id, NULL, NULL, (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'code\' AS k, json_array(old."code", new."code") AS v WHERE old."code" IS NOT new."code" UNION ALL SELECT \'name\' AS k, json_array(old."name", new."name") AS v WHERE old."name" IS NOT new."name" UNION ALL SELECT \'kind\' AS k, json_array(old."kind", new."kind") AS v WHERE old."kind" IS NOT new."kind" UNION ALL SELECT \'description\' AS k, json_array(old."description", new."description") AS v WHERE old."description" IS NOT new."description" UNION ALL SELECT \'unit\' AS k, json_array(old."unit", new."unit") AS v WHERE old."unit" IS NOT new."unit" UNION ALL SELECT \'unit_price_e4\' AS k, json_array(old."unit_price_e4", new."unit_price_e4") AS v WHERE old."unit_price_e4" IS NOT new."unit_price_e4" UNION ALL SELECT \'default_tax_codes\' AS k, json_array(old."default_tax_codes", new."default_tax_codes") AS v WHERE old."default_tax_codes" IS NOT new."default_tax_codes" UNION ALL SELECT \'tax_category\' AS k, json_array(old."tax_category", new."tax_category") AS v WHERE old."tax_category" IS NOT new."tax_category" UNION ALL SELECT \'category\' AS k, json_array(old."category", new."category") AS v WHERE old."category" IS NOT new."category" UNION ALL SELECT \'active\' AS k, json_array(old."active", new."active") AS v WHERE old."active" IS NOT new."active" UNION ALL SELECT \'prices_json\' AS k, json_array(old."prices_json", new."prices_json") AS v WHERE old."prices_json" IS NOT new."prices_json" UNION ALL SELECT \'created_at\' AS k, json_array(old."created_at", new."created_at") AS v WHERE old."created_at" IS NOT new."created_at" UNION ALL SELECT \'updated_at\' AS k, json_array(old."updated_at", new."updated_at") AS v WHERE old."updated_at" IS NOT new."updated_at"))); END',
    'CREATE TRIGGER audit_catalog_item_delete AFTER DELETE ON "catalog_item" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'catalog_item\', old.id, NULL, NULL, json_object(\'code\', old."code", \'name\', old."name", \'kind\', old."kind", \'description\', old."description", \'unit\', old."unit", \'unit_price_e4\', old."unit_price_e4", \'default_tax_codes\', old."default_tax_codes", \'tax_category\', old."tax_category", \'category\', old."category", \'active\', old."active", \'prices_json\', old."prices_json", \'created_at\', old."created_at", \'updated_at\', old."updated_at")); END',
]

DROP = [
    'DROP TRIGGER IF EXISTS audit_catalog_item_insert',
    'DROP TRIGGER IF EXISTS audit_catalog_item_update',
    'DROP TRIGGER IF EXISTS audit_catalog_item_delete',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="catalog", description=DESCRIPTION)

    async def create():
        from app.db.engine import DB

        for statement in [*DROP, *CREATE]:
            await DB.run_ddl(statement)

    async def drop():
        from app.db.engine import DB

        for statement in DROP:
            await DB.run_ddl(statement)

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
