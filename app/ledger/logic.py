"""The client ledger: running balances, statements and aging. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

KINDS = {
    "invoice": "Invoice", "credit_note": "Credit note", "cancellation": "Cancellation", "payment": "Payment",
    "reversal": "Payment reversed", "credit_applied": "Credit applied", "refund": "Refund",
}
AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "over 90")


@dataclass(frozen=True)
class Entry:
    entry_date: date
    kind: str
    number: str
    description: str
    debit: Decimal
    credit: Decimal
    amount: Decimal = Decimal(0)
    document_id: int | None = None


@dataclass(frozen=True)
class Row:
    entry: Entry
    balance: Decimal


def running(entries: Iterable[Entry], opening: Decimal = Decimal(0)) -> list[Row]:
    balance = opening
    rows = []
    for entry in entries:
        balance = balance + entry.debit - entry.credit
        rows.append(Row(entry, balance))
    return rows


def balance_of(entries: Iterable[Entry]) -> Decimal:
    return sum((e.debit - e.credit for e in entries), Decimal(0))


def standing(balance: Decimal) -> str:
    """owes (red), settled (neutral), credit (green): how the client list colours a balance."""
    if balance > 0:
        return "owes"
    if balance < 0:
        return "credit"
    return "settled"


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


AGING_PAGE = 100  # clients per page of the aging report (the most overdue first; the totals count them all)


def aging(open_items: Iterable[tuple[date | None, Decimal]], as_of: date) -> dict[str, Decimal]:
    """Open balances by how far past due they are."""
    buckets = {name: Decimal(0) for name in AGING_BUCKETS}
    for due_date, amount in open_items:
        if amount > 0:
            buckets[aging_bucket(due_date, as_of)] += amount
    return buckets


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
    """Entries must be in ledger order; those before the period make the opening balance."""
    before = [e for e in entries if e.entry_date < date_from]
    within = [e for e in entries if date_from <= e.entry_date <= date_to]
    opening = balance_of(before)
    rows = running(within, opening)
    closing = rows[-1].balance if rows else opening
    return Statement(date_from, date_to, opening, rows, closing, aging(open_items, date_to))
