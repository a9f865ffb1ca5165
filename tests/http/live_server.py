"""A real Counterfoil server process (`python -m app serve`) on a temporary data folder, for tests
that need real TCP connections, real concurrency and a second process on the same SQLite file."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, f"counterfoil {' '.join(args)}: {result.stdout}\n{result.stderr}"
    return result.stdout


@dataclass
class Server:
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    base_url: str
    token: str

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.token}"}, timeout=60)

    def rows(self, sql: str) -> list[tuple]:
        """What the database holds, read by a connection of the test's own."""
        connection = sqlite3.connect(self.data_dir / "counterfoil.sqlite", timeout=30)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()


def init_data_folder(tmp_path: Path) -> tuple[Path, str]:
    """A data folder made by `counterfoil init`, with an owner and an API token (returned)."""
    data_dir = tmp_path / "data"
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    cli("init", "--data-dir", str(data_dir), "--owner-email", "owner@example.com", "--password-file",
        str(password_file))
    token = cli("token", "create", "--data-dir", str(data_dir), "--name", "t").strip()
    assert token.startswith("cf_")
    return data_dir, token


def start_server(tmp_path: Path) -> Iterator[Server]:
    """Initialise a data folder with an owner and an API token, start the server on it, stop it after."""
    data_dir, token = init_data_folder(tmp_path)
    server = launch(data_dir, tmp_path / "server.log", token)
    try:
        yield server
    finally:
        stop(server)


def launch(data_dir: Path, log_path: Path, token: str, *, expect_status: str = "ok") -> Server:
    """`counterfoil serve` on an existing data folder, once /health answers with `expect_status`."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--data-dir", str(data_dir), "--port", str(free_port()),
             "--no-browser"],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        base_url = _wait_until_healthy(process, log_path, expect_status=expect_status)
    except BaseException:
        _end(process)
        raise
    return Server(data_dir, process, log_path, base_url, token)


def stop(server: Server) -> int:
    """Stop the server as the system does at logout (SIGTERM: a graceful stop); returns its exit status."""
    return _end(server.process)


def _end(process: subprocess.Popen[bytes]) -> int:
    process.terminate()
    try:
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=5)


def _wait_until_healthy(process: subprocess.Popen[bytes], log_path: Path, timeout_s: float = 60,
                        expect_status: str = "ok") -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        log = log_path.read_text(errors="replace")
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode} while starting:\n{log}")
        # The launcher moves on to the next port if ours was taken meanwhile: read the one it chose.
        match = re.search(r"http://127\.0\.0\.1:(\d+)", log)
        if match:
            port = int(match.group(1))
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", headers={"Host": f"127.0.0.1:{port}"},
                                     timeout=2)
                if response.status_code == 200 and response.json()["status"] == expect_status:
                    return f"http://127.0.0.1:{port}"
            except httpx.HTTPError:
                pass
        time.sleep(0.05)
    pytest.fail(f"the server did not answer /health within {timeout_s} s:\n{log_path.read_text(errors='replace')}")
