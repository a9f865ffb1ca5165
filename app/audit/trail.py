"""The trail on a plain sqlite3 connection: sealing new entries, writing an event, verifying.

Synchronous on purpose. The seal runs inside the writer's own thread, in the same transaction as
the change, just before COMMIT (app.db.engine calls it through app.audit.service's hooks), so one
round trip to that thread seals and commits; a restore seals what it switched off in the staged
copy on its own connection; `counterfoil check` verifies on a read-only one.

The triggers record into audit_pending; the seal moves those records into audit_entry, complete
and chained, and empties audit_pending, in the transaction of the change.

The head file (`audit-head.json`, beside the database) keeps the chain's head as it was at each
day's first write: a trail rewritten and re-hashed from its start no longer holds those heads.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.audit import logic
from app.audit.logic import Actor, ChainProblem, Head

log = logging.getLogger("counterfoil.audit")

HEAD_FILE = "audit-head.json"
HEAD_FORMAT = "counterfoil-audit-head"
# The entry's content in the order its hash covers (app.audit.logic.CANONICAL_FIELDS).
SEAL_COLUMNS = "id, at, actor, user_id, actor_name, origin, action, operation, entity, entity_id, " \
               "parent_entity, parent_id, changes, note"
ENTRY_COLUMNS = "id, at, operation, entity, entity_id, parent_entity, parent_id, changes, note, actor, user_id, " \
                "actor_name, origin, action, prev_hash, hash"
PENDING_COLUMNS = "id, at, operation, entity, entity_id, parent_entity, parent_id, changes, note, action"
VERIFY_BATCH = 20_000


def now_text() -> str:
    """The time as the triggers write it: UTC, milliseconds, ISO 8601 with a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _plain(connection: sqlite3.Connection) -> sqlite3.Cursor:
    cursor = connection.cursor()
    cursor.row_factory = None   # the engine's connections make dicts; the seal reads tuples
    return cursor


@dataclass(frozen=True)
class Start:
    """Where a transaction starts: the last record in audit_pending (0 when empty, as it is between
    transactions) and the trail's last entry (0 and the genesis for an empty trail)."""

    pending: int
    seq: int
    hash: str
    # The head of what an earlier step of this transaction sealed already (`seal_step`), else None.
    sealed: Head | None = None


def start(connection: sqlite3.Connection) -> Start | None:
    """Read once, right after BEGIN (one statement: it runs before every write), or None where there
    is no trail (yet)."""
    try:
        row = _plain(connection).execute(
            "SELECT (SELECT max(id) FROM audit_pending), (SELECT max(id) FROM audit_entry), "
            "(SELECT hash FROM audit_entry ORDER BY id DESC LIMIT 1)").fetchone()
    except sqlite3.OperationalError:
        return None   # a database the migrations have not reached yet: nothing records, nothing to seal
    return Start(int(row[0] or 0), int(row[1] or 0), row[2] or logic.GENESIS)


