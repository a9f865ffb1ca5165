"""The SQLite engine every table is bound to, and the one way to write.

Piccolo's SQLite engine opens a new connection (and an aiosqlite thread) for every query
made outside a transaction, and its default transaction is DEFERRED, which gave "database
is locked" under concurrent read-then-write transactions (STACK-NOTES). So, as datasette does:

- Writes go through `write_transaction()` only: an in-process asyncio lock (one writer in
  this process) around a `BEGIN IMMEDIATE` transaction (other processes wait their turn
  through SQLite's busy timeout), on one long-lived writer connection. A double-click
  therefore waits its turn instead of failing.
- Reads outside a transaction (SELECT, WITH) share one long-lived reader connection, which
  is `query_only`: it cannot write even by mistake.
- Any other statement outside a transaction raises `WriteOutsideTransaction` at once instead
  of committing on a connection of its own beside the single writer. Two exceptions: a
  PRAGMA that only reports (no `=`) runs on a fresh connection, and inside `migrating()`
  (Piccolo's migration runner, which writes its bookkeeping outside its own transactions)
  statements run on a fresh connection as Piccolo runs them.
- Before a write, the data folder is checked (app.db.datafolder: still there, writable), and a
  write that fails because of the folder (disk full, read-only) is raised again by that name.
- At stop, `close_connections` folds the write-ahead log into the database file
  (`wal_checkpoint(TRUNCATE)`), so `counterfoil.sqlite` alone holds everything.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

from app.db import datafolder

BUSY_TIMEOUT_S = 30
log = logging.getLogger("counterfoil.db")


class WriteOutsideTransaction(RuntimeError):
    """A statement that may change the database ran outside `write_transaction()`."""


# Set by `migrating()`: Piccolo's migration runner may write outside a transaction.
_migrating: ContextVar[bool] = ContextVar("counterfoil_migrating", default=False)
# Set inside `one_snapshot()`: the reader connection (in its read transaction) that reads made outside a
# transaction run on, instead of the shared reader.
_pinned: ContextVar[aiosqlite.Connection | None] = ContextVar("counterfoil_pinned_reader", default=None)

_READ = re.compile(r"\s*\(*\s*(SELECT|WITH)\b", re.IGNORECASE)
_PRAGMA_READ = re.compile(r"\s*PRAGMA\b[^=]*$", re.IGNORECASE | re.DOTALL)


def statement_kind(query: str) -> str:
    """"read" (SELECT, WITH), "pragma" (a PRAGMA that only reports: no `=`) or "write" (anything else)."""
    if _READ.match(query):
        return "read"
    if _PRAGMA_READ.match(query):
        return "pragma"
    return "write"


class TransactionHooks(Protocol):
    """What runs around every transaction on the writer (app.audit.service installs the only ones: the
    audit trail seals the entries a transaction wrote, in that transaction, just before its COMMIT).

    `begun` and `committing` run in the writer's own thread on its sqlite3 connection, in the same
    round trip as BEGIN and COMMIT; `context` and `committed` run on the event loop (where the
    request's context variables are), before and after that round trip."""

    def begun(self, connection: sqlite3.Connection) -> Any: ...

    def context(self) -> Any: ...

    def committing(self, connection: sqlite3.Connection, context: Any, begun: Any) -> Any: ...

    def committed(self, result: Any) -> None: ...


_hooks: TransactionHooks | None = None


def install_transaction_hooks(hooks: TransactionHooks | None) -> None:
    global _hooks
    _hooks = hooks


class _WriterTransaction(SQLiteTransaction):
    """A transaction on the engine's one long-lived writer connection.

    Every transaction runs there (`write_transaction`'s, and the ones Piccolo's migration
    manager opens itself). Writes are serialised anyway (the write lock, BEGIN IMMEDIATE),
    so one connection serves them all and is kept open between transactions. Piccolo left
    the connection open when BEGIN failed; here it is ours to keep.
    """

    # Set by write_transaction: this transaction holds the single writer (its lock, BEGIN IMMEDIATE).
    holds_writer = False
    # What the hooks' `begun` returned (None: nothing to do at commit).
    hooked: Any = None

    async def get_connection(self):
        # Piccolo types the engine as SQLiteEngine; the one that opens this transaction is always ours.
        return await self.engine._shared_writer()  # type: ignore[attr-defined]

    async def begin(self) -> None:
        hooks = _hooks
        if hooks is None:
            return await super().begin()
        statement = f"BEGIN {self.transaction_type.value}"
        connection = self.connection

        def begin_and_hook() -> Any:
            connection._conn.execute(statement)
            return hooks.begun(connection._conn)
        self.hooked = await connection._execute(begin_and_hook)

    async def commit(self) -> None:
        hooks, hooked = _hooks, self.hooked
        if hooks is None or hooked is None:
            return await super().commit()
        context = hooks.context()
        connection = self.connection

        def hook_and_commit() -> Any:
            try:
                result = hooks.committing(connection._conn, context, hooked)
            except BaseException:
                connection._conn.execute("ROLLBACK")
                raise
            connection._conn.execute("COMMIT")
            return result
        try:
            result = await connection._execute(hook_and_commit)
        except BaseException:
            self._rolled_back = True
            raise
        self._committed = True
        hooks.committed(result)

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
        return exception is None


# Statements run on each long-lived connection as it opens (before the reader is made query_only):
# what a domain keeps in a connection's temporary schema, which no file holds (app.documents: the
# search index's vocabulary, a view of the index that stores nothing).
_ON_CONNECT: list[str] = []
_ON_CONNECT_DONE: weakref.WeakKeyDictionary[aiosqlite.Connection, int] = weakref.WeakKeyDictionary()   # how many ran


def on_connect(statement: str) -> None:
    """Run `statement` on every long-lived connection as it opens; it must be idempotent (IF NOT EXISTS)."""
    if statement not in _ON_CONNECT:
        _ON_CONNECT.append(statement)


def on_connect_statements() -> tuple[str, ...]:
    """What on_connect() asked for, for a connection made outside the engine that reads as the engine's do."""
    return tuple(_ON_CONNECT)


class CounterfoilEngine(SQLiteEngine):
    """Piccolo's SQLite engine on two long-lived connections, with the durability settings on each.

    The writer serves every transaction (`_WriterTransaction`); the reader serves the reads
    made outside one (a new connection per query, as Piccolo opens them, costs about 1 ms,
    which adds up on a page of ten queries). Anything else outside a transaction is refused
    (`_run_in_new_connection`), unless migrating.
    """

    _reader: aiosqlite.Connection | None = None
    _reader_path: str | None = None
    _writer: aiosqlite.Connection | None = None
    _writer_path: str | None = None
    # The readers of `one_snapshot()` (SNAPSHOT_READERS, opened on first use), for the path they read.
    _snapshot_readers: list[aiosqlite.Connection] | None = None
    _snapshot_readers_path: str | None = None

    async def _open_daemon_connection(self, *, query_only: bool) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self.connection_kwargs)
        # Our long-lived connections must never keep the program alive at exit
        # (aiosqlite's worker thread is not a daemon by default).
        connection._thread.daemon = True
        await connection
        # aiosqlite types row_factory as a Row class; sqlite3 takes any (cursor, row) callable, as Piccolo's is.
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute("PRAGMA synchronous = FULL")
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        for statement in _ON_CONNECT:
            await connection.execute(statement)
        _ON_CONNECT_DONE[connection] = len(_ON_CONNECT)
        if query_only:
            await connection.execute("PRAGMA query_only = 1")
        return connection

    async def _caught_up(self, connection: aiosqlite.Connection, *, query_only: bool) -> aiosqlite.Connection:
        """`connection` with every on_connect() statement run on it: one asked for after it opened too (a
        start opens the database before the domains that register theirs are imported)."""
        done = _ON_CONNECT_DONE.get(connection, 0)
        if done < len(_ON_CONNECT):
            if query_only:   # a query_only connection refuses even a table of its temporary schema
                await connection.execute("PRAGMA query_only = 0")
            try:
                for statement in _ON_CONNECT[done:]:
                    await connection.execute(statement)
            finally:
                if query_only:
                    await connection.execute("PRAGMA query_only = 1")
            _ON_CONNECT_DONE[connection] = len(_ON_CONNECT)
        return connection

    async def _shared(self, name: str) -> aiosqlite.Connection:
        """The long-lived connection `name` ("reader" or "writer"), reopened when the path changed
        or its worker thread has died."""
        connection, path = getattr(self, f"_{name}"), getattr(self, f"_{name}_path")
        if connection is not None and path == self.path and _alive(connection):
            return await self._caught_up(connection, query_only=name == "reader")
        # Opening one reads the schema (~7 ms): the requests that ask for it meanwhile (the first page's,
        # the workers' at the start) wait for that one instead of each opening its own.
        async with _opening():
            connection, path = getattr(self, f"_{name}"), getattr(self, f"_{name}_path")
            if connection is None or path != self.path or not _alive(connection):
                setattr(self, f"_{name}", await self._open_daemon_connection(query_only=name == "reader"))
                setattr(self, f"_{name}_path", self.path)
                if connection is not None:
                    await _close_quietly(connection)
        return await self._caught_up(getattr(self, f"_{name}"), query_only=name == "reader")

    async def _shared_writer(self) -> aiosqlite.Connection:
        return await self._shared("writer")

    async def _shared_reader(self) -> aiosqlite.Connection:
        return await self._shared("reader")

    def _snapshot_readers_open(self) -> bool:
        readers = self._snapshot_readers
        return (readers is not None and self._snapshot_readers_path == self.path
                and all(_alive(reader) for reader in readers))

    async def _readers_of_snapshots(self) -> list[aiosqlite.Connection]:
        """The SNAPSHOT_READERS query_only connections `one_snapshot()` reads on, reopened as `_shared` does."""
        readers = self._snapshot_readers
        if readers is None or not self._snapshot_readers_open():
            # Opened at the same time, each on its own thread (each reads the schema, ~7 ms alone).
            results = await asyncio.gather(*(self._open_daemon_connection(query_only=True)
                                             for _ in range(SNAPSHOT_READERS)), return_exceptions=True)
            opened = [result for result in results if not isinstance(result, BaseException)]
            for result in results:
                if isinstance(result, BaseException):
                    for reader in opened:
                        await _close_quietly(reader)
                    raise result
            self._snapshot_readers, self._snapshot_readers_path = opened, self.path
            for reader in readers or ():
                await _close_quietly(reader)
            return opened
        return [await self._caught_up(reader, query_only=True) for reader in readers]

    async def _run_in_new_connection(self, query, args=None, query_type="generic", table=None):
        """Every statement run outside a transaction comes here (Piccolo's name: it would open a connection)."""
        kind = statement_kind(query)
        if kind == "read":
            # One job on the reader's thread: the statement runs to its end and is reset before any
            # other query on this connection starts. With execute() and fetchall() as two jobs, a
            # query queued between them ran inside the first one's read transaction and saw its
            # snapshot: a write committed meanwhile was missing from the reply that followed it.
            connection = _pinned.get() or await self._shared_reader()
            return list(await connection.execute_fetchall(query, args or []))
        if kind == "write" and not _migrating.get():
            raise WriteOutsideTransaction(
                "a statement that may change the database ran outside write_transaction(), which would "
                f"bypass the single writer: {' '.join(query.split())[:200]}")
        return await super()._run_in_new_connection(query, args, query_type, table)

    async def close_connections(self, *, checkpoint: bool = False) -> None:
        """Close the reader and the writer; with `checkpoint` (at stop) first fold the write-ahead log into
        the database file and empty it, so the file alone holds everything (a copy of the folder made
        after a stop needs no -wal file beside it)."""
        writer = self._writer
        if checkpoint and writer is not None and _alive(writer) and datafolder.still_there():
            try:
                rows = await asyncio.wait_for(writer.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)"),
                                              timeout=CLOSE_TIMEOUT_S)
                busy = next(iter(rows))["busy"] if rows else 0
                if busy:   # another program was reading: the log is folded in, emptied at its next stop
                    log.warning("the write-ahead log of %s could not be emptied at stop: another program reads "
                                "the database", self.path)
            except Exception as error:   # stopping must go on
                log.warning("could not fold the write-ahead log into %s at stop: %s", self.path, error)
        for name in ("_reader", "_writer"):
            connection = getattr(self, name)
            if connection is not None:
                setattr(self, name, None)
                await _close_quietly(connection)
        readers, self._snapshot_readers = self._snapshot_readers or [], None
        for reader in readers:
            await _close_quietly(reader)

    async def get_connection(self):
        """A fresh connection, for what Piccolo opens on its own (`Select.batch`); transactions use the writer."""
        connection = await super().get_connection()
        await connection.execute("PRAGMA synchronous = FULL")
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        return connection

    def transaction(self, transaction_type=TransactionType.deferred, allow_nested=True):
        return _WriterTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )


