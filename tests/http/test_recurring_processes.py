"""Recurring invoices exactly once across processes: a real server (`python -m app serve`, whose own hourly
job runs the profiles too), requests racing on their own TCP connections, `counterfoil recurring run` as
a second process on the same SQLite file, and a run killed with SIGKILL in the middle."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.settings.service import TEST_TODAY_ENV
from tests.http.live_server import REPO, Server, start_server

TODAY = "2027-04-10"


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own per test: numbers follow dates, so one test's invoices of March 2027 would turn
    another's catch-up of January into drafts (dated before the series' latest)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TEST_TODAY_ENV, TODAY)   # the server, and the commands started below, live on this day
        yield from start_server(tmp_path_factory.mktemp("recurring"))


def new_profile(server: Server, name: str, **schedule: Any) -> tuple[int, int]:
    with server.client() as api:
        response = api.post("/api/v1/clients", json={"name": name, "currency": "CAD"})
        assert response.status_code == 201, response.text
        client_id = response.json()["id"]
        response = api.post("/api/v1/recurring", json={
            "client_id": client_id, "lines": [{"description": "Hosting {month} {year}", "quantity": "1",
                                               "unit_price": "120.00"}], "action": "issue", **schedule})
        assert response.status_code == 201, response.text
        return client_id, response.json()["id"]


def recurring_command(server: Server, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "app", "recurring", "run", "--data-dir", str(server.data_dir),
                             *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def invoice_numbers(server: Server, client_id: int) -> list[str]:
    return [row[0] for row in server.rows(
        f"SELECT number FROM document WHERE client = {client_id} AND number IS NOT NULL ORDER BY number")]


def test_two_requests_and_a_second_process_racing_make_each_period_once(server: Server):
    client_id, profile_id = new_profile(server, "Racing Ltd", start_date="2027-01-01", day_of_month=1)
    go = threading.Barrier(3)
    answers: list[Any] = []

    def request() -> None:
        with server.client() as api:
            api.get("/health")
            go.wait(timeout=60)
            answers.append(api.post("/api/v1/recurring/run", json={}))

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    go.wait(timeout=60)
    command = recurring_command(server)
    for thread in threads:
        thread.join(timeout=120)
    out, err = command.communicate(timeout=120)
    assert command.returncode == 0, err
    assert all(isinstance(a, httpx.Response) and a.status_code == 200 for a in answers), answers
    made_by_requests = sum(len(a.json()["made"]) for a in answers)
    made_by_command = int(out.strip().splitlines()[-1].split()[0])
    rows = server.rows(f"SELECT period_start, document FROM recurring_run WHERE profile = {profile_id} "
                       "ORDER BY period_start")
    assert [row[0] for row in rows] == ["2027-01-01", "2027-02-01", "2027-03-01", "2027-04-01"]
    # Four periods, four invoices, whoever made them (the server's own job may have made some too).
    assert made_by_requests + made_by_command <= 4
    assert len(invoice_numbers(server, client_id)) == 4
    assert server.rows(f"SELECT count(*) FROM document WHERE client = {client_id}") == [(4,)]
    with server.client() as api:
        assert api.post("/api/v1/recurring/run", json={}).json()["made"] == []


def test_a_run_killed_in_the_middle_leaves_whole_periods_or_none(server: Server):
    """SIGKILL while a weekly profile catches up two years: every period recorded has its issued invoice with
    its number, no invoice exists without its period, and numbers have no gap; the next run finishes."""
    client_id, profile_id = new_profile(server, "Killed Ltd", start_date="2025-04-07", unit="week")
    command = recurring_command(server)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.rows(f"SELECT count(*) FROM recurring_run WHERE profile = {profile_id}")[0][0] >= 5:
            break
        time.sleep(0.01)
    command.send_signal(signal.SIGKILL)
    command.communicate(timeout=30)
    done = server.rows(f"SELECT count(*) FROM recurring_run WHERE profile = {profile_id}")[0][0]
    assert 5 <= done < 105, "the command was not stopped in the middle"
    invoices = server.rows(f"SELECT id, number, status FROM document WHERE client = {client_id} ORDER BY id")
    linked = server.rows(f"SELECT document FROM recurring_run WHERE profile = {profile_id} ORDER BY document")
    assert [row[0] for row in invoices] == [row[0] for row in linked]   # no invoice without its period
    assert all(number and status == "issued" for _, number, status in invoices)

    with server.client() as api:
        assert api.post("/api/v1/recurring/run", json={}).status_code == 200
    periods = server.rows(f"SELECT count(*), count(DISTINCT period_start) FROM recurring_run WHERE profile = {profile_id}")
    assert periods == [(105, 105)]   # 7 April 2025 to 7 April 2027, weekly
    assert len(invoice_numbers(server, client_id)) == 105
    # Gapless in each year's series (every invoice of the database): whatever was cut off took no number.
    every_number = [row[0] for row in server.rows("SELECT number FROM document WHERE number LIKE 'INV-%'")]
    for year in {number.split("-")[1] for number in every_number}:
        series = sorted(int(n.rsplit("-", 1)[1]) for n in every_number if n.split("-")[1] == year)
        assert series == list(range(1, len(series) + 1)), year


def test_the_command_refuses_a_bad_day_in_one_line(server: Server):
    for day, words in (("2027-02-30", "--as-of: a date as YYYY-MM-DD"), ("2031-01-01", "more than a year after today")):
        command = recurring_command(server, "--as-of", day)
        out, err = command.communicate(timeout=120)
        assert command.returncode == 1 and words in err and len(err.strip().splitlines()) == 1, (out, err)
