"""Backup operations: export a bundle, stage and verify one, restore it, and scheduled backups.

Export: a consistent snapshot of the database (SQLite's backup API, then
`PRAGMA integrity_check` on the copy), every attachment, the user's own document
templates (`templates/`; the render cache is left out) and a manifest go, as a
tar stream, through the streaming encryptor into `FILE.part`, which becomes FILE
only once complete. Memory stays flat whatever the data size. The snapshot is made in a
private folder beside FILE (`.counterfoil-export-*`), never in the data folder, which may be
full or read-only; it is removed when the export ends, and one left by an export that was
killed is removed by the next export to that folder or the server's next start.

Import happens in two steps, so the live data is touched only when everything is known
to be good:
1. `stage_bundle` reads the bundle twice. The first pass writes nothing: header,
   passphrase, every chunk, the tar members' kinds (a sparse one is refused), names and
   declared sizes against the manifest, and their sum against the free space. The second
   decrypts into a private folder inside the data folder (`.backup-work/restore-*`) and
   checks the manifest's SHA-256s, `integrity_check`, row counts, the schema (a newer one
   is refused) and the file names the database stores. What the backup would switch on
   (mail server, scheduled sends, custom templates, users and tokens) is read for the
   confirmation. Any failure removes the folder: the data folder is left byte for byte as
   it was.
2. `apply_staged` hands the staged folder to app/backup/restore.py, which switches off in
   the staged copy what the owner did not choose to keep, then swaps database,
   attachments and templates in under a journal: all or nothing, even under kill -9 (the
   previous data is kept as `pre-restore-<timestamp>.sqlite`, `-attachments/`,
   `-templates/`). The database's content is replaced in one SQLite transaction through
   the backup API, so every open connection sees either the old or the new database,
   never a torn mix. An older schema is then upgraded on the live file.

The running server: the CLI refuses to import while a server holds the data folder's
instance lock (its message says to use the Backup page or quit first); the web page
restores in-process with writes paused (`engine.writes_paused`), so the server
"notices" the swap by construction.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import io
import json
import logging
import os
import secrets
import shutil
import sqlite3
import stat
import tarfile
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import IO, Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app import __version__
from app.audit import service as audit_service
from app.audit import trail as audit_trail
from app.background import Periodic
from app.backup import logic, restore
from app.backup.bundle import BundleReader, BundleWriter, Progress, read_header
from app.backup.logic import (
    DATABASE_MEMBER,
    MANIFEST_MEMBER,
    UNCHANGED,
    BackupError,
    ContentInvalid,
    KdfParams,
    MemberDigest,
    RestoreRefused,
)
from app.backup.tables import BackupSettings
from app.common.i18n import _, current_time_zone
from app.common.logic import describe_size
from app.config import Config
from app.db import datafolder, engine
from app.db.engine import write_transaction
from app.db.logic import compare_schema
from app.db.migrate import MigrationError, apply_migrations, known_migrations, schema_against_program
from app.instance import AlreadyRunning, InstanceLock, running_port
from app.paths import ensure_private_dir, fsync_dir, fsync_file

log = logging.getLogger("counterfoil.backup")

WORK_DIR_NAME = datafolder.WORK_DIR_NAME   # removed whole at the server's start
EXPORT_STAGING_PREFIX = ".counterfoil-export-"
PASSPHRASE_FILE = "backup-passphrase"
TEMPLATES_DIR_NAME = "templates"   # the user's Typst templates; bundled beside attachments/ (cache/ never is)
COPY_BLOCK = 1024 * 1024
STALE_AFTER_S = 3600
SETTINGS_ID = 1
# Two workers: SQLite's checks and fsync run beside the encryption (both release the GIL).
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="counterfoil-backup")


# -- small file helpers ---------------------------------------------------------------

def _open_new_private(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


def work_dir(config: Config) -> Path:
    return config.data_dir / WORK_DIR_NAME


def _new_work_folder(config: Config, kind: str) -> Path:
    ensure_private_dir(config.data_dir)
    root = work_dir(config)
    root.mkdir(mode=0o700, exist_ok=True)
    folder = root / f"{kind}-{secrets.token_hex(8)}"
    folder.mkdir(mode=0o700)
    return folder


def _remove_work_folder(config: Config, folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    try:
        work_dir(config).rmdir()   # only when empty: leave the data folder as it was
    except OSError:
        pass


def new_download_folder(config: Config) -> Path:
    """A private folder for a bundle on its way to the browser; removed once it is sent. In the data
    folder, or in the temporary folder when the data folder cannot be written (a read-only start)."""
    try:
        return _new_work_folder(config, "download")
    except OSError as error:
        if datafolder.problem_from(error) is None and datafolder.folder_writable(config.data_dir):
            raise
        return Path(tempfile.mkdtemp(prefix="counterfoil-download-"))


def remove_download_folder(config: Config, folder: Path) -> None:
    if folder.parent == work_dir(config):
        _remove_work_folder(config, folder)
    else:
        shutil.rmtree(folder, ignore_errors=True)


def discard_pending_restores(config: Config) -> None:
    """One restore waits for confirmation at a time: a new upload replaces an older one."""
    root = work_dir(config)
    if root.is_dir():
        for entry in root.glob("restore-*"):
            shutil.rmtree(entry, ignore_errors=True)


def cleanup_stale_work(config: Config, *, older_than_s: float = STALE_AFTER_S) -> None:
    """Remove what an interrupted export or an abandoned restore left behind."""
    root = work_dir(config)
    if not root.is_dir():
        return
    now = time.time()
    for entry in root.iterdir():
        try:
            if now - entry.stat().st_mtime > older_than_s:
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()
        except OSError:
            pass
    try:
        root.rmdir()
    except OSError:
        pass


class _HashingReader:
    """Reads a file for tarfile while hashing it and reporting progress."""

    def __init__(self, handle: BinaryIO, on_bytes: Callable[[int], None]):
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0
        self.on_bytes = on_bytes

    def read(self, n: int = -1) -> bytes:
        data = self.handle.read(n)
        self.digest.update(data)
        self.size += len(data)
        self.on_bytes(len(data))
        return data


# -- the database snapshot and what it says about itself -------------------------------

def _tables(connection: sqlite3.Connection) -> list[str]:
    return [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class DatabaseFacts:
    row_counts: dict[str, int]
    migrations: dict[str, list[str]]
    business_name: str
    audit_head: dict[str, Any] | None = None


def database_facts(connection: sqlite3.Connection) -> DatabaseFacts:
    tables = _tables(connection)
    counts = {table: connection.execute(f"SELECT COUNT(*) FROM {_quote(table)}").fetchone()[0] for table in tables}
    migrations: dict[str, list[str]] = {}
    if "migration" in tables:
        for name, app_name in connection.execute("SELECT name, app_name FROM migration ORDER BY name"):
            migrations.setdefault(app_name, []).append(name)
    business = ""
    if "business_settings" in tables:
        row = connection.execute("SELECT name FROM business_settings ORDER BY id LIMIT 1").fetchone()
        business = row[0] if row and row[0] else ""
    head = audit_trail.head(connection)
    return DatabaseFacts(counts, {app: sorted(ids) for app, ids in migrations.items()}, business,
                         head.as_json() if head else None)


def _integrity_ok(connection: sqlite3.Connection) -> str | None:
    rows = connection.execute("PRAGMA integrity_check").fetchall()
    if [tuple(r) for r in rows] == [("ok",)]:
        return None
    return "; ".join(str(r[0]) for r in rows[:3])


def take_snapshot(source: Path, target: Path) -> None:
    """A consistent copy of the live database: one backup step is one read transaction (also from a
    read-only folder, `datafolder.connect_reading`)."""
    if not source.is_file() or source.stat().st_size == 0:
        raise BackupError(_("There is no Counterfoil database in %(parent)s to back up.", parent=source.parent))
    try:
        src = datafolder.connect_reading(source)
    except datafolder.DataFolderReadOnly as error:
        raise BackupError(error.message) from None
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode = DELETE")   # one self-contained file, no -wal beside it
        finally:
            dst.close()
    finally:
        src.close()


def check_snapshot(target: Path) -> DatabaseFacts:
    """`PRAGMA integrity_check` on the copy, then what the manifest records about it."""
    connection = sqlite3.connect(target)
    try:
        problem = _integrity_ok(connection)
        if problem:
            raise BackupError(_("The database fails its integrity check (%(problem)s); the backup was not written. Run `counterfoil check` and keep the existing backups.", problem=problem))
        return database_facts(connection)
    finally:
        connection.close()


def snapshot_database(source: Path, target: Path) -> DatabaseFacts:
    take_snapshot(source, target)
    return check_snapshot(target)


# -- export ----------------------------------------------------------------------------

@dataclass
class ExportResult:
    path: Path
    size: int
    manifest: dict[str, Any]


def _attachment_files(attachments_dir: Path) -> list[tuple[str, Path]]:
    """Regular files under attachments/, as (posix relative path, path); links and temp files are skipped."""
    found: list[tuple[str, Path]] = []
    if not attachments_dir.is_dir():
        return found
    for folder, dirs, files in os.walk(attachments_dir, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if name.endswith(".part"):
                continue
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue
            if not stat.S_ISREG(mode):
                log.warning("backup skips %s: not a regular file", path)
                continue
            found.append((path.relative_to(attachments_dir).as_posix(), path))
    return found


def _tar_info(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = 0o600
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


def write_payload(out: Any, *, database: Path | None, attachments: list[tuple[str, Path]],
                  manifest_fields: dict[str, Any] | Callable[[], dict[str, Any]], created_at: datetime,
                  on_bytes: Callable[[int], None] = lambda n: None,
                  templates: tuple[tuple[str, Path], ...] | list[tuple[str, Path]] = ()) -> dict[str, Any]:
    """The plaintext payload: a POSIX (pax) tar of the database, the attachments, the user's templates,
    then manifest.json.

    Member metadata is normalised (mode 0600, owner 0, mtime = creation time), so the
    same inputs give the same bytes. Returns the manifest written.
    """
    mtime = int(created_at.timestamp())
    digests: list[MemberDigest] = []
    # bufsize: tarfile's stream re-slices its buffer at every block; one large buffer keeps that cheap
    # (it does not change the bytes written: records are padded to 10240 bytes regardless).
    # typeshed's tarfile.open lists no copybufsize, which open() hands on to TarFile (undocumented but there).
    tar = tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT, bufsize=COPY_BLOCK,  # type: ignore[call-overload]
                       copybufsize=COPY_BLOCK)
    try:
        members = ([(DATABASE_MEMBER, database)] if database is not None else []) + \
                  [(logic.attachment_member(rel), path) for rel, path in attachments] + \
                  [(logic.template_member(rel), path) for rel, path in templates]
        for name, path in members:
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                reader = _HashingReader(handle, on_bytes)
                tar.addfile(_tar_info(name, size, mtime), reader)
                if reader.size != size:
                    raise BackupError(_("%(path)s changed while it was being backed up; try again.", path=path))
                digests.append(MemberDigest(name, size, reader.digest.hexdigest()))
        fields = manifest_fields() if callable(manifest_fields) else manifest_fields
        manifest = logic.build_manifest(created_at=created_at, files=digests, **fields)
        encoded = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
        tar.addfile(_tar_info(MANIFEST_MEMBER, len(encoded), mtime), io.BytesIO(encoded))
    finally:
        tar.close()
    return manifest


def export_bundle(config: Config, target: Path, passphrase: str, *, overwrite: bool = False,
                  progress: Progress | None = None, kdf: KdfParams = logic.DEFAULT_KDF,
                  now: datetime | None = None) -> ExportResult:
    """Write one encrypted bundle of the data folder to `target` (via `target.part`, renamed when complete)."""
    problem = logic.passphrase_problem(passphrase)
    if problem:
        raise BackupError(problem + ".")
    target = Path(target)
    if target.exists() and not overwrite:
        raise BackupError(_("%(target)s already exists; choose another name (nothing was written).", target=target))
    if not target.parent.is_dir():
        raise BackupError(_("The folder %(parent)s does not exist (is the USB stick plugged in?).", parent=target.parent))
    created_at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    try:
        folder, staging_lock = _new_export_staging(target.parent)
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise BackupError(_("Not enough free space in %(parent)s for the backup.", parent=target.parent)) from None
        raise BackupError(_("Cannot write to %(parent)s: %(strerror)s.", parent=target.parent, strerror=error.strerror)) from None
    partial = target.with_name(target.name + ".part")
    checking: Future[DatabaseFacts] | None = None
    try:
        snapshot = folder / DATABASE_MEMBER
        take_snapshot(config.database_path, snapshot)
        # integrity_check reads the copy in SQLite (no GIL) while this thread encrypts it: the
        # two overlap, and the bundle is only renamed into place once the check has passed.
        checking = _POOL.submit(check_snapshot, snapshot)
        attachments = _attachment_files(config.attachments_dir)
        templates = _attachment_files(config.data_dir / TEMPLATES_DIR_NAME)
        total = snapshot.stat().st_size + sum(p.stat().st_size for _, p in attachments + templates)
        done = 0

        def on_bytes(n: int) -> None:
            nonlocal done
            done += n
            if progress and n:
                progress(done, total)

        try:
            handle = _open_new_private(partial)
        except FileExistsError:
            partial.unlink()
            handle = _open_new_private(partial)
        except OSError as error:
            raise BackupError(_("Cannot write to %(parent)s: %(strerror)s.", parent=target.parent, strerror=error.strerror)) from None
        with handle:
            writer = BundleWriter(handle, passphrase, kdf=kdf)

            def fields() -> dict[str, Any]:
                assert checking is not None
                facts = checking.result()
                return {"app_version": __version__, "business_name": facts.business_name,
                        "migrations": facts.migrations, "row_counts": facts.row_counts,
                        "audit_head": facts.audit_head}

            manifest = write_payload(writer, database=snapshot, attachments=attachments, created_at=created_at,
                                     on_bytes=on_bytes, manifest_fields=fields, templates=templates)
            writer.close()
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
        fsync_dir(target.parent)
        return ExportResult(target, target.stat().st_size, manifest)
    except OSError as error:
        partial.unlink(missing_ok=True)
        if error.errno == errno.ENOSPC:
            raise BackupError(_("Not enough free space in %(parent)s for the backup.", parent=target.parent)) from None
        raise BackupError(_("The backup could not be written: %(value)s.", value=error.strerror or error)) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        if checking is not None:
            checking.exception()   # wait for it: the snapshot it reads is about to be removed
        staging_lock.release()
        shutil.rmtree(folder, ignore_errors=True)   # the unencrypted snapshot goes with the export


def _new_export_staging(folder: Path) -> tuple[Path, InstanceLock]:
    """A private folder beside the bundle for the database snapshot: on the target's disk, never in the data
    folder (which may be full or read-only). It is locked while the export runs, so that an export killed
    midway leaves nothing that the next one (or the next start, `remove_abandoned_exports`) keeps."""
    remove_abandoned_exports(folder)
    staging = folder / f"{EXPORT_STAGING_PREFIX}{secrets.token_hex(8)}"
    staging.mkdir(mode=0o700)
    lock = InstanceLock(staging / "in-use.lock")
    try:
        lock.acquire()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging, lock


def remove_abandoned_exports(folder: Path) -> list[Path]:
    """Snapshots of exports that were killed midway (their lock is free) and their unfinished bundles
    (`*.counterfoil.part` older than an hour: a running export rewrites its own constantly)."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        try:
            if (entry.name.startswith(EXPORT_STAGING_PREFIX) and entry.is_dir() and not entry.is_symlink()
                    and running_port(entry / "in-use.lock") is None):
                shutil.rmtree(entry, ignore_errors=True)
            elif (entry.name.endswith(logic.SUFFIX + ".part") and entry.is_file()
                  and now - entry.stat().st_mtime > STALE_AFTER_S):
                entry.unlink()
            else:
                continue
        except OSError:
            continue
        removed.append(entry)
    return removed


