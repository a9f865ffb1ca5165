"""Imports, pure: rows of a file (mapped to Counterfoil's fields) become records, each row's problems are
named, and the records are checked against what the books already hold (a lookup the service fills).

History stays history: an issued invoice keeps its number, dates, total and status. Its total is
recomputed from its lines with the taxes it names; a difference beyond rounding is a problem of its row
that the user may accept ("imported total"), and then the source's figures are kept as they were.
"""

from __future__ import annotations

import re
import string
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar, cast

from app.common.i18n import _
from app.documents import logic as documents_logic
from app.imports import formats
from app.imports.parsing import CellError, Dialect, parse_day, parse_number
from app.money import known_currencies, quantum, round_money
from app.taxes.logic import TaxRate

T = TypeVar("T")
ZERO = Decimal(0)   # immutable: one object for every zero a file reads
MAX_PROBLEMS_KEPT = 500
PREVIEW_ROWS = 20
# A total may differ from the recomputed one by rounding: a source that rounds each line's tax instead
# of each rate's total is a cent away per line at most.
ROUNDING_PER_LINE = Decimal("0.01")
CONFIRM = "confirm"     # a problem the user may accept (an imported total)
ERROR = "error"         # a problem that keeps the file from being imported
WARNING = "warning"     # said, imported anyway


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    row: int
    message: str
    level: str = ERROR

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "message": self.message, "level": self.level}


@dataclass(slots=True)
class ClientRecord:
    file: str
    row: int
    source_id: str
    values: dict[str, Any]


@dataclass(slots=True)
class ItemRecord:
    file: str
    row: int
    source_id: str
    values: dict[str, Any]


@dataclass(slots=True)
class LineRecord:
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    tax_refs: tuple[tuple[str, Decimal | None], ...]   # (code or name, rate or None)
    unit: str = ""
    item_code: str = ""
    taxes: tuple[str, ...] = ()                         # resolved tax codes


@dataclass(slots=True)
class DocumentRecord:
    file: str
    row: int
    doc_type: str
    source_id: str
    number: str
    status: str
    issue_date: date
    due_date: date | None
    client_source_id: str
    client_code: str
    client_name: str
    currency: str
    notes: str = ""
    terms: str = ""
    discount_percent: Decimal = Decimal(0)
    credits_number: str = ""
    subtotal: Decimal | None = None
    tax_total: Decimal | None = None
    total: Decimal | None = None
    paid: Decimal | None = None
    cancel_reason: str = ""
    lines: list[LineRecord] = field(default_factory=list)


@dataclass(slots=True)
class PaymentRecord:
    file: str
    row: int
    source_id: str
    payment_date: date
    invoice_number: str
    invoice_source_id: str
    client_source_id: str
    client_name: str
    amount: Decimal
    currency: str
    method: str
    reference: str
    note: str
    status: str
    reversal_date: date | None
    reversal_reason: str
    applied: Decimal | None = None


