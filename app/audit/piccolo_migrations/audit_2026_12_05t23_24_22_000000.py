"""Hand-written, after the generated migration: the trail's indexes and its guards.

- Indexes for the audit page's filters and each record's history (newest first, by id):
  entity and id, parent record, action, user, actor, time.
- Append-only: a trigger refuses every DELETE; another refuses every UPDATE except the one seal
  that fills the empty who/what/hash columns of a new entry, once, without touching what the
  entry records.

The statements are copied here, not imported from app.audit.tables: tests/unit/test_migrations.py
proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T23:24:22:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit trail indexes; the trail is append-only"

INDEXES = {
    "audit_entry_entity": "audit_entry (entity, entity_id)",
    "audit_entry_parent": "audit_entry (parent_entity, parent_id)",
    "audit_entry_action": "audit_entry (action)",
    "audit_entry_user": "audit_entry (user_id)",
    "audit_entry_actor": "audit_entry (actor)",
    "audit_entry_at": "audit_entry (at)",
}

APPEND_ONLY = "the audit trail is append-only: its entries are never changed or deleted"
CREATE = [
    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry BEGIN "
    f"SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
    "CREATE TRIGGER audit_entry_sealed_once BEFORE UPDATE ON audit_entry WHEN "
    "old.hash IS NOT NULL OR new.hash IS NULL OR new.id IS NOT old.id OR new.at IS NOT old.at OR "
    "new.operation IS NOT old.operation OR new.entity IS NOT old.entity OR new.entity_id IS NOT old.entity_id OR "
    "new.parent_entity IS NOT old.parent_entity OR new.parent_id IS NOT old.parent_id OR "
    "new.changes IS NOT old.changes OR new.note IS NOT old.note "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
]

DROP = [
    "DROP TRIGGER IF EXISTS audit_entry_sealed_once",
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
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
