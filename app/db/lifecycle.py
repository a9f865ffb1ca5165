"""Open the user's database: look at it first, then private folder and file, pragmas, migrations; and
close it at stop.

Before anything in the folder is created or changed, the database is looked at (`inspect_database`):

- empty (0 bytes) or missing in a folder that has held data (attachments, templates, a copy kept
  before a restore, a server's record in the lock file...): not a fresh install, refused;
- `PRAGMA quick_check` fails, or the file is not a database: damaged, refused. A server's start runs the
  check just after it starts serving instead when the file is exactly as the last clean stop left it and a
  check passed on it within a week (app.db.logic.quick_check_can_wait; the stop records that in
  CHECK_STAMP_NAME); damage found then stops every change (app.db.datafolder.mark_damaged);
- a migration this program does not know: made by a newer Counterfoil, refused
  (app.db.migrate.schema_against_program, the rule a restore applies to a backup too).

Each refusal is a `DatabaseRefused` naming the file; the entry points add the newest backups to it.
A read-only folder is served from a private copy (app.db.datafolder.make_serving_copy).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.audit import service as audit_service
from app.config import Config
from app.db import datafolder, engine
from app.db import logic as db_logic
from app.db.datafolder import DatabaseDamaged, DatabaseMissing, DatabaseRefused, DatabaseTooNew, DataFolderReadOnly
from app.db.logic import newer_schema_message, quick_check_can_wait
from app.db.migrate import MigrationError, apply_migrations, known_migrations, schema_against_program
from app.paths import ensure_private_dir, ensure_private_file

log = logging.getLogger("counterfoil.db")

# The invoice search index is an FTS5 table with the trigram tokenizer, which came with SQLite 3.34.
MIN_SQLITE = (3, 34, 0)
QUICK_CHECK_LINES = 3   # of SQLite's report on a damaged file, in the message
CHECK_STAMP_NAME = "quick-check.json"   # in the data folder: the file as the last clean stop left it


class SQLiteTooOld(RuntimeError):
    """The SQLite library Python was built with cannot hold Counterfoil's database."""


def check_sqlite(version: tuple[int, int, int] = sqlite3.sqlite_version_info) -> None:
    if version < MIN_SQLITE:
        raise SQLiteTooOld(
            f"this Python uses SQLite {'.'.join(map(str, version))}, and Counterfoil needs SQLite "
            f"{'.'.join(map(str, MIN_SQLITE))} or newer (its search index). Install a newer Python "
            "(python.org builds include a recent SQLite) or use the single-file Counterfoil program.")


# -- looking before opening -------------------------------------------------------------

@dataclass(frozen=True)
class Inspection:
    fresh: bool              # no database yet: a first start
    needs_migration: bool
    writable: bool           # the folder and the file can be written
    check_deferred: bool = False   # the quick check runs just after the start (quick_check_can_wait)
    last_checked_at: datetime | None = None   # then: when a check last passed on this file (the stamp's)


def data_evidence(config: Config) -> str | None:
    """What in the data folder shows that it has held Counterfoil's data, or None for a new folder."""
    data_dir = config.data_dir
    wal = config.database_path.with_name(config.database_path.name + "-wal")
    if _size(wal):
        return f"its write-ahead log {wal.name} holds {_size(wal)} bytes"
    if _holds_files(config.attachments_dir):
        return "its attachments folder holds files"
    if _holds_files(data_dir / "templates"):
        return "it holds your document templates"
    kept = sorted(data_dir.glob("pre-restore-*.sqlite"))
    if kept:
        return f"it holds {kept[-1].name}, kept before a restore"
    if (data_dir / "backup-passphrase").is_file():
        return "it holds the passphrase of scheduled backups"
    if _size(config.lock_path) > 1:   # the launcher writes its pid and port after the locked byte
        return f"a Counterfoil server has run on it ({config.lock_path.name} holds its record)"
    return None


def _size(path: os.PathLike[str]) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _holds_files(folder: os.PathLike[str]) -> bool:
    try:
        return any(entry.is_file() or entry.is_dir() for entry in os.scandir(folder))
    except OSError:
        return False


def _applied_migrations(connection: sqlite3.Connection) -> dict[str, list[str]]:
    if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migration'").fetchone() is None:
        return {}
    applied: dict[str, list[str]] = {}
    for app_name, name in connection.execute("SELECT app_name, name FROM migration"):
        applied.setdefault(app_name, []).append(name)
    return {app_name: sorted(ids) for app_name, ids in applied.items()}


# -- the quick check's stamp ------------------------------------------------------------

@dataclass
class _Checked:
    """The file a quick check passed on in this process, and when (what a clean stop records)."""

    identity: tuple[int, int] | None = None
    checked_at: datetime | None = None


_CHECKED = _Checked()


def file_state(database: Path) -> dict[str, int] | None:
    try:
        info = os.stat(database)
    except OSError:
        return None
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "device": info.st_dev, "inode": info.st_ino}


