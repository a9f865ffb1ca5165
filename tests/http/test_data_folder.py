"""The data folder's failures are named, and data stays in one file (issue 12, item 6).

From outside where it can be: real `counterfoil serve` processes (tests/http/live_server.py) stopped
as the system stops them (SIGTERM), on damaged, emptied, newer, moved, read-only (a read-only bind
mount) and full (a small tmpfs) data folders (tests/mounts.py). In process, the same code paths
with SQLite's own "database or disk is full" (a page limit on the writer connection), ENOSPC from a
file write (monkeypatched), and a read-only start simulated by telling the program the folder cannot
be written (the SQLite side is then the same: the file opened immutable, a private copy served).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.backup import service as backup_service
from app.config import Config
from app.db import datafolder, engine
from app.db import logic as db_logic
from app.db.datafolder import DatabaseDamaged, DatabaseMissing, DatabaseTooNew
from app.db.lifecycle import open_database
from app.db.migrate import known_migrations
from tests import mounts
from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD, run
from tests.http.conftest import CSRF_RE, _client
from tests.http.live_server import PASSWORD, REPO, Server, free_port, init_data_folder, launch, stop

PASSPHRASE = "correct horse battery staple"
FUTURE_MIGRATION = "2099-01-01T00:00:00:000000"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "COUNTERFOIL_DATA_DIR"}
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO, env=environment, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def serve_once(data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`counterfoil serve` on a folder it must refuse: it ends by itself, with its message."""
    return cli("serve", "--data-dir", str(data_dir), "--no-browser", "--port", str(free_port()))


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def without_lock(files: dict[str, bytes]) -> dict[str, bytes]:
    return {name: content for name, content in files.items() if name != "counterfoil.lock"}


def client_names(database: Path) -> list[str]:
    connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [row[0] for row in connection.execute("SELECT name FROM client ORDER BY id")]
    finally:
        connection.close()


def new_client(server: Server, name: str) -> httpx.Response:
    with server.client() as http:
        return http.post("/api/v1/clients", json={"name": name}, headers={"Host": _host(server)})


def health(server: Server) -> dict:
    return httpx.get(server.base_url + "/health", headers={"Host": _host(server)}, timeout=10).json()


def _host(server: Server) -> str:
    return server.base_url.removeprefix("http://")


def sign_in(server: Server) -> httpx.Client:
    """A browser's sign-in with the owner's password (anonymous session, CSRF token, Origin)."""
    browser = httpx.Client(base_url=server.base_url, headers={"Host": _host(server)}, timeout=60)
    page = browser.get("/login")
    csrf = CSRF_RE.search(page.text).group(1)   # type: ignore[union-attr]
    response = browser.post("/login", data={"email": "owner@example.com", "password": PASSWORD, "next": "/",
                                            "csrf_token": csrf}, headers={"Origin": server.base_url})
    assert response.status_code == 303, response.text
    return browser


def damage(database: Path, table: str = "client") -> None:
    """Overwrite one table's root page with garbage, as a failing disk or a bad copy would."""
    connection = sqlite3.connect(database)
    page_size, root = (connection.execute("PRAGMA page_size").fetchone()[0],
                       connection.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0])
    connection.close()
    with open(database, "r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xff" * page_size)


# -- at stop, the database file alone holds everything ----------------------------------

def test_a_stopped_server_leaves_everything_in_the_database_file(tmp_path):
    data_dir, token = init_data_folder(tmp_path)
    assert not Path(str(data_dir / "counterfoil.sqlite") + "-wal").exists()   # the commands closed it too
    server = launch(data_dir, tmp_path / "server.log", token)
    try:
        for name in ("Zoë Tremblay", "Cedar Café"):
            assert new_client(server, name).status_code == 201
        wal = data_dir / "counterfoil.sqlite-wal"
        assert wal.is_file() and wal.stat().st_size > 0   # while it runs, the changes sit in the log
    finally:
        stop(server)   # SIGTERM: uvicorn stops gracefully (and exits by the same signal)
    assert not wal.exists() or wal.stat().st_size == 0
    # Copied alone, as someone copying the folder without its -wal file would: nothing is missing.
    alone = tmp_path / "copy" / "counterfoil.sqlite"
    alone.parent.mkdir()
    shutil.copyfile(data_dir / "counterfoil.sqlite", alone)
    assert client_names(alone) == ["Zoë Tremblay", "Cedar Café"]
    assert "could not fold" not in server.log()


