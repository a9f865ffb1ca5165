"""Projects and time pages: projects, time entries, the weekly timesheet, the timer (and its bar on every
page), time to invoice, and the time report (page and CSV)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Template

from app.clients import service as clients_service
from app.common.i18n import _, ngettext
from app.common.logic import Conflict, ValidationFailed, csv_bytes, id_of, optional_day
from app.projects import logic, service
from app.settings import service as settings_service
from app.web.responses import actor_id, download, form_data, page, redirect
from app.web.security import OWNER_ONLY

log = logging.getLogger("counterfoil.web")


async def load_timer(request: Request) -> None:
    """Before a page: the signed-in user's running timer, for the bar and the title every page shows."""
    identity = request.scope.get("user")
    if request.method != "GET" or identity is None or identity.via != "session" or request.url.path.startswith(
            ("/api/", "/static/", "/fonts/", "/health")) or request.headers.get("hx-request") == "true":
        return   # an htmx fragment (search as you type) has no bar to show
    try:
        timer = await service.get_timer(identity.user_id)
        if timer is not None:
            zone = await service.time_zone()
            started = timer["started_at"].astimezone(zone)
            stopped = min(started + timedelta(hours=8), datetime.now(zone))
            timer.update(started_at_local=started.strftime("%H:%M"),
                         trim_default=stopped.strftime("%Y-%m-%dT%H:%M"))
        request.scope.setdefault("state", {})["timer"] = timer
    except Exception as error:
        log.debug("timer bar left out: %s", error)


def _back(request: Request, data: dict[str, Any], fallback: str = "/time") -> str:
    """Where a timer button returns to: the page it was pressed on (a local path only)."""
    target = str(data.get("next") or request.headers.get("referer") or fallback)
    parts = urlsplit(target)
    path = parts.path or fallback
    if not path.startswith("/") or path.startswith("//"):
        return fallback
    return path + (f"?{parts.query}" if parts.query else "")


async def _choices() -> dict[str, Any]:
    projects = await service.list_projects()
    details = {p["id"]: await service.get_project(p["id"]) for p in projects if p["status"] != "done"}
    return {"projects": [p for p in projects if p["status"] != "done"],
            "tasks": {pid: [t for t in d["tasks"] if t["active"]] for pid, d in details.items()}}


def _project_values(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "client_id": row["client"], "hourly_rate": logic.money(row["hourly_rate_e4"]),
            "budget_hours": logic.format_minutes(row["budget_minutes"]) if row["budget_minutes"] else "",
            "budget_amount": logic.money(row["budget_amount_e4"]), "fixed_price": logic.money(row["fixed_price_e4"]),
            "taxes": row["tax_codes"]}


async def _clients() -> list[Any]:
    """The active clients to pick from (ids and names: the selects show nothing else)."""
    return list(await clients_service.client_choices(status="active", limit=500))


# -- projects -------------------------------------------------------------------------------------

@get("/projects")
async def projects_page(request: Request, status: str = "") -> Template:
    projects = await service.list_projects(status=status if status in logic.STATUSES else "")
    for project in projects:   # the money budget needs the unbilled time at its rates: the summary knows it
        summary = await service.project_summary(project["id"])
        project.update(money_budget=summary["money_budget"], currency=summary["project"]["currency"])
    return page(request, "projects/list.html", section="projects", title=_("Projects"), projects=projects,
                status=status, statuses=logic.STATUS_LABELS, rates=await service.default_rates(),
                clients=await _clients(), hm=logic.format_minutes, money=logic.money)


def _form_page(request: Request, project: dict[str, Any] | None, values: dict[str, Any], errors: dict[str, str],
               clients: list[Any], status_code: int = 200) -> Template:
    title = _("Edit %(name)s", name=project['name']) if project else _("New project")
    return page(request, "projects/form.html", status_code=status_code, section="projects", title=title,
                project=project, values=values, errors=errors, clients=clients, statuses=logic.STATUS_LABELS,
                roundings=logic.ROUNDINGS)


@get("/projects/new")
async def project_new_page(request: Request, client_id: int | None = None) -> Template:
    return _form_page(request, None, {"status": "active", "rounding_minutes": 0, "client_id": client_id or ""}, {},
                      await _clients())


