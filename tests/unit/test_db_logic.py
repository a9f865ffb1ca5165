"""app.db.logic: how a failed write reads, what /health says, the schema rule; and the recovery advice
(app.backup.logic) a damaged or emptied database comes with."""

from __future__ import annotations

import errno
from datetime import UTC, datetime, timedelta

import pytest

from app.backup import logic as backup_logic
from app.db import logic

MB = 1024 * 1024


@pytest.mark.parametrize(("code", "kind"), [
    (13, logic.DISK_FULL),                 # SQLITE_FULL
    (8, logic.WRITE_REFUSED),              # SQLITE_READONLY
    (8 | (5 << 8), logic.WRITE_REFUSED),   # SQLITE_READONLY_DBMOVED: extended codes count by their primary
    (10, logic.IO_FAILED),                 # SQLITE_IOERR
    (10 | (3 << 8), logic.IO_FAILED),      # SQLITE_IOERR_WRITE
    (14, logic.IO_FAILED),                 # SQLITE_CANTOPEN
    (19, None),                            # SQLITE_CONSTRAINT: the data's fault, not the folder's
    (5, None),                             # SQLITE_BUSY
    (None, None),
])
def test_sqlite_failures_by_code(code, kind):
    assert logic.failure_kind(sqlite_code=code) == kind


@pytest.mark.parametrize(("number", "kind"), [
    (errno.ENOSPC, logic.DISK_FULL), (errno.EDQUOT, logic.DISK_FULL),
    (errno.EROFS, logic.WRITE_REFUSED), (errno.EACCES, logic.WRITE_REFUSED), (errno.EPERM, logic.WRITE_REFUSED),
    (errno.ENOENT, logic.IO_FAILED), (errno.EIO, logic.IO_FAILED),
    (errno.EEXIST, None), (errno.EINVAL, None),
])
def test_file_failures_by_errno(number, kind):
    assert logic.failure_kind(os_errno=number) == kind


def test_the_messages_say_what_and_where():
    full = logic.disk_full_message("/home/ana/Counterfoil", 12 * 1024)
    assert full.startswith("The disk is full: nothing was saved.") and "/home/ana/Counterfoil (12 KiB free)" in full
    assert "(" not in logic.disk_full_message("/x", None).split("/x")[1].split(" has")[0]
    gone = logic.gone_message("/home/ana/Counterfoil")
    assert gone.startswith("The data folder is gone: /home/ana/Counterfoil was deleted or moved")
    assert "takes no more changes" in gone
    read_only = logic.read_only_message("/media/cd/Counterfoil")
    assert read_only.startswith("The data folder /media/cd/Counterfoil is read-only") and "nothing was saved" in read_only


@pytest.mark.parametrize(("database_ok", "condition", "free", "status"), [
    (True, logic.OK, 10_000 * MB, "ok"),
    (True, logic.OK, logic.LOW_DISK_BYTES, "ok"),
    (True, logic.OK, logic.LOW_DISK_BYTES - 1, "degraded"),
    (True, logic.OK, None, "degraded"),
    (False, logic.OK, 10_000 * MB, "degraded"),
    (True, logic.READ_ONLY, 10_000 * MB, "degraded"),
    (True, logic.GONE, None, "degraded"),
])
def test_health_status(database_ok, condition, free, status):
    assert logic.health_status(database_ok=database_ok, condition=condition, free_bytes=free) == status


def test_health_detail_names_each_reason_and_no_path():
    assert logic.health_detail(database="ok", condition=logic.OK, free_bytes=10 * MB) == \
        "The data folder's disk is almost full: 10 MiB free, under 50 MiB."
    detail = logic.health_detail(database="error: OperationalError", condition=logic.GONE, free_bytes=None)
    assert detail == ("The data folder is gone (deleted or moved): no changes are taken. "
                      "The database does not answer (error: OperationalError).")
    assert logic.health_detail(database="ok", condition=logic.READ_ONLY, free_bytes=10_000 * MB) == \
        "The data folder is read-only: no changes are saved."


def test_a_newer_schema_is_named_by_its_newest_migration_and_ours():
    found = {"clients": ["2026-01-01T00:00:00:000000", "2099-01-01T00:00:00:000000"]}
    known = {"clients": ["2026-01-01T00:00:00:000000"], "auth": ["2026-02-01T00:00:00:000000"]}
    comparison = logic.compare_schema(found, known)
    assert comparison.newer and comparison.missing_here == {"clients": ["2099-01-01T00:00:00:000000"]}
    assert logic.newer_schema_message("/d/counterfoil.sqlite", found, known) == (
        "/d/counterfoil.sqlite was made by a newer Counterfoil (schema 2099-01-01T00:00:00:000000, this program "
        "knows 2026-02-01T00:00:00:000000): install the newer Counterfoil to open it. Nothing was changed.")


