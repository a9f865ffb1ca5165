"""Documents: totals, taxes, numbering and the life of quotes, invoices and credit notes.

Everything here is pure. The rules (DESIGN.md, "Money and numbers"):
- line net = quantity x unit price, less the line discount and the document
  discount, rounded half-up to the currency's minor unit;
- each tax once per document on the sum of the nets it applies to (EN 16931
  BR-CO-17), rounded; compound taxes after, on the nets plus the non-compound
  taxes of the same lines;
- total = sum of nets + sum of taxes; balance = total - paid - credited.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.common.i18n import N_, _
from app.common.logic import (
    MAX_ID,
    MAX_INTEGER_DIGITS,
    Conflict,
    FieldError,
    Form,
    ValidationFailed,
    control_problem,
    decimal_size_problem,
    fold_text,
    identifier_problem,
    line_problem,
    normalized_text,
    parse_day,
    read_number,
)
from app.common.numbers import as_typed
from app.money import MoneyError, check_active_currency, round_money
from app.taxes import logic as taxes_logic
from app.taxes.logic import TaxRate, tax_registration

QUOTE, INVOICE, CREDIT_NOTE = "quote", "invoice", "credit_note"
TYPES = (QUOTE, INVOICE, CREDIT_NOTE)
TYPE_LABELS = {QUOTE: N_("Quote"), INVOICE: N_("Invoice"), CREDIT_NOTE: N_("Credit note")}
TYPE_PATHS = {QUOTE: "quotes", INVOICE: "invoices", CREDIT_NOTE: "credit-notes"}
INVOICE_STATUSES = ("draft", "issued", "sent", "partial", "paid", "overdue", "cancelled")
QUOTE_STATUSES = ("draft", "issued", "accepted", "declined", "expired", "converted")
CREDIT_NOTE_STATUSES = ("draft", "issued")
STATUSES = {INVOICE: INVOICE_STATUSES, QUOTE: QUOTE_STATUSES, CREDIT_NOTE: CREDIT_NOTE_STATUSES}
# What a user reads for each status (and the invoices' "open" filter).
STATUS_LABELS = {
    "draft": N_("Draft"), "issued": N_("Issued"), "sent": N_("Sent"), "partial": N_("Partly paid or credited"),
    "paid": N_("Paid"), "overdue": N_("Overdue"), "cancelled": N_("Cancelled"), "accepted": N_("Accepted"),
    "declined": N_("Declined"), "expired": N_("Expired"), "converted": N_("Converted"), "open": N_("Open (unpaid)"),
}
DEFAULT_PATTERNS = {INVOICE: "INV-{year}-{seq:04}", QUOTE: "QUO-{year}-{seq:04}", CREDIT_NOTE: "CN-{year}-{seq:04}"}
# Settings keeps each type's pattern in its row under this name; documents alone knows what a valid one is.
PATTERN_FIELDS = {doc_type: f"{doc_type}_number_pattern" for doc_type in DEFAULT_PATTERNS}
HUNDRED = Decimal(100)
MAX_LINES = 500
QUANTITY_PLACES = 4
PRICE_PLACES = 4
MAX_LINE_AMOUNT = Decimal("1e12")
MAX_LINE_NAME = 200  # document_line.name


# -- totals -------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = Decimal(0)
    tax_codes: tuple[str, ...] = ()
    unit: str = ""
    item_id: int | None = None


@dataclass(frozen=True)
class TaxAmount:
    code: str
    name: str
    rate: Decimal
    base: Decimal
    amount: Decimal
    compound: bool = False
    category: str = "S"
    note: str = ""
    # The tax's name and note in other languages when the document was made ({language: text}; app.taxes).
    names: Mapping[str, str] = field(default_factory=dict, compare=False)
    notes: Mapping[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Totals:
    currency: str
    nets: tuple[Decimal, ...]
    subtotal: Decimal
    taxes: tuple[TaxAmount, ...]
    tax_total: Decimal
    total: Decimal


def line_net(line: Line, currency: str, document_discount: Decimal = Decimal(0)) -> Decimal:
    gross = line.quantity * line.unit_price
    kept = (HUNDRED - line.discount_percent) / HUNDRED * (HUNDRED - document_discount) / HUNDRED
    return round_money(gross * kept, currency)


def compute_totals(lines: Sequence[Line], rates: Mapping[str, TaxRate], currency: str,
                   document_discount: Decimal = Decimal(0)) -> Totals:
    nets = tuple(line_net(line, currency, document_discount) for line in lines)
    zero = round_money(Decimal(0), currency)  # sums keep the currency's decimals even when empty ("0.00")
    subtotal = sum(nets, zero)
    simple_codes = sorted({c for line in lines for c in line.tax_codes if not rates[c].compound})
    compound_codes = sorted({c for line in lines for c in line.tax_codes if rates[c].compound})
    amounts: list[TaxAmount] = []
    for code in simple_codes:
        rate = rates[code]
        base = sum((net for line, net in zip(lines, nets, strict=False) if code in line.tax_codes), Decimal(0))
        amounts.append(_tax(rate, base, currency))
    for code in compound_codes:
        rate = rates[code]
        carrying = [(line, net) for line, net in zip(lines, nets, strict=False) if code in line.tax_codes]
        base = sum((net for _, net in carrying), Decimal(0))
        # Tax on tax: the non-compound taxes of the same lines, each computed once on their shared base.
        for simple in simple_codes:
            shared = sum((net for line, net in carrying if simple in line.tax_codes), Decimal(0))
            base += round_money(shared * rates[simple].rate / HUNDRED, currency)
        amounts.append(_tax(rate, base, currency))
    tax_total = sum((a.amount for a in amounts), zero)
    return Totals(currency=currency, nets=nets, subtotal=subtotal, taxes=tuple(amounts), tax_total=tax_total,
                  total=subtotal + tax_total)


def _tax(rate: TaxRate, base: Decimal, currency: str) -> TaxAmount:
    return TaxAmount(code=rate.code, name=rate.name, rate=rate.rate, base=base,
                     amount=round_money(base * rate.rate / HUNDRED, currency), compound=rate.compound,
                     category=rate.category, note=rate.note, names=rate.names, notes=rate.notes)


def balance(total: Decimal, paid: Decimal, credited: Decimal) -> Decimal:
    return total - paid - credited


# -- statuses -----------------------------------------------------------------

# The stored statuses of an invoice that can be owed; any other (draft, cancelled) is shown as it is.
LIVE_INVOICE_STATUSES = ("issued", "sent")
# Not a status: the invoices' list filter for every invoice with money owed, whatever it shows.
OPEN_FILTER = "open"
OWED_STATUSES = ("issued", "sent", "partial", "overdue")   # the statuses of an invoice with money owed on it
# What a list's footer sums, by stored status: documents that count as billed or offered (an issued,
# unpaid or paid invoice, an issued credit note, an issued or accepted quote). Drafts and cancelled
# invoices are counted in the list but never summed (issue 15, "the pages tell the truth").
SUMMED_STATUSES = {INVOICE: LIVE_INVOICE_STATUSES, CREDIT_NOTE: ("issued",), QUOTE: ("issued", "accepted")}


def summed_in_footer(doc_type: str, stored: str) -> bool:
    """Whether a list's per-currency footer adds this document's money in."""
    return stored in SUMMED_STATUSES[doc_type]


def invoice_status(stored: str, *, total: Decimal, paid: Decimal, credited: Decimal, due_date: date | None,
                   today: date) -> str:
    """The status a user sees: stored life (draft, issued, sent, cancelled) plus what the money says.

    invoice_status_sql states the same rule for SQLite; change both together."""
    if stored not in LIVE_INVOICE_STATUSES:
        return stored
    open_amount = balance(total, paid, credited)
    if open_amount <= 0:
        return "paid"
    if due_date is not None and due_date < today:
        return "overdue"
    if paid > 0 or credited > 0:
        return "partial"
    return stored


# How an invoice's money was settled, apart from its status: a credit note is not a payment, and an
# invoice reduced by one reads "credited" or "partly credited", never "partly paid". The API keeps its
# status values (partial, paid) and carries this as its own field, `settlement`.
SETTLEMENTS = ("none", "partly_paid", "paid", "partly_credited", "credited", "partly_paid_and_credited",
               "paid_and_credited")
SETTLEMENT_LABELS = {
    "partly_paid": N_("Partly paid"), "paid": N_("Paid"), "partly_credited": N_("Partly credited"),
    "credited": N_("Credited"), "partly_paid_and_credited": N_("Partly paid and credited"),
    "paid_and_credited": N_("Paid and credited"),
}


def settlement(total: Decimal, paid: Decimal, credited: Decimal) -> str:
    """What settled an invoice so far: payments, credit notes, both, or nothing; in full or in part."""
    if paid <= 0 and credited <= 0:
        return "none"
    in_full = balance(total, paid, credited) <= 0
    if credited <= 0:
        return "paid" if in_full else "partly_paid"
    if paid <= 0:
        return "credited" if in_full else "partly_credited"
    return "paid_and_credited" if in_full else "partly_paid_and_credited"


def status_label_key(doc_type: str, shown: str, settled: str) -> str:
    """The untranslated label of a document's shown status: an invoice shown "partial" or "paid" says
    by what (payments, credit notes or both); any other status reads as STATUS_LABELS says."""
    if doc_type == INVOICE and shown in ("partial", "paid") and settled in SETTLEMENT_LABELS:
        return SETTLEMENT_LABELS[settled]
    return STATUS_LABELS.get(shown, shown)


def status_css(doc_type: str, shown: str, settled: str) -> str:
    """The status badge's colour class: a credited invoice is not coloured as a paid one."""
    if doc_type == INVOICE and shown in ("partial", "paid") and settled in ("credited", "partly_credited"):
        return "status-credited"
    return f"status-{shown}"


