"""Hand-written, after the generated migration: CHECK constraints on the money of expenses, their
splits and receipts (app.db.constraints rebuilds each table to add them; rows that break one stop
the migration).

Copied here, not imported from app.expenses.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T01:23:33:000000"
VERSION = "1.38.0"
DESCRIPTION = "CHECK constraints on expense, expense split and receipt amounts"

CHECKS = {
    "expense": {
        "expense_net_positive": "net_minor > 0",
        "expense_tax_not_negative": "tax_total_minor >= 0",
        "expense_total_is_net_plus_tax": "total_minor = net_minor + tax_total_minor",
        "expense_deductible_within_tax": "deductible_tax_minor >= 0 AND deductible_tax_minor <= tax_total_minor",
    },
    "expense_split": {
        "expense_split_net_positive": "net_minor > 0",
    },
    "expense_receipt": {
        "expense_receipt_size_positive": "size > 0",
    },
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="expenses", description=DESCRIPTION)

    async def create():
        from app.db.constraints import add_checks

        for table, checks in CHECKS.items():
            await add_checks(table, checks)

    manager.add_raw(create)
    return manager
