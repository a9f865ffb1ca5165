"""Projects and time: each user action is one transaction through the writer.

Choices the issue leaves open (documented in README.md and docs/api):
- Overlapping entries of one user are refused (422 on `started_at`) when both have start and end
  times; entries given as a duration have no place in the day and never overlap. The timer's own
  entry is always saved when it stops: the clock that ran is the record.
- Starting a timer while one runs stops the running one and saves its entry first (a switch).
- An entry on an invoice cannot be changed or deleted: on a draft, delete the draft to free it;
  on an issued invoice it is frozen for good.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.columns.combination import WhereRaw

from app.clients import service as clients_service
from app.clients.tables import Client
from app.common.i18n import _
from app.common.logic import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    Page,
    ValidationFailed,
    csv_bytes,
    period_problems,
    storable_id,
)
from app.db.columns import column_values
from app.db.engine import write_transaction
from app.documents import service as documents_service
from app.documents.records import DocumentView
from app.expenses import service as expenses_service
from app.projects import logic
from app.projects.tables import (
    DefaultRate,
    Project,
    ProjectExpense,
    ProjectInvoice,
    ProjectTask,
    RunningTimer,
    TimeEntry,
)
from app.settings import service as settings_service
from app.taxes import service as taxes_service

PROJECT_SORT = (Project.status, Project.name)


def _now() -> datetime:
    return datetime.now(UTC)


async def time_zone() -> ZoneInfo:
    settings = await settings_service.get_settings()
    try:
        return ZoneInfo(settings.get("time_zone") or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# -- projects -------------------------------------------------------------------------------------

async def _currency_of(client: Mapping[str, Any]) -> str:
    if client.get("currency"):
        return str(client["currency"])
    settings = await settings_service.get_settings()
    return str(settings.get("default_currency") or "EUR")


async def _default_rates(client_id: int) -> tuple[int | None, int | None]:
    rows = await DefaultRate.select().where((DefaultRate.client == client_id) | (DefaultRate.client.is_null()))
    client_rate = next((r["hourly_rate_e4"] for r in rows if r["client"] == client_id), None)
    business_rate = next((r["hourly_rate_e4"] for r in rows if r["client"] is None), None)
    return client_rate, business_rate


async def get_project(project_id: int) -> dict[str, Any]:
    row = await Project.select(*Project.all_columns(), Project.client.name.as_alias("client_name"),
                               Project.client.currency.as_alias("client_currency")).where(
        Project.id == project_id).first() if storable_id(project_id) else None
    if row is None:
        raise NotFound(_("Project %(project_id)s", project_id=project_id))
    row["currency"] = await _currency_of({"currency": row.pop("client_currency")})
    client_rate, business_rate = await _default_rates(row["client"])
    row["effective_rate_e4"] = logic.rate_of(None, row["hourly_rate_e4"], client_rate, business_rate)
    row["tasks"] = await ProjectTask.select().where(ProjectTask.project == project_id).order_by(ProjectTask.name)
    return row


async def list_projects(*, status: str = "", client_id: int | None = None) -> list[dict[str, Any]]:
    query = Project.select(*Project.all_columns(), Project.client.name.as_alias("client_name"))
    if status:
        query = query.where(Project.status == status)
    if client_id is not None:
        query = query.where(Project.client == client_id)
    rows = await query.order_by(Project.name)
    sums = await _minutes_by_project()
    order = {status: index for index, status in enumerate(logic.STATUSES)}
    for row in rows:
        row.update(sums.get(row["id"], {"logged": 0, "unbilled": 0}))
        row["budget"] = logic.budget_state(row["logged"], row["budget_minutes"])
    return sorted(rows, key=lambda r: (order.get(r["status"], 9), r["name"].lower()))


async def _minutes_by_project() -> dict[int, dict[str, int]]:
    rows = await TimeEntry.raw(
        "SELECT project, SUM(minutes) AS logged, "
        "SUM(CASE WHEN billable AND billed_document IS NULL THEN minutes ELSE 0 END) AS unbilled "
        "FROM time_entry GROUP BY project")
    return {row["project"]: {"logged": row["logged"] or 0, "unbilled": row["unbilled"] or 0} for row in rows}


async def _check_project(values: dict[str, Any], except_id: int | None = None) -> None:
    errors = []
    if "code" in values:
        query = Project.exists().where(WhereRaw("lower(code) = lower({})", values["code"]))
        if except_id is not None:
            query = query.where(Project.id != except_id)
        if await query:
            errors.append(FieldError("code", _("Code %(code)r is already used by another project", code=values["code"])))
    if "client" in values and not await Client.exists().where(Client.id == values["client"]):
        errors.append(FieldError("client_id", _("There is no client %(client)s", client=values['client'])))
    if values.get("tax_codes"):
        unknown = await taxes_service.unknown_codes(values["tax_codes"].split())
        if unknown:
            errors.append(FieldError("taxes", _("Unknown tax code %(code)r: define it under Settings, Taxes", code=unknown[0])))
    if errors:
        raise ValidationFailed(errors)


async def create_project(data: Mapping[str, Any]) -> dict[str, Any]:
    values = logic.clean_project(data)
    async with write_transaction():
        await _check_project(values)
        now = _now()
        project = Project(**values, created_at=now, updated_at=now)
        await project.save()
        for name in data.get("tasks") or []:
            await ProjectTask.insert(ProjectTask(project=project.id, name=str(name).strip()[:100]))
        return await get_project(project.id)


async def update_project(project_id: int, data: Mapping[str, Any], *, partial: bool = True) -> dict[str, Any]:
    values = logic.clean_project(data, partial=partial)
    async with write_transaction():
        current = await get_project(project_id)
        await _check_project(values, except_id=project_id)
        if "client" in values and values["client"] != current["client"] and await TimeEntry.exists().where(
                (TimeEntry.project == project_id) & TimeEntry.billed_document.is_not_null()):
            raise ValidationFailed([FieldError("client_id", _("This project has billed time: its client cannot change"))])
        values["updated_at"] = _now()
        await Project.update(column_values(values)).where(Project.id == project_id)
        return await get_project(project_id)


async def delete_project(project_id: int) -> None:
    """Remove a project without time; one with time is marked done instead (409)."""
    async with write_transaction():
        project = await get_project(project_id)
        if await TimeEntry.exists().where(TimeEntry.project == project_id) or await ProjectInvoice.exists().where(
                ProjectInvoice.project == project_id):
            raise Conflict(_("%(name)s has time entries or invoices; set its status to done instead.", name=project['name']))
        await RunningTimer.delete().where(RunningTimer.project == project_id)
        await Project.delete().where(Project.id == project_id)


async def add_task(project_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    values = logic.clean_task(data)
    async with write_transaction():
        await get_project(project_id)
        if await ProjectTask.exists().where((ProjectTask.project == project_id)
                                            & WhereRaw("lower(name) = lower({})", values["name"])):
            raise ValidationFailed([FieldError("name", _("The project already has a task %(name)r", name=values["name"]))])
        task = ProjectTask(project=project_id, **values)
        await task.save()
        return await ProjectTask.select().where(ProjectTask.id == task.id).first()  # type: ignore[return-value]


async def delete_task(project_id: int, task_id: int) -> None:
    """Remove a task nothing was logged on; a task with time is deactivated instead (kept for its entries)."""
    async with write_transaction():
        task = await ProjectTask.select().where((ProjectTask.id == task_id) & (ProjectTask.project == project_id)).first()
        if task is None:
            raise NotFound(_("Task %(task_id)s", task_id=task_id))
        if await TimeEntry.exists().where(TimeEntry.task == task_id):
            await ProjectTask.update({ProjectTask.active: False}).where(ProjectTask.id == task_id)
        else:
            await ProjectTask.delete().where(ProjectTask.id == task_id)


async def default_rates() -> dict[str, Any]:
    rows = await DefaultRate.select(*DefaultRate.all_columns(), DefaultRate.client.name.as_alias("client_name"))
    return {"business": next((r["hourly_rate_e4"] for r in rows if r["client"] is None), None),
            "clients": [r for r in rows if r["client"] is not None]}


async def set_default_rate(client_id: int | None, rate: Any) -> None:
    """The hourly rate projects without their own use: the client's (client_id) or the business's (None).
    An empty rate removes it."""
    values = logic.clean_task({"name": "rate", "hourly_rate": rate})
    async with write_transaction():
        if client_id is not None:
            await clients_service.get_client(client_id)
        condition = DefaultRate.client.is_null() if client_id is None else DefaultRate.client == client_id
        await DefaultRate.delete().where(condition)
        if values["hourly_rate_e4"] is not None:
            await DefaultRate.insert(DefaultRate(client=client_id, hourly_rate_e4=values["hourly_rate_e4"]))


async def _task_by_name(project_id: int, name: str) -> int | None:
    if not name:
        return None
    task = await ProjectTask.select(ProjectTask.id).where(
        (ProjectTask.project == project_id) & WhereRaw("lower(name) = lower({})", name)).first()
    if task is None:
        raise ValidationFailed([FieldError("task", _("The project has no task %(name)r; add it on the project page", name=name))])
    return task["id"]


# -- time entries ---------------------------------------------------------------------------------

def _entry_query() -> Any:
    return TimeEntry.select(
        *TimeEntry.all_columns(), TimeEntry.project.name.as_alias("project_name"),
        TimeEntry.project.code.as_alias("project_code"), TimeEntry.project.client.as_alias("client_id"),
        TimeEntry.project.client.name.as_alias("client_name"),  # type: ignore[union-attr]
        TimeEntry.task.name.as_alias("task_name"),
        TimeEntry.billed_document.status.as_alias("billed_status"),
        TimeEntry.billed_document.number.as_alias("billed_number"))


def _entry_out(row: dict[str, Any]) -> dict[str, Any]:
    row["task_name"] = row.get("task_name") or ""
    row["started_at"], row["ended_at"] = _aware(row["started_at"]), _aware(row["ended_at"])
    row["frozen"] = row["billed_document"] is not None and row.get("billed_status") not in (None, "draft")
    return row


async def get_entry(entry_id: int) -> dict[str, Any]:
    row = await _entry_query().where(TimeEntry.id == entry_id).first() if storable_id(entry_id) else None
    if row is None:
        raise NotFound(_("Time entry %(entry_id)s", entry_id=entry_id))
    return _entry_out(row)


@dataclass(frozen=True)
class EntryFilter:
    project_id: int | None = None
    client_id: int | None = None
    user_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    billable: bool | None = None
    billed: bool | None = None
    limit: int = 500


async def list_entries(where: EntryFilter = EntryFilter()) -> list[dict[str, Any]]:
    problems = period_problems(where.date_from, where.date_to)
    if problems:
        raise ValidationFailed(problems)
    query = _entry_query()
    if where.project_id is not None:
        query = query.where(TimeEntry.project == where.project_id)
    if where.client_id is not None:
        query = query.where(TimeEntry.project.client == where.client_id)
    if where.user_id is not None:
        query = query.where(TimeEntry.user == where.user_id)
    if where.date_from is not None:
        query = query.where(TimeEntry.entry_date >= where.date_from)
    if where.date_to is not None:
        query = query.where(TimeEntry.entry_date <= where.date_to)
    if where.billable is not None:
        query = query.where(TimeEntry.billable == where.billable)
    if where.billed is not None:
        query = query.where(TimeEntry.billed_document.is_not_null() if where.billed
                            else TimeEntry.billed_document.is_null())
    rows = await query.order_by(TimeEntry.entry_date, ascending=False).order_by(
        TimeEntry.started_at, ascending=False).order_by(TimeEntry.id, ascending=False).limit(where.limit)
    return [_entry_out(row) for row in rows]


def _instant(value: Any, field_name: str, day: date | None, zone: ZoneInfo, errors: list[FieldError]) -> datetime | None:
    """A start or end: an ISO date-time (the API), or a time of day `09:30` on the entry's date (the pages)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return _aware(value)
    text = str(value).strip()
    label = "Start" if field_name == "started_at" else "End"
    if len(text) <= 5:
        if day is None:
            errors.append(FieldError(field_name, _("%(label)s: give the date with a time of day", label=label)))
            return None
        try:
            hour, minute = logic.parse_clock(text)
        except ValueError as error:
            errors.append(FieldError(field_name, _("%(label)s: %(error)s", label=label, error=error)))
            return None
        return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        errors.append(FieldError(field_name, _("%(label)s: %(text)r is not a date and time (2026-11-03T09:30:00Z)", label=label, text=text)))
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)


