"""Projects and time against a real SQLite file: entries, the timer, the timesheet, time to invoice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.clients import service as clients_service
from app.common.logic import Conflict, ValidationFailed
from app.documents import service as documents_service
from app.integrity.service import run_checks
from app.projects import service
from app.projects.tables import RunningTimer, TimeEntry
from tests.conftest import run


def _project(**extra: Any) -> dict[str, Any]:
    client = run(clients_service.create_client({"name": "Time Client", "currency": "EUR"}))
    return run(service.create_project({"client_id": client.id, "name": "Website", "code": "WEB",
                                       "hourly_rate": "80.00", "tasks": ["Design", "Build"], **extra}))


def _entry(user: int, project: dict[str, Any], day: str, minutes: Any, **extra: Any) -> dict[str, Any]:
    return run(service.create_entry(user, {"project_id": project["id"], "date": day, "minutes": minutes, **extra}))


def test_entries_bill_into_a_draft_that_frees_them_when_deleted_and_freezes_them_when_issued(owner, config):
    project = _project(rounding_minutes=15)
    user = owner["id"]
    a = _entry(user, project, "2026-11-02", "1:10", task="Design")
    _entry(user, project, "2026-11-03", "90m", task="Build")
    _entry(user, project, "2026-11-04", "1.5h", task="Build", billable=False)
    plan = run(service.plan_invoice(project["id"], "2026-11-01", "2026-11-30", "task"))
    assert sorted(line.minutes for line in plan.lines) == [75, 90]   # 1:10 rounds up to 1:15; the stored stays
    draft = run(service.invoice_time(project["id"], "2026-11-01", "2026-11-30", "task"))
    assert [line.quantity for line in draft.lines] == [Decimal("1.25"), Decimal("1.5")]
    assert run(service.get_entry(a["id"]))["minutes"] == 70
    with pytest.raises(Conflict):
        run(service.update_entry(a["id"], {"description": "changed"}))
    with pytest.raises(ValidationFailed) as refused:
        run(service.invoice_time(project["id"], "2026-11-01", "2026-11-30", "task"))
    assert refused.value.by_field().keys() == {"from"}
    run(documents_service.delete_draft(draft.id))
    assert run(service.get_entry(a["id"]))["billed_document"] is None   # freed by the deletion
    # The database freed them (ON DELETE SET NULL): the trail recorded it, and the books agree with the trail.
    assert run_checks(config.database_path) == []
    draft = run(service.invoice_time(project["id"], "2026-11-01", "2026-11-30", "period"))
    run(documents_service.issue(draft.id))
    entry = run(service.get_entry(a["id"]))
    assert entry["frozen"] and entry["billed_number"]
    summary = run(service.project_summary(project["id"]))
    assert summary["billed"] == 160 and summary["unbilled"] == 0 and summary["billed_e4"] == 2200000


def test_overlapping_timed_entries_are_refused_and_bad_durations_name_their_field(owner):
    project = _project()
    user = owner["id"]
    run(service.create_entry(user, {"project_id": project["id"], "date": "2026-11-02", "started_at": "09:00",
                                    "ended_at": "10:30"}))
    with pytest.raises(ValidationFailed) as overlap:
        run(service.create_entry(user, {"project_id": project["id"], "date": "2026-11-02", "started_at": "10:00",
                                        "ended_at": "11:00"}))
    assert "started_at" in overlap.value.by_field()
    _ = run(service.create_entry(user, {"project_id": project["id"], "date": "2026-11-02", "started_at": "10:30",
                                        "ended_at": "11:00"}))   # touching is not overlapping
    for bad, field in (({"minutes": "0"}, "minutes"), ({"minutes": "25h"}, "minutes"),
                       ({"started_at": "11:00", "ended_at": "10:00"}, "ended_at"), ({}, "minutes"),
                       ({"minutes": "1:30", "task": "Nope"}, "task")):
        with pytest.raises(ValidationFailed) as refused:
            run(service.create_entry(user, {"project_id": project["id"], "date": "2026-11-03", **bad}))
        assert field in refused.value.by_field(), (bad, refused.value.by_field())
    assert run(TimeEntry.count().run()) == 2


def test_the_timer_switches_stops_discards_and_asks_after_ten_hours(owner):
    project = _project()
    user = owner["id"]
    timer, saved = run(service.start_timer(user, {"project_id": project["id"], "task": "Design"}))
    assert saved is None and timer["task_name"] == "Design"
    start = datetime.now(UTC) - timedelta(minutes=45)
    run(service.update_timer(user, {"started_at": start.isoformat()}))
    timer, saved = run(service.start_timer(user, {"project_id": project["id"], "task": "Build"}))
    assert saved is not None and saved["minutes"] == 45 and saved["task_name"] == "Design"
    run(service.update_timer(user, {"started_at": (datetime.now(UTC) - timedelta(hours=11)).isoformat()}))
    assert run(service.get_timer(user))["ask_long"]
    run(service.keep_timer(user))
    assert not run(service.get_timer(user))["ask_long"]
    trimmed = run(service.stop_timer(user, ended_at=(datetime.now(UTC) - timedelta(hours=3)).isoformat()))
    assert trimmed["minutes"] == 480
    assert run(service.get_timer(user)) is None
    run(service.start_timer(user, {"project_id": project["id"]}))
    run(service.discard_timer(user))
    with pytest.raises(Conflict):
        run(service.stop_timer(user))
    assert run(RunningTimer.count().run()) == 0


def test_the_timesheet_adds_and_shortens_cells(owner):
    _project()
    user = owner["id"]
    sheet = run(service.timesheet(user, datetime(2026, 11, 2).date()))
    design = next(row for row in sheet if row.task_name == "Design")
    assert run(service.save_timesheet(user, datetime(2026, 11, 2).date(),
                                      {f"{design.key}-0": "2:00", f"{design.key}-1": "1.5h"})) == 2
    assert run(service.save_timesheet(user, datetime(2026, 11, 2).date(), {f"{design.key}-0": "1:00"})) == 1
    sheet = run(service.timesheet(user, datetime(2026, 11, 2).date()))
    design = next(row for row in sheet if row.task_name == "Design")
    assert design.cells[:2] == [60, 90] and design.total == 150
    with pytest.raises(ValidationFailed) as refused:
        run(service.save_timesheet(user, datetime(2026, 11, 2).date(), {f"{design.key}-2": "lots"}))
    assert f"cell-{design.key}-2" in refused.value.by_field()


def test_a_fixed_price_project_bills_a_share_of_its_price(owner):
    project = _project(fixed_price="5000", code="FIX")
    _entry(owner["id"], project, "2026-11-02", "3h")
    draft = run(service.invoice_time(project["id"], "2026-11-01", "2026-11-30", percent="40"))
    assert len(draft.lines) == 1 and str(draft.lines[0].unit_price) == "2000.00"
    assert run(TimeEntry.count().where(TimeEntry.billed_document == draft.id).run()) == 1
