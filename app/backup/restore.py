"""Putting a staged backup in place: what it may switch on, and a swap no crash can leave half done.

A backup can come from someone else who knows its passphrase, so before the swap the staged
database (never the live one) is read for what it would do once restored (`read_bundle_settings`:
its mail server, scheduled sends and their recipients, custom templates, users and tokens), its
stored file names are checked (`check_stored_names`), and by default its scheduled sends are
paused, its custom templates turned off and its API tokens and sessions revoked
(`apply_choices`; `logic.RestoreChoices` says what the owner chose to keep).

The swap moves the database and the attachments (and the user's templates) together. A journal
makes it all or nothing, even under kill -9:

1. the staged folder is renamed to `<data>/.restore-swap/` and `journal.json` is written there
   (atomically): from here on, the next start recovers;
2. the current database is copied to `pre-restore-<time>.sqlite.part`, then renamed (so the
   pre-restore copy is complete or absent);
3. the current attachments and templates are renamed to `pre-restore-<time>-attachments/` and
   `-templates/`, and the staged ones renamed into place;
4. the database is replaced in one SQLite transaction (the backup API). This is the commit
   point: the staged copy carries a random `PRAGMA user_version` (the journal's marker), so the
   live file says by itself whether it happened;
5. an older database is upgraded, then the journal and the swap folder are removed.

`recover` (run at the next start, under the instance lock) reads the journal: the live database
has the marker, so the restore is kept and finished; it has not, so every rename is undone and
the pre-restore copy removed: the old data, as it was. The steps carry names for a test hook
(`COUNTERFOIL_TEST_STOP_AT=<step>` kills the process there; see `reached`).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.audit import service as audit_service
from app.audit import trail as audit_trail
from app.backup import logic
from app.backup.logic import ContentInvalid, RestoreChoices
from app.config import Config
from app.db import engine
from app.paths import UnsafeFileName, check_bare_name, fsync_dir, fsync_file

log = logging.getLogger("counterfoil.backup")

SWAP_DIR_NAME = ".restore-swap"
JOURNAL_NAME = "journal.json"
TEMPLATES_DIR_NAME = "templates"
STOP_AT_ENV = "COUNTERFOIL_TEST_STOP_AT"
# In the order they happen; a test stops the process at each one in turn.
STEPS = ("staged", "prepared", "journal_written", "previous_copy_part", "previous_copied", "old_attachments_moved",
         "new_attachments_moved", "old_templates_moved", "new_templates_moved", "database_replaced", "migrated",
         "finished")


def reached(step: str) -> None:
    """The test hook: with COUNTERFOIL_TEST_STOP_AT=<step> the process dies here, as under kill -9."""
    assert step in STEPS, step
    if os.environ.get(STOP_AT_ENV) == step:
        log.warning("stopping at restore step %r (%s is set)", step, STOP_AT_ENV)
        kill = getattr(signal, "SIGKILL", None)
        if kill is not None:
            os.kill(os.getpid(), kill)
        os._exit(137)   # where there is no SIGKILL: no cleanup, no flush either


# -- what the staged database would do ---------------------------------------------------------

def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}


def _one(connection: sqlite3.Connection, table: str, wanted: tuple[str, ...]) -> dict[str, Any]:
    """The first row of a one-row settings table, the columns it has (an older schema may lack some)."""
    present = [c for c in wanted if c in _columns(connection, table)]
    if not present:
        return {}
    row = connection.execute(f'SELECT {", ".join(present)} FROM "{table}" ORDER BY id LIMIT 1').fetchone()
    return dict(zip(present, row, strict=True)) if row else {}


def _count(connection: sqlite3.Connection, table: str, where: str = "1 = 1") -> int:
    if not _columns(connection, table):
        return 0
    return int(connection.execute(f'SELECT COUNT(*) FROM "{table}" WHERE {where}').fetchone()[0])


def read_bundle_settings(database: Path, templates: Path) -> logic.BundleSettings:
    """What the staged database would do once restored (read-only; tables an older schema lacks count as empty)."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        mail = _one(connection, "mail_settings", ("smtp_host", "smtp_port", "smtp_username", "smtp_from_email",
                                                  "accountant_email", "accountant_schedule", "accountant_day"))
        backups = _one(connection, "backup_settings", ("rhythm", "folder"))
        business = _one(connection, "business_settings", ("use_custom_templates",))
        recipients: list[str] = []
        if {"status", "to_addresses"} <= _columns(connection, "outbox_message"):
            for (addresses,) in connection.execute(
                    "SELECT to_addresses FROM outbox_message WHERE status IN ('queued', 'sending') ORDER BY id"):
                for address in str(addresses or "").replace(";", ",").split(","):
                    if address.strip() and address.strip() not in recipients:
                        recipients.append(address.strip())
        token_where = "revoked_at IS NULL" if "revoked_at" in _columns(connection, "api_token") else "1 = 1"
        owner_where = "role = 'owner'" if "role" in _columns(connection, "app_user") else "1 = 0"
        return logic.BundleSettings(
            smtp_host=str(mail.get("smtp_host") or ""), smtp_port=int(mail.get("smtp_port") or 0),
            smtp_username=str(mail.get("smtp_username") or ""), from_email=str(mail.get("smtp_from_email") or ""),
            accountant_email=str(mail.get("accountant_email") or ""),
            accountant_schedule=str(mail.get("accountant_schedule") or "off"),
            accountant_day=int(mail.get("accountant_day") or 1),
            queued_messages=_count(connection, "outbox_message", "status IN ('queued', 'sending')")
            if "status" in _columns(connection, "outbox_message") else 0,
            queued_recipients=tuple(recipients),
            backup_rhythm=str(backups.get("rhythm") or "off"), backup_folder=str(backups.get("folder") or ""),
            custom_templates_on=bool(business.get("use_custom_templates")),
            template_files=sum(1 for p in templates.rglob("*") if p.is_file()) if templates.is_dir() else 0,
            users=_count(connection, "app_user"), owners=_count(connection, "app_user", owner_where),
            active_tokens=_count(connection, "api_token", token_where), sessions=_count(connection, "app_session"))