@post("/projects")
async def project_create_form(request: Request) -> Response:
    data = await form_data(request)
    data["tasks"] = [name.strip() for name in str(data.pop("task_names", "") or "").split(",") if name.strip()]
    try:
        project = await service.create_project(data)
    except ValidationFailed as failed:
        return _form_page(request, None, data, failed.by_field(), await _clients(), status_code=422)
    return redirect(f"/projects/{project['id']}", flash=_("Project %(name)s is created.", name=project['name']), request=request)


@get("/projects/{project_id:int}")
async def project_page(request: Request, project_id: int) -> Template:
    summary = await service.project_summary(project_id)
    project = summary["project"]
    today = await settings_service.today()
    entries = await service.list_entries(service.EntryFilter(project_id=project_id, limit=15))
    return page(request, "projects/detail.html", section="projects", title=project["name"], summary=summary,
                project=project, entries=entries, hm=logic.format_minutes, money=logic.money,
                linkable=await service.linkable_expenses(project),
                statuses=logic.STATUS_LABELS, groupings=logic.GROUPING_LABELS,
                period={"from": today.replace(day=1).isoformat(), "to": today.isoformat()})


@get("/projects/{project_id:int}/edit")
async def project_edit_page(request: Request, project_id: int) -> Template:
    project = await service.get_project(project_id)
    return _form_page(request, project, _project_values(project), {}, await _clients())


@post("/projects/{project_id:int}/edit")
async def project_edit_form(request: Request, project_id: int) -> Response:
    project = await service.get_project(project_id)
    data = await form_data(request)
    try:
        project = await service.update_project(project_id, data, partial=False)
    except ValidationFailed as failed:
        return _form_page(request, project, data, failed.by_field(), await _clients(), status_code=422)
    return redirect(f"/projects/{project_id}", flash=_("%(name)s is updated.", name=project['name']), request=request)


@post("/projects/{project_id:int}/delete", opt=OWNER_ONLY)
async def project_delete_form(request: Request, project_id: int) -> Response:
    project = await service.get_project(project_id)
    await service.delete_project(project_id)
    return redirect("/projects", flash=_("%(name)s is deleted.", name=project['name']), request=request)


@post("/projects/{project_id:int}/tasks")
async def task_add_form(request: Request, project_id: int) -> Response:
    data = await form_data(request)
    try:
        task = await service.add_task(project_id, data)
    except ValidationFailed as failed:
        return redirect(f"/projects/{project_id}#tasks", flash=_("Task not added: ") + "; ".join(
            e.message for e in failed.errors), request=request)
    return redirect(f"/projects/{project_id}#tasks", flash=_("Task %(name)s is added.", name=task['name']), request=request)


@post("/projects/{project_id:int}/tasks/{task_id:int}/delete")
async def task_delete_form(request: Request, project_id: int, task_id: int) -> Response:
    await service.delete_task(project_id, task_id)
    return redirect(f"/projects/{project_id}#tasks", flash=_("The task is removed (kept, inactive, if time was logged "
                    "on it)."), request=request)


@post("/projects/{project_id:int}/expenses")
async def expense_link_form(request: Request, project_id: int) -> Response:
    """"Add an expense": put one of the client's expenses on the project."""
    data = await form_data(request)
    back = f"/projects/{project_id}#expenses"
    try:
        expense_id = int(data.get("expense_id") or "")
        await service.set_expense_project(expense_id, project_id)
    except ValueError:
        return redirect(back, flash=_("Expense not added: choose an expense."), request=request)
    except ValidationFailed as failed:
        return redirect(back, flash=_("Expense not added: ") + "; ".join(e.message for e in failed.errors),
                        request=request)
    return redirect(back, flash=_("The expense is on the project."), request=request)


@post("/projects/{project_id:int}/expenses/{expense_id:int}/remove")
async def expense_unlink_form(request: Request, project_id: int, expense_id: int) -> Response:
    await service.set_expense_project(expense_id, None)
    return redirect(f"/projects/{project_id}#expenses", flash=_("The expense is off the project (it is kept)."),
                    request=request)