def _read_stamp(config: Config) -> dict[str, Any] | None:
    try:
        stamp = json.loads((config.data_dir / CHECK_STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def _check_passed(database: Path, checked_at: datetime) -> None:
    state = file_state(database)
    _CHECKED.identity = (state["device"], state["inode"]) if state else None
    _CHECKED.checked_at = checked_at


def _write_stamp(database: Path) -> None:
    """At a clean stop: the file as it is left, and when a check last passed on it; none when no check
    passed on this file in this process (a restore put another file there, or the check found damage)."""
    stamp_path = database.parent / CHECK_STAMP_NAME
    state = file_state(database)
    checked = _CHECKED.checked_at
    if (state is None or checked is None or _CHECKED.identity != (state["device"], state["inode"])
            or datafolder.WATCH.condition != db_logic.OK):
        stamp_path.unlink(missing_ok=True)
        return
    part = stamp_path.with_name(stamp_path.name + ".part")
    part.write_text(json.dumps({**state, "checked_at": checked.isoformat()}), encoding="utf-8")
    ensure_private_file(part)
    os.replace(part, stamp_path)


def _quick_check(connection: sqlite3.Connection) -> list[str]:
    return [str(row[0]) for row in connection.execute("PRAGMA quick_check").fetchall()]


@dataclass
class _AfterStart:
    """The deferred quick check under way: a stop interrupts it (its reader would keep the stop from folding
    the write-ahead log into the file)."""

    pending: Path | None = None   # deferred by open_database, started by the server once it is up
    thread: threading.Thread | None = None
    connection: sqlite3.Connection | None = None
    stopping: bool = False


_AFTER_START = _AfterStart()


def _quick_check_after_start(database: Path) -> None:
    """The deferred quick check, in its own thread and connection (SQLite releases the GIL while it reads)."""
    try:
        connection = datafolder.connect_reading(database, writable=True)
        _AFTER_START.connection = connection
        try:
            report = _quick_check(connection)
        finally:
            _AFTER_START.connection = None
            connection.close()
    except sqlite3.DatabaseError as error:
        report = [str(error)]
    if _AFTER_START.stopping:
        return   # interrupted by the stop: the next start checks again
    if report == ["ok"]:
        _check_passed(database, datetime.now(UTC))
        log.info("quick check of %s after the start: ok", database)
    else:
        datafolder.mark_damaged("; ".join(report[:QUICK_CHECK_LINES]))


def inspect_database(config: Config, *, quick_check: bool = True, check_may_wait: bool = False) -> Inspection:
    """Look at the data folder's database without changing anything; raise a `DatabaseRefused` when it must
    not be served (see the module's docstring). `check_may_wait` (a server's start): the quick check may run
    just after the start when quick_check_can_wait() says so (then `check_deferred`)."""
    database = config.database_path
    writable = not config.data_dir.exists() or datafolder.database_writable(database)
    if _size(database) == 0:
        evidence = data_evidence(config)
        if evidence:
            state = "empty (0 bytes)" if database.exists() else "missing"
            raise DatabaseMissing(
                f"{database} is {state}, but this folder has held Counterfoil data ({evidence}): it is not "
                "treated as a new start, and nothing was changed. To start afresh on purpose, use a new data "
                "folder (--data-dir).", data_dir=config.data_dir)
        return Inspection(fresh=True, needs_migration=True, writable=writable)
    try:
        connection = datafolder.connect_reading(database, writable=writable)
    except sqlite3.DatabaseError as error:
        raise _damaged(config, str(error)) from None
    # Never for a read-only folder: its copy is served, and no stop records a stamp for it.
    stamp = _read_stamp(config) if quick_check and check_may_wait and writable else None
    deferred = stamp is not None and quick_check_can_wait(
        stamp, file_state(database), wal_has_data=datafolder.wal_has_data(database), now=datetime.now(UTC))
    try:
        if quick_check and not deferred:
            _check_or_refuse(config, connection)
        applied = _applied_migrations(connection)
    except sqlite3.DatabaseError as error:
        raise _damaged(config, str(error)) from None
    finally:
        connection.close()
    try:
        comparison, named = schema_against_program(applied)
    except MigrationError as error:
        raise DatabaseRefused(f"{database} cannot be opened: {error}.", data_dir=config.data_dir) from None
    if comparison.newer:
        raise DatabaseTooNew(newer_schema_message(str(database), named, known_migrations()), data_dir=config.data_dir)
    needs_migration = comparison.needs_migration or named != applied
    if deferred and needs_migration:   # a migration changes the file: it must be sound first
        connection = datafolder.connect_reading(database, writable=True)
        try:
            _check_or_refuse(config, connection)
        except sqlite3.DatabaseError as error:
            raise _damaged(config, str(error)) from None
        finally:
            connection.close()
        deferred = False
    return Inspection(fresh=False, needs_migration=needs_migration, writable=writable, check_deferred=deferred,
                      last_checked_at=datetime.fromisoformat(str(stamp["checked_at"])) if deferred and stamp else None)


def _check_or_refuse(config: Config, connection: sqlite3.Connection) -> None:
    """The quick check before serving: damage refuses the database, a pass is what the next stop records."""
    report = _quick_check(connection)
    if report != ["ok"]:
        raise _damaged(config, "; ".join(report[:QUICK_CHECK_LINES]))
    _check_passed(config.database_path, datetime.now(UTC))


def _damaged(config: Config, report: str) -> DatabaseDamaged:
    log.error("the database %s is damaged: %s", config.database_path, report)
    return DatabaseDamaged(f"{config.database_path} is damaged (SQLite says: {report}). Counterfoil will not "
                           "open it, and nothing was changed.", data_dir=config.data_dir)


# -- opening ---------------------------------------------------------------------------

def prepare_files(config: Config) -> None:
    ensure_private_dir(config.data_dir)
    ensure_private_dir(config.attachments_dir)
    ensure_private_file(config.database_path)
    engine.configure(config.database_path)
    datafolder.watch(config.database_path)
    # WAL side files inherit the umask; keep them private too.
    for suffix in ("-wal", "-shm"):
        side = config.database_path.with_name(config.database_path.name + suffix)
        if side.exists():
            os.chmod(side, 0o600)


async def open_database(config: Config, *, migrate: bool = True, verify: bool = True,
                        check_may_wait: bool = False) -> Inspection:
    """Look at the data folder's database, then point the engine at it, made private, and bring its schema
    up to date.

    `verify` runs `PRAGMA quick_check` (the start of a server or a command). `migrate=False` leaves
    the schema as it is: for a process that only writes a row while the server holding the folder's
    instance lock runs (the second launch's launch token). That server looked at and migrated the
    database at its start; no other program may change it under it.

    A read-only folder is served from a private copy: reading and signing in work, nothing else is
    written (app.db.datafolder). `check_may_wait`: a server's start, see inspect_database.
    """
    check_sqlite()
    # Every transaction on the writer seals the audit entries it wrote (app.audit.service).
    engine.install_transaction_hooks(audit_service.HOOKS)
    inspection = inspect_database(config, quick_check=verify and migrate, check_may_wait=check_may_wait)
    if not inspection.writable:
        await _open_copy(config, inspection, migrate=migrate)
        return inspection
    old_umask = os.umask(0o077)
    try:
        prepare_files(config)
        if inspection.fresh:
            _check_passed(config.database_path, datetime.now(UTC))   # a new file, nothing to check
        if migrate and inspection.needs_migration:   # (the look before found every migration applied)
            await apply_migrations()
    finally:
        os.umask(old_umask)
    if inspection.check_deferred and inspection.last_checked_at is not None:
        # Until the check after the start passes, the last one stands (what the next stop records).
        _check_passed(config.database_path, inspection.last_checked_at)
        _AFTER_START.pending = config.database_path
    return inspection


def start_quick_check_after_start() -> None:
    """The server is up (its start's own writes done): run the quick check open_database deferred, if any."""
    database, _AFTER_START.pending = _AFTER_START.pending, None
    if database is None:
        return
    _AFTER_START.stopping = False
    _AFTER_START.thread = threading.Thread(target=_quick_check_after_start, args=(database,), daemon=True,
                                           name="quick-check")
    _AFTER_START.thread.start()


async def _open_copy(config: Config, inspection: Inspection, *, migrate: bool) -> None:
    from app.db.logic import read_only_message

    if inspection.fresh or not migrate:
        # Nothing to show, or a second launch that would write its sign-in token into the server's database.
        raise DataFolderReadOnly(read_only_message(str(config.data_dir)))
    copy, lock = datafolder.make_serving_copy(config.database_path)
    engine.configure(copy)
    datafolder.watch(config.database_path, copy_dir=copy.parent, copy_lock=lock)
    if inspection.needs_migration:
        await apply_migrations()   # the copy's schema only; the user's file stays as it is
    log.warning("the data folder %s is read-only: serving its data without saving changes", config.data_dir)


def _stop_quick_check_after_start() -> None:
    _AFTER_START.pending = None
    thread = _AFTER_START.thread
    if thread is None:
        return
    _AFTER_START.stopping = True
    connection = _AFTER_START.connection
    if connection is not None:
        connection.interrupt()
    thread.join(timeout=10)
    _AFTER_START.thread = None


async def open_reader() -> None:
    """Open the long-lived reader ahead of the first read (the server's start: opening it reads the schema)."""
    await engine.DB._shared_reader()


async def close_database(*, checkpoint: bool = True) -> None:
    """At stop: fold the write-ahead log into the database file and close the connections (then
    `counterfoil.sqlite` alone holds everything); a read-only start's copy goes. `checkpoint=False` for
    a command that wrote while a server holds the folder (the server folds the log in at its stop)."""
    _stop_quick_check_after_start()
    folded = checkpoint and not datafolder.WATCH.serving_copy
    await engine.DB.close_connections(checkpoint=folded)
    database = datafolder.WATCH.database
    if folded and database is not None:
        try:
            _write_stamp(database)
        except OSError as error:   # only the next start's quick check waits for it
            log.warning("could not record the quick check's stamp: %s", error)
    datafolder.release_copy()