def _alive(connection: aiosqlite.Connection) -> bool:
    # aiosqlite's worker thread dies when it cannot hand a result back to an event loop that has
    # closed meanwhile (a task cancelled at shutdown, in tests a finished loop); every later request
    # on that connection would wait forever.
    thread = getattr(connection, "_thread", None)
    return thread is None or thread.is_alive()


async def _close_quietly(connection: aiosqlite.Connection) -> None:
    """Close a connection we no longer use: best effort, and never waiting on a dead worker."""
    if not _alive(connection):
        return
    try:
        await asyncio.wait_for(connection.close(), timeout=CLOSE_TIMEOUT_S)
    except Exception:
        pass


CLOSE_TIMEOUT_S = 5.0

# Bound to every table at import; the path is set by `configure()` before use.
DB = CounterfoilEngine(path=":memory:", timeout=BUSY_TIMEOUT_S)


class _LoopLock:
    """An asyncio.Lock, one per event loop: tests and the CLI run several loops in one process."""

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __call__(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    def held(self) -> bool:
        """Whether the lock of the running loop (none outside a loop) is held now."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        return self._lock is not None and self._loop is loop and self._lock.locked()


_lock = _LoopLock()   # the single writer
_opening = _LoopLock()   # one long-lived connection opened at a time (CounterfoilEngine._shared)


def configure(database_path: Path) -> None:
    """Point the engine at the user's database (or the copy a read-only start serves) and set the
    file-level pragmas."""
    DB.path = str(database_path)
    if in_wal_mode(database_path):
        return   # a connection would read the whole schema (~7 ms of every start) to set what is set
    with sqlite3.connect(database_path, timeout=BUSY_TIMEOUT_S) as connection:
        # WAL is a property of the file; it persists once set. (synchronous is each connection's own:
        # _open_daemon_connection sets it.)
        connection.execute("PRAGMA journal_mode = WAL")
    connection.close()


def in_wal_mode(database_path: Path) -> bool:
    """Whether the file is an SQLite database in WAL mode: its header's file format versions (bytes 18 and 19)
    are 2 (https://www.sqlite.org/fileformat2.html#the_database_header)."""
    try:
        with open(database_path, "rb") as handle:
            header = handle.read(20)
    except OSError:
        return False
    return header[:16] == b"SQLite format 3\x00" and header[18:20] == b"\x02\x02"


@asynccontextmanager
async def write_transaction(*, bookkeeping: bool = False) -> AsyncIterator[SQLiteTransaction]:
    """The door for writes: one writer at a time, BEGIN IMMEDIATE, all or nothing (`migrating()` is the other,
    for the migration runner only).

    The data folder is checked first (`datafolder.before_write`: refused once it is gone or read-only),
    and a write failing because of it (disk full, read-only) raises its `DataFolderProblem`.
    `bookkeeping` marks what signing in writes (sessions, sign-in attempts, launch tokens): the one
    kind of write a read-only start takes, into its private copy."""
    current = DB.current_transaction.get()
    if current is not None:
        # Already inside the writer (a service calling another service).
        yield current
        return
    async with _lock():
        datafolder.before_write(bookkeeping=bookkeeping)
        try:
            async with DB.transaction(transaction_type=TransactionType.immediate) as transaction:
                transaction.holds_writer = True
                yield transaction
        except (sqlite3.Error, OSError) as error:
            problem = datafolder.problem_from(error)
            if problem is None or problem is error:
                raise
            log.error("a write failed: %s (%s)", problem.message, error)
            raise problem from error


@contextmanager
def migrating() -> Iterator[None]:
    """Let statements outside a transaction write, for Piccolo's migration runner only (app.db.migrate).

    The runner creates its `migration` table and records each migration it ran outside any
    transaction, and runs each migration in a transaction of its own (on the writer, without
    the write lock: it runs at start, before anything else writes, or inside `writes_paused()`).
    """
    token = _migrating.set(True)
    try:
        yield
    finally:
        _migrating.reset(token)


def writer_busy() -> bool:
    """Whether a write of this process holds the single writer now, or waits for it (a burst of writes)."""
    return _lock.held()


def in_write_transaction() -> bool:
    """Whether the caller runs inside `write_transaction` (a service called by another service's write)."""
    return bool(getattr(DB.current_transaction.get(), "holds_writer", False))


def require_write_transaction(what: str) -> None:
    """Refuse to run `what` unless inside `write_transaction`.

    For the functions that move money without opening a transaction of their own (an
    invoice's paid amount, a ledger entry): they belong to the caller's change, and must
    commit or roll back with it. Outside the writer they would commit alone, at once.
    """
    current = DB.current_transaction.get()
    if not getattr(current, "holds_writer", False):
        raise RuntimeError(f"{what} runs only inside write_transaction(), in the same transaction as the change "
                           "that moves the money")


@asynccontextmanager
async def writes_paused() -> AsyncIterator[None]:
    """Hold the single writer without opening a transaction: a restore swaps the file under it."""
    if DB.current_transaction.get() is not None:
        raise RuntimeError("writes_paused() inside a write transaction")
    async with _lock():
        yield


def raw_connection(database_path: Path | None = None) -> sqlite3.Connection:
    """A plain sqlite3 connection, outside the engine, for synchronous reads (`counterfoil check`, /health, tests).

    It is not the writer: the app writes through `write_transaction()` only."""
    connection = sqlite3.connect(database_path or DB.path, timeout=BUSY_TIMEOUT_S)
    connection.execute("PRAGMA foreign_keys = 1")
    connection.row_factory = sqlite3.Row
    return connection


# -- a read cache that knows when the data changed -----------------------------
# Sums over 100,000 documents (list totals, statistics, aging) are the slow reads.
# SQLite's `PRAGMA data_version` on our long-lived reader changes whenever any other
# connection (our writer, or another process) commits, so results computed for one
# version can be reused until the next commit, exactly.

_cache: dict[Any, Any] = {}
_cache_version: tuple[str, int] | None = None


async def data_version() -> tuple[str, int]:
    connection = await DB._shared_reader()
    (row,) = await connection.execute_fetchall("PRAGMA data_version")
    return DB.path, int(row["data_version"])


async def cached(key: Any, compute: Callable[[], Awaitable[Any]]) -> Any:
    """compute() once per data version; outside a transaction only (inside, our own writes may be pending).
    Inside `one_snapshot()`, the version is the snapshot's: what it reads there is kept for that version."""
    global _cache_version
    if DB.current_transaction.get() is not None:
        return await compute()
    snapshot = _snapshot.get()
    if snapshot is not None:
        if snapshot.version is None:
            return await compute()
        if snapshot.version == _cache_version and key in _cache:
            return _cache[key]
        value = await compute()
        _remember(snapshot.version, key, value)
        return value
    version = await data_version()
    if version != _cache_version:
        _cache.clear()
        _cache_version = version
    if key not in _cache:
        value = await compute()
        if await data_version() == version:  # nothing committed meanwhile
            _cache[key] = value
        return value
    return _cache[key]


def _remember(version: tuple[str, int], key: Any, value: Any) -> None:
    """Keep `value`, read at `version`, unless the cache already holds a later version (the data version of
    the shared reader only grows: a higher one is later)."""
    global _cache_version
    if version != _cache_version:
        if _cache_version is not None and _cache_version[0] == version[0] and _cache_version[1] > version[1]:
            return
        _cache.clear()
        _cache_version = version
    _cache[key] = value


# -- reads of one snapshot on several connections at once -------------------------
# A list's exact count and sums over 100,000 documents read every entry of an index, and its page
# walks another: independent reads, which sqlite3 runs without holding the GIL. On readers of their
# own they run at the same time, on both cores. Each reader reads in a read transaction of its own;
# `one_snapshot()` makes sure they all read the same version of the database, so that a page and the
# count beside it never come from two versions (a commit between the two reads).

SNAPSHOT_READERS = 3   # a list: the two halves of its sums and its page, at once
SNAPSHOT_TRIES = 3     # tries to begin the readers' transactions with no commit in between


class Snapshot:
    """Reads of one version of the database (`version`, as data_version() named it), on `readers`, each in
    a read transaction begun at that version. No readers (inside a write transaction, where the writer's
    pending changes must be seen): every read runs where it would anyway, one after the other."""

    def __init__(self, readers: list[aiosqlite.Connection], version: tuple[str, int] | None) -> None:
        self.readers = readers
        self.version = version

    async def together(self, *computations: Callable[[], Awaitable[Any]]) -> list[Any]:
        """The results of `computations`, run at the same time, each on a reader of its own (their reads
        made outside a transaction go there); one after the other when there are not enough readers, or
        when called from one of them."""
        if len(computations) > len(self.readers) or _in_together.get():
            return [await computation() for computation in computations]

        async def on(reader: aiosqlite.Connection, computation: Callable[[], Awaitable[Any]]) -> Any:
            # A task of its own: these settings stay in its copy of the context.
            _pinned.set(reader)
            _in_together.set(True)
            return await computation()
        # Every one runs to its end before any error is raised: none may still read on a reader when
        # the snapshot ends its transactions.
        results = await asyncio.gather(*(on(reader, computation) for reader, computation
                                         in zip(self.readers, computations, strict=False)),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return list(results)


_snapshot: ContextVar[Snapshot | None] = ContextVar("counterfoil_snapshot", default=None)
_in_together: ContextVar[bool] = ContextVar("counterfoil_in_together", default=False)
_readers_lock = _LoopLock()   # one snapshot at a time holds the readers


def _begin_read(connection: sqlite3.Connection) -> None:
    connection.execute("BEGIN")
    # A read transaction takes its snapshot at its first read of the database.
    connection.execute("SELECT 1 FROM sqlite_schema LIMIT 1").fetchall()


def _end_read(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        connection.execute("ROLLBACK")


async def _on_readers(readers: Sequence[aiosqlite.Connection], job: Callable[[sqlite3.Connection], None]) -> None:
    await asyncio.gather(*(reader._execute(job, reader._conn) for reader in readers))


# The snapshot readers are opened in the background this long after a snapshot asked `if_open` found them
# closed: the first page after a start is answered first (opening them beside it, each reading the schema on
# a thread of its own, took it ~17 ms longer on two cores).
READERS_OPEN_AFTER_S = 1.0
_opening_readers: set[asyncio.Task[None]] = set()   # referenced while it runs (the loop keeps only weak ones)


async def _open_snapshot_readers() -> None:
    await asyncio.sleep(READERS_OPEN_AFTER_S)
    try:
        async with _readers_lock():
            await DB._readers_of_snapshots()
    except sqlite3.Error as error:   # the next snapshot tries again (or reads on the shared reader)
        log.warning("the readers of snapshots could not be opened: %s", error)


def _open_snapshot_readers_soon() -> None:
    loop = asyncio.get_running_loop()
    if any(not task.done() and task.get_loop() is loop for task in _opening_readers):
        return
    _opening_readers.clear()   # none, or one of an event loop that has ended (tests)
    task = loop.create_task(_open_snapshot_readers())
    _opening_readers.add(task)
    task.add_done_callback(_opening_readers.discard)


@asynccontextmanager
async def one_snapshot(readers: int = SNAPSHOT_READERS, *, if_open: bool = False) -> AsyncIterator[Snapshot]:
    """Inside, every read made outside a transaction reads one version of the database, and
    `Snapshot.together` runs reads at the same time on up to `readers` readers that all read that version
    (one: the reads run one after the other, on one read transaction).

    How the readers are known to read the same version: the shared reader's data version is read,
    then each reader begins its read transaction (its snapshot is taken there), then the shared
    reader's data version is read again. Unchanged, no commit happened from before the first
    transaction began until after the last one had: all read the version first read (which names
    the cache's entries they make). Changed, they begin again; after SNAPSHOT_TRIES tries (commits
    keep coming), one reader alone reads, one read transaction being one version, and nothing read
    is kept in the cache. Nested, the snapshot already open is used; inside a write transaction,
    the reads run on the writer as they would; when no reader can be opened (the data folder deleted while
    the server runs), on the shared reader. `if_open`: when the readers are not open yet, the reads run on the
    shared reader, one after the other, and they are opened soon after (READERS_OPEN_AFTER_S) for the next
    ones: for a page that is often the first after a start, which would wait ~20 ms for them (the dashboard)."""
    current = _snapshot.get()
    if current is not None:
        yield current
        return
    if DB.current_transaction.get() is not None:
        snapshot = Snapshot([], None)
        token = _snapshot.set(snapshot)
        try:
            yield snapshot
        finally:
            _snapshot.reset(token)
        return
    if not 1 <= readers <= SNAPSHOT_READERS:
        raise ValueError(f"a snapshot reads on 1 to {SNAPSHOT_READERS} readers, not {readers}")
    if if_open and not DB._snapshot_readers_open():
        _open_snapshot_readers_soon()
        yield Snapshot([], None)   # no snapshot: each read runs (and is cached) as it would without one
        return
    async with _readers_lock():
        try:
            chosen = (await DB._readers_of_snapshots())[:readers]
        except sqlite3.Error as error:
            # No reader can be opened (the data folder deleted or moved while the server runs: the connections
            # already open still read it): no snapshot, the reads run on the shared reader one after the other.
            log.warning("the readers of one snapshot could not be opened (%s): reading on the shared reader", error)
            yield Snapshot([], None)
            return
        version: tuple[str, int] | None = None
        for _ in range(SNAPSHOT_TRIES):
            before = await data_version()
            try:
                await _on_readers(chosen, _begin_read)
            except BaseException:
                await _on_readers(chosen, _end_read)
                raise
            if await data_version() == before:
                version = before
                break
            await _on_readers(chosen, _end_read)
        if version is None:
            chosen = chosen[:1]
            await _on_readers(chosen, _begin_read)
        snapshot = Snapshot(chosen, version)
        token, pinned = _snapshot.set(snapshot), _pinned.set(chosen[0])
        try:
            yield snapshot
        finally:
            _pinned.reset(pinned)
            _snapshot.reset(token)
            await _on_readers(chosen, _end_read)