@post("/projects/rates")
async def rates_form(request: Request) -> Response:
    data = await form_data(request)
    client = data.get("client_id")
    try:
        await service.set_default_rate(int(client) if client not in (None, "") else None, data.get("hourly_rate"))
    except (ValidationFailed, ValueError) as failed:
        message = "; ".join(e.message for e in failed.errors) if isinstance(failed, ValidationFailed) else str(failed)
        return redirect("/projects#rates", flash=_("Rate not saved: %(message)s", message=message), request=request)
    return redirect("/projects#rates", flash=_("The default rate is saved."), request=request)


# -- time to invoice ------------------------------------------------------------------------------

@get("/projects/{project_id:int}/invoice")
async def invoice_preview_page(request: Request, project_id: int,
                               date_from: str = QueryParameter(name="from", default=""),
                               date_to: str = QueryParameter(name="to", default=""), group_by: str = "task",
                               percent: str = "") -> Template:
    today = await settings_service.today()
    params = {"from": date_from or today.replace(day=1).isoformat(), "to": date_to or today.isoformat(),
              "group_by": group_by, "percent": percent or "100"}
    errors: dict[str, str] = {}
    plan = None
    try:
        plan = await service.plan_invoice(project_id, params["from"], params["to"], group_by, params["percent"])
    except ValidationFailed as failed:
        errors = failed.by_field()
    project = plan.project if plan else await service.get_project(project_id)
    return page(request, "projects/invoice.html", status_code=422 if errors else 200, section="projects",
                title=_("Bill %(name)s", name=project['name']), project=project, plan=plan, params=params, errors=errors,
                groupings=logic.GROUPING_LABELS, hm=logic.format_minutes, money=logic.money)


@post("/projects/{project_id:int}/invoice")
async def invoice_create_form(request: Request, project_id: int) -> Response:
    data = await form_data(request)
    back = (f"/projects/{project_id}/invoice?from={data.get('from', '')}&to={data.get('to', '')}"
            f"&group_by={data.get('group_by', '')}&percent={data.get('percent', '')}")
    try:
        document = await service.invoice_time(project_id, data.get("from"), data.get("to"), data.get("group_by"),
                                              percent=data.get("percent"),
                                              include_expenses=not data.get("leave_expenses"),
                                              actor=actor_id(request))
    except (ValidationFailed, Conflict) as failed:
        message = ("; ".join(e.message for e in failed.errors) if isinstance(failed, ValidationFailed)
                   else failed.detail)
        return redirect(back, flash=_("No invoice made: %(message)s", message=message), request=request)
    return redirect(f"/documents/{document.id}", flash=_("The draft invoice is made from the time (and the billable "
                    "expenses); they are marked as billed on it (delete the draft to free them)."), request=request)


@get("/projects/bill")
async def client_bill_page(request: Request, client_id: int | None = None,
                           date_from: str = QueryParameter(name="from", default=""),
                           date_to: str = QueryParameter(name="to", default=""), group_by: str = "task") -> Template:
    today = await settings_service.today()
    params = {"client_id": client_id or "", "from": date_from or today.replace(day=1).isoformat(),
              "to": date_to or today.isoformat(), "group_by": group_by}
    errors: dict[str, str] = {}
    plans: list[Any] = []
    client = None
    if client_id is not None:
        client = await clients_service.get_client(client_id)
        try:
            plans = await service.plan_client_invoice(client_id, params["from"], params["to"], group_by)
        except ValidationFailed as failed:
            errors = failed.by_field()
    return page(request, "projects/bill_client.html", status_code=422 if errors else 200, section="projects",
                title=_("Bill %(name)s", name=client.name) if client else _("Bill a client's time"), client=client, plans=plans,
                params=params, errors=errors, clients=await _clients(), groupings=logic.GROUPING_LABELS,
                hm=logic.format_minutes, money=logic.money)


@post("/projects/bill")
async def client_bill_form(request: Request) -> Response:
    data = await form_data(request)
    client_id = id_of(data.get("client_id")) or 0
    back = (f"/projects/bill?client_id={client_id}&from={data.get('from', '')}&to={data.get('to', '')}"
            f"&group_by={data.get('group_by', '')}")
    try:
        document = await service.invoice_client_time(client_id, data.get("from"), data.get("to"),
                                                     data.get("group_by"), actor=actor_id(request))
    except (ValidationFailed, Conflict) as failed:
        message = ("; ".join(e.message for e in failed.errors) if isinstance(failed, ValidationFailed)
                   else failed.detail)
        return redirect(back, flash=_("No invoice made: %(message)s", message=message), request=request)
    return redirect(f"/documents/{document.id}", flash=_("The draft invoice is made from the client's time; its "
                    "entries are marked as billed on it (delete the draft to free them)."), request=request)