# -- at start: damaged, emptied, newer --------------------------------------------------------

def test_a_damaged_database_is_refused_naming_the_file_and_the_newest_backups(tmp_path):
    data_dir, _ = init_data_folder(tmp_path)
    database = data_dir / "counterfoil.sqlite"
    stick = tmp_path / "stick"
    stick.mkdir()
    for name in ("counterfoil-20261101-090000.counterfoil", "counterfoil-20261203-180000.counterfoil"):
        (stick / name).write_bytes(b"CFBACKUP" + b"\0" * 200)
    shutil.copyfile(database, data_dir / "pre-restore-20261115-101500.sqlite")
    connection = sqlite3.connect(database)
    connection.execute("INSERT INTO backup_settings (id, folder, rhythm, keep_last, last_success_file, last_error) "
                       "VALUES (1, ?, 'daily', 10, '', '')", (str(stick),))
    connection.commit()
    connection.close()
    damage(database)
    before = files_of(data_dir)

    result = serve_once(data_dir)
    assert result.returncode == 1
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith(f"counterfoil: {database} is damaged (SQLite says: ")
    assert "Counterfoil will not open it, and nothing was changed" in message
    newest = stick / "counterfoil-20261203-180000.counterfoil"
    assert f"restore the newest scheduled backup, {newest} (made 2026-12-03 18:00)" in message
    assert f'`counterfoil backup import "{newest}"`' in message
    assert f"copy {data_dir / 'pre-restore-20261115-101500.sqlite'} (kept before a restore, 2026-11-15 10:15)" in message
    assert "The newer of the two is the scheduled backup." in message
    assert without_lock(files_of(data_dir)) == without_lock(before)
    assert (data_dir / "counterfoil.lock").read_bytes() == b""   # no record: the server never started

    result = cli("check", "--data-dir", str(data_dir))
    assert result.returncode == 1
    assert result.stdout.startswith("BREAK database: SQLite integrity check: ")
    assert f"{database} is damaged" in result.stderr and str(newest) in result.stderr
    assert without_lock(files_of(data_dir)) == without_lock(before)


def test_a_file_that_is_not_a_database_is_refused_as_damaged(config):
    run(engine.DB.close_connections(checkpoint=True))   # as after a stop: the file alone holds everything
    config.database_path.write_bytes(b"these are my invoices, honest\n" * 200)
    with pytest.raises(DatabaseDamaged) as refused:
        run(open_database(config))
    assert str(config.database_path) in refused.value.message and "is damaged" in refused.value.message
    assert config.database_path.read_bytes().startswith(b"these are my invoices")


def test_quick_check_finds_a_damaged_index_at_start(config, owner):
    """A page of an index overwritten: not the first page SQLite reads, only quick_check finds it."""
    for n in range(300):
        run(_insert_client(f"Client {n:03}"))
    run(engine.DB.close_connections(checkpoint=True))
    connection = sqlite3.connect(config.database_path)
    index = connection.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'client' "
                               "AND sql IS NOT NULL").fetchone()
    connection.close()
    assert index is not None
    damage(config.database_path, index[0])
    with pytest.raises(DatabaseDamaged):
        run(open_database(config))


async def _insert_client(name: str) -> None:
    from app.clients import service

    await service.create_client({"name": name})


@pytest.mark.parametrize("evidence", ["attachment", "server ran here", "pre-restore copy"])
def test_an_emptied_database_where_data_was_is_not_a_fresh_install(tmp_path, evidence):
    data_dir, token = init_data_folder(tmp_path)
    if evidence == "attachment":
        (data_dir / "attachments" / "logo-20260101.png").write_bytes(b"\x89PNG logo")
    elif evidence == "server ran here":
        stop(launch(data_dir, tmp_path / "server.log", token))
        assert (data_dir / "counterfoil.lock").stat().st_size > 1
    else:
        shutil.copyfile(data_dir / "counterfoil.sqlite", data_dir / "pre-restore-20261115-101500.sqlite")
    (data_dir / "counterfoil.sqlite").write_bytes(b"")   # a sync tool or a bad copy emptied it

    result = serve_once(data_dir)
    assert result.returncode == 1
    assert (f"{data_dir / 'counterfoil.sqlite'} is empty (0 bytes), but this folder has held Counterfoil data"
            in result.stderr)
    assert "it is not treated as a new start, and nothing was changed" in result.stderr
    assert (data_dir / "counterfoil.sqlite").stat().st_size == 0   # no fresh schema, no new owner to set up
    assert cli("check", "--data-dir", str(data_dir)).returncode == 1


