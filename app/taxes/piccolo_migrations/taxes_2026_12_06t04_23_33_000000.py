"""Hand-written (build/audit_migration.py, the tax part): the audit trail's triggers on tax,
re-created after the migration before it added names and notes, so that the new columns are recorded too.

Piccolo runs a migration's raw SQL before its added columns, so the triggers, which name every
column, are re-created here, in the migration right after the ALTER TABLE. The rows already there
keep their baseline entries: a column the trail has not recorded yet is not compared by `counterfoil
check` until its first change is.

Copied here, not imported from the tables module: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T04:23:33:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit trail triggers on tax re-created with names and notes"

CREATE = [
    'CREATE TRIGGER audit_tax_insert AFTER INSERT ON "tax" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'tax\', new.id, NULL, NULL, json_object(\'code\', new."code", \'name\', new."name", \'rate\', new."rate", \'compound\', new."compound", \'note\', new."note", \'names\', new."names", \'notes\', new."notes", \'category\', new."category", \'active\', new."active", \'created_at\', new."created_at", \'updated_at\', new."updated_at")); END',
    'CREATE TRIGGER audit_tax_update AFTER UPDATE ON "tax" WHEN old."id" IS NOT new."id" OR old."code" IS NOT new."code" OR old."name" IS NOT new."name" OR old."rate" IS NOT new."rate" OR old."compound" IS NOT new."compound" OR old."note" IS NOT new."note" OR old."names" IS NOT new."names" OR old."notes" IS NOT new."notes" OR old."category" IS NOT new."category" OR old."active" IS NOT new."active" OR old."created_at" IS NOT new."created_at" OR old."updated_at" IS NOT new."updated_at" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'tax\', new.id, NULL, NULL, (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'code\' AS k, json_array(old."code", new."code") AS v WHERE old."code" IS NOT new."code" UNION ALL SELECT \'name\' AS k, json_array(old."name", new."name") AS v WHERE old."name" IS NOT new."name" UNION ALL SELECT \'rate\' AS k, json_array(old."rate", new."rate") AS v WHERE old."rate" IS NOT new."rate" UNION ALL SELECT \'compound\' AS k, json_array(old."compound", new."compound") AS v WHERE old."compound" IS NOT new."compound" UNION ALL SELECT \'note\' AS k, json_array(old."note", new."note") AS v WHERE old."note" IS NOT new."note" UNION ALL SELECT \'names\' AS k, json_array(old."names", new."names") AS v WHERE old."names" IS NOT new."names" UNION ALL SELECT \'notes\' AS k, json_array(old."notes", new."notes") AS v WHERE old."notes" IS NOT new."notes" UNION ALL SELECT \'category\' AS k, json_array(old."category", new."category") AS v WHERE old."category" IS NOT new."category" UNION ALL SELECT \'active\' AS k, json_array(old."active", new."active") AS v WHERE old."active" IS NOT new."active" UNION ALL SELECT \'created_at\' AS k, json_array(old."created_at", new."created_at") AS v WHERE old."created_at" IS NOT new."created_at" UNION ALL SELECT \'updated_at\' AS k, json_array(old."updated_at", new."updated_at") AS v WHERE old."updated_at" IS NOT new."updated_at"))); END',
    'CREATE TRIGGER audit_tax_delete AFTER DELETE ON "tax" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'tax\', old.id, NULL, NULL, json_object(\'code\', old."code", \'name\', old."name", \'rate\', old."rate", \'compound\', old."compound", \'note\', old."note", \'names\', old."names", \'notes\', old."notes", \'category\', old."category", \'active\', old."active", \'created_at\', old."created_at", \'updated_at\', old."updated_at")); END',
]

DROP = [
    'DROP TRIGGER IF EXISTS audit_tax_insert',
    'DROP TRIGGER IF EXISTS audit_tax_update',
    'DROP TRIGGER IF EXISTS audit_tax_delete',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="taxes", description=DESCRIPTION)

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
