"""The database and its data folder, the pure part: how a database's schema compares with this
program's, how a failed write reads (disk full, read-only, gone), and what /health reports.
No I/O here; app/db/datafolder.py and app/db/lifecycle.py apply these rules."""

from __future__ import annotations

import errno
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.common.logic import describe_size

# Under this much free space on the data folder's disk, /health reports "degraded": the next
# backup, PDF or restore may not fit, and SQLite needs room to grow its write-ahead log.
LOW_DISK_BYTES = 50 * 1024 * 1024

# The data folder's conditions while the program runs (app.db.datafolder.WATCH.condition).
OK = "ok"
READ_ONLY = "read-only"
GONE = "gone"
DAMAGED = "damaged"   # the quick check run after the start found damage: no more changes are taken


# -- schema --------------------------------------------------------------------

@dataclass(frozen=True)
class SchemaComparison:
    missing_here: dict[str, list[str]]     # in the database, unknown to this program: it is newer
    missing_there: dict[str, list[str]]    # known here, not applied in the database: migrate it

    @property
    def newer(self) -> bool:
        return bool(self.missing_here)

    @property
    def needs_migration(self) -> bool:
        return bool(self.missing_there)


def compare_schema(database: Mapping[str, Iterable[str]], known: Mapping[str, Iterable[str]]) -> SchemaComparison:
    """The migrations a database (or a backup's) applied against those this program ships, per Piccolo app."""
    database_sets = {app: set(ids) for app, ids in database.items()}
    known_sets = {app: set(ids) for app, ids in known.items()}
    missing_here = {app: sorted(ids - known_sets.get(app, set())) for app, ids in database_sets.items()}
    missing_there = {app: sorted(ids - database_sets.get(app, set())) for app, ids in known_sets.items()}
    return SchemaComparison({a: i for a, i in missing_here.items() if i}, {a: i for a, i in missing_there.items() if i})


def schema_version(migrations: Mapping[str, Iterable[str]]) -> str:
    """The newest migration id (Piccolo ids are timestamps, so they sort by age)."""
    return max((i for ids in migrations.values() for i in ids), default="")


def newer_schema_message(database: str, found: Mapping[str, Iterable[str]], known: Mapping[str, Iterable[str]]) -> str:
    return (f"{database} was made by a newer Counterfoil (schema {schema_version(found) or '?'}, this program "
            f"knows {schema_version(known) or '?'}): install the newer Counterfoil to open it. Nothing was changed.")


# -- failures of the data folder ------------------------------------------------

# SQLite's primary result codes (https://sqlite.org/rescode.html); Python gives the extended code.
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14

DISK_FULL = "disk_full"
WRITE_REFUSED = "read_only"
IO_FAILED = "io"


def failure_kind(*, sqlite_code: int | None = None, os_errno: int | None = None) -> str | None:
    """What a failed SQLite call or file operation says about the data folder, or None for anything else
    (a constraint, a bug: those are not the folder's fault)."""
    if os_errno is not None:
        if os_errno in (errno.ENOSPC, errno.EDQUOT):
            return DISK_FULL
        if os_errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return WRITE_REFUSED
        if os_errno in (errno.ENOENT, errno.EIO, errno.ESTALE, errno.ENOTDIR):
            return IO_FAILED
        return None
    if sqlite_code is not None:
        primary = sqlite_code & 0xFF
        if primary == SQLITE_FULL:
            return DISK_FULL
        if primary == SQLITE_READONLY:
            return WRITE_REFUSED
        if primary in (SQLITE_IOERR, SQLITE_CANTOPEN):
            return IO_FAILED
    return None


def disk_full_message(where: str, free_bytes: int | None) -> str:
    free = f" ({describe_size(free_bytes)} free)" if free_bytes is not None else ""
    return (f"The disk is full: nothing was saved. The disk holding {where}{free} has no room left; free some "
            "space on it (empty the bin, move large files away) and try again.")


def gone_message(data_dir: str) -> str:
    return (f"The data folder is gone: {data_dir} was deleted or moved while Counterfoil was running, so nothing "
            "was saved and Counterfoil takes no more changes. Put the folder back (or find where it went), then "
            "quit Counterfoil and start it again.")


def damaged_message(database: str, report: str) -> str:
    return (f"The database {database} is damaged (SQLite says: {report}): Counterfoil takes no more changes, so "
            "nothing was saved. Quit Counterfoil; at its next start it names the newest backups to restore.")


# The quick check of the database (`PRAGMA quick_check`) reads the whole file: two seconds of CPU at 100,000
# invoices, more than ten from a cold disk. A start runs it before serving unless the file is exactly as the
# last clean stop left it (its size, modification time and identity, recorded then, with no write-ahead log
# since) and a check passed on it less than CHECK_AT_START_EVERY ago: then it runs just after the start, and
# damage found there stops all changes (DAMAGED).
CHECK_AT_START_EVERY = timedelta(days=7)
FILE_STATE_KEYS = ("size", "mtime_ns", "device", "inode")


def quick_check_can_wait(stamp: Mapping[str, Any] | None, file_state: Mapping[str, int] | None, *,
                         wal_has_data: bool, now: datetime) -> bool:
    """Whether the start may serve first and run the quick check just after (see above). `stamp` is what the
    last clean stop recorded (FILE_STATE_KEYS and "checked_at", ISO 8601 with its offset)."""
    if stamp is None or file_state is None or wal_has_data:
        return False
    if any(stamp.get(key) != file_state.get(key) for key in FILE_STATE_KEYS):
        return False
    try:
        checked_at = datetime.fromisoformat(str(stamp.get("checked_at")))
    except ValueError:
        return False
    if checked_at.tzinfo is None:
        return False
    return timedelta(0) <= now - checked_at < CHECK_AT_START_EVERY


def read_only_message(data_dir: str) -> str:
    return (f"The data folder {data_dir} is read-only: Counterfoil shows your data but cannot save changes, so "
            "nothing was saved. Make the folder writable (or copy it somewhere writable), then start Counterfoil "
            "again. Backup > Download backup still works.")


def health_status(*, database_ok: bool, condition: str, free_bytes: int | None) -> str:
    """"ok" when the database answers, the folder is there and writable, and the disk has room; else "degraded"."""
    if not database_ok or condition != OK:
        return "degraded"
    if free_bytes is None or free_bytes < LOW_DISK_BYTES:
        return "degraded"
    return "ok"


def health_detail(*, database: str, condition: str, free_bytes: int | None) -> str:
    """Why /health says "degraded", one sentence per reason. No path: /health answers anyone on this computer."""
    reasons = []
    if condition == GONE:
        reasons.append("The data folder is gone (deleted or moved): no changes are taken.")
    elif condition == DAMAGED:
        reasons.append("The database is damaged: no changes are taken.")
    elif condition == READ_ONLY:
        reasons.append("The data folder is read-only: no changes are saved.")
    if database != "ok":
        reasons.append(f"The database does not answer ({database}).")
    if condition != GONE:
        if free_bytes is None:
            reasons.append("The free space on the data folder's disk cannot be read.")
        elif free_bytes < LOW_DISK_BYTES:
            reasons.append(f"The data folder's disk is almost full: {describe_size(free_bytes)} free, "
                           f"under {describe_size(LOW_DISK_BYTES)}.")
    return " ".join(reasons)