def test_the_backup_code_uses_the_same_schema_rule():
    assert backup_logic.compare_schema is logic.compare_schema
    assert backup_logic.schema_version is logic.schema_version


# -- what to do with a damaged or emptied database -------------------------------------------

KEPT = ("/d/pre-restore-20261115-101500.sqlite", datetime(2026, 11, 15, 10, 15))
SCHEDULED = ("/usb/counterfoil-20261203-180000.counterfoil", datetime(2026, 12, 3, 18, 0))


def test_the_advice_offers_the_newest_of_both_kinds_and_says_which_is_newer():
    advice = backup_logic.recovery_advice("/d/counterfoil.sqlite", KEPT, SCHEDULED, damaged=True)
    assert advice == (
        "To get your data back: quit Counterfoil, rename /d/counterfoil.sqlite (keep it), then restore the newest "
        "scheduled backup, /usb/counterfoil-20261203-180000.counterfoil (made 2026-12-03 18:00), with "
        "`counterfoil backup import \"/usb/counterfoil-20261203-180000.counterfoil\"`, or copy "
        "/d/pre-restore-20261115-101500.sqlite (kept before a restore, 2026-11-15 10:15) to /d/counterfoil.sqlite. "
        "The newer of the two is the scheduled backup.")
    newer_kept = (KEPT[0], datetime(2026, 12, 4))
    assert backup_logic.recovery_advice("/d/c.sqlite", newer_kept, SCHEDULED, damaged=True).endswith(
        "The newer of the two is the pre-restore copy.")
    only_kept = backup_logic.recovery_advice("/d/c.sqlite", KEPT, None, damaged=False)
    assert "scheduled" not in only_kept and "copy /d/pre-restore-20261115-101500.sqlite" in only_kept


def test_without_backups_the_advice_says_so_and_salvages_only_a_damaged_file():
    damaged = backup_logic.recovery_advice("/d/counterfoil.sqlite", None, None, damaged=True)
    assert damaged.startswith("No backup was found") and ".recover" in damaged
    emptied = backup_logic.recovery_advice("/d/counterfoil.sqlite", None, None, damaged=False)
    assert emptied.startswith("No backup was found") and ".recover" not in emptied


@pytest.mark.parametrize(("name", "made"), [
    ("pre-restore-20261115-101500.sqlite", datetime(2026, 11, 15, 10, 15)),
    ("pre-restore-20261115-101500-1.sqlite", datetime(2026, 11, 15, 10, 15)),
    ("counterfoil-20261203-180000-2.counterfoil", datetime(2026, 12, 3, 18, 0)),
    ("counterfoil-northwind-studio-20261203-1800.counterfoil", datetime(2026, 12, 3, 18, 0)),
    ("my backup.counterfoil", None),
    ("counterfoil-20261399-180000.counterfoil", None),
])
def test_when_a_copy_was_made_is_read_from_its_name(name, made):
    assert backup_logic.time_in_name(name) == made


# -- when the start's quick check may wait (issue 21) ---------------------------------------------------

_NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
_STATE = {"size": 4096, "mtime_ns": 1_796_558_431_865_018_786, "device": 65024, "inode": 2146802}


def _stamp(**changes):
    return {**_STATE, "checked_at": (_NOW - timedelta(days=1)).isoformat(), **changes}


def test_the_check_may_wait_only_for_the_file_the_last_clean_stop_left():
    can_wait = logic.quick_check_can_wait
    assert can_wait(_stamp(), _STATE, wal_has_data=False, now=_NOW)
    assert not can_wait(_stamp(), _STATE, wal_has_data=True, now=_NOW)        # a crash left a log
    assert not can_wait(None, _STATE, wal_has_data=False, now=_NOW)            # never stopped cleanly
    assert not can_wait(_stamp(), None, wal_has_data=False, now=_NOW)          # no file
    for key in logic.FILE_STATE_KEYS:                                          # written, replaced, moved
        assert not can_wait(_stamp(), {**_STATE, key: _STATE[key] + 1}, wal_has_data=False, now=_NOW)
    week = logic.CHECK_AT_START_EVERY
    assert can_wait(_stamp(checked_at=(_NOW - week + timedelta(seconds=1)).isoformat()), _STATE,
                    wal_has_data=False, now=_NOW)
    assert not can_wait(_stamp(checked_at=(_NOW - week).isoformat()), _STATE, wal_has_data=False, now=_NOW)
    assert not can_wait(_stamp(checked_at=(_NOW + timedelta(hours=1)).isoformat()), _STATE,   # a clock set back
                        wal_has_data=False, now=_NOW)
    for bad in ("", "yesterday", "2026-12-05T12:00:00", None, 17):             # unreadable, or without its offset
        assert not can_wait(_stamp(checked_at=bad), _STATE, wal_has_data=False, now=_NOW)
    assert not can_wait({"checked_at": _stamp()["checked_at"]}, _STATE, wal_has_data=False, now=_NOW)
