"""Hand-written (issue 21, the search helper): searches and sorts of the document lists read indexes alone.

- The search index holds each text followed by two spaces, so that a word of one or two letters
  starts a trigram wherever it occurs (at the end of a text too) and is looked up through the
  trigrams that start with it, not by reading every text. Its content is the view
  document_search_source (the text and the spaces), so FTS5's own 'rebuild' and 'integrity-check'
  read what the triggers write; the three triggers are made again with the spaces; 'rebuild'
  fills the index from the documents already there.
- Each sort's index (total, due date, number) and the client's carry the search text, so that a
  broad search (a word in most documents) is tested in the index walked for its page; the date
  index carries every sort's column, so that a period's rows are read from it alone and sorted;
  the status index carries what a list of one stored status sorts, sums and searches; the partial
  index of open invoices carries the search text.

No column of `document` changes, so its audit triggers stay as they are; the search index is
derived from `document.search_text` (not audited: `counterfoil check` compares it with the
documents). Copied here, not imported from app.documents.tables: tests/unit/test_migrations.py
proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T10:50:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "search: padded trigram index for short words; search text and sort columns in the list indexes"

PAD = "'  '"


def _search(pad: str, content: str) -> list[str]:
    """The search index and its three triggers, each text followed by `pad` (an SQL expression)."""
    text = f" || {pad}" if pad else ""
    return [
        f"CREATE VIRTUAL TABLE document_search USING fts5(search_text, content='{content}', content_rowid='id', "
        "tokenize='trigram case_sensitive 1')",
        "CREATE TRIGGER document_search_insert AFTER INSERT ON document BEGIN "
        f"INSERT INTO document_search (rowid, search_text) VALUES (new.id, new.search_text{text}); END",
        "CREATE TRIGGER document_search_delete AFTER DELETE ON document BEGIN "
        "INSERT INTO document_search (document_search, rowid, search_text) "
        f"VALUES ('delete', old.id, old.search_text{text}); END",
        "CREATE TRIGGER document_search_update AFTER UPDATE OF search_text ON document BEGIN "
        "INSERT INTO document_search (document_search, rowid, search_text) "
        f"VALUES ('delete', old.id, old.search_text{text}); "
        f"INSERT INTO document_search (rowid, search_text) VALUES (new.id, new.search_text{text}); END",
        "INSERT INTO document_search (document_search) VALUES ('rebuild')",
    ]


DROP_SEARCH = ["DROP TRIGGER IF EXISTS document_search_insert", "DROP TRIGGER IF EXISTS document_search_delete",
               "DROP TRIGGER IF EXISTS document_search_update", "DROP TABLE IF EXISTS document_search"]

INDEXES = {
    "document_type_date": "document (doc_type, issue_date, id, status, due_date, total_minor, number, client, "
                          "search_text)",
    "document_type_total": "document (doc_type, total_minor, id, issue_date, status, search_text)",
    "document_type_due": "document (doc_type, due_date, id, issue_date, status, search_text)",
    "document_type_number": "document (doc_type, number, id, issue_date, status, search_text)",
    "document_client_type": "document (client, doc_type, issue_date, id, status, search_text)",
    "document_status_type": "document (status, doc_type, issue_date, id, due_date, total_minor, number, client, "
                            "currency, base_currency, paid_minor, credited_minor, total_base_minor, valid_until, search_text)",
}
FORMER_INDEXES = {
    "document_type_date": "document (doc_type, issue_date, id, status, search_text)",
    "document_type_total": "document (doc_type, total_minor, id, issue_date, status)",
    "document_type_due": "document (doc_type, due_date, id, issue_date, status)",
    "document_type_number": "document (doc_type, number, id, issue_date, status)",
    "document_client_type": "document (client, doc_type, issue_date, id, status)",
    "document_status_type": "document (status, doc_type, issue_date, id)",
}
OPEN_INVOICES = ("CREATE INDEX document_open_invoice ON document (client, currency, due_date, issue_date, total_minor, "
                 "paid_minor, credited_minor, doc_type, status, base_currency, total_base_minor, number{}) "
                 "WHERE doc_type = 'invoice' AND status IN ('issued', 'sent') "
                 "AND total_minor - paid_minor - credited_minor > 0")

STATEMENTS = [
    *DROP_SEARCH,
    "DROP VIEW IF EXISTS document_search_source",
    f"CREATE VIEW document_search_source AS SELECT id, search_text || {PAD} AS search_text FROM document",
    *_search(PAD, "document_search_source"),
    *(statement for name, columns in INDEXES.items()
      for statement in (f'DROP INDEX IF EXISTS "{name}"', f'CREATE INDEX "{name}" ON {columns}')),
    "DROP INDEX IF EXISTS document_open_invoice",
    OPEN_INVOICES.format(", search_text"),
]
DROP = [
    *DROP_SEARCH,
    "DROP VIEW IF EXISTS document_search_source",
    *_search("", "document"),
    *(statement for name, columns in FORMER_INDEXES.items()
      for statement in (f'DROP INDEX IF EXISTS "{name}"', f'CREATE INDEX "{name}" ON {columns}')),
    "DROP INDEX IF EXISTS document_open_invoice",
    OPEN_INVOICES.format(""),
]


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
