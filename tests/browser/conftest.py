"""Browser tests: Debian's Chromium, driven by Playwright, against a REAL server process.

Each test module starts its own `python -m app serve` on its own temporary data
folder and a free port (tests run under pytest-xdist, so two workers may each
start servers at the same time). Nothing here may skip: a browser test that
cannot run fails, with a message saying what is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("COUNTERFOIL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
OWNER_EMAIL = "owner@example.com"
OWNER_PASSWORD = "correct horse battery"
OWNER_NAME = "Olivia Owner"
BUSINESS_NAME = "Test Studio"
VIEWPORT = {"width": 1280, "height": 900}
SHOTS = Path(os.environ.get("COUNTERFOIL_SHOTS", "/tmp/shots"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


# -- helpers -------

def tiny_png(width: int = 48, height: int = 24) -> bytes:
    """A real PNG (a teal box with a darker band), made without any image library."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + b"".join(bytes((10, 90, 110) if height // 3 <= y < 2 * height // 3 else (40, 160, 170))
                           for _ in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


# -- the server ------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(*args: str, stdin: str | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGS` in the repository; fails the test with its output if it fails."""
    result = subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO, input=stdin, text=True,
                            capture_output=True, timeout=timeout)
    if result.returncode != 0:
        pytest.fail(f"`counterfoil {' '.join(args)}` exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def run_python(code: str, timeout: float = 180) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, text=True, capture_output=True,
                            timeout=timeout)
    if result.returncode != 0:
        pytest.fail(f"python -c exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@dataclass
class Server:
    data_dir: Path
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    log_path: Path = field(default_factory=Path)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def start(self, timeout_s: float = 60) -> None:
        self.log_path = self.data_dir.parent / f"server-{self.data_dir.name}.log"
        wanted = free_port()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--data-dir", str(self.data_dir), "--port", str(wanted),
                 "--no-browser"],
                cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        # The launcher moves to the next port if ours was taken meanwhile: read the one it chose.
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode} while starting:\n{self.log()}")
            match = re.search(r"Counterfoil http://127\.0\.0\.1:(\d+)", self.log())
            if match:
                self.port = int(match.group(1))
                try:
                    with urllib.request.urlopen(self.url("/health"), timeout=2) as response:
                        if response.status == 200:
                            return
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"the server did not answer /health within {timeout_s} s:\n{self.log()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def owner(self) -> None:
        """Create the owner without the setup page (`counterfoil init`)."""
        password_file = self.data_dir.parent / f"password-{self.data_dir.name}"
        password_file.write_text(OWNER_PASSWORD + "\n")
        run_cli("init", "--data-dir", str(self.data_dir), "--owner-email", OWNER_EMAIL, "--password-file",
                str(password_file), "--business-name", BUSINESS_NAME, "--owner-name", OWNER_NAME)

    def demo(self, clients: int = 40) -> None:
        run_cli("demo", "--data-dir", str(self.data_dir), "--clients", str(clients))

    def launch_token(self) -> str:
        """A one-time launch token, made the way the launcher makes it, in another process."""
        code = (
            "import asyncio\n"
            "from app.config import Config\n"
            "from app.db.lifecycle import open_database\n"
            "from app.auth import service\n"
            "async def main():\n"
            f"    await open_database(Config(data_dir=__import__('pathlib').Path({str(self.data_dir)!r})))\n"
            "    return await service.create_launch_token(120)\n"
            "print(asyncio.run(main()))\n"
        )
        return run_python(code).strip()


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="counterfoil-browser-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _server(workdir: Path, name: str, *, owner: bool, demo: int = 0) -> Iterator[Server]:
    server = Server(data_dir=workdir / name)
    if owner:
        server.owner()
    if demo:
        server.demo(demo)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[Server]:
    """This module's server: an owner exists, no other data."""
    yield from _server(workdir, "data", owner=True)


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Server]:
    """A server on an empty data folder: nobody has set it up yet."""
    yield from _server(tmp_path, "fresh", owner=False)


# -- the browser -----------------------------------------------------------------

@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError as error:  # pragma: no cover - the dev extras are missing
        pytest.fail(f"Playwright is not installed ({error}); run the test setup from README.md")
    # CI machines run other suites beside this one: be patient, never flaky.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Any) -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install Debian's package (`apt-get install -y chromium`) "
                    "or set COUNTERFOIL_CHROMIUM. Browser tests never skip.")
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


class Watch:
    """What a page did that it should not: requests to other hosts, console errors, CSP violations."""

    def __init__(self, server: Server):
        self.server = server
        self.foreign: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []

    def attach(self, page: Any) -> None:
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.hostname != "127.0.0.1" or parts.port != self.server.port:
            self.foreign.append(request.url)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def check(self) -> None:
        assert not self.foreign, f"the page reached beyond its own server: {self.foreign}"
        csp = [m for m in self.console_errors if "Content Security Policy" in m or "Content-Security-Policy" in m]
        assert not csp, f"CSP violations in the console: {csp}"
        assert not self.page_errors, f"JavaScript errors: {self.page_errors}"


def new_page(browser: Any, server: Server, watch: Watch) -> tuple[Any, Any]:
    context = browser.new_context(viewport=VIEWPORT, base_url=server.base_url, locale="en-CA")
    context.set_default_timeout(20_000)
    context.set_default_navigation_timeout(30_000)
    page = context.new_page()
    watch.attach(page)
    return context, page


@pytest.fixture
def watch(server: Server) -> Watch:
    return Watch(server)


@pytest.fixture
def anon_page(browser: Any, server: Server, watch: Watch) -> Iterator[Any]:
    """A fresh browser profile on this module's server, signed out."""
    context, page = new_page(browser, server, watch)
    yield page
    context.close()
    watch.check()


def sign_in(page: Any, email: str = OWNER_EMAIL, password: str = OWNER_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/(\?.*)?$"))


@pytest.fixture
def owner_page(anon_page: Any) -> Any:
    """Signed in as the owner with the password."""
    sign_in(anon_page)
    return anon_page
