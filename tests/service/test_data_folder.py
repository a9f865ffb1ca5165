"""app.db.datafolder on real files: the watch before each write, errors read by name, reading a WAL
database without writing, the private copy of a read-only start, and leftovers."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3

import pytest

from app.config import Config
from app.db import datafolder, engine
from app.db import logic as db_logic
from app.db.datafolder import DataFolderGone, DataFolderReadOnly, DiskFull
from app.db.lifecycle import data_evidence, inspect_database, open_database
from tests.conftest import run


def _full() -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database or disk is full")
    error.sqlite_errorcode = 13   # type: ignore[attr-defined]
    return error


def test_a_database_replaced_under_the_program_counts_as_gone(config):
    datafolder.before_write()   # the file that was opened: fine
    replacement = config.data_dir / "other.sqlite"
    shutil.copyfile(config.database_path, replacement)
    os.replace(replacement, config.database_path)   # same name, another file (a sync tool's doing)
    with pytest.raises(DataFolderGone):
        datafolder.before_write()
    assert datafolder.condition() == db_logic.GONE
    with pytest.raises(DataFolderGone):
        datafolder.before_write(bookkeeping=True)   # once gone, nothing is taken


def test_a_write_after_the_folder_went_is_refused_before_it_starts(config, owner):
    from app.clients import service

    shutil.rmtree(config.data_dir)
    with pytest.raises(DataFolderGone):
        run(service.create_client({"name": "Lost"}))


def test_errors_are_read_by_name(config):
    full = datafolder.problem_from(_full())
    assert isinstance(full, DiskFull) and f"The disk holding {config.data_dir} (" in full.message
    stick_full = datafolder.problem_from(OSError(errno.ENOSPC, "No space left", "/media/stick/b.counterfoil.part"))
    assert isinstance(stick_full, DiskFull) and "The disk holding /media/stick " in stick_full.message
    elsewhere = datafolder.problem_from(PermissionError(errno.EACCES, "Permission denied", "/etc/ssl/key.pem"))
    assert elsewhere is None
    constraint = sqlite3.IntegrityError("UNIQUE constraint failed")
    constraint.sqlite_errorcode = 2067   # type: ignore[attr-defined]
    assert datafolder.problem_from(constraint) is None
    readonly = sqlite3.OperationalError("attempt to write a readonly database")
    readonly.sqlite_errorcode = 8   # type: ignore[attr-defined]
    assert datafolder.problem_from(readonly) is None   # the folder can be written: not the folder's doing
    assert datafolder.condition() == db_logic.OK


def test_a_failed_write_raises_the_folders_problem_and_commits_nothing(config, owner):
    from app.clients import service

    async def fill() -> None:
        writer = await engine.DB._shared_writer()
        (row,) = await writer.execute_fetchall("PRAGMA page_count")
        await writer.execute(f"PRAGMA max_page_count = {row['page_count']}")
        try:
            await service.create_client({"name": "Big", "notes": "x" * 4900})
        finally:
            await writer.execute("PRAGMA max_page_count = 4294967294")
    with pytest.raises(DiskFull) as refused:
        run(fill())
    assert isinstance(refused.value.__cause__, sqlite3.OperationalError)
    assert run(service.count_clients()).active == 0


def test_reading_a_database_never_writes_the_folder(config, owner, tmp_path):
    run(engine.DB.close_connections(checkpoint=True))
    before = sorted(p.name for p in config.data_dir.iterdir())
    connection = datafolder.connect_reading(config.database_path, writable=False)   # as from read-only media
    assert connection.execute("SELECT COUNT(*) FROM app_user").fetchone()[0] == 1
    with pytest.raises(sqlite3.OperationalError):
        connection.execute("DELETE FROM app_user")
    connection.close()
    assert sorted(p.name for p in config.data_dir.iterdir()) == before


def test_a_write_ahead_log_with_data_is_read_through_not_around(config, owner, tmp_path):
    """`immutable` would skip the -wal file and miss committed changes: with data in it, it is read."""
    from app.clients import service

    copy_dir = tmp_path / "crashed"
    copy_dir.mkdir()
    run(service.create_client({"name": "Only in the log"}))
    for suffix in ("", "-wal", "-shm"):   # the folder as a crash leaves it
        shutil.copyfile(str(config.database_path) + suffix, str(copy_dir / "counterfoil.sqlite") + suffix)
    assert (copy_dir / "counterfoil.sqlite-wal").stat().st_size > 0
    connection = datafolder.connect_reading(copy_dir / "counterfoil.sqlite", writable=False)
    assert [r[0] for r in connection.execute("SELECT name FROM client")] == ["Only in the log"]
    connection.close()
    (copy_dir / "counterfoil.sqlite-shm").unlink()
    os.chmod(copy_dir, 0o500)
    try:
        if datafolder.folder_writable(copy_dir):   # root: chmod stops nobody; the rule is shown below
            return
        with pytest.raises(DataFolderReadOnly, match="write-ahead log"):
            datafolder.connect_reading(copy_dir / "counterfoil.sqlite", writable=False)
    finally:
        os.chmod(copy_dir, 0o700)


def test_a_read_only_start_serves_a_private_copy_that_goes_at_stop(config, owner, monkeypatch):
    from app.auth import service as auth_service
    from app.clients import service
    from app.db.lifecycle import close_database

    run(service.create_client({"name": "Zoë"}))
    monkeypatch.setattr(datafolder, "database_writable", lambda path: False)
    run(open_database(config))
    copy_dir = datafolder.WATCH.copy_dir
    assert copy_dir is not None and engine.DB.path == str(copy_dir / "counterfoil.sqlite")
    assert os.stat(copy_dir).st_mode & 0o077 == 0
    assert run(service.count_clients()).active == 1
    with pytest.raises(DataFolderReadOnly):
        run(service.create_client({"name": "Refused"}))
    assert run(auth_service.create_launch_token(60))   # what signing in writes goes into the copy
    assert datafolder.remove_abandoned_copies() == []   # in use: kept
    run(close_database())
    assert not copy_dir.exists()


def test_abandoned_copies_of_a_killed_read_only_start_are_removed(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    abandoned = tmp_path / (datafolder.COPY_PREFIX + "x1")
    abandoned.mkdir()
    (abandoned / "counterfoil.sqlite").write_bytes(b"SQLite format 3\0")
    (abandoned / datafolder.COPY_LOCK_NAME).write_bytes(b"")
    assert datafolder.remove_abandoned_copies() == [abandoned]
    assert not abandoned.exists()


def test_remove_leftovers_takes_what_was_cut_short_and_nothing_else(tmp_path):
    data = tmp_path / "data"
    cut_short = [data / ".backup-work" / "export-1" / "database.sqlite", data / "attachments" / "logo.png.part",
                 data / "cache" / "pdf" / "abc.part", data / ".counterfoil-write-test-1-ab"]
    kept = [data / "attachments" / "logo.png", data / "counterfoil.sqlite", data / "cache" / "pdf" / "abc.pdf",
            data / ".restore-swap" / "journal.json", data / ".restore-swap" / "database.sqlite.part",
            data / "attachments" / "part", data / "notes.partial"]
    for path in cut_short + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    (data / "cache" / "typst" / ".part-xyz" / "default").mkdir(parents=True)
    removed = datafolder.remove_leftovers(data)
    assert not any(p.exists() for p in cut_short) and not (data / ".backup-work").exists()
    assert not (data / "cache" / "typst" / ".part-xyz").exists()
    assert all(p.exists() for p in kept)
    assert len(removed) == 5


# -- looking before opening -----------------------------------------------------------------------------

def test_evidence_of_data(tmp_path):
    config = Config(data_dir=tmp_path / "data")
    config.data_dir.mkdir()
    assert data_evidence(config) is None
    config.lock_path.write_bytes(b"")   # made by a start that went no further
    assert data_evidence(config) is None
    config.attachments_dir.mkdir()
    assert data_evidence(config) is None   # an empty attachments folder is made at every start
    (config.data_dir / "backup-passphrase").write_text("secret")
    assert data_evidence(config) == "it holds the passphrase of scheduled backups"
    config.lock_path.write_bytes(b'\n{"pid": 1, "port": 5050}')
    (config.data_dir / "templates").mkdir()
    (config.data_dir / "templates" / "invoice.typ").write_text("#let x = 1")
    assert data_evidence(config) == "it holds your document templates"
    (config.data_dir / "counterfoil.sqlite-wal").write_bytes(b"\0" * 32)
    assert data_evidence(config) == "its write-ahead log counterfoil.sqlite-wal holds 32 bytes"


def test_inspect_database_changes_nothing(config, owner):
    run(engine.DB.close_connections(checkpoint=True))
    before = {p.name: p.read_bytes() for p in config.data_dir.iterdir() if p.is_file()}
    inspection = inspect_database(config)
    assert not inspection.fresh and not inspection.needs_migration and inspection.writable
    assert {p.name: p.read_bytes() for p in config.data_dir.iterdir() if p.is_file()} == before
