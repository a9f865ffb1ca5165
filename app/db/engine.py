"""The SQLite engine every table is bound to, and the one way to write.

Piccolo opens a connection per query and its default transaction is DEFERRED,
which gave "database is locked" under concurrent read-then-write transactions
(STACK-NOTES). So, as datasette does, every write goes through one writer:
an in-process asyncio lock (fast path for this process) around a
`BEGIN IMMEDIATE` transaction (serialises other processes through SQLite's
busy timeout). A double-click therefore waits its turn instead of failing.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType

BUSY_TIMEOUT_S = 30


class _ClosingTransaction(SQLiteTransaction):
    """Piccolo leaves the connection open when BEGIN fails; close it."""

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            await self.begin()
        except BaseException:
            await self.connection.close()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self


class CounterfoilEngine(SQLiteEngine):
    """SQLite with the durability settings applied on every connection we open."""

    async def get_connection(self):  # type: ignore[override]
        connection = await super().get_connection()
        await connection.execute("PRAGMA synchronous = FULL")
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        return connection

    def transaction(self, transaction_type=TransactionType.deferred, allow_nested=True):  # type: ignore[override]
        return _ClosingTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )


# Bound to every table at import; the path is set by `configure()` before use.
DB = CounterfoilEngine(path=":memory:", timeout=BUSY_TIMEOUT_S)

_write_lock: asyncio.Lock | None = None
_write_lock_loop: asyncio.AbstractEventLoop | None = None


def _lock() -> asyncio.Lock:
    # One lock per event loop: tests and the CLI run several loops in one process.
    global _write_lock, _write_lock_loop
    loop = asyncio.get_running_loop()
    if _write_lock is None or _write_lock_loop is not loop:
        _write_lock = asyncio.Lock()
        _write_lock_loop = loop
    return _write_lock


def configure(database_path: Path) -> None:
    """Point the engine at the user's database and set the file-level pragmas."""
    DB.path = str(database_path)
    with sqlite3.connect(database_path, timeout=BUSY_TIMEOUT_S) as connection:
        # WAL is a property of the file; it persists once set.
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
    connection.close()


@asynccontextmanager
async def write_transaction() -> AsyncIterator[SQLiteTransaction]:
    """The only door for writes: one writer at a time, BEGIN IMMEDIATE, all or nothing."""
    current = DB.current_transaction.get()
    if current is not None:
        # Already inside the writer (a service calling another service).
        yield current
        return
    async with _lock():
        async with DB.transaction(transaction_type=TransactionType.immediate) as transaction:
            yield transaction


def raw_connection(database_path: Path | None = None) -> sqlite3.Connection:
    """A plain sqlite3 connection for synchronous tools (check, backup, tests)."""
    connection = sqlite3.connect(database_path or DB.path, timeout=BUSY_TIMEOUT_S)
    connection.execute("PRAGMA foreign_keys = 1")
    connection.row_factory = sqlite3.Row
    return connection
