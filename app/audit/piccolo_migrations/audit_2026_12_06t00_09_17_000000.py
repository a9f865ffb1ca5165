"""Hand-written, after the generated migration: the trail's indexes and its guards.

- Indexes for the audit page's filters and each record's history (newest first, by id):
  entity, entity and id, entity and action, parent record, action, user, actor, time.
- Append-only: triggers refuse every UPDATE and DELETE of an entry, whatever writes to the file
  (entries are written whole, once, by the seal: app.audit.trail).

The statements are copied here, not imported from app.audit.tables: tests/unit/test_migrations.py
proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T00:09:17:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit trail indexes; the trail is append-only"

INDEXES = {
    "audit_entry_kind": "audit_entry (entity)",
    "audit_entry_entity": "audit_entry (entity, entity_id)",
    "audit_entry_kind_action": "audit_entry (entity, action)",
    "audit_entry_parent": "audit_entry (parent_entity, parent_id)",
    "audit_entry_action": "audit_entry (action)",
    "audit_entry_user": "audit_entry (user_id)",
    "audit_entry_actor": "audit_entry (actor)",
    "audit_entry_at": "audit_entry (at)",
}

APPEND_ONLY = "the audit trail is append-only: its entries are never changed or deleted"
CREATE = [
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry BEGIN "
    f"SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry BEGIN "
    f"SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
]

DROP = [
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
    *(f"DROP INDEX IF EXISTS {name}" for name in INDEXES),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)

    async def create():
        from app.db.engine import DB

        for name, target in INDEXES.items():
            await DB.run_ddl(f"CREATE INDEX {name} ON {target}")
        for statement in CREATE:
            await DB.run_ddl(statement)

    async def drop():
        from app.db.engine import DB

        for statement in DROP:
            await DB.run_ddl(statement)

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
