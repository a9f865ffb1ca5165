"""The audit trail: who is acting, sealing each transaction's entries, reading and exporting the trail.

Recording needs nothing from the other services: the triggers on every business table write an
entry for each row a transaction inserts, changes or deletes (app.audit.tables). This module adds
what a trigger cannot know, from the context the doors set:

- `acting(actor)`: the web door sets the signed-in user or token and the origin (page or api) for
  each request, the command line its own, each scheduled job "system" and its name. Every
  transaction on the writer is sealed with the actor current when it commits (the hooks below).
- `labelled(action)`: a service that knows better than the rows what it is doing (an import, a
  restore) names the action of its transaction's entries.
- `record(...)`: an event that changes no row (a failed sign-in) writes its own entry.

The hooks are installed into app.db.engine when this module is imported; app.db.lifecycle imports
it before the database is opened, so no write runs without them.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import closing, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from piccolo.querystring import QueryString

from app.audit import logic, trail
from app.audit.logic import Actor, AuditFilter, Entry, Head
from app.db import engine
from app.db.datafolder import connect_reading
from app.db.engine import DB, require_write_transaction

log = logging.getLogger("counterfoil.audit")
T = TypeVar("T")

_actor: ContextVar[Actor] = ContextVar("counterfoil_audit_actor", default=logic.SYSTEM)
_label: ContextVar[str | None] = ContextVar("counterfoil_audit_label", default=None)


@contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    """Every transaction committed inside is recorded as `actor`'s."""
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


@contextmanager
def labelled(action: str) -> Iterator[None]:
    """The entries of the transactions committed inside carry `action` (an import, a restore)."""
    token = _label.set(action)
    try:
        yield
    finally:
        _label.reset(token)


async def as_system(job: str, work: Awaitable[T]) -> T:
    """Run a scheduled job's task as "system" and its name (its changes are recorded so)."""
    with acting(Actor.system(job)):
        return await work


def act_as(actor: Actor) -> None:
    """From here on, the current request (task) acts as `actor`: for the first-run page, whose owner
    is created by the very transaction that must name them (the seal reads the actor at commit).
    The door's `acting` puts the previous actor back when the request ends."""
    _actor.set(actor)


def current_actor() -> Actor:
    return _actor.get()


@dataclass(frozen=True)
class _SealContext:
    actor: Actor
    label: str | None
    database: str


class _Hooks:
    """app.db.engine.TransactionHooks: seal in the writer's thread, note the day's head after the commit."""

    def __init__(self) -> None:
        self.noted_day: dict[str, str] = {}

    def begun(self, connection: sqlite3.Connection) -> trail.Start | None:
        return trail.start(connection)

    def context(self) -> _SealContext:
        return _SealContext(_actor.get(), _label.get(), DB.path)

    def committing(self, connection: sqlite3.Connection, context: _SealContext, begun: trail.Start
                   ) -> tuple[str, Head] | None:
        # Nothing left to seal after steps that sealed already (`sealing_steps`): their head is the day's.
        head = trail.seal(connection, begun, context.actor, context.label) or begun.sealed
        return None if head is None else (context.database, head)

    def committed(self, result: tuple[str, Head] | None) -> None:
        if result is None:
            return
        database, head = result
        if database == ":memory:" or self.noted_day.get(database) == head.day:
            return
        try:
            trail.note_head(trail.head_path(database), head)
            self.noted_day[database] = head.day
        except OSError as error:   # the change is committed; the anchor waits for the next write
            log.error("the audit trail's head could not be written beside the database: %s", error)

    def forget(self, database: str) -> None:
        """The database file was replaced (a restore): its head file is read afresh at the next write."""
        self.noted_day.pop(database, None)


HOOKS = _Hooks()
engine.install_transaction_hooks(HOOKS)


