"""/api/v1/invoices, /quotes and /credit-notes: JSON over the documents service (API.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from litestar import Request, delete, get, patch, post
from litestar.params import QueryParameter
from msgspec import UNSET, UnsetType

from app.common.logic import FieldError, ValidationFailed
from app.documents import service
from app.documents.logic import CREDIT_NOTE, INVOICE, QUOTE, TYPE_PATHS
from app.recurring import service as recurring_service
from app.web.api.base import Body
from app.web.api.documents_dto import (
    DocumentList,
    DocumentOut,
    base_total_out,
    document_out,
    summary_out,
    totals_out,
    with_period,
)
from app.web.responses import actor_id, page_params
from app.web.security import OWNER_ONLY


class LineIn(Body, omit_defaults=True):
    item_id: int | None = None
    name: str | None = None  # default: the item's name
    description: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    unit_price: Decimal | None = None
    discount_percent: Decimal | None = None
    taxes: list[str] | None = None


class DocumentIn(Body, omit_defaults=True):
    client_id: int | UnsetType = UNSET
    currency: str | UnsetType = UNSET
    issue_date: date | UnsetType = UNSET
    due_date: date | UnsetType | None = UNSET
    terms_days: int | UnsetType = UNSET
    valid_until: date | UnsetType | None = UNSET
    discount_percent: Decimal | UnsetType = UNSET
    notes: str | UnsetType = UNSET
    terms: str | UnsetType = UNSET
    footer: str | UnsetType = UNSET
    invoice_id: int | UnsetType | None = UNSET
    lines: list[LineIn] | UnsetType = UNSET
    # A date more than a year from today is refused (422 naming it) unless this says it is meant.
    confirm_date: bool | UnsetType = UNSET


class IssueIn(Body):
    """Optional: issuing dates the document today; `issue_date` with `backdate: true` dates it earlier on
    purpose (never before the latest date already issued in its series: 409 naming that date)."""

    issue_date: date | None = None
    backdate: bool = False


class CancelIn(Body):
    reason: str = ""


class IdsIn(Body):
    ids: list[int]


class MarkedSent(msgspec.Struct):
    changed: list[int]


class StatusCounts(msgspec.Struct):
    draft: int
    issued: int
    sent: int
    partial: int
    paid: int
    overdue: int
    cancelled: int


class StatisticsAmounts(msgspec.Struct):
    currency: str
    revenue: str
    outstanding: str
    overdue: str


class Statistics(msgspec.Struct):
    counts: StatusCounts
    amounts: list[StatisticsAmounts]
    today: str


def body(data: DocumentIn) -> dict[str, Any]:
    given = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    if "lines" in given:
        given["lines"] = [{k: v for k, v in msgspec.structs.asdict(line).items() if v is not None}
                          for line in given["lines"]]
    return given


async def _with_period(out: DocumentOut) -> DocumentOut:
    """An invoice made by a recurring profile names it and its period (app.recurring)."""
    return with_period(out, await recurring_service.link_of(out.id)) if out.type == INVOICE else out


def _routes(doc_type: str) -> list[Any]:
    base = f"/api/v1/{TYPE_PATHS[doc_type]}"
    tag = [TYPE_PATHS[doc_type]]

    @get(base, tags=tag, name=f"{doc_type}-list")
    async def list_(status: str = "", client_id: int | None = None, q: str = "",
                    date_from: date | None = QueryParameter(name="from", default=None),
                    date_to: date | None = QueryParameter(name="to", default=None),
                    sort: str = "date", dir: str = "desc",
                    page_number: int = QueryParameter(name="page", default=1), per_page: int = 50) -> DocumentList:
        if dir not in ("asc", "desc"):
            raise ValidationFailed([FieldError("dir", "dir must be one of: asc, desc")])
        result = await service.list_documents(doc_type, status=status, client_id=client_id, date_from=date_from,
                                              date_to=date_to, q=q, sort=sort, descending=dir == "desc",
                                              page=page_params(page_number, per_page))
        return DocumentList(items=[summary_out(r) for r in result.items], total=result.total, page=result.page.page,
                            per_page=result.page.per_page,
                            sums=[totals_out(totals) for totals in result.extra["totals"]],
                            sums_base=base_total_out(result.extra["base_total"]))

    @post(base, tags=tag, name=f"{doc_type}-create")
    async def create(request: Request, data: DocumentIn) -> DocumentOut:
        """Create a draft. Send an `Idempotency-Key` header: repeating the request returns the same draft."""
        return document_out(await service.create_document(doc_type, body(data), actor=actor_id(request),
                                                          idempotency_key=request.headers.get("idempotency-key")))

    @get(f"{base}/{{document_id:int}}", tags=tag, name=f"{doc_type}-get")
    async def one(document_id: int) -> DocumentOut:
        return await _with_period(document_out(await service.get_document(document_id, doc_type)))

    @patch(f"{base}/{{document_id:int}}", tags=tag, name=f"{doc_type}-update")
    async def update(request: Request, document_id: int, data: DocumentIn) -> DocumentOut:
        """Drafts only; an issued document answers 409."""
        await service.get_document(document_id, doc_type, with_lines=False)
        return await _with_period(document_out(await service.update_draft(document_id, body(data),
                                                                         actor=actor_id(request))))

    @delete(f"{base}/{{document_id:int}}", tags=tag, name=f"{doc_type}-delete", opt=OWNER_ONLY)
    async def remove(document_id: int) -> None:
        """Drafts only; an issued document answers 409."""
        await service.get_document(document_id, doc_type, with_lines=False)
        await service.delete_draft(document_id)

    @post(f"{base}/{{document_id:int}}/issue", tags=tag, name=f"{doc_type}-issue", status_code=200)
    async def issue(request: Request, document_id: int, data: IssueIn | None = None) -> DocumentOut:
        """Assign the next number of the series, date the document today (or back-date it) and freeze it;
        its PDF is made and kept as the document of record (422 naming the field when it cannot be)."""
        await service.get_document(document_id, doc_type, with_lines=False)
        data = data or IssueIn()
        return await _with_period(document_out(await service.issue(
            document_id, actor=actor_id(request), issue_date=data.issue_date, backdate=data.backdate)))

    @post(f"{base}/{{document_id:int}}/duplicate", tags=tag, name=f"{doc_type}-duplicate", status_code=201)
    async def duplicate(request: Request, document_id: int) -> DocumentOut:
        await service.get_document(document_id, doc_type, with_lines=False)
        return document_out(await service.duplicate(document_id, actor=actor_id(request)))

    return [list_, create, one, update, remove, issue, duplicate]


@post("/api/v1/invoices/{document_id:int}/cancel", tags=["invoices"], status_code=200)
async def api_cancel(request: Request, document_id: int, data: CancelIn | None = None) -> DocumentOut:
    """Void an issued invoice with a reason; a credit note for its full amount is issued."""
    return document_out(await service.cancel(document_id, data.reason if data else "", actor=actor_id(request)))


@post("/api/v1/invoices/{document_id:int}/mark-sent", tags=["invoices"], status_code=200)
async def api_mark_sent(request: Request, document_id: int) -> DocumentOut:
    await service.get_document(document_id, INVOICE, with_lines=False)
    await service.mark_sent([document_id], actor=actor_id(request))
    return document_out(await service.get_document(document_id))


@post("/api/v1/invoices/bulk/mark-sent", tags=["invoices"], status_code=200)
async def api_bulk_mark_sent(request: Request, data: IdsIn) -> MarkedSent:
    """Mark several issued invoices as sent at once."""
    for document_id in data.ids:
        await service.get_document(document_id, INVOICE, with_lines=False)
    return MarkedSent(changed=await service.mark_sent(data.ids, actor=actor_id(request)))


@post("/api/v1/invoices/{document_id:int}/credit", tags=["invoices"], status_code=201)
async def api_credit(request: Request, document_id: int) -> DocumentOut:
    """A draft credit note against the invoice, prefilled with its lines."""
    return document_out(await service.credit_invoice(document_id, actor=actor_id(request)))


@get("/api/v1/invoices/statistics", tags=["invoices"])
async def api_statistics() -> Statistics:
    stats = await service.statistics()
    return Statistics(counts=StatusCounts(**stats["counts"]),
                      amounts=[StatisticsAmounts(**{k: str(v) for k, v in a.items()}) for a in stats["amounts"]],
                      today=stats["today"].isoformat())


def _quote_action(action: str) -> Any:
    @post(f"/api/v1/quotes/{{document_id:int}}/{action}", tags=["quotes"], name=f"quote-{action}", status_code=200)
    async def handler(request: Request, document_id: int) -> DocumentOut:
        return document_out(await service.decide_quote(document_id, action, actor=actor_id(request)))
    return handler


@post("/api/v1/quotes/{document_id:int}/convert", tags=["quotes"], status_code=201)
async def api_convert(request: Request, document_id: int) -> DocumentOut:
    """The accepted (or issued) quote becomes a draft invoice carrying its lines."""
    return document_out(await service.convert_quote(document_id, actor=actor_id(request)))


ROUTES = [
    api_statistics, api_bulk_mark_sent,
    *_routes(INVOICE), *_routes(QUOTE), *_routes(CREDIT_NOTE),
    api_cancel, api_mark_sent, api_credit, _quote_action("accept"), _quote_action("decline"), api_convert,
]
