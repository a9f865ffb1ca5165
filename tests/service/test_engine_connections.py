"""The engine's long-lived connections: one whose aiosqlite worker thread has died (it cannot hand a
result back to an event loop that closed meanwhile) is replaced, never waited on forever."""

from __future__ import annotations

import asyncio

from aiosqlite.core import _STOP_RUNNING_SENTINEL

from app.config import Config
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
