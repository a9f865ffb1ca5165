"""Hand-written (build/audit_migration.py): the audit trail's triggers on recurring_profile, recurring_run,
and the unique index that makes each (profile, period) happen exactly once.

Every insert, change and deletion of their rows writes an entry in audit_entry, in the writing
transaction (app.audit). Rows already there get one "baseline" entry each, so that from here on
the trail accounts for every row (`counterfoil check` compares the two).

Copied here, not imported from app.recurring.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T01:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one run per (profile, period); audit trail triggers on recurring_profile, recurring_run; baseline entries for the rows already there"

CREATE = [
    'CREATE UNIQUE INDEX IF NOT EXISTS recurring_run_once ON recurring_run (profile, period_start)',
    'CREATE TRIGGER audit_recurring_profile_insert AFTER INSERT ON "recurring_profile" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'recurring_profile\', new.id, NULL, NULL, json_object(\'client\', new."client", \'currency\', new."currency", \'lines_json\', new."lines_json", \'notes\', new."notes", \'terms\', new."terms", \'every\', new."every", \'unit\', new."unit", \'day_of_month\', new."day_of_month", \'start_date\', new."start_date", \'end_date\', new."end_date", \'period_count\', new."period_count", \'action\', new."action", \'status\', new."status", \'paused_on\', new."paused_on", \'created_at\', new."created_at", \'updated_at\', new."updated_at", \'created_by\', new."created_by")); END',
    'CREATE TRIGGER audit_recurring_profile_update AFTER UPDATE ON "recurring_profile" WHEN old."id" IS NOT new."id" OR old."client" IS NOT new."client" OR old."currency" IS NOT new."currency" OR old."lines_json" IS NOT new."lines_json" OR old."notes" IS NOT new."notes" OR old."terms" IS NOT new."terms" OR old."every" IS NOT new."every" OR old."unit" IS NOT new."unit" OR old."day_of_month" IS NOT new."day_of_month" OR old."start_date" IS NOT new."start_date" OR old."end_date" IS NOT new."end_date" OR old."period_count" IS NOT new."period_count" OR old."action" IS NOT new."action" OR old."status" IS NOT new."status" OR old."paused_on" IS NOT new."paused_on" OR old."created_at" IS NOT new."created_at" OR old."updated_at" IS NOT new."updated_at" OR old."created_by" IS NOT new."created_by" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'recurring_profile\', new.id, NULL, NULL, (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'client\' AS k, json_array(old."client", new."client") AS v WHERE old."client" IS NOT new."client" UNION ALL SELECT \'currency\' AS k, json_array(old."currency", new."currency") AS v WHERE old."currency" IS NOT new."currency" UNION ALL SELECT \'lines_json\' AS k, json_array(old."lines_json", new."lines_json") AS v WHERE old."lines_json" IS NOT new."lines_json" UNION ALL SELECT \'notes\' AS k, json_array(old."notes", new."notes") AS v WHERE old."notes" IS NOT new."notes" UNION ALL SELECT \'terms\' AS k, json_array(old."terms", new."terms") AS v WHERE old."terms" IS NOT new."terms" UNION ALL SELECT \'every\' AS k, json_array(old."every", new."every") AS v WHERE old."every" IS NOT new."every" UNION ALL SELECT \'unit\' AS k, json_array(old."unit", new."unit") AS v WHERE old."unit" IS NOT new."unit" UNION ALL SELECT \'day_of_month\' AS k, json_array(old."day_of_month", new."day_of_month") AS v WHERE old."day_of_month" IS NOT new."day_of_month" UNION ALL SELECT \'start_date\' AS k, json_array(old."start_date", new."start_date") AS v WHERE old."start_date" IS NOT new."start_date" UNION ALL SELECT \'end_date\' AS k, json_array(old."end_date", new."end_date") AS v WHERE old."end_date" IS NOT new."end_date" UNION ALL SELECT \'period_count\' AS k, json_array(old."period_count", new."period_count") AS v WHERE old."period_count" IS NOT new."period_count" UNION ALL SELECT \'action\' AS k, json_array(old."action", new."action") AS v WHERE old."action" IS NOT new."action" UNION ALL SELECT \'status\' AS k, json_array(old."status", new."status") AS v WHERE old."status" IS NOT new."status" UNION ALL SELECT \'paused_on\' AS k, json_array(old."paused_on", new."paused_on") AS v WHERE old."paused_on" IS NOT new."paused_on" UNION ALL SELECT \'created_at\' AS k, json_array(old."created_at", new."created_at") AS v WHERE old."created_at" IS NOT new."created_at" UNION ALL SELECT \'updated_at\' AS k, json_array(old."updated_at", new."updated_at") AS v WHERE old."updated_at" IS NOT new."updated_at" UNION ALL SELECT \'created_by\' AS k, json_array(old."created_by", new."created_by") AS v WHERE old."created_by" IS NOT new."created_by"))); END',
    'CREATE TRIGGER audit_recurring_profile_delete AFTER DELETE ON "recurring_profile" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'recurring_profile\', old.id, NULL, NULL, json_object(\'client\', old."client", \'currency\', old."currency", \'lines_json\', old."lines_json", \'notes\', old."notes", \'terms\', old."terms", \'every\', old."every", \'unit\', old."unit", \'day_of_month\', old."day_of_month", \'start_date\', old."start_date", \'end_date\', old."end_date", \'period_count\', old."period_count", \'action\', old."action", \'status\', old."status", \'paused_on\', old."paused_on", \'created_at\', old."created_at", \'updated_at\', old."updated_at", \'created_by\', old."created_by")); END',
    'CREATE TRIGGER audit_recurring_run_insert AFTER INSERT ON "recurring_run" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'recurring_run\', new.id, \'recurring_profile\', new."profile", json_object(\'profile\', new."profile", \'period_start\', new."period_start", \'period_end\', new."period_end", \'outcome\', new."outcome", \'document\', new."document", \'problem\', new."problem", \'message\', new."message", \'send_problem\', new."send_problem", \'created_at\', new."created_at")); END',
    'CREATE TRIGGER audit_recurring_run_update AFTER UPDATE ON "recurring_run" WHEN old."id" IS NOT new."id" OR old."profile" IS NOT new."profile" OR old."period_start" IS NOT new."period_start" OR old."period_end" IS NOT new."period_end" OR old."outcome" IS NOT new."outcome" OR old."document" IS NOT new."document" OR old."problem" IS NOT new."problem" OR old."message" IS NOT new."message" OR old."send_problem" IS NOT new."send_problem" OR old."created_at" IS NOT new."created_at" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'recurring_run\', new.id, \'recurring_profile\', new."profile", (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'profile\' AS k, json_array(old."profile", new."profile") AS v WHERE old."profile" IS NOT new."profile" UNION ALL SELECT \'period_start\' AS k, json_array(old."period_start", new."period_start") AS v WHERE old."period_start" IS NOT new."period_start" UNION ALL SELECT \'period_end\' AS k, json_array(old."period_end", new."period_end") AS v WHERE old."period_end" IS NOT new."period_end" UNION ALL SELECT \'outcome\' AS k, json_array(old."outcome", new."outcome") AS v WHERE old."outcome" IS NOT new."outcome" UNION ALL SELECT \'document\' AS k, json_array(old."document", new."document") AS v WHERE old."document" IS NOT new."document" UNION ALL SELECT \'problem\' AS k, json_array(old."problem", new."problem") AS v WHERE old."problem" IS NOT new."problem" UNION ALL SELECT \'message\' AS k, json_array(old."message", new."message") AS v WHERE old."message" IS NOT new."message" UNION ALL SELECT \'send_problem\' AS k, json_array(old."send_problem", new."send_problem") AS v WHERE old."send_problem" IS NOT new."send_problem" UNION ALL SELECT \'created_at\' AS k, json_array(old."created_at", new."created_at") AS v WHERE old."created_at" IS NOT new."created_at"))); END',
    'CREATE TRIGGER audit_recurring_run_delete AFTER DELETE ON "recurring_run" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'recurring_run\', old.id, \'recurring_profile\', old."profile", json_object(\'profile\', old."profile", \'period_start\', old."period_start", \'period_end\', old."period_end", \'outcome\', old."outcome", \'document\', old."document", \'problem\', old."problem", \'message\', old."message", \'send_problem\', old."send_problem", \'created_at\', old."created_at")); END',
]

BASELINE = [
    'INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes, action) SELECT strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'recurring_profile\', t.id, NULL, NULL, json_object(\'client\', t."client", \'currency\', t."currency", \'lines_json\', t."lines_json", \'notes\', t."notes", \'terms\', t."terms", \'every\', t."every", \'unit\', t."unit", \'day_of_month\', t."day_of_month", \'start_date\', t."start_date", \'end_date\', t."end_date", \'period_count\', t."period_count", \'action\', t."action", \'status\', t."status", \'paused_on\', t."paused_on", \'created_at\', t."created_at", \'updated_at\', t."updated_at", \'created_by\', t."created_by"), \'baseline\' FROM "recurring_profile" AS t ORDER BY t.id',
    'INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes, action) SELECT strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'recurring_run\', t.id, \'recurring_profile\', t."profile", json_object(\'profile\', t."profile", \'period_start\', t."period_start", \'period_end\', t."period_end", \'outcome\', t."outcome", \'document\', t."document", \'problem\', t."problem", \'message\', t."message", \'send_problem\', t."send_problem", \'created_at\', t."created_at"), \'baseline\' FROM "recurring_run" AS t ORDER BY t.id',
]

DROP = [
    'DROP INDEX IF EXISTS recurring_run_once',
    'DROP TRIGGER IF EXISTS audit_recurring_profile_insert',
    'DROP TRIGGER IF EXISTS audit_recurring_profile_update',
    'DROP TRIGGER IF EXISTS audit_recurring_profile_delete',
    'DROP TRIGGER IF EXISTS audit_recurring_run_insert',
    'DROP TRIGGER IF EXISTS audit_recurring_run_update',
    'DROP TRIGGER IF EXISTS audit_recurring_run_delete',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="recurring", description=DESCRIPTION)

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