async def remove_leftovers(config: Config) -> list[Path]:
    """At the server's start (instance lock held, a cut-short restore already recovered, the database open):
    what interrupted work left in the data folder (datafolder.remove_leftovers) and in the scheduled
    backups' folder. The folder is read through the open database: a connection of its own would read the
    whole schema once more (~7 ms of every start)."""
    removed = datafolder.remove_leftovers(config.data_dir)
    folder = str((await get_schedule())["folder"] or "")
    if folder and Path(folder).is_dir():
        removed += remove_abandoned_exports(Path(folder))
    return removed


def _read_schedule(config: Config) -> tuple[str, str]:
    """The scheduled backups' folder and last file, read straight from the file (it may be damaged)."""
    try:
        connection = datafolder.connect_reading(config.database_path)
    except (sqlite3.Error, datafolder.DataFolderProblem):
        return "", ""
    try:
        row = connection.execute("SELECT folder, last_success_file FROM backup_settings WHERE id = ?",
                                 (SETTINGS_ID,)).fetchone()
    except sqlite3.Error:
        row = None
    finally:
        connection.close()
    return (str(row[0] or ""), str(row[1] or "")) if row else ("", "")


def newest_backups(config: Config) -> tuple[tuple[Path, datetime] | None, tuple[Path, datetime] | None]:
    """The newest copy kept before a restore (`pre-restore-*.sqlite` in the data folder) and the newest
    scheduled backup (in its folder, else the last one recorded), each with when it was made."""
    def newest(paths: list[Path]) -> tuple[Path, datetime] | None:
        dated = []
        for path in paths:
            try:
                if path.is_file() and path.stat().st_size > 0:   # the time in its name, else when last written
                    made = logic.time_in_name(path.name) or datetime.fromtimestamp(path.stat().st_mtime)
                    dated.append((path, made))
            except OSError:
                continue
        return max(dated, key=lambda item: item[1]) if dated else None

    kept = newest(list(config.data_dir.glob("pre-restore-*.sqlite")))
    folder, last_file = _read_schedule(config)
    candidates = [Path(last_file)] if last_file else []
    if folder and Path(folder).is_dir():
        candidates += list(Path(folder).glob("*" + logic.SUFFIX))
    return kept, newest(candidates)


