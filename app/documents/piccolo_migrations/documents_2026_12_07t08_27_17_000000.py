"""Hand-written (issue 21): the kept sums of broad searches (search_tally) follow every write of a document.

The tables come from the generated migration just before this one. Here: search_tally's unique key and
the three triggers on `document` that keep it, as document_tally's keep theirs: for each kept search
(search_term) whose words the old or new text holds, the document's count and money are taken away or
added. No search is kept yet, so there is nothing to fill.

No column of `document` changes, so its audit triggers stay as they are; both tables are derived and
listed in app.audit.logic.NOT_AUDITED. Copied here, not imported from app.documents.tables:
tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T08:27:17:000000"
VERSION = "1.38.0"
DESCRIPTION = "search_tally key and triggers"

KEY = ("doc_type", "status", "settled", "currency", "base_currency", "month")
SUMS = ("n", "total_minor", "paid_minor", "credited_minor", "total_base_minor", "rated")
TALLIED = ("doc_type", "status", "currency", "base_currency", "issue_date", "total_minor", "paid_minor",
           "credited_minor", "total_base_minor", "search_text")


def _row(row: str, sign: str) -> str:
    values = [f"{row}.doc_type", f"{row}.status",
              f"({row}.total_minor - {row}.paid_minor - {row}.credited_minor <= 0)", f"{row}.currency",
              f"{row}.base_currency", f"substr({row}.issue_date, 1, 7)",
              f"{sign}1", f"{sign}{row}.total_minor", f"{sign}{row}.paid_minor", f"{sign}{row}.credited_minor",
              f"{sign}coalesce({row}.total_base_minor, 0)", f"{sign}({row}.total_base_minor IS NOT NULL)"]
    matches = (f"NOT EXISTS (SELECT 1 FROM json_each(search_term.patterns) "
               f"WHERE coalesce({row}.search_text GLOB json_each.value, 0) = 0)")
    return (f"INSERT INTO search_tally ({', '.join(('term', *KEY, *SUMS))}) SELECT search_term.id, "
            f"{', '.join(values)} FROM search_term WHERE {matches} "
            f"ON CONFLICT (term, {', '.join(KEY)}) DO UPDATE SET "
            + ", ".join(f"{c} = {c} + excluded.{c}" for c in SUMS) + ";")


STATEMENTS = [
    f"CREATE UNIQUE INDEX IF NOT EXISTS search_tally_key ON search_tally (term, {', '.join(KEY)})",
    f"CREATE TRIGGER IF NOT EXISTS search_tally_insert AFTER INSERT ON document BEGIN {_row('new', '')} END",
    f"CREATE TRIGGER IF NOT EXISTS search_tally_delete AFTER DELETE ON document BEGIN {_row('old', '-')} END",
    f"CREATE TRIGGER IF NOT EXISTS search_tally_update AFTER UPDATE OF {', '.join(TALLIED)} ON document WHEN "
    + " OR ".join(f"old.{c} IS NOT new.{c}" for c in TALLIED)
    + f" BEGIN {_row('old', '-')} {_row('new', '')} END",
]
DROP = ["DROP TRIGGER IF EXISTS search_tally_insert", "DROP TRIGGER IF EXISTS search_tally_delete",
        "DROP TRIGGER IF EXISTS search_tally_update", "DROP INDEX IF EXISTS search_tally_key"]


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
