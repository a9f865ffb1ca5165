"""Hand-written (build/audit_migration.py, app_user's part): the audit triggers on app_user re-created
after the previous migration added its `language` column, so the trail records the column too.

Copied here, not imported from app.auth.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T04:20:41:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit trail triggers on app_user re-created with its language column"

DROP = [
    'DROP TRIGGER IF EXISTS audit_app_user_insert',
    'DROP TRIGGER IF EXISTS audit_app_user_update',
    'DROP TRIGGER IF EXISTS audit_app_user_delete',
]

CREATE = [
    'CREATE TRIGGER audit_app_user_insert AFTER INSERT ON "app_user" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'app_user\', new.id, NULL, NULL, json_object(\'email\', new."email", \'name\', new."name", \'role\', new."role", \'password_hash\', CASE WHEN new."password_hash" IS NULL OR new."password_hash" = \'\' THEN new."password_hash" ELSE \'changed\' END, \'active\', new."active", \'created_at\', new."created_at", \'last_login_at\', new."last_login_at", \'language\', new."language")); END',
    'CREATE TRIGGER audit_app_user_update AFTER UPDATE ON "app_user" WHEN old."id" IS NOT new."id" OR old."email" IS NOT new."email" OR old."name" IS NOT new."name" OR old."role" IS NOT new."role" OR old."password_hash" IS NOT new."password_hash" OR old."active" IS NOT new."active" OR old."created_at" IS NOT new."created_at" OR old."last_login_at" IS NOT new."last_login_at" OR old."language" IS NOT new."language" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'app_user\', new.id, NULL, NULL, (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'email\' AS k, json_array(old."email", new."email") AS v WHERE old."email" IS NOT new."email" UNION ALL SELECT \'name\' AS k, json_array(old."name", new."name") AS v WHERE old."name" IS NOT new."name" UNION ALL SELECT \'role\' AS k, json_array(old."role", new."role") AS v WHERE old."role" IS NOT new."role" UNION ALL SELECT \'password_hash\' AS k, json_array(CASE WHEN old."password_hash" IS NULL OR old."password_hash" = \'\' THEN old."password_hash" ELSE \'changed\' END, CASE WHEN new."password_hash" IS NULL OR new."password_hash" = \'\' THEN new."password_hash" ELSE \'changed\' END) AS v WHERE old."password_hash" IS NOT new."password_hash" UNION ALL SELECT \'active\' AS k, json_array(old."active", new."active") AS v WHERE old."active" IS NOT new."active" UNION ALL SELECT \'created_at\' AS k, json_array(old."created_at", new."created_at") AS v WHERE old."created_at" IS NOT new."created_at" UNION ALL SELECT \'last_login_at\' AS k, json_array(old."last_login_at", new."last_login_at") AS v WHERE old."last_login_at" IS NOT new."last_login_at" UNION ALL SELECT \'language\' AS k, json_array(old."language", new."language") AS v WHERE old."language" IS NOT new."language"))); END',
    'CREATE TRIGGER audit_app_user_delete AFTER DELETE ON "app_user" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'app_user\', old.id, NULL, NULL, json_object(\'email\', old."email", \'name\', old."name", \'role\', old."role", \'password_hash\', CASE WHEN old."password_hash" IS NULL OR old."password_hash" = \'\' THEN old."password_hash" ELSE \'changed\' END, \'active\', old."active", \'created_at\', old."created_at", \'last_login_at\', old."last_login_at", \'language\', old."language")); END',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="auth", description=DESCRIPTION)

    async def recreate():
        from app.db.engine import DB

        for statement in [*DROP, *CREATE]:
            await DB.run_ddl(statement)

    manager.add_raw(recreate)
    return manager
