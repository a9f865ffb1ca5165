"""Start the server once per data folder and sign in whoever started it.

The first launch takes the data folder's instance lock (app.instance), binds
127.0.0.1 (5050, or the next free port), opens the browser, migrates the
database, records the launch token and the port in the lock file, and serves
(the browser's first request waits in the socket's queue until then). A second
launch finds the lock taken, reads the port, asks the running server's database
for a fresh one-time launch token (without migrating it: the schema belongs to
the server that holds the lock), and opens the browser on the running instance.
The browser is opened on a 0600 page in the data folder that holds the token,
so the token never appears in a process list or a shell history.
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
        if launch_token is not None and not read_only:
            # The browser starts first, before the database opens and the web app is imported and built
            # (~0.4 s): the socket listens already, so its first request waits in the socket's queue and is
            # answered as soon as the server runs, the token recorded by then. The browser's own start and
            # ours overlap instead of adding up. (A start that then fails leaves the browser on a page that
            # does not answer; the terminal says why, as before.) A read-only folder cannot hold the launch
            # page: it goes beside the private copy open_database makes, below.
            start_browser(config, launch_token)
        from app.backup import service as backup_service

        if not read_only:
            backup_service.recover_interrupted_restore(config, lock_held=True)   # a cut-short restore first
        asyncio.run(_open_and_tidy(config, launch_token))
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
