"""A bundle made with a valid passphrase by someone else cannot reach outside the data folder.

Bundles are made by the program's own export, then their decrypted payload is tampered with
and sealed again with the same passphrase: every check below is past the cryptography.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from app.backup import logic, restore, service
from app.backup.bundle import BundleReader, BundleWriter
from app.config import Config
from tests.conftest import run, sealed_writes
from tests.http.test_backup import PASSPHRASE, ROOT, fingerprint
from tests.http.test_render import business  # noqa: F401  (a fixture: the business an invoice needs)

Members = list[tuple[str, bytes]]


# -- taking a bundle apart and sealing it again --------------------------------------------------

def unseal(bundle: Path) -> Members:
    """The payload's members, in order (the manifest last)."""
    with open(bundle, "rb") as handle:
        reader = BundleReader(handle, PASSPHRASE)
        payload = b"".join(iter(lambda: reader.read(1 << 20), b""))
    with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
        return [(member.name, tar.extractfile(member).read()) for member in tar]  # type: ignore[union-attr]


def entry(name: str, content: bytes) -> bytes:
    """One member as the exporter writes it (pax, 0600, owner 0), padded to whole blocks."""
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(content), 0o600
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape") + content + b"\0" * (-len(content) % 512)


def manifest_for(members: Members, **changes: object) -> bytes:
    """A manifest that tells the truth about `members` (their sizes, hashes and the database's row counts)."""
    manifest = json.loads(dict(members)[logic.MANIFEST_MEMBER])
    database = dict(members)[logic.DATABASE_MEMBER]
    with _database_file(database) as path:
        facts = service.database_facts(sqlite3.connect(path))
    manifest.update(row_counts=facts.row_counts, migrations=facts.migrations,
                    files=[{"path": name, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
                           for name, content in members if name != logic.MANIFEST_MEMBER], **changes)
    return json.dumps(manifest).encode()


def seal(members: Members, target: Path, *, manifest: bytes | None = None, before_manifest: bytes = b"") -> Path:
    """Seal members (and raw tar blocks placed before the manifest) with the passphrase, as a bundle."""
    body = [(n, c) for n, c in members if n != logic.MANIFEST_MEMBER]
    payload = b"".join(entry(n, c) for n, c in body) + before_manifest
    payload += entry(logic.MANIFEST_MEMBER, manifest if manifest is not None else manifest_for(members))
    payload += b"\0" * 10240
    with open(target, "wb") as out:
        writer = BundleWriter(out, PASSPHRASE)
        writer.write(payload)
        writer.close()
    return target


class _database_file:
    """The database member as a file for sqlite3, and its bytes back once changed."""

    def __init__(self, content: bytes):
        self.content = content

    def __enter__(self) -> Path:
        import tempfile

        self.folder = Path(tempfile.mkdtemp())
        self.path = self.folder / "db.sqlite"
        self.path.write_bytes(self.content)
        return self.path

    def __exit__(self, *exc: object) -> None:
        self.result = self.path.read_bytes()
        shutil.rmtree(self.folder)


def with_database(members: Members, *statements: str | tuple[str, tuple]) -> Members:
    """The members with SQL run on the bundle's database (and a manifest that matches it)."""
    changed = _database_file(dict(members)[logic.DATABASE_MEMBER])
    with changed as path:
        connection = sqlite3.connect(path)
        for statement in statements:
            sql, args = statement if isinstance(statement, tuple) else (statement, ())
            connection.execute(sql, args)
        connection.commit()
        connection.close()
    out = [(n, changed.result if n == logic.DATABASE_MEMBER else c) for n, c in members]
    return [(n, manifest_for(out) if n == logic.MANIFEST_MEMBER else c) for n, c in out]


# -- folders ----------------------------------------------------------------------------------------

def new_folder(path: Path, template_database: Path, *, name: str, attachments: dict[str, bytes],
               templates: dict[str, str], sql: tuple[str, ...] = ()) -> Config:
    """A data folder made without the app's engine: the migrated schema, a business, files."""
    config = Config(data_dir=path)
    config.attachments_dir.mkdir(parents=True)
    service.take_snapshot(template_database, config.database_path)   # its WAL may hold the schema yet
    connection = sqlite3.connect(config.database_path)
    with sealed_writes(connection):
        connection.execute("INSERT INTO business_settings (id, name) VALUES (1, ?)", (name,))
        for statement in sql:
            connection.execute(statement)
    connection.commit()
    connection.close()
    for file, content in attachments.items():
        (config.attachments_dir / file).write_bytes(content)
    for file, text in templates.items():
        (config.data_dir / "templates").mkdir(exist_ok=True)
        (config.data_dir / "templates" / file).write_text(text)
    return config


@pytest.fixture
def victim(tmp_path: Path, template_database: Path) -> Config:
    return new_folder(tmp_path / "victim", template_database, name="Victim Books",
                      attachments={"victim-receipt.pdf": b"%PDF-1.7 victim"}, templates={},
                      sql=("INSERT INTO backup_settings (id, folder, rhythm, keep_last) "
                           "VALUES (1, '/media/victim/STICK', 'weekly', 4)",))


@pytest.fixture
def plain_bundle(tmp_path: Path, template_database: Path) -> Path:
    source = new_folder(tmp_path / "source", template_database, name="Plain Co",
                        attachments={"a.pdf": b"%PDF-1.7 a" * 100}, templates={"invoice.typ": "// mine\n"})
    return service.export_bundle(source, tmp_path / "plain.counterfoil", PASSPHRASE).path


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase"
    path.write_text(PASSPHRASE + "\n")
    return path


def cli(*args: str, stop_at: str | None = None) -> subprocess.CompletedProcess[str]:
    """`counterfoil ARGS` as a process of its own (stopped at a restore step with `stop_at`)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("COUNTERFOIL_DATA_DIR", restore.STOP_AT_ENV)}
    if stop_at is not None:
        environment[restore.STOP_AT_ENV] = stop_at
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL)


def import_cli(bundle: Path, config: Config, secret: Path, *extra: str, stop_at: str | None = None):
    return cli("backup", "import", str(bundle), "--data-dir", str(config.data_dir), "--passphrase-file",
               str(secret), *extra, stop_at=stop_at)


def business_name(config: Config) -> str:
    connection = sqlite3.connect(config.database_path)
    try:
        return connection.execute("SELECT name FROM business_settings").fetchone()[0]
    finally:
        connection.close()


# -- stored file names --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["../counterfoil.sqlite", "/etc/passwd", "..\\counterfoil.sqlite", "a/../../b.png",
                                  "logo.png\x00.txt"])
def test_a_logo_name_outside_the_attachments_is_refused_on_import(name, plain_bundle, victim, tmp_path):
    hostile = seal(with_database(unseal(plain_bundle), ("UPDATE business_settings SET logo_filename = ?", (name,))),
                   tmp_path / "hostile.counterfoil")
    before = fingerprint(victim.data_dir)
    with pytest.raises(logic.ContentInvalid) as refused:
        service.stage_bundle(victim, hostile, PASSPHRASE)
    assert "names a file outside its attachments for the business logo" in refused.value.message
    assert "Nothing was changed" in refused.value.message
    assert fingerprint(victim.data_dir) == before


def test_a_logo_frozen_into_a_document_is_checked_too(api, business, config, tmp_path, victim):
    from tests.http.support import make_client
    from tests.http.test_render import new_invoice

    new_invoice(api, make_client(name="Initech"))
    bundle = service.export_bundle(config, tmp_path / "mine.counterfoil", PASSPHRASE).path
    hostile = seal(with_database(unseal(bundle), "UPDATE document SET snapshot_json = json_set(snapshot_json, "
                                                 "'$.business.logo_filename', '../../../etc/shadow')"),
                   tmp_path / "hostile.counterfoil")
    with pytest.raises(logic.ContentInvalid, match="for the logo of document"):
        service.stage_bundle(victim, hostile, PASSPHRASE)


# -- the archive: sparse and oversized members ------------------------------------------------------

def gnu_sparse_header(name: str, real_size: int) -> bytes:
    """An old-GNU sparse member: no data in the archive, `real_size` zero bytes once extracted."""
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode = tarfile.GNUTYPE_SPARSE, 0, 0o600
    block = bytearray(info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"))
    block[386:398] = tarfile.itn(real_size - 1, 12, tarfile.GNU_FORMAT)   # one sparse entry: 1 byte at the end
    block[398:410] = tarfile.itn(1, 12, tarfile.GNU_FORMAT)
    block[483:495] = tarfile.itn(real_size, 12, tarfile.GNU_FORMAT)
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block[:512])
    return bytes(block[:512]) + b"x" + b"\0" * 511


def pax_sparse_member(name: str, real_size: int) -> bytes:
    """A PAX (GNU 1.0) sparse member: the map in the data, the real size in the extended header."""
    info = tarfile.TarInfo("GNUSparseFile.0/" + name.rsplit("/", 1)[-1])
    sparse_map = f"1\n{real_size - 1}\n1\n".encode().ljust(512, b"\0")
    data = sparse_map + b"x"
    info.size, info.mode = len(data), 0o600
    info.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": name,
                        "GNU.sparse.realsize": str(real_size)}
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape") + data + b"\0" * (-len(data) % 512)


@pytest.fixture
def nothing_written(monkeypatch):
    """Fails the test if the second pass (the one that writes) starts."""
    def refuse(*args, **kwargs):
        raise AssertionError("the bundle was written out before it was refused")
    monkeypatch.setattr(service, "_extract", refuse)


@pytest.mark.parametrize("make", [gnu_sparse_header, pax_sparse_member], ids=["gnu", "pax"])
def test_a_sparse_member_is_refused_before_anything_is_written(make, plain_bundle, victim, tmp_path, nothing_written):
    members = unseal(plain_bundle)
    huge = 64 * 1024 ** 3
    listed = json.loads(manifest_for(members))
    listed["files"].append({"path": "attachments/huge.bin", "size": huge, "sha256": "0" * 64})
    hostile = seal(members, tmp_path / "sparse.counterfoil", manifest=json.dumps(listed).encode(),
                   before_manifest=make("attachments/huge.bin", huge))
    before = fingerprint(victim.data_dir)
    with pytest.raises(logic.ContentInvalid, match="sparse file") as refused:
        service.stage_bundle(victim, hostile, PASSPHRASE)
    assert "Nothing was changed" in refused.value.message
    assert fingerprint(victim.data_dir) == before


def test_a_member_larger_than_the_manifest_says_is_refused_before_anything_is_written(plain_bundle, victim, tmp_path,
                                                                                      nothing_written):
    members = unseal(plain_bundle)
    manifest = manifest_for(members)
    grown = [(n, c + b"more" if n == "attachments/a.pdf" else c) for n, c in members]
    hostile = seal(grown, tmp_path / "grown.counterfoil", manifest=manifest)
    with pytest.raises(logic.ContentInvalid, match=re.escape("'attachments/a.pdf' declares 1004 bytes, the manifest lists 1000")):
        service.stage_bundle(victim, hostile, PASSPHRASE)
    assert not (victim.data_dir / service.WORK_DIR_NAME).exists()


def test_the_declared_sizes_are_checked_against_the_free_space_before_writing(plain_bundle, victim, monkeypatch):
    events: list[tuple[str, int]] = []
    real_check, real_extract = service._check_space, service._extract
    monkeypatch.setattr(service, "_check_space", lambda folder, needed: events.append(("space", needed))
                        or real_check(folder, needed))
    monkeypatch.setattr(service, "_extract", lambda *a: events.append(("write", 0)) or real_extract(*a))
    staged = service.stage_bundle(victim, plain_bundle, PASSPHRASE)
    service.discard_staged(victim, staged)
    declared = sum(f["size"] for f in staged.manifest["files"])
    assert events[1:] == [("space", declared), ("write", 0)]

    class Full:
        free = declared // 2
    monkeypatch.setattr(service.shutil, "disk_usage", lambda path: Full)
    before = fingerprint(victim.data_dir)
    with pytest.raises(logic.RestoreRefused, match="Not enough free space"):
        service.stage_bundle(victim, plain_bundle, PASSPHRASE)
    assert fingerprint(victim.data_dir) == before


# -- what a restore switches on ---------------------------------------------------------------------

ATTACKER_SMTP = "smtp.attacker.example"
DROP = "drop@attacker.example"


@pytest.fixture
def hostile_bundle(config, owner, api, api_token, browser, tmp_path) -> Path:
    """A bundle whose maker set up everything that sends or signs in: their mail server, the
    accountant's package to their address every month, a queued message, a daily backup to their
    folder, custom templates on, an API token and a browser session."""
    from app.render import service as render_service

    # Through the API: the running server owns the engine (its outbox worker writes meanwhile).
    saved = api.patch("/api/v1/settings", json={
        "name": "Helpful Colleague Ltd", "smtp_host": ATTACKER_SMTP, "smtp_port": 2525, "smtp_username": "mallory",
        "smtp_from_email": "billing@attacker.example", "accountant_email": DROP, "accountant_schedule": "monthly",
        "accountant_day": 3})
    assert saved.status_code == 200, saved.text
    render_service.copy_default_templates(config.data_dir)
    assert api.patch("/api/v1/settings", json={"use_custom_templates": True}).status_code == 200
    client = api.post("/api/v1/clients", json={"name": "Their Client", "email": "them@client.example"}).json()
    for action in ("issue", "issue_and_send"):   # a recurring invoice that emails itself, and one that does not
        made = api.post("/api/v1/recurring", json={"client_id": client["id"], "start_date": "2030-01-01",
                                                   "action": action, "lines": [
                                                       {"description": "Retainer", "quantity": "1", "unit_price": "9"}]})
        assert made.status_code == 201, made.text
    connection = sqlite3.connect(config.database_path, timeout=30)
    connection.execute("INSERT INTO backup_settings (id, folder, rhythm, keep_last) VALUES "
                       "(1, '/srv/attacker/share', 'daily', 3)")
    # Queued for later, so the test server's own outbox worker leaves it alone.
    connection.execute("INSERT INTO outbox_message (kind, status, to_addresses, subject, message_id, "
                       "next_attempt_at, created_at, updated_at) VALUES ('test', 'queued', "
                       "'someone@attacker.example', 'Hello', '<1@attacker.example>', '2999-01-01 00:00:00+00:00', "
                       "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')")
    connection.commit()
    connection.close()
    assert api.get("/api/v1/settings").status_code == 200   # the token works in its own folder
    return service.export_bundle(config, tmp_path / "gift.counterfoil", PASSPHRASE).path


def state(config: Config) -> dict[str, object]:
    connection = sqlite3.connect(config.database_path)
    try:
        one = lambda sql: connection.execute(sql).fetchone()  # noqa: E731
        return {
            "name": one("SELECT name FROM business_settings")[0],
            "accountant": one("SELECT accountant_schedule, accountant_email, smtp_host FROM mail_settings"),
            "outbox": connection.execute("SELECT status, last_error FROM outbox_message WHERE kind = 'test'").fetchall(),
            "templates_on": one("SELECT use_custom_templates FROM business_settings")[0],
            "active_tokens": one("SELECT COUNT(*) FROM api_token WHERE revoked_at IS NULL")[0],
            "tokens": one("SELECT COUNT(*) FROM api_token")[0],
            "sessions": one("SELECT COUNT(*) FROM app_session")[0],
            "backups": connection.execute("SELECT folder, rhythm, keep_last FROM backup_settings").fetchall(),
            "marker": one("PRAGMA user_version")[0],
            "recurring": connection.execute("SELECT action, status FROM recurring_profile ORDER BY id").fetchall(),
        }
    finally:
        connection.close()


def test_the_cli_shows_what_the_backup_would_switch_on_and_restores_it_switched_off(hostile_bundle, victim,
                                                                                     secret_file):
    result = import_cli(hostile_bundle, victim, secret_file)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    shown = out[:out.index("Restoring it:")]
    for fragment in (f"Mail server (SMTP): {ATTACKER_SMTP}:2525 as mallory, from billing@attacker.example",
                     f"Accountant's package by email: monthly on day 3, to {DROP}",
                     "Outbox: 1 message waiting to be sent, to someone@attacker.example",
                     "Scheduled backups: daily, to /srv/attacker/share",
                     "Custom document templates: on (", "User accounts: 1 (1 owner)", "API tokens: 1 active",
                     "Browser sessions: 1"):
        assert fragment in shown, (fragment, out)
    assert "Scheduled sends are paused" in out and "revoked" in out and "Restored Helpful Colleague Ltd" in out
    after = state(victim)
    assert after["name"] == "Helpful Colleague Ltd"
    assert after["accountant"] == ("off", DROP, ATTACKER_SMTP)   # shown, but nothing goes out on its own
    assert after["outbox"] == [("failed", logic.HELD_MESSAGE)]
    assert after["templates_on"] == 0 and (victim.data_dir / "templates" / "invoice.typ").is_file()
    assert after["tokens"] == 1 and after["active_tokens"] == 0 and after["sessions"] == 0
    assert after["backups"] == [("/media/victim/STICK", "weekly", 4)]   # this computer's schedule stays
    assert after["marker"] == 0
    assert after["recurring"] == [("issue", "active"), ("issue_and_send", "paused")]   # it would email from here


def test_the_owner_can_keep_each_of_them(hostile_bundle, victim, secret_file):
    result = import_cli(hostile_bundle, victim, secret_file, "--keep-scheduled-sends", "--keep-custom-templates",
                        "--keep-tokens")
    assert result.returncode == 0, result.stderr
    assert "Scheduled sends are paused" not in result.stdout and "revoked" not in result.stdout
    after = state(victim)
    assert after["accountant"] == ("monthly", DROP, ATTACKER_SMTP)
    assert [status for status, _ in after["outbox"]] == ["queued"]
    assert after["templates_on"] == 1 and after["active_tokens"] == 1
    assert after["sessions"] == 0   # a browser session never travels
    assert after["backups"] == [("/srv/attacker/share", "daily", 3)]
    assert after["recurring"] == [("issue", "active"), ("issue_and_send", "active")]


def test_a_dry_run_shows_and_changes_nothing(hostile_bundle, victim, secret_file):
    before = fingerprint(victim.data_dir)
    result = import_cli(hostile_bundle, victim, secret_file, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert ATTACKER_SMTP in result.stdout and "Dry run: nothing was changed." in result.stdout
    assert "Restored" not in result.stdout
    assert fingerprint(victim.data_dir) == before


def test_the_page_shows_the_settings_and_revokes_the_tokens_by_default(hostile_bundle, browser, api, config):
    """Restored over the very folder the bundle came from: its API token worked, and no longer does."""
    response = browser.post("/backup/import", data={"passphrase": PASSPHRASE},
                            files={"bundle": ("gift.counterfoil", hostile_bundle.read_bytes(), "application/octet-stream")})
    assert response.status_code == 200, response.text
    for fragment in ("What this backup would switch on", f"{ATTACKER_SMTP}:2525", f"monthly on day 3, to {DROP}",
                     "to someone@attacker.example", "daily, to /srv/attacker/share", "Every API token",
                     'name="keep_scheduled_sends"', 'name="keep_custom_templates"', 'name="keep_tokens"'):
        assert fragment in response.text, fragment
    token = re.search(r'name="token" value="([0-9a-f]{16})"', response.text).group(1)
    restored = browser.post("/backup/restore", data={"token": token}, follow_redirects=False)
    assert restored.status_code == 303, restored.text
    assert api.get("/api/v1/settings").status_code == 401
    after = state(config)
    assert after["accountant"][0] == "off" and after["outbox"] == [("failed", logic.HELD_MESSAGE)]
    assert after["templates_on"] == 0


def test_restore_effects_follow_the_choices():
    found = logic.BundleSettings(queued_messages=2, queued_recipients=("a@x.example", "b@x.example"))
    everything = " ".join(logic.restore_effects(found, logic.RestoreChoices()))
    assert "accountant's package schedule is off" in everything and "2 messages waiting" in everything
    assert "Custom document templates are off" in everything and "API token" in everything
    kept = logic.restore_effects(found, logic.RestoreChoices(True, True, True))
    assert kept == ["Every browser session of the backup is ended."]
    assert logic.RestoreChoices.from_form({"keep_tokens": "true", "keep_custom_templates": ""}) == \
        logic.RestoreChoices(keep_tokens=True)


# -- an interrupted restore: the old data or the new, never a mix -----------------------------------

OLD = {"attachments": {"old-receipt.pdf"}, "templates": {"old.typ"}}
NEW = {"attachments": {"new-receipt.pdf"}, "templates": {"invoice.typ"}}
# Where the kill happens -> which data the next start must find.
OUTCOME = {step: "old" for step in restore.STEPS[:restore.STEPS.index("database_replaced")]} | {
    step: "new" for step in restore.STEPS[restore.STEPS.index("database_replaced"):]}


@pytest.fixture(scope="module")
def older_bundle(tmp_path_factory, template_database) -> Path:
    """From an older Counterfoil (no backup tables yet), so the upgrade step runs too."""
    folder = tmp_path_factory.mktemp("older")
    source = new_folder(folder / "data", template_database, name="New Data Co",
                        attachments={"new-receipt.pdf": b"%PDF new"}, templates={"invoice.typ": "// new\n"},
                        sql=("DROP TABLE backup_settings", "DELETE FROM migration WHERE app_name = 'backup'"))
    return service.export_bundle(source, folder / "older.counterfoil", PASSPHRASE).path


@pytest.fixture(scope="module")
def old_folder(tmp_path_factory, template_database) -> Config:
    return new_folder(tmp_path_factory.mktemp("old") / "data", template_database, name="Old Data Co",
                      attachments={"old-receipt.pdf": b"%PDF old"}, templates={"old.typ": "// old\n"})


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def integrity(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()


@pytest.mark.parametrize("step", restore.STEPS)
def test_kill_9_at_each_step_leaves_the_old_data_or_the_new(step, older_bundle, old_folder, secret_file, tmp_path):
    config = Config(data_dir=tmp_path / "data")
    shutil.copytree(old_folder.data_dir, config.data_dir)
    killed = import_cli(older_bundle, config, secret_file, stop_at=step)
    assert killed.returncode == -9, (step, killed.returncode, killed.stderr[-2000:])
    journaled = restore.STEPS.index("journal_written") <= restore.STEPS.index(step) < restore.STEPS.index("finished")
    assert (config.data_dir / restore.SWAP_DIR_NAME / restore.JOURNAL_NAME).is_file() == journaled, step

    # The next start (any command that opens the folder) finishes or undoes the restore first.
    after = cli("check", "--data-dir", str(config.data_dir))
    assert after.returncode == 0, (step, after.stdout, after.stderr[-2000:])

    expected = OLD if OUTCOME[step] == "old" else NEW
    assert business_name(config) == ("Old Data Co" if OUTCOME[step] == "old" else "New Data Co"), step
    assert files(config.attachments_dir) == expected["attachments"], step
    assert files(config.data_dir / "templates") == expected["templates"], step
    assert integrity(config.database_path) == "ok"
    kept = sorted(config.data_dir.glob("pre-restore-*"))
    if OUTCOME[step] == "old":
        assert kept == [], (step, kept)   # the pre-restore copy is absent...
    else:                                 # ...or complete, with the old attachments and templates beside it
        attachments, templates, database = kept   # pre-restore-<time>-attachments, -templates, .sqlite
        assert database.suffix == ".sqlite" and integrity(database) == "ok"
        assert attachments.name.endswith("-attachments") and templates.name.endswith("-templates")
        old = sqlite3.connect(database)
        assert old.execute("SELECT name FROM business_settings").fetchone()[0] == "Old Data Co"
        old.close()
        assert files(attachments) == OLD["attachments"] and files(templates) == OLD["templates"]
        connection = sqlite3.connect(config.database_path)
        assert connection.execute("SELECT COUNT(*) FROM migration WHERE app_name = 'backup'").fetchone()[0] >= 1
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 0 or step != "finished"
        connection.close()
    assert not (config.data_dir / restore.SWAP_DIR_NAME).exists()
    assert not [p for p in config.data_dir.rglob("*.part")], step


def test_every_step_is_a_place_the_test_stops():
    assert set(OUTCOME) == set(restore.STEPS) and len(restore.STEPS) == len(set(restore.STEPS))


def test_an_error_in_the_swap_puts_everything_back(plain_bundle, victim, monkeypatch):
    """Not a crash but an exception (a full disk, say) at the database step: the same recovery undoes it."""
    before = fingerprint(victim.data_dir)
    staged = service.stage_bundle(victim, plain_bundle, PASSPHRASE)

    def broken_backup(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")
    real_connect = sqlite3.connect

    class Source:
        def __init__(self, connection):
            self.connection = connection

        def backup(self, *args, **kwargs):
            broken_backup()

        def close(self):
            self.connection.close()

        def __getattr__(self, name):
            return getattr(self.connection, name)

    def connect(path, *args, **kwargs):
        connection = real_connect(path, *args, **kwargs)
        return Source(connection) if str(path).endswith(f"{restore.SWAP_DIR_NAME}/{logic.DATABASE_MEMBER}") \
            else connection
    monkeypatch.setattr(restore.sqlite3, "connect", connect)
    with pytest.raises(logic.RestoreRefused, match="disk is full"):
        run(service.apply_staged(victim, staged))
    after = fingerprint(victim.data_dir)
    assert {k: v for k, v in after.items() if not k.startswith(".backup-work")} == \
        {k: v for k, v in before.items() if not k.startswith(".backup-work")}



def test_a_failed_upgrade_puts_the_previous_data_back(older_bundle, victim, monkeypatch):
    from tests.http.test_backup import table_contents

    before = table_contents(victim.database_path)

    async def broken() -> None:
        raise RuntimeError("a migration failed")
    monkeypatch.setattr(service, "_migrate_live", lambda config: broken())
    staged = service.stage_bundle(victim, older_bundle, PASSPHRASE)
    assert staged.needs_migration
    with pytest.raises(logic.ContentInvalid, match=r"could not be upgraded .*a migration failed.*previous data was put"):
        run(service.apply_staged(victim, staged))
    assert table_contents(victim.database_path) == before
    assert files(victim.attachments_dir) == {"victim-receipt.pdf"} and not (victim.data_dir / "templates").exists()
    assert not list(victim.data_dir.glob("pre-restore-*")) and not (victim.data_dir / restore.SWAP_DIR_NAME).exists()


def test_only_the_holder_of_the_data_folder_recovers(victim):
    """`counterfoil check` while a server restores must not undo that restore under it; and a recovery
    moves only the backup's own folders (known by identity), never the user's."""
    from app.launcher import InstanceLock

    swap = victim.data_dir / restore.SWAP_DIR_NAME
    swap.mkdir()
    (swap / restore.JOURNAL_NAME).write_text(json.dumps({
        "marker": 7, "previous_database": None, "previous_attachments": "pre-restore-x-attachments",
        "previous_templates": "pre-restore-x-templates", "had_templates": False, "new_attachments": [0, 0],
        "new_templates": None}))
    lock = InstanceLock(victim.lock_path)
    lock.acquire()
    try:
        assert service.recover_interrupted_restore(victim) is None and swap.is_dir()
        assert service.recover_interrupted_restore(victim, lock_held=True) == "rolled back"
    finally:
        lock.release()
    assert not swap.exists() and files(victim.attachments_dir) == {"victim-receipt.pdf"}