# -- the same rules in SQL ------------------------------------------------------
# The invoice list filters, the statistics and the receivables (open invoices, aging) ask SQLite
# what invoice_status and balance say in Python. Their SQL is built here, next to the Python, so
# the two cannot drift apart; tests/unit/test_invoice_status_sql.py runs both on random invoices.

@dataclass(frozen=True)
class InvoiceColumns:
    """Where a query finds an invoice's fields: column names, table-qualified names or any SQL expressions."""

    status: str = "status"
    total: str = "total_minor"
    paid: str = "paid_minor"
    credited: str = "credited_minor"
    due_date: str = "due_date"

    @classmethod
    def of(cls, table: str) -> InvoiceColumns:
        """The columns qualified by a table name or alias (`document.status`), for queries that join."""
        plain = cls()
        return cls(status=f"{table}.{plain.status}", total=f"{table}.{plain.total}", paid=f"{table}.{plain.paid}",
                   credited=f"{table}.{plain.credited}", due_date=f"{table}.{plain.due_date}")


def sql_date(day: date) -> str:
    """A day as an SQL literal, '2026-03-31': ISO text, as dates are stored. Only a `date` is accepted, so
    nothing but digits and dashes ever reaches the SQL."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise TypeError(f"a date is needed, not {day!r}")
    return f"'{day.isoformat()}'"


def open_amount_sql(columns: InvoiceColumns = InvoiceColumns()) -> str:
    """balance() in SQL: what is still owed on an invoice, total less paid less credited."""
    return f"({columns.total} - {columns.paid} - {columns.credited})"


def live_invoice_sql(columns: InvoiceColumns = InvoiceColumns()) -> str:
    """An invoice whose stored status is live (issued or sent): one that counts as billed and may be owed."""
    return f"{columns.status} IN (" + ", ".join(f"'{status}'" for status in LIVE_INVOICE_STATUSES) + ")"


def owed_invoice_sql(columns: InvoiceColumns = InvoiceColumns()) -> str:
    """An invoice with money owed on it: live and its open amount above zero (the "open" filter, the aging).

    Written as the partial index document_open_invoice is (app/documents/tables.py), so a query with
    this condition can use it."""
    return f"({live_invoice_sql(columns)} AND {open_amount_sql(columns)} > 0)"


def invoice_status_sql(status: str, today: date, columns: InvoiceColumns = InvoiceColumns()) -> str:
    """The SQL condition that holds exactly when invoice_status(...) returns `status` on `today`;
    OPEN_FILTER ("open") holds when it returns any of OWED_STATUSES. In parentheses, so it combines
    with anything."""
    if status not in (*INVOICE_STATUSES, OPEN_FILTER):
        raise ValueError(f"unknown invoice status {status!r}")
    c = columns
    owed = owed_invoice_sql(c)
    late = f"{c.due_date} < {sql_date(today)}"
    not_late = f"({c.due_date} IS NULL OR {c.due_date} >= {sql_date(today)})"
    untouched = f"{c.paid} <= 0 AND {c.credited} <= 0"
    conditions = {
        OPEN_FILTER: owed,
        "paid": f"{live_invoice_sql(c)} AND {open_amount_sql(c)} <= 0",
        "overdue": f"{owed} AND {late}",
        "partial": f"{owed} AND {not_late} AND NOT ({untouched})",
        **{stored: f"{c.status} = '{stored}' AND {open_amount_sql(c)} > 0 AND {not_late} AND {untouched}"
           for stored in LIVE_INVOICE_STATUSES},
    }
    as_stored = f"{c.status} = '{status}'"   # any other status (draft, cancelled) is shown as it is stored
    return f"({conditions.get(status, as_stored)})"


# How a list query finds its rows at 100,000 documents (issue 21): SQLite has no statistics of the
# data, so without help it walks the date index for every filter, which reads the whole table to
# fill page 20 of a client's ten invoices or of the drafts. The list says which index leads:
LEAD_CLIENT = "client"   # a client's documents: a few rows by the client index, then sorted
LEAD_OPEN = "open"       # an invoice status that implies money owed: the partial index of open invoices
LEAD_STATUS = "status"   # a stored status (drafts, cancelled, a quote's decision): the status index, sorted
LEAD_ORDER = "order"     # everything else (no filter, paid, a period): the index of the order asked for
# The invoice filters whose rows all have money owed: a subset of the open invoices.
OWED_FILTERS = (OPEN_FILTER, "overdue", "partial", *LIVE_INVOICE_STATUSES)


def list_lead(doc_type: str, status: str, *, client: bool) -> str:
    """Which index leads a list query (LEAD_*): the most selective filter that an index answers."""
    if client:
        return LEAD_CLIENT
    if doc_type == INVOICE and status in OWED_FILTERS:
        return LEAD_OPEN
    if status and not (doc_type == INVOICE and status == "paid"):
        return LEAD_STATUS
    return LEAD_ORDER


def open_invoice_ids_sql() -> str:
    """`document.id` among the open invoices, read through their partial index (app/documents/tables.py,
    document_open_invoice): its condition written out as the index declares it, with literals, so
    SQLite may use it."""
    return ("document.id IN (SELECT id FROM document INDEXED BY document_open_invoice WHERE "
            f"doc_type = '{INVOICE}' AND {owed_invoice_sql()})")


def open_invoice_terms_sql() -> str:
    """The open invoices as a list query's own terms: the condition of their partial index
    (document_open_invoice) written out as the index declares it, with literals, so that a query
    `FROM document INDEXED BY document_open_invoice` may read that index alone (it carries every column
    the lists read: their filters, sums and sorts)."""
    return f"(document.doc_type = '{INVOICE}' AND {owed_invoice_sql(InvoiceColumns.of('document'))})"


OPEN_INVOICES_SOURCE = "document INDEXED BY document_open_invoice"

def paid_invoice_sql() -> str:
    """invoice_status_sql("paid") for a list that walks an index of its order: a live invoice that is not
    among the open ones (their partial index names them), so that the walk reads the stored status from
    the index it walks and never a document's row. "+": the status index must not lead."""
    live = ", ".join(f"'{status}'" for status in LIVE_INVOICE_STATUSES)
    return (f"(+document.status IN ({live}) AND document.id NOT IN (SELECT id FROM document INDEXED BY "
            f"document_open_invoice WHERE doc_type = '{INVOICE}' AND {owed_invoice_sql()}))")