async def _resolve_entry(data: Mapping[str, Any], *, current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Clean an entry (new, or `current` changed by `data`) into its columns; every problem at once."""
    values = logic.clean_entry(data, partial=current is not None)
    zone = await time_zone()
    errors: list[FieldError] = []
    project_id = values.get("project_id", current["project"] if current else None)
    day = values.get("date") or (current["entry_date"] if current else None)
    start = _instant(data.get("started_at"), "started_at", day, zone, errors)
    end = _instant(data.get("ended_at"), "ended_at", day, zone, errors)
    times_given = "started_at" in data or "ended_at" in data
    if current is not None and not times_given and "minutes" not in values:
        start, end = current["started_at"], current["ended_at"]
        if start is not None and end is not None and day is not None and day != current["entry_date"]:
            moved = day - current["entry_date"]   # a timed entry moved to another day keeps its hours
            start, end = start + moved, end + moved
    minutes = values.get("minutes")
    if start is not None or end is not None:
        minutes = logic.check_times(start, end, None, errors)
        if day is None and start is not None:
            day = start.astimezone(zone).date()
    elif current is not None and "minutes" not in values:
        minutes = current["minutes"]
    else:
        minutes = logic.check_times(None, None, minutes, errors)
    if errors:
        raise ValidationFailed(errors)
    project = await Project.select(Project.id).where(Project.id == project_id).first() if project_id else None
    if project is None:
        raise ValidationFailed([FieldError("project_id", _("There is no project %(project_id)s", project_id=project_id))])
    task_given = "task" in values or "project_id" in values
    task_id = await _task_by_name(project["id"], values.get("task", "")) if task_given else (
        current["task"] if current else None)
    out = {"project": project_id, "task": task_id, "entry_date": day, "started_at": start, "ended_at": end,
           "minutes": minutes}
    for name in ("description", "billable"):
        if name in values:
            out[name] = values[name]
    return out


async def _check_overlap(user_id: int, values: Mapping[str, Any], except_id: int | None = None) -> None:
    start, end = values.get("started_at"), values.get("ended_at")
    if start is None or end is None:
        return
    query = TimeEntry.select(TimeEntry.id, TimeEntry.started_at, TimeEntry.ended_at).where(
        (TimeEntry.user == user_id) & TimeEntry.started_at.is_not_null()
        & (TimeEntry.started_at < end) & (TimeEntry.ended_at > start))
    if except_id is not None:
        query = query.where(TimeEntry.id != except_id)
    for other in await query:
        if logic.overlaps(start, end, _aware(other["started_at"]), _aware(other["ended_at"])):  # type: ignore[arg-type]
            raise ValidationFailed([FieldError("started_at", _("This overlaps another of your entries (#%(id)s); change its times or give a duration", id=other['id']))])


async def create_entry(user_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    values = await _resolve_entry(data)
    async with write_transaction():
        await _check_overlap(user_id, values)
        now = _now()
        entry = TimeEntry(user=user_id, **values, created_at=now, updated_at=now)
        await entry.save()
        return await get_entry(entry.id)


def _check_changeable(entry: Mapping[str, Any]) -> None:
    if entry["frozen"]:
        raise Conflict(_("This entry is on invoice %(billed_number)s, which is issued: it cannot change.", billed_number=entry['billed_number']))
    if entry["billed_document"] is not None:
        raise Conflict(_("This entry is on a draft invoice: delete the draft (or bill it) before changing it."))


def _check_owner(entry: Mapping[str, Any], by: int | None, may_change_others: bool) -> None:
    """A user changes their own time; the owner anyone's (None: the core itself, a script of the owner)."""
    if by is not None and entry["user"] != by and not may_change_others:
        raise Forbidden(_("This entry is someone else's time: only they or the owner can change it."))


async def update_entry(entry_id: int, data: Mapping[str, Any], *, by: int | None = None,
                       may_change_others: bool = True) -> dict[str, Any]:
    current = await get_entry(entry_id)
    _check_owner(current, by, may_change_others)
    _check_changeable(current)
    values = await _resolve_entry(data, current=current)
    async with write_transaction():
        current = await get_entry(entry_id)
        _check_changeable(current)
        await _check_overlap(current["user"], values, except_id=entry_id)
        values["updated_at"] = _now()
        await TimeEntry.update(column_values(values)).where(TimeEntry.id == entry_id)
        return await get_entry(entry_id)


async def delete_entry(entry_id: int, *, by: int | None = None, may_change_others: bool = True) -> None:
    async with write_transaction():
        entry = await get_entry(entry_id)
        _check_owner(entry, by, may_change_others)
        _check_changeable(entry)
        await TimeEntry.delete().where(TimeEntry.id == entry_id)


# -- the timer ------------------------------------------------------------------------------------

async def get_timer(user_id: int) -> dict[str, Any] | None:
    """The user's running timer with its project and elapsed minutes, or None."""
    row = await RunningTimer.select(
        *RunningTimer.all_columns(), RunningTimer.project.name.as_alias("project_name"),
        RunningTimer.project.code.as_alias("project_code"), RunningTimer.task.name.as_alias("task_name")).where(
        RunningTimer.user == user_id).first()
    if row is None:
        return None
    row["started_at"] = _aware(row["started_at"])
    row["task_name"] = row.get("task_name") or ""
    row["elapsed_minutes"] = max(0, int((_now() - row["started_at"]).total_seconds() // 60))
    row["ask_long"] = logic.long_running(row["elapsed_minutes"], bool(row["kept_long"]))
    return row


async def _timer_values(data: Mapping[str, Any]) -> dict[str, Any]:
    values = logic.clean_entry({**data, "date": "2000-01-01"})
    project_id = values.get("project_id")
    project = await Project.select(Project.id, Project.status).where(Project.id == project_id).first() \
        if project_id else None
    if project is None:
        raise ValidationFailed([FieldError("project_id", _("There is no project %(project_id)s", project_id=project_id) if project_id
                                           else _("Choose a project"))])
    if project["status"] == "done":
        raise ValidationFailed([FieldError("project_id", _("This project is done: reopen it to log time"))])
    return {"project": project_id, "task": await _task_by_name(project["id"], values.get("task", "")),
            "description": values.get("description", ""), "billable": values.get("billable", True)}


async def start_timer(user_id: int, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Start the user's timer now; a timer already running is stopped and its entry saved (a switch).
    Answers the new timer and the entry saved, if any."""
    values = await _timer_values(data)
    async with write_transaction():
        saved = await _stop(user_id, _now()) if await RunningTimer.exists().where(RunningTimer.user == user_id) \
            else None
        await RunningTimer.insert(RunningTimer(user=user_id, started_at=_now(), **values))
        timer = await get_timer(user_id)
        assert timer is not None
        return timer, saved


async def _stop(user_id: int, ended_at: datetime) -> dict[str, Any]:
    timer = await get_timer(user_id)
    if timer is None:
        raise Conflict(_("No timer is running."))
    minutes = logic.minutes_between(timer["started_at"], ended_at)
    if ended_at <= timer["started_at"]:
        raise ValidationFailed([FieldError("ended_at", _("The end must be after the timer's start"))])
    if minutes > logic.MAX_ENTRY_MINUTES:
        raise ValidationFailed([FieldError("ended_at", _("The timer ran more than 24 hours: stop it at the time you "
                                                       "stopped working (trim it)"))])
    zone = await time_zone()
    now = _now()
    entry = TimeEntry(user=user_id, project=timer["project"], task=timer["task"], description=timer["description"],
                      billable=timer["billable"], entry_date=timer["started_at"].astimezone(zone).date(),
                      started_at=timer["started_at"], ended_at=ended_at, minutes=max(1, minutes),
                      created_at=now, updated_at=now)
    await entry.save()
    await RunningTimer.delete().where(RunningTimer.user == user_id)
    return await get_entry(entry.id)


async def stop_timer(user_id: int, *, ended_at: Any = None) -> dict[str, Any]:
    """Stop the timer (now, or at `ended_at` to trim a forgotten one) and answer the entry it made."""
    async with write_transaction():
        timer = await get_timer(user_id)
        if timer is None:
            raise Conflict(_("No timer is running."))
        end = _now()
        if ended_at not in (None, ""):
            errors: list[FieldError] = []
            zone = await time_zone()
            end = _instant(ended_at, "ended_at", timer["started_at"].astimezone(zone).date(), zone, errors)  # type: ignore[assignment]
            if errors:
                raise ValidationFailed(errors)
            if end > _now():
                raise ValidationFailed([FieldError("ended_at", _("The end cannot be in the future"))])
        return await _stop(user_id, end)


async def discard_timer(user_id: int) -> None:
    async with write_transaction():
        if not await RunningTimer.exists().where(RunningTimer.user == user_id):
            raise Conflict(_("No timer is running."))
        await RunningTimer.delete().where(RunningTimer.user == user_id)


async def update_timer(user_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """Change the running timer: its start (`started_at`, ISO or a time of day today), description,
    task or project (the same timer goes on: to bill the time so far to the old task, start anew)."""
    async with write_transaction():
        timer = await get_timer(user_id)
        if timer is None:
            raise Conflict(_("No timer is running."))
        changes: dict[str, Any] = {}
        if any(name in data for name in ("project_id", "task", "description", "billable")):
            merged = {"project_id": timer["project"], "description": timer["description"],
                      "billable": timer["billable"], "task": timer["task_name"], **data}
            changes.update(await _timer_values({k: v for k, v in merged.items() if k != "started_at"}))
        if data.get("started_at") not in (None, ""):
            errors: list[FieldError] = []
            zone = await time_zone()
            start = _instant(data["started_at"], "started_at", _now().astimezone(zone).date(), zone, errors)
            if errors or start is None:
                raise ValidationFailed(errors)
            if start > _now():
                raise ValidationFailed([FieldError("started_at", _("The start cannot be in the future"))])
            if _now() - start > timedelta(minutes=logic.MAX_ENTRY_MINUTES):
                # Stopping it would then be refused (an entry is at most 24 hours): it could only be discarded.
                raise ValidationFailed([FieldError("started_at", _("The start can be at most 24 hours ago: one entry is at most 24 hours"))])
            changes["started_at"] = start
            changes["kept_long"] = False
        if changes:
            await RunningTimer.update(column_values(changes)).where(RunningTimer.user == user_id)
        updated = await get_timer(user_id)
        assert updated is not None
        return updated


async def keep_timer(user_id: int) -> None:
    """The answer "keep it running" to the forgotten-timer question: not asked again for this timer."""
    async with write_transaction():
        if not await RunningTimer.exists().where(RunningTimer.user == user_id):
            raise Conflict(_("No timer is running."))
        await RunningTimer.update({RunningTimer.kept_long: True}).where(RunningTimer.user == user_id)


# -- the weekly timesheet -------------------------------------------------------------------------

@dataclass
class SheetRow:
    project_id: int
    project_name: str
    client_name: str
    task_id: int | None
    task_name: str
    cells: list[int]

    @property
    def key(self) -> str:
        return f"{self.project_id}-{self.task_id or 0}"

    @property
    def total(self) -> int:
        return sum(self.cells)


async def timesheet(user_id: int, monday: date, *, project_id: int | None = None) -> list[SheetRow]:
    """The week's grid: a row per active project and task (and per one with time that week), a cell per day."""
    days = logic.week_of(monday)
    projects = Project.select(Project.id, Project.name, Project.client.name.as_alias("client_name"),
                              Project.status)
    if project_id is not None:
        projects = projects.where(Project.id == project_id)
    project_rows = {row["id"]: row for row in await projects}
    tasks = await ProjectTask.select().where(ProjectTask.project.is_in(list(project_rows) or [0])).order_by(
        ProjectTask.name)
    entries = await list_entries(EntryFilter(user_id=user_id, project_id=project_id, date_from=days[0],
                                             date_to=days[-1], limit=10000))
    rows: dict[tuple[int, int | None], SheetRow] = {}

    def row_for(pid: int, task_id: int | None, task_name: str) -> SheetRow:
        key = (pid, task_id)
        if key not in rows:
            project = project_rows[pid]
            rows[key] = SheetRow(pid, project["name"], project["client_name"], task_id, task_name, [0] * 7)
        return rows[key]

    for pid, project in project_rows.items():
        if project["status"] != "active":
            continue
        active = [task for task in tasks if task["project"] == pid and task["active"]]
        if not active:
            row_for(pid, None, "")
        for task in active:
            row_for(pid, task["id"], task["name"])
    for entry in entries:
        row = row_for(entry["project"], entry["task"], entry["task_name"])
        row.cells[(entry["entry_date"] - days[0]).days] += entry["minutes"]
    return sorted(rows.values(), key=lambda r: (r.project_name.lower(), r.task_name.lower()))


async def save_timesheet(user_id: int, monday: date, cells: Mapping[str, Any]) -> int:
    """Save typed cells `{"<project>-<task or 0>-<day 0..6>": "1:30"}`: a cell's new total is reached by
    adding an entry for the difference, or by shortening the cell's untimed, unbilled entries. Answers
    how many cells changed. Every cell is checked before anything is written."""
    days = logic.week_of(monday)
    wanted: dict[tuple[int, int | None, int], int] = {}
    errors: list[FieldError] = []
    for key, raw in cells.items():
        try:
            pid_text, task_text, day_text = key.split("-")
            pid, task_id, day_index = int(pid_text), int(task_text) or None, int(day_text)
            if not 0 <= day_index <= 6:
                raise ValueError
        except ValueError:
            errors.append(FieldError(f"cell-{key}", _("Unknown timesheet cell %(key)r", key=key)))
            continue
        text = str(raw or "").strip()
        try:
            minutes = logic.parse_duration(text) if text else 0
        except ValueError as error:
            errors.append(FieldError(f"cell-{key}", _("%(day)s: %(error)s", day=f"{days[day_index]:%a %d %b}", error=error)))
            continue
        if minutes < 0 or minutes > logic.MAX_ENTRY_MINUTES:
            errors.append(FieldError(f"cell-{key}", _("%(day)s: at most 24 hours a day", day=f"{days[day_index]:%a %d %b}")))
            continue
        wanted[(pid, task_id, day_index)] = minutes
    if errors:
        raise ValidationFailed(errors)
    changed = 0
    async with write_transaction():
        for (pid, task_id, day_index), minutes in wanted.items():
            day = days[day_index]
            query = TimeEntry.select().where((TimeEntry.user == user_id) & (TimeEntry.project == pid)
                                             & (TimeEntry.entry_date == day))
            query = query.where(TimeEntry.task.is_null() if task_id is None else TimeEntry.task == task_id)
            present = await query.order_by(TimeEntry.id)
            delta = minutes - sum(entry["minutes"] for entry in present)
            if delta == 0:
                continue
            if delta > 0:
                project = await Project.select(Project.status).where(Project.id == pid).first()
                if project is None:
                    raise ValidationFailed([FieldError(f"cell-{pid}-{task_id or 0}-{day_index}",
                                                       _("There is no project %(pid)s", pid=pid))])
                if task_id is not None and not await ProjectTask.exists().where(
                        (ProjectTask.id == task_id) & (ProjectTask.project == pid)):
                    raise ValidationFailed([FieldError(f"cell-{pid}-{task_id}-{day_index}",
                                                       _("There is no task %(task_id)s in project %(pid)s", task_id=task_id, pid=pid))])
                now = _now()
                await TimeEntry.insert(TimeEntry(user=user_id, project=pid, task=task_id, entry_date=day,
                                                 minutes=delta, billable=True, created_at=now, updated_at=now))
            else:
                shrinkable = [e for e in present if e["started_at"] is None and e["billed_document"] is None]
                if sum(e["minutes"] for e in shrinkable) < -delta:
                    raise ValidationFailed([FieldError(
                        f"cell-{pid}-{task_id or 0}-{day_index}",
                        _("%(day)s: this day holds timed or billed entries; change them in the entry list", day=f"{day:%a %d %b}"))])
                for entry in reversed(shrinkable):
                    if delta == 0:
                        break
                    take = min(entry["minutes"], -delta)
                    delta += take
                    if take == entry["minutes"]:
                        await TimeEntry.delete().where(TimeEntry.id == entry["id"])
                    else:
                        await TimeEntry.update({TimeEntry.minutes: entry["minutes"] - take,
                                                TimeEntry.updated_at: _now()}).where(TimeEntry.id == entry["id"])
            changed += 1
    return changed


# -- time to invoice ------------------------------------------------------------------------------

async def _billables(project: Mapping[str, Any], date_from: date, date_to: date) -> tuple[list[logic.Billable], list[int]]:
    """The project's unbilled billable entries of the period as billing sees them, and their ids."""
    client_rate, business_rate = await _default_rates(project["client"])
    task_rates = {task["id"]: task["hourly_rate_e4"] for task in project["tasks"]}
    entries = await list_entries(EntryFilter(project_id=project["id"], date_from=date_from, date_to=date_to,
                                             billable=True, billed=False, limit=100_000))
    billables = [logic.Billable(
        id=e["id"], entry_date=e["entry_date"], minutes=e["minutes"], task=e["task_name"],
        description=e["description"],
        rate_e4=logic.rate_of(task_rates.get(e["task"]), project["hourly_rate_e4"], client_rate, business_rate))
        for e in entries]
    return billables, [e["id"] for e in entries]


def _period(date_from: Any, date_to: Any) -> tuple[date, date]:
    errors: list[FieldError] = []
    start = _day(date_from, "from", errors)
    end = _day(date_to, "to", errors)
    if start and end:
        errors.extend(period_problems(start, end))
    if errors or start is None or end is None:
        raise ValidationFailed(errors or [FieldError("from", _("Give the period"))])
    return start, end


def _day(value: Any, name: str, errors: list[FieldError]) -> date | None:
    if isinstance(value, date):
        return value
    from app.common.logic import parse_day

    if value in (None, ""):
        errors.append(FieldError(name, _("%(capitalize)s is required (YYYY-MM-DD)", capitalize=name.capitalize())))
        return None
    return parse_day(value, name, errors, name.capitalize())


@dataclass(frozen=True)
class InvoicePlan:
    project: dict[str, Any]
    date_from: date
    date_to: date
    group_by: str
    lines: list[logic.BillLine]
    entry_ids: list[int]
    fixed_amount_e4: int | None   # a fixed-price project: what the invoice bills instead of hours
    percent: Decimal | None
    # The project's unbilled billable expenses of the period (expense views), billed as lines of their own.
    expenses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def minutes(self) -> int:
        return sum(line.minutes for line in self.lines)

    @property
    def amount_e4(self) -> int:
        if self.fixed_amount_e4 is not None:
            return self.fixed_amount_e4
        return sum(line.amount_e4 for line in self.lines)


async def plan_invoice(project_id: int, date_from: Any, date_to: Any, group_by: Any = "task",
                       percent: Any = None, *, include_expenses: bool = True) -> InvoicePlan:
    """What billing the project's period would put on the invoice (the page's preview, the invoice's lines):
    its hours (or fixed price) and, unless told not to, its unbilled billable expenses of the period."""
    start, end = _period(date_from, date_to)
    grouping = logic.parse_group_by(group_by)
    project = await get_project(project_id)
    billables, ids = await _billables(project, start, end)
    client = await clients_service.get_client(project["client"])   # the lines' dates in the client's language
    project["language"] = client.language
    lines = logic.group_lines(billables, grouping, project["rounding_minutes"], project_name=project["name"],
                              language=client.language)
    fixed = None
    share = None
    if project["fixed_price_e4"] is not None:
        share = logic.parse_percent(percent)
        fixed = logic.fixed_price_part(project["fixed_price_e4"], share)
    expenses = await billable_expenses(project, start, end) if include_expenses else []
    return InvoicePlan(project, start, end, grouping, lines, ids, fixed, share, expenses)


def _document_lines(plan: InvoicePlan) -> list[dict[str, Any]]:
    taxes = plan.project["tax_codes"].split()
    if plan.fixed_amount_e4 is not None:
        share = "" if plan.percent == 100 else f", {plan.percent.normalize():f} %"  # type: ignore[union-attr]
        text = (f"{plan.project['name']}: fixed price{share} "
                f"({logic.describe_span(plan.date_from, plan.date_to, plan.project['language'])})")
        return [{"description": text, "quantity": "1", "unit": "",
                 "unit_price": str(logic.money(plan.fixed_amount_e4)), "taxes": taxes}]
    return [{"description": line.description, "quantity": str(line.hours), "unit": "h",
             "unit_price": str(logic.money(line.rate_e4)), "taxes": taxes} for line in plan.lines]


async def _bill(plans: Sequence[InvoicePlan], *, issue_date: date | None, actor: int | None) -> DocumentView:
    """One draft invoice of the plans (one client), its entries marked as on it; inside the caller's transaction."""
    first = plans[0].project
    # Between the plan and here nothing else wrote (one writer): the entries are still unbilled.
    client = await clients_service.get_client(first["client"])
    if client.status != "active":
        raise Conflict(_("%(name)s is archived: restore the client before billing it.", name=client.name))
    lines = []
    for plan in plans:
        for line in _document_lines(plan):
            if len(plans) > 1 and not line["description"].startswith(plan.project["name"]):
                line["description"] = f"{plan.project['name']}: {line['description']}"[:1000]
            lines.append(line)
    body: dict[str, Any] = {"client_id": first["client"], "currency": first["currency"], "lines": lines}
    if issue_date is not None:   # the demo's history; the pages and the API bill today
        body.update(issue_date=issue_date.isoformat(), confirm_date=True)
    document = await documents_service.create_document("invoice", body, actor=actor)
    for plan in plans:
        if plan.entry_ids:
            await TimeEntry.update({TimeEntry.billed_document: document.id, TimeEntry.updated_at: _now()}).where(
                TimeEntry.id.is_in(plan.entry_ids) & TimeEntry.billed_document.is_null())
        await ProjectInvoice.insert(ProjectInvoice(
            project=plan.project["id"], document=document.id,
            kind="fixed" if plan.fixed_amount_e4 is not None else "hours", minutes=plan.minutes,
            amount_e4=plan.amount_e4, created_at=_now()))
    expense_ids = [expense["id"] for plan in plans for expense in plan.expenses]
    if expense_ids:
        # The expenses domain makes their lines and marks them as on this draft (deleting it frees them).
        await expenses_service.add_to_invoice(document.id, expense_ids, actor=actor)
        return await documents_service.get_document(document.id)
    return document


async def invoice_time(project_id: int, date_from: Any, date_to: Any, group_by: Any = "task", *,
                       percent: Any = None, include_expenses: bool = True, issue_date: date | None = None,
                       actor: int | None = None) -> DocumentView:
    """Make a draft invoice of the project's unbilled billable time in the period (or its fixed price) and
    its billable expenses of the period, and mark the entries and expenses as on it; all in one transaction."""
    async with write_transaction():
        plan = await plan_invoice(project_id, date_from, date_to, group_by, percent,
                                  include_expenses=include_expenses)
        if plan.fixed_amount_e4 is None and not plan.lines and not plan.expenses:
            raise ValidationFailed([FieldError("from", _("No unbilled billable time or expenses in this period"))])
        if plan.fixed_amount_e4 is not None and plan.fixed_amount_e4 <= 0:
            raise ValidationFailed([FieldError("percent", _("The fixed price is zero"))])
        return await _bill([plan], issue_date=issue_date, actor=actor)


async def plan_client_invoice(client_id: int, date_from: Any, date_to: Any, group_by: Any = "task"
                              ) -> list[InvoicePlan]:
    """Billing a client's time: a plan per hourly project with unbilled billable time in the period.
    Fixed-price projects bill their price, and projects their expenses, from their own page."""
    await clients_service.get_client(client_id)
    plans = [await plan_invoice(project["id"], date_from, date_to, group_by, include_expenses=False)
             for project in await list_projects(client_id=client_id) if project["fixed_price_e4"] is None]
    return [plan for plan in plans if plan.lines]


async def invoice_client_time(client_id: int, date_from: Any, date_to: Any, group_by: Any = "task", *,
                              actor: int | None = None) -> DocumentView:
    """One draft invoice of all the client's unbilled billable hours in the period, across its projects."""
    async with write_transaction():
        plans = await plan_client_invoice(client_id, date_from, date_to, group_by)
        if not plans:
            raise ValidationFailed([FieldError("from", _("No unbilled billable time on this client's hourly projects "
                                                       "in this period"))])
        return await _bill(plans, issue_date=None, actor=actor)


# -- expenses on a project -----------------------------------------------------------------------

async def set_expense_project(expense_id: int, project_id: int | None) -> int | None:
    """Put an expense on a project (None: on none). An expense billable to a client goes only on that
    client's projects; one without a client goes on any. Answers the project now linked."""
    async with write_transaction():
        expense = await expenses_service.get_expense(expense_id)
        if project_id is None:
            await ProjectExpense.delete().where(ProjectExpense.expense == expense_id)
            return None
        project = await Project.select(Project.id, Project.client, Project.client.name.as_alias("client_name")).where(
            Project.id == project_id).first() if storable_id(project_id) else None
        if project is None:
            raise ValidationFailed([FieldError("project_id", _("There is no project %(project_id)s", project_id=project_id))])
        problem = logic.expense_link_problem(expense["client"], expense["client_name"], project["client"])
        if problem:
            raise ValidationFailed([FieldError("project_id", problem)])
        current = await ProjectExpense.select(ProjectExpense.project).where(ProjectExpense.expense == expense_id).first()
        if current is not None and current["project"] == project_id:
            return project_id
        await ProjectExpense.delete().where(ProjectExpense.expense == expense_id)
        await ProjectExpense.insert(ProjectExpense(project=project_id, expense=expense_id, created_at=_now()))
        return project_id


async def projects_of_expenses(expense_ids: Sequence[int]) -> dict[int, int]:
    """The project of each expense that has one, by expense id."""
    if not expense_ids:
        return {}
    rows = await ProjectExpense.select(ProjectExpense.expense, ProjectExpense.project).where(
        ProjectExpense.expense.is_in(list(expense_ids)))
    return {row["expense"]: row["project"] for row in rows}


async def project_expenses(project_id: int) -> list[dict[str, Any]]:
    """The expenses on a project (as the expenses domain shows them), newest first."""
    rows = await ProjectExpense.select(ProjectExpense.expense).where(ProjectExpense.project == project_id)
    expenses = [await expenses_service.get_expense(row["expense"]) for row in rows]
    return sorted(expenses, key=lambda e: (e["expense_date"], e["id"]), reverse=True)


async def linkable_expenses(project: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The project's client's expenses on no project yet (what "Add an expense" offers)."""
    result = await expenses_service.list_expenses(client_id=project["client"], page=Page(1, 500))
    linked = await projects_of_expenses([e["id"] for e in result.items])
    return [e for e in result.items if e["id"] not in linked]


async def billable_expenses(project: Mapping[str, Any], date_from: date, date_to: date) -> list[dict[str, Any]]:
    """The project's expenses time to invoice bills: billable to its client, recorded, not on an invoice,
    in its currency, dated in the period."""
    return [e for e in await project_expenses(project["id"])
            if logic.expense_billable_on(e, project, date_from, date_to)]


# -- summaries and reports ------------------------------------------------------------------------

async def project_summary(project_id: int) -> dict[str, Any]:
    """Hours logged, billable, billed and unbilled; money billed (issued invoices); budgets used."""
    project = await get_project(project_id)
    rows = await TimeEntry.raw(
        "SELECT COALESCE(SUM(t.minutes), 0) AS logged, "
        "COALESCE(SUM(CASE WHEN t.billable THEN t.minutes ELSE 0 END), 0) AS billable, "
        "COALESCE(SUM(CASE WHEN t.billed_document IS NOT NULL THEN t.minutes ELSE 0 END), 0) AS billed, "
        "COALESCE(SUM(CASE WHEN t.billed_document IS NOT NULL AND d.status = 'draft' THEN t.minutes ELSE 0 END), 0)"
        " AS on_drafts, "
        "COALESCE(SUM(CASE WHEN t.billable AND t.billed_document IS NULL THEN t.minutes ELSE 0 END), 0) AS unbilled "
        "FROM time_entry t LEFT JOIN document d ON d.id = t.billed_document WHERE t.project = {}", project_id)
    money = await ProjectInvoice.raw(
        "SELECT COALESCE(SUM(CASE WHEN d.status NOT IN ('draft', 'cancelled') THEN p.amount_e4 ELSE 0 END), 0) "
        "AS billed, COALESCE(SUM(CASE WHEN d.status = 'draft' THEN p.amount_e4 ELSE 0 END), 0) AS drafts "
        "FROM project_invoice p JOIN document d ON d.id = p.document WHERE p.project = {}", project_id)
    sums = rows[0]
    billed_e4, draft_e4 = money[0]["billed"], money[0]["drafts"]
    # Money used against a money budget: what is billed, plus the unbilled billable time at its rate.
    billables, _total = await _billables(project, date(1900, 1, 1), date(2200, 12, 31))
    unbilled_value = sum(logic.amount_e4(logic.round_minutes(b.minutes, project["rounding_minutes"]), b.rate_e4)
                         for b in billables)
    expenses = await project_expenses(project_id)
    # Expenses count in the project's currency (one in another currency is listed, not summed).
    same = [e for e in expenses if e["currency"] == project["currency"]]
    expenses_total_e4 = sum(logic.to_e4(e["total"]) for e in same)
    expenses_net_e4 = sum(logic.to_e4(e["net"]) for e in same)
    return {
        "project": project,
        "logged": sums["logged"], "billable": sums["billable"], "non_billable": sums["logged"] - sums["billable"],
        "billed": sums["billed"], "on_drafts": sums["on_drafts"], "unbilled": sums["unbilled"],
        "billed_e4": billed_e4, "drafts_e4": draft_e4, "unbilled_e4": unbilled_value,
        "hours_budget": logic.budget_state(sums["logged"], project["budget_minutes"]),
        "expenses": expenses, "expenses_total_e4": expenses_total_e4, "expenses_net_e4": expenses_net_e4,
        # Money used: the time billed, on drafts and unbilled, plus what was spent on the project (net).
        "money_budget": logic.budget_state(billed_e4 + draft_e4 + unbilled_value + expenses_net_e4,
                                           project["budget_amount_e4"]),
        "invoices": await ProjectInvoice.select(
            ProjectInvoice.document, ProjectInvoice.kind, ProjectInvoice.minutes, ProjectInvoice.amount_e4,
            ProjectInvoice.document.number.as_alias("number"), ProjectInvoice.document.status.as_alias("status"),
            ProjectInvoice.document.issue_date.as_alias("issue_date")).where(
            ProjectInvoice.project == project_id).order_by(ProjectInvoice.id, ascending=False),
    }


async def report(date_from: date, date_to: date) -> dict[str, Any]:
    """Hours per project, client, task and week in the period, the billable ratio, and the effective
    hourly rate (money billed on issued invoices made from time / hours logged), per currency."""
    problems = period_problems(date_from, date_to)
    if problems:
        raise ValidationFailed(problems)
    entries = await list_entries(EntryFilter(date_from=date_from, date_to=date_to, limit=1_000_000))
    by: dict[str, dict[Any, dict[str, int]]] = {"project": {}, "client": {}, "task": {}, "week": {}}
    for entry in entries:
        monday = entry["entry_date"] - timedelta(days=entry["entry_date"].weekday())
        keys = {"project": (entry["project"], entry["project_name"]), "client": (entry["client_id"], entry["client_name"]),
                "task": (entry["project_name"], entry["task_name"] or "(no task)"), "week": monday}
        for name, key in keys.items():
            bucket = by[name].setdefault(key, {"logged": 0, "billable": 0})
            bucket["logged"] += entry["minutes"]
            bucket["billable"] += entry["minutes"] if entry["billable"] else 0
    logged = sum(e["minutes"] for e in entries)
    billable = sum(e["minutes"] for e in entries if e["billable"])
    money = await ProjectInvoice.raw(
        "SELECT d.currency AS currency, SUM(p.amount_e4) AS amount, SUM(p.minutes) AS minutes "
        "FROM project_invoice p JOIN document d ON d.id = p.document "
        "WHERE d.status NOT IN ('draft', 'cancelled') AND d.issue_date >= {} AND d.issue_date <= {} "
        "GROUP BY d.currency ORDER BY d.currency", date_from, date_to)
    rates = [{"currency": row["currency"], "billed_e4": row["amount"],
              "rate_e4": int(row["amount"] * 60 // logged) if logged else None} for row in money]
    return {"from": date_from, "to": date_to, "logged": logged, "billable": billable,
            "ratio": (Decimal(billable * 100) / logged).quantize(Decimal("0.1")) if logged else None,
            "by": {name: sorted(buckets.items(), key=lambda kv: str(kv[0])) for name, buckets in by.items()},
            "rates": rates, "entries": entries}


def report_csv_rows(result: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = ["date", "project", "client", "task", "description", "minutes", "hours", "billable", "invoice"]
    rows = [{"date": e["entry_date"].isoformat(), "project": e["project_name"], "client": e["client_name"],
             "task": e["task_name"], "description": e["description"], "minutes": e["minutes"],
             "billable": e["billable"], "billed": e["billed_number"] or ("draft" if e["billed_document"] else "")}
            for e in sorted(result["entries"], key=lambda e: (e["entry_date"], e["id"]))]
    return header, logic.entries_csv_rows(rows)


@dataclass(frozen=True)
class TimeFile:
    content: bytes
    rows: int
    readme: str


async def time_csv(date_from: date, date_to: date) -> TimeFile:
    """The period's time entries as a CSV for the accountant's package, with its README section."""
    header, rows = report_csv_rows(await report(date_from, date_to))
    return TimeFile(csv_bytes(header, rows), len(rows), logic.time_csv_readme(len(rows)))


async def projects_of_client(client_id: int) -> int:
    """Deleting a client with projects is refused with words of its own (the projects keep their time)."""
    count = await Project.count().where(Project.client == client_id)
    if count:
        raise Conflict(_("This client has %(count)s project(s) and cannot be deleted; archive the client instead.", count=count))
    return 0


clients_service.register_usage_check(projects_of_client)
