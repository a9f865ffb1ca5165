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


def test_a_start_that_fails_after_the_browser_opened_tells_the_browser_why(tmp_path: Path):
    """The browser is started before the database opens; when the database is then refused (here: damaged),
    the browser's request is answered with a page that says why (a double-click has no terminal), the
    terminal says it as before, and the program ends."""
    from tests.http.live_server import free_port, init_data_folder
    from tests.http.test_data_folder import damage

    data_dir, _token = init_data_folder(tmp_path)
    damage(data_dir / "counterfoil.sqlite")
    answer = tmp_path / "answer.txt"
    script = tmp_path / "browser"
    # A stand-in browser that follows the launch page's link, as a browser's refresh does, and writes down
    # what it was answered.
    script.write_text(
        f"#!{sys.executable}\n"
        "import pathlib, sys, urllib.error, urllib.parse, urllib.request\n"
        "page = pathlib.Path(urllib.parse.unquote(urllib.parse.urlsplit(sys.argv[1]).path)).read_text()\n"
        "link = page.split('url=', 1)[1].split(\"'\", 1)[0].replace('&amp;', '&')\n"
        "try:\n"
        "    response = urllib.request.urlopen(link, timeout=60)\n"
        "    status, body = response.status, response.read()\n"
        "except urllib.error.HTTPError as error:\n"
        "    status, body = error.code, error.read()\n"
        f"pathlib.Path({str(answer)!r}).write_text(f'{{status}}\\n' + body.decode('utf-8'))\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    environment = {k: v for k, v in os.environ.items() if k != "COUNTERFOIL_DATA_DIR"} | {"BROWSER": str(script)}

    result = subprocess.run([sys.executable, "-m", "app", "serve", "--data-dir", str(data_dir), "--port",
                             str(free_port())], cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=120, stdin=subprocess.DEVNULL)

    assert result.returncode == 1, result.stderr
    database = data_dir / "counterfoil.sqlite"
    assert f"counterfoil: {database} is damaged (SQLite says: " in result.stderr
    status, page = answer.read_text().split("\n", 1)
    assert status == "503"
    assert "<title>Counterfoil could not start</title>" in page
    assert f"{database} is damaged (SQLite says: " in page and "nothing was changed" in page
    assert str(data_dir) in page
    assert (data_dir / "counterfoil.lock").read_bytes() == b""   # no port recorded: the server never ran


def test_the_page_of_a_failed_start_is_answered_until_the_browser_had_it():
    """Every request gets the page (503); once one did, the rest of the wait is cut short."""
    import socket
    import threading
    import urllib.error
    import urllib.request

    from app.launcher import answer_failed_start, bind_socket

    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    answering = threading.Thread(target=answer_failed_start, args=(sock, b"<p>why</p>"),
                                 kwargs={"wait_s": 600, "after_s": 0.5}, daemon=True)
    answering.start()
    for path in ("/launch?token=abc", "/favicon.ico"):
        with pytest.raises(urllib.error.HTTPError) as answered:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30)
        assert answered.value.code == 503 and answered.value.read() == b"<p>why</p>"
        assert answered.value.headers["Cache-Control"] == "no-store"
    answering.join(timeout=60)
    assert not answering.is_alive()   # it did not wait the 600 s out
    sock.close()
    with socket.socket() as probe, pytest.raises(OSError):
        probe.connect(("127.0.0.1", port))   # nothing answers there any more


def test_a_search_of_one_letter_answers_as_the_first_request_after_a_start(tmp_path: Path):
    """A word of one or two letters is found through the search index's vocabulary, a table each database
    connection holds in its temporary schema; the start opens the database before the documents' module asks
    for it (it was missing there: 500 until the server was started again)."""
    import httpx

    from tests.http.live_server import init_data_folder, launch, stop

    data_dir, token = init_data_folder(tmp_path)
    server = launch(data_dir, tmp_path / "server.log", token)
    try:
        for path in ("/api/v1/invoices?q=z", "/api/v1/quotes?q=zo", "/api/v1/invoices?q=zoe"):
            response = httpx.get(server.base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            assert response.status_code == 200, (path, response.text, (tmp_path / "server.log").read_text())
            assert response.json()["total"] == 0
    finally:
        stop(server)