def test_a_missing_database_where_data_was_is_refused_too(config, owner):
    (config.attachments_dir / "logo-20260101.png").write_bytes(b"\x89PNG logo")
    run(engine.DB.close_connections(checkpoint=True))
    assert not Path(str(config.database_path) + "-wal").exists()
    config.database_path.unlink()
    with pytest.raises(DatabaseMissing) as refused:
        run(open_database(config))
    assert "is missing, but this folder has held Counterfoil data (its attachments folder holds files)" in \
        refused.value.message
    assert not config.database_path.exists()


def test_a_new_folder_and_an_empty_database_in_it_are_still_a_fresh_start(tmp_path):
    fresh = Config(data_dir=tmp_path / "new")
    run(open_database(fresh))
    assert fresh.database_path.stat().st_size > 0
    emptied = Config(data_dir=tmp_path / "touched")
    emptied.data_dir.mkdir()
    emptied.database_path.write_bytes(b"")   # made by hand, nothing else there: nothing to lose
    run(open_database(emptied))
    assert emptied.database_path.stat().st_size > 0


def test_a_database_from_a_newer_counterfoil_is_refused_by_serve_and_check(tmp_path):
    data_dir, _ = init_data_folder(tmp_path)
    connection = sqlite3.connect(data_dir / "counterfoil.sqlite")
    connection.execute("INSERT INTO migration (name, app_name, ran_on) VALUES (?, 'clients', '2099-01-01')",
                       (FUTURE_MIGRATION,))
    connection.commit()
    connection.close()
    before = files_of(data_dir)
    knows = db_logic.schema_version(known_migrations())
    expected = (f"{data_dir / 'counterfoil.sqlite'} was made by a newer Counterfoil (schema {FUTURE_MIGRATION}, "
                f"this program knows {knows})")
    for command in (("serve", "--no-browser", "--port", str(free_port())), ("check",)):
        result = cli(*command, "--data-dir", str(data_dir))
        assert result.returncode == 1, command
        assert expected in result.stderr, result.stderr
        assert "To get your data back" not in result.stderr   # nothing is wrong with it: update the program
        assert without_lock(files_of(data_dir)) == without_lock(before)


def test_serve_and_restore_apply_the_same_newer_schema_rule(config):
    """One rule (migrate.schema_against_program): a migration this program does not know is newer."""
    from app.backup import logic as backup_logic
    from app.db.migrate import schema_against_program

    applied = {app: sorted(ids) for app, ids in known_migrations().items()}
    applied["clients"].append(FUTURE_MIGRATION)
    comparison, _ = schema_against_program(applied)
    assert comparison.newer and comparison.missing_here == {"clients": [FUTURE_MIGRATION]}
    with pytest.raises(backup_logic.NewerSchema):
        backup_service._needs_migration(applied, "9.9.9")
    connection = sqlite3.connect(config.database_path)
    connection.execute("INSERT INTO migration (name, app_name, ran_on) VALUES (?, 'clients', '2099-01-01')",
                       (FUTURE_MIGRATION,))
    connection.commit()
    connection.close()
    with pytest.raises(DatabaseTooNew):
        run(open_database(config))


# -- a data folder deleted or moved while running ------------------------------------------------

def test_a_moved_data_folder_takes_no_more_writes_and_health_says_so(tmp_path):
    data_dir, token = init_data_folder(tmp_path)
    server = launch(data_dir, tmp_path / "server.log", token)
    moved = tmp_path / "moved-by-a-sync-tool"
    try:
        assert new_client(server, "Before").status_code == 201
        assert health(server)["data_folder"] == "ok"
        data_dir.rename(moved)

        refused = new_client(server, "After")
        assert refused.status_code == 503
        assert refused.json()["detail"].startswith(f"The data folder is gone: {data_dir} was deleted or moved")
        body = health(server)
        assert body["status"] == "degraded" and body["data_folder"] == "gone"
        assert "gone" in body["detail"] and str(data_dir) not in body["detail"]

        moved.rename(data_dir)   # back where it was: the server still takes nothing until restarted
        assert new_client(server, "Back again").status_code == 503
        with server.client() as http:   # reading goes on
            listed = http.get("/api/v1/clients", headers={"Host": _host(server)}).json()
        assert [c["name"] for c in listed["items"]] == ["Before"]
    finally:
        stop(server)
    assert client_names(data_dir / "counterfoil.sqlite") == ["Before"]
    assert "the data folder" in server.log() and "is gone" in server.log()


