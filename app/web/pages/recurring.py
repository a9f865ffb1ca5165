"""Recurring invoice pages: the profiles with their next dates, a profile's page with the periods it has
made, and the profile editor (the document editor's line table, item picks and live totals).

Every rule lives in app.recurring; these handlers read forms, call the service and choose what to render.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from app.clients import service as clients_service
from app.common.i18n import L_, _, ngettext, translated
from app.common.logic import Conflict, FieldError, NotFound, ValidationFailed, id_of
from app.common.numbers import as_typed
from app.config import Config
from app.documents import logic as documents_logic
from app.documents import service as documents_service
from app.documents.logic import INVOICE, STATUS_LABELS
from app.recurring import logic, service
from app.recurring.service import ProfileView
from app.settings.service import today
from app.taxes import service as taxes_service
from app.web.line_editor import line_table_preview
from app.web.responses import actor_id, form_data, page, redirect
from app.web.security import OWNER_ONLY
from app.web.templating import day

SECTION = "recurring"
STATUS_FILTERS = [("active", L_("Active")), ("paused", L_("Paused")), ("finished", L_("Finished"))]
PROFILE_STATUS_LABELS = {"active": L_("Active"), "paused": L_("Paused"), "finished": L_("Finished")}
OUTCOME_LABELS = {"draft": L_("Draft made"), "issue": L_("Issued"), "issue_and_send": L_("Issued and emailed"),
                  "skipped": L_("Skipped (paused)")}
HEADER_FIELDS = ("client_id", "currency", "notes", "terms", "every", "unit", "day_of_month", "start_date", "end_date",
                 "count", "action")
PREVIEW_URL = "/recurring/preview"


def _is_owner(request: Request) -> bool:
    identity = request.scope.get("user")
    return bool(identity and identity.is_owner)


# -- the list ------------------------------------------------------------------------------------------

@get("/recurring")
async def profiles_page(request: Request, status: str = "") -> Template:
    status = status if status in PROFILE_STATUS_LABELS else ""
    profiles = await service.list_profiles(status=status)
    everything = profiles if not status else await service.list_profiles()
    counts = {key: sum(1 for p in everything if p.status == key) for key in PROFILE_STATUS_LABELS}
    return page(request, "recurring/list.html", section=SECTION, title=_("Recurring invoices"), profiles=profiles,
                status=status, statuses=STATUS_FILTERS, counts=counts, total=len(everything),
                status_labels=PROFILE_STATUS_LABELS, action_labels=translated(logic.ACTION_LABELS))


@post("/recurring/run")
async def run_now(request: Request, config: Config) -> Response:
    """The list's "Run now": what the hourly job does, at once."""
    report = await service.run_due(actor=actor_id(request), data_dir=config.data_dir)
    made = len(report.made)
    message = (ngettext("%(num)s invoice made.", "%(num)s invoices made.", made) % {"num": made} if made else _("Nothing was due: every period "
               "whose date has come is made."))
    if report.queued:
        message += _(" %(queued)s queued for email.", queued=report.queued)
    if report.problems:
        message += " Problems: " + " ".join(report.problems[:3])
    return redirect("/recurring", flash=message, request=request)


# -- a profile's page --------------------------------------------------------------------------------

async def _profile_page(request: Request, profile_id: int, *, status_code: int = 200, problem: str = "") -> Template:
    profile = await service.get_profile(profile_id)
    done = await service.runs(profile_id)
    return page(request, "recurring/view.html", status_code=status_code, section=SECTION,
                title=_("Recurring invoice for %(client_name)s", client_name=profile.client_name), profile=profile, runs=done, upcoming=profile.upcoming(),
                status_labels=PROFILE_STATUS_LABELS, action_labels=translated(logic.ACTION_LABELS), outcome_labels=OUTCOME_LABELS,
                doc_status_labels=translated(STATUS_LABELS), problem=problem, is_owner=_is_owner(request))


@get("/recurring/{profile_id:int}")
async def profile_page(request: Request, profile_id: int) -> Template:
    return await _profile_page(request, profile_id)


async def _act(request: Request, profile_id: int, action: Any, done: str, to: str | None = None) -> Response:
    try:
        await action()
    except Conflict as conflict:
        return await _profile_page(request, profile_id, status_code=409, problem=conflict.detail)
    return redirect(to or f"/recurring/{profile_id}", flash=done, request=request)