def paid_invoice_money_sql() -> str:
    """invoice_status_sql("paid") for a read of the narrow money index (a broad search's sums), which carries the
    money: written out, instead of paid_invoice_sql's lookup among the open invoices for each row. "+": the
    status index must not lead."""
    live = ", ".join(f"'{status}'" for status in LIVE_INVOICE_STATUSES)
    return f"(+document.status IN ({live}) AND {open_amount_sql(InvoiceColumns.of('document'))} <= 0)"


# A list whose rows are more than this walks its sort's index (each carries the issue date, so a period
# is checked in the index); fewer are found through the filter's index and sorted.
MANY_ROWS = 5000
# A period's rows are read from the date index (which carries every sort's column) and sorted when they
# are at most this many: sorting 30,000 index entries costs about what walking 30,000 entries of another
# sort's index does, and a page in the middle of a period walks its way through half of every document.
# Sorted by client name, each row's client is looked up too: those keep MANY_ROWS.
PERIOD_SORTED_ROWS = 30000


def sort_walks_index(lead: str, sort: str, *, period: bool, rows: int | None = None) -> bool:
    """Whether a list's page is read by walking the index of its order: the whole list in any order, a
    period in date order or when it holds many rows (or an unknown number: a broad search's page, whose
    count is left out). Otherwise the leading filter's rows are sorted."""
    if lead == LEAD_ORDER:
        return (not period or sort == "date" or rows is None
                or rows > (MANY_ROWS if sort == "client" else PERIOD_SORTED_ROWS))
    return False


# -- the running sums (document_tally) -------------------------------------------------------------
# A list's count and footer over many documents add up the rows of document_tally (app/documents/
# tables.py), kept per (type, stored status, settled, currency, base currency, month of issue). They
# answer a filter that does not depend on today's date: every document, a stored status, the paid or
# the open invoices; and whole months of a period (the days before and after are read from the
# documents). Overdue, partial, an untouched issued invoice and a quote's expiry depend on the day.

def tally_condition(doc_type: str, status: str) -> str | None:
    """The condition on document_tally's columns that selects exactly the documents of `doc_type` a list's
    status filter keeps, or None when the running sums cannot tell (the filter depends on today)."""
    kind = f"doc_type = '{doc_type}'"
    live = f"status IN ({', '.join(repr(s) for s in LIVE_INVOICE_STATUSES)})"
    if not status:
        return kind
    if doc_type == INVOICE:
        if status == "paid":
            return f"{kind} AND {live} AND settled = 1"
        if status == OPEN_FILTER:
            return f"{kind} AND {live} AND settled = 0"
        if status in OWED_STATUSES:
            return None
    elif doc_type == QUOTE and status in ("issued", "expired"):
        return None
    if status not in STATUSES[doc_type]:
        raise ValueError(f"unknown {doc_type} status {status!r}")
    return f"{kind} AND status = '{status}'"


@dataclass(frozen=True)
class PeriodSplit:
    """A period cut into whole months (first_month..last_month as YYYY-MM, either end open when the period
    is; `months` False when no whole month is inside) and the days outside them (`edges`, inclusive)."""

    months: bool
    first_month: str | None
    last_month: str | None
    edges: tuple[tuple[date, date], ...]


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _month_end(day: date) -> date:
    if day.month == 12:
        return day.replace(day=31)
    return date(day.year, day.month + 1, 1) - timedelta(days=1)


def split_period(date_from: date | None, date_to: date | None) -> PeriodSplit:
    """Whole months and leftover days of [date_from, date_to] (either None: open on that side)."""
    if date_from is not None and date_to is not None and date_to < date_from:
        return PeriodSplit(False, None, None, ())
    edges: list[tuple[date, date]] = []
    first = last = None
    if date_from is not None:
        if date_from.day == 1:
            first = date_from
        else:
            edges.append((date_from, min(_month_end(date_from), date_to or date.max)))
            if _month_end(date_from) == date.max:
                return PeriodSplit(False, None, None, tuple(edges))
            first = _month_end(date_from) + timedelta(days=1)
    if date_to is not None:
        if date_to == _month_end(date_to):
            last = date_to
        else:
            if date_to.replace(day=1) == date.min:
                return PeriodSplit(False, None, None, ((date_from or date.min, date_to),))
            last = date_to.replace(day=1) - timedelta(days=1)
            start = max(date_to.replace(day=1), date_from or date.min)
            if not edges or edges[0] != (start, date_to):
                edges.append((start, date_to))
    if first is not None and last is not None and last < first:
        return PeriodSplit(False, None, None, tuple(edges))
    return PeriodSplit(True, None if first is None else _month(first), None if last is None else _month(last),
                       tuple(edges))

def quote_status(stored: str, *, valid_until: date | None, today: date) -> str:
    if stored == "issued" and valid_until is not None and valid_until < today:
        return "expired"
    return stored


def shown_status(doc_type: str, stored: str, *, total: Decimal = Decimal(0), paid: Decimal = Decimal(0),
                 credited: Decimal = Decimal(0), due_date: date | None = None, valid_until: date | None = None,
                 today: date) -> str:
    if doc_type == INVOICE:
        return invoice_status(stored, total=total, paid=paid, credited=credited, due_date=due_date, today=today)
    if doc_type == QUOTE:
        return quote_status(stored, valid_until=valid_until, today=today)
    return stored


def sending_makes_it_sent(doc_type: str, stored: str) -> bool:
    """Whether sending a document, by hand or by email, moves its status to "sent": an invoice still "issued"."""
    return doc_type == INVOICE and stored == "issued"


# What each action needs; the message says what to do instead (HTTP 409).
def check_editable(doc_type: str, stored: str) -> None:
    if stored != "draft":
        label = TYPE_LABELS[doc_type].lower()
        if doc_type == INVOICE:
            raise Conflict(_("This %(label)s is issued and cannot be changed or deleted; correct it with a credit note, or cancel it.", label=label))
        raise Conflict(_("This %(label)s is issued and cannot be changed or deleted; duplicate it into a new draft.", label=label))


