"""The Exports page, the accountant's package (download, email, schedule) and the CSV of each list."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Template

from app.common.logic import ValidationFailed
from app.config import Config
from app.documents.logic import CREDIT_NOTE, INVOICE, QUOTE
from app.exports import logic, service
from app.mail import service as mail_service
from app.settings import service as settings_service
from app.web.responses import form_data, iso, page, redirect
from app.web.security import OWNER_ONLY

PRESET_LABELS = {"last_month": "Last month", "this_month": "This month", "last_quarter": "Last quarter",
                 "this_quarter": "This quarter", "last_year": "Last year", "this_year": "This year"}


def _csv(content: bytes, filename: str) -> Response:
    return Response(content=content, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, no-cache"})


def _actor(request: Request) -> int:
    return request.scope["user"].user_id


# -- CSV of the lists -------------------------------------------------------------------------

@get("/api/v1/exports/clients.csv", tags=["exports"], media_type="text/csv")
async def clients_csv(q: str = "", status: str = "active", sort: str = "name", dir: str = "asc") -> Response:
    """Every client the list shows with the same filters (`q`, `status`, `sort`, `dir`), all pages."""
    return _csv(await service.clients_csv(q=q, status=status, sort=sort, descending=dir == "desc"), "clients.csv")


def _documents_csv_route(doc_type: str, path: str) -> Any:
    @get(f"/api/v1/exports/{path}.csv", tags=["exports"], media_type="text/csv", name=f"{doc_type}-csv")
    async def handler(status: str = "", client_id: int | None = None, q: str = "",
                      date_from: date | None = QueryParameter(name="from", default=None),
                      date_to: date | None = QueryParameter(name="to", default=None),
                      sort: str = "date", dir: str = "desc") -> Response:
        """The list with the same filters as its /api/v1 list, all pages."""
        content = await service.documents_csv(doc_type, status=status, client_id=client_id, q=q, date_from=date_from,
                                              date_to=date_to, sort=sort, descending=dir != "asc")
        return _csv(content, f"{path}.csv")
    return handler


@get("/api/v1/exports/payments.csv", tags=["exports"], media_type="text/csv")
async def payments_csv(client_id: int | None = None, method: str = "",
                       state_filter: str = QueryParameter(name="state", default=""),
                       date_from: date | None = QueryParameter(name="from", default=None),
                       date_to: date | None = QueryParameter(name="to", default=None)) -> Response:
    """Payments with the same filters as /api/v1/payments (`client_id`, `method`, `state`, `from`, `to`)."""
    return _csv(await service.payments_csv(client_id=client_id, method=method, state=state_filter,
                                           date_from=date_from, date_to=date_to), "payments.csv")


@get("/api/v1/exports/aging.csv", tags=["exports"], media_type="text/csv")
async def aging_csv(as_of: date | None = None) -> Response:
    """The receivables aging at `as_of` (today by default): every client and currency, the largest total first."""
    return _csv(await service.aging_csv(as_of), "aging.csv")


# -- the accountant's package ----------------------------------------------------------------

class PackageSendIn(msgspec.Struct, omit_defaults=True, kw_only=True):
    to: str | list[str] | None = None
    cc: str | list[str] | None = None
    subject: str | None = None
    message: str | None = None


@get("/api/v1/exports/accountant", tags=["exports"], media_type="application/zip")
async def accountant_zip(config: Config, date_from: date | None = QueryParameter(name="from", default=None),
                         date_to: date | None = QueryParameter(name="to", default=None)) -> Response:
    """The accountant's ZIP for `from`..`to`: CSVs, PDFs, Factur-X XML, summary.pdf, README.txt."""
    content, filename = await service.accountant_package(date_from, date_to, data_dir=config.data_dir)
    return Response(content=content, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, no-cache"})


@post("/api/v1/exports/accountant/send", tags=["exports"], status_code=202)
async def accountant_send(request: Request, config: Config,
                          date_from: date | None = QueryParameter(name="from", default=None),
                          date_to: date | None = QueryParameter(name="to", default=None),
                          data: PackageSendIn | None = None) -> dict[str, Any]:
    """Queue the package for the accountant's address in Settings, Email (or `to`); 202 with the message."""
    given = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None} if data else {}
    row = await service.send_accountant_package(date_from, date_to, given, data_dir=config.data_dir,
                                                actor=_actor(request))
    return {"id": row["id"], "status": row["status"], "to": row["to"], "subject": row["subject"],
            "attachments": [a["filename"] for a in row["attachments"]], "created_at": iso(row["created_at"])}


# -- the page -----------------------------------------------------------------------------------

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
    return page(request, "exports/exports.html", status_code=status_code, section="exports", title="Exports",
                presets=presets, date_from=date_from, date_to=date_to, mail=mail, errors=errors or {},
                lists=[("Clients", "/api/v1/exports/clients.csv?status=all", "/clients"),
                       ("Invoices", "/api/v1/exports/invoices.csv", "/invoices"),
                       ("Quotes", "/api/v1/exports/quotes.csv", "/quotes"),
                       ("Credit notes", "/api/v1/exports/credit-notes.csv", "/credit-notes"),
                       ("Payments", "/api/v1/exports/payments.csv", "/payments")])


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
        row = await service.send_accountant_package(start, end, wanted, data_dir=config.data_dir, actor=_actor(request))
    except ValidationFailed as failed:
        errors = {("recipient" if e.field == "to" else e.field): e.message for e in failed.errors}
        return await _page(request, date_from=start, date_to=end, errors=errors, status_code=422)
    return redirect("/outbox", request=request,
                    flash=f"The package for {start} to {end} is queued for {', '.join(row['to'])}.")


@post("/exports/schedule", opt=OWNER_ONLY)
async def exports_schedule(request: Request) -> Response | Template:
    data = await form_data(request)
    try:
        await mail_service.update_mail_settings({"accountant_schedule": data.get("accountant_schedule") or "off",
                                                 "accountant_day": data.get("accountant_day") or 1},
                                                actor_id=_actor(request))
    except ValidationFailed as failed:
        return await _page(request, errors=failed.by_field(), status_code=422)
    return redirect("/exports#schedule", flash="Schedule saved.", request=request)


ROUTES = [clients_csv, _documents_csv_route(INVOICE, "invoices"), _documents_csv_route(QUOTE, "quotes"),
          _documents_csv_route(CREDIT_NOTE, "credit-notes"), payments_csv, aging_csv, accountant_zip, accountant_send,
          exports_page, exports_send, exports_schedule]