def test_a_deleted_data_folder_answers_503_on_pages_and_the_api(config, browser, api):
    from tests.http.support import make_client

    make_client(name="Kept")
    shutil.rmtree(config.data_dir)
    response = api.post("/api/v1/clients", json={"name": "Lost"})
    assert response.status_code == 503 and "the data folder is gone" in response.json()["detail"].lower()
    page = browser.post("/clients", data={"name": "Lost too"})
    assert page.status_code == 503 and "The data folder is gone" in page.text
    dashboard = browser.get("/")
    assert dashboard.status_code == 200   # signed in, reading: the session's bookkeeping is skipped
    assert 'class="alert warn data-folder-notice"' in dashboard.text and "The data folder is gone" in dashboard.text
    assert not config.data_dir.exists()   # nothing made the folder again (not even the logo upload)
    logo = browser.post("/settings/logo", files={"logo": ("logo.png", _png(), "image/png")})
    assert logo.status_code == 503 and not config.data_dir.exists()


def _png() -> bytes:
    from tests.http.support import png

    return png(4, 4)


# -- a read-only data folder --------------------------------------------------------------------------

def test_a_read_only_data_folder_is_served_read_only_and_can_be_checked_and_exported(tmp_path):
    data_dir, token = init_data_folder(tmp_path)
    server = launch(data_dir, tmp_path / "first.log", token)
    try:
        assert new_client(server, "Zoë Tremblay").status_code == 201
    finally:
        stop(server)
    before = files_of(data_dir)
    passphrase = tmp_path / "passphrase"
    passphrase.write_text(PASSPHRASE + "\n", encoding="utf-8")
    copies_before = set(Path(tempfile.gettempdir()).glob(datafolder.COPY_PREFIX + "*"))
    with mounts.read_only(data_dir):
        server = launch(data_dir, tmp_path / "read-only.log", token, expect_status="degraded")
        try:
            assert "READ-ONLY: the data folder" in server.log()
            body = health(server)
            assert body["data_folder"] == "read-only" and body["database"] == "ok"
            with server.client() as http:
                listed = http.get("/api/v1/clients", headers={"Host": _host(server)}).json()
            assert [c["name"] for c in listed["items"]] == ["Zoë Tremblay"]
            refused = new_client(server, "Cedar Café")
            assert refused.status_code == 503
            assert refused.json()["detail"].startswith(f"The data folder {data_dir} is read-only")

            browser = sign_in(server)   # signing in writes only into the private copy
            dashboard = browser.get("/")
            assert dashboard.status_code == 200 and "Zoë" in browser.get("/clients").text
            assert "data-folder-notice" in dashboard.text and "Read-only: the data folder" in dashboard.text
            csrf = CSRF_RE.search(browser.get("/backup").text).group(1)   # type: ignore[union-attr]
            download = browser.post("/backup/export", data={"passphrase": PASSPHRASE, "passphrase_repeat": PASSPHRASE,
                                                            "csrf_token": csrf}, headers={"Origin": server.base_url})
            assert download.status_code == 200 and download.content[:8] == b"CFBACKUP"

            checked = cli("check", "--data-dir", str(data_dir))
            assert checked.returncode == 0, checked.stdout + checked.stderr
            assert "All checks hold" in checked.stdout
            exported = cli("backup", "export", str(tmp_path / "stick.counterfoil"), "--data-dir", str(data_dir),
                           "--passphrase-file", str(passphrase))
            assert exported.returncode == 0, exported.stderr
        finally:
            stop(server)
        assert set(Path(tempfile.gettempdir()).glob(datafolder.COPY_PREFIX + "*")) == copies_before
    assert files_of(data_dir) == before
    # Both bundles hold the data: restore one into a new folder.
    for bundle in (tmp_path / "stick.counterfoil", tmp_path / "web.counterfoil"):
        if bundle.name == "web.counterfoil":
            bundle.write_bytes(download.content)
        restored = tmp_path / f"restored-{bundle.stem}"
        result = cli("backup", "import", str(bundle), "--data-dir", str(restored), "--passphrase-file",
                     str(passphrase))
        assert result.returncode == 0, result.stderr
        assert client_names(restored / "counterfoil.sqlite") == ["Zoë Tremblay"]


