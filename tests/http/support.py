"""Small helpers for the HTTP tests: read the real SQLite file, make sample records, check errors."""

from __future__ import annotations

import sqlite3
import struct
import subprocess
import zlib
from typing import Any

from app.clients.records import ClientView
from app.config import Config
from tests.conftest import run


def query(config: Config, sql: str, *args: Any) -> list[tuple]:
    """Read the database file the app is using, through its own connection."""
    connection = sqlite3.connect(config.database_path, timeout=30)
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


def text_of(pdf: bytes) -> str:
    """A PDF's text, laid out as on the page (poppler's pdftotext)."""
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def count(config: Config, table: str, where: str = "1 = 1", *args: Any) -> int:
    return query(config, f'SELECT COUNT(*) FROM "{table}" WHERE {where}', *args)[0][0]


def snapshot(config: Config, table: str) -> list[tuple]:
    """Every row of a table, to prove that a refused request changed nothing."""
    return query(config, f'SELECT * FROM "{table}" ORDER BY id')


def make_client(**fields: Any) -> ClientView:
    from app.clients import service

    return run(service.create_client({"name": "Maple Bakery", **fields}, default_currency="CAD"))


def make_item(**fields: Any) -> dict[str, Any]:
    from app.catalog import service

    return run(service.create_item({"code": "DEV-H", "name": "Development", "unit_price": "125.00", **fields}))


def field_errors(response: Any) -> dict[str, str]:
    """The API's error body, checked for its shape: {"detail", "errors": [{"field", "message"}]}."""
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"], body
    assert isinstance(body.get("errors"), list), body
    for error in body["errors"]:
        assert set(error) == {"field", "message"} and error["message"], body
    return {error["field"]: error["message"] for error in body["errors"]}


def png(width: int = 2, height: int = 2) -> bytes:
    """A real, decodable PNG (RGB, one colour)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\x20\x60\xa0" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
