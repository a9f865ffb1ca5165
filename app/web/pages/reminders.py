"""Reminders: the invoices due a reminder and the reminders sent, one reminder, the dunning settings."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Template

from app.common.i18n import L_, _, translated
from app.common.logic import Conflict, ValidationFailed
from app.config import Config
from app.payments import logic as payments_logic
from app.payments import service as payments_service
from app.reminders import logic, service
from app.settings import service as settings_service
from app.web.responses import actor_id, download, form_data, page, page_params, redirect
from app.web.security import OWNER_ONLY

PER_PAGE = 50
STATUS_LABELS = {"issued": L_("Not emailed"), "sent": L_("Emailed"), "cancelled": L_("Cancelled")}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@get("/reminders")
async def reminders_page(request: Request, status: str = "", client_id: int | None = None,
                         page_number: int = QueryParameter(name="page", default=1),
                         due_page_number: int = QueryParameter(name="due_page", default=1)) -> Template:
    dunning = await service.get_dunning()
    # The due invoices a page at a time (thousands may be due): the page reads and charges only its own.
    due = await service.due_page(page_params(due_page_number, PER_PAGE), dunning=dunning)
    result = await service.list_reminders(status=status, client_id=client_id, page=page_params(page_number, PER_PAGE))
    return page(request, "reminders/list.html", section="reminders", title=_("Reminders"), due=due, dunning=dunning,
                result=result, status_labels=STATUS_LABELS,
                params={"status": status, "client_id": client_id or "", "due_page": due.page.page if due.page.page > 1 else ""},
                today=await settings_service.today(), level_name=logic.level_name)


@post("/reminders")
async def reminders_make_form(request: Request, config: Config) -> Response:
    data = await form_data(request)
    body: dict[str, Any] = {}
    if data.get("all_due"):
        body["all_due"] = True
    else:
        raw = data.get("invoice_ids")
        body["invoice_ids"] = raw if isinstance(raw, list) else ([raw] if raw else [])
    try:
        made = await service.make_reminders(body, actor=actor_id(request), data_dir=config.data_dir)
    except ValidationFailed as failed:
        return redirect("/reminders", flash="; ".join(e.message for e in failed.errors), request=request)
    emailed = sum(1 for view in made if view.status == "sent")
    note = _("%(plural)s made, %(emailed)s emailed.", plural=_plural(len(made), 'reminder'), emailed=emailed)
    if emailed < len(made):
        note += _(" Those not emailed (no address on the client) can be downloaded and posted.")
    return redirect("/reminders", flash=note, request=request)


@get("/reminders/{reminder_id:int}")
async def reminder_page(request: Request, reminder_id: int) -> Template:
    return await _view(request, reminder_id)


async def _view(request: Request, reminder_id: int, *, problem: str = "") -> Template:
    view = await service.get_reminder(reminder_id)
    credit = await payments_service.available_credit(view.client_id, view.currency)
    return page(request, "reminders/view.html", status_code=409 if problem else 200, section="reminders",
                title=f"{view.title} {view.number}",
                reminder=view, credit=credit, methods=translated(payments_logic.METHODS), status_labels=STATUS_LABELS,
                problem=problem, today=await settings_service.today())


@get("/reminders/{reminder_id:int}/pdf")
async def reminder_pdf_page(config: Config, reminder_id: int, inline: bool = False) -> Response:
    rendered = await service.reminder_pdf(reminder_id, data_dir=config.data_dir)
    return download(rendered.content, rendered.filename, "application/pdf", inline=inline)


async def _act(request: Request, reminder_id: int, action: Any, done: str) -> Response:
    try:
        await action()
    except (Conflict, ValidationFailed) as problem:
        message = problem.detail if isinstance(problem, Conflict) else "; ".join(e.message for e in problem.errors)
        return await _view(request, reminder_id, problem=message)
    return redirect(f"/reminders/{reminder_id}", flash=done, request=request)


@post("/reminders/{reminder_id:int}/send")
async def reminder_send_form(request: Request, config: Config, reminder_id: int) -> Response:
    data = await form_data(request)
    return await _act(request, reminder_id, lambda: service.send_reminder(
        reminder_id, {"to": data.get("to") or ""}, data_dir=config.data_dir, actor=actor_id(request)),
        _("Queued in the outbox with its PDF."))


@post("/reminders/{reminder_id:int}/cancel")
async def reminder_cancel_form(request: Request, reminder_id: int) -> Response:
    data = await form_data(request)
    return await _act(request, reminder_id, lambda: service.cancel_reminder(
        reminder_id, str(data.get("reason") or ""), actor=actor_id(request)),
        _("Cancelled: its fee and interest are reversed on the client's account."))


@post("/reminders/{reminder_id:int}/payments")
async def reminder_pay_form(request: Request, reminder_id: int) -> Response:
    data = await form_data(request)
    body: dict[str, Any] = {key: data[key] for key in ("amount", "date", "method", "reference", "from_credit") if key in data}
    return await _act(request, reminder_id, lambda: service.pay_charges(reminder_id, body, actor=actor_id(request)),
                      _("Recorded towards the reminder's fee and interest."))


@post("/clients/{client_id:int}/reminders")
async def client_flag_form(request: Request, client_id: int) -> Response:
    data = await form_data(request)
    flag = await service.set_no_reminders(client_id, data.get("no_reminders") or "off")
    return redirect(f"/clients/{client_id}", request=request,
                    flash=_("No reminders for this client.") if flag else _("Reminders are on for this client."))


# -- settings -------------------------------------------------------------------------------------

def _form_values(dunning_data: dict[str, Any]) -> dict[str, Any]:
    """The settings as the form's fields: level_1_days, level_1_text_en_subject..."""
    values: dict[str, Any] = {"auto_send": dunning_data["auto_send"],
                              "notice_days_before_due": dunning_data["notice_days_before_due"] or "",
                              "notice_on_due_date": dunning_data["notice_on_due_date"],
                              "pay_within_days": dunning_data["pay_within_days"], "day_count": dunning_data["day_count"]}
    levels = {lv["level"]: lv for lv in dunning_data["levels"]}
    for number in range(1, logic.MAX_LEVELS + 1):
        lv = levels.get(number)
        default = logic.DEFAULT_LEVELS[number - 1]
        values[f"level_{number}_on"] = lv is not None
        source = lv or {**default, "texts": default["texts"]}
        for key in ("days_after_due", "title", "fee_flat", "fee_percent", "interest_rate"):
            values[f"level_{number}_{key}"] = source[key]
        for lang in logic.LANGUAGES:
            for part in ("subject", "body"):
                values[f"level_{number}_{lang}_{part}"] = source["texts"][lang][part]
    for lang in logic.LANGUAGES:
        for part in ("subject", "body"):
            values[f"notice_{lang}_{part}"] = dunning_data["notice_texts"][lang][part]
    return values


