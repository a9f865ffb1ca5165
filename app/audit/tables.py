"""The audit trail's table, its guards, and the triggers every other domain puts on its tables.

Each domain declares beside its tables how each one is audited (`audited(Client, ignored=...)`
in its EXTRA_SQL), and a hand-written migration of that domain creates the triggers;
tests/unit/test_migrations.py holds the two in step, and tests/unit/test_audit_tables.py proves
that every table of the schema is audited or named in app.audit.logic.NOT_AUDITED with a reason.
"""

from collections.abc import Iterable

from piccolo.columns import Integer, Serial, Text, Varchar
from piccolo.table import Table

from app.audit.logic import AuditedTable, trigger_statements
from app.db.engine import DB


class AuditEntry(Table, db=DB, tablename="audit_entry"):
    """One change, or one event (a failed sign-in, a restore), in the order they were committed.

    The id is the sequence number. Written whole, once, by app.audit.trail.seal just before the
    transaction of the change commits: what the trigger recorded (at, operation, entity,
    entity_id, parent, changes, note), who (actor, user_id, actor_name), from where (origin), what
    it means (action) and the chain (prev_hash, hash). Never changed, never deleted.
    """

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    at = Varchar(length=30)                                  # UTC, 2026-12-06T10:11:12.345Z
    operation = Varchar(length=10)                           # insert | update | delete | event
    entity = Varchar(length=40)                              # the table (or "database" for a restore)
    entity_id = Integer(null=True, default=None)
    parent_entity = Varchar(length=40, null=True, default=None)   # the record it belongs to (a line's document)
    parent_id = Integer(null=True, default=None)
    changes = Text(null=True, default=None)                  # JSON: {column: value} or {column: [old, new]}
    note = Text(null=True, default=None)
    actor = Varchar(length=120, null=True, default=None)     # user:3 | token:7 | cli:ann | system:outbox | anonymous
    user_id = Integer(null=True, default=None)
    actor_name = Varchar(length=300, null=True, default=None)
    origin = Varchar(length=10, null=True, default=None)     # page | api | cli | schedule | system
    action = Varchar(length=40, null=True, default=None)     # issue, payment, reversal, login... (app.audit.logic)
    prev_hash = Varchar(length=64, null=True, default=None)
    hash = Varchar(length=64, null=True, default=None)


class AuditPending(Table, db=DB, tablename="audit_pending"):
    """What the triggers record during a transaction, until the seal moves it into audit_entry.

    Empty between transactions: the seal that completes the entries deletes their rows here, in the
    same transaction. A row left here was written by another program (the triggers fire for any
    writer): `counterfoil check` reports it. No index: written and read once, by id."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    at = Varchar(length=30)
    operation = Varchar(length=10)
    entity = Varchar(length=40)
    entity_id = Integer(null=True, default=None)
    parent_entity = Varchar(length=40, null=True, default=None)
    parent_id = Integer(null=True, default=None)
    changes = Text(null=True, default=None)
    note = Text(null=True, default=None)
    action = Varchar(length=40, null=True, default=None)     # set by an event or a baseline; else named at the seal


# The filters of the audit page and each record's history read these, newest first: an index of one
# column keeps its rows in id order (SQLite appends the rowid), so a filter walks it backwards and
# stops after a page, with no sort; (entity, action) serves the two together. Created by a
# hand-written migration (see app/documents/tables.py).
EXTRA_INDEXES = {
    "audit_entry_kind": ("audit_entry", ("entity",)),
    "audit_entry_entity": ("audit_entry", ("entity", "entity_id")),
    "audit_entry_kind_action": ("audit_entry", ("entity", "action")),
    "audit_entry_parent": ("audit_entry", ("parent_entity", "parent_id")),
    "audit_entry_action": ("audit_entry", ("action",)),
    "audit_entry_user": ("audit_entry", ("user_id",)),
    "audit_entry_actor": ("audit_entry", ("actor",)),
    "audit_entry_at": ("audit_entry", ("at",)),
}

# Append-only, like the ledger: an entry, once written, is never changed or deleted, whatever
# writes to the file. Added by the same migration.
APPEND_ONLY = "the audit trail is append-only: its entries are never changed or deleted"
EXTRA_SQL = {
    "audit_entry_no_update": "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry BEGIN "
                             f"SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
    "audit_entry_no_delete": "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry BEGIN "
                             f"SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
}


def audited_table(table: type[Table], *, secret: Iterable[str] = (), ignored: Iterable[str] = (),
                  parent: tuple[str, str] | None = None) -> AuditedTable:
    return AuditedTable(table=table._meta.tablename,
                        columns=tuple(column._meta.db_column_name for column in table._meta.columns),
                        secret=frozenset(secret), ignored=frozenset(ignored), parent=parent)


# Every table a domain audits, by name, as declared (filled as the tables modules are imported).
AUDITED: dict[str, AuditedTable] = {}


def audited(table: type[Table], *, secret: Iterable[str] = (), ignored: Iterable[str] = (),
            parent: tuple[str, str] | None = None) -> dict[str, str]:
    """The triggers that record every change of `table` in the trail (for the domain's EXTRA_SQL).

    secret: columns whose values are never written (names such as *password*, *_hash are secret
    anyway); ignored: columns not recorded at all (derived search text, bytes, a last-used time);
    parent: (column, entity) of the record an entry also belongs to, for that record's history."""
    spec = audited_table(table, secret=secret, ignored=ignored, parent=parent)
    AUDITED[spec.table] = spec
    return trigger_statements(spec)
