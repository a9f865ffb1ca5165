"""The audit walk's scenarios for app.projects (tests/service/test_audit_trail.py merges them): each write
function of projects and time, called once after its setup, must leave sealed entries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from app.projects import service as p

Call = Callable[[], Awaitable[Any]]


async def _project(w: Any, **extra: Any) -> dict[str, Any]:
    client = await w.client()
    return await p.create_project({"client_id": client.id, "name": "Audited project", "code": "AUD",
                                   "hourly_rate": "90", "tasks": ["Design"], **extra})


async def _entry(w: Any) -> tuple[int, dict[str, Any]]:
    owner = await w.owner()
    project = await _project(w)
    entry = await p.create_entry(owner["id"], {"project_id": project["id"], "date": "2026-11-02", "minutes": 90})
    return owner["id"], entry


async def _project_and_expense(w: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from app.expenses import service as expenses_service
    from app.taxes import service as taxes_service

    project = await _project(w)
    await taxes_service.apply_preset("canada")
    expense = await expenses_service.create_expense({"date": "2026-03-01", "category": "office", "net": "10.00",
                                                     "currency": "CAD", "taxes": ["GST"]})
    return project, expense


async def _timer(w: Any) -> int:
    owner = await w.owner()
    project = await _project(w)
    await p.start_timer(owner["id"], {"project_id": project["id"]})
    return owner["id"]


def scenarios() -> dict[str, tuple[Callable[[Any], Awaitable[Call]], str | None]]:
    def after(prepare: Callable[[Any], Awaitable[Any]], call: Callable[[Any, Any], Awaitable[Any]]
              ) -> Callable[[Any], Awaitable[Call]]:
        async def setup(w: Any) -> Call:
            made = await prepare(w)
            return lambda: call(w, made)
        return setup

    async def nothing(w: Any) -> None:
        return None

    return {
        "app.projects.service.create_project": (after(nothing, lambda w, _: _project(w)), "create"),
        "app.projects.service.update_project": (after(_project, lambda w, project: p.update_project(
            project["id"], {"status": "on_hold"})), "update"),
        "app.projects.service.delete_project": (after(_project, lambda w, project: p.delete_project(project["id"])),
                                                "delete"),
        "app.projects.service.add_task": (after(_project, lambda w, project: p.add_task(
            project["id"], {"name": "Build"})), "create"),
        "app.projects.service.delete_task": (after(_project, lambda w, project: p.delete_task(
            project["id"], project["tasks"][0]["id"])), "delete"),
        "app.projects.service.set_default_rate": (after(nothing, lambda w, _: p.set_default_rate(None, "75")),
                                                  "create"),
        "app.projects.service.create_entry": (after(_entry, lambda w, made: p.create_entry(made[0], {
            "project_id": made[1]["project"], "date": "2026-11-03", "minutes": "1:15"})), "create"),
        "app.projects.service.update_entry": (after(_entry, lambda w, made: p.update_entry(
            made[1]["id"], {"minutes": 60})), "update"),
        "app.projects.service.delete_entry": (after(_entry, lambda w, made: p.delete_entry(made[1]["id"])), "delete"),
        "app.projects.service.save_timesheet": (after(_entry, lambda w, made: p.save_timesheet(
            made[0], datetime(2026, 11, 2).date(), {f"{made[1]['project']}-0-0": "2:00"})), "create"),
        "app.projects.service.start_timer": (after(_timer, lambda w, user: p.start_timer(user, {
            "project_id": 1, "task": "Design"})), "create"),
        "app.projects.service.stop_timer": (after(_timer, lambda w, user: p.stop_timer(user)), "create"),
        "app.projects.service.discard_timer": (after(_timer, lambda w, user: p.discard_timer(user)), "delete"),
        "app.projects.service.update_timer": (after(_timer, lambda w, user: p.update_timer(
            user, {"started_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()})), "update"),
        "app.projects.service.keep_timer": (after(_timer, lambda w, user: p.keep_timer(user)), "update"),
        "app.projects.service.invoice_time": (after(_entry, lambda w, made: p.invoice_time(
            made[1]["project"], "2026-11-01", "2026-11-30", "entry")), "create"),
        "app.projects.service.set_expense_project": (after(_project_and_expense, lambda w, made: p.set_expense_project(
            made[1]["id"], made[0]["id"])), "create"),
        "app.projects.service.invoice_client_time": (after(_entry, lambda w, made: p.invoice_client_time(
            made[1]["client_id"], "2026-11-01", "2026-11-30", "period")), "create"),
    }
