"""Hand-written (build/audit_migration.py): the audit trail's triggers on backup_settings.

Every insert, change and deletion of their rows writes an entry in audit_entry, in the writing
transaction (app.audit). Rows already there get one "baseline" entry each, so that from here on
the trail accounts for every row (`counterfoil check` compares the two).

Copied here, not imported from app.backup.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T23:30:09:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit trail triggers on backup_settings; baseline entries for the rows already there"

CREATE = [
    'CREATE TRIGGER audit_backup_settings_insert AFTER INSERT ON "backup_settings" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'backup_settings\', new.id, NULL, NULL, json_object(\'folder\', new."folder", \'rhythm\', new."rhythm", \'keep_last\', new."keep_last", \'last_success_at\', new."last_success_at", \'last_success_file\', new."last_success_file", \'last_attempt_at\', new."last_attempt_at", \'last_error\', new."last_error", \'updated_at\', new."updated_at")); END',
    'CREATE TRIGGER audit_backup_settings_update AFTER UPDATE ON "backup_settings" WHEN old."id" IS NOT new."id" OR old."folder" IS NOT new."folder" OR old."rhythm" IS NOT new."rhythm" OR old."keep_last" IS NOT new."keep_last" OR old."last_success_at" IS NOT new."last_success_at" OR old."last_success_file" IS NOT new."last_success_file" OR old."last_attempt_at" IS NOT new."last_attempt_at" OR old."last_error" IS NOT new."last_error" OR old."updated_at" IS NOT new."updated_at" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'backup_settings\', new.id, NULL, NULL, (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'folder\' AS k, json_array(old."folder", new."folder") AS v WHERE old."folder" IS NOT new."folder" UNION ALL SELECT \'rhythm\' AS k, json_array(old."rhythm", new."rhythm") AS v WHERE old."rhythm" IS NOT new."rhythm" UNION ALL SELECT \'keep_last\' AS k, json_array(old."keep_last", new."keep_last") AS v WHERE old."keep_last" IS NOT new."keep_last" UNION ALL SELECT \'last_success_at\' AS k, json_array(old."last_success_at", new."last_success_at") AS v WHERE old."last_success_at" IS NOT new."last_success_at" UNION ALL SELECT \'last_success_file\' AS k, json_array(old."last_success_file", new."last_success_file") AS v WHERE old."last_success_file" IS NOT new."last_success_file" UNION ALL SELECT \'last_attempt_at\' AS k, json_array(old."last_attempt_at", new."last_attempt_at") AS v WHERE old."last_attempt_at" IS NOT new."last_attempt_at" UNION ALL SELECT \'last_error\' AS k, json_array(old."last_error", new."last_error") AS v WHERE old."last_error" IS NOT new."last_error" UNION ALL SELECT \'updated_at\' AS k, json_array(old."updated_at", new."updated_at") AS v WHERE old."updated_at" IS NOT new."updated_at"))); END',
    'CREATE TRIGGER audit_backup_settings_delete AFTER DELETE ON "backup_settings" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'backup_settings\', old.id, NULL, NULL, json_object(\'folder\', old."folder", \'rhythm\', old."rhythm", \'keep_last\', old."keep_last", \'last_success_at\', old."last_success_at", \'last_success_file\', old."last_success_file", \'last_attempt_at\', old."last_attempt_at", \'last_error\', old."last_error", \'updated_at\', old."updated_at")); END',
]

BASELINE = [
    'INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes, action) SELECT strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'backup_settings\', t.id, NULL, NULL, json_object(\'folder\', t."folder", \'rhythm\', t."rhythm", \'keep_last\', t."keep_last", \'last_success_at\', t."last_success_at", \'last_success_file\', t."last_success_file", \'last_attempt_at\', t."last_attempt_at", \'last_error\', t."last_error", \'updated_at\', t."updated_at"), \'baseline\' FROM "backup_settings" AS t ORDER BY t.id',
]

DROP = [
    'DROP TRIGGER IF EXISTS audit_backup_settings_insert',
    'DROP TRIGGER IF EXISTS audit_backup_settings_update',
    'DROP TRIGGER IF EXISTS audit_backup_settings_delete',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="backup", description=DESCRIPTION)

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
