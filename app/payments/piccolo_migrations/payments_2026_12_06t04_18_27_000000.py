"""Hand-written (build/audit_migration.py, the payment part): the audit trail's triggers on payment,
re-created after the migration before it added fee_minor and exchange_rate, so that changes to the new columns are
recorded too.

Piccolo runs a migration's raw SQL before its added columns, so the triggers, which name every
column, are re-created here, in the migration right after the ALTER TABLE.

Copied here, not imported from the tables module: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T04:18:27:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit trail triggers on payment re-created with fee_minor and exchange_rate"

CREATE = [
    'CREATE TRIGGER audit_payment_insert AFTER INSERT ON "payment" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'payment\', new.id, \'document\', new."invoice", json_object(\'client\', new."client", \'invoice\', new."invoice", \'currency\', new."currency", \'amount_minor\', new."amount_minor", \'applied_minor\', new."applied_minor", \'excess_minor\', new."excess_minor", \'payment_date\', new."payment_date", \'method\', new."method", \'reference\', new."reference", \'note\', new."note", \'status\', new."status", \'reversal_date\', new."reversal_date", \'reversal_reason\', new."reversal_reason", \'replaced_by\', new."replaced_by", \'idempotency_key\', new."idempotency_key", \'created_at\', new."created_at", \'created_by\', new."created_by", \'reversed_at\', new."reversed_at", \'fee_minor\', new."fee_minor", \'exchange_rate\', new."exchange_rate")); END',
    'CREATE TRIGGER audit_payment_update AFTER UPDATE ON "payment" WHEN old."id" IS NOT new."id" OR old."client" IS NOT new."client" OR old."invoice" IS NOT new."invoice" OR old."currency" IS NOT new."currency" OR old."amount_minor" IS NOT new."amount_minor" OR old."applied_minor" IS NOT new."applied_minor" OR old."excess_minor" IS NOT new."excess_minor" OR old."payment_date" IS NOT new."payment_date" OR old."method" IS NOT new."method" OR old."reference" IS NOT new."reference" OR old."note" IS NOT new."note" OR old."status" IS NOT new."status" OR old."reversal_date" IS NOT new."reversal_date" OR old."reversal_reason" IS NOT new."reversal_reason" OR old."replaced_by" IS NOT new."replaced_by" OR old."idempotency_key" IS NOT new."idempotency_key" OR old."created_at" IS NOT new."created_at" OR old."created_by" IS NOT new."created_by" OR old."reversed_at" IS NOT new."reversed_at" OR old."fee_minor" IS NOT new."fee_minor" OR old."exchange_rate" IS NOT new."exchange_rate" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'payment\', new.id, \'document\', new."invoice", (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'client\' AS k, json_array(old."client", new."client") AS v WHERE old."client" IS NOT new."client" UNION ALL SELECT \'invoice\' AS k, json_array(old."invoice", new."invoice") AS v WHERE old."invoice" IS NOT new."invoice" UNION ALL SELECT \'currency\' AS k, json_array(old."currency", new."currency") AS v WHERE old."currency" IS NOT new."currency" UNION ALL SELECT \'amount_minor\' AS k, json_array(old."amount_minor", new."amount_minor") AS v WHERE old."amount_minor" IS NOT new."amount_minor" UNION ALL SELECT \'applied_minor\' AS k, json_array(old."applied_minor", new."applied_minor") AS v WHERE old."applied_minor" IS NOT new."applied_minor" UNION ALL SELECT \'excess_minor\' AS k, json_array(old."excess_minor", new."excess_minor") AS v WHERE old."excess_minor" IS NOT new."excess_minor" UNION ALL SELECT \'payment_date\' AS k, json_array(old."payment_date", new."payment_date") AS v WHERE old."payment_date" IS NOT new."payment_date" UNION ALL SELECT \'method\' AS k, json_array(old."method", new."method") AS v WHERE old."method" IS NOT new."method" UNION ALL SELECT \'reference\' AS k, json_array(old."reference", new."reference") AS v WHERE old."reference" IS NOT new."reference" UNION ALL SELECT \'note\' AS k, json_array(old."note", new."note") AS v WHERE old."note" IS NOT new."note" UNION ALL SELECT \'status\' AS k, json_array(old."status", new."status") AS v WHERE old."status" IS NOT new."status" UNION ALL SELECT \'reversal_date\' AS k, json_array(old."reversal_date", new."reversal_date") AS v WHERE old."reversal_date" IS NOT new."reversal_date" UNION ALL SELECT \'reversal_reason\' AS k, json_array(old."reversal_reason", new."reversal_reason") AS v WHERE old."reversal_reason" IS NOT new."reversal_reason" UNION ALL SELECT \'replaced_by\' AS k, json_array(old."replaced_by", new."replaced_by") AS v WHERE old."replaced_by" IS NOT new."replaced_by" UNION ALL SELECT \'idempotency_key\' AS k, json_array(old."idempotency_key", new."idempotency_key") AS v WHERE old."idempotency_key" IS NOT new."idempotency_key" UNION ALL SELECT \'created_at\' AS k, json_array(old."created_at", new."created_at") AS v WHERE old."created_at" IS NOT new."created_at" UNION ALL SELECT \'created_by\' AS k, json_array(old."created_by", new."created_by") AS v WHERE old."created_by" IS NOT new."created_by" UNION ALL SELECT \'reversed_at\' AS k, json_array(old."reversed_at", new."reversed_at") AS v WHERE old."reversed_at" IS NOT new."reversed_at" UNION ALL SELECT \'fee_minor\' AS k, json_array(old."fee_minor", new."fee_minor") AS v WHERE old."fee_minor" IS NOT new."fee_minor" UNION ALL SELECT \'exchange_rate\' AS k, json_array(old."exchange_rate", new."exchange_rate") AS v WHERE old."exchange_rate" IS NOT new."exchange_rate"))); END',
    'CREATE TRIGGER audit_payment_delete AFTER DELETE ON "payment" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'payment\', old.id, \'document\', old."invoice", json_object(\'client\', old."client", \'invoice\', old."invoice", \'currency\', old."currency", \'amount_minor\', old."amount_minor", \'applied_minor\', old."applied_minor", \'excess_minor\', old."excess_minor", \'payment_date\', old."payment_date", \'method\', old."method", \'reference\', old."reference", \'note\', old."note", \'status\', old."status", \'reversal_date\', old."reversal_date", \'reversal_reason\', old."reversal_reason", \'replaced_by\', old."replaced_by", \'idempotency_key\', old."idempotency_key", \'created_at\', old."created_at", \'created_by\', old."created_by", \'reversed_at\', old."reversed_at", \'fee_minor\', old."fee_minor", \'exchange_rate\', old."exchange_rate")); END',
]

DROP = [
    'DROP TRIGGER IF EXISTS audit_payment_insert',
    'DROP TRIGGER IF EXISTS audit_payment_update',
    'DROP TRIGGER IF EXISTS audit_payment_delete',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="payments", description=DESCRIPTION)

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
