"""Revenue by month, quarter or year, pure: buckets, sums and the SVG bar chart.

Definitions (shown on the page and in the README of the accountant's package):
- invoiced: totals (tax included) of the invoices issued in the bucket (cancelled ones too:
  their cancelling credit note is counted under "credited");
- credited: totals of the credit notes issued in the bucket;
- net invoiced = invoiced - credited; of which `net` before tax and `tax`;
- collected: payments received in the bucket, less the payments reversed in the bucket;
- outstanding: what is still open today on the invoices issued in the bucket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from html import escape

from app.common.i18n import _

PERIODS = ("month", "quarter", "year")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ZERO = Decimal(0)


# -- buckets ---------------------------------------------------------------------

def bucket_start(day: date, period: str) -> date:
    if period == "month":
        return date(day.year, day.month, 1)
    if period == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if period == "year":
        return date(day.year, 1, 1)
    raise ValueError(f"unknown period {period!r}")


def next_start(start: date, period: str) -> date:
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    total = start.month - 1 + months
    return date(start.year + total // 12, total % 12 + 1, 1)


def bucket_end(day: date, period: str) -> date:
    return next_start(bucket_start(day, period), period) - timedelta(days=1)


def bucket_key(day: date, period: str) -> str:
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if period == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if period == "year":
        return f"{day.year:04d}"
    raise ValueError(f"unknown period {period!r}")


def bucket_label(start: date, period: str) -> str:
    if period == "month":
        return f"{MONTHS[start.month - 1]} {start.year}"
    if period == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return str(start.year)


def bucket_starts(date_from: date, date_to: date, period: str) -> list[date]:
    """The start of every bucket that overlaps date_from..date_to, in order."""
    if date_to < date_from:
        return []
    starts = []
    start = bucket_start(date_from, period)
    while start <= date_to:
        starts.append(start)
        start = next_start(start, period)
    return starts


# -- facts and sums -----------------------------------------------------------------

@dataclass(frozen=True)
class TaxFact:
    code: str
    rate: str
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class DocFact:
    kind: str            # invoice | credit_note
    day: date
    currency: str
    net: Decimal         # before tax
    tax: Decimal
    total: Decimal
    open: Decimal = ZERO  # invoices: balance still due today
    taxes: tuple[TaxFact, ...] = ()
    count: int = 1       # how many documents the fact sums (the dashboard's facts are sums per month)


@dataclass(frozen=True)
class PaymentFact:
    day: date
    currency: str
    amount: Decimal      # a reversal is a negative amount on its own date


@dataclass
class Row:
    key: str
    label: str
    start: date
    end: date
    currency: str
    invoiced: Decimal = ZERO
    credited: Decimal = ZERO
    net: Decimal = ZERO
    tax: Decimal = ZERO
    collected: Decimal = ZERO
    outstanding: Decimal = ZERO
    invoices: int = 0
    credit_notes: int = 0
    taxes: dict[tuple[str, str], list[Decimal]] = field(default_factory=dict)  # (code, rate) -> [base, amount]

    @property
    def net_invoiced(self) -> Decimal:
        return self.invoiced - self.credited

    def add_document(self, fact: DocFact) -> None:
        sign = 1 if fact.kind == "invoice" else -1
        if fact.kind == "invoice":
            self.invoiced += fact.total
            self.outstanding += fact.open
            self.invoices += fact.count
        else:
            self.credited += fact.total
            self.credit_notes += fact.count
        self.net += sign * fact.net
        self.tax += sign * fact.tax
        for tax in fact.taxes:
            entry = self.taxes.setdefault((tax.code, tax.rate), [ZERO, ZERO])
            entry[0] += sign * tax.base
            entry[1] += sign * tax.amount


@dataclass
class Report:
    period: str
    date_from: date
    date_to: date
    rows: list[Row]                 # one per bucket and currency, in order
    totals: list[Row]               # one per currency over the whole range
    currencies: list[str]


def revenue(docs: Iterable[DocFact], payments: Iterable[PaymentFact], date_from: date, date_to: date, period: str,
            default_currency: str = "EUR") -> Report:
    """Every fact dated inside date_from..date_to lands in exactly one bucket; the rest are ignored."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}")
    docs = [d for d in docs if date_from <= d.day <= date_to]
    payments = [p for p in payments if date_from <= p.day <= date_to]
    currencies = sorted({d.currency for d in docs} | {p.currency for p in payments}) or [default_currency]
    starts = bucket_starts(date_from, date_to, period)
    rows: dict[tuple[str, str], Row] = {}
    for start in starts:
        for currency in currencies:
            rows[(bucket_key(start, period), currency)] = Row(
                key=bucket_key(start, period), label=bucket_label(start, period), start=max(start, date_from),
                end=min(next_start(start, period) - timedelta(days=1), date_to), currency=currency)
    for fact in docs:
        rows[(bucket_key(fact.day, period), fact.currency)].add_document(fact)
    for payment in payments:
        rows[(bucket_key(payment.day, period), payment.currency)].collected += payment.amount
    totals = []
    for currency in currencies:
        total = Row(key="total", label=_("Total"), start=date_from, end=date_to, currency=currency)
        for row in rows.values():
            if row.currency != currency:
                continue
            for name in ("invoiced", "credited", "net", "tax", "collected", "outstanding", "invoices", "credit_notes"):
                setattr(total, name, getattr(total, name) + getattr(row, name))
            for key, (base, amount) in row.taxes.items():
                entry = total.taxes.setdefault(key, [ZERO, ZERO])
                entry[0] += base
                entry[1] += amount
        totals.append(total)
    ordered = sorted(rows.values(), key=lambda r: (r.start, currencies.index(r.currency)))
    return Report(period=period, date_from=date_from, date_to=date_to, rows=ordered, totals=totals,
                  currencies=currencies)