def check_can_issue(doc_type: str, stored: str, line_count: int, client_status: str) -> None:
    if stored != "draft":
        raise Conflict(_("This %(lower)s is already issued.", lower=TYPE_LABELS[doc_type].lower()))
    if line_count == 0:
        raise Conflict(_("Add at least one line before issuing."))
    if client_status == "archived":
        raise Conflict(_("The client is archived; restore the client before issuing."))


def check_invoice_total(doc_type: str, total: Decimal) -> None:
    """An issued invoice debits its total to the client's account: never below zero (the database
    refuses it too). A draft may be below zero while a deducted deposit outweighs the rest."""
    if doc_type == INVOICE and total < 0:
        raise Conflict(_("The invoice totals %(total)s: an invoice cannot be below zero. Lower the deduction, or issue a credit note instead.", total=total))


# -- e-invoice rules checked before issuing ---------------------------------------------

REVERSE_CHARGE = "AE"  # EN 16931 VAT category of a reverse-charge tax
CLIENT_VAT_MISSING = "Reverse charge needs the client's VAT number; add it on the client."
SELLER_VAT_MISSING = "Reverse charge needs your own VAT number; add it in Settings (Tax number)."
NOT_A_VAT_IDENTIFIER = ("Reverse charge needs the {whose} VAT number with its country prefix (like DE123456789); "
                        "\u201c{number}\u201d is not one. Correct it {where}.")
REVERSE_CHARGE_REFUSED = ("Not issued: this document uses reverse charge (VAT category AE), and its Factur-X "
                          "e-invoice must name both VAT numbers (EN 16931 BR-AE-02, BR-AE-03).")


def reverse_charge_problems(categories: Iterable[str], *, seller_tax_number: str | None,
                            buyer_tax_number: str | None) -> list[FieldError]:
    """EN 16931 BR-AE-02/03/04: a document with a reverse-charge (AE) tax carries the seller's VAT
    identifier and the buyer's. Empty when there is no reverse charge or both numbers are there.

    `buyer_tax_number` None means no client is chosen yet (nothing to say about the client).
    """
    if REVERSE_CHARGE not in set(categories):
        return []
    problems = []
    if buyer_tax_number is not None:
        if not buyer_tax_number.strip():
            problems.append(FieldError("client.tax_number", CLIENT_VAT_MISSING))
        elif not is_vat_identifier(buyer_tax_number):
            problems.append(FieldError("client.tax_number", NOT_A_VAT_IDENTIFIER.format(
                whose="client's", number=buyer_tax_number.strip(), where="on the client")))
    if seller_tax_number is None or not seller_tax_number.strip():
        problems.append(FieldError("settings.tax_number", SELLER_VAT_MISSING))
    elif not is_vat_identifier(seller_tax_number):
        problems.append(FieldError("settings.tax_number", NOT_A_VAT_IDENTIFIER.format(
            whose="business's", number=seller_tax_number.strip(), where=_("in Settings (Tax number)"))))
    return problems


def is_vat_identifier(tax_number: str) -> bool:
    """Written as a VAT identifier (country prefix) in the e-invoice: what reverse charge needs."""
    registration = tax_registration(tax_number)
    return registration is not None and registration[1] == "VA"


def check_reverse_charge(doc_type: str, categories: Iterable[str], *, seller_tax_number: str | None,
                         buyer_tax_number: str | None, facturx_enabled: bool) -> None:
    """Before issuing: an invoice or credit note whose Factur-X XML would break BR-AE-02/03 is refused
    (ValidationFailed, HTTP 422). With the Factur-X attachment turned off, or for a quote (never an
    e-invoice), it is allowed: the editor still warns, and the tax's legal note is printed."""
    if doc_type not in (INVOICE, CREDIT_NOTE) or not facturx_enabled:
        return
    problems = reverse_charge_problems(categories, seller_tax_number=seller_tax_number,
                                       buyer_tax_number=buyer_tax_number or "")
    if problems:
        raise ValidationFailed(problems, detail=REVERSE_CHARGE_REFUSED)


QUOTE_TRANSITIONS = {"accept": ("issued",), "decline": ("issued",), "convert": ("issued", "accepted")}


def check_quote_transition(action: str, stored: str, shown: str) -> None:
    allowed = QUOTE_TRANSITIONS[action]
    if stored not in allowed:
        article = "An" if shown[:1] in ("a", "e", "i", "o", "u") else "A"
        raise Conflict(_("%(article)s %(shown)s quote cannot be %(removesuffix)sed", article=article, shown=shown, removesuffix=action.removesuffix('e')) if action != "convert"
                       else _("%(article)s %(shown)s quote cannot be converted; only issued or accepted quotes can.", article=article, shown=shown))
    if action in ("accept", "convert") and shown == "expired":
        raise Conflict(_("This quote has expired; duplicate it with a new validity date."))


def check_can_cancel(stored: str, paid: Decimal, credited: Decimal) -> None:
    if stored == "draft":
        raise Conflict(_("A draft is not issued: delete it instead of cancelling."))
    if stored == "cancelled":
        raise Conflict(_("This invoice is already cancelled."))
    if paid > 0:
        raise Conflict(_("This invoice has payments; reverse them first, or credit the open balance instead."))
    if credited > 0:
        raise Conflict(_("This invoice is already partly credited; issue a credit note for the rest instead."))


def check_credit_fits(credit_total: Decimal, open_amount: Decimal, invoice_number: str) -> None:
    if credit_total <= 0:
        raise Conflict(_("A credit note must credit an amount above zero."))
    if credit_total > open_amount:
        raise Conflict(_("The credit note (%(credit_total)s) is more than the open balance of %(invoice_number)s (%(open_amount)s); lower it, or credit the client's account instead.", credit_total=credit_total, invoice_number=invoice_number, open_amount=open_amount))


# -- the snapshot ---------------------------------------------------------------
# Issuing freezes who sells and who buys: these fields of the business (Settings) and of the
# client are copied into the document, so its PDF and e-invoice never change when either is
# edited later. A draft shows the same fields, read live.
SNAPSHOT_BUSINESS_FIELDS = (
    "name", "tagline", "address_line1", "address_line2", "postal_code", "city", "region", "country", "email",
    "phone", "website", "registration_number", "tax_number", "logo_filename",
    "bank_account_holder", "bank_name", "bank_iban", "bank_bic",
    "electronic_address_scheme", "electronic_address",
    # the e-invoice's seller contact and payment means without an IBAN (BT-41..43, BG-16)
    "seller_contact_name", "seller_contact_phone", "seller_contact_email", "payment_means_code",
    "payment_account_id", "payment_means_text",
    # the bank account for the document's currency beyond IBAN/BIC (app.fx): Canadian or US
    "bank_institution", "bank_transit", "bank_routing", "bank_account_number",
)
SNAPSHOT_CLIENT_FIELDS = (
    "code", "name", "contact_name", "email", "phone", "address_line1", "address_line2", "postal_code", "city",
    "region", "country", "tax_number", "language", "buyer_reference",
    "electronic_address_scheme", "electronic_address",
)