@dataclass
class Batch:
    """Everything one import read, before it is checked against the books."""

    clients: list[ClientRecord] = field(default_factory=list)
    items: list[ItemRecord] = field(default_factory=list)
    documents: list[DocumentRecord] = field(default_factory=list)
    payments: list[PaymentRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows_read: int = 0

    def add(self, other: Batch) -> None:
        self.clients += other.clients
        self.items += other.items
        self.documents += other.documents
        self.payments += other.payments
        self.problems += other.problems
        self.rows_read += other.rows_read


# -- cells ----------------------------------------------------------------------------------------

class RowProblems:
    """The problems of one row, each naming its column."""

    def __init__(self, file: str, row: int, mapping: Mapping[str, str], dialect: Dialect):
        self.file, self.row, self.mapping, self.dialect = file, row, mapping, dialect
        self.found: list[Problem] = []

    def add(self, message: str, level: str = ERROR) -> None:
        self.found.append(Problem(self.file, self.row, message, level))

    def column(self, name: str) -> str:
        return self.mapping.get(name, name)

    def number(self, values: Mapping[str, str], name: str) -> Decimal | None:
        try:
            return parse_number(values.get(name, ""), self.dialect.decimal)
        except CellError:
            self.add(_("%(column)s: %(value)s is not a number.", column=self.column(name), value=values.get(name)))
            return None

    def day(self, values: Mapping[str, str], name: str) -> date | None:
        try:
            return parse_day(values.get(name, ""), self.dialect.date_format)
        except CellError:
            self.add(_("%(column)s: %(value)s is not a date like %(format)s.", column=self.column(name),
                       value=values.get(name), format=self.dialect.described()["date_format"]))
            return None

    def currency(self, values: Mapping[str, str], default: str) -> str:
        code = sys.intern((values.get("currency") or "").strip().upper() or default)
        if code not in known_currencies():
            self.add(_("%(column)s: unknown currency %(code)s (use an ISO 4217 code such as EUR, USD, CAD).",
                       column=self.column("currency"), code=code))
        return code


def mapped_rows(numbered: Iterable[tuple[int, Any]], mapping: Mapping[str, str],
                header: Sequence[str] | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """Each (row number, row) by Counterfoil's field names, one at a time. Rows are lists of cells in the
    header's order, or (no header: read from JSON) dicts by column name."""
    if header is None:
        pairs = list(mapping.items())
        for number, row in numbered:
            yield number, {f: (row.get(column) or "").strip() for f, column in pairs}
        return
    index = {column: i for i, column in enumerate(header)}
    columns = [(f, index[column]) for f, column in mapping.items() if column in index]
    # A file repeats its short cells (a unit, a currency, a line's description, a tax): each distinct text
    # is kept once while the file is read, not once per row in the records (tens of MB at 300,000 lines).
    seen: dict[str, str] = {}
    keep = seen.setdefault
    for number, cells in numbered:
        yield number, {f: keep(text, text) if len(text := cells[i].strip()) <= SHARED_CELL_LENGTH else text
                       for f, i in columns}


SHARED_CELL_LENGTH = 80


def shared(value: T) -> T:
    """The first of equal immutable values (a line's tax references, its resolved tax codes), kept once."""
    return cast(T, _first_of(value))


@lru_cache(maxsize=4096)
def _first_of(value: Any) -> Any:
    return value


def _text(values: Mapping[str, str], name: str, limit: int) -> str:
    return (values.get(name) or "").strip()[:limit]


# -- rows to records --------------------------------------------------------------------------

def client_record(file: str, row: int, values: Mapping[str, str], problems: RowProblems) -> ClientRecord | None:
    name = _text(values, "name", 200)
    person = " ".join(p for p in (_text(values, "first_name", 100), _text(values, "last_name", 100)) if p)
    if not name:
        name = person
    if not name:
        problems.add(_("The client has no name."))
        return None
    currency = (values.get("currency") or "").strip().upper()
    if currency and currency not in known_currencies():
        problems.add(_("%(column)s: unknown currency %(code)s.", column=problems.column("currency"), code=currency))
    country = (values.get("country") or "").strip()
    if len(country) != 2:
        country = COUNTRY_NAMES.get(country.casefold(), "") if country else ""
    status = (values.get("status") or "active").strip().lower()
    status = "archived" if status in ("archived", "0", "inactive", "false", "no") else "active"
    out = {
        "code": _text(values, "code", 20), "name": name,
        "contact_name": _text(values, "contact_name", 200) or (person if person != name else ""),
        "email": _text(values, "email", 254), "phone": _text(values, "phone", 60),
        "address_line1": _text(values, "address_line1", 200), "address_line2": _text(values, "address_line2", 200),
        "postal_code": _text(values, "postal_code", 40), "city": _text(values, "city", 120),
        "region": _text(values, "region", 120), "country": country.upper(), "currency": currency,
        "tax_number": _text(values, "tax_number", 80), "buyer_reference": _text(values, "buyer_reference", 100),
        "language": (values.get("language") or "en").strip().lower()[:10] or "en", "status": status,
        "notes": _text(values, "notes", 5000),
    }
    if out["code"] and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}", out["code"]):
        problems.add(_("%(column)s: the code %(code)s may use letters, digits, '.', '_' and '-' only.",
                       column=problems.column("code"), code=out["code"]))
    return ClientRecord(file, row, values.get("source_id", "").strip(), out)


def item_record(file: str, row: int, values: Mapping[str, str], problems: RowProblems) -> ItemRecord | None:
    name = _text(values, "name", 200) or _text(values, "code", 200)
    if not name:
        problems.add(_("The item has no name."))
        return None
    price = problems.number(values, "unit_price") or ZERO
    if price < 0:
        problems.add(_("%(column)s: a price below zero.", column=problems.column("unit_price")))
    code = re.sub(r"[^A-Za-z0-9._-]", "-", _text(values, "code", 40)).strip("-")[:40]
    kind = (values.get("kind") or "service").strip().lower()
    taxes = tuple(values.get("taxes", "").replace(",", " ").split())
    rate = problems.number(values, "tax_rate") if values.get("tax_rate") else None
    if not taxes and ((values.get("tax_name") or "").strip() or (rate is not None and rate != 0)):
        taxes = ((values.get("tax_name") or "").strip() or f"@{rate}",)
    return ItemRecord(file, row, values.get("source_id", "").strip(), {
        "code": code, "name": name, "kind": kind if kind in ("service", "product") else "service",
        "description": _text(values, "description", 5000), "unit": _text(values, "unit", 30), "unit_price": price,
        "taxes": taxes, "category": _text(values, "category", 100)})


def _tax_refs(values: Mapping[str, str], problems: RowProblems) -> tuple[tuple[str, Decimal | None], ...]:
    refs: list[tuple[str, Decimal | None]] = [(code, None) for code in values.get("taxes", "").replace(",", " ").split()]
    for name_field, rate_field in (("tax_name", "tax_rate"), ("tax_name2", "tax_rate2")):
        name = (values.get(name_field) or "").strip()
        rate = problems.number(values, rate_field) if values.get(rate_field) else None
        if name or (rate is not None and rate != 0):
            refs.append((name, rate))
    return shared(tuple(refs))


def line_record(values: Mapping[str, str], problems: RowProblems, *, negative_allowed: bool) -> LineRecord | None:
    description = (values.get("description") or "").strip() or (values.get("item_code") or "").strip()
    if not description and not values.get("unit_price") and not values.get("quantity"):
        return None   # an invoice row without a line (the source wrote the invoice alone)
    quantity = problems.number(values, "quantity")
    price = problems.number(values, "unit_price")
    discount = problems.number(values, "line_discount_percent") or ZERO
    if quantity is None:
        quantity = Decimal(1)
    if price is None:
        price = ZERO
    if quantity < 0 and not negative_allowed:
        problems.add(_("%(column)s: a negative quantity (%(quantity)s); this program writes none, so the row is "
                       "taken for a mistake. Write a credit note instead.", column=problems.column("quantity"),
                       quantity=quantity))
    if not 0 <= discount <= 100:
        problems.add(_("%(column)s: a discount between 0 and 100 percent.",
                       column=problems.column("line_discount_percent")))
    if abs(quantity * price) >= documents_logic.MAX_LINE_AMOUNT:
        problems.add(_("The line's amount is too large."))
    return LineRecord(description=description[:5000] or "-", quantity=quantity, unit_price=price,
                      discount_percent=discount, tax_refs=_tax_refs(values, problems),
                      unit=_text(values, "unit", 30), item_code=_text(values, "item_code", 200))


def document_record(file: str, row: int, values: Mapping[str, str], problems: RowProblems, *, doc_type: str,
                    default_currency: str) -> DocumentRecord | None:
    number = _text(values, "number", 60)
    if not number:
        if (values.get("status") or "").strip().lower() == "draft":
            # A draft is not history yet: Counterfoil's own list export has them, without a number.
            problems.add(_("A draft without a number is left out: drafts are not imported."), WARNING)
            return None
        problems.add(_("The invoice has no number."))
        return None
    issue_date = problems.day(values, "issue_date")
    if issue_date is None:
        if not values.get("issue_date"):
            problems.add(_("%(number)s has no issue date.", number=number))
        return None
    due_date = problems.day(values, "due_date")
    if due_date is not None and due_date < issue_date:
        problems.add(_("%(number)s is due (%(due)s) before it was issued (%(issued)s).", number=number,
                       due=due_date.isoformat(), issued=issue_date.isoformat()))
    raw_status = (values.get("status") or "").strip().lower()
    status = formats.STATUS_WORDS.get(raw_status, "") if raw_status else "issued"
    if not status:
        problems.add(_("%(column)s: unknown status %(status)s (draft, issued, sent, paid, partial, overdue or "
                       "cancelled).", column=problems.column("status"), status=values.get("status")))
        status = "issued"
    kind = (values.get("doc_type") or doc_type).strip().lower().replace(" ", "_")
    if kind not in (documents_logic.INVOICE, documents_logic.CREDIT_NOTE):
        problems.add(_("%(column)s: %(kind)s is neither invoice nor credit_note.", column=problems.column("doc_type"),
                       kind=kind))
        kind = documents_logic.INVOICE
    client_name = _text(values, "client_name", 200)
    client_source_id = (values.get("client_source_id") or "").strip()
    client_code = _text(values, "client_code", 20)
    if not (client_name or client_source_id or client_code):
        problems.add(_("%(number)s names no client.", number=number))
    return DocumentRecord(
        file=file, row=row, doc_type=kind, source_id=(values.get("source_id") or "").strip(), number=number,
        status=status, issue_date=issue_date, due_date=due_date, client_source_id=client_source_id,
        client_code=client_code, client_name=client_name, currency=problems.currency(values, default_currency),
        notes=_text(values, "notes", 5000), terms=_text(values, "terms", 5000),
        discount_percent=problems.number(values, "discount_percent") or ZERO,
        credits_number=_text(values, "credits_number", 60), subtotal=problems.number(values, "subtotal"),
        tax_total=problems.number(values, "tax_total"), total=problems.number(values, "total"),
        paid=problems.number(values, "paid"), cancel_reason=_text(values, "cancel_reason", 500))


def payment_record(file: str, row: int, values: Mapping[str, str], problems: RowProblems, *,
                   default_currency: str) -> PaymentRecord | None:
    payment_date = problems.day(values, "payment_date")
    amount = problems.number(values, "amount")
    if payment_date is None or amount is None:
        if not values.get("payment_date"):
            problems.add(_("The payment has no date."))
        if not values.get("amount"):
            problems.add(_("The payment has no amount."))
        return None
    if amount <= 0:
        problems.add(_("%(column)s: a payment above zero (a refund is not imported as a payment).",
                       column=problems.column("amount")))
    method_text = (values.get("method") or "").strip().lower()
    method = formats.PAYMENT_METHODS.get(method_text, "other" if method_text else "bank_transfer")
    status = "reversed" if (values.get("status") or "").strip().lower() in ("reversed", "refunded", "voided",
                                                                           "void", "failed") else "live"
    reversal_date = problems.day(values, "reversal_date") if status == "reversed" else None
    return PaymentRecord(
        file=file, row=row, source_id=(values.get("source_id") or "").strip(), payment_date=payment_date,
        invoice_number=_text(values, "invoice_number", 60), invoice_source_id=(values.get("invoice_source_id") or "").strip(),
        client_source_id=(values.get("client_source_id") or "").strip(), client_name=_text(values, "client_name", 200),
        amount=amount, currency=problems.currency(values, default_currency) if values.get("currency") else "",
        method=method, reference=_text(values, "reference", 200), note=_text(values, "note", 5000), status=status,
        reversal_date=reversal_date or (payment_date if status == "reversed" else None),
        reversal_reason=_text(values, "reversal_reason", 500) or ("Reversed in the program it came from"
                                                                  if status == "reversed" else ""),
        applied=problems.number(values, "applied") if values.get("applied") else None)


# -- a whole file ------------------------------------------------------------------------------

def read_records(kind: str, file: str, numbered: Iterable[tuple[int, Any]], mapping: Mapping[str, str],
                 dialect: Dialect, *, default_currency: str, source: str, header: Sequence[str] | None = None
                 ) -> Batch:
    """One file's (row number, row) pairs as records, read as they come (a large file is never held
    whole); invoices with their lines grouped by number."""
    batch = Batch()
    negative_allowed = source in ("csv", "counterfoil")
    by_number: dict[tuple[str, str], DocumentRecord] = {}
    for row, values in mapped_rows(numbered, mapping, header):
        batch.rows_read += 1
        problems = RowProblems(file, row, mapping, dialect)
        if kind == formats.CLIENTS:
            client = client_record(file, row, values, problems)
            if client is not None:
                batch.clients.append(client)
        elif kind == formats.ITEMS:
            item = item_record(file, row, values, problems)
            if item is not None:
                batch.items.append(item)
        elif kind in (formats.INVOICES, formats.CREDIT_NOTES):
            doc_type = documents_logic.CREDIT_NOTE if kind == formats.CREDIT_NOTES else documents_logic.INVOICE
            number = _text(values, "number", 60)
            key = ((values.get("doc_type") or doc_type).strip().lower(), number)
            document = by_number.get(key) if number else None
            if document is None:
                document = document_record(file, row, values, problems, doc_type=doc_type,
                                           default_currency=default_currency)
                if document is not None:
                    by_number[key] = document
                    batch.documents.append(document)
            if document is not None and kind == formats.INVOICES:
                line = line_record(values, problems, negative_allowed=negative_allowed or
                                   document.doc_type == documents_logic.CREDIT_NOTE)
                if line is not None:
                    document.lines.append(line)
        elif kind == formats.PAYMENTS:
            payment = payment_record(file, row, values, problems, default_currency=default_currency)
            if payment is not None:
                batch.payments.append(payment)
        batch.problems += problems.found
    return batch


def attach_lines(documents: Sequence[DocumentRecord], file: str, numbered: Iterable[tuple[int, Any]],
                 mapping: Mapping[str, str], dialect: Dialect, *, source: str,
                 header: Sequence[str] | None = None) -> list[Problem]:
    """A lines file (Counterfoil's invoice_lines.csv, InvoicePlane's invoice_items.csv): each line joins its
    invoice by the invoice's id in the source, else by its number, in the order of its position."""
    by_id = {d.source_id: d for d in documents if d.source_id and d.doc_type == documents_logic.INVOICE}
    by_number = {d.number: d for d in documents if d.doc_type == documents_logic.INVOICE}
    found: list[Problem] = []
    positioned: dict[int, list[tuple[int, LineRecord]]] = {}
    for row, values in mapped_rows(numbered, mapping, header):
        problems = RowProblems(file, row, mapping, dialect)
        document = by_id.get(values.get("document_source_id", "")) or by_number.get(values.get("number", ""))
        if document is None:
            problems.add(_("The line belongs to invoice %(number)s, which is not in the invoices file.",
                           number=values.get("number") or values.get("document_source_id")))
        else:
            line = line_record(values, problems, negative_allowed=source in ("csv", "counterfoil"))
            if line is not None:
                try:
                    position = int(values.get("position") or 0)
                except ValueError:
                    position = 0
                positioned.setdefault(id(document), []).append((position, line))
                if len(positioned[id(document)]) == 1:
                    document.lines.clear()
        found += problems.found
    for document in documents:
        lines = positioned.get(id(document))
        if lines:
            document.lines[:] = [line for _position, line in sorted(lines, key=lambda pair: pair[0])]
    return found


def ninja_json_rows(kind: str, records: Sequence[Mapping[str, Any]], clients: Mapping[str, Mapping[str, Any]],
                    invoices: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    """Invoice Ninja's JSON export as rows by Counterfoil's field names (one row per invoice line)."""
    def text(value: Any) -> str:
        return "" if value is None else str(value)
    rows: list[dict[str, str]] = []
    for record in records:
        if kind == formats.CLIENTS:
            contact = (record.get("contacts") or [{}])[0] or {}
            settings = record.get("settings") or {}
            rows.append({
                "source_id": text(record.get("id")), "code": text(record.get("number")), "name": text(record.get("name")),
                "first_name": text(contact.get("first_name")), "last_name": text(contact.get("last_name")),
                "email": text(contact.get("email")), "phone": text(record.get("phone") or contact.get("phone")),
                "address_line1": text(record.get("address1")), "address_line2": text(record.get("address2")),
                "city": text(record.get("city")), "region": text(record.get("state")),
                "postal_code": text(record.get("postal_code")), "tax_number": text(record.get("vat_number")),
                "currency": formats.NINJA_CURRENCIES.get(text(settings.get("currency_id")),
                                                         text(record.get("currency_code"))),
                "notes": text(record.get("public_notes")), "status": "archived" if record.get("archived_at") else "active"})
        elif kind == formats.ITEMS:
            rows.append({"source_id": text(record.get("id")), "code": text(record.get("product_key")),
                         "name": text(record.get("product_key")), "description": text(record.get("notes")),
                         "unit_price": text(record.get("price")), "tax_name": text(record.get("tax_name1")),
                         "tax_rate": text(record.get("tax_rate1"))})
        elif kind in (formats.INVOICES, formats.CREDIT_NOTES):
            client = clients.get(text(record.get("client_id")), {})
            settings = client.get("settings") or {}
            base = {"doc_type": "credit_note" if kind == formats.CREDIT_NOTES else "invoice",
                    "source_id": text(record.get("id")), "number": text(record.get("number")),
                    "status": text(record.get("status_id")), "issue_date": text(record.get("date")),
                    "due_date": text(record.get("due_date")), "client_source_id": text(record.get("client_id")),
                    "client_name": text(client.get("name")),
                    "currency": formats.NINJA_CURRENCIES.get(text(settings.get("currency_id")), ""),
                    "notes": text(record.get("public_notes")), "terms": text(record.get("terms")),
                    "total": text(record.get("amount")), "paid": text(record.get("paid_to_date"))}
            items = record.get("line_items") or []
            for item in items or [{}]:
                rows.append({**base, "item_code": text(item.get("product_key")), "description": text(item.get("notes")),
                             "quantity": text(item.get("quantity")), "unit_price": text(item.get("cost")),
                             "line_discount_percent": "" if record.get("is_amount_discount") else text(item.get("discount")),
                             "tax_name": text(item.get("tax_name1")), "tax_rate": text(item.get("tax_rate1")),
                             "tax_name2": text(item.get("tax_name2")), "tax_rate2": text(item.get("tax_rate2"))})
        elif kind == formats.PAYMENTS:
            links = record.get("paymentables") or record.get("invoices") or [{}]
            invoice = invoices.get(text((links[0] or {}).get("invoice_id")), {})
            rows.append({"source_id": text(record.get("number") or record.get("id")),
                         "payment_date": text(record.get("date")), "amount": text(record.get("amount")),
                         "client_source_id": text(record.get("client_id")), "invoice_number": text(invoice.get("number")),
                         "reference": text(record.get("transaction_reference")),
                         "note": text(record.get("private_notes")),
                         "status": "reversed" if text(record.get("status_id")) in ("5", "6") else ""})
    return rows


# -- checked against the books --------------------------------------------------------------

def resolve_tax(ref: tuple[str, Decimal | None], rates: Mapping[str, TaxRate]) -> str | None:
    """A tax the source names (its code, its name, or only a rate) as one of Counterfoil's tax codes."""
    name, rate = ref
    if name and not name.startswith("@"):
        if name.upper() in rates and (rate is None or rates[name.upper()].rate == rate):
            return name.upper()
        named = [code for code, tax in rates.items() if tax.name.casefold() == name.casefold()
                 and (rate is None or tax.rate == rate)]
        if len(named) == 1:
            return named[0]
    if name.startswith("@"):
        try:
            rate = Decimal(name[1:])
        except ArithmeticError:
            return None
    if rate is not None:
        by_rate = [code for code, tax in rates.items() if tax.rate == rate and not tax.compound]
        if len(by_rate) == 1:
            return by_rate[0]
    return None


def tax_label(ref: tuple[str, Decimal | None]) -> str:
    name, rate = ref
    return " ".join(part for part in (name, f"{rate}%" if rate is not None else "") if part)


@dataclass(frozen=True, slots=True)
class Recomputed:
    totals: documents_logic.Totals
    differs: bool


def recompute(document: DocumentRecord, rates: Mapping[str, TaxRate]) -> Recomputed:
    """The document's totals from its lines; `differs` when the source's total is further than rounding."""
    lines = [documents_logic.Line(line.description, line.quantity, line.unit_price, line.discount_percent,
                                  line.taxes, line.unit) for line in document.lines]
    totals = documents_logic.compute_totals(lines, rates, document.currency, document.discount_percent)
    if document.total is None:
        return Recomputed(totals, False)
    tolerance = ROUNDING_PER_LINE * max(1, len(lines))
    source_total = abs(document.total) if document.doc_type == documents_logic.CREDIT_NOTE else document.total
    return Recomputed(totals, abs(round_money(source_total, document.currency) - totals.total) > tolerance)


def pattern_regex(pattern: str, year: int) -> re.Pattern[str]:
    """A number pattern (INV-{year}-{seq:04}) as a regex that reads the running number of `year`."""
    out = []
    for literal, name, _spec, _conversion in string.Formatter().parse(pattern):
        out.append(re.escape(literal))
        if name == "year":
            out.append(str(year))
        elif name == "yy":
            out.append(f"{year % 100:02d}")
        elif name == "month":
            out.append(r"\d{1,2}")
        elif name == "seq":
            out.append(r"(?P<seq>\d+)")
    return re.compile("".join(out))


def series_after_import(pattern: str, year: int, numbers: Iterable[str], current: Mapping[str, int] | None
                        ) -> dict[str, int]:
    """The number series of a (type, year) once `numbers` are imported into it: the next own number comes
    after the highest imported one written in the same pattern (a number in another pattern takes none of
    the own series), and the series counts every numbered document of the year (`counterfoil check`)."""
    regex = pattern_regex(pattern, year)
    imported = 0
    highest = 0
    for number in numbers:
        imported += 1
        match = regex.fullmatch(number)
        if match:
            highest = max(highest, int(match.group("seq")))
    next_seq = (current or {}).get("next_seq", 1)
    start_seq = (current or {}).get("start_seq", 1)
    issued_before = next_seq - start_seq
    new_next = max(next_seq, highest + 1)
    return {"next_seq": new_next, "start_seq": new_next - issued_before - imported}


def money_text(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return ""
    try:
        return str(amount.quantize(quantum(currency)))
    except (ArithmeticError, KeyError):
        return str(amount)


COUNTRY_NAMES = {
    "united states": "US", "united states of america": "US", "usa": "US", "canada": "CA", "germany": "DE",
    "deutschland": "DE", "france": "FR", "united kingdom": "GB", "uk": "GB", "great britain": "GB", "austria": "AT",
    "österreich": "AT", "switzerland": "CH", "schweiz": "CH", "suisse": "CH", "netherlands": "NL", "belgium": "BE",
    "belgique": "BE", "spain": "ES", "españa": "ES", "italy": "IT", "italia": "IT", "ireland": "IE",
    "australia": "AU", "new zealand": "NZ", "sweden": "SE", "denmark": "DK", "norway": "NO", "poland": "PL",
    "portugal": "PT", "luxembourg": "LU", "finland": "FI", "japan": "JP", "india": "IN", "mexico": "MX",
}
