"""Profit and loss, pure: revenue against expenses per month and per category, and its SVG chart.

Definitions (shown on the page and in the PDF):
- accrual basis: revenue is the net before tax of the invoices issued in the period less the credit
  notes issued in it (a cancelled invoice and its cancelling credit note cancel out); expenses are the
  nets of the recorded expenses dated in the period;
- cash basis: revenue is what was received on invoices in the period (payments applied and client
  credit put towards them, less reversals on their own date), each before tax in the proportion of
  its invoice's net to its total; expenses count on the day they were paid (an unpaid one not at all);
- realised exchange gains less losses on foreign payments (app.fx) count with revenue, the banks' fees on
  payments with expenses, each on the payment's (or its reversal's) date, in both bases;
- profit = revenue - expenses + exchange result - bank fees. Only one currency is summed (the business's); the rest are counted
  aside and named, never converted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from html import escape

from app.reports.logic import MONTHS, bucket_starts, next_start

BASES = ("accrual", "cash")
ZERO = Decimal(0)


@dataclass(frozen=True)
class RevenueFact:
    day: date
    currency: str
    net: Decimal          # before tax; negative for a credit note or a reversal
    source: str           # "document:12" or "payment:7": what the figure links to
    label: str = ""
    # The same revenue in the base currency at the rate frozen at issue (app.fx), for a foreign invoice
    # issued at a known rate: (base currency, net in it).
    in_base: tuple[str, Decimal] | None = None


@dataclass(frozen=True)
class ExpenseFact:
    day: date
    currency: str
    expense_id: int
    splits: tuple[tuple[str, Decimal], ...]   # (category, net)
    label: str = ""

    @property
    def net(self) -> Decimal:
        return sum((n for _, n in self.splits), ZERO)


@dataclass(frozen=True)
class FxFact:
    """A realised exchange gain (above zero) or loss, or a bank fee on a payment (`kind` "fee", its amount
    a cost above zero), from the ledger's memo entries (app.fx)."""

    day: date
    currency: str
    kind: str            # "fx" | "fee"
    amount: Decimal


@dataclass
class Month:
    key: str
    label: str
    start: date
    end: date
    revenue: Decimal = ZERO
    expenses: Decimal = ZERO

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.expenses


@dataclass
class CategoryTotal:
    code: str
    name: str
    amount: Decimal = ZERO
    count: int = 0


@dataclass
class ProfitAndLoss:
    basis: str
    currency: str
    date_from: date
    date_to: date
    months: list[Month]
    categories: list[CategoryTotal]
    revenue: Decimal = ZERO
    expenses: Decimal = ZERO
    other_currencies: dict[str, int] = field(default_factory=dict)   # currency -> facts left out
    # app.fx: realised exchange gains less losses on foreign payments, and the banks' fees on payments.
    fx_result: Decimal = ZERO
    bank_fees: Decimal = ZERO

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.expenses + self.fx_result - self.bank_fees

    @property
    def revenue_and_fx(self) -> Decimal:
        """The revenue column's total: the revenue and the realised exchange result, a line of its own in it."""
        return self.revenue + self.fx_result

    @property
    def expenses_and_fees(self) -> Decimal:
        """The expenses column's total: the expenses and the banks' fees, a line of their own in it."""
        return self.expenses + self.bank_fees


def profit_and_loss(revenue: Iterable[RevenueFact], expenses: Iterable[ExpenseFact], *, date_from: date,
                    date_to: date, currency: str, basis: str, category_names: Mapping[str, str],
                    fx: Iterable[FxFact] = ()) -> ProfitAndLoss:
    """Every fact dated in the period and in `currency` lands in one month (and its expense's categories)."""
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}")
    months: dict[str, Month] = {}
    for start in bucket_starts(date_from, date_to, "month"):
        key = f"{start.year:04d}-{start.month:02d}"
        months[key] = Month(key=key, label=f"{MONTHS[start.month - 1]} {start.year}", start=max(start, date_from),
                            end=min(next_start(start, "month") - timedelta(days=1), date_to))
    report = ProfitAndLoss(basis=basis, currency=currency, date_from=date_from, date_to=date_to,
                           months=list(months.values()), categories=[])
    categories: dict[str, CategoryTotal] = {}
    for fact in revenue:
        if not date_from <= fact.day <= date_to:
            continue
        net = fact.net
        if fact.currency != currency:
            if fact.in_base is None or fact.in_base[0] != currency:
                report.other_currencies[fact.currency] = report.other_currencies.get(fact.currency, 0) + 1
                continue
            net = fact.in_base[1]
        months[f"{fact.day.year:04d}-{fact.day.month:02d}"].revenue += net
        report.revenue += net
    for expense in expenses:
        if not date_from <= expense.day <= date_to:
            continue
        if expense.currency != currency:
            report.other_currencies[expense.currency] = report.other_currencies.get(expense.currency, 0) + 1
            continue
        months[f"{expense.day.year:04d}-{expense.day.month:02d}"].expenses += expense.net
        report.expenses += expense.net
        for code, net in expense.splits:
            entry = categories.setdefault(code, CategoryTotal(code=code, name=category_names.get(code, code)))
            entry.amount += net
            entry.count += 1
    report.categories = sorted(categories.values(), key=lambda c: (-c.amount, c.name))
    for memo in fx:
        if not date_from <= memo.day <= date_to:
            continue
        if memo.currency != currency:
            report.other_currencies[memo.currency] = report.other_currencies.get(memo.currency, 0) + 1
            continue
        # Lines of their own under revenue and expenses; the months (and the chart) show trading only.
        if memo.kind == "fx":
            report.fx_result += memo.amount
        else:
            report.bank_fees += memo.amount
    return report


