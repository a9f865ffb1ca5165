"""Search as you type through an index: an FTS5 trigram table over document.search_text
(hand-written: Piccolo knows neither virtual tables nor triggers).

- document_search: external-content FTS5 table (the text stays in `document`, the index
  holds its trigrams), tokenizer `trigram case_sensitive 1`: the text is folded already,
  so a match is exactly a substring of it, as the LIKE search it replaces.
- three triggers keep it in step with every insert, delete and change of search_text,
  in the writing transaction itself.
- 'rebuild' fills it from the rows already there (a database from before this migration,
  or a backup of one being restored).
- the date and money indexes gain search_text as their last column, so that a search
  matching thousands of rows walks (page) or scans (count and sums) narrow index entries
  instead of the wide rows; the (doc_type, search_text) index has no use left and goes.
- document_open_invoice: a partial index of the open invoices (issued or sent, balance above
  zero) by client, for the receivables aging report; paid invoices are not in it.

The statements are copied here, not imported from app.documents.tables: a migration is a
record of what was done; tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-21T05:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "trigram index of document search text; search_text in the list indexes; open invoices"

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

INDEXES_BEFORE = {
    "document_type_date": "document (doc_type, issue_date, id)",
    "document_type_money": "document (doc_type, currency, status, due_date, total_minor, paid_minor, credited_minor)",
    "document_type_search": "document (doc_type, search_text)",
}
INDEXES_AFTER = {
    "document_type_date": "document (doc_type, issue_date, id, search_text)",
    "document_type_money": "document (doc_type, currency, status, due_date, total_minor, paid_minor, credited_minor, "
                           "search_text)",
}

DROP = [
    "DROP INDEX IF EXISTS document_open_invoice",
    "DROP TRIGGER IF EXISTS document_search_insert",
    "DROP TRIGGER IF EXISTS document_search_delete",
    "DROP TRIGGER IF EXISTS document_search_update",
    "DROP TABLE IF EXISTS document_search",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)

    async def create_search_index():
        from app.documents.tables import Document

        for statement in CREATE:
            await Document.raw(statement)
        for name in INDEXES_BEFORE:
            await Document.raw(f"DROP INDEX IF EXISTS {name}")
        for name, target in INDEXES_AFTER.items():
            await Document.raw(f"CREATE INDEX {name} ON {target}")

    async def drop_search_index():
        from app.documents.tables import Document

        for statement in DROP:
            await Document.raw(statement)
        for name in INDEXES_AFTER:
            await Document.raw(f"DROP INDEX IF EXISTS {name}")
        for name, target in INDEXES_BEFORE.items():
            await Document.raw(f"CREATE INDEX {name} ON {target}")

    manager.add_raw(create_search_index)
    manager.add_raw_backwards(drop_search_index)
    return manager
