"""The client ledger: its entries, running balances and how a balance stands. Pure functions.

Statements and aging read the ledger but live in app.receivables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

KINDS = {
    "invoice": "Invoice", "credit_note": "Credit note", "cancellation": "Cancellation", "payment": "Payment",
    "reversal": "Payment reversed", "credit_applied": "Credit applied", "refund": "Refund",
    # app.reminders: a reminder's fee and interest (debit), its cancellation (credit), money received for
    # them (credit) and client credit used for them (moves nothing, like credit_applied).
    "reminder_charge": "Reminder fee and interest", "reminder_cancelled": "Reminder cancelled",
    "charge_payment": "Reminder fee paid", "credit_to_charges": "Credit applied to reminder fee",
    # app.fx: memo entries in the base currency (zero on both sides, the amount shown): the realised exchange
    # gain or loss of a foreign payment against its invoice's frozen rate, the bank's fee on a payment, and
    # their undoing when the payment is reversed. The P&L sums them; the client's balance does not move.
    "fx_gain": "Exchange gain", "fx_loss": "Exchange loss", "bank_fee": "Bank fee on payment",
    "bank_fee_reversed": "Bank fee reversed",
}
# The memo kinds above and the one that undoes each (a reversed payment undoes its gain, loss and fee).
FX_MEMO_UNDO = {"fx_gain": "fx_loss", "fx_loss": "fx_gain", "bank_fee": "bank_fee_reversed"}


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


@dataclass(frozen=True)
class CurrencyLedger:
    """A client's ledger in one currency: every entry in ledger order, each with the balance after it."""

    currency: str
    rows: tuple[Row, ...]

    @property
    def balance(self) -> Decimal:
        return self.rows[-1].balance if self.rows else Decimal(0)


class Balance(NamedTuple):
    """What a client's account in one currency stands at (unpacks as `currency, amount`)."""

    currency: str
    amount: Decimal


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
