"""Payments: validation, the overpayment rule, client credit. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.common.i18n import N_, _, money_text
from app.common.logic import Conflict, FieldError, Form, ValidationFailed, control_problem
from app.documents.logic import parse_date
from app.money import minor_digits

METHODS = {"bank_transfer": N_("Bank transfer"), "card": N_("Card"), "cash": N_("Cash"), "cheque": N_("Cheque"),
           "paypal": N_("PayPal"), "other": N_("Other")}
# A payment may settle a whole invoice, whose total (many lines of up to 12 digits each) can pass 12 digits:
# one digit more than a price, still far inside the database's 64-bit integers of minor units.
MAX_AMOUNT_DIGITS = 13


@dataclass(frozen=True)
class PaymentInput:
    amount: Decimal
    payment_date: date
    method: str
    reference: str
    note: str
    keep_excess_as_credit: bool
    # Bank charges kept on the way (app.fx): the invoice is settled by amount + fee; amount is what arrived.
    fee: Decimal = Decimal(0)


def clean_payment(data: Mapping[str, Any], currency: str, today: date) -> PaymentInput:
    form = Form(data)
    form.decimal("amount", minimum=Decimal("0"), label=_("Amount"), max_integer_digits=MAX_AMOUNT_DIGITS)
    amount = form.values.get("amount")
    if amount is not None:
        if amount == 0:
            form.error("amount", _("The amount must be above zero"))
        elif amount != amount.quantize(Decimal(1).scaleb(-minor_digits(currency))):
            form.error("amount", _("%(currency)s amounts have at most %(minor_digits)s decimals", currency=currency, minor_digits=minor_digits(currency)))
    if data.get("fee") not in (None, ""):
        form.decimal("fee", minimum=Decimal("0"), label=_("Bank fee"), max_integer_digits=MAX_AMOUNT_DIGITS)
        fee = form.values.get("fee")
        if fee is not None and fee != fee.quantize(Decimal(1).scaleb(-minor_digits(currency))):
            form.error("fee", _("%(currency)s amounts have at most %(minor_digits)s decimals", currency=currency, minor_digits=minor_digits(currency)))
    errors: list[FieldError] = []
    raw_date = data.get("date", data.get("payment_date"))
    payment_date = parse_date(raw_date, "date", errors, "Date") if raw_date not in (None, "") else today
    if payment_date and payment_date > today:
        errors.append(FieldError("date", _("A payment cannot be dated in the future")))
    form.choice("method", METHODS, default="bank_transfer", label=_("Method"))
    form.text("reference", max_length=200)
    form.text("note", max_length=2000)
    form.boolean("keep_excess_as_credit", default=False)
    form.errors.extend(errors)
    values = form.raise_if_invalid()
    return PaymentInput(amount=values["amount"], payment_date=payment_date or today, method=values["method"],
                        reference=values.get("reference", ""), note=values.get("note", ""),
                        keep_excess_as_credit=values.get("keep_excess_as_credit", False),
                        fee=values.get("fee") or Decimal(0))


def split_payment(amount: Decimal, open_amount: Decimal, keep_excess_as_credit: bool, currency: str) -> tuple[Decimal, Decimal]:
    """(applied to the invoice, kept as client credit). More than the balance needs the user's say-so."""
    if open_amount <= 0:
        raise Conflict(_("This invoice has nothing left to pay."))
    if amount <= open_amount:
        return amount, Decimal(0)
    if not keep_excess_as_credit:
        raise ValidationFailed([FieldError(
            "amount", _("The payment (%(amount)s) is more than the balance due (%(open_amount)s). Lower it, or tick “%(keep)s”.",
                        amount=money_text(amount, currency), open_amount=money_text(open_amount, currency),
                        keep=_("Keep any amount above the balance as client credit")))])
    return open_amount, amount - open_amount


def check_reversal(status: str, excess: Decimal, available_credit: Decimal, reason: str) -> None:
    if status != "live":
        raise Conflict(_("This payment is already reversed."))
    if not reason.strip():
        raise ValidationFailed([FieldError("reason", _("Say why the payment is reversed (it is kept on record)"))])
    if problem := control_problem(reason, "The reason"):
        raise ValidationFailed([FieldError("reason", problem)])
    if excess > available_credit:
        raise Conflict(_("The credit from this payment's excess is already used or refunded; "
                            "a reversal would leave the client with negative credit."))


def check_credit_use(amount: Decimal, available: Decimal, open_amount: Decimal, what: str) -> None:
    if amount <= 0:
        raise ValidationFailed([FieldError("amount", _("The amount must be above zero"))])
    if amount > available:
        raise ValidationFailed([FieldError("amount", _("The client has only %(available)s of credit", available=available))])
    if what == "apply" and amount > open_amount:
        raise ValidationFailed([FieldError("amount", _("The invoice has only %(open_amount)s left to pay", open_amount=open_amount))])


def available_credit(*, credit_notes_on_account: Decimal, payment_excess: Decimal, applied: Decimal,
                     refunded: Decimal) -> Decimal:
    return credit_notes_on_account + payment_excess - applied - refunded


# -- the payments list (issue 21) --------------------------------------------------------------------
# The index a page of the list walks, newest first, for the filters it has. A client's or an invoice's
# payments are few: their index finds them and they are sorted. Otherwise each filter (a state, a
# method, both) has an index in date order (app.payments.tables.EXTRA_INDEXES) that a period narrows.
NARROW_INDEXES = ("payment_client", "payment_invoice")


def list_index(*, client: bool, invoice: bool, method: bool, state: bool) -> str:
    if client:
        return "payment_client"
    if invoice:
        return "payment_invoice"
    if method and state:
        return "payment_method_status_date"
    if method:
        return "payment_method_date"
    if state:
        return "payment_status_date"
    return "payment_payment_date"


@dataclass(frozen=True)
class PageWindow:
    """Which rows of a list in its order make a page: `size` rows after skipping `offset`, counted from
    the end in the other order when `from_end` (a page past the middle skips the fewer rows that way)."""

    size: int
    offset: int
    from_end: bool


def page_window(count: int, offset: int, per_page: int) -> PageWindow:
    """The page starting at `offset` of a list of `count` rows: empty past the end."""
    if offset >= count:
        return PageWindow(0, 0, False)
    size = min(per_page, count - offset)
    if offset > count // 2:
        return PageWindow(size, count - offset - size, True)
    return PageWindow(size, offset, False)
