"""The client ledger: its entries, running balances and how a balance stands. Pure functions.

Statements and aging read the ledger but live in app.receivables."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from app.common.i18n import N_, _
from app.money import from_minor

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
    currency: str = ""
    # What the line says, as facts (see LINE_PHRASES); None for an entry written before they were kept,
    # which reads as its stored English description.
    refs: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def text(self) -> str:
        """The line in the reader's language (app.common.i18n's current one): pages show this."""
        return line_text(self.kind, self.number, self.refs, self.description,
                         phrase=lambda key: _(LINE_PHRASES[key]),
                         money=lambda minor: f"{from_minor(minor, self.currency or 'EUR')} {self.currency}".strip(),
                         day=lambda text: text)


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


# -- what a line says ----------------------------------------------------------------------------
# An entry keeps its kind and its references (the method, the reason, the amounts...), and is worded when
# it is shown or printed, in the reader's language: a page in the user's (`Entry.text`, gettext), a
# statement in the client's (app.render passes its own per-language phrases). The English description
# stored with it stays the record (the API and the audit trail show it); entries written before the
# references were kept have only that and read as written.

LINE_PHRASES = {
    "invoice": N_("Invoice {number}"),
    "credit_note": N_("Credit note {number}"),
    "credit_note_on_account": N_("Credit note {number} (on account)"),
    "cancellation": N_("Credit note {number}, cancelling the invoice"),
    "payment": N_("Payment, {method}"),
    "kept_as_credit": N_("{amount} kept as credit"),
    "reversal": N_("Payment of {date} reversed"),
    "credit_applied": N_("{amount} of client credit applied to {number}"),
    "refund": N_("Refund of client credit, {method}"),
    "reminder_charge": N_("{title} {number} ({invoices}): fee {fee}, interest {interest}"),
    "reminder_cancelled": N_("{title} {number} cancelled"),
    "credit_to_charges": N_("{amount} of client credit towards the fee and interest of {number}"),
    "charge_payment": N_("Payment of the fee and interest of {number}, {method}"),
    # app.payments' methods, by their code
    "method_bank_transfer": N_("Bank transfer"), "method_card": N_("Card"), "method_cash": N_("Cash"),
    "method_cheque": N_("Cheque"), "method_paypal": N_("PayPal"), "method_other": N_("Other"),
}


def refs_json(refs: Mapping[str, Any] | None) -> str:
    """How an entry's references are stored: JSON, "{}" when it has none (an invoice needs only its number)."""
    return json.dumps(dict(refs or {}), ensure_ascii=False, sort_keys=True, default=str)


def refs_of(text: str | None) -> dict[str, Any] | None:
    """The stored references, or None for an entry written before they were kept (an empty column)."""
    if not text:
        return None
    try:
        refs = json.loads(text)
    except ValueError:
        return None
    return refs if isinstance(refs, dict) else None


def line_text(kind: str, number: str, refs: Mapping[str, Any] | None, description: str, *,
              phrase: Callable[[str], str], money: Callable[[int], str], day: Callable[[str], str]) -> str:
    """An entry's line in words. `phrase(key)` gives LINE_PHRASES[key] in the reader's language, `money`
    writes an amount in minor units, `day` an ISO date, both in the reader's locale. The user's own words
    (a reference, a reason, a reminder's title) are kept as typed."""
    if refs is None:
        return description

    def method() -> str:
        code = str(refs.get("method") or "")
        return phrase(f"method_{code}") if f"method_{code}" in LINE_PHRASES else code

    def reference(text: str) -> str:
        return f"{text} ({refs['reference']})" if refs.get("reference") else text

    def reason(text: str) -> str:
        return f"{text}: {refs['reason']}" if refs.get("reason") else text

    amount = money(int(refs.get("amount_minor") or 0))
    if kind == "invoice":
        return phrase("invoice").format(number=number)
    if kind == "credit_note":
        return phrase("credit_note_on_account" if refs.get("on_account") else "credit_note").format(number=number)
    if kind == "cancellation":
        return phrase("cancellation").format(number=number)
    if kind == "payment":
        text = reference(phrase("payment").format(method=method()))
        if refs.get("excess_minor"):
            text += "; " + phrase("kept_as_credit").format(amount=money(int(refs["excess_minor"])))
        return text
    if kind == "reversal":
        return reason(phrase("reversal").format(date=day(str(refs.get("payment_date") or ""))))
    if kind == "credit_applied":
        return phrase("credit_applied").format(amount=amount, number=number)
    if kind == "refund":
        return reference(phrase("refund").format(method=method()))
    if kind == "reminder_charge":
        return phrase("reminder_charge").format(
            title=refs.get("title") or "", number=number, invoices=refs.get("invoices") or "",
            fee=money(int(refs.get("fee_minor") or 0)), interest=money(int(refs.get("interest_minor") or 0)))
    if kind == "reminder_cancelled":
        return reason(phrase("reminder_cancelled").format(title=refs.get("title") or "", number=number))
    if kind == "credit_to_charges":
        return phrase("credit_to_charges").format(amount=amount, number=number)
    if kind == "charge_payment":
        return reference(phrase("charge_payment").format(number=number, method=method()))
    return description