def seal(connection: sqlite3.Connection, begun: Start, actor: Actor, label: str | None = None) -> Head | None:
    """Move what this transaction recorded (audit_pending rows after `begun.pending`) into the trail,
    each entry complete: who and from where, what it means (unless the record says), its sequence
    number and the chain. Returns the new head, or None when nothing was recorded.

    Rows at or below `begun.pending` were there before the transaction began: another program wrote
    them. They are left where they are, for `counterfoil check` to report, never sealed as this actor's."""
    cursor = _plain(connection)
    writer = _plain(connection)
    pending = cursor.execute(f"SELECT {PENDING_COLUMNS} FROM audit_pending WHERE id > ? ORDER BY id",
                             (begun.pending,))
    seq, previous = begun.seq, begun.hash
    last_at = None
    # Each entry's sequence number, action and links are worked out here; the entry itself is copied from
    # its record inside SQLite (INSERT ... SELECT joined with them), its columns never passed back as
    # parameters. In batches: a transaction that recorded a million rows (an import) is sealed without
    # holding its entries in memory at once.
    writer.execute(_LINKS_TABLE)
    while rows := pending.fetchmany(SEAL_BATCH):
        links = []
        for pending_id, at, operation, entity, entity_id, parent_entity, parent_id, changes, note, action in rows:
            seq += 1
            if action is None:
                action = label or logic.action_for(
                    entity, operation,
                    json.loads(changes) if changes and operation == "update" and entity in logic.ACTION_NEEDS_CHANGES
                    else {})
            digest = logic.entry_hash(previous, (seq, at, actor.actor, actor.user_id, actor.name, actor.origin,
                                                 action, operation, entity, entity_id, parent_entity, parent_id,
                                                 changes, note))
            links.append((pending_id, seq, action, previous, digest))
            previous = digest
        writer.executemany("INSERT INTO temp.audit_seal_link (pending, seq, action, prev_hash, hash) "
                           "VALUES (?, ?, ?, ?, ?)", links)
        writer.execute(
            f"INSERT INTO audit_entry ({ENTRY_COLUMNS}) SELECT l.seq, p.at, p.operation, p.entity, p.entity_id, "
            "p.parent_entity, p.parent_id, p.changes, p.note, ?, ?, ?, ?, l.action, l.prev_hash, l.hash "
            "FROM temp.audit_seal_link AS l JOIN audit_pending AS p ON p.id = l.pending ORDER BY l.pending",
            (actor.actor, actor.user_id, actor.name, actor.origin))
        writer.execute("DELETE FROM temp.audit_seal_link")
        last_at = rows[-1][1]
    if last_at is None:
        return None
    writer.execute("DELETE FROM audit_pending WHERE id > ?", (begun.pending,))
    return Head(seq, previous, last_at)


# The links of the batch being sealed (temporary: this connection's own, never in the database file).
_LINKS_TABLE = ("CREATE TEMP TABLE IF NOT EXISTS audit_seal_link (pending INTEGER PRIMARY KEY, seq INTEGER, action TEXT, "
                "prev_hash TEXT, hash TEXT)")
SEAL_BATCH = 5000


def seal_step(connection: sqlite3.Connection, begun: Start, actor: Actor, label: str | None = None) -> Start:
    """Seal what the transaction recorded so far, in the transaction, and answer where the next step (or
    the seal at its commit) goes on from. A transaction that writes a million rows (an import) seals as
    it goes: audit_pending stays a few thousand rows that the next ones reuse, instead of a table as
    large as the import, written to disk and deleted at the commit. The entries, their order and their
    chain are the ones a single seal at the commit makes."""
    head = seal(connection, begun, actor, label)
    if head is None:
        return begun
    return Start(begun.pending, head.seq, head.hash, head)


def record(connection: sqlite3.Connection, action: str, entity: str, entity_id: int | None = None, *,
           note: str | None = None, changes: dict[str, Any] | None = None) -> None:
    """Record an event that changes no row (a failed sign-in, a restore) in the connection's
    transaction; it becomes an entry with the others at the seal, before the commit."""
    _plain(connection).execute(
        "INSERT INTO audit_pending (at, operation, entity, entity_id, changes, note, action) "
        "VALUES (?, 'event', ?, ?, ?, ?, ?)",
        (now_text(), entity, entity_id,
         json.dumps(changes, ensure_ascii=False, separators=(",", ":")) if changes else None, note, action))


def only_since(connection: sqlite3.Connection, mark: Head, entity: str, entity_id: int) -> bool:
    """Whether nothing but `entity` `entity_id` was written since the trail's head was `mark`: the entry
    at the mark is still there with its hash (no restore replaced the trail), every entry sealed after
    it is of that record, and no change waits in audit_pending (written by another program). Every
    change of the books is an entry (their triggers), so True means the books are as they were then."""
    cursor = _plain(connection)
    if mark.seq:
        row = cursor.execute("SELECT hash FROM audit_entry WHERE id = ?", (mark.seq,)).fetchone()
        if row is None or row[0] != mark.hash:
            return False
    if cursor.execute("SELECT 1 FROM audit_pending LIMIT 1").fetchone() is not None:
        return False
    other = cursor.execute("SELECT 1 FROM audit_entry WHERE id > ? AND NOT (entity = ? AND entity_id IS ?) LIMIT 1",
                           (mark.seq, entity, entity_id)).fetchone()
    return other is None


