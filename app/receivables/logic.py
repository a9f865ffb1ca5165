"""Receivables: what clients owe on their invoices, how far past due it is, and their statements. Pure.

An invoice's open amount is documents' balance (total less paid less credited); here it is also
taken as it stood at the end of a past day, from the dated settlements that moved it, so a
statement for a period that has ended shows what was owed then, not what is owed today.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from app.common.i18n import _
from app.common.logic import FieldError, ValidationFailed, period_problems
from app.documents.logic import balance, sql_date
from app.ledger.logic import Entry, Row, balance_of, running
from app.money import round_money

AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "over 90")
AGING_PAGE = 100  # clients per page of the aging report (the most overdue first; the totals count them all)


# -- aging ----------------------------------------------------------------------------------

def aging_bucket(due_date: date | None, as_of: date) -> str:
    if due_date is None or due_date >= as_of:
        return "current"
    days = (as_of - due_date).days
    if days <= 30:
        return "1-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "over 90"


def aging_starts(as_of: date) -> tuple[date, date, date, date]:
    """The earliest due date of the buckets 1-30, 31-60 and 61-90, and of "current" (as_of itself):
    the same edges as aging_bucket, as dates a query can compare due dates with."""
    return as_of - timedelta(days=30), as_of - timedelta(days=60), as_of - timedelta(days=90), as_of


def aging_bucket_sql(bucket: str, as_of: date, due_date: str = "due_date") -> str:
    """The SQL condition under which aging_bucket(due_date, as_of) == bucket, `due_date` naming the column."""
    day30, day60, day90, day0 = (sql_date(day) for day in aging_starts(as_of))
    conditions = {
        "current": f"{due_date} IS NULL OR {due_date} >= {day0}",
        "1-30": f"{due_date} < {day0} AND {due_date} >= {day30}",
        "31-60": f"{due_date} < {day30} AND {due_date} >= {day60}",
        "61-90": f"{due_date} < {day60} AND {due_date} >= {day90}",
        "over 90": f"{due_date} < {day90}",
    }
    return f"({conditions[bucket]})"


def aging(open_items: Iterable[tuple[date | None, Decimal]], as_of: date) -> dict[str, Decimal]:
    """Open balances by how far past due they are."""
    buckets = {name: Decimal(0) for name in AGING_BUCKETS}
    for due_date, amount in open_items:
        if amount > 0:
            buckets[aging_bucket(due_date, as_of)] += amount
    return buckets


# -- open amounts as of a day ---------------------------------------------------------------

@dataclass(frozen=True)
class Settlement:
    """Money that settled part of one invoice from a day on: a payment (until a reversal undid it),
    client credit applied to it, or a credit note against it (a cancellation is one too)."""

    day: date
    amount: Decimal
    undone_on: date | None = None

    def counts_on(self, day: date) -> bool:
        """Whether it had settled the invoice at the end of `day`: it had happened and was not undone yet."""
        return self.day <= day and (self.undone_on is None or self.undone_on > day)


@dataclass(frozen=True)
class InvoiceHistory:
    """An issued invoice (cancelled ones too) with everything that ever settled it."""

    id: int
    number: str
    currency: str
    issue_date: date
    due_date: date | None
    total: Decimal
    paid: tuple[Settlement, ...] = ()       # payments and applied client credit
    credited: tuple[Settlement, ...] = ()   # credit notes against it

    def open_on(self, day: date) -> Decimal:
        """What was owed on it at the end of `day` (nothing before it was issued)."""
        if self.issue_date > day:
            return Decimal(0)
        return balance(self.total, sum((s.amount for s in self.paid if s.counts_on(day)), Decimal(0)),
                       sum((s.amount for s in self.credited if s.counts_on(day)), Decimal(0)))


def open_items_on(invoices: Iterable[InvoiceHistory], day: date) -> list[tuple[date | None, Decimal]]:
    """(due date, open amount) of every invoice that was owed on at the end of `day`, for aging."""
    return [(invoice.due_date, amount) for invoice in invoices if (amount := invoice.open_on(day)) > 0]


# -- statements -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Statement:
    date_from: date
    date_to: date
    opening: Decimal
    rows: Sequence[Row]
    closing: Decimal
    aging: Mapping[str, Decimal]


def statement(entries: Sequence[Entry], date_from: date, date_to: date,
              open_items: Iterable[tuple[date | None, Decimal]]) -> Statement:
    """Entries must be in ledger order; those before the period make the opening balance. The open items
    are aged at the end of the period: they must be the amounts open then (open_items_on(..., date_to))."""
    before = [e for e in entries if e.entry_date < date_from]
    within = [e for e in entries if date_from <= e.entry_date <= date_to]
    opening = balance_of(before)
    rows = running(within, opening)
    closing = rows[-1].balance if rows else opening
    return Statement(date_from, date_to, opening, rows, closing, aging(open_items, date_to))


def in_currency(result: Statement, currency: str) -> Statement:
    """The statement's sums with the currency's decimals: an empty opening or period sums to a bare
    Decimal(0), shown as "0.00" in EUR."""
    return Statement(result.date_from, result.date_to, round_money(result.opening, currency), result.rows,
                     round_money(result.closing, currency),
                     {name: round_money(amount, currency) for name, amount in result.aging.items()})


def statement_period(date_from: date | None, date_to: date | None, today: date) -> tuple[date, date]:
    """The period a statement covers: up to today unless told, from the first of January of its last year."""
    out_of_range = period_problems(date_from, date_to)
    if out_of_range:
        raise ValidationFailed(out_of_range)
    date_to = date_to or today
    date_from = date_from or date(date_to.year, 1, 1)
    if date_to < date_from:
        raise ValidationFailed([FieldError("to", _("The end of the period is before its start"))])
    return date_from, date_to


def statement_date(date_to: date, today: date) -> date:
    """The day a statement is dated: the end of its period, or today while the period still runs."""
    return min(date_to, today)


# -- records the service returns ------------------------------------------------------------

@dataclass(frozen=True)
class StatementView:
    """A client's statement in one currency, as the page, the API, the PDF and the email show it."""

    client: Mapping[str, Any]   # the client's row: name, code, address, language, email...
    currency: str
    currencies: tuple[str, ...]   # every currency the client has an account in
    statement: Statement
    statement_date: date