@post("/recurring/{profile_id:int}/pause")
async def pause_form(request: Request, profile_id: int) -> Response:
    return await _act(request, profile_id, lambda: service.pause_profile(profile_id, actor=actor_id(request)),
                      _("Paused: no invoice is made until you resume it."))


@post("/recurring/{profile_id:int}/resume")
async def resume_form(request: Request, profile_id: int) -> Response:
    data = await form_data(request)
    catch_up = str(data.get("catch_up") or "") == "true"
    return await _act(request, profile_id, lambda: service.resume_profile(
        profile_id, catch_up=catch_up, actor=actor_id(request)),
        _("Resumed; the periods missed while paused are made at the next run.") if catch_up else
        _("Resumed; the periods missed while paused are skipped."))


@post("/recurring/{profile_id:int}/delete", opt=OWNER_ONLY)
async def delete_form(request: Request, profile_id: int) -> Response:
    return await _act(request, profile_id, lambda: service.delete_profile(profile_id), _("The profile is deleted."),
                      to="/recurring")


# -- the editor ----------------------------------------------------------------------------------------

def _text(value: Any) -> str:
    return "" if value is None else value.isoformat() if isinstance(value, date) else str(value)


def _values_of(profile: ProfileView | None, client_id: str = "") -> dict[str, str]:
    if profile is None:
        return {"client_id": client_id, "currency": "", "notes": "", "terms": "", "every": "1", "unit": "month",
                "day_of_month": "1", "start_date": "", "end_date": "", "count": "", "action": "issue"}
    return {"client_id": str(profile.client_id), "currency": profile.currency, "notes": profile.notes,
            "terms": profile.terms, "every": str(profile.every), "unit": profile.unit,
            "day_of_month": _text(profile.day_of_month), "start_date": _text(profile.start_date),
            "end_date": _text(profile.end_date), "count": _text(profile.count), "action": profile.action}


