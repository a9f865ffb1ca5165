"""Static files under a hash of their content, cached by the browser for a year.

Pages name a static file with `static_url('app.css')` (a Jinja global): /static/app.css?v=<the
first 12 hex digits of its SHA-256>. A request whose v= is the file's current hash is answered
with `Cache-Control: public, max-age=31536000, immutable`: a new version of the file has a new
URL, so a cached copy is never stale. Any other request for a static file (no v=, an old one)
gets `no-cache`: the browser asks again each time (and gets a 304 when nothing changed).
The web fonts' URLs in app.css carry their hash the same way (build/make_web_fonts.py), and so
does the one font app.css takes from the PDFs' fonts at /fonts (Noto Sans CJK).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from litestar.types import ASGIApp, Receive, Scope, Send

from app.paths import FONTS_DIR, STATIC_DIR

STATIC_PREFIX = "/static/"
FOLDERS = {STATIC_PREFIX: STATIC_DIR, "/fonts/": FONTS_DIR}
IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"


@lru_cache(maxsize=256)
def _hash(path: Path, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def file_version(name: str, folder: Path = STATIC_DIR) -> str | None:
    """The hash of web/static/NAME, or None when there is no such file (or NAME leaves the folder)."""
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        return None
    stat = path.stat()   # the key changes with the file, so an edited file gets a new hash without a restart
    return _hash(path, stat.st_mtime_ns, stat.st_size)


def static_url(name: str) -> str:
    version = file_version(name)
    if version is None:
        raise FileNotFoundError(f"web/static/{name} does not exist")
    return f"{STATIC_PREFIX}{name}?v={version}"


def cache_control(path: str, query_string: bytes) -> bytes | None:
    """The Cache-Control a static file's answer carries, or None for anything else."""
    prefix = next((prefix for prefix in FOLDERS if path.startswith(prefix)), None)
    if prefix is None:
        return None
    wanted = parse_qs(query_string.decode("latin-1")).get("v", [""])[0]
    if wanted and wanted == file_version(path.removeprefix(prefix), FOLDERS[prefix]):
        return IMMUTABLE
    return REVALIDATE


class StaticCacheMiddleware:
    """Sets the Cache-Control of every static file's answer (see the module's docstring)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        value = cache_control(scope["path"], scope.get("query_string", b"")) if scope["type"] == "http" else None
        if value is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cache(message: Any) -> None:
            if message["type"] == "http.response.start" and message.get("status", 200) in (200, 304):
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message["headers"] = [*headers, (b"cache-control", value)]
            await send(message)

        await self.app(scope, receive, send_with_cache)