def recovery_advice(config: Config, *, damaged: bool) -> str:
    """What to do when the database is damaged or was emptied: the newest backups, and how to put one back."""
    kept, scheduled = newest_backups(config)
    return logic.recovery_advice(str(config.database_path),
                                 (str(kept[0]), kept[1]) if kept else None,
                                 (str(scheduled[0]), scheduled[1]) if scheduled else None, damaged=damaged)


# -- staging and verifying a bundle -------------------------------------------------------

@dataclass
class Staged:
    token: str
    folder: Path
    manifest: dict[str, Any]
    needs_migration: bool
    bundle_size: int
    created_data_dir: bool = False
    # What it would switch on (mail, schedules, templates, tokens), shown before it applies.
    settings: logic.BundleSettings = field(default_factory=logic.BundleSettings)

    @property
    def database(self) -> Path:
        return self.folder / DATABASE_MEMBER

    @property
    def attachments(self) -> Path:
        return self.folder / "attachments"

    @property
    def templates(self) -> Path:
        return self.folder / TEMPLATES_DIR_NAME


def server_port(config: Config) -> int | None:
    """The port of a server holding this data folder's instance lock (0 if not recorded yet), or None."""
    return running_port(config.lock_path)


def running_refusal(config: Config, port: int) -> RestoreRefused:
    where = f" (http://127.0.0.1:{port})" if port else ""
    return RestoreRefused(_("Counterfoil is running on this data folder%(where)s: import the backup from its Backup page, or quit Counterfoil and run this again. ", where=where) + UNCHANGED)