# -- time entries ---------------------------------------------------------------------------------

async def _entries_page(request: Request, params: dict[str, Any], values: dict[str, Any], errors: dict[str, str],
                        status_code: int = 200) -> Template:
    where = service.EntryFilter(
        project_id=id_of(params.get("project_id")),
        user_id=actor_id(request), date_from=optional_day(params.get("from"), "from"),
        date_to=optional_day(params.get("to"), "to"), limit=200)
    entries = await service.list_entries(where)
    return page(request, "projects/entries.html", status_code=status_code, section="projects", title=_("Time entries"),
                entries=entries, params=params, values=values, errors=errors, hm=logic.format_minutes,
                total=sum(e["minutes"] for e in entries), **await _choices())


@get("/time")
async def entries_page(request: Request, project_id: str = "", date_from: str = QueryParameter(name="from", default=""),
                       date_to: str = QueryParameter(name="to", default="")) -> Template:
    today = await settings_service.today()
    params = {"project_id": project_id, "from": date_from, "to": date_to}
    try:
        return await _entries_page(request, params, {"date": today.isoformat(), "billable": True,
                                                     "project_id": project_id}, {})
    except ValidationFailed as failed:
        return await _entries_page(request, {"project_id": project_id}, {"date": today.isoformat()},
                                   failed.by_field(), status_code=422)


def _entry_form_data(data: dict[str, Any]) -> dict[str, Any]:
    """The form's task select names `<project>:<task>`; the duration and the times are both optional."""
    data = dict(data)
    data.setdefault("billable", "off")
    if ":" in str(data.get("project_id", "")):
        project_text, _colon, task = str(data["project_id"]).partition(":")
        data["project_id"], data["task"] = project_text, task
    for name in ("minutes", "started_at", "ended_at"):
        if not str(data.get(name) or "").strip():
            data.pop(name, None)
    return data


@post("/time")
async def entry_create_form(request: Request) -> Response:
    data = _entry_form_data(await form_data(request))
    try:
        entry = await service.create_entry(actor_id(request), data)
    except ValidationFailed as failed:
        return await _entries_page(request, {}, data, failed.by_field(), status_code=422)
    return redirect(str(data.get("next") or "/time"), flash=_("%(format_minutes)s logged on %(project_name)s.", format_minutes=logic.format_minutes(entry['minutes']), project_name=entry['project_name']), request=request) if str(data.get("next") or "").startswith("/") \
        else redirect("/time", flash=_("%(format_minutes)s logged on %(project_name)s.", format_minutes=logic.format_minutes(entry['minutes']), project_name=entry['project_name']),
                      request=request)


def _entry_values(entry: dict[str, Any], zone: Any) -> dict[str, Any]:
    return {"project_id": entry["project"], "task": entry["task_name"], "description": entry["description"],
            "date": entry["entry_date"].isoformat(), "billable": entry["billable"],
            "minutes": "" if entry["started_at"] else logic.format_minutes(entry["minutes"]),
            "started_at": entry["started_at"].astimezone(zone).strftime("%H:%M") if entry["started_at"] else "",
            "ended_at": entry["ended_at"].astimezone(zone).strftime("%H:%M") if entry["ended_at"] else ""}


@get("/time/{entry_id:int}/edit")
async def entry_edit_page(request: Request, entry_id: int) -> Template:
    entry = await service.get_entry(entry_id)
    values = _entry_values(entry, await service.time_zone())
    return page(request, "projects/entry_form.html", section="projects", title=_("Edit time entry"), entry=entry,
                values=values, errors={}, **await _choices())


