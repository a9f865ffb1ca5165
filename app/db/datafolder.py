"""The data folder while the program runs: what goes wrong with it has a name and a message.

- Before every write (`engine.write_transaction`), the database file is looked at: when it is no
  longer the file that was opened (the folder was deleted or moved), the write is refused with
  `DataFolderGone`, and so is every later one. SQLite itself would go on writing into the deleted
  file, whose content disappears when the program quits.
- A write that fails because the disk is full or the folder cannot be written is raised again as
  `DiskFull` or `DataFolderReadOnly` (`problem_from`), whose message says what happened and where.
- A folder that is read-only at start is served from a private copy of its database
  (`make_serving_copy`): signing in works (it writes only bookkeeping: sessions, sign-in attempts,
  launch tokens, into the copy), every other write is refused, and the copy goes at stop.
- What interrupted work left behind (`*.part`, `.backup-work/`) is removed at start (`remove_leftovers`).

The conditions are the program's, one data folder per process (`WATCH`); `logic` holds the rules.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.db import logic
from app.instance import InstanceLock, running_port

log = logging.getLogger("counterfoil.datafolder")

WORK_DIR_NAME = ".backup-work"        # backups' private work folder inside the data folder
RESTORE_SWAP_DIR_NAME = ".restore-swap"   # a restore's journal: only its own recovery touches it
PARTIAL_SUFFIX = ".part"              # a file being written, renamed into place when complete
PROBE_PREFIX = ".counterfoil-write-test-"
COPY_PREFIX = "counterfoil-read-only-"
COPY_LOCK_NAME = "in-use.lock"


# -- the named failures -------------------------------------------------------------

class DataFolderProblem(RuntimeError):
    """Something is wrong with the data folder itself; `message` says what and where, for the user."""

    status = 503
    code = "data_folder"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DataFolderGone(DataFolderProblem):
    code = "data_folder_gone"


class DataFolderReadOnly(DataFolderProblem):
    code = "data_folder_read_only"


class DiskFull(DataFolderProblem):
    status = 507
    code = "disk_full"


class DatabaseRefused(DataFolderProblem):
    """At start: the database cannot be served as it is (nothing was changed). `data_dir` lets the entry
    points offer the newest backups (app.backup.service.recovery_advice) when `backups_help`."""

    code = "database_refused"
    backups_help = True

    def __init__(self, message: str, *, data_dir: Path):
        super().__init__(message)
        self.data_dir = data_dir


class DatabaseDamaged(DatabaseRefused):
    code = "database_damaged"


class DatabaseMissing(DatabaseRefused):
    """Empty or absent although the folder has held data: not a fresh install."""

    code = "database_missing"


class DatabaseTooNew(DatabaseRefused):
    code = "database_too_new"
    backups_help = False


# -- what the program watches ---------------------------------------------------------

@dataclass
class Watch:
    database: Path | None = None               # the user's database, where it was opened
    identity: tuple[int, int] | None = None    # its (device, inode) then
    condition: str = logic.OK                  # logic.OK, READ_ONLY, GONE or DAMAGED; only ever gets worse
    damage: str = ""                           # SQLite's report when DAMAGED
    copy_dir: Path | None = None               # a read-only start: the private copy the engine serves
    copy_lock: InstanceLock | None = None

    @property
    def data_dir(self) -> Path | None:
        return self.database.parent if self.database is not None else None

    @property
    def serving_copy(self) -> bool:
        return self.copy_dir is not None


WATCH = Watch()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def watch(database: Path, *, copy_dir: Path | None = None, copy_lock: InstanceLock | None = None) -> None:
    """From now on writes go to `database` (or, with `copy_dir`, the folder is read-only and a copy is served)."""
    release_copy()
    WATCH.database = database
    WATCH.identity = _identity(database)
    WATCH.condition = logic.READ_ONLY if copy_dir is not None else logic.OK
    WATCH.damage = ""
    WATCH.copy_dir = copy_dir
    WATCH.copy_lock = copy_lock


def forget() -> None:
    """Stop watching (the program stops; the copy of a read-only start goes)."""
    release_copy()
    WATCH.database = WATCH.identity = None
    WATCH.condition = logic.OK
    WATCH.damage = ""


def _mark_gone() -> DataFolderGone:
    if WATCH.condition != logic.GONE:
        log.error("the data folder %s is gone (deleted or moved): no more writes are taken", WATCH.data_dir)
    WATCH.condition = logic.GONE
    return DataFolderGone(logic.gone_message(str(WATCH.data_dir)))


class DatabaseDamagedWhileServing(DataFolderProblem):
    code = "database_damaged"


def mark_damaged(report: str) -> None:
    """The quick check run just after the start found damage: from now on every change is refused."""
    if WATCH.condition != logic.DAMAGED:
        log.error("the database %s is damaged (%s): no more writes are taken", WATCH.database, report)
    WATCH.condition = logic.DAMAGED
    WATCH.damage = report


def _damaged() -> DatabaseDamagedWhileServing:
    return DatabaseDamagedWhileServing(logic.damaged_message(str(WATCH.database), WATCH.damage))


def _mark_read_only() -> DataFolderReadOnly:
    if WATCH.condition == logic.OK:
        log.error("the data folder %s has become read-only: writes fail", WATCH.data_dir)
        WATCH.condition = logic.READ_ONLY
    return DataFolderReadOnly(logic.read_only_message(str(WATCH.data_dir)))


def still_there() -> bool:
    """The watched database is still the file that was opened, at the same place."""
    return WATCH.database is None or _identity(WATCH.database) == WATCH.identity


def condition() -> str:
    """The folder's condition now (a folder deleted since the last write is seen here too)."""
    if WATCH.database is not None and WATCH.condition not in (logic.GONE, logic.DAMAGED) and not still_there():
        _mark_gone()
    return WATCH.condition


