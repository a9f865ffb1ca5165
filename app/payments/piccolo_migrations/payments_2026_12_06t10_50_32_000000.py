"""Hand-written: the running sums of the payments (payment_tally) and the payments list's indexes, for
issue 21 (the payments helper's migration).

The table itself comes from the generated migration just before this one. Here: its unique key, the
three triggers on `payment` that keep it (every writer, the import and plain SQL included), the sums of
the payments already there, and one index per filter of the list in date order (a state, a method,
both), so that a page's ids are read walking an index, newest first.

No column of `payment` changes, so its audit triggers stay as they are; payment_tally is derived and
listed in app.audit.logic.NOT_AUDITED. Copied here, not imported from app.payments.tables:
tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T10:50:32:000000"
VERSION = "1.38.0"
DESCRIPTION = "payment_tally key, triggers and fill; payments list indexes (payments helper)"

KEY = ("method", "status", "currency", "month")
SUMS = ("n", "amount_minor")
TALLIED = ("method", "status", "currency", "payment_date", "amount_minor")


def _row(row: str, sign: str) -> str:
    values = [f"{row}.method", f"{row}.status", f"{row}.currency", f"substr({row}.payment_date, 1, 7)",
              f"{sign}1", f"{sign}{row}.amount_minor"]
    return (f"INSERT INTO payment_tally ({', '.join((*KEY, *SUMS))}) VALUES ({', '.join(values)}) "
            f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET "
            + ", ".join(f"{c} = {c} + excluded.{c}" for c in SUMS) + ";")


STATEMENTS = [
    f"CREATE UNIQUE INDEX IF NOT EXISTS payment_tally_key ON payment_tally ({', '.join(KEY)})",
    f"CREATE TRIGGER IF NOT EXISTS payment_tally_insert AFTER INSERT ON payment BEGIN {_row('new', '')} END",
    f"CREATE TRIGGER IF NOT EXISTS payment_tally_delete AFTER DELETE ON payment BEGIN {_row('old', '-')} END",
    f"CREATE TRIGGER IF NOT EXISTS payment_tally_update AFTER UPDATE OF {', '.join(TALLIED)} ON payment WHEN "
    + " OR ".join(f"old.{c} IS NOT new.{c}" for c in TALLIED)
    + f" BEGIN {_row('old', '-')} {_row('new', '')} END",
    "DELETE FROM payment_tally",
    f"INSERT INTO payment_tally ({', '.join((*KEY, *SUMS))}) "
    "SELECT method, status, currency, substr(payment_date, 1, 7), count(*), sum(amount_minor) FROM payment "
    "GROUP BY 1, 2, 3, 4",
    'CREATE INDEX IF NOT EXISTS "payment_status_date" ON payment (status, payment_date)',
    'CREATE INDEX IF NOT EXISTS "payment_method_date" ON payment (method, payment_date)',
    'CREATE INDEX IF NOT EXISTS "payment_method_status_date" ON payment (method, status, payment_date)',
]
DROP = ["DROP TRIGGER IF EXISTS payment_tally_insert", "DROP TRIGGER IF EXISTS payment_tally_delete",
        "DROP TRIGGER IF EXISTS payment_tally_update", "DROP INDEX IF EXISTS payment_tally_key",
        'DROP INDEX IF EXISTS "payment_status_date"', 'DROP INDEX IF EXISTS "payment_method_date"',
        'DROP INDEX IF EXISTS "payment_method_status_date"']


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="payments", description=DESCRIPTION)

    async def create():
        from app.db.engine import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    async def drop():
        from app.db.engine import DB

        for statement in DROP:
            await DB.run_ddl(statement)

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