def sealing_steps(transaction: Any) -> Callable[[sqlite3.Connection], None]:
    """For a long writer in `transaction` (write_transaction's): a function that seals what the
    transaction recorded so far (trail.seal_step), to be called in the writer's thread between batches.
    The actor and label are the ones current here, as the seal at the commit would take them."""
    context = HOOKS.context()

    def step(connection: sqlite3.Connection) -> None:
        begun = transaction.hooked
        if isinstance(begun, trail.Start):   # None: no trail on this database (before its migration)
            transaction.hooked = trail.seal_step(connection, begun, context.actor, context.label)
    return step


async def record(action: str, entity: str, entity_id: int | None = None, *, note: str | None = None,
                 changes: dict[str, Any] | None = None) -> None:
    """An entry for an event that changes no row, in the caller's write transaction."""
    require_write_transaction(f"recording {action!r} in the audit trail")
    connection = await DB._shared_writer()
    await connection._execute(lambda: trail.record(connection._conn, action, entity, entity_id, note=note,
                                                   changes=changes))


def record_restore(database_path: Path, *, note: str, changes: dict[str, Any], stamp: str) -> None:
    """After a restore (the engine's writer is paused): a "restore" entry at the end of the restored
    trail, sealed as the current actor's, and a fresh head file for that trail (the one the data
    folder kept for the trail it replaced is renamed, with `stamp`)."""
    head_file = trail.head_path(database_path)
    with closing(sqlite3.connect(database_path, timeout=engine.BUSY_TIMEOUT_S)) as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            start = trail.start(connection)
            if start is None:
                connection.rollback()
                return
            trail.record(connection, "restore", "database", note=note, changes=changes)
            new_head = trail.seal(connection, start, _actor.get())
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
    trail.set_heads_aside(head_file, stamp)
    HOOKS.forget(str(database_path))
    if new_head is not None:
        trail.note_head(head_file, new_head)
        HOOKS.noted_day[str(database_path)] = new_head.day


# -- reading --------------------------------------------------------------------------------------

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
_ENTRY_SELECT = ("SELECT id, at, actor, user_id, actor_name, origin, action, operation, entity, entity_id, "
                 "parent_entity, parent_id, changes, note, hash, prev_hash FROM audit_entry")