def before_write(*, bookkeeping: bool = False) -> None:
    """Refuse a write the data folder cannot take. `bookkeeping` (sessions, sign-in attempts, launch tokens)
    may go into the copy that a read-only start serves; nothing else may."""
    if WATCH.database is None:
        return
    if WATCH.condition == logic.GONE:
        raise _mark_gone()
    if WATCH.condition == logic.DAMAGED:
        raise _damaged()
    if not still_there():
        raise _mark_gone()
    if WATCH.condition == logic.READ_ONLY and not (bookkeeping and WATCH.serving_copy):
        raise DataFolderReadOnly(logic.read_only_message(str(WATCH.data_dir)))


def problem_from(error: BaseException) -> DataFolderProblem | None:
    """The data folder's failure behind `error` (a SQLite error or an OSError), or None when it is not one."""
    if isinstance(error, DataFolderProblem):
        return error
    data_dir = WATCH.data_dir
    if isinstance(error, sqlite3.Error):
        kind = logic.failure_kind(sqlite_code=getattr(error, "sqlite_errorcode", None))
        where = data_dir
    elif isinstance(error, OSError):
        kind = logic.failure_kind(os_errno=error.errno)
        path = Path(os.fsdecode(error.filename)) if error.filename else None
        if kind != logic.DISK_FULL and (data_dir is None or (path is not None and not _inside(path, data_dir))):
            return None   # a file elsewhere (a USB stick, a certificate): not the data folder's doing
        where = (path if path.is_dir() else path.parent) if path is not None else data_dir
    else:
        return None
    if kind is None:
        return None
    if kind == logic.DISK_FULL:
        return DiskFull(logic.disk_full_message(str(where or "the data folder"), free_space(where)))
    if data_dir is None:
        return None
    if not still_there():
        return _mark_gone()
    if kind == logic.WRITE_REFUSED and not folder_writable(data_dir):
        return _mark_read_only()
    return None


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True


def free_space(path: Path | None) -> int | None:
    """Free bytes on the disk holding `path` (its nearest existing parent), None when that cannot be known."""
    if path is None:
        return None
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def folder_writable(folder: Path) -> bool:
    """Can files be created in `folder`? Tried, not guessed: permissions say nothing to root or on a
    read-only mount. A full disk counts as writable (that is another failure, with its own message)."""
    probe = folder / f"{PROBE_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        return logic.failure_kind(os_errno=error.errno) != logic.WRITE_REFUSED
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError:
        pass
    return True


def database_writable(database: Path) -> bool:
    """The database and its folder (for the -wal and -shm files beside it) can be written."""
    if not folder_writable(database.parent):
        return False
    try:
        fd = os.open(database, os.O_WRONLY)
    except FileNotFoundError:
        return True
    except OSError as error:
        return logic.failure_kind(os_errno=error.errno) != logic.WRITE_REFUSED
    os.close(fd)
    return True


def wal_has_data(database: Path) -> bool:
    try:
        return os.path.getsize(str(database) + "-wal") > 0
    except OSError:
        return False


