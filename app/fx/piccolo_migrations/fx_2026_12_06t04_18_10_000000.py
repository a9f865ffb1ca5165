"""Hand-written (build/audit_migration.py, plus the rate lookup index): the audit trail's triggers on fx_settings, exchange_rate, bank_account.

Every insert, change and deletion of their rows writes an entry in audit_entry, in the writing
transaction (app.audit). Rows already there get one "baseline" entry each, so that from here on
the trail accounts for every row (`counterfoil check` compares the two).

Copied here, not imported from app.fx.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T04:18:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit trail triggers on fx_settings, exchange_rate, bank_account; baseline entries for the rows already there"

CREATE = [
    "CREATE INDEX IF NOT EXISTS exchange_rate_lookup ON exchange_rate (base_currency, currency, rate_date)",
    'CREATE TRIGGER audit_fx_settings_insert AFTER INSERT ON "fx_settings" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'fx_settings\', new.id, NULL, NULL, json_object(\'base_currency\', new."base_currency", \'updated_at\', new."updated_at")); END',
    'CREATE TRIGGER audit_fx_settings_update AFTER UPDATE ON "fx_settings" WHEN old."id" IS NOT new."id" OR old."base_currency" IS NOT new."base_currency" OR old."updated_at" IS NOT new."updated_at" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'fx_settings\', new.id, NULL, NULL, (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'base_currency\' AS k, json_array(old."base_currency", new."base_currency") AS v WHERE old."base_currency" IS NOT new."base_currency" UNION ALL SELECT \'updated_at\' AS k, json_array(old."updated_at", new."updated_at") AS v WHERE old."updated_at" IS NOT new."updated_at"))); END',
    'CREATE TRIGGER audit_fx_settings_delete AFTER DELETE ON "fx_settings" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'fx_settings\', old.id, NULL, NULL, json_object(\'base_currency\', old."base_currency", \'updated_at\', old."updated_at")); END',
    'CREATE TRIGGER audit_exchange_rate_insert AFTER INSERT ON "exchange_rate" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'exchange_rate\', new.id, NULL, NULL, json_object(\'base_currency\', new."base_currency", \'currency\', new."currency", \'rate_date\', new."rate_date", \'rate\', new."rate", \'source\', new."source", \'created_at\', new."created_at", \'updated_at\', new."updated_at")); END',
    'CREATE TRIGGER audit_exchange_rate_update AFTER UPDATE ON "exchange_rate" WHEN old."id" IS NOT new."id" OR old."base_currency" IS NOT new."base_currency" OR old."currency" IS NOT new."currency" OR old."rate_date" IS NOT new."rate_date" OR old."rate" IS NOT new."rate" OR old."source" IS NOT new."source" OR old."created_at" IS NOT new."created_at" OR old."updated_at" IS NOT new."updated_at" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'exchange_rate\', new.id, NULL, NULL, (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'base_currency\' AS k, json_array(old."base_currency", new."base_currency") AS v WHERE old."base_currency" IS NOT new."base_currency" UNION ALL SELECT \'currency\' AS k, json_array(old."currency", new."currency") AS v WHERE old."currency" IS NOT new."currency" UNION ALL SELECT \'rate_date\' AS k, json_array(old."rate_date", new."rate_date") AS v WHERE old."rate_date" IS NOT new."rate_date" UNION ALL SELECT \'rate\' AS k, json_array(old."rate", new."rate") AS v WHERE old."rate" IS NOT new."rate" UNION ALL SELECT \'source\' AS k, json_array(old."source", new."source") AS v WHERE old."source" IS NOT new."source" UNION ALL SELECT \'created_at\' AS k, json_array(old."created_at", new."created_at") AS v WHERE old."created_at" IS NOT new."created_at" UNION ALL SELECT \'updated_at\' AS k, json_array(old."updated_at", new."updated_at") AS v WHERE old."updated_at" IS NOT new."updated_at"))); END',
    'CREATE TRIGGER audit_exchange_rate_delete AFTER DELETE ON "exchange_rate" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'exchange_rate\', old.id, NULL, NULL, json_object(\'base_currency\', old."base_currency", \'currency\', old."currency", \'rate_date\', old."rate_date", \'rate\', old."rate", \'source\', old."source", \'created_at\', old."created_at", \'updated_at\', old."updated_at")); END',
    'CREATE TRIGGER audit_bank_account_insert AFTER INSERT ON "bank_account" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'bank_account\', new.id, NULL, NULL, json_object(\'position\', new."position", \'currencies\', new."currencies", \'holder\', new."holder", \'bank_name\', new."bank_name", \'iban\', new."iban", \'bic\', new."bic", \'institution\', new."institution", \'transit\', new."transit", \'routing\', new."routing", \'account_number\', new."account_number", \'note\', new."note", \'created_at\', new."created_at", \'updated_at\', new."updated_at")); END',
    'CREATE TRIGGER audit_bank_account_update AFTER UPDATE ON "bank_account" WHEN old."id" IS NOT new."id" OR old."position" IS NOT new."position" OR old."currencies" IS NOT new."currencies" OR old."holder" IS NOT new."holder" OR old."bank_name" IS NOT new."bank_name" OR old."iban" IS NOT new."iban" OR old."bic" IS NOT new."bic" OR old."institution" IS NOT new."institution" OR old."transit" IS NOT new."transit" OR old."routing" IS NOT new."routing" OR old."account_number" IS NOT new."account_number" OR old."note" IS NOT new."note" OR old."created_at" IS NOT new."created_at" OR old."updated_at" IS NOT new."updated_at" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'bank_account\', new.id, NULL, NULL, (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'position\' AS k, json_array(old."position", new."position") AS v WHERE old."position" IS NOT new."position" UNION ALL SELECT \'currencies\' AS k, json_array(old."currencies", new."currencies") AS v WHERE old."currencies" IS NOT new."currencies" UNION ALL SELECT \'holder\' AS k, json_array(old."holder", new."holder") AS v WHERE old."holder" IS NOT new."holder" UNION ALL SELECT \'bank_name\' AS k, json_array(old."bank_name", new."bank_name") AS v WHERE old."bank_name" IS NOT new."bank_name" UNION ALL SELECT \'iban\' AS k, json_array(old."iban", new."iban") AS v WHERE old."iban" IS NOT new."iban" UNION ALL SELECT \'bic\' AS k, json_array(old."bic", new."bic") AS v WHERE old."bic" IS NOT new."bic" UNION ALL SELECT \'institution\' AS k, json_array(old."institution", new."institution") AS v WHERE old."institution" IS NOT new."institution" UNION ALL SELECT \'transit\' AS k, json_array(old."transit", new."transit") AS v WHERE old."transit" IS NOT new."transit" UNION ALL SELECT \'routing\' AS k, json_array(old."routing", new."routing") AS v WHERE old."routing" IS NOT new."routing" UNION ALL SELECT \'account_number\' AS k, json_array(old."account_number", new."account_number") AS v WHERE old."account_number" IS NOT new."account_number" UNION ALL SELECT \'note\' AS k, json_array(old."note", new."note") AS v WHERE old."note" IS NOT new."note" UNION ALL SELECT \'created_at\' AS k, json_array(old."created_at", new."created_at") AS v WHERE old."created_at" IS NOT new."created_at" UNION ALL SELECT \'updated_at\' AS k, json_array(old."updated_at", new."updated_at") AS v WHERE old."updated_at" IS NOT new."updated_at"))); END',
    'CREATE TRIGGER audit_bank_account_delete AFTER DELETE ON "bank_account" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'bank_account\', old.id, NULL, NULL, json_object(\'position\', old."position", \'currencies\', old."currencies", \'holder\', old."holder", \'bank_name\', old."bank_name", \'iban\', old."iban", \'bic\', old."bic", \'institution\', old."institution", \'transit\', old."transit", \'routing\', old."routing", \'account_number\', old."account_number", \'note\', old."note", \'created_at\', old."created_at", \'updated_at\', old."updated_at")); END',
]

BASELINE = [
    'INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes, action) SELECT strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'fx_settings\', t.id, NULL, NULL, json_object(\'base_currency\', t."base_currency", \'updated_at\', t."updated_at"), \'baseline\' FROM "fx_settings" AS t ORDER BY t.id',
    'INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes, action) SELECT strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'exchange_rate\', t.id, NULL, NULL, json_object(\'base_currency\', t."base_currency", \'currency\', t."currency", \'rate_date\', t."rate_date", \'rate\', t."rate", \'source\', t."source", \'created_at\', t."created_at", \'updated_at\', t."updated_at"), \'baseline\' FROM "exchange_rate" AS t ORDER BY t.id',
    'INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes, action) SELECT strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'bank_account\', t.id, NULL, NULL, json_object(\'position\', t."position", \'currencies\', t."currencies", \'holder\', t."holder", \'bank_name\', t."bank_name", \'iban\', t."iban", \'bic\', t."bic", \'institution\', t."institution", \'transit\', t."transit", \'routing\', t."routing", \'account_number\', t."account_number", \'note\', t."note", \'created_at\', t."created_at", \'updated_at\', t."updated_at"), \'baseline\' FROM "bank_account" AS t ORDER BY t.id',
]

DROP = [
    "DROP INDEX IF EXISTS exchange_rate_lookup",
    'DROP TRIGGER IF EXISTS audit_fx_settings_insert',
    'DROP TRIGGER IF EXISTS audit_fx_settings_update',
    'DROP TRIGGER IF EXISTS audit_fx_settings_delete',
    'DROP TRIGGER IF EXISTS audit_exchange_rate_insert',
    'DROP TRIGGER IF EXISTS audit_exchange_rate_update',
    'DROP TRIGGER IF EXISTS audit_exchange_rate_delete',
    'DROP TRIGGER IF EXISTS audit_bank_account_insert',
    'DROP TRIGGER IF EXISTS audit_bank_account_update',
    'DROP TRIGGER IF EXISTS audit_bank_account_delete',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="fx", description=DESCRIPTION)

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