def pending_outside(connection: sqlite3.Connection) -> list[str]:
    """Changes the triggers recorded that no seal took into the trail: written by another program."""
    try:
        rows = _plain(connection).execute(
            "SELECT entity, count(*), min(at) FROM audit_pending GROUP BY entity ORDER BY entity").fetchall()
    except sqlite3.OperationalError:
        return []
    return [f"{count} change{'s' if count > 1 else ''} of {entity} since {first} were made outside Counterfoil "
            "(recorded by the triggers, never sealed into the trail)" for entity, count, first in rows]


def head(connection: sqlite3.Connection) -> Head | None:
    """The chain's last sealed entry."""
    try:
        row = _plain(connection).execute("SELECT id, hash, at FROM audit_entry ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None
    return Head(row[0], row[1], row[2]) if row else None


# -- the head file --------------------------------------------------------------------------------

def head_path(database_path: Path | str) -> Path:
    return Path(database_path).with_name(HEAD_FILE)


def read_heads(path: Path) -> list[dict[str, Any]]:
    """The heads recorded in the file ([] when there is none). A file that cannot be read is a
    problem `counterfoil check` reports (`HeadFileUnreadable`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as error:
        raise HeadFileUnreadable(f"{path.name} cannot be read ({error.strerror})") from None
    try:
        data = json.loads(text)
        heads = data["heads"]
        if data.get("format") != HEAD_FORMAT or not isinstance(heads, list) or not all(
                isinstance(h, dict) and isinstance(h.get("seq"), int) and isinstance(h.get("hash"), str)
                for h in heads):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise HeadFileUnreadable(f"{path.name} is not a Counterfoil audit head file") from None
    return heads


class HeadFileUnreadable(Exception):
    pass


def write_heads(path: Path, heads: list[dict[str, Any]]) -> None:
    """Replace the head file (a new file renamed over the old one: never half written), private to the user."""
    partial = path.with_name(path.name + ".part")
    data = json.dumps({"format": HEAD_FORMAT, "heads": heads}, indent=1).encode("utf-8") + b"\n"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, path)


def note_head(path: Path, new_head: Head) -> bool:
    """Keep the head of the day's first write in the head file; True when it was written."""
    try:
        recorded = read_heads(path)
    except HeadFileUnreadable as unreadable:
        log.error("the audit trail's head was not recorded: %s", unreadable)
        return False
    heads = logic.heads_to_keep(recorded, new_head)
    if heads is None:
        return False
    write_heads(path, heads)
    return True


def set_heads_aside(path: Path, stamp: str) -> Path | None:
    """A restore brings another trail: the heads of the one it replaces are kept beside it, renamed."""
    if not path.exists():
        return None
    kept = path.with_name(f"audit-head-before-restore-{stamp}.json")
    os.replace(path, kept)
    return kept


# -- verification -------------------------------------------------------------------------------

@dataclass
class Verification:
    """The audit part of `counterfoil check` (and of GET /api/v1/audit/verify)."""

    entries: int = 0
    head_seq: int = 0
    head_hash: str = ""
    anchors: int = 0
    chain: list[ChainProblem] = field(default_factory=list)
    anchors_broken: list[ChainProblem] = field(default_factory=list)
    books: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.chain or self.anchors_broken or self.books or self.setup)

    @property
    def first_broken(self) -> int | None:
        seqs = [problem.seq for problem in self.chain + self.anchors_broken]
        return min(seqs) if seqs else None

    def problems(self) -> list[str]:
        return ([str(problem) for problem in sorted(self.chain + self.anchors_broken, key=lambda p: p.seq)]
                + self.setup + self.books)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "head_seq": self.head_seq, "head_hash": self.head_hash,
                "anchors_checked": self.anchors, "first_broken_seq": self.first_broken, "problems": self.problems()}