def connect_reading(database: Path, *, writable: bool | None = None) -> sqlite3.Connection:
    """A connection that only reads `database` (query_only), also from a read-only folder.

    SQLite cannot open a WAL database in a folder it cannot write (it needs the -shm file beside it)
    unless told the file is immutable; that is exact only when no write-ahead log holds data, which
    a clean stop ensures. With a log holding data, it is read through the -shm file if there is one,
    or refused (reading without the log would miss committed changes)."""
    from app.db.engine import BUSY_TIMEOUT_S

    if not database.is_file():
        raise sqlite3.OperationalError(f"unable to open database file {database}")
    if writable is None:
        writable = folder_writable(database.parent)
    if writable:
        connection = sqlite3.connect(database, timeout=BUSY_TIMEOUT_S)
    else:
        uri = database.resolve().as_uri()
        try:
            connection = sqlite3.connect(f"{uri}?{'mode=ro' if wal_has_data(database) else 'immutable=1'}",
                                         uri=True, timeout=BUSY_TIMEOUT_S)
            connection.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.OperationalError:
            raise DataFolderReadOnly(
                f"{database} has changes in its write-ahead log ({database.name}-wal) that SQLite can read only "
                f"from a writable folder, and {database.parent} is read-only. Make the folder writable once and "
                "start Counterfoil (it folds the log into the database at stop), then it can be read from "
                "read-only media too.") from None
    connection.execute("PRAGMA query_only = 1")
    return connection


# -- a read-only start: serve a private copy ----------------------------------------------

def make_serving_copy(database: Path) -> tuple[Path, InstanceLock]:
    """A private copy of a read-only folder's database, in the temporary folder, for the engine to serve.

    Its folder is locked (as the data folder is) while this process serves it, so a later start can
    tell an abandoned copy (`remove_abandoned_copies`) from one in use."""
    remove_abandoned_copies()
    folder = Path(tempfile.mkdtemp(prefix=COPY_PREFIX))   # 0700
    lock = InstanceLock(folder / COPY_LOCK_NAME)
    lock.acquire()
    copy = folder / database.name
    try:
        source = connect_reading(database, writable=False)
        try:
            target = sqlite3.connect(copy)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
    except BaseException:
        lock.release()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return copy, lock


def release_copy() -> None:
    if WATCH.copy_lock is not None:
        WATCH.copy_lock.release()
    if WATCH.copy_dir is not None:
        shutil.rmtree(WATCH.copy_dir, ignore_errors=True)
    WATCH.copy_dir = WATCH.copy_lock = None


def remove_abandoned_copies() -> list[Path]:
    """Copies that a read-only start left behind when its process was killed (nobody holds their lock)."""
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(COPY_PREFIX + "*"):
        if folder.is_dir() and running_port(folder / COPY_LOCK_NAME) is None:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


# -- leftovers ------------------------------------------------------------------------

def remove_leftovers(data_dir: Path) -> list[Path]:
    """Remove what interrupted work left in the data folder: files still named `*.part` (a write cut
    short), backups' work folder `.backup-work/` (an export's snapshot, a restore's decrypted upload)
    and write probes. For the server's start, holding the folder's instance lock and after a cut-short
    restore was recovered: nobody else writes there then. Folders still being built (`.part-*`, a render
    root) go too; a restore's journal is never touched."""
    removed: list[Path] = []
    work = data_dir / WORK_DIR_NAME
    if work.is_dir() and not work.is_symlink():
        shutil.rmtree(work, ignore_errors=True)
        removed.append(work)
    for folder, dirs, files in os.walk(data_dir):
        dirs[:] = [d for d in dirs if d != RESTORE_SWAP_DIR_NAME]
        for name in [d for d in dirs if d.startswith(PARTIAL_SUFFIX + "-")]:   # a folder being built (.part-*)
            shutil.rmtree(Path(folder) / name, ignore_errors=True)
            removed.append(Path(folder) / name)
            dirs.remove(name)
        for name in files:
            if name.endswith(PARTIAL_SUFFIX) or name.startswith(PROBE_PREFIX):
                path = Path(folder) / name
                try:
                    path.unlink()
                except OSError:
                    continue
                removed.append(path)
    if removed:
        log.info("removed %d leftover(s) of interrupted work in %s: %s", len(removed), data_dir,
                 ", ".join(str(p.relative_to(data_dir)) for p in removed[:10]))
    return removed
