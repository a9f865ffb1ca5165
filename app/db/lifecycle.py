"""Open the user's database: look at it first, then private folder and file, pragmas, migrations; and
close it at stop.

Before anything in the folder is created or changed, the database is looked at (`inspect_database`):

- empty (0 bytes) or missing in a folder that has held data (attachments, templates, a copy kept
  before a restore, a server's record in the lock file...): not a fresh install, refused;
- `PRAGMA quick_check` fails, or the file is not a database: damaged, refused;
- a migration this program does not know: made by a newer Counterfoil, refused
  (app.db.migrate.schema_against_program, the rule a restore applies to a backup too).

Each refusal is a `DatabaseRefused` naming the file; the entry points add the newest backups to it.
A read-only folder is served from a private copy (app.db.datafolder.make_serving_copy).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass

from app.audit import service as audit_service
from app.config import Config
from app.db import datafolder, engine
from app.db.datafolder import DatabaseDamaged, DatabaseMissing, DatabaseRefused, DatabaseTooNew, DataFolderReadOnly
from app.db.logic import newer_schema_message
from app.db.migrate import MigrationError, apply_migrations, known_migrations, schema_against_program
from app.paths import ensure_private_dir, ensure_private_file

log = logging.getLogger("counterfoil.db")

# The invoice search index is an FTS5 table with the trigram tokenizer, which came with SQLite 3.34.
MIN_SQLITE = (3, 34, 0)
QUICK_CHECK_LINES = 3   # of SQLite's report on a damaged file, in the message


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


def inspect_database(config: Config, *, quick_check: bool = True) -> Inspection:
    """Look at the data folder's database without changing anything; raise a `DatabaseRefused` when it must
    not be served (see the module's docstring)."""
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
    try:
        if quick_check:
            report = [str(row[0]) for row in connection.execute("PRAGMA quick_check").fetchall()]
            if report != ["ok"]:
                raise _damaged(config, "; ".join(report[:QUICK_CHECK_LINES]))
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
    return Inspection(fresh=False, needs_migration=comparison.needs_migration or named != applied,
                      writable=writable)


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


async def open_database(config: Config, *, migrate: bool = True, verify: bool = True) -> Inspection:
    """Look at the data folder's database, then point the engine at it, made private, and bring its schema
    up to date.

    `verify` runs `PRAGMA quick_check` (the start of a server or a command). `migrate=False` leaves
    the schema as it is: for a process that only writes a row while the server holding the folder's
    instance lock runs (the second launch's launch token). That server looked at and migrated the
    database at its start; no other program may change it under it.

    A read-only folder is served from a private copy: reading and signing in work, nothing else is
    written (app.db.datafolder).
    """
    check_sqlite()
    # Every transaction on the writer seals the audit entries it wrote (app.audit.service).
    engine.install_transaction_hooks(audit_service.HOOKS)
    inspection = inspect_database(config, quick_check=verify and migrate)
    if not inspection.writable:
        await _open_copy(config, inspection, migrate=migrate)
        return inspection
    old_umask = os.umask(0o077)
    try:
        prepare_files(config)
        if migrate:
            await apply_migrations()
    finally:
        os.umask(old_umask)
    return inspection


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


async def close_database(*, checkpoint: bool = True) -> None:
    """At stop: fold the write-ahead log into the database file and close the connections (then
    `counterfoil.sqlite` alone holds everything); a read-only start's copy goes. `checkpoint=False` for
    a command that wrote while a server holds the folder (the server folds the log in at its stop)."""
    await engine.DB.close_connections(checkpoint=checkpoint and not datafolder.WATCH.serving_copy)
    datafolder.release_copy()
