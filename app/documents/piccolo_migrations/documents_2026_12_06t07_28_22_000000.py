"""Hand-written: the running sums of the documents (document_tally) and list indexes, for issue 21.

The table itself comes from the generated migration just before this one. Here: its unique key,
the three triggers on `document` that keep it (every writer, the import and plain SQL included),
the sums of the documents already there, and the list indexes: each sort's index (total, due date,
number, and the date's) carrying the issue date and the stored status, so that the whole list, a
long period or the paid invoices walk it in order without reading the documents;
(client, doc_type, issue_date, id, status) for a client's documents and the list sorted by client name;
(status, doc_type, issue_date, id) so that a stored status of one type is read without the other
types' documents of that status; the partial index of open invoices widened to every column the
open-invoice lists read, so that they read it alone; the narrow money index, which a broad search's
sums scan, carrying the base-currency columns and the issue date (grouped in its order, no sort).

No column of `document` changes, so its audit triggers stay as they are; document_tally is
derived and listed in app.audit.logic.NOT_AUDITED. Copied here, not imported from
app.documents.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T07:28:22:000000"
VERSION = "1.38.0"
DESCRIPTION = "document_tally key, triggers and fill; list indexes for every sort"

KEY = ("doc_type", "status", "settled", "currency", "base_currency", "month")
SUMS = ("n", "total_minor", "paid_minor", "credited_minor", "total_base_minor", "rated")
TALLIED = ("doc_type", "status", "currency", "base_currency", "issue_date", "total_minor", "paid_minor",
           "credited_minor", "total_base_minor")


def _row(row: str, sign: str) -> str:
    values = [f"{row}.doc_type", f"{row}.status",
              f"({row}.total_minor - {row}.paid_minor - {row}.credited_minor <= 0)", f"{row}.currency",
              f"{row}.base_currency", f"substr({row}.issue_date, 1, 7)",
              f"{sign}1", f"{sign}{row}.total_minor", f"{sign}{row}.paid_minor", f"{sign}{row}.credited_minor",
              f"{sign}coalesce({row}.total_base_minor, 0)", f"{sign}({row}.total_base_minor IS NOT NULL)"]
    return (f"INSERT INTO document_tally ({', '.join((*KEY, *SUMS))}) VALUES ({', '.join(values)}) "
            f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET "
            + ", ".join(f"{c} = {c} + excluded.{c}" for c in SUMS) + ";")


STATEMENTS = [
    f"CREATE UNIQUE INDEX IF NOT EXISTS document_tally_key ON document_tally ({', '.join(KEY)})",
    f"CREATE TRIGGER IF NOT EXISTS document_tally_insert AFTER INSERT ON document BEGIN {_row('new', '')} END",
    f"CREATE TRIGGER IF NOT EXISTS document_tally_delete AFTER DELETE ON document BEGIN {_row('old', '-')} END",
    f"CREATE TRIGGER IF NOT EXISTS document_tally_update AFTER UPDATE OF {', '.join(TALLIED)} ON document WHEN "
    + " OR ".join(f"old.{c} IS NOT new.{c}" for c in TALLIED)
    + f" BEGIN {_row('old', '-')} {_row('new', '')} END",
    "DELETE FROM document_tally",
    f"INSERT INTO document_tally ({', '.join((*KEY, *SUMS))}) "
    "SELECT doc_type, status, total_minor - paid_minor - credited_minor <= 0, currency, base_currency, "
    "substr(issue_date, 1, 7), count(*), sum(total_minor), sum(paid_minor), sum(credited_minor), "
    "coalesce(sum(total_base_minor), 0), count(total_base_minor) FROM document GROUP BY 1, 2, 3, 4, 5, 6",
    'DROP INDEX IF EXISTS "document_type_total"',
    'CREATE INDEX IF NOT EXISTS "document_type_total" ON document (doc_type, total_minor, id, issue_date, status)',
    'DROP INDEX IF EXISTS "document_type_date"',
    'CREATE INDEX IF NOT EXISTS "document_type_date" ON document (doc_type, issue_date, id, status, search_text)',
    'CREATE INDEX IF NOT EXISTS "document_type_due" ON document (doc_type, due_date, id, issue_date, status)',
    'CREATE INDEX IF NOT EXISTS "document_type_number" ON document (doc_type, number, id, issue_date, status)',
    'CREATE INDEX IF NOT EXISTS "document_client_type" ON document (client, doc_type, issue_date, id, status)',
    'CREATE INDEX IF NOT EXISTS "document_status_type" ON document (status, doc_type, issue_date, id)',
    'DROP INDEX IF EXISTS "document_type_money"',
    'CREATE INDEX "document_type_money" ON document (doc_type, currency, status, base_currency, due_date, total_minor, '
    'paid_minor, credited_minor, total_base_minor, issue_date, search_text)',
    "DROP INDEX IF EXISTS document_open_invoice",
    "CREATE INDEX document_open_invoice ON document (client, currency, due_date, issue_date, total_minor, paid_minor, "
    "credited_minor, doc_type, status, base_currency, total_base_minor, number) WHERE doc_type = 'invoice' "
    "AND status IN ('issued', 'sent') AND total_minor - paid_minor - credited_minor > 0",
]
DROP = ["DROP TRIGGER IF EXISTS document_tally_insert", "DROP TRIGGER IF EXISTS document_tally_delete",
        "DROP TRIGGER IF EXISTS document_tally_update", "DROP INDEX IF EXISTS document_tally_key",
        'DROP INDEX IF EXISTS "document_type_due"', 'DROP INDEX IF EXISTS "document_status_type"',
        'DROP INDEX IF EXISTS "document_type_number"', 'DROP INDEX IF EXISTS "document_client_type"',
        'DROP INDEX IF EXISTS "document_type_total"', 'DROP INDEX IF EXISTS "document_type_date"',
        'CREATE INDEX IF NOT EXISTS "document_type_total" ON document (doc_type, total_minor, id)',
        'CREATE INDEX IF NOT EXISTS "document_type_date" ON document (doc_type, issue_date, id, search_text)',
        'DROP INDEX IF EXISTS "document_type_money"',
        'CREATE INDEX "document_type_money" ON document (doc_type, currency, status, due_date, total_minor, paid_minor, '
        'credited_minor, search_text)',
        "DROP INDEX IF EXISTS document_open_invoice",
        "CREATE INDEX document_open_invoice ON document (client, currency, due_date, issue_date, total_minor, "
        "paid_minor, credited_minor) WHERE doc_type = 'invoice' AND status IN ('issued', 'sent') "
        "AND total_minor - paid_minor - credited_minor > 0"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)

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