def check_stored_names(database: Path) -> None:
    """Every file name the staged database stores is a bare name (the logo, and the logo frozen into
    each issued document), or the whole backup is refused: it could point at any file on this computer."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        names: list[tuple[str, object]] = []
        if "logo_filename" in _columns(connection, "business_settings"):
            names += [("the business logo", row[0]) for row in
                      connection.execute("SELECT logo_filename FROM business_settings")]
        if "snapshot_json" in _columns(connection, "document"):
            names += [(f"the logo of document {row[0]}", row[1]) for row in connection.execute(
                "SELECT id, json_extract(snapshot_json, '$.business.logo_filename') FROM document "
                "WHERE json_valid(snapshot_json)")]
    for what, name in names:
        if name in (None, ""):
            continue
        try:
            if not isinstance(name, str):
                raise UnsafeFileName(str(name), "it is not a file name")
            check_bare_name(name)
        except UnsafeFileName as refused:
            raise ContentInvalid(f"The backup names a file outside its attachments for {what} ({refused.reason}: "
                                 f"{str(name)[:120]!r}). It was not made by Counterfoil as it is. "
                                 + logic.UNCHANGED) from None


def apply_choices(staged_db: Path, live_db: Path, choices: RestoreChoices, now: datetime) -> None:
    """Switch off, in the staged copy, what the owner did not choose to keep (one transaction)."""
    stamp = str(now.astimezone(UTC))   # the way the ORM writes a timestamp
    with closing(sqlite3.connect(staged_db)) as connection, connection:
        # What is switched off here is recorded in the backup's own audit trail, as part of the restore.
        trail_end = audit_trail.start(connection)
        # A browser session or a one-time sign-in belongs to the computer it was made on.
        for table in ("app_session", "launch_token"):
            if _columns(connection, table):
                connection.execute(f'DELETE FROM "{table}"')
        if not choices.keep_tokens and "revoked_at" in _columns(connection, "api_token"):
            connection.execute("UPDATE api_token SET revoked_at = ? WHERE revoked_at IS NULL", (stamp,))
        if not choices.keep_custom_templates and "use_custom_templates" in _columns(connection, "business_settings"):
            connection.execute("UPDATE business_settings SET use_custom_templates = 0")
        if not choices.keep_scheduled_sends:
            if "accountant_schedule" in _columns(connection, "mail_settings"):
                connection.execute("UPDATE mail_settings SET accountant_schedule = 'off'")
            if {"status", "next_attempt_at", "last_error"} <= _columns(connection, "outbox_message"):
                connection.execute("UPDATE outbox_message SET status = 'failed', next_attempt_at = NULL, "
                                   "last_error = ? WHERE status IN ('queued', 'sending')", (logic.HELD_MESSAGE,))
            _keep_this_computers_backup_schedule(connection, live_db)
            # A recurring profile that emails its invoices would write to the backup's clients from here.
            if {"status", "action", "paused_on"} <= _columns(connection, "recurring_profile"):
                connection.execute("UPDATE recurring_profile SET status = 'paused', paused_on = ?, updated_at = ? "
                                   "WHERE status = 'active' AND action = 'issue_and_send'",
                                   (now.astimezone(UTC).date().isoformat(), stamp))
        if trail_end is not None:
            audit_trail.seal(connection, trail_end, audit_service.current_actor(), "restore")


def _keep_this_computers_backup_schedule(connection: sqlite3.Connection, live_db: Path) -> None:
    """Where scheduled backups go is this computer's setting: the one the data folder had stays (or none)."""
    staged = _columns(connection, "backup_settings")
    if not staged:
        return   # an older backup without the table: the upgrade creates it empty (off)
    row: dict[str, Any] = {}
    if live_db.is_file() and live_db.stat().st_size:
        with closing(sqlite3.connect(f"file:{live_db}?mode=ro", uri=True, timeout=engine.BUSY_TIMEOUT_S)) as live:
            columns = sorted(_columns(live, "backup_settings") & staged)
            if columns:
                found = live.execute(f'SELECT {", ".join(columns)} FROM backup_settings ORDER BY id LIMIT 1').fetchone()
                row = dict(zip(columns, found, strict=True)) if found else {}
    connection.execute("DELETE FROM backup_settings")
    if row:
        connection.execute(f'INSERT INTO backup_settings ({", ".join(row)}) VALUES ({", ".join("?" * len(row))})',
                           tuple(row.values()))