# -- the dashboard ----------------------------------------------------------------------

def last_months(today: date, months: int = 12) -> tuple[date, date]:
    """The first day of the month `months - 1` months before today's, and today: the last `months` months."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1), today


@dataclass(frozen=True)
class MoneyAtAGlance:
    """What the dashboard says about one currency's money. Revenue is before tax and net of credit notes
    (what the business earned); `collected` is what came in (payments less reversals)."""

    currency: str
    revenue_month: Decimal
    revenue_year: Decimal
    collected_month: Decimal
    invoiced_month: Decimal   # tax included, net of credit notes


def at_a_glance(report: Report, today: date) -> list[MoneyAtAGlance]:
    """This month's and this year's figures per currency, from a monthly report that covers them
    (last_months: the last twelve months always hold this year's)."""
    out = []
    this_month, this_year = bucket_key(today, "month"), today.year
    for currency in report.currencies:
        rows = [r for r in report.rows if r.currency == currency]
        month = next((r for r in rows if r.key == this_month), None)
        year_rows = [r for r in rows if r.start.year == this_year]
        out.append(MoneyAtAGlance(
            currency=currency, revenue_month=month.net if month else ZERO,
            revenue_year=sum((r.net for r in year_rows), ZERO), collected_month=month.collected if month else ZERO,
            invoiced_month=month.net_invoiced if month else ZERO))
    return out


# -- the chart ------------------------------------------------------------------------

def _nice_ceiling(value: Decimal) -> Decimal:
    """A round number at or above value (1, 2, 2.5, 5 times a power of ten) for the axis."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        candidate = step.scaleb(exponent)
        if candidate >= value:
            return candidate
    return Decimal(10).scaleb(exponent)


def _short(value: Decimal) -> str:
    value = Decimal(value)
    for limit, suffix in ((Decimal("1e9"), "G"), (Decimal("1e6"), "M"), (Decimal("1e3"), "k")):
        if abs(value) >= limit:
            text = f"{(value / limit):.1f}".rstrip("0").rstrip(".")
            return text + suffix
    return f"{value:.0f}"


SERIES = (("net_invoiced", "Invoiced (net of credit notes)", "#2f6db3"), ("collected", "Collected", "#3c9a5f"),
          ("outstanding", "Outstanding", "#d08a1f"))


def bar_chart_svg(rows: Sequence[Row], currency: str, *, width: int = 760, height: int = 260) -> str:
    """A grouped bar chart of one currency's rows, as SVG text (no script, no style attribute)."""
    rows = [r for r in rows if r.currency == currency]
    left, right, top, bottom = 56, 10, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [getattr(r, name) for r in rows for name, _, _ in SERIES]
    top_value = max([v for v in values if v > 0], default=Decimal(0))
    low_value = min([v for v in values if v < 0], default=Decimal(0))
    step = _nice_ceiling((top_value - low_value) / 4 if top_value > low_value else Decimal(0))
    low = (low_value / step).to_integral_value(rounding="ROUND_FLOOR") * step
    high = max((top_value / step).to_integral_value(rounding="ROUND_CEILING") * step, low + step)
    span = high - low
    ticks = int(span / step)

    def y(value: Decimal) -> float:
        return top + float((high - value) / span) * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img" '
             f'aria-label="{escape(currency)}: invoiced, collected and outstanding per period">']
    for i in range(ticks + 1):  # gridlines and the axis labels
        value = low + step * i
        gy = y(value)
        parts.append(f'<line x1="{left}" y1="{gy:.1f}" x2="{width - right}" y2="{gy:.1f}" stroke="#e4e7eb" '
                     f'stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" font-size="11" fill="#6b7785">'
                     f'{escape(_short(value))}</text>')
    if rows:
        group = plot_w / len(rows)
        bar = max(2.0, min(22.0, group * 0.8 / len(SERIES)))
        label_every = max(1, int(len(rows) / (plot_w / 48)) + (1 if len(rows) > plot_w / 48 else 0))
        for index, row in enumerate(rows):
            x0 = left + group * index + (group - bar * len(SERIES)) / 2
            for offset, (name, label, colour) in enumerate(SERIES):
                value = getattr(row, name)
                y_top, y_zero = y(max(value, Decimal(0))), y(min(value, Decimal(0)))
                h = max(0.0, y(min(value, Decimal(0))) - y(max(value, Decimal(0)))) if value else 0.0
                parts.append(f'<rect x="{x0 + offset * bar:.1f}" y="{min(y_top, y_zero):.1f}" width="{bar - 1:.1f}" '
                             f'height="{h:.1f}" fill="{colour}"><title>{escape(row.label)}: {escape(label)} '
                             f'{escape(str(value))} {escape(currency)}</title></rect>')
            if index % label_every == 0:
                cx = left + group * index + group / 2
                parts.append(f'<text x="{cx:.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11" '
                             f'fill="#3e4c59">{escape(row.label)}</text>')
    zero = y(Decimal(0))
    parts.append(f'<line x1="{left}" y1="{zero:.1f}" x2="{width - right}" y2="{zero:.1f}" stroke="#9aa5b1" '
                 f'stroke-width="1"/>')
    x = left
    for _name, label, colour in SERIES:  # the legend
        parts.append(f'<rect x="{x}" y="{height - 14}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{height - 5}" font-size="11" fill="#3e4c59">{escape(label)}</text>')
        x += 14 + 7 * len(label) + 18
    parts.append("</svg>")
    return "".join(parts)
