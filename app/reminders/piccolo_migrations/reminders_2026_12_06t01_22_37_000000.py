"""Hand-written, after the generated migration: a level is applied to an invoice once (a unique index
on the live items' invoice and level), and CHECK constraints on the reminders' money and levels
(app.db.constraints rebuilds each table to add them; before the audit triggers, which a rebuild
would drop).

Copied here, not imported from app.reminders.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T01:22:37:000000"
VERSION = "1.38.0"
DESCRIPTION = "reminders: one live (invoice, level); CHECK constraints on fees, interest and levels"

CHECKS = {
    "reminder": {
        "reminder_fee_not_negative": "fee_minor >= 0",
        "reminder_interest_not_negative": "interest_minor >= 0",
        "reminder_paid_within_charges": "charges_paid_minor >= 0 AND charges_paid_minor <= fee_minor + interest_minor",
    },
    "reminder_payment": {
        "reminder_payment_amount_positive": "amount_minor > 0",
    },
    "dunning_level": {
        "dunning_level_level_1_to_4": "level BETWEEN 1 AND 4",
        "dunning_level_days_not_negative": "days_after_due >= 0",
    },
}

CREATE = [
    "CREATE UNIQUE INDEX reminder_item_invoice_level ON reminder_item (invoice, level) WHERE cancelled = 0",
]
DROP = ["DROP INDEX IF EXISTS reminder_item_invoice_level"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reminders", description=DESCRIPTION)

    async def create():
        from app.db.constraints import add_checks
        from app.db.engine import DB

        for table, checks in CHECKS.items():
            await add_checks(table, checks)
        for statement in CREATE:
            await DB.run_ddl(statement)

    async def drop():
        from app.db.engine import DB

        for statement in DROP:
            await DB.run_ddl(statement)

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
