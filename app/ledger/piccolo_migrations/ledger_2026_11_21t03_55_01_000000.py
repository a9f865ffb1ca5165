"""A ledger is read per client and currency in date order: one index serves it."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-21T03:55:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger order index"

INDEXES = {
    "ledger_entry_client_order": "ledger_entry (client, currency, entry_date, id)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ledger", description=DESCRIPTION)

    async def create_indexes():
        from app.ledger.tables import LedgerEntry

        for name, target in INDEXES.items():
            await LedgerEntry.raw(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")

    async def drop_indexes():
        from app.ledger.tables import LedgerEntry

        for name in INDEXES:
            await LedgerEntry.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
