"""A second launch on a data folder whose server runs (`counterfoil serve`, run as a real process).

It finds the instance lock held, reads the running server's port from it, writes a launch
token and opens the browser there. It must never migrate the database: the schema belongs
to the server holding the lock.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from app.config import Config
from app.instance import InstanceLock
from tests.http.support import count, query

ROOT = Path(__file__).resolve().parents[2]
RUNNING_PORT = 5077   # recorded in the lock; no server listens there, and the second launch never asks it


def serve(config: Config, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "COUNTERFOIL_DATA_DIR"}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "app", "serve", "--data-dir", str(config.data_dir), *args],
                          cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


@pytest.fixture
def running(config: Config) -> Iterator[InstanceLock]:
    """The data folder as a running server holds it: the instance lock taken, its port recorded."""
    lock = InstanceLock(config.lock_path)
    lock.acquire()
    lock.record(RUNNING_PORT)
    try:
        yield lock
    finally:
        lock.release()


@pytest.fixture
def browser(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A stand-in browser ($BROWSER) that writes down the address it was asked to open."""
    opened = tmp_path / "opened.txt"
    script = tmp_path / "browser"
    script.write_text(f"#!{sys.executable}\nimport pathlib, sys\npathlib.Path({str(opened)!r}).write_text(sys.argv[1])\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return {"BROWSER": str(script)}, opened


def drop_the_last_migration_record(config: Config) -> tuple[str, str]:
    """Make the database look one migration behind (the last one applied, of an app other than auth)."""
    name, app_name = query(config, "SELECT name, app_name FROM migration WHERE app_name != 'auth' "
                                   "ORDER BY id DESC LIMIT 1")[0]
    connection = sqlite3.connect(config.database_path)
    with connection:
        connection.execute("DELETE FROM migration WHERE name = ? AND app_name = ?", (name, app_name))
    connection.close()
    return name, app_name


def test_a_second_launch_opens_the_running_server_without_migrating(config: Config, running: InstanceLock,
                                                                     browser: tuple[dict[str, str], Path]):
    name, app_name = drop_the_last_migration_record(config)
    migrations_before = count(config, "migration")
    env, opened = browser

    result = serve(config, env=env)

    assert result.returncode == 0, result.stderr
    assert f"already running for {config.data_dir} on http://127.0.0.1:{RUNNING_PORT}" in result.stderr
    # Nothing was migrated: the missing migration is still missing (a migration run would have
    # applied it again, or failed on the tables it creates).
    assert count(config, "migration") == migrations_before
    assert count(config, "migration", "name = ? AND app_name = ?", name, app_name) == 0
    # What the second launch is for: a launch token, and the browser sent to the running server.
    assert count(config, "launch_token") == 1
    page = Path(unquote(urlsplit(opened.read_text()).path))
    assert page == config.launch_page_path
    assert f"http://127.0.0.1:{RUNNING_PORT}/launch?token=" in page.read_text()


def test_a_second_launch_without_a_browser_writes_nothing(config: Config, running: InstanceLock):
    drop_the_last_migration_record(config)
    migrations_before = count(config, "migration")

    result = serve(config, "--no-browser")

    assert result.returncode == 0, result.stderr
    assert "already running" in result.stderr
    assert count(config, "migration") == migrations_before
    assert count(config, "launch_token") == 0


def test_a_first_launch_opens_the_browser_on_a_link_that_signs_in(config: Config,
                                                                   browser: tuple[dict[str, str], Path]):
    """The browser is started as soon as the socket listens, before the database opens and the app is built;
    its first request waits in the socket's queue and is answered once the server runs, its token recorded."""
    import socket
    import time
    import urllib.request

    env, opened = browser
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {k: v for k, v in os.environ.items() if k != "COUNTERFOIL_DATA_DIR"} | env
    server = subprocess.Popen([sys.executable, "-m", "app", "serve", "--data-dir", str(config.data_dir),
                               "--port", str(port)], cwd=ROOT, env=environment, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not opened.exists() and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.05)
        assert opened.exists(), "the browser was never opened"
        page = Path(unquote(urlsplit(opened.read_text()).path))
        link = page.read_text().split("url=", 1)[1].split("'", 1)[0].replace("&amp;", "&")
        assert link.startswith(f"http://127.0.0.1:{port}/launch?token=")
        with urllib.request.urlopen(link, timeout=60) as response:   # follows the redirects, signed in
            assert response.status == 200
            assert urlsplit(response.url).path == "/setup"   # a new data folder's first page, not /login
    finally:
        server.terminate()
        server.communicate(timeout=30)
