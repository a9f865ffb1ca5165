"""The Exports page, the accountant's package (download, email, schedule) and the CSV of each list."""

from __future__ import annotations

from datetime import date

from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Template

from app.common.i18n import L_, _
from app.common.logic import ValidationFailed
from app.config import Config
from app.exports import logic, service
from app.mail import service as mail_service
from app.settings import service as settings_service
from app.web.responses import actor_id, form_data, page, redirect
from app.web.security import OWNER_ONLY

PRESET_LABELS = {"last_month": L_("Last month"), "this_month": L_("This month"), "last_quarter": L_("Last quarter"),
                 "this_quarter": L_("This quarter"), "last_year": L_("Last year"), "this_year": L_("This year")}


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


async def _page(request: Request, *, preset: str = "last_month", date_from: date | None = None,
                date_to: date | None = None, errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    today = await settings_service.today()
    presets = [(name, PRESET_LABELS[name], *logic.preset_period(name, today)) for name in logic.PRESETS]
    if date_from is None or date_to is None:
        date_from, date_to = logic.preset_period(preset if preset in logic.PRESETS else "last_month", today)
    mail = await mail_service.get_mail_settings()
    return page(request, "exports/exports.html", status_code=status_code, section="exports", title=_("Exports"),
                presets=presets, date_from=date_from, date_to=date_to, mail=mail, errors=errors or {},
                lists=[(_("Clients"), "/api/v1/exports/clients.csv?status=all", "/clients"),
                       (_("Invoices"), "/api/v1/exports/invoices.csv", "/invoices"),
                       (_("Quotes"), "/api/v1/exports/quotes.csv", "/quotes"),
                       (_("Credit notes"), "/api/v1/exports/credit-notes.csv", "/credit-notes"),
                       (_("Payments"), "/api/v1/exports/payments.csv", "/payments")])


@get("/exports")
async def exports_page(request: Request, preset: str = "", date_from: str = QueryParameter(name="from", default=""),
                       date_to: str = QueryParameter(name="to", default="")) -> Template:
    return await _page(request, preset=preset or "last_month", date_from=_parse_day(date_from),
                       date_to=_parse_day(date_to))


@post("/exports/accountant/send")
async def exports_send(request: Request, config: Config) -> Response | Template:
    data = await form_data(request)
    start, end = _parse_day(str(data.get("from") or "")), _parse_day(str(data.get("to") or ""))
    wanted = {"to": str(data.get("recipient") or "")} if data.get("recipient") else {}
    try:
        service.check_period(start, end)
    except ValidationFailed as failed:
        return await _page(request, date_from=start, date_to=end, errors=failed.by_field(), status_code=422)
    try:
        row = await service.send_accountant_package(start, end, wanted, data_dir=config.data_dir, actor=actor_id(request),
                                                    include_time=data.get("include_time") in ("true", "on"))
    except ValidationFailed as failed:
        errors = {("recipient" if e.field == "to" else e.field): e.message for e in failed.errors}
        return await _page(request, date_from=start, date_to=end, errors=errors, status_code=422)
    return redirect("/outbox", request=request,
                    flash=_("The package for %(start)s to %(end)s is queued for %(join)s.", start=start, end=end, join=', '.join(row['to'])))


@post("/exports/schedule", opt=OWNER_ONLY)
async def exports_schedule(request: Request) -> Response | Template:
    data = await form_data(request)
    try:
        await mail_service.update_mail_settings({"accountant_schedule": data.get("accountant_schedule") or "off",
                                                 "accountant_day": data.get("accountant_day") or 1},
                                                actor_id=actor_id(request))
    except ValidationFailed as failed:
        return await _page(request, errors=failed.by_field(), status_code=422)
    return redirect("/exports#schedule", flash=_("Schedule saved."), request=request)


ROUTES = [exports_page, exports_send, exports_schedule]
