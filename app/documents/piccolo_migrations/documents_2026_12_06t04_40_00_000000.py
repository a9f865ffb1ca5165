"""Hand-written: list indexes for issue 21 (every list filter and sort at 100,000 documents).

- (doc_type, status, issue_date, id): a stored status (drafts, cancelled, a quote's decision) in date
  order, so page 20 of the drafts reads its rows, not every invoice;
- (doc_type, total_minor, id) and (doc_type, due_date, id): the lists sorted by total or by due date
  walk an index instead of sorting every document.

Indexes only: no column changes, so the audit triggers stay as they are. Copied here, not imported
from app.documents.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T04:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "list indexes: status in date order, sort by total, sort by due date"

INDEXES = {
    "document_type_status_date": "document (doc_type, status, issue_date, id)",
    "document_type_total": "document (doc_type, total_minor, id)",
    "document_type_due": "document (doc_type, due_date, id)",
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
