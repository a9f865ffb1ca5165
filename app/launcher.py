"""Start the server once per data folder and sign in whoever started it.

The first launch takes the data folder's instance lock (app.instance), binds
127.0.0.1 (5050, or the next free port), opens the browser, migrates the
database, records the launch token and the port in the lock file, and serves
(the browser's first request waits in the socket's queue until then). A second
launch finds the lock taken, reads the port, asks the running server's database
for a fresh one-time launch token (without migrating it: the schema belongs to
the server that holds the lock), and opens the browser on the running instance.
The browser is opened on a 0600 page in the data folder that holds the token,
so the token never appears in a process list or a shell history. A start that fails
after the browser opened (a damaged or newer database, say) answers the browser
with a page that says why, then ends as it would have: a double-click has no
terminal to read the message in.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import socket
import sys
import threading
import webbrowser
from pathlib import Path

from app.config import LAUNCH_TOKEN_TTL_S, Config
from app.instance import AlreadyRunning, InstanceLock

log = logging.getLogger("counterfoil")
PORT_ATTEMPTS = 20
FAILED_START_WAIT_S = 60    # how long a failed start waits for the browser to ask for the page that says why
FAILED_START_AFTER_S = 3    # and answers what else the browser asks (an icon) once it had the page


def bind_socket(host: str, port: int, *, attempts: int = PORT_ATTEMPTS) -> socket.socket:
    """Bind the first free port from `port` upward (5050, 5051, ...)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    last_error: OSError | None = None
    for candidate in range(port, port + attempts):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it, Nagle plus delayed ACKs add
        # ~40 ms to responses written in two parts (headers, then body).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((host, candidate))
        except OSError as error:
            sock.close()
            last_error = error
            continue
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    raise OSError(f"no free port between {port} and {port + attempts - 1}: {last_error}")


def write_launch_page(config: Config, token: str) -> Path:
    url = f"{config.base_url()}/launch?token={token}"
    page = (
        "<!doctype html><meta charset='utf-8'><title>Opening Counterfoil</title>"
        f"<meta http-equiv='refresh' content='0; url={html.escape(url, quote=True)}'>"
        f"<p>Opening Counterfoil… <a href='{html.escape(url, quote=True)}'>continue</a></p>"
    )
    from app.db import datafolder

    # A read-only data folder cannot hold the page: it goes beside the private copy being served.
    copy_dir = datafolder.WATCH.copy_dir
    path = copy_dir / config.launch_page_path.name if copy_dir is not None else config.launch_page_path
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(page)
    os.chmod(path, 0o600)
    return path


async def _new_launch_token(token: str | None = None) -> str:
    """Record a launch token (`token`, else a new one) in the open database."""
    from app.audit import service as audit_service
    from app.audit.logic import Actor
    from app.auth import service as auth_service

    with audit_service.acting(Actor.system("launcher", origin="system")):
        return await auth_service.create_launch_token(LAUNCH_TOKEN_TTL_S, token=token)


def open_browser(config: Config, token: str | None = None) -> None:
    """Open the one-time sign-in page of this data folder's server (with a new launch token unless given)."""
    page = write_launch_page(config, token or asyncio.run(_new_launch_token()))
    if not webbrowser.open(page.as_uri()):
        print(f"Open {config.base_url()} in your browser (sign-in page: {page}).", file=sys.stderr)


def failed_start_message(error: BaseException) -> str | None:
    """What a known problem at the start says to the user (a refused database with the newest backups
    when one would help, an SQLite too old); None for anything else."""
    from app.db.datafolder import DatabaseDamaged, DatabaseRefused, DataFolderProblem
    from app.db.lifecycle import SQLiteTooOld

    if isinstance(error, DataFolderProblem):
        message = error.message
        if isinstance(error, DatabaseRefused) and error.backups_help:
            from app.backup import service as backup_service

            message += " " + backup_service.recovery_advice(Config.for_data_dir(error.data_dir),
                                                            damaged=isinstance(error, DatabaseDamaged))
        return message
    if isinstance(error, SQLiteTooOld):
        return str(error)
    return None


def failed_start_page(config: Config, message: str) -> bytes:
    """The page the browser gets when the start failed: why, and where the data folder is."""
    return (
        "<!doctype html><html lang='en'><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>Counterfoil could not start</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;color:#1c2430;max-width:44rem;margin:3rem auto;"
        "padding:0 1rem}h1{font-size:1.5rem}pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f7f9;"
        "border-left:4px solid #b42318;padding:.75rem 1rem;font:14px/1.5 ui-monospace,monospace}</style>"
        "<h1>Counterfoil could not start</h1>"
        f"<pre>{html.escape(message)}</pre>"
        f"<p>Data folder: <code>{html.escape(str(config.data_dir))}</code></p>"
        "<p>When that is put right, start Counterfoil again. You can close this tab.</p>"
    ).encode()


