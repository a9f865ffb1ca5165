"""The `counterfoil` command line, run as a real process (`python -m app ...`), per API.md."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from argon2 import extract_parameters
from litestar.testing import TestClient

from app import __version__
from app.cli import main
from app.config import Config
from app.db.lifecycle import open_database
from app.web.server import create_app
from tests.conftest import BASE_URL, TEST_PORT

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "COUNTERFOIL_DATA_DIR"}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=60)


def rows(data_dir: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(data_dir / "counterfoil.sqlite")
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def password_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "password"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory, password_file: Path) -> Path:
    """A data folder after `counterfoil init` (shared by the read-only checks of this module)."""
    data_dir = tmp_path_factory.mktemp("cli") / "data"
    result = cli("init", "--data-dir", str(data_dir), "--owner-email", "Owner@Example.com",
                 "--password-file", str(password_file), "--business-name", "Birch Studio")
    assert result.returncode == 0, result.stderr
    assert "owner@example.com" in result.stdout.lower()
    return data_dir


def test_version():
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"counterfoil {__version__}"


def test_init_creates_a_private_folder_and_database(initialised: Path):
    assert stat.S_IMODE(initialised.stat().st_mode) == 0o700
    assert stat.S_IMODE((initialised / "counterfoil.sqlite").stat().st_mode) == 0o600
    assert rows(initialised, "SELECT email, role FROM app_user") == [("owner@example.com", "owner")]
    assert rows(initialised, "SELECT name FROM business_settings") == [("Birch Studio",)]
    # The owner's password is stored as an argon2id hash, never as itself.
    (hashed,) = rows(initialised, "SELECT password_hash FROM app_user")[0]
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    parameters = extract_parameters(hashed)  # at least OWASP's argon2id minimum (19 MiB, 2 passes)
    assert parameters.memory_cost >= 19 * 1024 and parameters.time_cost >= 2


def test_second_init_is_a_user_error(initialised: Path, password_file: Path):
    result = cli("init", "--data-dir", str(initialised), "--owner-email", "other@example.com",
                 "--password-file", str(password_file))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("counterfoil: ") and "owner" in lines[0]
    assert rows(initialised, "SELECT email FROM app_user") == [("owner@example.com",)]


def test_init_with_a_short_password_names_the_problem_and_writes_no_owner(tmp_path: Path):
    weak = tmp_path / "weak"
    weak.write_text("short\n", encoding="utf-8")
    data_dir = tmp_path / "data"
    result = cli("init", "--data-dir", str(data_dir), "--owner-email", "o@example.com", "--password-file", str(weak))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "password" in result.stderr.lower()
    assert rows(data_dir, "SELECT COUNT(*) FROM app_user") == [(0,)]


def test_token_create_prints_a_token_that_authenticates(initialised: Path):
    result = cli("token", "create", "--data-dir", str(initialised), "--name", "backup script")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert token.startswith("cf_") and len(token.splitlines()) == 1
    # Only its hash is kept.
    assert rows(initialised, f"SELECT COUNT(*) FROM api_token WHERE token_hash = '{token}'") == [(0,)]
    assert ("backup script",) in rows(initialised, "SELECT name FROM api_token")

    config = Config(data_dir=initialised, port=TEST_PORT)
    asyncio.run(open_database(config))
    with TestClient(app=create_app(config, prepare=False), base_url=BASE_URL) as client:
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text
        assert me.json()["email"] == "owner@example.com" and me.json()["via"] == "token"
        wrong = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token[:-2]}xx"})
        assert wrong.status_code == 401


def test_token_create_is_owner_scope_by_default_as_it_always_was(initialised: Path):
    """Scripts written before scopes call `token create --name X` and use the token for everything."""
    assert cli("token", "create", "--data-dir", str(initialised), "--name", "old script").returncode == 0
    assert rows(initialised, "SELECT scope, valid_until FROM api_token WHERE name = 'old script'") == [("owner", None)]


def test_token_create_takes_a_scope_and_a_last_day(initialised: Path):
    result = cli("token", "create", "--data-dir", str(initialised), "--name", "reports", "--scope", "read",
                 "--expires", "2099-12-31")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert rows(initialised, "SELECT scope, valid_until FROM api_token WHERE name = 'reports'") == [
        ("read", "2099-12-31")]
    config = Config(data_dir=initialised, port=TEST_PORT)
    asyncio.run(open_database(config))
    with TestClient(app=create_app(config, prepare=False), base_url=BASE_URL) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/me", headers=headers).json()["token_scope"] == "read"
        assert client.post("/api/v1/clients", json={"name": "X"}, headers=headers).status_code == 403


@pytest.mark.parametrize(("expires", "words"), [("2001-01-01", "has passed"), ("tomorrow", "is not a date")])
def test_token_create_with_a_bad_last_day_is_a_user_error(initialised: Path, expires: str, words: str):
    before = rows(initialised, "SELECT COUNT(*) FROM api_token")
    result = cli("token", "create", "--data-dir", str(initialised), "--name", "x", "--expires", expires)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and words in result.stderr
    assert rows(initialised, "SELECT COUNT(*) FROM api_token") == before


def test_token_create_without_an_owner_is_a_user_error(tmp_path: Path):
    result = cli("token", "create", "--data-dir", str(tmp_path / "data"), "--name", "x")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "owner" in result.stderr


def test_demo_fills_sample_data(tmp_path: Path):
    data_dir = tmp_path / "data"
    result = cli("demo", "--data-dir", str(data_dir), "--clients", "5", "--invoices", "2")
    assert result.returncode == 0, result.stderr
    assert rows(data_dir, "SELECT COUNT(*) FROM client") == [(5,)]
    assert rows(data_dir, "SELECT COUNT(*) FROM client WHERE search_text = '' OR code NOT LIKE 'C%'") == [(0,)]
    assert rows(data_dir, "SELECT COUNT(*) FROM catalog_item")[0][0] >= 5
    assert rows(data_dir, "SELECT name != '' AND address_line1 != '' FROM business_settings") == [(1,)]
    # Running it again adds more clients with fresh codes, and no duplicate items.
    items = rows(data_dir, "SELECT COUNT(*) FROM catalog_item")
    assert cli("demo", "--data-dir", str(data_dir), "--clients", "2", "--invoices", "0").returncode == 0
    assert rows(data_dir, "SELECT COUNT(*), COUNT(DISTINCT code) FROM client") == [(7, 7)]
    assert rows(data_dir, "SELECT COUNT(*) FROM catalog_item") == items


def test_data_dir_from_the_environment(tmp_path: Path):
    data_dir = tmp_path / "from-env"
    result = cli("demo", "--clients", "1", "--invoices", "0", env={"COUNTERFOIL_DATA_DIR": str(data_dir)})
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "counterfoil.sqlite").stat().st_mode) == 0o600
    assert rows(data_dir, "SELECT COUNT(*) FROM client") == [(1,)]


def test_unknown_command_is_a_usage_error():
    result = cli("frobnicate")
    assert result.returncode == 2
    assert "usage" in result.stderr.lower()


@pytest.mark.parametrize("argv", [
    ["init", "--password-file", "x"],            # --owner-email missing
    ["token"],                                   # no token subcommand
    ["token", "create"],                         # --name missing
    ["token", "create", "--name", "x", "--scope", "admin"],
    ["demo", "--clients", "lots"],
    ["serve", "--port", "http"],
    ["--no-such-option"],
])
def test_bad_usage_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage" in capsys.readouterr().err.lower()


def test_negative_demo_count_is_a_user_error(tmp_path: Path, capsys):
    assert main(["demo", "--data-dir", str(tmp_path / "d"), "--clients", "-1"]) == 1
    assert capsys.readouterr().err.strip().startswith("counterfoil: ")


def test_an_old_sqlite_is_refused_with_a_clear_message(tmp_path: Path, monkeypatch, capsys):
    """The search index needs SQLite 3.34 (FTS5 trigram): older libraries get words, not a traceback."""
    from app.db import lifecycle

    with pytest.raises(lifecycle.SQLiteTooOld, match=r"SQLite 3\.31\.1, and Counterfoil needs SQLite 3\.34\.0"):
        lifecycle.check_sqlite((3, 31, 1))
    lifecycle.check_sqlite((3, 34, 0))
    monkeypatch.setattr(lifecycle, "MIN_SQLITE", (99, 0, 0))
    assert main(["demo", "--data-dir", str(tmp_path / "d"), "--clients", "0", "--invoices", "0"]) == 1
    assert "Counterfoil needs SQLite 99.0.0 or newer" in capsys.readouterr().err
    assert not (tmp_path / "d" / "counterfoil.sqlite").exists()