def test_a_read_only_start_simulated_in_process(config, owner, monkeypatch):
    """The same as above without a mount (runs everywhere): the program is told the folder cannot be written."""
    from tests.http.support import make_client

    make_client(name="Zoë Tremblay")
    run(engine.DB.close_connections(checkpoint=True))
    monkeypatch.setattr(datafolder, "database_writable", lambda path: False)
    before = files_of(config.data_dir)
    run(open_database(config))
    assert datafolder.WATCH.serving_copy and engine.DB.path != str(config.database_path)
    with _client(config) as browser:
        browser.sign_in(OWNER_EMAIL, OWNER_PASSWORD)
        page = browser.get("/clients")
        assert page.status_code == 200 and "Zoë Tremblay" in page.text and "Read-only: the data folder" in page.text
        refused = browser.post("/clients", data={"name": "Cedar Café"})
        assert refused.status_code == 503 and "is read-only" in refused.text
        assert browser.get("/health").json()["data_folder"] == "read-only"
        csrf = CSRF_RE.search(browser.get("/backup").text).group(1)   # type: ignore[union-attr]
        restore = browser.post("/backup/import", data={"passphrase": PASSPHRASE, "csrf_token": csrf},
                               files={"bundle": ("b.counterfoil", b"CFBACKUP" + b"\0" * 120,
                                                 "application/octet-stream")})
        assert restore.status_code == 503 and "is read-only" in restore.text
    assert files_of(config.data_dir) == before
    assert datafolder.WATCH.copy_dir is None   # the copy went with the server's stop


# -- a full disk ----------------------------------------------------------------------------------------------

def test_a_full_disk_is_named_with_where_and_health_warns_before(tmp_path):
    disk = tmp_path / "disk"
    with mounts.small_disk(disk, 80):
        data_dir, token = init_data_folder(disk)
        server = launch(data_dir, tmp_path / "server.log", token)
        try:
            assert new_client(server, "Before").status_code == 201
            filler = mounts.fill(disk, 20 * 1024 * 1024)
            body = health(server)
            assert body["status"] == "degraded" and body["data_folder"] == "ok"
            assert "almost full" in body["detail"] and body["disk_free_bytes"] < db_logic.LOW_DISK_BYTES
            mounts.fill(disk, 0)
            refused = new_client(server, "While full")
            assert refused.status_code == 507, refused.text
            assert refused.json()["detail"].startswith(f"The disk is full: nothing was saved. The disk holding "
                                                       f"{data_dir}")
            # The backup does not need room in the data folder: its snapshot is made beside the bundle.
            stick = tmp_path / "stick"
            stick.mkdir()
            passphrase = tmp_path / "passphrase"
            passphrase.write_text(PASSPHRASE + "\n", encoding="utf-8")
            exported = cli("backup", "export", str(stick / "b.counterfoil"), "--data-dir", str(data_dir),
                           "--passphrase-file", str(passphrase))
            assert exported.returncode == 0, exported.stderr
            assert [p.name for p in stick.iterdir()] == ["b.counterfoil"]
            filler.unlink()
            assert new_client(server, "After").status_code == 201   # a full disk is not for ever
        finally:
            stop(server)
        assert client_names(data_dir / "counterfoil.sqlite") == ["Before", "After"]


@pytest.fixture
def full_database():
    """SQLite's own SQLITE_FULL: the writer may not grow the file by a single page."""
    async def limit(pages: int | None) -> None:
        writer = await engine.DB._shared_writer()
        if pages is None:
            await writer.execute("PRAGMA max_page_count = 4294967294")
        else:
            (row,) = await writer.execute_fetchall("PRAGMA page_count")
            await writer.execute(f"PRAGMA max_page_count = {row['page_count']}")
    run(limit(0))
    yield
    run(limit(None))


