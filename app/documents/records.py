"""What the documents service returns: quotes, invoices and credit notes as frozen records, never
raw rows. Money is Decimal in the document's currency; the status a user sees is computed once,
as the record is built. Pure.

A line has three shapes, and this module converts between them in one place each:
- the row (`document_line`: decimals as exact text, tax codes joined by spaces, net in minor units)
  becomes a `LineView` with `LineView.from_row`;
- a `LineView` becomes the input that `create_document` and `update_draft` take (and that
  `logic.clean_line` returns) with `LineView.as_input`, to copy lines into a new document or to keep
  a draft's lines when only its header changes;
- a document's tax breakdown is kept as JSON (`taxes_json`) and read back as `logic.TaxAmount`
  with `tax_from_json`; `tax_as_json` writes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.common.i18n import _
from app.documents import logic
from app.money import from_minor

# The frozen business and client of an issued document: {"business": {...}, "client": {...}}.
Snapshot = dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class LineView:
    """One line of a document, in the document's order (`position` counts from 1)."""

    position: int
    item_id: int | None
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    taxes: tuple[str, ...]  # tax codes, in the order they were given
    net: Decimal  # quantity x unit price, less the line's and the document's discount, rounded
    name: str = ""  # the catalogue item's name when the line was made; printed in bold above the description

    @property
    def shown_description(self) -> str:
        """The description as printed under the name (not repeated when it is only the name)."""
        return logic.shown_description(self.name, self.description)

    @classmethod
    def from_row(cls, row: Mapping[str, Any], currency: str) -> LineView:
        """From a `DocumentLine.select()` row of a document in `currency`."""
        return cls(position=row["position"], item_id=row["item"], description=row["description"],
                   quantity=Decimal(row["quantity"]), unit=row["unit"], unit_price=Decimal(row["unit_price"]),
                   discount_percent=Decimal(row["discount_percent"] or "0"), taxes=tuple(row["tax_codes"].split()),
                   net=from_minor(row["net_minor"], currency), name=row.get("name") or "")

    def as_input(self) -> dict[str, Any]:
        """The line as a new document's body carries it (the shape `logic.clean_line` reads and returns)."""
        return {"item_id": self.item_id, "name": self.name, "description": self.description, "quantity": self.quantity,
                "unit": self.unit, "unit_price": self.unit_price, "discount_percent": self.discount_percent,
                "taxes": list(self.taxes)}


def tax_as_json(tax: logic.TaxAmount) -> dict[str, Any]:
    """One tax of a document's breakdown as `taxes_json` keeps it (decimals as exact text)."""
    return {"code": tax.code, "name": tax.name, "rate": logic.decimal_text(tax.rate), "base": str(tax.base),
            "amount": str(tax.amount), "compound": tax.compound, "category": tax.category, "note": tax.note,
            **({"names": dict(tax.names)} if tax.names else {}), **({"notes": dict(tax.notes)} if tax.notes else {})}


def tax_from_json(data: Mapping[str, Any]) -> logic.TaxAmount:
    """The inverse of `tax_as_json`; breakdowns frozen before categories and notes existed read as
    standard-rated (S) with no note."""
    return logic.TaxAmount(code=data["code"], name=data["name"], rate=Decimal(str(data["rate"])),
                           base=Decimal(str(data["base"])), amount=Decimal(str(data["amount"])),
                           compound=bool(data.get("compound", False)), category=data.get("category") or "S",
                           note=data.get("note") or "", names=dict(data.get("names") or {}),
                           notes=dict(data.get("notes") or {}))


def taxes_from_json(text: str) -> tuple[logic.TaxAmount, ...]:
    return tuple(tax_from_json(tax) for tax in json.loads(text or "[]"))


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """A document as the lists show it: its header and money, without lines, taxes or snapshot."""

    id: int
    doc_type: str  # quote | invoice | credit_note
    number: str | None  # None until issued
    status: str  # the stored life: draft, issued, sent, cancelled, accepted, declined, converted
    shown_status: str  # what the user sees: the stored life plus what the money and the dates say
    client_id: int
    client_name: str
    currency: str
    issue_date: date
    due_date: date | None
    valid_until: date | None
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    paid: Decimal
    credited: Decimal
    balance: Decimal  # total - paid - credited for an invoice; zero for the others
    invoice_id: int | None  # the invoice a credit note credits
    invoice_number: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any], today: date) -> DocumentSummary:
        """From a row with the summary's columns (see the documents service's `_summary_query`)."""
        return cls(**_summary_fields(row, today))

    @property
    def settlement(self) -> str:
        """An invoice: what settled it so far (logic.SETTLEMENTS), payments or credit notes; "none" for the others."""
        return logic.settlement(self.total, self.paid, self.credited) if self.doc_type == logic.INVOICE else "none"

    @property
    def status_label(self) -> str:
        """The shown status in words, in the reader's language: "Credited", not "Partly paid"."""
        return _(logic.status_label_key(self.doc_type, self.shown_status, self.settlement))

    @property
    def status_class(self) -> str:
        return logic.status_css(self.doc_type, self.shown_status, self.settlement)


