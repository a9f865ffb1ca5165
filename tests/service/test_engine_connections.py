"""The engine's long-lived connections: one whose aiosqlite worker thread has died (it cannot hand a
result back to an event loop that closed meanwhile) is replaced, never waited on forever; first uses at the
same time open one; a file already in WAL mode is not opened to set it."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiosqlite.core import _STOP_RUNNING_SENTINEL

from app.config import Config
from app.db import engine
from app.db.engine import DB
from tests.conftest import run


def test_a_connection_whose_worker_died_is_replaced_without_waiting(config: Config):
    async def kill_the_reader() -> object:
        reader = await DB._shared_reader()
        reader._tx.put_nowait((None, lambda: _STOP_RUNNING_SENTINEL))   # its thread ends, unclosed
        await asyncio.to_thread(reader._thread.join, 5)
        assert not reader._thread.is_alive()
        return reader

    dead = run(kill_the_reader())

    async def read_again() -> tuple[object, int]:
        reader = await asyncio.wait_for(DB._shared_reader(), timeout=10)
        async with reader.execute("SELECT 41 + 1 AS answer") as cursor:
            return reader, (await cursor.fetchone())["answer"]

    replacement, answer = run(read_again())
    assert replacement is not dead and answer == 42
    run(asyncio.wait_for(DB.close_connections(), timeout=10))   # closing skips nothing alive, waits on nothing dead


def test_first_uses_at_the_same_time_open_one_reader(config: Config, monkeypatch: pytest.MonkeyPatch):
    """The start's first requests ask for the reader together: one connection is opened (each reads the whole
    schema), and every one of them gets it."""
    async def close_and_ask_together() -> list[object]:
        await DB.close_connections()
        opened: list[bool] = []
        real = DB._open_daemon_connection

        async def counted(*, query_only: bool) -> Any:
            opened.append(query_only)
            return await real(query_only=query_only)
        monkeypatch.setattr(DB, "_open_daemon_connection", counted)
        readers = await asyncio.gather(*(DB._shared_reader() for _ in range(5)))
        assert opened == [True]
        return list(readers)

    readers = run(close_and_ask_together())
    assert all(reader is readers[0] for reader in readers)


def test_a_database_in_wal_mode_is_not_opened_again_to_set_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """WAL is a property of the file, read from its header: a file already in WAL mode costs the start no
    connection (which would read the whole schema); any other file is set to WAL."""
    database = tmp_path / "counterfoil.sqlite"
    database.touch()   # a new start's empty file
    assert not engine.in_wal_mode(database)
    with monkeypatch.context() as patched:
        patched.setattr(engine, "DB", SimpleNamespace(path=None))
        engine.configure(database)
        assert engine.in_wal_mode(database)
        with sqlite3.connect(database) as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        connection.close()

        def no_connection(*args: Any, **kwargs: Any) -> None:
            raise AssertionError("a connection was opened")
        patched.setattr(engine.sqlite3, "connect", no_connection)
        engine.configure(database)
    assert not engine.in_wal_mode(tmp_path / "missing.sqlite")
    (tmp_path / "other").write_bytes(b"not a database at all")
    assert not engine.in_wal_mode(tmp_path / "other")


def test_a_statement_asked_for_after_the_connections_opened_is_run_on_them(config: Config,
                                                                           monkeypatch: pytest.MonkeyPatch):
    """A start opens the database before every domain's module is imported: what a domain asks each connection
    to hold (app.documents: the search index's vocabulary) reaches the connections already open, the query_only
    ones too, and these stay query_only."""
    monkeypatch.setattr(engine, "_ON_CONNECT", list(engine._ON_CONNECT))

    async def open_then_ask() -> list[Any]:
        connections = [await DB._shared_reader(), await DB._shared_writer(), *await DB._readers_of_snapshots()]
        engine.on_connect("CREATE TEMP VIEW IF NOT EXISTS counterfoil_test_answer AS SELECT 42 AS answer")
        asked = [await DB._shared_reader(), await DB._shared_writer(), *await DB._readers_of_snapshots()]
        assert asked == connections   # the same connections, not new ones
        answers = [(await c.execute_fetchall("SELECT answer FROM temp.counterfoil_test_answer"))[0]["answer"]
                   for c in asked]
        query_only = [(await c.execute_fetchall("PRAGMA query_only"))[0]["query_only"] for c in asked]
        return [answers, query_only]

    answers, query_only = run(open_then_ask())
    assert answers == [42] * len(answers)
    assert query_only == [1, 0] + [1] * (len(query_only) - 2)
    run(DB.close_connections())