def test_a_full_disk_answers_507_naming_the_folder_and_saves_nothing(config, api, browser, full_database):
    before = client_names(config.database_path)
    notes = "x" * 4_900   # a page of its own: the file must grow
    response = api.post("/api/v1/clients", json={"name": "Cedar Café", "notes": notes})
    assert response.status_code == 507
    assert response.json()["detail"].startswith(f"The disk is full: nothing was saved. The disk holding "
                                                f"{config.data_dir} (")
    page = browser.post("/clients", data={"name": "Cedar Café", "notes": notes})
    assert page.status_code == 507 and "The disk is full" in page.text and str(config.data_dir) in page.text
    assert client_names(config.database_path) == before


def test_a_full_disk_while_saving_the_logo_leaves_no_half_file(config, browser, monkeypatch):
    import app.settings.service as settings_service

    def no_room(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(config.attachments_dir / "logo.png.part"))
    monkeypatch.setattr(settings_service.os, "fsync", no_room)
    response = browser.post("/settings/logo", files={"logo": ("logo.png", _png(), "image/png")})
    assert response.status_code == 507
    assert f"The disk holding {config.attachments_dir}" in response.text
    assert [p.name for p in config.attachments_dir.iterdir()] == []


def test_health_is_degraded_under_50_mb_free(anonymous, owner, monkeypatch):
    monkeypatch.setattr(datafolder, "free_space", lambda path: 49 * 1024 * 1024)
    body = anonymous.get("/health").json()
    assert body["status"] == "degraded" and body["disk_free_bytes"] == 49 * 1024 * 1024
    assert body["detail"] == "The data folder's disk is almost full: 49 MiB free, under 50 MiB."
    monkeypatch.setattr(datafolder, "free_space", lambda path: 51 * 1024 * 1024)
    assert anonymous.get("/health").json()["status"] == "ok"


def test_an_error_that_is_not_the_folder_stays_an_unexpected_one(browser, monkeypatch):
    """A permission error on a file elsewhere is not read as "the data folder is read-only"."""
    from app.settings import service as settings_service

    async def elsewhere(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", "/etc/counterfoil-elsewhere")
    monkeypatch.setattr(settings_service, "get_settings", elsewhere)
    response = browser.get("/")
    assert response.status_code == 500 and "read-only" not in response.text


# -- leftovers ------------------------------------------------------------------------------------------------

def test_leftovers_of_interrupted_work_are_removed_at_the_next_start(tmp_path):
    data_dir, token = init_data_folder(tmp_path)
    stick = tmp_path / "stick"
    stick.mkdir()
    connection = sqlite3.connect(data_dir / "counterfoil.sqlite")
    connection.execute("INSERT INTO backup_settings (id, folder, rhythm, keep_last, last_success_file, last_error) "
                       "VALUES (1, ?, 'daily', 10, '', '')", (str(stick),))
    connection.commit()
    connection.close()
    leftovers = [data_dir / ".backup-work" / "export-0123456789abcdef" / "database.sqlite",
                 data_dir / ".backup-work" / "restore-0123456789abcdef" / "manifest.json",
                 data_dir / "attachments" / "logo-20260101.png.part",
                 data_dir / "backup-passphrase.part",
                 data_dir / "cache" / "pdf" / "tmpx7c2.part",
                 data_dir / "cache" / "typst" / ".part-k2j4" / "default" / "invoice.typ",
                 stick / ".counterfoil-export-0123456789abcdef" / "database.sqlite"]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"SQLite format 3\0 half written")
    (stick / ".counterfoil-export-0123456789abcdef" / "in-use.lock").write_bytes(b"")   # nobody holds it
    kept = [data_dir / "attachments" / "logo-20260101.png", stick / "counterfoil-20261201-090000.counterfoil"]
    for path in kept:
        path.write_bytes(b"keep me")

    server = launch(data_dir, tmp_path / "server.log", token)
    stop(server)
    for path in leftovers:
        assert not path.exists(), path
    assert not (data_dir / ".backup-work").exists()
    assert not (stick / ".counterfoil-export-0123456789abcdef").exists()
    assert not (data_dir / "cache" / "typst" / ".part-k2j4").exists()
    for path in kept:
        assert path.read_bytes() == b"keep me"


