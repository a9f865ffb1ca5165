"""Gapless numbers under load: concurrent issue requests against a real server process.

Issue 3, point 4: numbers are gapless and unique even when 12 issue requests arrive at
once. The server is the real program (`python -m app serve`), the requests come over
TCP on their own connections, released together by a barrier; a second process writing
to the same SQLite file at the same time must wait its turn (BEGIN IMMEDIATE and the
busy timeout), never see "database is locked", never take a number twice.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.http.live_server import REPO, Server, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module (starting one costs seconds); each test issues into its own year's series."""
    yield from start_server(tmp_path_factory.mktemp("concurrency"))


def make_drafts(server: Server, how_many: int, **fields: Any) -> list[int]:
    with server.client() as api:
        response = api.post("/api/v1/clients", json={"name": "Maple Bakery", "currency": "CAD"})
        assert response.status_code == 201, response.text
        client_id = response.json()["id"]
        ids = []
        for n in range(how_many):
            response = api.post("/api/v1/invoices", json={"client_id": client_id, "lines": [
                {"description": f"Job {n + 1}", "quantity": "1", "unit_price": f"{100 + n}.00"}], "confirm_date": True,
                **fields})
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    return ids


def issue_at_once(server: Server, ids: list[int], go: threading.Barrier,
                  body: dict[str, Any] | None = None) -> list[httpx.Response]:
    """One thread and one TCP connection per request, all released by the same barrier."""
    results: list[Any] = [None] * len(ids)

    def worker(index: int, document_id: int) -> None:
        with server.client() as api:
            api.get("/health")  # connect first, so the requests themselves leave together
            go.wait(timeout=60)
            try:
                results[index] = api.post(f"/api/v1/invoices/{document_id}/issue", json=body)
            except Exception as error:  # reported below, with the others
                results[index] = error

    threads = [threading.Thread(target=worker, args=(i, d)) for i, d in enumerate(ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def rows(data_dir: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(data_dir / "counterfoil.sqlite", timeout=30)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def assert_healthy_afterwards(server: Server) -> None:
    assert "database is locked" not in server.log().lower()
    assert "Traceback" not in server.log()
    result = subprocess.run([sys.executable, "-m", "app", "check", "--data-dir", str(server.data_dir)], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_twelve_concurrent_issues_get_twelve_consecutive_numbers(server: Server):
    year = datetime.now(UTC).year
    ids = make_drafts(server, 12)
    responses = issue_at_once(server, ids, threading.Barrier(len(ids)))
    for response in responses:
        assert isinstance(response, httpx.Response), response
        assert response.status_code == 200, response.text
        assert "locked" not in response.text
    numbers = [response.json()["number"] for response in responses]
    assert sorted(numbers) == [f"INV-{year}-{n:04d}" for n in range(1, 13)]  # no gap, no duplicate
    # each response describes its own invoice, and the database agrees with what was answered
    assert [response.json()["id"] for response in responses] == ids
    stored = dict(rows(server.data_dir, "SELECT id, number FROM document WHERE doc_type = 'invoice'"))
    assert {i: n for i, n in zip(ids, numbers, strict=False)} == stored
    assert rows(server.data_dir, f"SELECT doc_type, next_seq FROM number_series WHERE year = {year}") == [
        ("invoice", 13)]
    # a second wave finds nothing left to issue: each answers 409, no number is taken
    again = issue_at_once(server, ids[:4], threading.Barrier(4))
    assert [r.status_code for r in again] == [409] * 4
    assert rows(server.data_dir, f"SELECT next_seq FROM number_series WHERE year = {year}") == [(13,)]
    assert_healthy_afterwards(server)


ISSUER = """
import asyncio, json, sys
from pathlib import Path
from app.config import Config
from app.db.lifecycle import open_database
from datetime import date
from app.documents import service

async def main():
    await open_database(Config(data_dir=Path(sys.argv[1])))
    ids = json.loads(sys.argv[2])
    print("ready", flush=True)
    sys.stdin.readline()
    issued = await asyncio.gather(*(service.issue(i, issue_date=date(2020, 6, 1), backdate=True) for i in ids))
    print(json.dumps([doc.number for doc in issued]), flush=True)

asyncio.run(main())
"""


def test_two_processes_issuing_at_once_share_one_series(server: Server):
    """6 issues over HTTP (the server's process) and 6 from another process on the same file, together."""
    year = 2020  # back-dated invoices: their own series, apart from the other test's
    ids = make_drafts(server, 12, issue_date="2020-06-01")
    over_http, elsewhere = ids[:6], ids[6:]
    other = subprocess.Popen([sys.executable, "-c", ISSUER, str(server.data_dir), json.dumps(elsewhere)], cwd=REPO,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "ready", other.stderr.read()
        go = threading.Barrier(len(over_http) + 1)
        results: list[list[httpx.Response]] = []
        backdated = {"issue_date": "2020-06-01", "backdate": True}
        firing = threading.Thread(target=lambda: results.append(issue_at_once(server, over_http, go, backdated)))
        firing.start()
        go.wait(timeout=60)  # the HTTP requests leave as the other process starts issuing
        other.stdin.write("go\n")
        other.stdin.flush()
        firing.join(timeout=120)
        out, err = other.communicate(timeout=120)
    finally:
        if other.poll() is None:
            other.kill()
            other.wait(timeout=5)
    assert other.returncode == 0, err
    assert "locked" not in err.lower()
    from_other_process = json.loads(out.strip().splitlines()[-1])
    (responses,) = results
    for response in responses:
        assert isinstance(response, httpx.Response), response
        assert response.status_code == 200, response.text
    from_http = [response.json()["number"] for response in responses]
    assert sorted(from_http + from_other_process) == [f"INV-{year}-{n:04d}" for n in range(1, 13)]
    assert rows(server.data_dir, "SELECT next_seq FROM number_series WHERE year = 2020") == [(13,)]
    assert_healthy_afterwards(server)


def test_identical_drafts_issued_at_once_each_keep_their_stored_pdf(server: Server):
    """Drafts that print alike are rendered alike before their issue (the same lines, the same predicted
    number): one file for all. Only one issue gets that number and records that file; the others, which did
    not use it, must not remove it from under the one that did. Each issued invoice's PDF downloads, and
    `counterfoil check` finds every stored file."""
    with server.client() as api:
        client_id = api.post("/api/v1/clients", json={"name": "Twin Drafts Ltd", "currency": "CAD"}).json()["id"]
        ids = []
        for _ in range(4):
            response = api.post("/api/v1/invoices", json={"client_id": client_id, "issue_date": "2019-03-01",
                                                          "lines": [{"description": "race", "quantity": "1",
                                                                     "unit_price": "7.00"}], "confirm_date": True})
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    responses = issue_at_once(server, ids, threading.Barrier(len(ids)), {"issue_date": "2019-03-01", "backdate": True})
    assert [r.status_code for r in responses] == [200] * len(ids), [r.text for r in responses]
    assert sorted(r.json()["number"] for r in responses) == [f"INV-2019-{n:04d}" for n in range(1, 5)]
    recorded = server.rows(f"SELECT sha256 FROM document_record WHERE document IN ({', '.join(map(str, ids))})")
    assert len(recorded) == len(ids)
    for (sha256,) in recorded:
        assert (server.data_dir / "attachments" / "records" / f"{sha256}.pdf").is_file()
    with server.client() as api:
        for document_id in ids:
            response = api.get(f"/api/v1/invoices/{document_id}/pdf")
            assert response.status_code == 200 and response.content.startswith(b"%PDF"), response.text
    assert_healthy_afterwards(server)
