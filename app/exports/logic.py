"""Exports, pure: the columns of every CSV (with what each means, for README.txt), the
row of each record, the tax summary, periods, and writing CSV with the csv module.

CSV files are UTF-8 with a byte-order mark (Excel needs it to read UTF-8; LibreOffice and
Python's "utf-8-sig" skip it), a header row, CRLF line ends, and quoting as RFC 4180; a text
that a spreadsheet would run as a formula starts with an apostrophe (app.common.logic.csv_bytes).
Money is a plain decimal with a point ("1234.50"), never grouped; dates are YYYY-MM-DD.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from app.clients.records import ClientView
from app.common.logic import csv_bytes as common_csv_bytes
from app.documents.records import DocumentSummary, DocumentView
from app.payments.records import PaymentView
from app.receivables.logic import AgingRow


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str


def _cols(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(n, m) for n, m in pairs)


CLIENT_COLUMNS = _cols(
    ("client_id", "Counterfoil's id of the client"), ("code", "The client's code"), ("name", "Name"),
    ("status", "active or archived"), ("contact_name", "Contact person"), ("email", "Email"), ("phone", "Phone"),
    ("address_line1", "Address"), ("address_line2", "Address, second line"), ("postal_code", "Postal code"),
    ("city", "City"), ("region", "Province or state"), ("country", "ISO 3166 country code"),
    ("currency", "Default currency (ISO 4217)"), ("tax_number", "VAT or GST/HST number"),
    ("buyer_reference", "Their reference for our invoices (a Leitweg-ID for German authorities)"),
    ("language", "Language of their documents"), ("created_at", "When the client was added (UTC)"),
)
DOCUMENT_COLUMNS = _cols(
    ("document_id", "Counterfoil's id of the document"), ("number", "The document number (gapless per series)"),
    ("status", "draft, issued, sent, partial, paid, overdue or cancelled (as of the export)"),
    ("issue_date", "Date of issue"), ("due_date", "Payment due date (invoices)"),
    ("client_id", "Counterfoil's id of the client"), ("client_code", "The client's code"),
    ("client_name", "The client's name"), ("client_tax_number", "The client's tax number when issued"),
    ("currency", "ISO 4217 currency of every amount on the row"), ("subtotal", "Total of the lines before tax"),
    ("tax_total", "Total tax"), ("total", "Total including tax"),
    ("paid", "Payments and client credit applied (as of the export)"),
    ("credited", "Credit notes against the invoice (as of the export)"),
    ("balance", "Still due: total - paid - credited"),
    ("cancel_reason", "Why a cancelled invoice was cancelled"),
)
CREDIT_NOTE_COLUMNS = _cols(
    ("document_id", "Counterfoil's id of the credit note"), ("number", "The credit note number"),
    ("issue_date", "Date of issue"), ("invoice_number", "The invoice it credits (empty: the client's account)"),
    ("client_id", "Counterfoil's id of the client"), ("client_code", "The client's code"),
    ("client_name", "The client's name"), ("currency", "ISO 4217 currency"),
    ("subtotal", "Credited amount before tax (positive)"), ("tax_total", "Credited tax (positive)"),
    ("total", "Credited total including tax (positive)"),
)
LINE_COLUMNS = _cols(
    ("document_id", "Counterfoil's id of the invoice"), ("number", "The invoice number"),
    ("issue_date", "The invoice's date"), ("position", "Line number on the invoice"),
    ("description", "Description (may hold line breaks)"), ("quantity", "Quantity"), ("unit", "Unit"),
    ("unit_price", "Price of one unit before tax (up to 4 decimals)"),
    ("discount_percent", "The line's own discount in percent (a document discount comes on top; see net)"),
    ("taxes", "Tax codes on the line, separated by spaces"), ("net", "Line amount before tax, after discounts"),
    ("currency", "ISO 4217 currency"),
    ("item_name", "The catalogue item's name on the line, printed above its description (empty for a free line)"),
)
PAYMENT_COLUMNS = _cols(
    ("payment_id", "Counterfoil's id of the payment"), ("payment_date", "Date the money was received"),
    ("client_id", "Counterfoil's id of the client"), ("client_name", "The client's name"),
    ("invoice_number", "The invoice it pays (empty: client credit)"),
    ("method", "cash, bank_transfer, card, cheque, paypal or other"), ("reference", "Bank or cheque reference"),
    ("currency", "ISO 4217 currency"), ("amount", "Amount received"), ("applied", "Part applied to the invoice"),
    ("excess", "Part kept as client credit"), ("status", "live, or reversed (the payment was undone)"),
    ("reversal_date", "Date of the reversal"), ("reversal_reason", "Why it was reversed"),
)
TAX_COLUMNS = _cols(
    ("currency", "ISO 4217 currency"), ("tax_code", "The tax's code (e.g. GST, VAT19)"), ("tax_name", "Its name"),
    ("rate", "Rate in percent"), ("invoices_base", "Amount taxed on invoices issued in the period"),
    ("invoices_tax", "Tax charged on those invoices"), ("credit_notes_base", "Amount taxed on credit notes (positive)"),
    ("credit_notes_tax", "Tax given back on credit notes (positive)"),
    ("net_base", "invoices_base - credit_notes_base"), ("net_tax", "invoices_tax - credit_notes_tax: the tax to declare"),
)
AGING_COLUMNS = _cols(
    ("client_id", "Counterfoil's id of the client"), ("client_name", "The client's name"),
    ("currency", "ISO 4217 currency"), ("current", "Open and not yet due at the period's end"),
    ("days_1_30", "1 to 30 days past due"), ("days_31_60", "31 to 60 days past due"),
    ("days_61_90", "61 to 90 days past due"), ("days_over_90", "More than 90 days past due"), ("total", "All open"),
)
AGING_KEYS = {"current": "current", "1-30": "days_1_30", "31-60": "days_31_60", "61-90": "days_61_90",
              "over 90": "days_over_90"}


def plain(value: Any) -> str:
    """Money and quantities as plain decimal text: 1234.50, -3, 0.125 (never 1E+3, never grouped)."""
    if value is None or value == "":
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return format(Decimal(str(value)), "f")


def day(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date | time):  # a datetime is a date
        return value.isoformat()
    return str(value)


def csv_bytes(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> bytes:
    return common_csv_bytes([c.name for c in columns], rows)


# -- rows ----------------------------------------------------------------------------------

def client_row(c: ClientView) -> list[Any]:
    return [c.id, c.code, c.name, c.status, c.contact_name, c.email, c.phone, c.address_line1, c.address_line2,
            c.postal_code, c.city, c.region, c.country, c.currency, c.tax_number, c.buyer_reference, c.language,
            day(c.created_at)]


def document_row(d: DocumentSummary, *, client_code: str, client_name: str, client_tax_number: str,
                 cancel_reason: str = "") -> list[Any]:
    """A row of invoices.csv; the client's code and tax number come from where the export reads them
    (today's client for a list, the client frozen on issue for the accountant's package)."""
    return [d.id, d.number or "", d.shown_status, day(d.issue_date), day(d.due_date), d.client_id, client_code,
            client_name, client_tax_number, d.currency, plain(d.subtotal), plain(d.tax_total), plain(d.total),
            plain(d.paid), plain(d.credited), plain(d.balance), cancel_reason]


def issued_document_row(d: DocumentView) -> list[Any]:
    """A row of invoices.csv for an issued document: what its snapshot froze fills what today's client lacks."""
    frozen = (d.snapshot or {}).get("client") or {}
    return document_row(d, client_code=d.client_code or frozen.get("code", ""),
                        client_name=d.client_name or frozen.get("name", ""),
                        client_tax_number=frozen.get("tax_number", ""), cancel_reason=d.cancel_reason)


