"""Backup bundles end to end: the command line as a real process, the Backup page, and
scheduled backups. Every refused import must leave the data folder byte for byte as it was."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import stat
import struct
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.backup import logic, service
from app.config import Config
from app.db.lifecycle import open_database
from tests.conftest import OWNER_EMAIL, run, sealed_writes
from tests.http.support import png

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple"
CHUNK_BOUNDARY = logic.HEADER_SIZE + logic.CHUNK_SIZE + logic.TAG_SIZE


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "COUNTERFOIL_DATA_DIR"}
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL)


def fingerprint(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under the folder (SQLite's shared-memory index aside: reads touch it)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.endswith("-shm"):
            found[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            found[path.relative_to(folder).as_posix() + "/"] = "dir"
    return found


def table_contents(database: Path) -> dict[str, list[tuple]]:
    connection = sqlite3.connect(database)
    try:
        tables = connection.execute("SELECT name, wr FROM pragma_table_list WHERE schema = 'main' "
                                    "AND type != 'virtual' AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
        # A full-text index's shadow tables include WITHOUT ROWID ones: compare their rows in any order.
        return {t: sorted(connection.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) if without_rowid
                else connection.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall()
                for t, without_rowid in tables}
    finally:
        connection.close()


def restored_contents(restored: Path, original: Path) -> dict[str, list[tuple]]:
    """The restored database's tables with its audit trail cut back to the original's length, after
    checking that the restore only added to it, sealed: what it switched off, the restore itself (and
    what the app did since, such as a launch sign-in)."""
    contents = table_contents(restored)
    kept = len(table_contents(original)["audit_entry"])
    connection = sqlite3.connect(restored)
    try:
        added = connection.execute("SELECT action, hash FROM audit_entry WHERE id > ? ORDER BY id", (kept,)).fetchall()
    finally:
        connection.close()
    assert "restore" in [action for action, _ in added] and all(digest for _, digest in added), added
    contents["audit_entry"] = contents["audit_entry"][:kept]
    return contents


def attachment_hashes(config: Config) -> dict[str, str]:
    return {p.relative_to(config.attachments_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in config.attachments_dir.rglob("*") if p.is_file()}


def flip(data: bytes, offset: int, bit: int = 0) -> bytes:
    out = bytearray(data)
    out[offset] ^= 1 << bit
    return bytes(out)


def hostile(data: bytes) -> bytes:
    out = bytearray(data)
    struct.pack_into(">I", out, 16, 100 * 1024 * 1024)   # m = 100 GiB, in KiB
    out[96:128] = hashlib.sha256(bytes(out[:96])).digest()
    return bytes(out)


# name -> (how to make it from a good bundle, passphrase, words the one-line message must hold, code)
DAMAGE = {
    "wrong passphrase": (lambda d: d, "correct horse battery stapler", "Wrong passphrase", "wrong_passphrase"),
    "flipped bit in the header": (lambda d: flip(d, 20), PASSPHRASE, "header", "header_damaged"),
    "flipped bit in the middle": (lambda d: flip(d, len(d) // 2, 3), PASSPHRASE, "damaged near byte",
                                  "payload_damaged"),
    "flipped bit in the last byte": (lambda d: flip(d, len(d) - 1, 7), PASSPHRASE, "damaged near byte",
                                     "payload_damaged"),
    "truncated by one byte": (lambda d: d[:-1], PASSPHRASE, "1 bytes shorter", "truncated"),
    "truncated at a chunk boundary": (lambda d: d[:CHUNK_BOUNDARY], PASSPHRASE, "incomplete", "truncated"),
    "trailing garbage": (lambda d: d + b"garbage!", PASSPHRASE, "8 unexpected bytes", "trailing_data"),
    "empty file": (lambda d: b"", PASSPHRASE, "empty", "empty_file"),
    "not a bundle": (lambda d: b"%PDF-1.7\n" + b"x" * 4000, PASSPHRASE, "not a Counterfoil backup", "not_a_bundle"),
    "hostile header asking for 100 GiB": (hostile, PASSPHRASE, "100 GiB", "unsafe_parameters"),
}


@pytest.fixture(scope="module")
def passphrase_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secret") / "passphrase"
    path.write_text(PASSPHRASE + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """Demo data (30 clients and their documents) and a logo, made by `counterfoil demo`."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    password = tmp_path_factory.mktemp("owner") / "password"
    password.write_text("northwind owner password\n", encoding="utf-8")
    result = cli("init", "--data-dir", str(data_dir), "--owner-email", "owner@northwind.example",
                 "--password-file", str(password), "--business-name", "Northwind Studio")
    assert result.returncode == 0, result.stderr
    result = cli("demo", "--data-dir", str(data_dir), "--clients", "30")
    assert result.returncode == 0, result.stderr
    config = Config(data_dir=data_dir)
    (config.attachments_dir / "logo-20260101.png").write_bytes(png(40, 40))
    (config.attachments_dir / "receipts").mkdir(exist_ok=True)   # the demo keeps its expenses' receipts there
    (config.attachments_dir / "receipts" / "Reçu 2026-001.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(200_000))
    connection = sqlite3.connect(config.database_path)
    with sealed_writes(connection):
        connection.execute("UPDATE business_settings SET logo_filename = 'logo-20260101.png'")
    connection.commit()
    connection.close()
    return config


@pytest.fixture(scope="module")
def bundle(demo_folder: Config, passphrase_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("stick") / "northwind"
    result = cli("backup", "export", str(target), "--data-dir", str(demo_folder.data_dir),
                 "--passphrase-file", str(passphrase_file))
    assert result.returncode == 0, result.stderr
    written = target.with_name("northwind.counterfoil")
    assert "Backup written" in result.stdout and str(written) in result.stdout
    return written


# -- the command line ----------------------------------------------------------------------------

def test_cli_round_trip_into_an_empty_folder(demo_folder, bundle, passphrase_file, tmp_path):
    data = bundle.read_bytes()
    assert data[:8] == b"CFBACKUP" and stat.S_IMODE(bundle.stat().st_mode) == 0o600
    assert b"Northwind" not in data and b"SQLite format 3" not in data and b"%PDF" not in data
    target = Config(data_dir=tmp_path / "new-laptop")
    # One's own backup, everything kept as it was (by default scheduled sends would come in paused).
    result = cli("backup", "import", str(bundle), "--data-dir", str(target.data_dir),
                 "--passphrase-file", str(passphrase_file), "--keep-scheduled-sends", "--keep-custom-templates",
                 "--keep-tokens")
    assert result.returncode == 0, result.stderr
    assert "Restored Northwind Studio" in result.stdout and "30 clients" in result.stdout
    assert "Accountant's package by email: off (address: books@ledgerline-accounting.example)" in result.stdout
    assert "Scheduled sends are paused" not in result.stdout
    assert restored_contents(target.database_path, demo_folder.database_path) == \
        table_contents(demo_folder.database_path)
    assert attachment_hashes(target) == attachment_hashes(demo_folder)
    # The logo, the receipt, the demo's receipts and the documents of record (one stored PDF per issued document).
    assert {"logo-20260101.png", "receipts/Reçu 2026-001.pdf"} <= set(attachment_hashes(target))
    records = sqlite3.connect(target.database_path).execute("SELECT COUNT(*) FROM document_record").fetchone()[0]
    kept = set(attachment_hashes(target))
    assert records > 0 and len({name for name in kept if name.startswith("records/")}) == records
    assert kept <= {name for name in kept if name.startswith(("records/", "receipts/"))} | {"logo-20260101.png"}
    assert stat.S_IMODE(target.data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(target.database_path.stat().st_mode) == 0o600
    assert not (target.data_dir / service.WORK_DIR_NAME).exists()
    assert not list(target.data_dir.glob("pre-restore-*"))   # nothing was there before


def test_cli_import_over_existing_data_keeps_the_previous_database(bundle, passphrase_file, tmp_path):
    target = Config(data_dir=tmp_path / "data")
    run(open_database(target))
    from app.settings import service as settings_service

    run(settings_service.update_settings({"name": "The old business"}))
    (target.attachments_dir / "old-logo.png").write_bytes(png())
    result = cli("backup", "import", str(bundle), "--data-dir", str(target.data_dir),
                 "--passphrase-file", str(passphrase_file))
    assert result.returncode == 0, result.stderr
    kept = list(target.data_dir.glob("pre-restore-*.sqlite"))
    assert len(kept) == 1 and "previous database is kept as" in result.stdout
    old = sqlite3.connect(kept[0])
    assert old.execute("SELECT name FROM business_settings").fetchone()[0] == "The old business"
    assert old.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    old.close()
    assert (kept[0].with_name(kept[0].stem + "-attachments") / "old-logo.png").is_file()
    new = sqlite3.connect(target.database_path)
    assert new.execute("SELECT name FROM business_settings").fetchone()[0] == "Northwind Studio"
    new.close()
    assert not (target.attachments_dir / "old-logo.png").exists()


@pytest.fixture
def existing(tmp_path: Path) -> Config:
    """A data folder in use (its database, WAL mode, an attachment), to prove refusals change nothing."""
    config = Config(data_dir=tmp_path / "existing")
    run(open_database(config))
    (config.attachments_dir / "logo.png").write_bytes(png())
    return config


@pytest.mark.parametrize("case", list(DAMAGE))
def test_cli_refuses_each_damaged_bundle_and_changes_nothing(case, bundle, existing, tmp_path):
    make, passphrase, words, _ = DAMAGE[case]
    damaged = tmp_path / "damaged.counterfoil"
    damaged.write_bytes(make(bundle.read_bytes()))
    secret = tmp_path / "secret"
    secret.write_text(passphrase + "\n", encoding="utf-8")
    before = fingerprint(existing.data_dir)
    result = cli("backup", "import", str(damaged), "--data-dir", str(existing.data_dir), "--passphrase-file", str(secret))
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("counterfoil: "), result.stderr
    assert words in lines[0] and "Nothing was changed" in lines[0]
    assert result.stdout == ""
    assert fingerprint(existing.data_dir) == before


def test_the_damage_messages_are_all_different(bundle, tmp_path):
    """Wrong passphrase is told apart from damage, and each damage from the others."""
    messages = {}
    for case, (make, passphrase, _, code) in DAMAGE.items():
        with pytest.raises(logic.BackupError) as refused:
            service.stage_bundle(Config(data_dir=tmp_path / case.replace(" ", "-")), _bytes_io(make(bundle.read_bytes())),
                                 passphrase)
        assert refused.value.code == code
        messages[case] = refused.value.message
    assert len({m.split(" near byte")[0] for m in messages.values()}) >= len(DAMAGE) - 1  # middle / last: same kind
    assert not any((tmp_path / case.replace(" ", "-")).exists() for case in DAMAGE)


def _bytes_io(data: bytes):
    import io

    return io.BytesIO(data)


def test_cli_refuses_while_a_server_holds_the_folder(bundle, existing, passphrase_file):
    from app.instance import InstanceLock

    lock = InstanceLock(existing.lock_path)
    lock.acquire()
    lock.record(5077)
    try:
        before = fingerprint(existing.data_dir)
        result = cli("backup", "import", str(bundle), "--data-dir", str(existing.data_dir),
                     "--passphrase-file", str(passphrase_file))
        assert result.returncode == 1
        assert "Counterfoil is running on this data folder (http://127.0.0.1:5077)" in result.stderr
        assert "Backup page" in result.stderr
        assert fingerprint(existing.data_dir) == before
    finally:
        lock.release()


def test_cli_export_rules(demo_folder, bundle, passphrase_file, tmp_path):
    again = cli("backup", "export", str(bundle), "--data-dir", str(demo_folder.data_dir),
                "--passphrase-file", str(passphrase_file))
    assert again.returncode == 1 and "already exists" in again.stderr
    no_terminal = cli("backup", "export", str(tmp_path / "x"), "--data-dir", str(demo_folder.data_dir))
    assert no_terminal.returncode == 1 and "--passphrase-file" in no_terminal.stderr
    as_argument = cli("backup", "export", str(tmp_path / "x"), "--data-dir", str(demo_folder.data_dir),
                      "--passphrase", PASSPHRASE)
    assert as_argument.returncode == 2
    weak = tmp_path / "weak"
    weak.write_text("short\n")
    too_short = cli("backup", "export", str(tmp_path / "x"), "--data-dir", str(demo_folder.data_dir),
                    "--passphrase-file", str(weak))
    assert too_short.returncode == 1 and "too short" in too_short.stderr
    nothing = cli("backup", "export", str(tmp_path / "x"), "--data-dir", str(tmp_path / "nowhere"),
                  "--passphrase-file", str(passphrase_file))
    assert nothing.returncode == 1 and "no Counterfoil database" in nothing.stderr
    assert not list(tmp_path.glob("x*"))


# -- schema versions ----------------------------------------------------------------------------

def _export(config: Config, target: Path) -> Path:
    service.export_bundle(config, target, PASSPHRASE)
    return target


def test_an_older_schema_is_migrated_on_import(existing, passphrase_file, tmp_path):
    """A bundle from before the backup app existed: its table and migration are missing, and get added."""
    connection = sqlite3.connect(existing.database_path)
    connection.execute("DROP TABLE backup_settings")
    connection.execute("DELETE FROM migration WHERE app_name = 'backup'")
    connection.commit()
    connection.close()
    old_bundle = _export(existing, tmp_path / "old.counterfoil")
    target = Config(data_dir=tmp_path / "fresh")
    result = cli("backup", "import", str(old_bundle), "--data-dir", str(target.data_dir),
                 "--passphrase-file", str(passphrase_file))
    assert result.returncode == 0, result.stderr
    assert "upgraded" in result.stdout
    connection = sqlite3.connect(target.database_path)
    try:
        assert connection.execute("SELECT COUNT(*) FROM migration WHERE app_name = 'backup'").fetchone()[0] >= 1
        connection.execute("SELECT * FROM backup_settings").fetchall()
    finally:
        connection.close()


def test_a_backup_made_before_the_migrations_were_squashed_imports(passphrase_file, tmp_path):
    """tests/vectors/backup/before-squash.counterfoil, made by the program before its migrations were
    squashed and before the database guarded the books: it imports, carries the migration ids of this
    version afterwards, holds the same books, passes `counterfoil check`, and is guarded from then on."""
    import json

    from app.db.migrate import known_migrations
    from tests.vectors.backup import make_before_squash

    facts = json.loads(make_before_squash.FACTS.read_text(encoding="utf-8"))
    assert facts["passphrase"] == PASSPHRASE
    target = Config(data_dir=tmp_path / "restored")
    result = cli("backup", "import", str(make_before_squash.BUNDLE), "--data-dir", str(target.data_dir),
                 "--passphrase-file", str(passphrase_file))
    assert result.returncode == 0, result.stderr
    assert "upgraded" in result.stdout
    after = make_before_squash.facts_of(target.database_path)
    assert after["ledger_balances"] == facts["ledger_balances"]
    assert after["edge_client_documents"] == facts["edge_client_documents"]
    assert {tuple(row) for row in facts["migrations"]} != {tuple(row) for row in after["migrations"]}
    assert {tuple(row) for row in after["migrations"]} == {
        (app, name) for app, ids in known_migrations().items() for name in ids}
    checked = cli("check", "--data-dir", str(target.data_dir))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    connection = sqlite3.connect(target.database_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("DELETE FROM ledger_entry")
        with pytest.raises(sqlite3.IntegrityError, match="document_paid_and_credited_within_total"):
            connection.execute("UPDATE document SET paid_minor = total_minor + 1 WHERE doc_type = 'invoice' "
                               "AND status = 'issued'")
    finally:
        connection.close()


def test_a_newer_schema_is_refused(existing, passphrase_file, tmp_path):
    connection = sqlite3.connect(existing.database_path)
    connection.execute("INSERT INTO migration (name, app_name, ran_on) VALUES ('2099-01-01T00:00:00:000000', "
                       "'clients', '2099-01-01')")
    connection.commit()
    connection.close()
    newer = _export(existing, tmp_path / "newer.counterfoil")
    target = Config(data_dir=tmp_path / "other")
    run(open_database(target))
    before = fingerprint(target.data_dir)
    result = cli("backup", "import", str(newer), "--data-dir", str(target.data_dir),
                 "--passphrase-file", str(passphrase_file))
    assert result.returncode == 1
    assert "made by a newer Counterfoil (version" in result.stderr and "update Counterfoil first" in result.stderr
    assert fingerprint(target.data_dir) == before


def test_export_takes_a_consistent_snapshot_while_the_database_is_written(existing, tmp_path):
    """Writers keep committing during the export; the snapshot is one transaction and passes integrity_check."""
    import threading

    stop = threading.Event()
    started = threading.Event()
    setup = sqlite3.connect(existing.database_path)
    setup.execute("CREATE TABLE scratch (n INTEGER)")
    setup.commit()
    setup.close()

    def writer() -> None:
        connection = sqlite3.connect(existing.database_path, timeout=30)
        n = 0
        while not stop.is_set():
            connection.execute("INSERT INTO scratch VALUES (?)", (n,))
            connection.commit()
            n += 1
            if n == 50:
                started.set()
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert started.wait(30)
    try:
        result = service.export_bundle(existing, tmp_path / "busy.counterfoil", PASSPHRASE)
    finally:
        stop.set()
        thread.join()
    staged = service.stage_bundle(Config(data_dir=tmp_path / "check"), tmp_path / "busy.counterfoil", PASSPHRASE)
    try:
        assert staged.manifest["row_counts"]["scratch"] == result.manifest["row_counts"]["scratch"] >= 50
    finally:
        service.discard_staged(Config(data_dir=tmp_path / "check"), staged)


# -- the Backup page ------------------------------------------------------------------------------

def test_the_backup_page_is_for_the_owner(browser, staff_browser, anonymous):
    page = browser.get("/backup")
    assert page.status_code == 200
    for fragment in ('action="/backup/export"', 'action="/backup/import"', 'enctype="multipart/form-data"',
                     'name="passphrase_repeat"', 'action="/backup/schedule"', 'name="csrf_token"'):
        assert fragment in page.text
    assert 'href="/backup"' in page.text
    assert staff_browser.get("/backup").status_code == 403
    assert staff_browser.post("/backup/export", data={"passphrase": PASSPHRASE,
                                                      "passphrase_repeat": PASSPHRASE}).status_code == 403
    assert anonymous.get("/backup", follow_redirects=False).status_code in (302, 303)


def test_export_from_the_page(browser, config, tmp_path):
    mismatch = browser.post("/backup/export", data={"passphrase": PASSPHRASE, "passphrase_repeat": PASSPHRASE + "x"})
    assert mismatch.status_code == 422 and "not the same" in mismatch.text
    short = browser.post("/backup/export", data={"passphrase": "short", "passphrase_repeat": "short"})
    assert short.status_code == 422 and "too short" in short.text
    response = browser.post("/backup/export", data={"passphrase": PASSPHRASE, "passphrase_repeat": PASSPHRASE})
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert re.search(r'filename="?counterfoil-test-studio-\d{8}-\d{4}\.counterfoil', response.headers["content-disposition"])
    assert response.content[:8] == b"CFBACKUP"
    assert not (config.data_dir / service.WORK_DIR_NAME).exists()   # the temporary file went with the download
    saved = tmp_path / "download.counterfoil"
    saved.write_bytes(response.content)
    staged = service.stage_bundle(Config(data_dir=tmp_path / "check"), saved, PASSPHRASE)
    assert staged.manifest["business_name"] == "Test Studio" and staged.manifest["row_counts"]["app_user"] == 1
    service.discard_staged(Config(data_dir=tmp_path / "check"), staged)


def test_import_from_the_page_shows_the_manifest_then_restores(no_background_delivery, browser, config, bundle,
                                                               demo_folder):
    # The mail worker stays off: the restored outbox keeps its scheduled sends, and a worker picking one up
    # before the comparison below would mark it "sending" (seen under load).
    response = browser.post("/backup/import", data={"passphrase": PASSPHRASE},
                            files={"bundle": ("northwind.counterfoil", bundle.read_bytes(), "application/octet-stream")})
    assert response.status_code == 200, response.text
    assert "Restore this backup?" in response.text and "Northwind Studio" in response.text
    assert re.search(r"Clients</dt><dd>30</dd>", response.text)
    token = re.search(r'name="token" value="([0-9a-f]{16})"', response.text).group(1)
    # Nothing has changed yet: the current data is still the test owner's.
    assert sqlite3.connect(config.database_path).execute("SELECT COUNT(*) FROM client").fetchone()[0] == 0
    assert "What this backup would switch on" in response.text and 'name="keep_tokens"' in response.text
    restored = browser.post("/backup/restore", data={"token": token, "keep_scheduled_sends": "true",
                                                     "keep_custom_templates": "true", "keep_tokens": "true"},
                            follow_redirects=False)
    assert restored.status_code == 303, restored.text
    assert restored.headers["location"].startswith("/launch?token=")
    assert restored_contents(config.database_path, demo_folder.database_path) == {
        **table_contents(demo_folder.database_path),
        "launch_token": table_contents(config.database_path)["launch_token"]}
    assert attachment_hashes(config) == attachment_hashes(demo_folder)
    kept = list(config.data_dir.glob("pre-restore-*.sqlite"))
    assert len(kept) == 1
    assert sqlite3.connect(kept[0]).execute("SELECT email FROM app_user").fetchone()[0] == OWNER_EMAIL
    assert not (config.data_dir / service.WORK_DIR_NAME).exists()
    # The running app sees the restored data at once, and the launch link signs its owner in.
    launched = browser.get(restored.headers["location"])
    assert launched.status_code == 200
    dashboard = browser.get("/")
    assert dashboard.status_code == 200 and "Northwind Studio" in dashboard.text and "Restored" in dashboard.text
    assert browser.get("/account").text.count("owner@northwind.example") >= 1
    clients = browser.get("/clients")
    assert clients.status_code == 200


def test_the_page_restores_a_backup_made_before_the_migrations_were_squashed(browser, config):
    """The running server upgrades it with writes paused (the squashed migrations renamed, the guards added)."""
    import json

    from app.db.migrate import known_migrations
    from tests.vectors.backup import make_before_squash

    facts = json.loads(make_before_squash.FACTS.read_text(encoding="utf-8"))
    response = browser.post("/backup/import", data={"passphrase": facts["passphrase"]}, files={
        "bundle": ("old.counterfoil", make_before_squash.BUNDLE.read_bytes(), "application/octet-stream")})
    assert response.status_code == 200, response.text
    token = re.search(r'name="token" value="([0-9a-f]{16})"', response.text).group(1)
    restored = browser.post("/backup/restore", data={"token": token}, follow_redirects=False)
    assert restored.status_code == 303, restored.text
    after = make_before_squash.facts_of(config.database_path)
    assert after["ledger_balances"] == facts["ledger_balances"]
    assert {tuple(row) for row in after["migrations"]} == {
        (app, name) for app, ids in known_migrations().items() for name in ids}
    # The running program reads the restored books (they hold no user account: the demo made none).
    from app.clients import service as clients_service

    assert [c.name for c in run(clients_service.list_clients(q="Edge Cases")).items] == ["Edge Cases Ltd"]


@pytest.mark.parametrize("case", list(DAMAGE))
def test_the_page_refuses_each_damaged_bundle_and_changes_nothing(case, browser, config, bundle):
    make, passphrase, words, code = DAMAGE[case]
    browser.get("/backup")
    before = fingerprint(config.data_dir)
    response = browser.post("/backup/import", data={"passphrase": passphrase},
                            files={"bundle": ("damaged.counterfoil", make(bundle.read_bytes()),
                                              "application/octet-stream")})
    assert 400 <= response.status_code < 500
    assert response.status_code == (422 if code == "wrong_passphrase" else 400)
    assert f'data-code="{code}"' in response.text and words in response.text
    assert fingerprint(config.data_dir) == before


@pytest.fixture
def spare(tmp_path: Path, template_database: Path) -> Config:
    """Another migrated data folder, made without pointing the app's engine at it."""
    import shutil

    folder = Config(data_dir=tmp_path / "spare")
    folder.attachments_dir.mkdir(parents=True)
    shutil.copyfile(template_database, folder.database_path)
    return folder


def test_the_page_refuses_a_newer_schema_with_409(browser, config, spare, tmp_path):
    existing = spare
    connection = sqlite3.connect(existing.database_path)
    connection.execute("INSERT INTO migration (name, app_name, ran_on) VALUES ('2099-01-01T00:00:00:000000', "
                       "'auth', '2099-01-01')")
    connection.commit()
    connection.close()
    newer = _export(existing, tmp_path / "newer.counterfoil")
    before = fingerprint(config.data_dir)
    response = browser.post("/backup/import", data={"passphrase": PASSPHRASE},
                            files={"bundle": ("newer.counterfoil", newer.read_bytes(), "application/octet-stream")})
    assert response.status_code == 409 and "newer Counterfoil" in response.text
    assert fingerprint(config.data_dir) == before


def test_import_form_problems(browser, config):
    no_file = browser.post("/backup/import", data={"passphrase": PASSPHRASE},
                           files={"bundle": ("", b"", "application/octet-stream")})
    assert no_file.status_code == 422 and "Choose the backup file" in no_file.text
    no_passphrase = browser.post("/backup/import", data={"passphrase": ""},
                                 files={"bundle": ("b.counterfoil", b"CFBACKUP", "application/octet-stream")})
    assert no_passphrase.status_code == 422 and "passphrase" in no_passphrase.text
    expired = browser.post("/backup/restore", data={"token": "0123456789abcdef"})
    assert expired.status_code == 409 and "no longer waiting" in expired.text
    hostile_token = browser.post("/backup/restore", data={"token": "../../etc"})
    assert hostile_token.status_code == 409


def test_cancelling_an_import_removes_what_was_staged(browser, config, bundle):
    response = browser.post("/backup/import", data={"passphrase": PASSPHRASE},
                            files={"bundle": ("b.counterfoil", bundle.read_bytes(), "application/octet-stream")})
    token = re.search(r'name="token" value="([0-9a-f]{16})"', response.text).group(1)
    assert (config.data_dir / service.WORK_DIR_NAME / f"restore-{token}").is_dir()
    cancelled = browser.post("/backup/import/cancel", data={"token": token}, follow_redirects=False)
    assert cancelled.status_code == 303
    assert not (config.data_dir / service.WORK_DIR_NAME).exists()
    assert browser.post("/backup/restore", data={"token": token}).status_code == 409


# -- scheduled backups ---------------------------------------------------------------------------

def test_scheduled_backups_to_a_folder(browser, config, tmp_path):
    stick = tmp_path / "USBSTICK"
    stick.mkdir()
    refused = browser.post("/backup/schedule", data={"folder": str(stick), "rhythm": "daily", "keep_last": "2"})
    assert refused.status_code == 422 and "need a passphrase" in refused.text
    missing = browser.post("/backup/schedule", data={"folder": str(tmp_path / "nope"), "rhythm": "daily",
                                                     "keep_last": "2", "passphrase": PASSPHRASE,
                                                     "passphrase_repeat": PASSPHRASE})
    assert missing.status_code == 422 and "does not exist" in missing.text
    saved = browser.post("/backup/schedule", data={"folder": str(stick), "rhythm": "daily", "keep_last": "2",
                                                   "passphrase": PASSPHRASE, "passphrase_repeat": PASSPHRASE},
                         follow_redirects=False)
    assert saved.status_code == 303
    secret = config.data_dir / service.PASSPHRASE_FILE
    assert secret.read_text() == PASSPHRASE and stat.S_IMODE(secret.stat().st_mode) == 0o600
    # Never due yet: the first check runs the first backup.
    now = datetime.now(UTC)
    first = run(service.run_if_due(config, now=now))
    assert first is not None and first.parent == stick
    assert run(service.run_if_due(config, now=now + timedelta(hours=2))) is None
    for hours in (25, 50, 75):
        assert run(service.run_if_due(config, now=now + timedelta(hours=hours))) is not None
    written = sorted(p.name for p in stick.iterdir())
    assert len(written) == 2 and all(logic.SCHEDULED_NAME_RE.match(n) for n in written)
    assert not any(secret.read_bytes() in p.read_bytes() for p in stick.iterdir())   # the passphrase stays home
    staged = service.stage_bundle(Config(data_dir=tmp_path / "check"), stick / written[-1], PASSPHRASE)
    service.discard_staged(Config(data_dir=tmp_path / "check"), staged)
    dashboard = browser.get("/")
    assert "Last good backup" in dashboard.text


def test_a_failed_scheduled_backup_shows_on_the_dashboard(browser, config, tmp_path, caplog):
    stick = tmp_path / "stick"
    stick.mkdir()
    browser.post("/backup/schedule", data={"folder": str(stick), "rhythm": "weekly", "keep_last": "3",
                                           "passphrase": PASSPHRASE, "passphrase_repeat": PASSPHRASE})
    stick.rmdir()   # the stick was unplugged
    response = browser.post("/backup/schedule/run", follow_redirects=False)
    assert response.status_code == 303
    assert "failed" in caplog.text and "not available" in caplog.text
    dashboard = browser.get("/")
    assert 'id="backup-status"' in dashboard.text and "The last scheduled backup failed" in dashboard.text
    assert "plugged in" in browser.get("/backup").text


def test_a_backup_older_than_the_rhythm_warns(browser, config, tmp_path):
    stick = tmp_path / "stick"
    stick.mkdir()
    browser.post("/backup/schedule", data={"folder": str(stick), "rhythm": "daily", "keep_last": "3",
                                           "passphrase": PASSPHRASE, "passphrase_repeat": PASSPHRASE})
    long_ago = datetime.now(UTC) - timedelta(days=4)
    assert run(service.run_scheduled_backup(config, now=long_ago)) is not None
    dashboard = browser.get("/")
    assert "4 days old" in dashboard.text and "older than the rhythm" in dashboard.text


def test_the_on_quit_backup_runs_when_the_server_stops(config, owner, tmp_path):
    from litestar.testing import TestClient

    from app.web.server import create_app

    stick = tmp_path / "stick"
    stick.mkdir()
    service.save_scheduled_passphrase(config, PASSPHRASE)
    run(service.update_schedule(config, {"folder": str(stick), "rhythm": "on_quit", "keep_last": "5"}))
    with TestClient(app=create_app(config, prepare=False)):
        assert list(stick.iterdir()) == []
    assert len(list(stick.iterdir())) == 1