@dataclass(frozen=True)
class OpenInvoice:
    """An invoice with money owed on it today."""

    id: int
    number: str
    client_id: int
    client_name: str
    currency: str
    issue_date: date
    due_date: date | None
    total: Decimal
    open: Decimal


@dataclass(frozen=True)
class AgingRow:
    """What one client owes in one currency, by how far past due."""

    client_id: int
    client_name: str
    currency: str
    buckets: Mapping[str, Decimal]
    total: Decimal


@dataclass(frozen=True)
class AgingTotal:
    """The sum of every client's aging row in one currency."""

    currency: str
    buckets: Mapping[str, Decimal]
    total: Decimal


@dataclass(frozen=True)
class AccountLine:
    """A client's account in one currency, as its page heads it: what the ledger says it owes (below
    zero: it is in credit), the open invoices behind that, how much of it is past due, and the credit
    not yet applied to an invoice (overpayments, credit notes on account)."""

    currency: str
    balance: Decimal
    owed: Decimal
    overdue: Decimal
    open_invoices: int
    overdue_invoices: int
    credit: Decimal


def account_lines(balances: Iterable[tuple[str, Decimal]], credits: Iterable[tuple[str, Decimal]],
                  invoices: Iterable[OpenInvoice], today: date) -> list[AccountLine]:
    """One line per currency the client has a ledger, a credit or an open invoice in, sorted by currency."""
    balance_of = dict(balances)
    credit_of = dict(credits)
    owed: dict[str, list[Decimal]] = {}
    late: dict[str, list[Decimal]] = {}
    for invoice in invoices:
        owed.setdefault(invoice.currency, []).append(invoice.open)
        if invoice.due_date is not None and invoice.due_date < today:
            late.setdefault(invoice.currency, []).append(invoice.open)
    currencies = sorted(set(balance_of) | set(credit_of) | set(owed))
    return [AccountLine(currency=currency, balance=balance_of.get(currency, Decimal(0)),
                        owed=sum(owed.get(currency, []), Decimal(0)), overdue=sum(late.get(currency, []), Decimal(0)),
                        open_invoices=len(owed.get(currency, [])), overdue_invoices=len(late.get(currency, [])),
                        credit=credit_of.get(currency, Decimal(0))) for currency in currencies]