def _chain_rows(connection: sqlite3.Connection) -> Iterator[tuple[Any, ...]]:
    cursor = _plain(connection)
    cursor.arraysize = VERIFY_BATCH
    cursor.execute(f"SELECT hash, prev_hash, {SEAL_COLUMNS} FROM audit_entry ORDER BY id")
    while batch := cursor.fetchmany():
        yield from batch


def missing_triggers(connection: sqlite3.Connection) -> list[str]:
    """Tables of the schema without their three audit triggers, and the trail's own guards if gone."""
    tables = [row[0] for row in _plain(connection).execute(
        "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%'")]
    triggers = {row[0] for row in _plain(connection).execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    problems = []
    for table in sorted(tables):
        if table in logic.NOT_AUDITED:
            continue
        missing = [name for name in logic.trigger_names(table) if name not in triggers]
        if missing:
            problems.append(f"the table {table} has no audit trigger{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)}: its changes are not being recorded")
    for guard in ("audit_entry_no_update", "audit_entry_no_delete"):
        if guard not in triggers:
            problems.append(f"the audit trail's guard {guard} is missing: entries could be changed")
    return problems


def _entries_of(connection: sqlite3.Connection, table: str) -> Iterator[tuple[int, str, int, str]]:
    """One table's row changes in sequence order, read in batches through the trail's entity index."""
    cursor = _plain(connection)
    cursor.arraysize = VERIFY_BATCH
    cursor.execute("SELECT id, operation, entity_id, changes FROM audit_entry "
                   "WHERE entity = ? AND operation IN ('insert', 'update', 'delete') ORDER BY id", (table,))
    while batch := cursor.fetchmany():
        yield from batch


def _agreement(connection: sqlite3.Connection, tables: list[str]) -> list[str]:
    """Each audited table's rows are what the trail says happened to them. One table at a time, its
    entries replayed as they are read: holding every entry of a 100,000-invoice book at once took 1.6 GB."""
    problems: list[str] = []
    for table in tables:
        trail = logic.replay(_entries_of(connection, table))
        reader = _plain(connection).execute(f'SELECT * FROM "{table}"')
        columns = {description[0]: position for position, description in enumerate(reader.description)}
        rows = {row[columns["id"]]: row for row in reader}
        problems.extend(logic.disagreements(table, trail, rows, columns))
    return problems


def verify(connection: sqlite3.Connection, head_file: Path | None, *, books: bool = True) -> Verification:
    """The chain from its first entry, the heads recorded outside the database, the triggers, and
    (books=True) every audited table against what its trail says."""
    result = Verification()
    # Asked of the schema, not by trying a read: a read that fails for another reason (a locked or
    # unreadable file) must surface as that failure, never as "no trail to check".
    if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_entry'").fetchone() is None:
        result.setup.append("the database has no audit trail (its schema predates it)")
        return result
    report = logic.verify_chain(_chain_rows(connection))
    result.entries, result.head_seq, result.head_hash = report.entries, report.head_seq, report.head_hash
    result.chain.extend(report.problems)
    if head_file is not None:
        try:
            recorded = read_heads(head_file)
        except HeadFileUnreadable as unreadable:
            result.setup.append(str(unreadable))
            recorded = []
        if recorded:
            seqs = sorted({int(h["seq"]) for h in recorded})
            found: dict[int, str | None] = {}
            for offset in range(0, len(seqs), 500):
                part = seqs[offset:offset + 500]
                found.update(_plain(connection).execute(
                    f"SELECT id, hash FROM audit_entry WHERE id IN ({', '.join('?' * len(part))})", part).fetchall())
            result.anchors = len(recorded)
            result.anchors_broken.extend(logic.check_heads(recorded, found, head_file.name))
    result.setup.extend(missing_triggers(connection))
    result.setup.extend(pending_outside(connection))
    if books:
        audited = [row[0] for row in _plain(connection).execute(
            "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit\\_%\\_insert' "
            "ESCAPE '\\' ORDER BY tbl_name")]
        result.books.extend(_agreement(connection, audited))
    return result
