"""Indexes for lists, totals and search at 100,000 documents (hand-written: Piccolo's
auto-migrations know only single-column indexes).

- (doc_type, issue_date, id): list pages ordered by date read the index, no sort.
- (doc_type, currency, status, due_date, total_minor, paid_minor, credited_minor):
  status filters, per-currency sums and statistics scan this narrow covering
  index instead of the wide rows (which carry the frozen snapshot and taxes).
- (doc_type, search_text): search as you type scans narrow index entries.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-21T03:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite and covering indexes for document lists"

INDEXES = {
    "document_type_date": "document (doc_type, issue_date, id)",
    "document_type_money": "document (doc_type, currency, status, due_date, total_minor, paid_minor, credited_minor)",
    "document_type_search": "document (doc_type, search_text)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)

    async def create_indexes():
        from app.documents.tables import Document

        for name, target in INDEXES.items():
            await Document.raw(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")

    async def drop_indexes():
        from app.documents.tables import Document

        for name in INDEXES:
            await Document.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