def test_an_export_that_fails_midway_leaves_no_snapshot_and_no_part_file(config, owner, tmp_path, monkeypatch):
    stick = tmp_path / "stick"
    stick.mkdir()
    seen: list[Path] = []
    real_payload = backup_service.write_payload

    def payload_then_full(out, *, database, **kwargs):
        seen.append(database)
        assert database.parent.parent == stick and os.stat(database.parent).st_mode & 0o077 == 0
        real_payload(out, database=database, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(backup_service, "write_payload", payload_then_full)
    with pytest.raises(backup_service.BackupError) as refused:
        backup_service.export_bundle(config, stick / "b.counterfoil", PASSPHRASE)
    assert refused.value.message == f"Not enough free space in {stick} for the backup."
    assert seen and not seen[0].exists()
    assert list(stick.iterdir()) == []
    assert not (config.data_dir / ".backup-work").exists()


def test_an_unencrypted_snapshot_never_outlives_the_export(config, owner, tmp_path, monkeypatch):
    stick = tmp_path / "stick"
    stick.mkdir()
    abandoned = stick / ".counterfoil-export-fedcba9876543210"   # an export killed midway, before this one
    abandoned.mkdir()
    (abandoned / "database.sqlite").write_bytes(b"SQLite format 3\0 plaintext")
    (abandoned / "in-use.lock").write_bytes(b"")
    snapshots: list[Path] = []
    real_take = backup_service.take_snapshot

    def take(source: Path, target: Path) -> None:
        snapshots.append(target)
        real_take(source, target)
    monkeypatch.setattr(backup_service, "take_snapshot", take)
    result = backup_service.export_bundle(config, stick / "b.counterfoil", PASSPHRASE)
    assert [p.name for p in stick.iterdir()] == ["b.counterfoil"]
    assert result.path.read_bytes()[:8] == b"CFBACKUP"
    assert snapshots[0].parent.parent == stick and not snapshots[0].exists()
    assert not re.search(rb"SQLite format 3", result.path.read_bytes())


# -- the quick check after the start (issue 21: a start that does not read a big book twice) ------------

def _stop(config) -> None:
    from app.db.lifecycle import close_database

    run(close_database())


def _reopen(config, **kwargs):
    from app.db import lifecycle

    datafolder.forget()
    inspection = run(open_database(config, **kwargs))
    lifecycle.start_quick_check_after_start()   # as the server does once it is up
    return inspection


def _wait_for_the_check() -> None:
    from app.db import lifecycle

    thread = lifecycle._AFTER_START.thread
    if thread is not None:
        thread.join(timeout=30)


def test_a_clean_stop_records_the_file_and_the_next_start_checks_it_after_serving(config, owner):
    from app.db import lifecycle

    run(_insert_client("Before the stop"))
    _stop(config)
    stamp_path = config.data_dir / lifecycle.CHECK_STAMP_NAME
    stamp = json.loads(stamp_path.read_text())
    assert {k: stamp[k] for k in db_logic.FILE_STATE_KEYS} == lifecycle.file_state(config.database_path)
    assert oct(stamp_path.stat().st_mode & 0o777) == oct(0o600)

    inspection = _reopen(config, check_may_wait=True)
    assert inspection.check_deferred
    _wait_for_the_check()
    assert datafolder.condition() == db_logic.OK
    assert lifecycle._CHECKED.checked_at > datetime.fromisoformat(stamp["checked_at"])   # the check ran and passed
    run(_insert_client("After the start"))
    _stop(config)
    # Commands, and a start the stamp does not describe, check before anything else.
    assert not _reopen(config).check_deferred
    _stop(config)


@pytest.mark.parametrize("change", ["written by another program", "write-ahead log left", "checked too long ago",
                                    "no stamp", "stamp unreadable"])
def test_the_check_runs_before_serving_unless_the_file_is_as_the_stop_left_it(config, owner, change):
    from app.db import lifecycle

    _stop(config)
    stamp_path = config.data_dir / lifecycle.CHECK_STAMP_NAME
    if change == "written by another program":
        connection = sqlite3.connect(config.database_path)
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.execute("UPDATE client SET name = name")
        connection.execute("CREATE TABLE other_program (x)")
        connection.commit()
        connection.close()
    elif change == "write-ahead log left":
        Path(str(config.database_path) + "-wal").write_bytes(b"\0" * 32)   # a crash's log (SQLite ignores this one)
    elif change == "checked too long ago":
        stamp = json.loads(stamp_path.read_text())
        stamp["checked_at"] = (datetime.now(UTC) - db_logic.CHECK_AT_START_EVERY - timedelta(minutes=1)).isoformat()
        stamp_path.write_text(json.dumps(stamp))
    elif change == "no stamp":
        stamp_path.unlink()
    else:
        stamp_path.write_text("{not json")
    assert not _reopen(config, check_may_wait=True).check_deferred
    _stop(config)


def test_damage_found_after_the_start_stops_every_change(config, owner):
    """A disk that fails without touching the file's size or time: the start serves, the check after it
    finds the damage, and from then on every change is refused with the file and SQLite's words."""
    from app.db import lifecycle

    for n in range(300):
        run(_insert_client(f"Client {n:03}"))
    _stop(config)
    before = config.database_path.stat()
    connection = sqlite3.connect(config.database_path)
    index = connection.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'client' "
                               "AND sql IS NOT NULL").fetchone()[0]
    connection.close()
    damage(config.database_path, index)
    os.utime(config.database_path, ns=(before.st_atime_ns, before.st_mtime_ns))

    assert _reopen(config, check_may_wait=True).check_deferred
    _wait_for_the_check()
    assert datafolder.condition() == db_logic.DAMAGED
    with pytest.raises(datafolder.DatabaseDamagedWhileServing) as refused:
        run(_insert_client("Not saved"))
    assert refused.value.status == 503
    assert f"The database {config.database_path} is damaged (SQLite says:" in refused.value.message
    assert db_logic.health_detail(database="ok", condition=datafolder.condition(), free_bytes=10**12) == \
        "The database is damaged: no changes are taken."
    _stop(config)
    assert not (config.data_dir / lifecycle.CHECK_STAMP_NAME).exists()   # the next start checks first, and refuses
    datafolder.forget()
    with pytest.raises(DatabaseDamaged):
        run(open_database(config, check_may_wait=True))


