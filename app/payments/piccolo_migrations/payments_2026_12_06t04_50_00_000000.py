"""Hand-written: a narrow covering index for the payments list's per-currency sums (issue 21).

An index only: the audit triggers stay as they are. Copied here, not imported from
app.payments.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T04:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "payment_sums: covering index for the payments list's sums"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="payments", description=DESCRIPTION)

    async def create():
        from app.db.engine import DB

        await DB.run_ddl('CREATE INDEX IF NOT EXISTS "payment_sums" ON payment (currency, status, amount_minor)')

    async def drop():
        from app.db.engine import DB

        await DB.run_ddl('DROP INDEX IF EXISTS "payment_sums"')

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