def cash_share(received: Decimal, invoice_net: Decimal, invoice_total: Decimal) -> Decimal:
    """The part before tax of money received on an invoice (unrounded: the report rounds its sums)."""
    if invoice_total == 0:
        return ZERO
    return received * invoice_net / invoice_total


# -- the chart ------------------------------------------------------------------------------------

SERIES = (("revenue", "Revenue", "#2f6db3"), ("expenses", "Expenses", "#c2553a"))


def _nice_step(span: Decimal) -> Decimal:
    if span <= 0:
        return Decimal(1)
    exponent = span.adjusted()
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        candidate = step.scaleb(exponent)
        if candidate >= span:
            return candidate
    return Decimal(10).scaleb(exponent)


def _short(value: Decimal) -> str:
    for limit, suffix in ((Decimal("1e9"), "G"), (Decimal("1e6"), "M"), (Decimal("1e3"), "k")):
        if abs(value) >= limit:
            return f"{(value / limit):.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.0f}"


def chart_svg(months: Sequence[Month], currency: str, *, width: int = 760, height: int = 280) -> str:
    """Revenue and expenses per month as paired bars, profit as a line of dots; SVG text, no script."""
    left, right, top, bottom = 60, 10, 16, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for m in months for v in (m.revenue, m.expenses, m.profit)]
    high_value = max([v for v in values if v > 0], default=ZERO)
    low_value = min([v for v in values if v < 0], default=ZERO)
    step = _nice_step((high_value - low_value) / 4)
    low = (low_value / step).to_integral_value(rounding="ROUND_FLOOR") * step
    high = max((high_value / step).to_integral_value(rounding="ROUND_CEILING") * step, low + step)
    span = high - low

    def y(value: Decimal) -> float:
        return top + float((high - value) / span) * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img" '
             f'aria-label="{escape(currency)}: revenue and expenses per month, and the profit">']
    for i in range(int(span / step) + 1):
        value = low + step * i
        gy = y(value)
        parts.append(f'<line x1="{left}" y1="{gy:.1f}" x2="{width - right}" y2="{gy:.1f}" stroke="#e4e7eb" '
                     'stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" font-size="11" fill="#6b7785">'
                     f'{escape(_short(value))}</text>')
    points = []
    if months:
        group = plot_w / len(months)
        bar = max(2.0, min(24.0, group * 0.8 / len(SERIES)))
        label_every = max(1, -(-len(months) * 48 // plot_w))
        for index, month in enumerate(months):
            x0 = left + group * index + (group - bar * len(SERIES)) / 2
            for offset, (name, label, colour) in enumerate(SERIES):
                value = getattr(month, name)
                top_y, zero_y = y(max(value, ZERO)), y(min(value, ZERO))
                parts.append(f'<rect x="{x0 + offset * bar:.1f}" y="{min(top_y, zero_y):.1f}" width="{bar - 1:.1f}" '
                             f'height="{abs(zero_y - top_y):.1f}" fill="{colour}"><title>{escape(month.label)}: '
                             f'{escape(label)} {escape(str(value))} {escape(currency)}</title></rect>')
            cx = left + group * index + group / 2
            points.append((cx, y(month.profit), month))
            if index % label_every == 0:
                parts.append(f'<text x="{cx:.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11" '
                             f'fill="#3e4c59">{escape(month.label)}</text>')
    zero = y(ZERO)
    parts.append(f'<line x1="{left}" y1="{zero:.1f}" x2="{width - right}" y2="{zero:.1f}" stroke="#9aa5b1" '
                 'stroke-width="1"/>')
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{py:.1f}" for x, py, _ in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#2d8a4e" stroke-width="2"/>')
    for x, py, month in points:
        parts.append(f'<circle cx="{x:.1f}" cy="{py:.1f}" r="3.5" fill="#2d8a4e"><title>{escape(month.label)}: '
                     f'profit {escape(str(month.profit))} {escape(currency)}</title></circle>')
    x = left
    for _name, label, colour in (*SERIES, ("profit", "Profit", "#2d8a4e")):
        parts.append(f'<rect x="{x}" y="{height - 16}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{height - 7}" font-size="11" fill="#3e4c59">{escape(label)}</text>')
        x += 14 + 7 * len(label) + 18
    parts.append("</svg>")
    return "".join(parts)
