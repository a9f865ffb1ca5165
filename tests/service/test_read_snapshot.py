"""Reads of one snapshot on several connections (app.db.engine.one_snapshot): whatever commits come in
between, every read inside one snapshot reads the same version of the database, the readers of
`Snapshot.together` run at the same time, and what they read is cached under that version only.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

import pytest

from app.clients import service as clients_service
from app.clients.tables import Client
from app.config import Config
from app.db import engine
from app.db.engine import cached, data_version, one_snapshot, write_transaction
from tests.conftest import run, sealed_writes


@pytest.fixture
def client_id(config: Config) -> int:
    return run(clients_service.create_client({"name": "Snapshot Client", "currency": "CAD"})).id


def notes_of(client_id: int):  # type: ignore[no-untyped-def]
    async def read() -> str:
        (row,) = await Client.raw("SELECT notes FROM client WHERE id = {}", client_id)
        return str(row["notes"])
    return read


def write_notes_aside(config: Config, client_id: int, notes: str) -> None:
    """A commit by another connection (as another program's, or a write of ours on the writer)."""
    connection = sqlite3.connect(config.database_path)
    try:
        with sealed_writes(connection):
            connection.execute("UPDATE client SET notes = ? WHERE id = ?", (notes, client_id))
        connection.commit()
    finally:
        connection.close()


def test_every_read_of_a_snapshot_reads_its_version_while_commits_come_in(config, client_id):
    read = notes_of(client_id)

    async def scenario() -> tuple[list[str], str]:
        async with one_snapshot() as snapshot:
            first = await read()
            await clients_service.update_client(client_id, {"notes": "after"}, partial=True)
            together = await snapshot.together(read, read, read)
            assert snapshot.version is not None
            return [first, *together, await read()], await read()

    inside, _ = run(scenario())
    assert inside == [""] * 5
    assert run(read()) == "after"


def test_the_readers_of_together_read_at_the_same_time(config, client_id):
    """Each waits for the others to have started: one after the other, they would never all start."""
    started: list[int] = []

    async def reader(n: int) -> str:
        started.append(n)
        for _ in range(200):
            if len(started) == 3:
                break
            await asyncio.sleep(0.005)
        assert len(started) == 3
        return await notes_of(client_id)()

    async def scenario() -> list[str]:
        async with one_snapshot() as snapshot:
            return await snapshot.together(*(lambda n=n: reader(n) for n in range(3)))

    assert run(scenario()) == ["", "", ""]


def test_a_commit_while_the_readers_begin_begins_them_again(config, client_id, monkeypatch):
    """A commit between one reader's first read and another's: they would read two versions. The data
    version tells, and all begin again, on the new one."""
    begun: list[int] = []
    begin = engine._begin_read

    def begin_with_a_commit_between(connection: sqlite3.Connection) -> None:
        begun.append(1)
        if len(begun) == 2:
            write_notes_aside(config, client_id, "came in")
        begin(connection)

    monkeypatch.setattr(engine, "_begin_read", begin_with_a_commit_between)
    read = notes_of(client_id)

    async def scenario() -> tuple[list[str], Any, Any]:
        async with one_snapshot() as snapshot:
            return await snapshot.together(read, read, read), snapshot.version, await data_version()

    together, version, current = run(scenario())
    assert together == ["came in"] * 3
    assert version == current
    assert len(begun) == 2 * engine.SNAPSHOT_READERS


def test_commits_at_every_try_leave_one_reader_and_nothing_cached(config, client_id, monkeypatch):
    """Commits keep coming while the readers begin: one reader alone reads (one read transaction is one
    version), together's reads run on it one after the other, and nothing read is kept."""
    begin = engine._begin_read
    commits = iter(range(1000))
    one_at_a_time = threading.Lock()   # the readers begin at the same time, each in its own thread

    def begin_after_a_commit(connection: sqlite3.Connection) -> None:
        with one_at_a_time:
            write_notes_aside(config, client_id, f"commit {next(commits)}")
        begin(connection)

    monkeypatch.setattr(engine, "_begin_read", begin_after_a_commit)
    read = notes_of(client_id)
    computed: list[int] = []

    async def counted() -> str:
        computed.append(1)
        return await read()

    async def scenario() -> tuple[list[str], Any, int]:
        async with one_snapshot() as snapshot:
            together = await snapshot.together(read, read)
            first = await cached(("test", "snapshot"), counted)
            again = await cached(("test", "snapshot"), counted)
            assert first == again == together[0]
            return together, snapshot.version, len(snapshot.readers)

    together, version, readers = run(scenario())
    assert version is None and readers == 1
    assert together[0] == together[1]
    assert len(computed) == 2


def test_inside_a_write_transaction_the_reads_see_its_pending_writes(config, client_id):
    read = notes_of(client_id)

    async def scenario() -> list[str]:
        async with write_transaction():
            await Client.update({Client.notes: "pending"}).where(Client.id == client_id)
            async with one_snapshot() as snapshot:
                assert snapshot.version is None
                return await snapshot.together(read, read)

    assert run(scenario()) == ["pending", "pending"]


def test_an_error_in_one_read_lets_the_others_finish_and_ends_every_transaction(config, client_id):
    read = notes_of(client_id)
    finished: list[str] = []

    async def slow() -> str:
        await asyncio.sleep(0.05)
        finished.append(await read())
        return finished[-1]

    async def failing() -> str:
        raise ValueError("a read that fails")

    async def scenario() -> None:
        async with one_snapshot() as snapshot:
            await snapshot.together(failing, slow)

    with pytest.raises(ValueError, match="a read that fails"):
        run(scenario())
    assert finished == [""]
    write_notes_aside(config, client_id, "later")

    async def again() -> list[str]:
        async with one_snapshot() as snapshot:
            return await snapshot.together(read, read, read)

    assert run(again()) == ["later"] * 3   # no reader kept its old read transaction


def test_a_snapshot_caches_for_its_version_and_never_over_a_later_one(config, client_id):
    read = notes_of(client_id)

    async def scenario() -> tuple[str, str, str]:
        async with one_snapshot():
            old = await cached(("test", "notes"), read)
            await clients_service.update_client(client_id, {"notes": "newer"}, partial=True)
            # Outside the snapshot the cache moves to the later version...
            newer = await asyncio.create_task(_outside(cached(("test", "notes"), read)))
            # ... and the snapshot's own reads are not kept over it.
            assert engine._cache_version is not None
            path, later = engine._cache_version
            engine._remember((path, later - 1), ("test", "notes"), "stale")
            return old, newer, await cached(("test", "notes"), read)

    old, newer, inside = run(scenario())
    assert (old, newer, inside) == ("", "newer", "")
    assert run(cached(("test", "notes"), read)) == "newer"


async def _outside(awaitable: Any) -> Any:
    """Run outside the snapshot of the task that created this one (its context is copied: reset it)."""
    engine._snapshot.set(None)
    engine._pinned.set(None)
    return await awaitable


def test_a_snapshot_on_one_reader_reads_one_after_the_other_on_it(config, client_id):
    read = notes_of(client_id)

    async def scenario() -> tuple[list[str], int]:
        async with one_snapshot(1) as snapshot:
            first = await read()
            await clients_service.update_client(client_id, {"notes": "after"}, partial=True)
            return [first, *await snapshot.together(read, read)], len(snapshot.readers)

    assert run(scenario()) == (["", "", ""], 1)
    with pytest.raises(ValueError, match="1 to 3 readers"):
        run(_open(one_snapshot(engine.SNAPSHOT_READERS + 1)))


async def _open(snapshot: Any) -> None:
    async with snapshot:
        pass


def test_a_snapshot_asked_if_open_reads_on_the_shared_reader_until_its_readers_are_open(config, client_id,
                                                                                       monkeypatch):
    """The first dashboard after a start does not wait for the snapshot's readers to open (each reads the
    schema): its reads run on the shared reader, the readers are opened soon after, and the next one reads
    on them."""
    monkeypatch.setattr(engine, "READERS_OPEN_AFTER_S", 0.0)
    async def twice() -> list[tuple[int, str]]:
        await engine.DB.close_connections()
        seen = []
        for _ in range(2):
            async with one_snapshot(2, if_open=True) as snapshot:
                seen.append((len(snapshot.readers), await notes_of(client_id)()))
            while engine._opening_readers:   # the readers opening meanwhile
                await asyncio.sleep(0.01)
        return seen

    assert run(twice()) == [(0, ""), (2, "")]
    assert engine.DB._snapshot_readers_open()
    run(engine.DB.close_connections())
