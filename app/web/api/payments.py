"""The JSON API of payments (under /api/v1): its routes and msgspec DTOs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import QueryParameter

from app.clients import service as clients_service
from app.documents import service as documents_service
from app.payments import service
from app.payments.records import PaymentTotals, PaymentView
from app.web.api.base import Body
from app.web.responses import actor_id, iso, page_params


class PaymentIn(Body):
    amount: Decimal
    # Bank charges kept on the way (app.fx): the invoice is settled by amount + fee.
    fee: Decimal | None = None
    date: date | None = None
    method: str = "bank_transfer"
    reference: str = ""
    note: str = ""
    keep_excess_as_credit: bool = False


class PaymentOut(msgspec.Struct):
    id: int
    client_id: int
    client_name: str
    invoice_id: int | None
    invoice_number: str | None
    currency: str
    amount: str
    applied: str
    excess: str
    date: str
    method: str
    reference: str
    note: str
    status: str
    reversal_date: str | None
    reversal_reason: str
    replaced_by: int | None
    created_at: str
    # app.fx: `amount` is what the payment settles, of which `fee` the banks kept and `received` arrived;
    # `exchange_rate` the rate of its day (units per base unit) when in a foreign currency.
    fee: str = "0"
    received: str | None = None
    exchange_rate: str | None = None


class PaymentList(msgspec.Struct):
    items: list[PaymentOut]
    total: int
    page: int
    per_page: int
    sums: list[dict[str, str]]


class ReverseIn(Body):
    reason: str = ""
    date: date | None = None


class AmountIn(Body):
    amount: Decimal | None = None


class RefundIn(Body):
    amount: Decimal
    currency: str
    date: date | None = None
    method: str = "bank_transfer"
    reference: str = ""
    note: str = ""


class RefundOut(msgspec.Struct):
    id: int
    client_id: int
    currency: str
    amount: str
    date: str
    method: str
    reference: str


class CreditOut(msgspec.Struct):
    currency: str
    available: str


def payment_out(payment: PaymentView) -> PaymentOut:
    return PaymentOut(
        id=payment.id, client_id=payment.client_id, client_name=payment.client_name, invoice_id=payment.invoice_id,
        invoice_number=payment.invoice_number, currency=payment.currency, amount=str(payment.amount),
        applied=str(payment.applied), excess=str(payment.excess), date=iso(payment.payment_date), method=payment.method,
        reference=payment.reference, note=payment.note, status=payment.status, reversal_date=iso(payment.reversal_date),
        reversal_reason=payment.reversal_reason, replaced_by=payment.replaced_by, created_at=iso(payment.created_at),
        fee=str(payment.fee), received=str(payment.received),
        exchange_rate=str(payment.exchange_rate) if payment.exchange_rate is not None else None,
    )


def totals_out(totals: PaymentTotals) -> dict[str, str]:
    return {"currency": totals.currency, "live": str(totals.live), "reversed": str(totals.reversed)}


@post("/api/v1/invoices/{document_id:int}/payments", tags=["payments"], status_code=201)
async def api_record_payment(request: Request, document_id: int, data: PaymentIn) -> PaymentOut:
    """Record a payment. Send an `Idempotency-Key` header: repeating the request never records twice."""
    body = msgspec.structs.asdict(data)
    body["date"] = body["date"].isoformat() if body["date"] else None
    payment = await service.record_payment(document_id, body, actor=actor_id(request),
                                           idempotency_key=request.headers.get("idempotency-key"))
    return payment_out(payment)


@get("/api/v1/invoices/{document_id:int}/payments", tags=["payments"])
async def api_invoice_payments(document_id: int) -> list[PaymentOut]:
    await documents_service.get_document(document_id, "invoice", with_lines=False)
    result = await service.list_payments(invoice_id=document_id, page=page_params(1, 500))
    return [payment_out(row) for row in result.items]


@get("/api/v1/payments", tags=["payments"])
async def api_payments(client_id: int | None = None, method: str = "", state_filter: str = QueryParameter(name="state", default=""),
                       date_from: date | None = QueryParameter(name="from", default=None),
                       date_to: date | None = QueryParameter(name="to", default=None),
                       page_number: int = QueryParameter(name="page", default=1), per_page: int = 50) -> PaymentList:
    result = await service.list_payments(client_id=client_id, method=method, state=state_filter, date_from=date_from,
                                         date_to=date_to, page=page_params(page_number, per_page))
    return PaymentList(items=[payment_out(r) for r in result.items], total=result.total, page=result.page.page,
                       per_page=result.page.per_page,
                       sums=[totals_out(totals) for totals in result.extra["totals"]])


@get("/api/v1/payments/{payment_id:int}", tags=["payments"])
async def api_payment(payment_id: int) -> PaymentOut:
    return payment_out(await service.get_payment(payment_id))


@post("/api/v1/payments/{payment_id:int}/reverse", tags=["payments"], status_code=200)
async def api_reverse(request: Request, payment_id: int, data: ReverseIn) -> PaymentOut:
    """Reverse with a reason: a dated reversal entry; the payment stays, marked reversed."""
    return payment_out(await service.reverse_payment(payment_id, data.reason, reversal_date=data.date,
                                                     actor=actor_id(request)))


@post("/api/v1/payments/{payment_id:int}/replace", tags=["payments"], status_code=201)
async def api_replace(request: Request, payment_id: int, data: PaymentIn) -> PaymentOut:
    """Edit a payment: reversal plus a new payment, in one transaction."""
    body = msgspec.structs.asdict(data)
    body["date"] = body["date"].isoformat() if body["date"] else None
    return payment_out(await service.edit_payment(payment_id, body, actor=actor_id(request)))


@post("/api/v1/invoices/{document_id:int}/apply-credit", tags=["payments"], status_code=200)
async def api_apply_credit(request: Request, document_id: int, data: AmountIn) -> dict[str, Any]:
    """Apply the client's credit to the invoice (all that fits when no amount is given)."""
    invoice = await service.apply_credit(document_id, {"amount": data.amount}, actor=actor_id(request))
    return {"id": invoice.id, "paid": str(invoice.paid), "balance": str(invoice.balance),
            "status": invoice.shown_status, "currency": invoice.currency}


@get("/api/v1/clients/{client_id:int}/credit", tags=["payments"])
async def api_client_credit(client_id: int) -> list[CreditOut]:
    await clients_service.get_client(client_id)
    return [CreditOut(currency=c, available=str(a)) for c, a in await service.credits_of(client_id)]


@post("/api/v1/clients/{client_id:int}/refunds", tags=["payments"], status_code=201)
async def api_refund(request: Request, client_id: int, data: RefundIn) -> RefundOut:
    await clients_service.get_client(client_id)
    body = msgspec.structs.asdict(data)
    body["date"] = body["date"].isoformat() if body["date"] else None
    refund = await service.refund(client_id, body, actor=actor_id(request))
    return RefundOut(id=refund.id, client_id=client_id, currency=refund.currency, amount=str(refund.amount),
                     date=refund.refund_date.isoformat(), method=refund.method, reference=refund.reference)


ROUTES = [api_record_payment, api_invoice_payments, api_payments, api_payment, api_reverse, api_replace,
    api_apply_credit, api_client_credit, api_refund]