@post("/time/{entry_id:int}/edit")
async def entry_edit_form(request: Request, entry_id: int) -> Response:
    entry = await service.get_entry(entry_id)
    data = _entry_form_data(await form_data(request))
    if "minutes" in data:   # a duration typed replaces the times
        data["started_at"], data["ended_at"] = None, None
    try:
        await service.update_entry(entry_id, data, by=actor_id(request),
                                   may_change_others=request.scope["user"].is_owner)
    except (ValidationFailed, Conflict) as failed:
        errors = failed.by_field() if isinstance(failed, ValidationFailed) else {"minutes": failed.detail}
        return page(request, "projects/entry_form.html", status_code=422 if isinstance(failed, ValidationFailed)
                    else 409, section="projects", title=_("Edit time entry"), entry=entry, values=data, errors=errors,
                    **await _choices())
    return redirect("/time", flash=_("The entry is updated."), request=request)


@post("/time/{entry_id:int}/delete")
async def entry_delete_form(request: Request, entry_id: int) -> Response:
    await service.delete_entry(entry_id, by=actor_id(request), may_change_others=request.scope["user"].is_owner)
    return redirect("/time", flash=_("The entry is deleted."), request=request)


# -- the weekly timesheet -------------------------------------------------------------------------

async def _week(week: str) -> date:
    day = optional_day(week, "week") if week else None
    return logic.week_of(day or await settings_service.today())[0]


async def _sheet_page(request: Request, monday: date, project_id: int | None, errors: dict[str, str],
                      typed: dict[str, str], status_code: int = 200) -> Template:
    rows = await service.timesheet(actor_id(request), monday, project_id=project_id)
    days = logic.week_of(monday)
    day_totals = [sum(row.cells[i] for row in rows) for i in range(7)]
    return page(request, "projects/timesheet.html", status_code=status_code, section="projects", title=_("Timesheet"),
                rows=rows, days=days, day_totals=day_totals, week_total=sum(day_totals), monday=monday,
                previous=(monday - timedelta(days=7)).isoformat(), following=(monday + timedelta(days=7)).isoformat(),
                today=await settings_service.today(), project_id=project_id, errors=errors, typed=typed,
                hm=logic.format_minutes, projects=await service.list_projects(status="active"))


@get("/timesheet")
async def timesheet_page(request: Request, week: str = "", project_id: int | None = None) -> Template:
    return await _sheet_page(request, await _week(week), project_id, {}, {})


@post("/timesheet")
async def timesheet_form(request: Request) -> Response:
    data = await form_data(request)
    monday = await _week(str(data.get("week") or ""))
    project_id = id_of(data.get("project_id"))
    cells = {key.removeprefix("cell-"): value for key, value in data.items() if key.startswith("cell-")}
    # Only cells the user changed are saved (the form sends the shown value beside each one).
    changed = {key: value for key, value in cells.items() if str(value).strip() != str(data.get(f"was-{key}", "")).strip()}
    try:
        count = await service.save_timesheet(actor_id(request), monday, changed)
    except ValidationFailed as failed:
        return await _sheet_page(request, monday, project_id, failed.by_field(), cells, status_code=422)
    suffix = f"&project_id={project_id}" if project_id else ""
    return redirect(f"/timesheet?week={monday.isoformat()}{suffix}",
                    flash=ngettext("The week is saved (%(num)s day changed).", "The week is saved (%(num)s days changed).", count) % {"num": count} if count
                    else _("Nothing changed."), request=request)


# -- the timer ------------------------------------------------------------------------------------

@post("/timer/start")
async def timer_start_form(request: Request) -> Response:
    data = await form_data(request)
    back = _back(request, data)
    fields: dict[str, Any] = {key: data[key] for key in ("project_id", "task", "description") if key in data}
    if ":" in str(fields.get("project_id", "")):   # the combined project:task select of the bar's form
        project_text, _colon, task = str(fields["project_id"]).partition(":")
        fields["project_id"], fields["task"] = project_text, task
    fields["billable"] = data.get("billable", "on")
    try:
        timer, stopped = await service.start_timer(actor_id(request), fields)
    except ValidationFailed as failed:
        return redirect(back, flash=_("Timer not started: ") + "; ".join(e.message for e in failed.errors),
                        request=request)
    note = _(" %(format_minutes)s saved on %(project_name)s.", format_minutes=logic.format_minutes(stopped['minutes']), project_name=stopped['project_name']) if stopped else ""
    return redirect(back, flash=_("The timer runs on %(project_name)s.%(note)s", project_name=timer['project_name'], note=note), request=request)


