"""Small helpers for the HTTP tests: read the real SQLite file, make sample records, check errors."""

from __future__ import annotations

import sqlite3
import struct
import subprocess
import zlib
from datetime import date
from typing import Any

from app.clients.records import ClientView
from app.config import Config
from app.documents.records import DocumentView
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


def create_via_api(api: Any, path: str, body: dict[str, Any], *, issue: bool = True) -> dict[str, Any]:
    """POST a document to /api/v1/{path} (invoices, quotes, credit-notes), issue it unless asked not to,
    and return its JSON; each step must succeed."""
    response = api.post(f"/api/v1/{path}", json=body)
    assert response.status_code == 201, response.text
    document = response.json()
    if issue:
        # The draft's date is the one the test means: a date before today is a back-date, on purpose.
        response = api.post(f"/api/v1/{path}/{document['id']}/issue", json={
            k: str(v) if k == "issue_date" else v for k, v in backdated(document["issue_date"]).items()})
        assert response.status_code == 200, response.text
        document = response.json()
    return document


def make_invoice(client: ClientView, total: str = "100.00", *, issue: bool = True, issue_date: date | None = None,
                 **fields: Any) -> DocumentView:
    """An invoice of one untaxed line worth `total`, issued unless asked otherwise."""
    from app.documents import service

    body: dict[str, Any] = {"client_id": client.id, "lines": [{"description": "Work", "quantity": "1",
                                                                   "unit_price": total}], **fields}
    if issue_date is not None:
        body["issue_date"] = issue_date.isoformat()
    draft = run(service.create_document("invoice", body))
    return run(service.issue(draft.id, **backdated(draft.issue_date))) if issue else draft


def backdated(day: date | str) -> dict[str, Any]:
    """What issuing with the draft's own date asks for: nothing when it is today, a back-date when earlier."""
    from app.settings.service import today

    day = date.fromisoformat(day) if isinstance(day, str) else day
    return {"issue_date": day, "backdate": True} if day < run(today()) else {}
