"""A reply tells the truth about the write, even while other clients are reading (issue 12, point 1).

One writer creates, issues and pays invoices through the API while four readers page through
the invoice list as fast as they can, all against a real server process over TCP. Every reply
to a write is checked against what the database holds once it has answered: a create answered
404, an issue answered "draft" or a saved payment answered 404 is a wrong reply.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.http.live_server import Server, start_server

WRITES = 200
READERS = 4


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start_server(tmp_path_factory.mktemp("replies"))


def database_row(server: Server, sql: str, *args: Any) -> sqlite3.Row | None:
    connection = sqlite3.connect(f"file:{server.data_dir / 'counterfoil.sqlite'}?mode=ro", uri=True, timeout=30)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(sql, args).fetchone()
    finally:
        connection.close()


def read_until(stop: threading.Event, server: Server, failures: list[str]) -> None:
    with server.client() as api:
        page = 1
        while not stop.is_set():
            response = api.get("/api/v1/invoices", params={"per_page": 100, "page": page})
            if response.status_code != 200:
                failures.append(f"list page {page}: {response.status_code} {response.text[:200]}")
            page = page % 3 + 1


def test_every_reply_to_a_write_matches_the_database_while_four_clients_read(server: Server):
    with server.client() as api:
        response = api.post("/api/v1/clients", json={"name": "Under Load Ltd", "currency": "EUR"})
        assert response.status_code == 201, response.text
        client_id = response.json()["id"]
    stop = threading.Event()
    reader_failures: list[str] = []
    readers = [threading.Thread(target=read_until, args=(stop, server, reader_failures)) for _ in range(READERS)]
    for reader in readers:
        reader.start()
    wrong: list[str] = []
    writes = 0
    try:
        with server.client() as api:
            while writes < WRITES:
                created = api.post("/api/v1/invoices", json={"client_id": client_id, "lines": [
                    {"description": f"Job {writes}", "quantity": "1", "unit_price": "100.00"}]})
                writes += 1
                row = database_row(server, "SELECT id, status FROM document WHERE id = ?",
                                   created.json().get("id", -1) if created.status_code == 201 else -1)
                if created.status_code != 201 or row is None or created.json()["status"] != "draft":
                    wrong.append(f"create: {created.status_code} {created.text[:200]}")
                    continue
                document_id = created.json()["id"]

                issued = api.post(f"/api/v1/invoices/{document_id}/issue")
                writes += 1
                row = database_row(server, "SELECT status, number FROM document WHERE id = ?", document_id)
                assert row is not None
                if issued.status_code != 200 or issued.json().get("status") != row["status"] \
                        or issued.json().get("number") != row["number"] or row["number"] is None:
                    wrong.append(f"issue: {issued.status_code} {issued.text[:200]} (database: {dict(row)})")
                    continue

                paid = api.post(f"/api/v1/invoices/{document_id}/payments", json={"amount": "40.00"})
                writes += 1
                payment = database_row(server, "SELECT amount_minor FROM payment WHERE id = ?",
                                       paid.json().get("id", -1) if paid.status_code == 201 else -1)
                if paid.status_code != 201 or payment is None or Decimal(paid.json()["amount"]) != Decimal("40.00"):
                    wrong.append(f"payment: {paid.status_code} {paid.text[:200]}")
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=60)
    assert reader_failures == []
    assert wrong == [], f"{len(wrong)} wrong replies out of {writes} writes: {wrong[:5]}"