@post("/timer/stop")
async def timer_stop_form(request: Request) -> Response:
    data = await form_data(request)
    back = _back(request, data)
    try:
        entry = await service.stop_timer(actor_id(request), ended_at=data.get("ended_at") or None)
    except (ValidationFailed, Conflict) as failed:
        message = "; ".join(e.message for e in failed.errors) if isinstance(failed, ValidationFailed) else failed.detail
        return redirect(back, flash=_("Timer not stopped: %(message)s", message=message), request=request)
    return redirect(back, flash=_("%(format_minutes)s saved on %(project_name)s.", format_minutes=logic.format_minutes(entry['minutes']), project_name=entry['project_name']),
                    request=request)


@post("/timer/discard")
async def timer_discard_form(request: Request) -> Response:
    data = await form_data(request)
    try:
        await service.discard_timer(actor_id(request))
    except Conflict as refused:
        return redirect(_back(request, data), flash=refused.detail, request=request)
    return redirect(_back(request, data), flash=_("The timer is discarded; nothing was saved."), request=request)


@post("/timer/edit")
async def timer_edit_form(request: Request) -> Response:
    data = await form_data(request)
    changes = {key: data[key] for key in ("started_at", "description") if str(data.get(key) or "").strip()}
    try:
        await service.update_timer(actor_id(request), changes)
    except (ValidationFailed, Conflict) as failed:
        message = "; ".join(e.message for e in failed.errors) if isinstance(failed, ValidationFailed) else failed.detail
        return redirect(_back(request, data), flash=_("Timer not changed: %(message)s", message=message), request=request)
    return redirect(_back(request, data), flash=_("The timer is changed."), request=request)


@post("/timer/keep")
async def timer_keep_form(request: Request) -> Response:
    data = await form_data(request)
    try:
        await service.keep_timer(actor_id(request))
    except Conflict as refused:
        return redirect(_back(request, data), flash=refused.detail, request=request)
    return redirect(_back(request, data), flash=_("The timer keeps running."), request=request)


# -- the report -----------------------------------------------------------------------------------

async def _report_period(date_from: str, date_to: str) -> tuple[date, date]:
    today = await settings_service.today()
    start = optional_day(date_from, "from") or today.replace(month=1, day=1)
    end = optional_day(date_to, "to") or today
    return start, end


@get("/projects/report")
async def report_page(request: Request, date_from: str = QueryParameter(name="from", default=""),
                      date_to: str = QueryParameter(name="to", default="")) -> Template:
    problem = ""
    try:
        start, end = await _report_period(date_from, date_to)
        result = await service.report(start, end)
    except ValidationFailed as failed:
        problem = "; ".join(e.message for e in failed.errors)
        start, end = await _report_period("", "")
        result = await service.report(start, end)
    return page(request, "projects/report.html", status_code=422 if problem else 200, section="projects",
                title=_("Time report"), report=result, problem=problem, hm=logic.format_minutes, money=logic.money,
                params={"from": start.isoformat(), "to": end.isoformat()})


@get("/projects/report.csv")
async def report_csv(date_from: str = QueryParameter(name="from", default=""),
                     date_to: str = QueryParameter(name="to", default="")) -> Response:
    start, end = await _report_period(date_from, date_to)
    header, rows = service.report_csv_rows(await service.report(start, end))
    return download(csv_bytes(header, rows), f"time-{start.isoformat()}-{end.isoformat()}.csv",
                    "text/csv; charset=utf-8")


ROUTES = [projects_page, project_new_page, project_create_form, project_page, project_edit_page, project_edit_form,
          project_delete_form, task_add_form, task_delete_form, expense_link_form, expense_unlink_form, rates_form,
          invoice_preview_page, invoice_create_form,
          client_bill_page, client_bill_form,
          entries_page, entry_create_form, entry_edit_page, entry_edit_form, entry_delete_form, timesheet_page,
          timesheet_form, timer_start_form, timer_stop_form, timer_discard_form, timer_edit_form, timer_keep_form,
          report_page, report_csv]