def answer_failed_start(sock: socket.socket, page: bytes, *, wait_s: float = FAILED_START_WAIT_S,
                        after_s: float = FAILED_START_AFTER_S) -> None:
    """Answer every request on the listening socket with `page` (503) until the browser has had it and
    `after_s` more passed, or `wait_s` passed without it (the browser closed, or never started)."""
    import http.server
    import time

    asked: list[float] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(503)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(page)
            asked.append(time.monotonic())

        do_HEAD = do_POST = do_GET

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.HTTPServer(sock.getsockname()[:2], Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock   # the socket the browser was sent to, listening since before the failure
    server.timeout = 0.25
    deadline = time.monotonic() + wait_s
    while time.monotonic() < (asked[0] + after_s if asked else deadline):
        server.handle_request()


async def _open_and_tidy(config: Config, launch_token: str | None) -> None:
    """Open the database (migrated, checked), remove what interrupted work left, record the launch token."""
    from app.backup import service as backup_service
    from app.db import datafolder
    from app.db.lifecycle import open_database

    await open_database(config, check_may_wait=True)
    if not datafolder.WATCH.serving_copy:
        await backup_service.remove_leftovers(config)   # .part files, .backup-work/, abandoned export snapshots
    if launch_token is not None:
        # Before the server and its workers start: the database's one writer is never shared between two
        # event loops. The browser's first request waits in the socket's queue until then.
        await _new_launch_token(launch_token)


def _open(config: Config, launch_token: str | None, *, read_only: bool) -> None:
    """Finish a cut-short restore, then open the database, tidy and record the launch token."""
    from app.backup import service as backup_service

    if not read_only:
        backup_service.recover_interrupted_restore(config, lock_held=True)   # a cut-short restore first
    asyncio.run(_open_and_tidy(config, launch_token))


def start_browser(config: Config, token: str) -> None:
    """Open the browser on the launch page beside the start (webbrowser.open may wait for the browser)."""
    threading.Thread(target=open_browser, args=(config, token), daemon=True).start()


def serve(config: Config, *, open_in_browser: bool = True) -> int:
    from app.auth.logic import new_launch_token
    from app.db import datafolder
    from app.db.lifecycle import open_database
    from app.paths import ensure_private_dir

    read_only = config.data_dir.is_dir() and not datafolder.folder_writable(config.data_dir)
    if not read_only:
        ensure_private_dir(config.data_dir)
    lock = InstanceLock(config.lock_path)
    try:
        lock.acquire_read_only() if read_only else lock.acquire()
    except AlreadyRunning as running:
        config.port = running.port or config.port
        print(f"Counterfoil is already running for {config.data_dir} on {config.base_url()}.", file=sys.stderr)
        if open_in_browser:
            # Only a launch token is written: the running server migrated the database at its start,
            # and a second program must never change the schema under it.
            try:
                asyncio.run(open_database(config, migrate=False))
            except datafolder.DataFolderReadOnly:
                print("The data folder is read-only, so no sign-in link can be written: open the running "
                      "Counterfoil's window, or sign in with your password.", file=sys.stderr)
                return 0
            open_browser(config)
        return 0
    try:
        sock = bind_socket(config.host, config.port)
        config.port = sock.getsockname()[1]
        launch_token = new_launch_token() if open_in_browser else None
        browser_first = launch_token is not None and not read_only
        if launch_token is not None and browser_first:
            # The browser starts first, before the database opens and the web app is imported and built
            # (~0.4 s): the socket listens already, so its first request waits in the socket's queue and is
            # answered as soon as the server runs, the token recorded by then. The browser's own start and
            # ours overlap instead of adding up. A read-only folder cannot hold the launch page: it goes
            # beside the private copy open_database makes, below.
            start_browser(config, launch_token)
        try:
            _open(config, launch_token, read_only=read_only)
        except Exception as error:
            if not browser_first:
                raise
            # The browser waits for an answer: it gets one that says why (a double-click has no terminal).
            message = failed_start_message(error)
            if message is None:
                log.exception("Counterfoil could not start")
                message = f"{type(error).__name__}: {error}"
            else:
                print(f"counterfoil: {message}", file=sys.stderr, flush=True)
            answer_failed_start(sock, failed_start_page(config, message))
            return 1
        serving_copy = datafolder.WATCH.serving_copy
        if not serving_copy:
            lock.record(config.port)
        if config.host not in ("127.0.0.1", "localhost", "::1"):
            print(f"WARNING: listening on {config.host}: other computers on the network can reach this "
                  "Counterfoil. Use the default 127.0.0.1 unless you mean it.", file=sys.stderr)
        if serving_copy:
            print(f"READ-ONLY: the data folder {config.data_dir} cannot be written. Counterfoil shows its data "
                  "and can export a backup, but saves no changes.", file=sys.stderr)
        print(f"Counterfoil {config.base_url()}  (data: {config.data_dir})", file=sys.stderr, flush=True)
        if launch_token is not None and read_only:
            start_browser(config, launch_token)
        from app.web.server import run_server

        run_server(config, sock)
        return 0
    finally:
        lock.release()
        datafolder.release_copy()
