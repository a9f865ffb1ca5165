"""Hand-written (build/audit_migration.py): the audit trail's triggers on project_expense.

Every insert, change and deletion of their rows writes an entry in audit_entry, in the writing
transaction (app.audit). Rows already there get one "baseline" entry each, so that from here on
the trail accounts for every row (`counterfoil check` compares the two).

Copied here, not imported from app.projects.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T02:57:42:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit trail triggers on project_expense; baseline entries for the rows already there"

CREATE = [
    'CREATE TRIGGER audit_project_expense_insert AFTER INSERT ON "project_expense" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'project_expense\', new.id, \'project\', new."project", json_object(\'project\', new."project", \'expense\', new."expense", \'created_at\', new."created_at")); END',
    'CREATE TRIGGER audit_project_expense_update AFTER UPDATE ON "project_expense" WHEN old."id" IS NOT new."id" OR old."project" IS NOT new."project" OR old."expense" IS NOT new."expense" OR old."created_at" IS NOT new."created_at" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'project_expense\', new.id, \'project\', new."project", (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'project\' AS k, json_array(old."project", new."project") AS v WHERE old."project" IS NOT new."project" UNION ALL SELECT \'expense\' AS k, json_array(old."expense", new."expense") AS v WHERE old."expense" IS NOT new."expense" UNION ALL SELECT \'created_at\' AS k, json_array(old."created_at", new."created_at") AS v WHERE old."created_at" IS NOT new."created_at"))); END',
    'CREATE TRIGGER audit_project_expense_delete AFTER DELETE ON "project_expense" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'project_expense\', old.id, \'project\', old."project", json_object(\'project\', old."project", \'expense\', old."expense", \'created_at\', old."created_at")); END',
]

BASELINE = [
    'INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes, action) SELECT strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'project_expense\', t.id, \'project\', t."project", json_object(\'project\', t."project", \'expense\', t."expense", \'created_at\', t."created_at"), \'baseline\' FROM "project_expense" AS t ORDER BY t.id',
]

DROP = [
    'DROP TRIGGER IF EXISTS audit_project_expense_insert',
    'DROP TRIGGER IF EXISTS audit_project_expense_update',
    'DROP TRIGGER IF EXISTS audit_project_expense_delete',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="projects", description=DESCRIPTION)

    async def create():
        from app.db.engine import DB

        for statement in [*CREATE, *BASELINE]:
            await DB.run_ddl(statement)

    async def drop():
        from app.db.engine import DB

        for statement in DROP:
            await DB.run_ddl(statement)

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
