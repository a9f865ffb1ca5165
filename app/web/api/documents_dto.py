"""The JSON shape of documents (API.md), shared by the API routes and exports."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from app.documents import logic, records
from app.documents.logic import TaxAmount
from app.documents.records import DocumentBaseTotal, DocumentTotals, DocumentView, LineView
from app.recurring.service import RunView as RecurringLink
from app.web.responses import iso


class LineOut(msgspec.Struct):
    position: int
    item_id: int | None
    description: str
    quantity: str
    unit: str
    unit_price: str
    discount_percent: str
    taxes: list[str]
    net: str
    name: str = ""  # the catalogue item's name, printed in bold above the description


class DocumentTaxOut(msgspec.Struct):
    code: str
    name: str
    rate: str
    base: str
    amount: str
    category: str
    compound: bool
    note: str


class _DocumentHead(msgspec.Struct):
    """What a list row and a whole document both start with (a subclass's fields follow these)."""

    id: int
    type: str
    number: str | None
    status: str
    client_id: int
    client_name: str
    currency: str
    issue_date: str
    due_date: str | None


class DocumentOut(_DocumentHead):
    valid_until: str | None
    lines: list[LineOut]
    discount_percent: str
    subtotal: str
    taxes: list[DocumentTaxOut]
    tax_total: str
    total: str
    paid: str
    credited: str
    balance: str
    notes: str
    terms: str
    footer: str
    invoice_id: int | None
    source_quote_id: int | None
    converted_invoice_id: int | None
    cancel_reason: str
    issued_at: str | None
    sent_at: str | None
    created_at: str
    # An invoice made by a recurring profile: the profile and the service period (app.recurring).
    recurring_id: int | None = None
    period_start: str | None = None
    period_end: str | None = None
    # Frozen at issue (app.fx): units of `currency` per one base unit, and the total in the base currency;
    # null for a draft, or while no rate on or before the issue date is known.
    exchange_rate: str | None = None
    total_base: str | None = None
    base_currency: str | None = None
    # What settled an invoice so far, next to its status (app.documents.logic.SETTLEMENTS): "partial" with
    # "partly_credited" is an invoice reduced by a credit note, not a payment; "none" for the other types.
    settlement: str = "none"


class DocumentSummary(_DocumentHead):
    total: str
    paid: str
    credited: str
    balance: str
    settlement: str = "none"


class AmountsOut(msgspec.Struct):
    """A list's sums in one currency: only its issued, unpaid or paid documents (never drafts or cancelled
    invoices), `count` of them."""

    currency: str
    total: str
    paid: str
    credited: str
    balance: str
    count: int


class BaseTotalOut(msgspec.Struct):
    """`sums` added up in the base currency at the rates frozen at issue; `left_out`: documents with none."""

    currency: str
    total: str
    left_out: int


class DocumentList(msgspec.Struct):
    items: list[DocumentSummary]
    total: int
    page: int
    per_page: int
    sums: list[AmountsOut]
    # Only when `sums` holds another currency than the base (app.fx).
    sums_base: BaseTotalOut | None = None


def _exact(value: Decimal) -> str:
    """A quantity, price, rate or percentage as exact decimal text, as it was stored ("1.5", "120.00")."""
    return format(value, "f")


def line_out(line: LineView) -> LineOut:
    return LineOut(position=line.position, item_id=line.item_id, description=line.description,
                   quantity=_exact(line.quantity), unit=line.unit, unit_price=_exact(line.unit_price),
                   discount_percent=_exact(line.discount_percent), taxes=list(line.taxes), net=str(line.net),
                   name=line.name)


def tax_out(tax: TaxAmount) -> DocumentTaxOut:
    return DocumentTaxOut(code=tax.code, name=tax.name, rate=_exact(tax.rate), base=_exact(tax.base),
                  amount=_exact(tax.amount), category=tax.category, compound=tax.compound, note=tax.note)


def document_out(document: DocumentView) -> DocumentOut:
    return DocumentOut(
        id=document.id, type=document.doc_type, number=document.number, status=document.shown_status,
        client_id=document.client_id, client_name=document.client_name, currency=document.currency,
        issue_date=iso(document.issue_date), due_date=iso(document.due_date), valid_until=iso(document.valid_until),
        lines=[line_out(line) for line in document.lines], discount_percent=_exact(document.discount_percent),
        subtotal=str(document.subtotal), taxes=[tax_out(tax) for tax in document.taxes],
        tax_total=str(document.tax_total), total=str(document.total), paid=str(document.paid),
        credited=str(document.credited), balance=str(document.balance), notes=document.notes, terms=document.terms,
        footer=document.footer, invoice_id=document.invoice_id, source_quote_id=document.source_quote_id,
        converted_invoice_id=document.converted_invoice_id, cancel_reason=document.cancel_reason,
        issued_at=iso(document.issued_at), sent_at=iso(document.sent_at), created_at=iso(document.created_at),
        exchange_rate=str(document.exchange_rate) if document.exchange_rate is not None else None,
        total_base=str(document.total_base) if document.total_base is not None else None,
        base_currency=document.base_currency or None,
        settlement=document.settlement,
    )


def with_period(out: DocumentOut, run: RecurringLink | None) -> DocumentOut:
    """An invoice made by a recurring profile names the profile and its period."""
    if run is not None:
        out.recurring_id, out.period_start, out.period_end = run.profile_id, iso(run.period_start), iso(run.period_end)
    return out


def summary_out(document: records.DocumentSummary) -> DocumentSummary:
    return DocumentSummary(
        id=document.id, type=document.doc_type, number=document.number, status=document.shown_status,
        client_id=document.client_id, client_name=document.client_name, currency=document.currency,
        issue_date=iso(document.issue_date), due_date=iso(document.due_date), total=str(document.total),
        paid=str(document.paid), credited=str(document.credited), balance=str(document.balance),
        settlement=document.settlement,
    )


def base_total_out(base: DocumentBaseTotal | None) -> BaseTotalOut | None:
    return None if base is None else BaseTotalOut(currency=base.currency, total=str(base.total), left_out=base.left_out)


def totals_out(totals: DocumentTotals) -> AmountsOut:
    return AmountsOut(currency=totals.currency, total=str(totals.total), paid=str(totals.paid),
                      credited=str(totals.credited), balance=str(totals.balance),
                      count=totals.count)


def type_label(doc_type: str) -> str:
    return logic.TYPE_LABELS[doc_type]