def _match_page_size(staged_db: Path, live_db: Path) -> None:
    """The backup API cannot write into a WAL database of another page size: rebuild the staged copy to match."""
    with closing(sqlite3.connect(live_db, timeout=engine.BUSY_TIMEOUT_S)) as live:
        live_size = live.execute("PRAGMA page_size").fetchone()[0]
    with closing(sqlite3.connect(staged_db)) as connection:
        if connection.execute("PRAGMA page_size").fetchone()[0] != live_size:
            connection.execute(f"PRAGMA page_size = {int(live_size)}")
            connection.execute("VACUUM")


def _set_marker(database: Path, marker: int) -> None:
    with closing(sqlite3.connect(database)) as connection:
        connection.execute(f"PRAGMA user_version = {int(marker)}")
        connection.commit()


def _has_marker(database: Path, marker: int) -> bool:
    """Whether the live database is the restored one (read only: never creates the file)."""
    if not database.is_file() or database.stat().st_size == 0:
        return False
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=engine.BUSY_TIMEOUT_S)) as live:
            return int(live.execute("PRAGMA user_version").fetchone()[0]) == marker
    except sqlite3.DatabaseError:
        return False


# -- the journal ----------------------------------------------------------------------------------

@dataclass
class Journal:
    marker: int                     # the staged database's user_version: the live file has it once replaced
    previous_database: str | None   # names in the data folder (None: there was no database)
    previous_attachments: str
    previous_templates: str
    had_templates: bool             # a templates/ folder was there
    # The backup's folders, by identity (device, inode: a rename keeps it), so that recovery moves
    # back only a folder it knows for the backup's, never the user's.
    new_attachments: list[int]
    new_templates: list[int] | None   # None: the backup brings no templates/


def _identity(path: Path) -> list[int] | None:
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return None
    return [found.st_dev, found.st_ino]


def swap_dir(config: Config) -> Path:
    return config.data_dir / SWAP_DIR_NAME


