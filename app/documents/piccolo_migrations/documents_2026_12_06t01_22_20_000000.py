"""Hand-written (build/audit_migration.py, the document_record part): audit trail triggers on document_record (the stored PDF of an issued document); baseline entries for its rows

Copied here, not imported from app.documents.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T01:22:20:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit trail triggers on document_record (the stored PDF of an issued document); baseline entries for its rows"

FORWARDS = ['CREATE TRIGGER audit_document_record_insert AFTER INSERT ON "document_record" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'document_record\', new.id, \'document\', new."document", json_object(\'document\', new."document", \'kind\', new."kind", \'sha256\', new."sha256", \'size\', new."size", \'origin\', new."origin", \'made_at\', new."made_at")); END', 'CREATE TRIGGER audit_document_record_update AFTER UPDATE ON "document_record" WHEN old."id" IS NOT new."id" OR old."document" IS NOT new."document" OR old."kind" IS NOT new."kind" OR old."sha256" IS NOT new."sha256" OR old."size" IS NOT new."size" OR old."origin" IS NOT new."origin" OR old."made_at" IS NOT new."made_at" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'document_record\', new.id, \'document\', new."document", (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'document\' AS k, json_array(old."document", new."document") AS v WHERE old."document" IS NOT new."document" UNION ALL SELECT \'kind\' AS k, json_array(old."kind", new."kind") AS v WHERE old."kind" IS NOT new."kind" UNION ALL SELECT \'sha256\' AS k, json_array(old."sha256", new."sha256") AS v WHERE old."sha256" IS NOT new."sha256" UNION ALL SELECT \'size\' AS k, json_array(old."size", new."size") AS v WHERE old."size" IS NOT new."size" UNION ALL SELECT \'origin\' AS k, json_array(old."origin", new."origin") AS v WHERE old."origin" IS NOT new."origin" UNION ALL SELECT \'made_at\' AS k, json_array(old."made_at", new."made_at") AS v WHERE old."made_at" IS NOT new."made_at"))); END', 'CREATE TRIGGER audit_document_record_delete AFTER DELETE ON "document_record" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'document_record\', old.id, \'document\', old."document", json_object(\'document\', old."document", \'kind\', old."kind", \'sha256\', old."sha256", \'size\', old."size", \'origin\', old."origin", \'made_at\', old."made_at")); END', 'INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes, action) SELECT strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'document_record\', t.id, \'document\', t."document", json_object(\'document\', t."document", \'kind\', t."kind", \'sha256\', t."sha256", \'size\', t."size", \'origin\', t."origin", \'made_at\', t."made_at"), \'baseline\' FROM "document_record" AS t ORDER BY t.id']

DROP = ['DROP TRIGGER IF EXISTS audit_document_record_insert', 'DROP TRIGGER IF EXISTS audit_document_record_update', 'DROP TRIGGER IF EXISTS audit_document_record_delete']


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)

    async def create():
        from app.db.engine import DB

        for statement in FORWARDS:
            await DB.run_ddl(statement)

    async def drop():
        from app.db.engine import DB

        for statement in DROP:
            await DB.run_ddl(statement)

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