def _editor_lines(profile: ProfileView, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    labels = {item["id"]: item["label"] for item in items}
    return [{"item": labels.get(line.get("item_id"), "") if line.get("item_id") else "",
             "item_id": str(line.get("item_id") or ""), "name": line.get("name") or "", "description": line["description"],
             "quantity": as_typed(line["quantity"]), "unit": line.get("unit") or "",
             "unit_price": as_typed(line["unit_price"]),
             "discount_percent": "" if line.get("discount_percent") in (None, "0") else as_typed(line["discount_percent"]),
             "taxes": list(line.get("taxes") or [])} for line in profile.lines]


def _values_from_form(data: Mapping[str, Any]) -> dict[str, str]:
    values = {}
    for name in HEADER_FIELDS:
        value = data.get(name, "")
        values[name] = (value[0] if value else "") if isinstance(value, list) else str(value or "")
    return values


async def _context(profile: ProfileView | None, values: dict[str, str], lines: list[dict[str, Any]],
                   items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    if items is None:
        items = await documents_service.picker_items(
            [i for line in lines if (i := id_of(line.get("item_id"))) is not None])
    taxes = await taxes_service.list_taxes()
    used = {code for line in lines for code in line["taxes"]}
    preview = await documents_service.preview(INVOICE, {"client_id": values["client_id"],
                                                        "currency": values["currency"], "lines": lines})
    client = None
    if id_of(values["client_id"]) is not None:
        try:
            client = await clients_service.get_client(int(values["client_id"]))
        except NotFound:
            client = None
    einvoice = await documents_service.einvoice_warnings(client, sorted(used))
    return {"profile": profile, "values": values, "lines": lines, "items": [i for i in items if i["active"]],
            "tax_rates": [t for t in taxes if t["active"] or t["code"] in used], "preview": preview, "client": client,
            "einvoice": einvoice, "lines_url": PREVIEW_URL, "units": logic.UNITS, "unit_labels": {unit: _(label) for unit, label in logic.UNIT_CHOICE_LABELS.items()},
            "actions": logic.ACTIONS, "action_labels": translated(logic.ACTION_LABELS)}


def _editor(request: Request, context: dict[str, Any], errors: dict[str, str], *, status_code: int = 200,
            focus: int | None = None) -> Template:
    profile = context["profile"]
    title = _("New recurring invoice") if profile is None else _("Edit recurring invoice for %(client_name)s", client_name=profile.client_name)
    line_errors: dict[int, list[str]] = {}
    for name, message in errors.items():
        if name.startswith("lines-") and name.count("-") >= 2:
            line_errors.setdefault(int(name.split("-")[1]), []).append(message)
    return page(request, "recurring/editor.html", status_code=status_code, section=SECTION, title=title,
                errors=errors, line_errors=line_errors, focus=focus, focus_field="item", **context)


@get("/recurring/new")
async def new_page(request: Request, client_id: str = "") -> Template:
    values = _values_of(None, client_id if id_of(client_id) is not None else "")
    values["start_date"] = (await today()).replace(day=1).isoformat()   # the 1st of this month: the usual retainer
    context = await _context(None, values, [documents_logic.blank_line()])
    return _editor(request, context, {}, focus=0)


@get("/recurring/{profile_id:int}/edit")
async def edit_page(request: Request, profile_id: int) -> Template:
    profile = await service.get_profile(profile_id)
    items = await documents_service.picker_items([line["item_id"] for line in profile.lines if line.get("item_id")])
    lines = _editor_lines(profile, items) or [documents_logic.blank_line()]
    return _editor(request, await _context(profile, _values_of(profile), lines, items), {})


@post(PREVIEW_URL)
async def preview(request: Request) -> Response:
    """htmx, while the user types: the line nets and totals (after adding, moving or removing a line, or
    picking an item, the whole line table), as the document editor does."""
    data = await form_data(request)
    values = _values_from_form(data)

    async def new_line() -> dict[str, Any]:
        return documents_logic.blank_line()

    async def context(lines: list[dict[str, Any]]) -> dict[str, Any]:
        return await _context(None, values, lines)

    # Items picked and lines added take the taxes of the client's place, as in the document editor.
    return await line_table_preview(request, data, client_id=values.get("client_id"), new_line=new_line,
                                    context=context)


async def _save(request: Request, profile: ProfileView | None) -> Response:
    data = await form_data(request)
    values = _values_from_form(data)
    lines, _picked, unknown_items = await documents_service.apply_item_picks(
        documents_logic.lines_from_form(data), advice=await documents_service.tax_advice(values.get("client_id")))
    kept = [index for index, line in enumerate(lines) if not documents_logic.line_is_blank(line)]
    body: dict[str, Any] = {name: values[name] or None for name in HEADER_FIELDS}
    body["notes"], body["terms"] = values["notes"], values["terms"]
    body["lines"] = [{"item_id": lines[i]["item_id"] or None, "name": lines[i]["name"], "description": lines[i]["description"],
                      "quantity": lines[i]["quantity"], "unit": lines[i]["unit"], "unit_price": lines[i]["unit_price"],
                      "discount_percent": lines[i]["discount_percent"], "taxes": lines[i]["taxes"]} for i in kept]
    errors = {f"lines-{index}-item": message for index, message in unknown_items.items()}
    try:
        if errors:
            raise ValidationFailed([FieldError(k, v) for k, v in errors.items()])
        if profile is None:
            saved = await service.create_profile(body, actor=actor_id(request))
        else:
            saved = await service.update_profile(profile.id, body, actor=actor_id(request))
    except ValidationFailed as failed:
        mapped: dict[str, str] = {}
        for error in failed.errors:
            mapped.setdefault(documents_logic.form_error_field(error.field, kept), error.message)
        context = await _context(profile, values, lines or [documents_logic.blank_line()])
        return _editor(request, context, mapped, status_code=422)
    when = _("the next invoice is dated %(date)s", date=day(saved.next_date)) if saved.next_date else _("its schedule is over")
    return redirect(f"/recurring/{saved.id}", flash=_("Saved; %(when)s.", when=when), request=request)


@post("/recurring/new")
async def create_form(request: Request) -> Response:
    return await _save(request, None)


@post("/recurring/{profile_id:int}/edit")
async def edit_form(request: Request, profile_id: int) -> Response:
    return await _save(request, await service.get_profile(profile_id))


ROUTES = [profiles_page, run_now, profile_page, pause_form, resume_form, delete_form, new_page, edit_page, preview,
          create_form, edit_form]