def _summary_fields(row: Mapping[str, Any], today: date) -> dict[str, Any]:
    currency, doc_type = row["currency"], row["doc_type"]
    total = from_minor(row["total_minor"], currency)
    paid = from_minor(row["paid_minor"], currency)
    credited = from_minor(row["credited_minor"], currency)
    return {
        "id": row["id"], "doc_type": doc_type, "number": row["number"], "status": row["status"],
        "shown_status": logic.shown_status(doc_type, row["status"], total=total, paid=paid, credited=credited,
                                           due_date=row["due_date"], valid_until=row["valid_until"], today=today),
        "client_id": row["client"], "client_name": row.get("client_name") or "", "currency": currency,
        "issue_date": row["issue_date"], "due_date": row["due_date"], "valid_until": row["valid_until"],
        "subtotal": from_minor(row["subtotal_minor"], currency), "tax_total": from_minor(row["tax_total_minor"], currency),
        "total": total, "paid": paid, "credited": credited,
        "balance": logic.balance(total, paid, credited) if doc_type == logic.INVOICE else from_minor(0, currency),
        "invoice_id": row["invoice"], "invoice_number": row.get("invoice_number"), "created_at": row["created_at"],
    }


@dataclass(frozen=True, slots=True)
class DocumentView(DocumentSummary):
    """A whole document: the summary's fields, then its terms, lines, tax breakdown and history links."""

    client_code: str
    terms_days: int | None
    discount_percent: Decimal
    notes: str
    terms: str
    footer: str
    lines: tuple[LineView, ...]  # empty when read without its lines
    taxes: tuple[logic.TaxAmount, ...]
    snapshot: Snapshot | None  # the business and client as they were when issued; None for a draft
    source_quote_id: int | None
    source_quote_number: str | None
    converted_invoice_id: int | None
    converted_invoice_number: str | None
    duplicated_from: int | None
    cancel_reason: str
    issued_at: datetime | None
    sent_at: datetime | None
    cancelled_at: datetime | None
    decided_at: datetime | None
    updated_at: datetime
    created_by: int | None
    # Frozen at issue (app.fx): units of `currency` per one `base_currency` unit and the total in the
    # base; None when no rate was known (a draft, or no rate on or before the issue date yet).
    base_currency: str = ""
    exchange_rate: Decimal | None = None
    total_base: Decimal | None = None

    @classmethod
    def from_rows(cls, row: Mapping[str, Any], lines: Sequence[Mapping[str, Any]], today: date) -> DocumentView:
        """From a document row with the joined names (the service's `_document_query`) and its line rows."""
        currency = row["currency"]
        return cls(
            **_summary_fields(row, today),
            client_code=row.get("client_code") or "", terms_days=row["terms_days"],
            discount_percent=Decimal(row["discount_percent"] or "0"), notes=row["notes"], terms=row["terms"],
            footer=row["footer"], lines=tuple(LineView.from_row(line, currency) for line in lines),
            taxes=taxes_from_json(row["taxes_json"]),
            snapshot=json.loads(row["snapshot_json"]) if row["snapshot_json"] else None,
            source_quote_id=row["source_quote"], source_quote_number=row.get("source_quote_number"),
            converted_invoice_id=row["converted_invoice"],
            converted_invoice_number=row.get("converted_invoice_number"), duplicated_from=row["duplicated_from"],
            cancel_reason=row["cancel_reason"], issued_at=row["issued_at"], sent_at=row["sent_at"],
            cancelled_at=row["cancelled_at"], decided_at=row["decided_at"], updated_at=row["updated_at"],
            created_by=row["created_by"],
            base_currency=row.get("base_currency") or "",
            exchange_rate=Decimal(row["exchange_rate"]) if row.get("exchange_rate") else None,
            total_base=(from_minor(row["total_base_minor"], row["base_currency"])
                        if row.get("total_base_minor") is not None and row.get("base_currency") else None),
        )

    def tax_codes(self) -> list[str]:
        """Every tax code on the lines, sorted, once each."""
        return sorted({code for line in self.lines for code in line.taxes})


@dataclass(frozen=True, slots=True)
class DocumentTotals:
    """The sums of a list's documents in one currency: only those its footer sums (issued, unpaid or paid;
    never drafts or cancelled: logic.SUMMED_STATUSES), `count` of them."""

    currency: str
    total: Decimal
    paid: Decimal
    credited: Decimal
    balance: Decimal
    count: int = 0


@dataclass(frozen=True, slots=True)
class DocumentBaseTotal:
    """A list footer's documents of every currency added up in the base currency at the rates frozen at
    issue; `left_out` counts those without one (issued before a rate was known)."""

    currency: str
    total: Decimal
    left_out: int = 0


@dataclass(frozen=True, slots=True)
class EventView:
    """One entry of a document's history (created, issued, sent, paid, cancelled...)."""

    id: int
    document_id: int
    at: datetime
    kind: str
    detail: str
    actor: int | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> EventView:
        return cls(id=row["id"], document_id=row["document"], at=row["at"], kind=row["kind"], detail=row["detail"],
                   actor=row["actor"])