def _from_form(data: dict[str, Any]) -> dict[str, Any]:
    levels = []
    for number in range(1, logic.MAX_LEVELS + 1):
        if not data.get(f"level_{number}_on"):
            break
        levels.append({"level": number, **{key: data.get(f"level_{number}_{key}", "") for key in (
            "days_after_due", "title", "fee_flat", "fee_percent", "interest_rate")},
            "texts": _texts(data, f"level_{number}_")})
    return {"levels": levels, "auto_send": data.get("auto_send") or "off",
            "notice_days_before_due": data.get("notice_days_before_due") or None,
            "notice_on_due_date": data.get("notice_on_due_date") or "off",
            "pay_within_days": data.get("pay_within_days"), "day_count": data.get("day_count"),
            "notice_texts": _texts(data, "notice_")}


def _texts(data: dict[str, Any], prefix: str) -> dict[str, dict[str, str]]:
    """The texts of the languages the form sent (a language left out keeps its default)."""
    return {lang: {part: data.get(f"{prefix}{lang}_{part}", "") for part in ("subject", "body")}
            for lang in logic.LANGUAGES if f"{prefix}{lang}_subject" in data or f"{prefix}{lang}_body" in data}


def _form_errors(failed: ValidationFailed) -> dict[str, str]:
    """`levels.1.fee_percent` -> the form's `level_2_fee_percent`; `levels.0.texts.fr.subject` -> `level_1_fr_subject`."""
    out = {}
    for error in failed.errors:
        parts = error.field.split(".")
        if parts[0] == "levels" and len(parts) >= 3 and parts[1].isdigit():
            number = int(parts[1]) + 1
            name = f"level_{number}_{parts[3]}_{parts[4]}" if parts[2] == "texts" and len(parts) == 5 \
                else f"level_{number}_{parts[2]}"
        elif parts[0] == "notice_texts" and len(parts) == 3:
            name = f"notice_{parts[1]}_{parts[2]}"
        else:
            name = error.field
        out[name] = error.message
    return out


@get("/settings/dunning", opt=OWNER_ONLY)
async def dunning_page(request: Request) -> Template:
    values = _form_values(logic.dunning_as_data(await service.get_dunning()))
    return page(request, "reminders/settings.html", section="settings", title=_("Reminders and dunning"),
                values=values, errors={}, languages=logic.LANGUAGES, day_counts=logic.DAY_COUNTS,
                placeholders=logic.PLACEHOLDERS, level_count=logic.MAX_LEVELS)


@post("/settings/dunning", opt=OWNER_ONLY)
async def dunning_save_form(request: Request) -> Response:
    data = await form_data(request)
    try:
        await service.save_dunning(_from_form(data), actor=actor_id(request))
    except ValidationFailed as failed:
        values = dict(data)
        for number in range(1, logic.MAX_LEVELS + 1):
            values[f"level_{number}_on"] = bool(data.get(f"level_{number}_on"))
        return page(request, "reminders/settings.html", status_code=422, section="settings",
                    title=_("Reminders and dunning"), values=values, errors=_form_errors(failed),
                    languages=logic.LANGUAGES, day_counts=logic.DAY_COUNTS, placeholders=logic.PLACEHOLDERS,
                    level_count=logic.MAX_LEVELS)
    return redirect("/settings/dunning", flash=_("Dunning settings saved."), request=request)



ROUTES = [reminders_page, reminders_make_form, reminder_page, reminder_pdf_page, reminder_send_form,
          reminder_cancel_form, reminder_pay_form, client_flag_form, dunning_page, dunning_save_form]
