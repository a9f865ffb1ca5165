"""Hand-written, after the generated migration: CHECK constraints on the money of payments,
credit applications and refunds (app.db.constraints rebuilds each table to add them; rows that
break one stop the migration).

Copied here, not imported from app.payments.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T22:30:02:000000"
VERSION = "1.38.0"
DESCRIPTION = "CHECK constraints on payment, credit application and refund amounts"

CHECKS = {
    "payment": {
        "payment_amount_positive": "amount_minor > 0",
        "payment_applied_not_negative": "applied_minor >= 0",
        "payment_excess_not_negative": "excess_minor >= 0",
        "payment_amount_is_applied_plus_excess": "amount_minor = applied_minor + excess_minor",
    },
    "credit_application": {
        "credit_application_amount_positive": "amount_minor > 0",
    },
    "refund": {
        "refund_amount_positive": "amount_minor > 0",
    },
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="payments", description=DESCRIPTION)

    async def create():
        from app.db.constraints import add_checks

        for table, checks in CHECKS.items():
            await add_checks(table, checks)

    manager.add_raw(create)
    return manager
