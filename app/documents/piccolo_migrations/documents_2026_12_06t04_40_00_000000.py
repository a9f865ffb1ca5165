"""Hand-written: a list index for issue 21 (every list filter and sort at 100,000 documents).

(doc_type, total_minor, id): the list sorted by total walks an index instead of sorting every
document. No other (doc_type, ...) index: SQLite keeps no statistics here and takes two equal
columns for narrower than one, so it would walk (doc_type, status, ...) or (doc_type, due_date)
for a client's open invoices (the ledger page) instead of the client's few rows.

An index only: no column changes, so the audit triggers stay as they are. Copied here, not
imported from app.documents.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T04:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "list index: sort by total"

INDEXES = {
    "document_type_total": "document (doc_type, total_minor, id)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)

    async def create():
        from app.db.engine import DB

        for name, target in INDEXES.items():
            await DB.run_ddl(f'CREATE INDEX IF NOT EXISTS "{name}" ON {target}')

    async def drop():
        from app.db.engine import DB

        for name in INDEXES:
            await DB.run_ddl(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
