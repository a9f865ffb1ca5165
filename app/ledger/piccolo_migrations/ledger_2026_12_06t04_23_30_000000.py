"""Hand-written (build/audit_migration.py, the ledger_entry part): the audit trail's triggers on ledger_entry,
re-created after the migration before it added refs, so that the new columns are recorded too.

Piccolo runs a migration's raw SQL before its added columns, so the triggers, which name every
column, are re-created here, in the migration right after the ALTER TABLE. The rows already there
keep their baseline entries: a column the trail has not recorded yet is not compared by `counterfoil
check` until its first change is.

Copied here, not imported from the tables module: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T04:23:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit trail triggers on ledger_entry re-created with refs"

CREATE = [
    'CREATE TRIGGER audit_ledger_entry_insert AFTER INSERT ON "ledger_entry" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'ledger_entry\', new.id, \'document\', new."document_id", json_object(\'client\', new."client", \'currency\', new."currency", \'entry_date\', new."entry_date", \'kind\', new."kind", \'document_id\', new."document_id", \'payment_id\', new."payment_id", \'number\', new."number", \'description\', new."description", \'refs\', new."refs", \'debit_minor\', new."debit_minor", \'credit_minor\', new."credit_minor", \'amount_minor\', new."amount_minor", \'at\', new."at", \'actor\', new."actor")); END',
    'CREATE TRIGGER audit_ledger_entry_update AFTER UPDATE ON "ledger_entry" WHEN old."id" IS NOT new."id" OR old."client" IS NOT new."client" OR old."currency" IS NOT new."currency" OR old."entry_date" IS NOT new."entry_date" OR old."kind" IS NOT new."kind" OR old."document_id" IS NOT new."document_id" OR old."payment_id" IS NOT new."payment_id" OR old."number" IS NOT new."number" OR old."description" IS NOT new."description" OR old."refs" IS NOT new."refs" OR old."debit_minor" IS NOT new."debit_minor" OR old."credit_minor" IS NOT new."credit_minor" OR old."amount_minor" IS NOT new."amount_minor" OR old."at" IS NOT new."at" OR old."actor" IS NOT new."actor" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'ledger_entry\', new.id, \'document\', new."document_id", (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'client\' AS k, json_array(old."client", new."client") AS v WHERE old."client" IS NOT new."client" UNION ALL SELECT \'currency\' AS k, json_array(old."currency", new."currency") AS v WHERE old."currency" IS NOT new."currency" UNION ALL SELECT \'entry_date\' AS k, json_array(old."entry_date", new."entry_date") AS v WHERE old."entry_date" IS NOT new."entry_date" UNION ALL SELECT \'kind\' AS k, json_array(old."kind", new."kind") AS v WHERE old."kind" IS NOT new."kind" UNION ALL SELECT \'document_id\' AS k, json_array(old."document_id", new."document_id") AS v WHERE old."document_id" IS NOT new."document_id" UNION ALL SELECT \'payment_id\' AS k, json_array(old."payment_id", new."payment_id") AS v WHERE old."payment_id" IS NOT new."payment_id" UNION ALL SELECT \'number\' AS k, json_array(old."number", new."number") AS v WHERE old."number" IS NOT new."number" UNION ALL SELECT \'description\' AS k, json_array(old."description", new."description") AS v WHERE old."description" IS NOT new."description" UNION ALL SELECT \'refs\' AS k, json_array(old."refs", new."refs") AS v WHERE old."refs" IS NOT new."refs" UNION ALL SELECT \'debit_minor\' AS k, json_array(old."debit_minor", new."debit_minor") AS v WHERE old."debit_minor" IS NOT new."debit_minor" UNION ALL SELECT \'credit_minor\' AS k, json_array(old."credit_minor", new."credit_minor") AS v WHERE old."credit_minor" IS NOT new."credit_minor" UNION ALL SELECT \'amount_minor\' AS k, json_array(old."amount_minor", new."amount_minor") AS v WHERE old."amount_minor" IS NOT new."amount_minor" UNION ALL SELECT \'at\' AS k, json_array(old."at", new."at") AS v WHERE old."at" IS NOT new."at" UNION ALL SELECT \'actor\' AS k, json_array(old."actor", new."actor") AS v WHERE old."actor" IS NOT new."actor"))); END',
    'CREATE TRIGGER audit_ledger_entry_delete AFTER DELETE ON "ledger_entry" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'ledger_entry\', old.id, \'document\', old."document_id", json_object(\'client\', old."client", \'currency\', old."currency", \'entry_date\', old."entry_date", \'kind\', old."kind", \'document_id\', old."document_id", \'payment_id\', old."payment_id", \'number\', old."number", \'description\', old."description", \'refs\', old."refs", \'debit_minor\', old."debit_minor", \'credit_minor\', old."credit_minor", \'amount_minor\', old."amount_minor", \'at\', old."at", \'actor\', old."actor")); END',
]

DROP = [
    'DROP TRIGGER IF EXISTS audit_ledger_entry_insert',
    'DROP TRIGGER IF EXISTS audit_ledger_entry_update',
    'DROP TRIGGER IF EXISTS audit_ledger_entry_delete',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ledger", description=DESCRIPTION)

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
