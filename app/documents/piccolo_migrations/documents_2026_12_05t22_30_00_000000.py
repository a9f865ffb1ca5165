"""Hand-written, after the generated migration: what Piccolo cannot declare on SQLite.

- Composite and covering indexes for lists, totals and search at 100,000 documents (Piccolo's
  columns know only single-column indexes):
  (doc_type, issue_date, id, search_text): list pages ordered by date read the index, no sort;
  (doc_type, currency, status, due_date, total_minor, paid_minor, credited_minor, search_text):
  status filters, per-currency sums and statistics scan this narrow covering index instead of
  the wide rows. Both end with search_text, so that a search matching thousands of rows walks
  (page) or scans (count and sums) narrow index entries.
- Search as you type: document_search, an external-content FTS5 table over document.search_text
  (the text stays in `document`, the index holds its trigrams), tokenizer `trigram
  case_sensitive 1` (the text is folded already, so a match is exactly a substring); three
  triggers keep it in step with every insert, delete and change of search_text, in the writing
  transaction itself; 'rebuild' fills it from the rows already there.
- document_open_invoice: a partial index of the open invoices (issued or sent, balance above
  zero) by client, for the receivables aging report.
- The guards of the books: CHECK constraints on document (app.db.constraints rebuilds the table
  to add them; rows that break one stop the migration).

A database from before the squash (app.db.migrate records the generated migration in place of
the ones it replaced) already has the indexes and the search index: every statement here is
written to leave them as they are (IF NOT EXISTS; the rebuild keeps a table's indexes and
triggers), and only the constraints are new to it.

The statements are copied here, not imported from app.documents.tables: a migration is a
record of what was done; tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T22:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "document list indexes, trigram search index, open invoices; CHECK constraints on the money"

CHECKS = {
    "document": {
        "document_paid_not_negative": "paid_minor >= 0",
        "document_credited_not_negative": "credited_minor >= 0",
        "document_paid_and_credited_within_total":
            "paid_minor + credited_minor = 0 OR paid_minor + credited_minor <= total_minor",
        "document_issued_total_not_negative": "status = 'draft' OR doc_type = 'quote' OR total_minor >= 0",
        "document_issued_has_number": "status = 'draft' OR number IS NOT NULL",
    },
}

INDEXES = {
    "document_type_date": "document (doc_type, issue_date, id, search_text)",
    "document_type_money": "document (doc_type, currency, status, due_date, total_minor, paid_minor, credited_minor, "
                           "search_text)",
}

CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS document_search USING fts5(search_text, content='document', "
    "content_rowid='id', tokenize='trigram case_sensitive 1')",
    "CREATE TRIGGER IF NOT EXISTS document_search_insert AFTER INSERT ON document BEGIN "
    "INSERT INTO document_search (rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS document_search_delete AFTER DELETE ON document BEGIN "
    "INSERT INTO document_search (document_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS document_search_update AFTER UPDATE OF search_text ON document BEGIN "
    "INSERT INTO document_search (document_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO document_search (rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO document_search (document_search) VALUES ('rebuild')",
    "CREATE INDEX IF NOT EXISTS document_open_invoice ON document (client, currency, due_date, issue_date, "
    "total_minor, paid_minor, credited_minor) WHERE doc_type = 'invoice' "
    "AND status IN ('issued', 'sent') AND total_minor - paid_minor - credited_minor > 0",
]

# Backwards leaves the constraints: taking them off is another rebuild, and nothing runs this
# program's migrations backwards.
DROP = [
    "DROP INDEX IF EXISTS document_open_invoice",
    "DROP TRIGGER IF EXISTS document_search_insert",
    "DROP TRIGGER IF EXISTS document_search_delete",
    "DROP TRIGGER IF EXISTS document_search_update",
    "DROP TABLE IF EXISTS document_search",
    *(f"DROP INDEX IF EXISTS {name}" for name in INDEXES),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)

    async def create():
        from app.db.constraints import add_checks
        from app.db.engine import DB

        for table, checks in CHECKS.items():
            await add_checks(table, checks)
        for name, target in INDEXES.items():
            await DB.run_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
        for statement in CREATE:
            await DB.run_ddl(statement)

    async def drop():
        from app.db.engine import DB

        for statement in DROP:
            await DB.run_ddl(statement)

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
