"""Hand-written, after the generated migration: the ledger's order index and its guards.

- ledger_entry_client_order: a ledger is read per client and currency in date order.
- Append-only: triggers refuse every UPDATE and DELETE of an entry, whatever writes to the file.
- CHECK constraints: no amount below zero (app.db.constraints rebuilds the table to add them).

A database from before the squash already has the index; the rebuild keeps it. The statements
are copied here, not imported from app.ledger.tables: tests/unit/test_migrations.py proves the
two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T22:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger order index; the ledger is append-only; CHECK constraints on the amounts"

CHECKS = {
    "ledger_entry": {
        "ledger_entry_debit_not_negative": "debit_minor >= 0",
        "ledger_entry_credit_not_negative": "credit_minor >= 0",
        "ledger_entry_amount_not_negative": "amount_minor >= 0",
    },
}

APPEND_ONLY = ("ledger entries are append-only: a correction is a new entry (a reversal or a credit note), "
               "never a change or a deletion")
CREATE = [
    "CREATE INDEX IF NOT EXISTS ledger_entry_client_order ON ledger_entry (client, currency, entry_date, id)",
    "CREATE TRIGGER IF NOT EXISTS ledger_entry_no_update BEFORE UPDATE ON ledger_entry BEGIN "
    f"SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
    "CREATE TRIGGER IF NOT EXISTS ledger_entry_no_delete BEFORE DELETE ON ledger_entry BEGIN "
    f"SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
]

# Backwards leaves the constraints (another rebuild; nothing runs migrations backwards).
DROP = [
    "DROP TRIGGER IF EXISTS ledger_entry_no_delete",
    "DROP TRIGGER IF EXISTS ledger_entry_no_update",
    "DROP INDEX IF EXISTS ledger_entry_client_order",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ledger", description=DESCRIPTION)

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
