"""The JSON shape of documents (API.md), shared by the API routes and exports."""

from __future__ import annotations

from typing import Any

import msgspec

from app.documents import logic
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


class TaxOut(msgspec.Struct):
    code: str
    name: str
    rate: str
    base: str
    amount: str
    category: str
    compound: bool
    note: str


class DocumentOut(msgspec.Struct):
    id: int
    type: str
    number: str | None
    status: str
    client_id: int
    client_name: str
    currency: str
    issue_date: str
    due_date: str | None
    valid_until: str | None
    lines: list[LineOut]
    discount_percent: str
    subtotal: str
    taxes: list[TaxOut]
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


class DocumentSummary(msgspec.Struct):
    id: int
    type: str
    number: str | None
    status: str
    client_id: int
    client_name: str
    currency: str
    issue_date: str
    due_date: str | None
    total: str
    paid: str
    credited: str
    balance: str


class AmountsOut(msgspec.Struct):
    currency: str
    total: str
    paid: str
    credited: str
    balance: str


class DocumentList(msgspec.Struct):
    items: list[DocumentSummary]
    total: int
    page: int
    per_page: int
    sums: list[AmountsOut]


def document_out(row: dict[str, Any]) -> DocumentOut:
    return DocumentOut(
        id=row["id"], type=row["doc_type"], number=row["number"], status=row["shown_status"],
        client_id=row["client"], client_name=row.get("client_name") or "", currency=row["currency"],
        issue_date=iso(row["issue_date"]), due_date=iso(row["due_date"]), valid_until=iso(row["valid_until"]),
        lines=[LineOut(position=ln["position"], item_id=ln["item"], description=ln["description"], quantity=ln["quantity"],
                       unit=ln["unit"], unit_price=ln["unit_price"], discount_percent=ln["discount_percent"],
                       taxes=ln["tax_codes"].split(), net=str(ln["net"])) for ln in row.get("lines", [])],
        discount_percent=row["discount_percent"], subtotal=str(row["subtotal"]),
        taxes=[TaxOut(code=t["code"], name=t["name"], rate=t["rate"], base=t["base"], amount=t["amount"],
                      category=t.get("category", "S"), compound=t.get("compound", False), note=t.get("note", ""))
               for t in row["taxes"]],
        tax_total=str(row["tax_total"]), total=str(row["total"]), paid=str(row["paid"]), credited=str(row["credited"]),
        balance=str(row["balance"]), notes=row["notes"], terms=row["terms"], footer=row["footer"],
        invoice_id=row["invoice"], source_quote_id=row["source_quote"], converted_invoice_id=row["converted_invoice"],
        cancel_reason=row["cancel_reason"], issued_at=iso(row["issued_at"]), sent_at=iso(row["sent_at"]),
        created_at=iso(row["created_at"]),
    )


def summary_out(row: dict[str, Any]) -> DocumentSummary:
    return DocumentSummary(
        id=row["id"], type=row["doc_type"], number=row["number"], status=row["shown_status"], client_id=row["client"],
        client_name=row.get("client_name") or "", currency=row["currency"], issue_date=iso(row["issue_date"]),
        due_date=iso(row["due_date"]), total=str(row["total"]), paid=str(row["paid"]), credited=str(row["credited"]),
        balance=str(row["balance"]),
    )


def type_label(doc_type: str) -> str:
    return logic.TYPE_LABELS[doc_type]