def credit_note_row(d: DocumentSummary, *, client_code: str) -> list[Any]:
    return [d.id, d.number or "", day(d.issue_date), d.invoice_number or "", d.client_id, client_code, d.client_name,
            d.currency, plain(d.subtotal), plain(d.tax_total), plain(d.total)]


def line_rows(d: DocumentView) -> list[list[Any]]:
    return [[d.id, d.number or "", day(d.issue_date), line.position, line.description, plain(line.quantity),
             line.unit, plain(line.unit_price), plain(line.discount_percent), " ".join(line.taxes), plain(line.net),
             d.currency, line.name] for line in d.lines]


def payment_row(p: PaymentView) -> list[Any]:
    return [p.id, day(p.payment_date), p.client_id, p.client_name, p.invoice_number or "", p.method, p.reference,
            p.currency, plain(p.amount), plain(p.applied), plain(p.excess), p.status, day(p.reversal_date),
            p.reversal_reason]


def aging_row(row: AgingRow) -> list[Any]:
    return [row.client_id, row.client_name, row.currency,
            *[plain(row.buckets.get(key, Decimal(0))) for key in AGING_KEYS], plain(row.total)]


def tax_summary(documents: Iterable[DocumentView]) -> list[list[Any]]:
    """Per currency, tax code and rate: base and tax of invoices and of credit notes, and the net."""
    sums: dict[tuple[str, str, str], dict[str, Any]] = {}
    for d in documents:
        kind = "credit_notes" if d.doc_type == "credit_note" else "invoices"
        for tax in d.taxes:
            key = (d.currency, tax.code, plain(tax.rate))
            entry = sums.setdefault(key, {"name": tax.name, "invoices": [Decimal(0), Decimal(0)],
                                          "credit_notes": [Decimal(0), Decimal(0)]})
            entry[kind][0] += tax.base
            entry[kind][1] += tax.amount
    rows = []
    for (currency, code, rate), entry in sorted(sums.items()):
        ib, it = entry["invoices"]
        cb, ct = entry["credit_notes"]
        rows.append([currency, code, entry["name"], rate, plain(ib), plain(it), plain(cb), plain(ct), plain(ib - cb),
                     plain(it - ct)])
    return rows


