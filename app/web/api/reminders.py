"""The JSON API of reminders and dunning (under /api/v1): due list, making, listing, PDF, cancelling,
paying a reminder's fee and interest, the dunning settings and a client's "no reminders" flag."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post, put
from litestar.params import QueryParameter

from app.config import Config
from app.reminders import logic, service
from app.reminders.service import DueInvoice, ReminderView
from app.render.service import RenderError
from app.web.api.base import Body
from app.web.responses import actor_id, download, error_json, iso, list_json, page_params
from app.web.security import OWNER_ONLY


class DueOut(msgspec.Struct):
    invoice_id: int
    number: str
    client_id: int
    client_name: str
    currency: str
    due_date: str
    days_overdue: int
    open: str
    level: int
    title: str
    fee: str
    interest: str
    last_reminder: str


class ReminderItemOut(msgspec.Struct):
    invoice_id: int
    number: str
    due_date: str | None
    total: str
    paid: str
    open: str
    interest: str
    interest_from: str | None
    interest_to: str | None


class ReminderOut(msgspec.Struct):
    id: int
    number: str
    invoice_ids: list[int]
    level: int
    title: str
    client_id: int
    client_name: str
    currency: str
    date: str
    new_due_date: str
    open: str
    fee: str
    interest: str
    total_due: str
    charges_paid: str
    charges_open: str
    status: str
    sent_to: str
    subject: str
    body: str
    cancel_reason: str
    items: list[ReminderItemOut]


class MakeIn(Body):
    invoice_ids: list[int] | None = None
    all_due: bool = False
    send: bool = True


class CancelIn(Body):
    reason: str = ""


class SendIn(Body):
    to: str = ""


class PayIn(Body):
    amount: str | None = None
    date: str | None = None
    method: str = "bank_transfer"
    reference: str = ""
    from_credit: bool = False


class NoRemindersIn(Body):
    no_reminders: bool


def due_out(due: DueInvoice) -> DueOut:
    return DueOut(invoice_id=due.id, number=due.number, client_id=due.client_id, client_name=due.client_name,
                  currency=due.currency, due_date=due.due_date.isoformat(), days_overdue=due.days_overdue,
                  open=str(due.open), level=due.level, title=due.title, fee=str(due.fee), interest=str(due.interest),
                  last_reminder=due.last_reminder)


def reminder_out(view: ReminderView) -> ReminderOut:
    return ReminderOut(
        id=view.id, number=view.number, invoice_ids=view.invoice_ids, level=view.level, title=view.title,
        client_id=view.client_id, client_name=view.client_name, currency=view.currency,
        date=view.issue_date.isoformat(), new_due_date=view.new_due_date.isoformat(), open=str(view.open),
        fee=str(view.fee), interest=str(view.interest), total_due=str(view.total_due),
        charges_paid=str(view.charges_paid), charges_open=str(view.charges_open), status=view.status,
        sent_to=view.sent_to, subject=view.subject, body=view.body, cancel_reason=view.cancel_reason,
        items=[ReminderItemOut(invoice_id=i.invoice_id, number=i.invoice_number, due_date=iso(i.due_date),
                               total=str(i.total), paid=str(i.paid), open=str(i.open), interest=str(i.interest),
                               interest_from=iso(i.interest_from), interest_to=iso(i.interest_to))
               for i in view.items])


@get("/api/v1/reminders/due", tags=["reminders"])
async def api_due() -> list[DueOut]:
    """The open invoices due a reminder today, with the level and what it would charge."""
    return [due_out(due) for due in await service.due_invoices()]


@post("/api/v1/reminders", tags=["reminders"], status_code=201)
async def api_make(request: Request, config: Config, data: MakeIn) -> list[ReminderOut]:
    """Make reminders (`{"invoice_ids": [...]}` or `{"all_due": true}`), one per client, currency and level,
    each emailed with its PDF unless `send` is false; answers the reminders made."""
    body: dict[str, Any] = {"send": data.send}
    if data.all_due:
        body["all_due"] = True
    if data.invoice_ids is not None:
        body["invoice_ids"] = data.invoice_ids
    made = await service.make_reminders(body, actor=actor_id(request), data_dir=config.data_dir)
    return [reminder_out(view) for view in made]


@get("/api/v1/reminders", tags=["reminders"])
async def api_list(client_id: int | None = None, status: str = "", invoice_id: int | None = None,
                   page_number: int = QueryParameter(name="page", default=1),
                   per_page: int = QueryParameter(default=50)) -> dict[str, Any]:
    result = await service.list_reminders(client_id=client_id, status=status, invoice_id=invoice_id,
                                          page=page_params(page_number, per_page))
    return list_json(result, [reminder_out(view) for view in result.items])


@get("/api/v1/reminders/{reminder_id:int}", tags=["reminders"])
async def api_show(reminder_id: int) -> ReminderOut:
    return reminder_out(await service.get_reminder(reminder_id))


@get("/api/v1/reminders/{reminder_id:int}/pdf", tags=["reminders"], media_type="application/pdf")
async def api_pdf(config: Config, reminder_id: int, inline: bool = False) -> Response:
    try:
        rendered = await service.reminder_pdf(reminder_id, data_dir=config.data_dir)
    except RenderError as error:
        return error_json(422 if error.custom else 500, f"The PDF could not be made: {error}")
    return download(rendered.content, rendered.filename, "application/pdf", inline=inline)


@post("/api/v1/reminders/{reminder_id:int}/cancel", tags=["reminders"], status_code=200)
async def api_cancel(request: Request, reminder_id: int, data: CancelIn | None = None) -> ReminderOut:
    """Cancel a reminder: its fee and interest are reversed on the ledger and its level may be sent again."""
    return reminder_out(await service.cancel_reminder(reminder_id, data.reason if data else "",
                                                      actor=actor_id(request)))


@post("/api/v1/reminders/{reminder_id:int}/send", tags=["reminders"], status_code=200)
async def api_send(request: Request, config: Config, reminder_id: int, data: SendIn | None = None) -> ReminderOut:
    """Email the reminder with its PDF (again), to the client or to `to`."""
    return reminder_out(await service.send_reminder(reminder_id, {"to": data.to if data else ""},
                                                    data_dir=config.data_dir, actor=actor_id(request)))


@post("/api/v1/reminders/{reminder_id:int}/payments", tags=["reminders"], status_code=200)
async def api_pay(request: Request, reminder_id: int, data: PayIn) -> ReminderOut:
    """Money towards the reminder's fee and interest, or (`from_credit`) the client's credit used for them."""
    body = {key: value for key, value in msgspec.structs.asdict(data).items() if value is not None}
    return reminder_out(await service.pay_charges(reminder_id, body, actor=actor_id(request)))


@get("/api/v1/settings/dunning", tags=["settings"], opt=OWNER_ONLY)
async def api_get_dunning() -> dict[str, Any]:
    return logic.dunning_as_data(await service.get_dunning())


@put("/api/v1/settings/dunning", tags=["settings"], opt=OWNER_ONLY)
async def api_put_dunning(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    """Replace the dunning settings (levels 1 to 4 in order, auto_send, notices); 422 names every bad field."""
    return logic.dunning_as_data(await service.save_dunning(data, actor=actor_id(request)))


@get("/api/v1/clients/{client_id:int}/reminders", tags=["reminders"])
async def api_client_flag(client_id: int) -> dict[str, Any]:
    from app.clients import service as clients_service

    await clients_service.get_client(client_id)
    return {"client_id": client_id, "no_reminders": await service.client_no_reminders(client_id)}


@put("/api/v1/clients/{client_id:int}/reminders", tags=["reminders"])
async def api_set_client_flag(client_id: int, data: NoRemindersIn) -> dict[str, Any]:
    """Mark the client "no reminders" (true) or not."""
    return {"client_id": client_id, "no_reminders": await service.set_no_reminders(client_id, data.no_reminders)}


ROUTES = [api_due, api_make, api_list, api_show, api_pdf, api_cancel, api_send, api_pay, api_get_dunning,
          api_put_dunning, api_client_flag, api_set_client_flag]