def _check_space(folder: Path, needed: int) -> None:
    probe = folder
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed + 64 * 1024 * 1024:
        raise RestoreRefused(f"Not enough free space to restore: the backup needs about "
                             f"{describe_size(needed)}, {describe_size(free)} is free. " + UNCHANGED)


def stage_bundle(config: Config, source: Path | IO[bytes], passphrase: str, *,
                 progress: Progress | None = None) -> Staged:
    """Decrypt and check everything into a private folder; raise a BackupError and leave nothing behind otherwise."""
    datafolder.before_write()   # a server whose folder is read-only or gone restores nothing (DataFolderProblem)
    handle: IO[bytes]
    own_handle = isinstance(source, (str, Path))
    if isinstance(source, (str, Path)):
        try:
            handle = open(source, "rb")
        except FileNotFoundError:
            raise BackupError(_("%(source)s does not exist.", source=source)) from None
        except IsADirectoryError:
            raise BackupError(_("%(source)s is a folder, not a backup file.", source=source)) from None
        except OSError as error:
            raise BackupError(_("Cannot read %(source)s: %(strerror)s.", source=source, strerror=error.strerror)) from None
    else:
        handle = source
    created_dir = not config.data_dir.exists()
    folder: Path | None = None
    try:
        header = read_header(handle)            # no passphrase needed: signature, checksum, limits, length
        _check_space(config.data_dir, header.plaintext_length)
        first_half, second_half = _halves(progress)
        reader = BundleReader(handle, passphrase, progress=first_half)   # the KDF, then the header MAC
        # First pass, nothing written: every member's kind, name and declared size against the manifest,
        # and their sum against the free space. Only then the second pass writes them.
        surveyed, declared = _survey(reader)
        _check_space(config.data_dir, logic.check_declared_sizes(surveyed, declared))
        reader.rewind(progress=second_half)
        folder = _new_work_folder(config, "restore")
        manifest, inspection = _extract(reader, folder, declared)
        if manifest != surveyed:
            raise ContentInvalid("The backup changed while it was being read. " + UNCHANGED)
        needs_migration = _judge_staged_database(inspection, manifest)
        restore.check_stored_names(folder / DATABASE_MEMBER)
        (folder / "attachments").mkdir(mode=0o700, exist_ok=True)
        with _open_new_private(folder / MANIFEST_MEMBER) as out:
            out.write(json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
        staged = Staged(token=folder.name.removeprefix("restore-"), folder=folder, manifest=manifest,
                        needs_migration=needs_migration, bundle_size=header.bundle_size,
                        created_data_dir=created_dir,
                        settings=restore.read_bundle_settings(folder / DATABASE_MEMBER, folder / TEMPLATES_DIR_NAME))
        return staged
    except BaseException:
        if folder is not None:
            _remove_work_folder(config, folder)
        if created_dir:
            shutil.rmtree(config.data_dir, ignore_errors=True)
        raise
    finally:
        if own_handle:
            handle.close()


def _halves(progress: Progress | None) -> tuple[Progress | None, Progress | None]:
    """The two passes over a bundle report as one: the first half, then the second."""
    if progress is None:
        return None, None
    return (lambda done, total: progress(done // 2, total),
            lambda done, total: progress((total + done) // 2, total))


def _plain_member(member: tarfile.TarInfo) -> str:
    """A member's checked name: a regular file, never sparse (its holes would be written out as zeros,
    many times the bundle's size), with a safe name."""
    if member.type == tarfile.GNUTYPE_SPARSE or member.sparse is not None or any(
            key.startswith("GNU.sparse.") for key in member.pax_headers):
        raise ContentInvalid(f"The backup holds a sparse file ({member.name[:120]!r}), which Counterfoil never "
                             "writes. " + UNCHANGED)
    if not member.isreg():
        raise ContentInvalid(f"The backup holds something that is not a plain file "
                             f"({member.name[:120]!r}). " + UNCHANGED)
    return logic.check_member_name(member.name)


def _parse_manifest(manifest_bytes: bytes | None) -> Any:
    if manifest_bytes is None:
        raise ContentInvalid("The backup has no manifest. " + UNCHANGED)
    try:
        return json.loads(manifest_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ContentInvalid("The backup's manifest is not valid JSON. " + UNCHANGED) from None


def _read_manifest(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    if member.size > logic.MAX_MANIFEST_BYTES:
        raise ContentInvalid("The backup's manifest is implausibly large. " + UNCHANGED)
    extracted = tar.extractfile(member)
    assert extracted is not None
    return extracted.read()


def _archive_members(reader: BundleReader,
                     manifest: list[bytes]) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo, str]]:
    """The bundle's archive, member by member as it is decrypted: each file once, in order, the manifest
    last (read into `manifest`, not yielded), and nothing after the archive's end."""
    names: set[str] = set()
    # typeshed wants a seekable, writable file even for a read stream ("r|"), which only calls read().
    with tarfile.open(fileobj=reader, mode="r|", bufsize=COPY_BLOCK) as tar:  # type: ignore[call-overload]
        for member in tar:
            if manifest:
                raise ContentInvalid("The backup holds files after its manifest. " + UNCHANGED)
            name = _plain_member(member)
            if name in names:
                raise ContentInvalid(f"The backup holds {name!r} twice. " + UNCHANGED)
            names.add(name)
            if name == MANIFEST_MEMBER:
                manifest.append(_read_manifest(tar, member))
                continue
            yield tar, member, name
    if not reader.drain():
        raise ContentInvalid("The backup holds data after the end of its archive. " + UNCHANGED)


def _survey(reader: BundleReader) -> tuple[dict[str, Any], dict[str, int]]:
    """The first pass: authenticate the whole payload and read the archive's headers and manifest,
    writing nothing. Returns the manifest (its shape checked) and each member's declared size."""
    declared: dict[str, int] = {}
    manifest_bytes: list[bytes] = []
    try:
        for _tar, member, name in _archive_members(reader, manifest_bytes):
            declared[name] = member.size
    except (tarfile.TarError, UnicodeError, EOFError) as error:
        raise ContentInvalid(f"The backup's archive is malformed ({error}). " + UNCHANGED) from None
    manifest = _parse_manifest(manifest_bytes[0] if manifest_bytes else None)
    logic.listed_files(manifest)
    return manifest, declared


def _extract(reader: BundleReader, folder: Path,
             declared: dict[str, int]) -> tuple[dict[str, Any], DatabaseInspection]:
    """Write the members into `folder` while authenticating them (the second pass: each member must be
    the one the first pass saw, with the same declared size).

    The database is inspected (integrity_check, counts) by a worker as soon as it is
    complete, and the other files are flushed to disk by a worker as they are written, so
    the checks overlap the decryption. Whatever happens, the workers are done with the
    folder when this returns or raises.
    """
    seen: dict[str, MemberDigest] = {}
    manifest_bytes: list[bytes] = []
    inspecting: Future[DatabaseInspection] | None = None
    syncing: list[Future[None]] = []
    root = folder.resolve()
    try:
        try:
            for tar, member, name in _archive_members(reader, manifest_bytes):
                if declared.get(name) != member.size:
                    raise ContentInvalid("The backup changed while it was being read. " + UNCHANGED)
                extracted = tar.extractfile(member)
                assert extracted is not None
                target = root / name
                if root not in target.parents:   # names are already checked; belt and braces
                    raise ContentInvalid(f"The backup holds a file with an unsafe name {name!r}. " + UNCHANGED)
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                digest = hashlib.sha256()
                size = 0
                with _open_new_private(target) as out:
                    while block := extracted.read(COPY_BLOCK):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
                seen[name] = MemberDigest(name, size, digest.hexdigest())
                if name == DATABASE_MEMBER:
                    inspecting = _POOL.submit(_inspect_database, target)
                else:
                    syncing.append(_POOL.submit(fsync_file, target))
        except (tarfile.TarError, UnicodeError, EOFError) as error:
            raise ContentInvalid(f"The backup's archive is malformed ({error}). " + UNCHANGED) from None
        manifest = _parse_manifest(manifest_bytes[0] if manifest_bytes else None)
        logic.check_manifest(manifest, seen)
        assert inspecting is not None   # check_manifest requires the database
        for future in syncing:
            future.result()
        return manifest, inspecting.result()
    finally:
        pending: list[Future[Any]] = [*syncing, *([inspecting] if inspecting else [])]
        for future in pending:
            if not future.cancel():
                future.exception()


@dataclass
class DatabaseInspection:
    problem: str | None
    facts: DatabaseFacts | None


def _inspect_database(path: Path) -> DatabaseInspection:
    """integrity_check and the facts of the staged database (runs in a worker, beside the decryption)."""
    connection = sqlite3.connect(path)
    try:
        problem = _integrity_ok(connection)
        facts = database_facts(connection)
        if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
            connection.execute("PRAGMA journal_mode = DELETE")
        connection.close()
        fsync_file(path)
        return DatabaseInspection(problem, facts)
    except sqlite3.DatabaseError as error:
        connection.close()
        return DatabaseInspection(f"it cannot be read: {error}", None)


def _judge_staged_database(inspection: DatabaseInspection, manifest: dict[str, Any]) -> bool:
    """Integrity, counts and schema of the staged database; True when it needs migrating."""
    if inspection.problem or inspection.facts is None:
        raise ContentInvalid(f"The backup's database fails its integrity check ({inspection.problem}). " + UNCHANGED)
    facts = inspection.facts
    if facts.row_counts != manifest["row_counts"]:
        raise ContentInvalid("The backup's database does not hold the row counts its manifest lists. " + UNCHANGED)
    listed = {app: sorted(ids) for app, ids in manifest["migrations"].items()}
    if facts.migrations != listed:
        raise ContentInvalid("The backup's database does not have the schema its manifest lists. " + UNCHANGED)
    return _needs_migration(facts.migrations, manifest["app_version"])


def _needs_migration(applied: dict[str, list[str]], app_version: str) -> bool:
    """Whether the staged database must be upgraded; one made by a newer Counterfoil is refused.

    Its migrations are compared as this version names them: those a squashed migration replaced
    count as that one, and such a database needs migrating (its `migration` table is rewritten).
    """
    try:
        comparison, named = schema_against_program(applied)
    except MigrationError as error:
        raise ContentInvalid(f"The backup's database cannot be upgraded: {error}. " + UNCHANGED) from None
    if comparison.newer:
        raise logic.newer_schema(app_version)
    return comparison.needs_migration or named != {app: sorted(ids) for app, ids in applied.items()}


def staged_folder(config: Config, token: str) -> Path | None:
    if not token or len(token) != 16 or any(c not in "0123456789abcdef" for c in token):
        return None
    folder = work_dir(config) / f"restore-{token}"
    return folder if (folder / MANIFEST_MEMBER).is_file() and (folder / DATABASE_MEMBER).is_file() else None


def load_staged(config: Config, token: str) -> Staged | None:
    folder = staged_folder(config, token)
    if folder is None:
        return None
    manifest = json.loads((folder / MANIFEST_MEMBER).read_text(encoding="utf-8"))
    return Staged(token=token, folder=folder, manifest=manifest,
                  needs_migration=_needs_migration(manifest["migrations"], manifest["app_version"]), bundle_size=0,
                  settings=restore.read_bundle_settings(folder / DATABASE_MEMBER, folder / TEMPLATES_DIR_NAME))


def discard_staged(config: Config, staged: Staged | None) -> None:
    if staged is None:
        return
    _remove_work_folder(config, staged.folder)
    if staged.created_data_dir:
        try:
            config.data_dir.rmdir()
        except OSError:
            pass


# -- applying a staged restore ----------------------------------------------------------------

@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    previous_database: Path | None
    previous_attachments: Path | None
    migrated: bool = False
    previous_templates: Path | None = None


async def _migrate_live(config: Config) -> None:
    """Bring a restored older database up to this program's schema (the engine points at the live file)."""
    await apply_migrations()
    connection = sqlite3.connect(config.database_path, timeout=engine.BUSY_TIMEOUT_S)
    try:
        problem = _integrity_ok(connection)
        facts = database_facts(connection)
    finally:
        connection.close()
    if problem:
        raise ContentInvalid(f"the upgraded database fails its integrity check ({problem})")
    if compare_schema(facts.migrations, known_migrations()).needs_migration:
        raise ContentInvalid("the database could not be brought up to date")


async def apply_staged(config: Config, staged: Staged, *, in_server: bool = False, now: datetime | None = None,
                       choices: logic.RestoreChoices | None = None) -> RestoreResult:
    """Swap the staged data in (app/backup/restore.py: all or nothing, even under kill -9), then upgrade
    it if it is older; writes are paused meanwhile when a server runs here. What the backup would
    switch on is off unless `choices` keeps it.

    The upgrade runs on the restored database right after the swap, inside the same pause (the
    engine's connections belong to the live file) and before the journal is dropped; if it fails,
    the previous data is put back and the error says so.
    """
    from app.db.lifecycle import prepare_files

    moment = (now or datetime.now()).replace(microsecond=0)
    old_umask = os.umask(0o077)
    try:
        async with engine.writes_paused() if in_server else _nothing():
            datafolder.before_write()
            try:
                await asyncio.to_thread(restore.recover, config)   # an earlier restore cut short, if any
                swapped = await asyncio.to_thread(restore.swap_in, config, staged.folder, moment,
                                                  choices or logic.RestoreChoices())
            except (OSError, sqlite3.Error) as error:
                log.error("restoring a backup failed while swapping it in: %s", error)
                raise RestoreRefused(f"The restore could not be completed ({error}); your data was left as it "
                                     "was.") from None
            result = RestoreResult(manifest=staged.manifest, previous_database=swapped.previous_database,
                                   previous_attachments=swapped.previous_attachments,
                                   previous_templates=swapped.previous_templates)
            prepare_files(config)
            if staged.needs_migration:
                try:
                    await _migrate_live(config)
                    restore.reached("migrated")
                except Exception as error:
                    log.exception("upgrading the restored database failed; putting the previous data back")
                    restore.undo(config)
                    prepare_files(config)
                    reason = error.message if isinstance(error, BackupError) else f"{type(error).__name__}: {error}"
                    raise ContentInvalid(f"The backup's database could not be upgraded to this version of "
                                         f"Counterfoil ({reason}); your previous data was put back.") from None
                result.migrated = True
            restore.finish(config)
            await asyncio.to_thread(_record_restore, config, staged.manifest, swapped.previous_database, moment)
    finally:
        os.umask(old_umask)
        discard_staged(config, staged)
    log.info("restored a backup of %r made %s (previous database kept as %s)", staged.manifest.get("business_name"),
             staged.manifest.get("created_at"), result.previous_database)
    return result


def _record_restore(config: Config, manifest: dict[str, Any], previous_database: Path | None, moment: datetime) -> None:
    """The restored trail says it was restored (from which backup, over which trail), and the heads the
    data folder kept for the trail it replaced are set aside: they belong to that one."""
    previous_head = None
    if previous_database is not None and previous_database.is_file():
        with closing(sqlite3.connect(f"file:{previous_database}?mode=ro", uri=True)) as previous:
            previous_head = audit_trail.head(previous)
    note = (f"restored the backup of {manifest.get('business_name') or 'an unnamed business'} made "
            f"{manifest.get('created_at')} by Counterfoil {manifest.get('app_version')}")
    changes: dict[str, Any] = {"backup_created_at": manifest.get("created_at"),
                               "backup_audit_head": manifest.get("audit_head"),
                               "previous_database": previous_database.name if previous_database else None,
                               "previous_audit_head": previous_head.as_json() if previous_head else None}
    try:
        audit_service.record_restore(config.database_path, note=note, changes=changes,
                                     stamp=moment.strftime("%Y%m%d-%H%M%S"))
    except (OSError, sqlite3.Error) as error:   # the restore itself is done; say so, do not undo it
        log.error("the restore could not be recorded in the audit trail: %s", error)


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


def recover_interrupted_restore(config: Config, *, lock_held: bool = False) -> str | None:
    """At start: finish or undo a restore that was cut short. Only the holder of the instance lock may:
    with `lock_held` False this does nothing while a server (or an import) holds the data folder."""
    if not lock_held and server_port(config) is not None:
        return None
    return restore.recover(config)


def import_bundle(config: Config, source: Path, passphrase: str, *, progress: Progress | None = None,
                  choices: logic.RestoreChoices | None = None,
                  before_apply: Callable[[Staged], bool] | None = None) -> RestoreResult | None:
    """The command line's import: refused while a server holds the folder; the instance lock is held meanwhile.

    `before_apply` sees the checked bundle (its manifest and settings) before anything live changes;
    returning False stops there (nothing is changed, and None is returned)."""
    port = server_port(config)
    if port is not None:
        raise running_refusal(config, port)
    staged = stage_bundle(config, source, passphrase, progress=progress)
    restore.reached("staged")
    lock = InstanceLock(config.lock_path)
    try:
        if before_apply is not None and not before_apply(staged):
            return None
        try:
            lock.acquire()
        except AlreadyRunning as running:
            raise running_refusal(config, running.port) from None
        return asyncio.run(apply_staged(config, staged, choices=choices))
    finally:
        lock.release()
        discard_staged(config, staged)


# -- scheduled backups ------------------------------------------------------------------------

def passphrase_path(config: Config) -> Path:
    return config.data_dir / PASSPHRASE_FILE


def has_scheduled_passphrase(config: Config) -> bool:
    return passphrase_path(config).is_file()


def save_scheduled_passphrase(config: Config, passphrase: str) -> None:
    path = passphrase_path(config)
    partial = path.with_name(path.name + ".part")
    partial.unlink(missing_ok=True)
    try:
        with _open_new_private(partial) as out:
            out.write(passphrase.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.chmod(path, 0o600)


def read_scheduled_passphrase(config: Config) -> str:
    try:
        return passphrase_path(config).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BackupError(_("No passphrase is set for scheduled backups: set one on the Backup page.")) from None


SCHEDULE_DEFAULTS: dict[str, Any] = {"id": SETTINGS_ID, "folder": "", "rhythm": "off", "keep_last": 10,
                                     "last_success_at": None, "last_success_file": "", "last_attempt_at": None,
                                     "last_error": "", "updated_at": None}


async def get_schedule() -> dict[str, Any]:
    """The schedule and how the last backup went (defaults until first saved: reading never writes)."""
    row = await BackupSettings.select().where(BackupSettings.id == SETTINGS_ID).first()
    return row if row is not None else dict(SCHEDULE_DEFAULTS)


async def _ensure_schedule_row() -> None:
    async with write_transaction():
        if await BackupSettings.select(BackupSettings.id).where(BackupSettings.id == SETTINGS_ID).first() is None:
            await BackupSettings.insert(BackupSettings(id=SETTINGS_ID))


async def update_schedule(config: Config, data: dict[str, Any]) -> dict[str, Any]:
    values, passphrase = logic.clean_schedule(data, data_dir=str(config.data_dir),
                                              has_passphrase=has_scheduled_passphrase(config))
    folder = values.get("folder") or ""
    if folder and not Path(folder).is_dir():
        from app.common.logic import FieldError, ValidationFailed
        raise ValidationFailed([FieldError("folder", _("The folder %(folder)s does not exist (plug in the stick, or create the folder first)", folder=folder))])
    await _ensure_schedule_row()
    if passphrase is not None:
        save_scheduled_passphrase(config, passphrase)
    async with write_transaction():
        await BackupSettings.update({BackupSettings.folder: folder, BackupSettings.rhythm: values["rhythm"],
                                     BackupSettings.keep_last: values["keep_last"],
                                     BackupSettings.updated_at: datetime.now(UTC)}).where(
            BackupSettings.id == SETTINGS_ID)
    return await get_schedule()


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


async def schedule_health(now: datetime | None = None) -> logic.BackupHealth:
    row = await get_schedule()
    return logic.backup_health(row["rhythm"], _aware(row["last_success_at"]), _aware(row["last_attempt_at"]),
                               row["last_error"], now or datetime.now(UTC), zone=_zone(current_time_zone()))


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def write_scheduled_bundle(config: Config, folder: Path, keep: int, passphrase: str, now: datetime) -> Path:
    if not folder.is_dir():
        raise BackupError(_("The backup folder %(folder)s is not available (is the USB stick plugged in?).", folder=folder))
    existing = [entry.name for entry in folder.iterdir()]
    target = folder / logic.scheduled_filename(now.astimezone(), existing)
    export_bundle(config, target, passphrase, now=now)
    for name in logic.files_to_prune([*existing, target.name], keep):
        try:
            (folder / name).unlink()
        except OSError as error:
            log.warning("could not remove old backup %s: %s", folder / name, error)
    return target


async def run_scheduled_backup(config: Config, *, now: datetime | None = None) -> Path | None:
    """Write one scheduled bundle now; the outcome is recorded for the dashboard and the log."""
    await _ensure_schedule_row()
    row = await get_schedule()
    moment = now or datetime.now(UTC)
    async with write_transaction():
        await BackupSettings.update({BackupSettings.last_attempt_at: moment}).where(BackupSettings.id == SETTINGS_ID)
    try:
        if not row["folder"]:
            raise BackupError(_("No folder is set for scheduled backups."))
        passphrase = read_scheduled_passphrase(config)
        path = await asyncio.to_thread(write_scheduled_bundle, config, Path(row["folder"]), row["keep_last"],
                                       passphrase, moment)
    except BackupError as error:
        message = error.message
    except Exception as error:  # a scheduled job must record its failure, whatever it was
        log.exception("scheduled backup failed")
        message = f"{type(error).__name__}: {error}"
    else:
        async with write_transaction():
            await BackupSettings.update({BackupSettings.last_success_at: moment, BackupSettings.last_error: "",
                                         BackupSettings.last_success_file: str(path)}).where(
                BackupSettings.id == SETTINGS_ID)
        log.info("scheduled backup written to %s", path)
        return path
    log.error("scheduled backup failed: %s", message)
    async with write_transaction():
        await BackupSettings.update({BackupSettings.last_error: message}).where(BackupSettings.id == SETTINGS_ID)
    return None


async def run_if_due(config: Config, *, now: datetime | None = None) -> Path | None:
    row = await get_schedule()
    moment = now or datetime.now(UTC)
    if logic.is_due(row["rhythm"], _aware(row["last_success_at"]), _aware(row["last_attempt_at"]), moment):
        return await run_scheduled_backup(config, now=moment)
    return None


SCHEDULER_FIRST_CHECK_S = 60.0
SCHEDULER_INTERVAL_S = 600.0


class Scheduler:
    """Checks every ten minutes whether a daily or weekly backup is due; runs an on-quit backup at shutdown."""

    def __init__(self, config: Config):
        self.config = config
        self.periodic = Periodic("the backup schedule's check", lambda: audit_service.as_system("backup schedule", run_if_due(config)),
                                 first_delay_s=SCHEDULER_FIRST_CHECK_S, interval_s=SCHEDULER_INTERVAL_S)

    async def start(self) -> None:
        cleanup_stale_work(self.config)
        self.periodic.start()

    async def stop(self) -> None:
        await self.periodic.stop()
        try:
            row = await get_schedule()
            if row["rhythm"] == "on_quit":
                await audit_service.as_system("backup on quit", run_scheduled_backup(self.config))
        except Exception:
            log.exception("the on-quit backup failed")