def snapshot(settings: Mapping[str, Any], client: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The business and the client as a document freezes them at issue (a missing or empty field is "")."""
    return {"business": {f: settings.get(f) or "" for f in SNAPSHOT_BUSINESS_FIELDS},
            "client": {f: client.get(f) or "" for f in SNAPSHOT_CLIENT_FIELDS}}


# -- numbering ----------------------------------------------------------------

_ALLOWED_FIELDS = {"year", "yy", "seq", "month"}


def check_pattern(pattern: str) -> str:
    pattern = (pattern or "").strip()
    if not pattern:
        raise ValueError("A number pattern is required, e.g. INV-{year}-{seq:04}")
    if len(pattern) > 40:
        raise ValueError(_("A number pattern has at most 40 characters"))
    try:
        parsed = [(f, spec, conversion) for _, f, spec, conversion in string.Formatter().parse(pattern) if f is not None]
    except ValueError:
        raise ValueError("Unbalanced braces in the pattern; use {year}, {yy}, {month:02} and {seq:04}") from None
    fields = [f for f, _spec, _conversion in parsed]
    for f, spec, conversion in parsed:
        # Only zero-padding ({seq:04}, {month:02}): a width alone pads with spaces ("INV-2026-  12"), and
        # other specs (alignment, signs, !r) make numbers no one would print.
        if conversion or (spec and not (re.fullmatch(r"0[1-9]", spec) and f in ("seq", "month"))):
            raise ValueError(_("{%(field)s%(spec)s} cannot be used: a number is padded with zeros only, as in {seq:04} "
                               "or {month:02}", field=f, spec=(f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")))
    if "seq" not in fields:
        raise ValueError("The pattern must contain {seq} (the running number), e.g. INV-{year}-{seq:04}")
    unknown = [f for f in fields if f not in _ALLOWED_FIELDS]
    if unknown:
        raise ValueError(_("Unknown field {%(unknown)s}; use {year}, {yy}, {month:02} and {seq:04}", unknown=unknown[0]))
    if "year" not in fields and "yy" not in fields:
        raise ValueError("Numbers restart each year, so the pattern needs {year} or {yy}")
    try:
        format_number(pattern, date(2026, 1, 1), 1)
    except (ValueError, TypeError) as error:
        raise ValueError(_("The pattern cannot be used: %(error)s", error=error)) from None
    return pattern


def format_number(pattern: str, issue_date: date, seq: int) -> str:
    return pattern.format(year=issue_date.year, yy=f"{issue_date.year % 100:02d}", month=issue_date.month, seq=seq)


def clean_number_patterns(data: Mapping[str, Any], *, partial: bool = True) -> dict[str, str]:
    """The numbering patterns in `data`, checked, keyed by their settings field (`invoice_number_pattern`).

    Partial (the default): a type whose pattern is not given is left out; one given empty takes the default.
    Raises ValidationFailed naming every bad pattern's field.
    """
    form = Form(data, partial=partial)
    for doc_type, name in PATTERN_FIELDS.items():
        if partial and not form.present(name):
            continue
        try:
            form.values[name] = check_pattern(str(form.raw(name) or DEFAULT_PATTERNS[doc_type]))
        except ValueError as error:
            form.error(name, str(error))
    return form.raise_if_invalid()


# -- input --------------------------------------------------------------------

@dataclass
class DocumentInput:
    client_id: int | None = None
    currency: str | None = None
    issue_date: date | None = None
    due_date: date | None = None
    terms_days: int | None = None
    valid_until: date | None = None
    discount_percent: Decimal = Decimal(0)
    notes: str = ""
    terms: str = ""
    footer: str = ""
    invoice_id: int | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)
    given: set[str] = field(default_factory=set)
    confirm_date: bool = False   # a date more than a year from today is meant (unconfirmed_dates)


def parse_date(value: Any, field_name: str, errors: list[FieldError], label: str) -> date | None:
    """A date YYYY-MM-DD between 1900 and 2200 (app.common.logic.parse_day); problems go to `errors`."""
    return parse_day(value, field_name, errors, label)


def parse_id(value: Any, field_name: str, errors: list[FieldError], message: str) -> int | None:
    """A record's id from JSON or a form: a whole number from 1 to 2^63 - 1, else `message` under the field."""
    if isinstance(value, bool):
        errors.append(FieldError(field_name, message))
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.append(FieldError(field_name, message))
        return None
    if identifier_problem(number, field_name):
        errors.append(FieldError(field_name, _("%(message)s (an id is a whole number from 1 to %(MAX_ID)s)", message=message, MAX_ID=MAX_ID)))
        return None
    return number


# A document dated further than this from today is asked about: a typo (2062 for 2026) would
# otherwise be issued, numbered in the wrong year's series and printed. `confirm_date` says it is meant.
DATE_CONFIRM_DAYS = 365
DATE_FIELDS = (("issue_date", "Issue date"), ("due_date", "Due date"), ("valid_until", "Valid until"))


DATE_CONFIRM_ASK = "correct it, or confirm that it is right"


def unconfirmed_dates(document: DocumentInput, today: date, saved: Mapping[str, Any] | None = None) -> list[FieldError]:
    """The dates given for a document that lie more than a year from `today`, unless `confirm_date` says they
    are meant (the editor's "this date is right" box, `"confirm_date": true` in the API). A date the draft
    already has (`saved`, its stored row) was confirmed when it was saved: it is not asked about again."""
    if document.confirm_date:
        return []
    problems = []
    for name, label in DATE_FIELDS:
        day = getattr(document, name)
        if day is None or (saved is not None and saved.get(name) == day):
            continue
        if abs((day - today).days) > DATE_CONFIRM_DAYS:
            when = "after" if day > today else "before"
            problems.append(FieldError(name, _("%(label)s %(isoformat)s is more than a year %(when)s today; %(DATE_CONFIRM_ASK)s (confirm_date)", label=label, isoformat=day.isoformat(), when=when, DATE_CONFIRM_ASK=DATE_CONFIRM_ASK)))
    return problems


def asks_date_confirmation(errors: Iterable[FieldError]) -> bool:
    """Whether a refusal includes a date that only needs the user's confirmation (the editor then shows the box)."""
    return any(DATE_CONFIRM_ASK in error.message for error in errors)


def _percent(value: Any, field_name: str, label: str, errors: list[FieldError]) -> Decimal:
    if value in (None, ""):
        return Decimal(0)
    try:
        number = read_number(value, field=label)
    except MoneyError as error:
        errors.append(FieldError(field_name, str(error)))
        return Decimal(0)
    if not Decimal(0) <= number <= HUNDRED:
        errors.append(FieldError(field_name, _("%(label)s must be between 0 and 100", label=label)))
        return Decimal(0)
    if number != number.quantize(Decimal("0.0001")):
        errors.append(FieldError(field_name, _("%(label)s has more than 4 decimal places", label=label)))
    return number


def clean_line(raw: Mapping[str, Any], index: int, errors: list[FieldError], *,
               allow_negative_quantity: bool = True) -> dict[str, Any]:
    """One line of a document; field names in errors are `lines[i].field` (JSON) with i from 0."""
    prefix = f"lines[{index}]."
    out: dict[str, Any] = {}
    description = normalized_text(str(raw.get("description") or "")).strip()
    if not description:
        errors.append(FieldError(prefix + "description", _("Line %(value)s: a description is required", value=index + 1)))
    elif len(description) > 2000:
        errors.append(FieldError(prefix + "description", _("Line %(value)s: the description is too long", value=index + 1)))
    elif problem := control_problem(description, f"Line {index + 1}: the description"):
        errors.append(FieldError(prefix + "description", problem))
    out["description"] = description
    name = normalized_text(str(raw.get("name") or "")).strip()
    if len(name) > MAX_LINE_NAME:
        errors.append(FieldError(prefix + "name", _("Line %(number)s: the name is too long (at most %(limit)s characters)",
                                                    number=index + 1, limit=MAX_LINE_NAME)))
    elif problem := line_problem(name, _("Line %(number)s: the name", number=index + 1)):
        errors.append(FieldError(prefix + "name", problem))
    out["name"] = name
    try:
        quantity = read_number(raw["quantity"] if raw.get("quantity") not in (None, "") else "1",
                                 field=f"Line {index + 1} quantity")
        # Size first: quantize() on a number like 1E+1000000 raises instead of answering.
        if decimal_size_problem(quantity, "quantity"):
            errors.append(FieldError(prefix + "quantity", _("Line %(value)s: the quantity is too large (at most %(MAX_INTEGER_DIGITS)s digits before the point)", value=index + 1, MAX_INTEGER_DIGITS=MAX_INTEGER_DIGITS)))
        elif quantity == 0:
            errors.append(FieldError(prefix + "quantity", _("Line %(value)s: the quantity cannot be zero", value=index + 1)))
        elif quantity < 0 and not allow_negative_quantity:
            errors.append(FieldError(prefix + "quantity", _("Line %(value)s: the quantity cannot be negative", value=index + 1)))
        elif quantity != quantity.quantize(Decimal(1).scaleb(-QUANTITY_PLACES)):
            errors.append(FieldError(prefix + "quantity", _("Line %(value)s: at most %(QUANTITY_PLACES)s decimals in the quantity", value=index + 1, QUANTITY_PLACES=QUANTITY_PLACES)))
        else:
            out["quantity"] = quantity
    except MoneyError as error:
        errors.append(FieldError(prefix + "quantity", str(error)))
    try:
        price_raw = raw.get("unit_price")
        if price_raw in (None, ""):
            raise MoneyError(_("Line %(value)s unit price: a number is required", value=index + 1))
        price = read_number(price_raw, field=f"Line {index + 1} unit price")
        if decimal_size_problem(price, "unit price"):
            errors.append(FieldError(prefix + "unit_price", _("Line %(value)s: the unit price is too large (at most %(MAX_INTEGER_DIGITS)s digits before the point)", value=index + 1, MAX_INTEGER_DIGITS=MAX_INTEGER_DIGITS)))
        elif price < 0:
            errors.append(FieldError(prefix + "unit_price", _("Line %(value)s: the unit price cannot be negative", value=index + 1)))
        elif price != price.quantize(Decimal(1).scaleb(-PRICE_PLACES)):
            errors.append(FieldError(prefix + "unit_price", _("Line %(value)s: at most %(PRICE_PLACES)s decimals in the unit price", value=index + 1, PRICE_PLACES=PRICE_PLACES)))
        else:
            out["unit_price"] = price
    except MoneyError as error:
        errors.append(FieldError(prefix + "unit_price", str(error)))
    if "quantity" in out and "unit_price" in out and abs(out["quantity"] * out["unit_price"]) >= MAX_LINE_AMOUNT:
        # Keeps every amount of the document within the database's 64-bit integers of minor units.
        errors.append(FieldError(prefix + "unit_price",
                                 _("Line %(value)s: the line amount (quantity x unit price) is too large", value=index + 1)))
    out["discount_percent"] = _percent(raw.get("discount_percent"), prefix + "discount_percent",
                                       f"Line {index + 1} discount", errors)
    unit = str(raw.get("unit") or "").strip()
    if len(unit) > 30:
        errors.append(FieldError(prefix + "unit", _("Line %(value)s: the unit is too long", value=index + 1)))
    elif problem := line_problem(unit, f"Line {index + 1}: the unit"):
        errors.append(FieldError(prefix + "unit", problem))
    out["unit"] = unit
    taxes = raw.get("taxes")
    if taxes is None:
        taxes = []
    if isinstance(taxes, str):
        taxes = re.split(r"[\s,;]+", taxes)
    codes: list[str] = []
    for code in taxes:
        code = str(code).strip().upper()
        if code and code not in codes:
            codes.append(code)
    out["taxes"] = codes
    item_id = raw.get("item_id")
    if item_id in (None, ""):
        out["item_id"] = None
    else:
        out["item_id"] = parse_id(item_id, prefix + "item_id", errors, f"Line {index + 1}: item_id must be a number")
    return out


def clean_document(data: Mapping[str, Any], doc_type: str, *, partial: bool = False) -> DocumentInput:
    """Validate a document body (JSON or form). Cross-record checks (client, taxes) happen in the service."""
    errors: list[FieldError] = []
    result = DocumentInput()
    given = set(data.keys())
    result.given = given
    form = Form(data, partial=partial)
    if not partial or "client_id" in given:
        result.client_id = parse_id(data.get("client_id"), "client_id", errors, "Choose a client")
    if data.get("currency") not in (None, ""):
        try:
            result.currency = check_active_currency(str(data["currency"]))
        except MoneyError as error:
            errors.append(FieldError("currency", _("Currency: %(error)s", error=error)))
    result.issue_date = parse_date(data.get("issue_date"), "issue_date", errors, "Issue date")
    result.due_date = parse_date(data.get("due_date"), "due_date", errors, "Due date")
    result.valid_until = parse_date(data.get("valid_until"), "valid_until", errors, "Valid until")
    if data.get("terms_days") not in (None, ""):
        form.integer("terms_days", minimum=0, maximum=365, label=_("Payment terms"))
        result.terms_days = form.values.get("terms_days")
    if result.issue_date and result.due_date and result.due_date < result.issue_date:
        errors.append(FieldError("due_date", _("The due date cannot be before the issue date")))
    if result.issue_date and result.valid_until and result.valid_until < result.issue_date:
        errors.append(FieldError("valid_until", _("A quote cannot expire before its issue date")))
    result.discount_percent = _percent(data.get("discount_percent"), "discount_percent", "Document discount", errors)
    for name, limit in (("notes", 5000), ("terms", 2000), ("footer", 2000)):
        value = normalized_text(str(data.get(name) or "")).strip()
        if len(value) > limit:
            errors.append(FieldError(name, _("%(capitalize)s is too long (at most %(limit)s characters)", capitalize=name.capitalize(), limit=limit)))
        elif problem := control_problem(value, name.capitalize()):
            errors.append(FieldError(name, problem))
        setattr(result, name, value)
    if data.get("invoice_id") not in (None, ""):
        result.invoice_id = parse_id(data["invoice_id"], "invoice_id", errors, "invoice_id must be a number")
    form.boolean("confirm_date", default=False)
    result.confirm_date = bool(form.values.get("confirm_date"))
    if not partial or "lines" in given:
        raw_lines = data.get("lines") or []
        if not isinstance(raw_lines, list):
            errors.append(FieldError("lines", "lines must be a list"))
            raw_lines = []
        if len(raw_lines) > MAX_LINES:
            errors.append(FieldError("lines", _("At most %(MAX_LINES)s lines", MAX_LINES=MAX_LINES)))
        # A credit note mirrors the invoice it credits, negative lines (a deposit) included; its total
        # must still be above zero, which issuing checks.
        result.lines = [clean_line(line if isinstance(line, Mapping) else {}, i, errors)
                        for i, line in enumerate(raw_lines)]
    errors.extend(form.errors)
    if errors:
        raise ValidationFailed(errors)
    return result


def due_date_for(issue_date: date, terms_days: int) -> date:
    return issue_date + timedelta(days=terms_days)


def as_line(raw: Mapping[str, Any]) -> Line:
    return Line(description=raw["description"], quantity=Decimal(raw["quantity"]), unit_price=Decimal(raw["unit_price"]),
                discount_percent=Decimal(raw.get("discount_percent") or 0), tax_codes=tuple(raw.get("taxes") or ()),
                unit=raw.get("unit", ""), item_id=raw.get("item_id"))


def decimal_text(value: Decimal) -> str:
    """Exact text for quantities and prices: no exponent, no needless zeros ('1.5', '120', '0.0125')."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def price_text(value: Decimal) -> str:
    """Unit prices show at least two decimals: '120.00', '0.0125'."""
    two = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return format(two, "f") if two == value else decimal_text(value)


def search_text_of(number: str | None, client_name: str, descriptions: Iterable[str]) -> str:
    """What a document's search looks in: its number, its client and its lines' texts (`line_texts`).
    Control characters (which every text field refuses) become spaces, as in a typed search
    (app.common.logic.parse_search): a search word never holds one, so what matches is the same, and the
    list's GLOB test (app.documents.service), which stops at a NUL, sees the whole text."""
    return fold_text(SEARCH_CONTROLS.sub(" ", " ".join([number or "", client_name, *descriptions])))[:4000]


SEARCH_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")


def line_texts(lines: Iterable[Mapping[str, Any]]) -> list[str]:
    """The searchable words of lines: each line's item name (when it has one) and its description."""
    return [text for line in lines for text in (line.get("name") or "", line["description"]) if text]


def shown_description(name: str, description: str) -> str:
    """The description printed under a line's name: nothing when it only repeats the name (an item
    without a description of its own fills the line's description with its name)."""
    return "" if name and description.strip() == name.strip() else description


def clean_percent(value: Any, field_name: str, label: str, errors: list[FieldError]) -> Decimal:
    """A percentage 0-100 with at most 4 decimals (line and document discounts); problems go to `errors`."""
    return _percent(value, field_name, label, errors)


# -- the editor: lines as an HTML form sends them ------------------------------------

LINE_FORM_FIELDS = ("item", "item_id", "name", "description", "quantity", "unit", "unit_price", "discount_percent", "taxes")
_LINE_KEY = re.compile(r"^lines-(\d{1,4})-([a-z_]+)$")
_LINE_ERROR = re.compile(r"^lines\[(\d+)\]\.([a-z_]+)$")


def lines_from_form(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The editor's lines (`lines-0-description`, `lines-0-taxes`...) in form order.

    Every value is a string, `taxes` a list of codes; a field the form did not send is "".
    """
    rows: dict[int, dict[str, Any]] = {}
    for key, value in data.items():
        match = _LINE_KEY.match(key)
        if match and match.group(2) in LINE_FORM_FIELDS:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value
    lines = []
    for index in sorted(rows):
        raw = rows[index]
        line: dict[str, Any] = {}
        for name in LINE_FORM_FIELDS:
            value = raw.get(name)
            if name == "taxes":
                values = value if isinstance(value, list) else [value]
                line["taxes"] = [str(code).strip().upper() for code in values if code not in (None, "")]
            else:
                if isinstance(value, list):
                    value = value[-1] if value else ""
                line[name] = "" if value is None else str(value)
        lines.append(line)
    return lines


def blank_line() -> dict[str, Any]:
    return {"item": "", "item_id": "", "name": "", "description": "", "quantity": "1", "unit": "", "unit_price": "",
            "discount_percent": "", "taxes": []}


def line_is_blank(line: Mapping[str, Any]) -> bool:
    """A line nobody has started: no item, no description, no price. The editor ignores it when saving."""
    return not any(str(line.get(name) or "").strip() for name in ("item", "description", "unit_price"))


def form_error_field(field_name: str, form_indexes: Sequence[int]) -> str:
    """`lines[2].quantity` (the service's name for a field) -> `lines-5-quantity` (the editor's input).

    `form_indexes[i]` is the position in the form of the i-th line sent to the service.
    """
    match = _LINE_ERROR.match(field_name)
    if not match:
        return field_name
    index = int(match.group(1))
    position = form_indexes[index] if index < len(form_indexes) else index
    return f"lines-{position}-{match.group(2)}"


def apply_line_op(lines: list[dict[str, Any]], op: str) -> tuple[list[dict[str, Any]], int | None]:
    """The editor's structural buttons: `add`, `remove:N`, `up:N`, `down:N`.

    Returns the new lines and the index of the line to put the cursor in (None: leave it).
    """
    lines = list(lines)
    name, _colon, argument = (op or "").partition(":")
    try:
        index = int(argument) if argument else None
    except ValueError:
        index = None
    if name == "add":
        if len(lines) >= MAX_LINES:
            return lines, None
        lines.append(blank_line())
        return lines, len(lines) - 1
    if index is None or not 0 <= index < len(lines):
        return lines, None
    if name == "remove":
        del lines[index]
        if not lines:
            lines.append(blank_line())
        return lines, None
    if name == "up" and index > 0:
        lines[index - 1], lines[index] = lines[index], lines[index - 1]
        return lines, None
    if name == "down" and index < len(lines) - 1:
        lines[index + 1], lines[index] = lines[index], lines[index + 1]
        return lines, None
    return lines, None


def item_label(item: Mapping[str, Any]) -> str:
    """How the editor's item picker shows a catalogue item: `CODE — Name`."""
    return f"{item['code']} — {item['name']}"


def match_item(text: str, items: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The catalogue item a typed text means: its label, its code or its name (any case), else None."""
    wanted = fold_text(text or "")
    if not wanted:
        return None
    code = fold_text((text or "").split("—", 1)[0])
    for item in items:
        if wanted in (fold_text(item_label(item)), fold_text(item["name"])) or code == fold_text(item["code"]):
            return item
    return None


def fill_from_item(line: Mapping[str, Any], item: Mapping[str, Any], unit_price: Decimal,
                   taxes: Sequence[str] | None = None) -> dict[str, Any]:
    """Picking an item fills the line's description, unit, price and taxes (still editable); the
    quantity and discount the user typed stay. `taxes`: the defaults for the draft's client (TaxAdvice),
    else the item's own codes."""
    filled = dict(line)
    filled.update(item=item_label(item), item_id=str(item["id"]), name=item["name"],
                  description=item["description"] or item["name"],
                  unit=item["unit"] or "", unit_price=as_typed(price_text(unit_price)),
                  taxes=list(taxes) if taxes is not None
                  else [code for code in (item.get("default_tax_codes") or "").split() if code])
    if not str(filled.get("quantity") or "").strip():
        filled["quantity"] = "1"
    return filled


def available_actions(doc_type: str, stored: str, shown: str, *, paid: Decimal, credited: Decimal,
                      balance_due: Decimal, is_owner: bool) -> set[str]:
    """What the document page offers in this state; the service still checks each action (409)."""
    actions = {"duplicate"}
    if stored == "draft":
        actions |= {"edit", "issue"} | ({"delete"} if is_owner else set())
        return actions
    if doc_type == INVOICE and stored != "cancelled":
        if stored == "issued":
            actions.add("mark_sent")
        if balance_due > 0:
            actions |= {"credit", "record_payment"}
        if paid == 0 and credited == 0:
            actions.add("cancel")
    if doc_type == QUOTE:
        if stored == "issued":
            actions.add("decline")
            if shown != "expired":
                actions.add("accept")
        if stored in QUOTE_TRANSITIONS["convert"] and shown != "expired":
            actions.add("convert")
    return actions


# -- numbers follow dates -----------------------------------------------------------------
# Within a series (a type and a year), a later number never carries an earlier date (French and
# German practice: the register of invoices runs in date order). Issuing dates the document today;
# the user may back-date it on purpose, but never before the last date already issued in that series.

BACKDATE_ASK = "tick \u201cback-date this document\u201d to issue it with an earlier date"


@dataclass(frozen=True)
class IssueDate:
    """When an issue request dates the document: `day`, and whether the user back-dated it on purpose."""

    day: date
    backdated: bool


def issue_date_of(requested: date | None, backdate: bool, today: date) -> IssueDate:
    """The date a document is issued with: today, unless a date is requested. A date before today must be
    asked for as a back-date (`backdate`); a date after today is refused (a number is not reserved ahead)."""
    if requested is None or requested == today:
        return IssueDate(today, False)
    if requested > today:
        raise ValidationFailed([FieldError("issue_date", _("The issue date %(isoformat)s is after today (%(isoformat2)s); a document is issued today or back-dated, never dated ahead", isoformat=requested.isoformat(), isoformat2=today.isoformat()))])
    if not backdate:
        raise ValidationFailed([FieldError("backdate", _("The issue date %(isoformat)s is before today; %(BACKDATE_ASK)s (backdate)", isoformat=requested.isoformat(), BACKDATE_ASK=BACKDATE_ASK))])
    return IssueDate(requested, True)


def check_series_order(doc_type: str, day: date, latest: date | None, latest_number: str | None = None) -> None:
    """A document dated `day` may take the next number of its series only if no issued one is dated later."""
    if latest is not None and day < latest:
        label = TYPE_LABELS[doc_type].lower()
        raise Conflict(_("The %(label)s cannot be dated %(isoformat)s: the %(year)s series already has %(value)s dated %(isoformat2)s, and a later number never carries an earlier date. Date it %(isoformat3)s or later.", label=label, isoformat=day.isoformat(), year=day.year, value=latest_number or f'a {label}', isoformat2=latest.isoformat(), isoformat3=latest.isoformat()))


def dates_on_issue(doc_type: str, draft: Mapping[str, Any], day: date) -> dict[str, Any]:
    """The draft's dates moved to the day it is issued: an invoice's due date follows its payment terms
    (or keeps its distance from the issue date when it has none), a quote's expiry keeps its validity."""
    old = draft["issue_date"]
    out: dict[str, Any] = {"issue_date": day}
    if doc_type == INVOICE:
        if draft.get("terms_days") is not None:
            out["due_date"] = due_date_for(day, draft["terms_days"])
        elif draft.get("due_date") is not None:
            out["due_date"] = day + (draft["due_date"] - old)
    elif doc_type == QUOTE and draft.get("valid_until") is not None:
        out["valid_until"] = day + (draft["valid_until"] - old)
    return out


def series_going_backwards(documents: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str, str]]:
    """Issued documents (dicts with doc_type, number, issue_date, issued_at, id), in any order: for each
    (type, year) series in the order numbers were given, each one dated before the one issued before it,
    as (number, its date, the number issued before it, that one's date)."""
    series: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for doc in documents:
        series.setdefault((doc["doc_type"], doc["issue_date"].year), []).append(doc)
    found = []
    for _series, docs in sorted(series.items()):
        docs.sort(key=lambda d: (str(d["issued_at"] or ""), d["id"]))
        latest: Mapping[str, Any] | None = None
        for doc in docs:
            if latest is not None and doc["issue_date"] < latest["issue_date"]:
                found.append((doc["number"], doc["issue_date"].isoformat(), latest["number"],
                              latest["issue_date"].isoformat()))
            if latest is None or doc["issue_date"] >= latest["issue_date"]:
                latest = doc
    return found


# -- default taxes of a new line (issue 16): the rules by place of supply ---------------------------------

@dataclass(frozen=True)
class TaxAdvice:
    """What a draft's new lines are taxed with: the business and the client as the rules read them, and
    the defined rates (to name them and keep only the defined ones). Built once per request."""

    seller: taxes_logic.Party
    client: taxes_logic.Party
    rates: Mapping[str, TaxRate]

    def defaults(self, item: Mapping[str, Any] | None = None) -> taxes_logic.Suggestion:
        """A new line's taxes: the item's own codes if it has them, else the rules for its category."""
        own = tuple((item or {}).get("default_tax_codes", "").split()) if item else ()
        category, kind = self._item_terms(item)
        return taxes_logic.line_taxes(self.seller, self.client, category=category, kind=kind, own_codes=own,
                                      rates=self.rates)

    def rules(self, item: Mapping[str, Any] | None = None) -> taxes_logic.Suggestion:
        """The rules alone (what the editor compares a line's taxes with)."""
        category, kind = self._item_terms(item)
        return taxes_logic.line_taxes(self.seller, self.client, category=category, kind=kind, rates=self.rates)

    @staticmethod
    def _item_terms(item: Mapping[str, Any] | None) -> tuple[str, str]:
        """The item's tax category and kind; a typed line is a standard-rated service."""
        if not item:
            return "standard", "service"
        return item.get("tax_category") or "standard", item.get("kind") or "service"


def party_of(row: Mapping[str, Any] | None, *, pst_registrations: frozenset[str] = frozenset()) -> taxes_logic.Party:
    """A business (settings) or a client row as the tax rules read it."""
    row = row or {}
    return taxes_logic.Party(country=(row.get("country") or "").upper(), region=row.get("region") or "",
                             tax_number=row.get("tax_number") or "", pst_registrations=pst_registrations)


def line_tax_hints(lines: Sequence[Mapping[str, Any]], items_by_id: Mapping[str, Mapping[str, Any]],
                   advice: TaxAdvice) -> list[dict[str, str]]:
    """For each editor line: why the rules choose its taxes (`reason`) and, when its taxes differ, a
    `warning`. A blank line gets the reason only."""
    hints = []
    for line in lines:
        item = items_by_id.get(str(line.get("item_id") or ""))
        rules = advice.rules(item)
        hint = {"reason": rules.reason, "warning": ""}
        if not line_is_blank(line):
            hint["warning"] = taxes_logic.contradiction(list(line.get("taxes") or []), rules, advice.rates) or ""
        hints.append(hint)
    return hints
# -- "add a new client" from a client picker ---------------------------------------------------

@dataclass(frozen=True)
class ClientReturn:
    """Where the client form goes back to once the new client is saved: the new-document page of a type
    (a new draft for the client) or a draft's editor (the draft now bills the client)."""

    path: str
    doc_type: str
    document_id: int | None = None


_RETURN_TO_NEW = re.compile(r"/(" + "|".join(TYPE_PATHS.values()) + r")/new")
_RETURN_TO_EDITOR = re.compile(r"/documents/([1-9][0-9]{0,11})/edit")


def client_return_target(return_to: str) -> ClientReturn | None:
    """A `return_to` the client form accepts: only these two shapes of local path, so the parameter can
    never send anyone to another site; anything else is ignored (None)."""
    text = (return_to or "").strip()
    if match := _RETURN_TO_NEW.fullmatch(text):
        doc_type = next(kind for kind, path in TYPE_PATHS.items() if path == match.group(1))
        return ClientReturn(path=text, doc_type=doc_type)
    if match := _RETURN_TO_EDITOR.fullmatch(text):
        return ClientReturn(path=text, doc_type="", document_id=int(match.group(1)))
    return None
