"""Payments: record, reverse, apply and refund credit; the payments list; the JSON API."""

from __future__ import annotations

import secrets
from datetime import date

from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Template

from app.clients import service as clients_service
from app.common.i18n import _, money_text, translated
from app.common.logic import Conflict, ValidationFailed
from app.documents import service as documents_service
from app.payments import logic, service
from app.settings import service as settings_service
from app.web.responses import actor_id, form_data, page, page_params, redirect

PER_PAGE = 50


@get("/payments")
async def payments_page(request: Request, client_id: int | None = None, method: str = "", state_filter: str = QueryParameter(name="state", default=""),
                        date_from: date | None = QueryParameter(name="from", default=None),
                        date_to: date | None = QueryParameter(name="to", default=None),
                        page_number: int = QueryParameter(name="page", default=1)) -> Template:
    result = await service.list_payments(client_id=client_id, method=method, state=state_filter, date_from=date_from,
                                         date_to=date_to, page=page_params(page_number, PER_PAGE))
    # The filter's select: names only (and the chosen client, were it beyond the first 500 by name).
    clients = await clients_service.client_choices(status="all", limit=500, including=client_id)
    return page(request, "payments/list.html", section="payments", title=_("Payments"), result=result,
                methods=translated(logic.METHODS), clients=clients, chosen_client=client_id,
                params={"client_id": client_id or "", "method": method, "state": state_filter,
                        "from": date_from.isoformat() if date_from else "", "to": date_to.isoformat() if date_to else ""})


@get("/documents/{document_id:int}/payments/new")
async def payment_new_page(request: Request, document_id: int) -> Template:
    invoice = await documents_service.get_document(document_id, "invoice", with_lines=False)
    credit = await service.available_credit(invoice.client_id, invoice.currency)
    return page(request, "payments/form.html", section="invoices", title=_("Payment for %(value)s", value=invoice.number or 'draft'),
                invoice=invoice, methods=translated(logic.METHODS), values={"amount": invoice.balance, "method": "bank_transfer",
                                                                 "date": (await settings_service.today()).isoformat()},
                errors={}, credit=credit, once_key=secrets.token_urlsafe(16))


@post("/documents/{document_id:int}/payments")
async def payment_create_form(request: Request, document_id: int) -> Response:
    data = await form_data(request)
    key = str(data.pop("once_key", "") or "") or None
    data.setdefault("keep_excess_as_credit", "off")
    try:
        payment = await service.record_payment(document_id, data, actor=actor_id(request), idempotency_key=key)
    except (ValidationFailed, Conflict) as failed:
        invoice = await documents_service.get_document(document_id, "invoice", with_lines=False)
        errors = failed.by_field() if isinstance(failed, ValidationFailed) else {"amount": failed.detail}
        return page(request, "payments/form.html", status_code=422 if isinstance(failed, ValidationFailed) else 409,
                    section="invoices", title=_("Payment for %(number)s", number=invoice.number), invoice=invoice,
                    methods=translated(logic.METHODS), values=data, errors=errors,
                    credit=await service.available_credit(invoice.client_id, invoice.currency),
                    once_key=key or secrets.token_urlsafe(16))
    note = _("Payment of %(amount)s recorded.", amount=money_text(payment.amount, payment.currency))
    if payment.excess:
        note += _(" %(excess)s %(currency)s kept as client credit.", excess=payment.excess, currency=payment.currency)
    return redirect(f"/documents/{document_id}", flash=note, request=request)


@post("/payments/{payment_id:int}/reverse")
async def payment_reverse_form(request: Request, payment_id: int) -> Response:
    data = await form_data(request)
    payment = await service.reverse_payment(payment_id, str(data.get("reason", "")), reversal_date=data.get("date"),
                                            actor=actor_id(request))
    target = f"/documents/{payment.invoice_id}" if payment.invoice_id else "/payments"
    return redirect(target, flash=_("Payment of %(amount)s reversed.", amount=money_text(payment.amount, payment.currency)), request=request)


@post("/documents/{document_id:int}/apply-credit")
async def apply_credit_form(request: Request, document_id: int) -> Response:
    data = await form_data(request)
    invoice = await service.apply_credit(document_id, data, actor=actor_id(request))
    return redirect(f"/documents/{document_id}", flash=_("Client credit applied; %(balance)s %(currency)s left to pay.", balance=invoice.balance, currency=invoice.currency), request=request)


@post("/clients/{client_id:int}/refunds")
async def refund_form(request: Request, client_id: int) -> Response:
    data = await form_data(request)
    refund = await service.refund(client_id, data, actor=actor_id(request))
    return redirect(f"/clients/{client_id}/ledger", flash=_("Refund of %(amount)s recorded.", amount=money_text(refund.amount, refund.currency)),
                    request=request)


ROUTES = [payments_page, payment_new_page, payment_create_form, payment_reverse_form, apply_credit_form,
    refund_form]