# -- periods -----------------------------------------------------------------------------------

PRESETS = ("last_month", "this_month", "last_quarter", "this_quarter", "last_year", "this_year")


def month_bounds(year: int, month: int) -> tuple[date, date]:
    start = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return start, following - timedelta(days=1)


def previous_month(today: date) -> tuple[date, date]:
    first = date(today.year, today.month, 1)
    last = first - timedelta(days=1)
    return month_bounds(last.year, last.month)


def preset_period(name: str, today: date) -> tuple[date, date]:
    if name == "this_month":
        return month_bounds(today.year, today.month)
    if name == "last_month":
        return previous_month(today)
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    if name == "this_quarter":
        end_month = quarter_start.month + 2
        return quarter_start, month_bounds(today.year, end_month)[1]
    if name == "last_quarter":
        end = quarter_start - timedelta(days=1)
        start = date(end.year, end.month - 2, 1)
        return start, end
    if name == "this_year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    if name == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    raise ValueError(f"unknown period {name!r}")


def period_key(date_from: date) -> str:
    return f"{date_from.year:04d}-{date_from.month:02d}"


def due_periods(today: date, last_sent: str, day_of_month: int, *, first_month: str | None = None) -> list[str]:
    """Monthly schedule: the months ("YYYY-MM") whose package is due and not sent yet, oldest first.

    The package of a month is due from `day_of_month` of the next month. Catching up after the app
    was closed sends every missed month; with nothing sent yet, only the latest due month."""
    latest_first = date(today.year, today.month, 1)
    if today.day < day_of_month:
        latest_first = previous_month(latest_first)[0]
    latest = previous_month(latest_first)[0]  # the month before the one in which it is due
    latest_key = period_key(latest)
    if not last_sent:
        return [latest_key] if first_month is None or first_month <= latest_key else []
    out = []
    year, month = int(last_sent[:4]), int(last_sent[5:7])
    while True:
        month += 1
        if month == 13:
            year, month = year + 1, 1
        key = f"{year:04d}-{month:02d}"
        if key > latest_key:
            break
        out.append(key)
    return out


# -- README ------------------------------------------------------------------------------------

FILES = (("clients.csv", CLIENT_COLUMNS, "Every client (active and archived)."),
         ("invoices.csv", DOCUMENT_COLUMNS, "Invoices issued in the period, cancelled ones included."),
         ("invoice_lines.csv", LINE_COLUMNS, "The lines of those invoices."),
         ("credit_notes.csv", CREDIT_NOTE_COLUMNS, "Credit notes issued in the period."),
         ("payments.csv", PAYMENT_COLUMNS, "Payments received in the period, and reversed ones with their date."),
         ("tax_summary.csv", TAX_COLUMNS, "Tax per currency, tax and rate for the period."),
         ("aging.csv", AGING_COLUMNS, "Open invoice balances by days past due at the end of the period."))


def readme(*, business: str, date_from: date, date_to: date, generated: str, counts: Mapping[str, int]) -> str:
    lines = [
        f"Bookkeeping package of {business or 'the business'}",
        f"Period: {date_from.isoformat()} to {date_to.isoformat()} (issue dates and payment dates in this range)",
        f"Made by Counterfoil on {generated}.",
        "",
        "Formats",
        "-------",
        "CSV: UTF-8 with a byte-order mark, comma-separated, a header row, quoted as RFC 4180 (a field with",
        "a comma, a quote or a line break is in double quotes; a quote inside is doubled), CRLF line ends.",
        "Money: a plain decimal with a point and the currency's decimals (1234.50), never grouped, negative",
        "with a minus; every amount has its currency on the same row (ISO 4217). Dates: YYYY-MM-DD.",
        "A text that a spreadsheet would take for a formula (it starts with =, +, -, @, a tab or a carriage",
        "return, and is not a plain number) starts with an apostrophe ('=SUM(A1)), so it is shown, never run.",
        "Statuses and open amounts are as of the day the package was made.",
        "",
        "pdf/invoices/ and pdf/credit_notes/: the PDF of every invoice and credit note issued in the period.",
        "Issued invoices and credit notes are PDF/A-3 with their Factur-X XML (EN 16931) embedded.",
        "xml/: the same Factur-X / ZUGFeRD XML (CII, profile EN 16931) as separate files, for import.",
        "summary.pdf: totals per month and per tax.",
        "",
    ]
    for name, columns, what in FILES:
        title = f"{name} ({counts.get(name, 0)} rows): {what}"
        lines += [title, "-" * min(len(title), 100)]
        width = max(len(c.name) for c in columns)
        lines += [f"  {c.name.ljust(width)}  {c.meaning}" for c in columns]
        lines.append("")
    return "\r\n".join(lines) + "\r\n"