def test_a_stop_interrupts_the_check_after_the_start(config, owner, monkeypatch):
    """The stop must fold the write-ahead log into the file: the check's reader would hold it open."""
    from app.db import lifecycle

    _stop(config)
    started = threading.Event()
    real = lifecycle._quick_check

    def slow_check(connection):
        started.set()
        connection.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n")
        return real(connection)

    monkeypatch.setattr(lifecycle, "_quick_check", slow_check)
    assert _reopen(config, check_may_wait=True).check_deferred
    assert started.wait(10)
    run(_insert_client("Written while the check runs"))
    _stop(config)
    assert lifecycle._AFTER_START.thread is None
    assert datafolder.WATCH.condition == db_logic.OK   # interrupted, not damaged
    assert not Path(str(config.database_path) + "-wal").exists() or \
        Path(str(config.database_path) + "-wal").stat().st_size == 0
    names = [row[0] for row in sqlite3.connect(config.database_path).execute("SELECT name FROM client")]
    assert "Written while the check runs" in names


def _stamp_as_left(config) -> None:
    """The stamp a clean stop would have written for the file as it is now."""
    from app.db import lifecycle

    stamp_path = config.data_dir / lifecycle.CHECK_STAMP_NAME
    stamp = json.loads(stamp_path.read_text())
    stamp_path.write_text(json.dumps({**stamp, **lifecycle.file_state(config.database_path)}))


def test_a_start_that_migrates_checks_first(config, owner):
    """A newer program's first start changes the file: a damaged one is refused before any migration runs."""
    for n in range(300):
        run(_insert_client(f"Client {n:03}"))
    _stop(config)
    connection = sqlite3.connect(config.database_path)
    connection.execute("DELETE FROM migration WHERE id = (SELECT max(id) FROM migration)")
    connection.commit()
    index = connection.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'client' "
                               "AND sql IS NOT NULL").fetchone()[0]
    connection.close()
    damage(config.database_path, index)
    _stamp_as_left(config)
    datafolder.forget()
    with pytest.raises(DatabaseDamaged):
        run(open_database(config, check_may_wait=True))


def test_a_read_only_folder_is_checked_before_its_copy_is_served(config, owner, monkeypatch):
    from app.db import lifecycle

    _stop(config)
    monkeypatch.setattr(datafolder, "database_writable", lambda database: False)
    datafolder.forget()
    inspection = lifecycle.inspect_database(config, check_may_wait=True)
    assert not inspection.writable and not inspection.check_deferred