def _write_journal(folder: Path, journal: Journal) -> None:
    partial = folder / (JOURNAL_NAME + ".part")
    with open(partial, "w", encoding="utf-8") as out:
        json.dump(asdict(journal), out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, folder / JOURNAL_NAME)
    fsync_dir(folder)


def _read_journal(folder: Path) -> Journal | None:
    try:
        return Journal(**json.loads((folder / JOURNAL_NAME).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None


def pre_restore_names(data_dir: Path, now: datetime) -> tuple[Path, Path, Path]:
    """Free names for what a restore replaces: the database, the attachments and the templates."""
    stamp = now.strftime("%Y%m%d-%H%M%S")
    n = 0
    while True:
        base = f"pre-restore-{stamp}{f'-{n}' if n else ''}"
        names = (data_dir / f"{base}.sqlite", data_dir / f"{base}-attachments", data_dir / f"{base}-templates")
        if not any(p.exists() for p in names) and not (data_dir / f"{base}.sqlite.part").exists():
            return names
        n += 1


def _copy_live_database(live: Path, target: Path) -> None:
    """A consistent copy of the live database as `target.part`, then renamed: complete or absent."""
    partial = target.with_name(target.name + ".part")
    with closing(sqlite3.connect(live, timeout=engine.BUSY_TIMEOUT_S)) as source:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        with closing(sqlite3.connect(partial)) as copy:
            source.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode = DELETE")
    fsync_file(partial)
    reached("previous_copy_part")
    os.rename(partial, target)
    fsync_dir(target.parent)


@dataclass
class Swapped:
    previous_database: Path | None
    previous_attachments: Path | None
    previous_templates: Path | None



def _set_aside(folder: Path, keep_as: Path) -> Path | None:
    """Move a live folder out of the way of the bundle's: kept as `keep_as` when it holds anything
    (returned), removed when empty."""
    if not folder.is_dir():
        return None
    if any(folder.iterdir()):
        os.rename(folder, keep_as)
        return keep_as
    folder.rmdir()
    return None


def swap_in(config: Config, staged_folder: Path, now: datetime, choices: RestoreChoices) -> Swapped:
    """Prepare the staged copy, then swap it in under the journal (steps 1-4 above). The journal stays
    until `finish` (after an upgrade, if one is needed). On an error, everything is put back first."""
    data_dir = config.data_dir
    live = config.database_path
    staged_db = staged_folder / logic.DATABASE_MEMBER
    has_live = live.is_file() and live.stat().st_size > 0
    apply_choices(staged_db, live, choices, now)
    if has_live:
        _match_page_size(staged_db, live)
    marker = secrets.randbelow(2**31 - 2) + 1
    _set_marker(staged_db, marker)
    reached("prepared")
    previous_db, previous_attachments, previous_templates = pre_restore_names(data_dir, now)
    templates = data_dir / TEMPLATES_DIR_NAME
    folder = swap_dir(config)
    try:
        os.rename(staged_folder, folder)
        new_attachments = _identity(folder / "attachments")
        assert new_attachments is not None, "a staged restore always has its attachments folder"
        journal = Journal(marker=marker, previous_database=previous_db.name if has_live else None,
                          previous_attachments=previous_attachments.name, previous_templates=previous_templates.name,
                          had_templates=templates.is_dir(), new_attachments=new_attachments,
                          new_templates=_identity(folder / TEMPLATES_DIR_NAME))
        _write_journal(folder, journal)
        fsync_dir(data_dir)
        reached("journal_written")
        if has_live:
            _copy_live_database(live, previous_db)
        reached("previous_copied")
        attachments = config.attachments_dir
        kept_attachments = _set_aside(attachments, previous_attachments)
        reached("old_attachments_moved")
        os.rename(folder / "attachments", attachments)
        reached("new_attachments_moved")
        kept_templates = _set_aside(templates, previous_templates)
        reached("old_templates_moved")
        if journal.new_templates is not None:
            os.rename(folder / TEMPLATES_DIR_NAME, templates)
        fsync_dir(data_dir)
        reached("new_templates_moved")
        if has_live:
            with closing(sqlite3.connect(folder / logic.DATABASE_MEMBER)) as source, \
                    closing(sqlite3.connect(live, timeout=engine.BUSY_TIMEOUT_S)) as target:
                # The commit point: the whole database is replaced in one write transaction on the live file.
                source.backup(target, pages=-1)
                try:
                    target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.OperationalError:
                    pass   # readers still at work; SQLite checkpoints later
        else:
            os.replace(folder / logic.DATABASE_MEMBER, live)
        fsync_dir(data_dir)
    except BaseException:
        recover(config)
        raise
    reached("database_replaced")
    return Swapped(previous_db if has_live else None, kept_attachments, kept_templates)


def finish(config: Config) -> None:
    """The restore is complete: drop the journal and the swap folder, and clear the marker."""
    folder = swap_dir(config)
    journal = _read_journal(folder)
    (folder / JOURNAL_NAME).unlink(missing_ok=True)
    fsync_dir(folder)
    shutil.rmtree(folder, ignore_errors=True)
    fsync_dir(config.data_dir)
    if journal is not None and _has_marker(config.database_path, journal.marker):
        with closing(sqlite3.connect(config.database_path, timeout=engine.BUSY_TIMEOUT_S)) as live:
            live.execute("PRAGMA user_version = 0")
            live.commit()
    reached("finished")


def undo(config: Config) -> None:
    """After the swap, before `finish` (an upgrade failed): the previous database back in one
    transaction, then the files put back by `recover`."""
    folder = swap_dir(config)
    journal = _read_journal(folder)
    assert journal is not None, "undo runs only while the journal is there"
    live = config.database_path
    if journal.previous_database is not None:
        with closing(sqlite3.connect(config.data_dir / journal.previous_database)) as source, \
                closing(sqlite3.connect(live, timeout=engine.BUSY_TIMEOUT_S)) as target:
            source.backup(target, pages=-1)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(str(live) + suffix).unlink(missing_ok=True)
    recover(config)


def recover(config: Config) -> str | None:
    """Finish or undo a restore that was interrupted (a crash, kill -9, a power cut); run with the
    instance lock held, before anything opens the database. Returns what happened, or None."""
    data_dir = config.data_dir
    for stray in data_dir.glob("pre-restore-*.sqlite.part"):
        stray.unlink(missing_ok=True)   # a pre-restore copy that was never completed
    folder = swap_dir(config)
    if not folder.exists():
        return None
    journal = _read_journal(folder)
    if journal is None:
        # Before the journal nothing live was touched; after it was removed everything was done.
        shutil.rmtree(folder, ignore_errors=True)
        return None
    if _has_marker(config.database_path, journal.marker):
        outcome = "completed"
    else:
        _put_back(config, folder, journal)
        outcome = "rolled back"
    (folder / JOURNAL_NAME).unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    fsync_dir(data_dir)
    log.warning("an interrupted restore was %s: the data folder holds the %s data", outcome,
                "restored" if outcome == "completed" else "previous")
    return outcome


def _put_back(config: Config, folder: Path, journal: Journal) -> None:
    """Undo the renames of an uncommitted swap, whichever of them happened (each one is checked: a
    folder goes back to the swap folder only when it is the backup's very folder)."""
    data_dir = config.data_dir
    templates = data_dir / TEMPLATES_DIR_NAME
    if journal.new_templates is not None and _identity(templates) == journal.new_templates:
        os.rename(templates, folder / TEMPLATES_DIR_NAME)   # the backup's templates had come in
    if (data_dir / journal.previous_templates).exists():
        os.rename(data_dir / journal.previous_templates, templates)
    elif journal.had_templates and not templates.exists():
        templates.mkdir(mode=0o700)
    attachments = config.attachments_dir
    if _identity(attachments) == journal.new_attachments:
        os.rename(attachments, folder / "attachments")      # the backup's attachments had come in
    if (data_dir / journal.previous_attachments).exists():
        os.rename(data_dir / journal.previous_attachments, attachments)
    elif not attachments.exists():
        attachments.mkdir(mode=0o700)
    if journal.previous_database is not None:
        (data_dir / journal.previous_database).unlink(missing_ok=True)   # the live database is that one
    fsync_dir(data_dir)

