"""Hand-written (build/audit_migration.py, the document_create_request part): audit trail triggers on document_create_request (an Idempotency-Key and its document); baseline entries for its rows

Copied here, not imported from app.documents.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T00:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit trail triggers on document_create_request (an Idempotency-Key and its document); baseline entries for its rows"

FORWARDS = ['CREATE TRIGGER audit_document_create_request_insert AFTER INSERT ON "document_create_request" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'document_create_request\', new.id, \'document\', new."document", json_object(\'key\', new."key", \'document\', new."document", \'created_at\', new."created_at")); END', 'CREATE TRIGGER audit_document_create_request_update AFTER UPDATE ON "document_create_request" WHEN old."id" IS NOT new."id" OR old."key" IS NOT new."key" OR old."document" IS NOT new."document" OR old."created_at" IS NOT new."created_at" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'document_create_request\', new.id, \'document\', new."document", (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'key\' AS k, json_array(old."key", new."key") AS v WHERE old."key" IS NOT new."key" UNION ALL SELECT \'document\' AS k, json_array(old."document", new."document") AS v WHERE old."document" IS NOT new."document" UNION ALL SELECT \'created_at\' AS k, json_array(old."created_at", new."created_at") AS v WHERE old."created_at" IS NOT new."created_at"))); END', 'CREATE TRIGGER audit_document_create_request_delete AFTER DELETE ON "document_create_request" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'document_create_request\', old.id, \'document\', old."document", json_object(\'key\', old."key", \'document\', old."document", \'created_at\', old."created_at")); END', 'INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes, action) SELECT strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'document_create_request\', t.id, \'document\', t."document", json_object(\'key\', t."key", \'document\', t."document", \'created_at\', t."created_at"), \'baseline\' FROM "document_create_request" AS t ORDER BY t.id']

DROP = ['DROP TRIGGER IF EXISTS audit_document_create_request_insert', 'DROP TRIGGER IF EXISTS audit_document_create_request_update', 'DROP TRIGGER IF EXISTS audit_document_create_request_delete']


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
