"""The JSON API of projects and time (under /api/v1): projects, time entries, the timer, time to invoice.

Durations are integer minutes; money is a decimal string in the project's currency; `budget_hours`
is a decimal string of hours (its name says so).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, patch, post
from litestar.params import QueryParameter
from msgspec import UNSET, UnsetType

from app.catalog.logic import e4_to_price
from app.common.logic import storable_id
from app.money import round_money
from app.projects import logic, service
from app.web.api.base import Body
from app.web.api.documents_dto import document_out
from app.web.responses import actor_id, download, iso
from app.web.security import OWNER_ONLY


class TaskOut(msgspec.Struct):
    id: int
    name: str
    hourly_rate: str | None
    active: bool


class ProjectOut(msgspec.Struct):
    id: int
    client_id: int
    name: str
    code: str
    status: str
    hourly_rate: str | None
    budget_hours: str | None
    budget_amount: str | None
    fixed_price: str | None
    rounding_minutes: int
    client_name: str
    currency: str
    effective_hourly_rate: str
    taxes: list[str]
    notes: str
    tasks: list[TaskOut]


class ProjectIn(Body, omit_defaults=True):
    client_id: int | UnsetType = UNSET
    name: str | UnsetType = UNSET
    code: str | UnsetType = UNSET
    status: str | UnsetType = UNSET
    hourly_rate: Decimal | UnsetType | None = UNSET
    budget_hours: Decimal | UnsetType | None = UNSET
    budget_amount: Decimal | UnsetType | None = UNSET
    fixed_price: Decimal | UnsetType | None = UNSET
    rounding_minutes: int | UnsetType = UNSET
    taxes: list[str] | UnsetType = UNSET
    notes: str | UnsetType = UNSET
    tasks: list[str] | UnsetType = UNSET   # names of tasks to create with a new project


class ProjectList(msgspec.Struct):
    items: list[ProjectOut]
    total: int


class SummaryOut(msgspec.Struct):
    project_id: int
    currency: str
    logged_minutes: int
    billable_minutes: int
    non_billable_minutes: int
    billed_minutes: int
    unbilled_minutes: int
    billed_amount: str
    draft_amount: str
    unbilled_amount: str
    budget_minutes: int | None
    budget_minutes_used_percent: int | None
    budget_amount: str | None
    budget_amount_used_percent: int | None
    warnings: list[str]
    expenses_total: str = "0.00"   # the project's expenses in its currency, taxes included
    expenses_count: int = 0


class EntryOut(msgspec.Struct):
    id: int
    project_id: int
    task: str | None
    description: str
    date: str
    started_at: str | None
    ended_at: str | None
    minutes: int
    billable: bool
    billed_document_id: int | None
    frozen: bool


class EntryIn(Body, omit_defaults=True):
    project_id: int | UnsetType = UNSET
    task: str | UnsetType | None = UNSET
    description: str | UnsetType = UNSET
    date: str | UnsetType = UNSET
    started_at: str | UnsetType | None = UNSET
    ended_at: str | UnsetType | None = UNSET
    minutes: int | UnsetType = UNSET
    billable: bool | UnsetType = UNSET


class EntryList(msgspec.Struct):
    items: list[EntryOut]
    total: int


class TimerOut(msgspec.Struct):
    running: bool
    project_id: int | None = None
    started_at: str | None = None
    description: str | None = None
    task: str | None = None
    elapsed_minutes: int | None = None
    stopped_entry: EntryOut | None = None   # start while one ran: the entry that was saved


class TimerStartIn(Body, omit_defaults=True):
    project_id: int | UnsetType = UNSET
    task: str | UnsetType | None = UNSET
    description: str | UnsetType = UNSET
    billable: bool | UnsetType = UNSET


class TimerStopIn(Body, omit_defaults=True):
    ended_at: str | UnsetType = UNSET   # trim a forgotten timer: the end, ISO date-time


class TimerEditIn(Body, omit_defaults=True):
    started_at: str | UnsetType = UNSET
    project_id: int | UnsetType = UNSET
    task: str | UnsetType | None = UNSET
    description: str | UnsetType = UNSET
    billable: bool | UnsetType = UNSET


class InvoiceIn(Body, kw_only=True):
    date_from: str = msgspec.field(name="from")
    date_to: str = msgspec.field(name="to")
    group_by: str = "task"
    percent: Decimal | None = None   # a fixed-price project: the share of its price billed (100 by default)
    include_expenses: bool = True    # also bill the project's unbilled billable expenses of the period


def _money(value: int | None) -> str | None:
    return None if value is None else str(logic.money(value))


def _hours(minutes: int | None) -> str | None:
    return None if minutes is None else f"{(Decimal(minutes) / 60).normalize():f}"


def project_out(row: dict[str, Any]) -> ProjectOut:
    return ProjectOut(
        id=row["id"], client_id=row["client"], name=row["name"], code=row["code"], status=row["status"],
        hourly_rate=_money(row["hourly_rate_e4"]), budget_hours=_hours(row["budget_minutes"]),
        budget_amount=_money(row["budget_amount_e4"]), fixed_price=_money(row["fixed_price_e4"]),
        rounding_minutes=row["rounding_minutes"], client_name=row["client_name"], currency=row["currency"],
        effective_hourly_rate=str(logic.money(row["effective_rate_e4"])), taxes=row["tax_codes"].split(),
        notes=row["notes"], tasks=[TaskOut(id=t["id"], name=t["name"], hourly_rate=_money(t["hourly_rate_e4"]),
                                           active=bool(t["active"])) for t in row["tasks"]])


def entry_out(row: dict[str, Any]) -> EntryOut:
    return EntryOut(id=row["id"], project_id=row["project"], task=row["task_name"] or None,
                    description=row["description"], date=row["entry_date"].isoformat(),
                    started_at=iso(row["started_at"]), ended_at=iso(row["ended_at"]), minutes=row["minutes"],
                    billable=bool(row["billable"]), billed_document_id=row["billed_document"],
                    frozen=bool(row["frozen"]))


def timer_out(row: dict[str, Any] | None, stopped: dict[str, Any] | None = None) -> TimerOut:
    if row is None:
        return TimerOut(running=False, stopped_entry=entry_out(stopped) if stopped else None)
    return TimerOut(running=True, project_id=row["project"], started_at=iso(row["started_at"]),
                    description=row["description"], task=row["task_name"] or None,
                    elapsed_minutes=row["elapsed_minutes"], stopped_entry=entry_out(stopped) if stopped else None)


def _given(body: msgspec.Struct) -> dict[str, Any]:
    values = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not UNSET}
    if "budget_hours" in values and values["budget_hours"] is not None:
        values["budget_hours"] = f"{values['budget_hours']}h"
    if values.get("task") is None and "task" in values:
        values["task"] = ""
    return values


def _project_ref(project_id: int) -> int:
    return project_id if storable_id(project_id) else 0


@get("/api/v1/projects", tags=["projects"])
async def api_projects(status: str = "", client_id: int | None = None) -> ProjectList:
    rows = await service.list_projects(status=status, client_id=client_id)
    projects = [project_out(await service.get_project(row["id"])) for row in rows]
    return ProjectList(items=projects, total=len(projects))


@post("/api/v1/projects", tags=["projects"])
async def api_project_create(data: ProjectIn) -> ProjectOut:
    return project_out(await service.create_project(_given(data)))


@get("/api/v1/projects/{project_id:int}", tags=["projects"])
async def api_project(project_id: int) -> ProjectOut:
    return project_out(await service.get_project(_project_ref(project_id)))


@patch("/api/v1/projects/{project_id:int}", tags=["projects"])
async def api_project_update(project_id: int, data: ProjectIn) -> ProjectOut:
    return project_out(await service.update_project(_project_ref(project_id), _given(data)))


@delete("/api/v1/projects/{project_id:int}", tags=["projects"], opt=OWNER_ONLY)
async def api_project_delete(project_id: int) -> None:
    await service.delete_project(_project_ref(project_id))


@get("/api/v1/projects/{project_id:int}/summary", tags=["projects"])
async def api_project_summary(project_id: int) -> SummaryOut:
    summary = await service.project_summary(_project_ref(project_id))
    hours, money = summary["hours_budget"], summary["money_budget"]
    warnings = [f"{label} budget {'used up' if state.level == 'over' else 'at ' + str(state.percent) + ' %'}"
                for label, state in (("Hours", hours), ("Money", money)) if state.level in ("warn", "over")]
    currency = summary["project"]["currency"]

    def amount(value_e4: int) -> str:
        """Time worth its rate, to the cent: 1 h 7 min at 85.00 is 94.92, not 94.9166."""
        return str(round_money(e4_to_price(value_e4), currency))
    return SummaryOut(
        project_id=project_id, currency=currency, logged_minutes=summary["logged"],
        billable_minutes=summary["billable"], non_billable_minutes=summary["non_billable"],
        billed_minutes=summary["billed"], unbilled_minutes=summary["unbilled"],
        billed_amount=amount(summary["billed_e4"]), draft_amount=amount(summary["drafts_e4"]),
        unbilled_amount=amount(summary["unbilled_e4"]), budget_minutes=hours.budget,
        budget_minutes_used_percent=hours.percent, budget_amount=_money(money.budget),
        budget_amount_used_percent=money.percent, warnings=warnings,
        expenses_total=amount(summary["expenses_total_e4"]), expenses_count=len(summary["expenses"]))


@post("/api/v1/projects/{project_id:int}/invoice", tags=["projects"], status_code=201)
async def api_project_invoice(request: Request, project_id: int, data: InvoiceIn) -> Any:
    document = await service.invoice_time(_project_ref(project_id), data.date_from, data.date_to, data.group_by,
                                          percent=data.percent, include_expenses=data.include_expenses,
                                          actor=actor_id(request))
    return document_out(document)


@get("/api/v1/time-entries", tags=["projects"])
async def api_entries(request: Request, project_id: int | None = None, client_id: int | None = None,
                      date_from: date | None = QueryParameter(name="from", default=None),
                      date_to: date | None = QueryParameter(name="to", default=None),
                      billable: bool | None = None, billed: bool | None = None, limit: int = 500) -> EntryList:
    rows = await service.list_entries(service.EntryFilter(
        project_id=project_id, client_id=client_id, date_from=date_from, date_to=date_to, billable=billable,
        billed=billed, limit=max(1, min(limit, 5000))))
    return EntryList(items=[entry_out(row) for row in rows], total=len(rows))


@post("/api/v1/time-entries", tags=["projects"])
async def api_entry_create(request: Request, data: EntryIn) -> EntryOut:
    return entry_out(await service.create_entry(actor_id(request), _given(data)))


@get("/api/v1/time-entries/{entry_id:int}", tags=["projects"])
async def api_entry(entry_id: int) -> EntryOut:
    return entry_out(await service.get_entry(entry_id))


@patch("/api/v1/time-entries/{entry_id:int}", tags=["projects"])
async def api_entry_update(request: Request, entry_id: int, data: EntryIn) -> EntryOut:
    identity = request.scope["user"]
    return entry_out(await service.update_entry(entry_id, _given(data), by=identity.user_id,
                                                may_change_others=identity.is_owner))


@delete("/api/v1/time-entries/{entry_id:int}", tags=["projects"])
async def api_entry_delete(request: Request, entry_id: int) -> None:
    identity = request.scope["user"]
    await service.delete_entry(entry_id, by=identity.user_id, may_change_others=identity.is_owner)


@get("/api/v1/time-entries.csv", tags=["projects"], media_type="text/csv")
async def api_entries_csv(date_from: date = QueryParameter(name="from"),
                          date_to: date = QueryParameter(name="to")) -> Response:
    result = await service.report(date_from, date_to)
    header, rows = service.report_csv_rows(result)
    from app.common.logic import csv_bytes

    return download(csv_bytes(header, rows), f"time-{date_from.isoformat()}-{date_to.isoformat()}.csv",
                    "text/csv; charset=utf-8")


@get("/api/v1/timer", tags=["projects"])
async def api_timer(request: Request) -> TimerOut:
    return timer_out(await service.get_timer(actor_id(request)))


@post("/api/v1/timer/start", tags=["projects"], status_code=200)
async def api_timer_start(request: Request, data: TimerStartIn) -> TimerOut:
    timer, stopped = await service.start_timer(actor_id(request), _given(data))
    return timer_out(timer, stopped)


@post("/api/v1/timer/stop", tags=["projects"], status_code=200)
async def api_timer_stop(request: Request, data: TimerStopIn | None = None) -> EntryOut:
    ended_at = data.ended_at if data is not None and data.ended_at is not UNSET else None
    return entry_out(await service.stop_timer(actor_id(request), ended_at=ended_at))


@post("/api/v1/timer/discard", tags=["projects"], status_code=200)
async def api_timer_discard(request: Request) -> TimerOut:
    await service.discard_timer(actor_id(request))
    return timer_out(None)


@patch("/api/v1/timer", tags=["projects"])
async def api_timer_edit(request: Request, data: TimerEditIn) -> TimerOut:
    return timer_out(await service.update_timer(actor_id(request), _given(data)))


ROUTES = [api_projects, api_project_create, api_project, api_project_update, api_project_delete, api_project_summary,
          api_project_invoice, api_entries, api_entry_create, api_entry, api_entry_update, api_entry_delete,
          api_entries_csv, api_timer, api_timer_start, api_timer_stop, api_timer_discard, api_timer_edit]