def _where(criteria: AuditFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if criteria.entity:
        clauses.append("entity = {}")
        args.append(criteria.entity)
    if criteria.entity_id is not None:
        clauses.append("entity_id = {}")
        args.append(criteria.entity_id)
    if criteria.actor:
        clauses.append("actor = {}")
        args.append(criteria.actor)
    if criteria.user_id is not None:
        clauses.append("user_id = {}")
        args.append(criteria.user_id)
    if criteria.action:
        clauses.append("action = {}")
        args.append(criteria.action)
    # A period is a range of sequence numbers: the entries' times follow their order (each is written
    # at its commit, one writer at a time), so its first and last entries are found through the time
    # index and the page walks the ids between them, newest first, with no sort. (+at: the time
    # still decides at the edges, without the planner walking the time index instead.)
    if criteria.at_from:
        clauses.append("id >= (SELECT id FROM audit_entry WHERE at >= {} ORDER BY at, id LIMIT 1) AND +at >= {}")
        args.extend([criteria.at_from, criteria.at_from])
    if criteria.at_to:
        clauses.append("id <= (SELECT id FROM audit_entry WHERE at < {} ORDER BY at DESC, id DESC LIMIT 1) "
                       "AND +at < {}")
        args.extend([criteria.at_to, criteria.at_to])
    if criteria.before is not None:
        clauses.append("id < {}")
        args.append(criteria.before)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


@dataclass(frozen=True)
class EntryPage:
    entries: list[Entry]
    next_before: int | None   # the `before` of the next (older) page, None at the end


async def list_entries(criteria: AuditFilter, *, limit: int = PAGE_SIZE) -> EntryPage:
    """The entries matching the filter, newest first, `limit` at a time (the next page starts below
    the last one's sequence number: no count of the whole trail, so a page is as fast at a million)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    where, args = _where(criteria)
    rows = await DB.run_querystring(QueryString(f"{_ENTRY_SELECT}{where} ORDER BY id DESC LIMIT {{}}",
                                                *args, limit + 1))
    entries = [Entry.from_row(row) for row in rows[:limit]]
    return EntryPage(entries, entries[-1].seq if len(rows) > limit else None)


async def history(entity: str, entity_id: int, *, limit: int = 200) -> list[Entry]:
    """A record's own history: its entries and those of what belongs to it (a document's lines,
    payments, ledger entries, emails), newest first."""
    rows = await DB.run_querystring(QueryString(
        f"SELECT * FROM ({_ENTRY_SELECT} WHERE entity = {{}} AND entity_id = {{}} ORDER BY id DESC LIMIT {{}}) "
        f"UNION SELECT * FROM ({_ENTRY_SELECT} WHERE parent_entity = {{}} AND parent_id = {{}} ORDER BY id DESC "
        "LIMIT {}) ORDER BY id DESC LIMIT {}", entity, entity_id, limit, entity, entity_id, limit, limit))
    return [Entry.from_row(row) for row in rows]


async def iter_entries(criteria: AuditFilter, *, batch: int = 2000) -> AsyncIterator[Entry]:
    """Every entry matching the filter, oldest first, read in batches (an export of the whole trail)."""
    after = 0
    where, args = _where(criteria)
    joiner = " AND " if where else " WHERE "
    while True:
        rows = await DB.run_querystring(QueryString(
            f"{_ENTRY_SELECT}{where}{joiner}id > {{}} ORDER BY id LIMIT {{}}", *args, after, batch))
        for row in rows:
            yield Entry.from_row(row)
        if len(rows) < batch:
            return
        after = rows[-1]["id"]


def export_file(database_path: Path, target: Path, criteria: AuditFilter, *, kind: str) -> int:
    """Write the entries matching the filter to `target` as CSV or JSON lines (oldest first); returns
    how many. For `counterfoil audit export` (synchronous, on its own read-only connection)."""
    where, args = _where(criteria)
    connection = connect_reading(database_path)
    connection.row_factory = sqlite3.Row
    count = 0
    try:
        cursor = connection.execute(f"{_ENTRY_SELECT}{where.replace('{}', '?')} ORDER BY id", args)
        with target.open("w", encoding="utf-8", newline="") as handle:
            if kind == "csv":
                handle.write(logic.csv_header_line())
            for row in cursor:
                entry = Entry.from_row(row)
                handle.write(logic.csv_line(logic.csv_row(entry)) if kind == "csv" else logic.jsonl_line(entry) + "\n")
                count += 1
    finally:
        connection.close()
    return count


# -- verifying ------------------------------------------------------------------------------------

def verify_database(database_path: Path, *, books: bool = True) -> trail.Verification:
    """The audit part of `counterfoil check`: the chain, the recorded heads, the triggers, the books."""
    connection = connect_reading(database_path)
    try:
        return trail.verify(connection, trail.head_path(database_path), books=books)
    finally:
        connection.close()


async def verify() -> trail.Verification:
    """verify_database on the engine's database, off the event loop (a million entries take seconds)."""
    return await asyncio.to_thread(verify_database, Path(DB.path))


async def unchanged_since(mark: Head, entity: str, entity_id: int) -> bool:
    """In a write transaction (so that nothing can be written between this answer and the caller's
    writes): whether nothing but `entity` `entity_id` was written since the trail's head was `mark`
    (trail.only_since). An import applies the plan its preview made when this holds."""
    require_write_transaction("asking the audit trail what was written since a mark")
    connection = await DB._shared_writer()
    return bool(await connection._execute(lambda: trail.only_since(connection._conn, mark, entity, entity_id)))


async def current_head() -> Head | None:
    rows = await DB.run_querystring(QueryString(
        "SELECT id, hash, at FROM audit_entry WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1"))
    return Head(rows[0]["id"], rows[0]["hash"], rows[0]["at"]) if rows else None
