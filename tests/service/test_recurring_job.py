"""The recurring invoices job the server runs at start and every hour: it acts as "system" and its name
(the audit trail says so), and a start after the program was closed catches up."""

from __future__ import annotations

import asyncio

from app.clients import service as clients_service
from app.config import Config
from app.recurring import service
from app.settings.service import TEST_TODAY_ENV
from tests.conftest import run
from tests.http.support import query


def test_the_job_at_start_makes_what_came_while_closed_as_the_system(config: Config, monkeypatch):
    monkeypatch.setenv(TEST_TODAY_ENV, "2027-03-15")
    monkeypatch.setattr(service, "SCHEDULER_FIRST_CHECK_S", 0.0)

    async def scenario() -> None:
        client = await clients_service.create_client({"name": "Harbour Café", "currency": "CAD"})
        await service.create_profile({"client_id": client.id, "start_date": "2027-01-01", "unit": "month",
                                      "action": "issue", "lines": [{"description": "Hosting {month}",
                                                                    "quantity": "1", "unit_price": "50"}]})
        job = service.Scheduler(config)
        await job.start()
        try:
            for _ in range(400):
                if len(await service.runs(1)) == 3:
                    break
                await asyncio.sleep(0.025)
        finally:
            await job.stop()

    run(scenario())
    assert query(config, "SELECT issue_date, number IS NOT NULL FROM document ORDER BY id") == [
        ("2027-01-01", 1), ("2027-02-01", 1), ("2027-03-01", 1)]
    actors = query(config, "SELECT DISTINCT actor, origin FROM audit_entry WHERE entity = 'recurring_run'")
    assert actors == [("system:recurring invoices", "schedule")]
    actions = {row[0] for row in query(config, "SELECT action FROM audit_entry WHERE entity = 'recurring_run'")}
    assert actions == {"recurring run"}


def test_counterfoil_check_proves_each_period_is_made_once(config: Config, monkeypatch):
    """The unique index keeps a second row for a period out; a file changed behind its back is caught."""
    import sqlite3

    from app.integrity.service import run_checks
    from tests.conftest import sealed_writes

    monkeypatch.setenv(TEST_TODAY_ENV, "2027-02-10")

    async def scenario() -> None:
        client = await clients_service.create_client({"name": "Harbour Café", "currency": "CAD"})
        await service.create_profile({"client_id": client.id, "start_date": "2027-01-01", "action": "issue",
                                      "lines": [{"description": "Hosting", "quantity": "1", "unit_price": "50"}]})
        await service.run_due()

    run(scenario())
    assert run_checks(config.database_path) == []
    connection = sqlite3.connect(config.database_path)
    try:
        try:
            connection.execute("INSERT INTO recurring_run (profile, period_start, period_end, outcome, problem, "
                               "send_problem, created_at) VALUES (1, '2027-01-01', '2027-01-31', 'issue', '', '', "
                               "'2027-01-01T00:00:00Z')")
            raise AssertionError("the database took a second row for the same period")
        except sqlite3.IntegrityError:
            connection.rollback()
        with sealed_writes(connection):
            connection.execute("DROP INDEX recurring_run_once")
            connection.execute("INSERT INTO recurring_run (profile, period_start, period_end, outcome, document, "
                               "problem, send_problem, created_at) VALUES (1, '2027-01-01', '2027-01-31', 'issue', 1, "
                               "'', '', '2027-01-01T00:00:00Z')")
        connection.commit()
    finally:
        connection.close()
    problems = [str(b) for b in run_checks(config.database_path)]
    assert any("the period starting 2027-01-01 was made 2 times" in p for p in problems), problems
    assert any("is recorded for 2 periods" in p for p in problems), problems
