"""Payments' pure rules: input checks, the overpayment rule, reversals, client credit (issue 4)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.common.logic import Conflict, ValidationFailed
from app.payments import logic
from app.payments.logic import (
    PaymentInput,
    available_credit,
    check_credit_use,
    check_reversal,
    clean_payment,
    split_payment,
)

TODAY = date(2026, 3, 15)
D = Decimal


def errors_of(data: dict, currency: str = "CAD", today: date = TODAY) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failed:
        clean_payment(data, currency, today)
    return failed.value.by_field()


# -- split_payment: what goes to the invoice, what becomes credit ------------------------

def test_exact_payment_settles_the_invoice_and_keeps_nothing():
    assert split_payment(D("100.00"), D("100.00"), False, "CAD") == (D("100.00"), D(0))
    assert split_payment(D("100.00"), D("100.00"), True, "CAD") == (D("100.00"), D(0))


def test_underpayment_is_all_applied():
    assert split_payment(D("40.00"), D("100.00"), False, "CAD") == (D("40.00"), D(0))
    assert split_payment(D("0.01"), D("100.00"), True, "CAD") == (D("0.01"), D(0))


def test_overpayment_is_refused_naming_both_amounts_without_the_users_say_so():
    with pytest.raises(ValidationFailed) as failed:
        split_payment(D("120.00"), D("100.00"), False, "CAD")
    message = failed.value.by_field()["amount"]
    assert "120.00 CAD" in message and "100.00 CAD" in message
    assert "tick “Keep any amount above the balance as client credit”" in message   # the box's own words


def test_overpayment_with_keep_excess_pays_the_balance_and_keeps_the_rest_as_credit():
    applied, excess = split_payment(D("120.00"), D("100.00"), True, "CAD")
    assert (applied, excess) == (D("100.00"), D("20.00"))
    assert applied + excess == D("120.00")
    # one cent over
    assert split_payment(D("100.01"), D("100.00"), True, "CAD") == (D("100.00"), D("0.01"))


@pytest.mark.parametrize("open_amount", [D(0), D("-5.00")])
def test_nothing_left_to_pay_is_a_conflict_even_with_keep_excess(open_amount):
    with pytest.raises(Conflict, match="nothing left to pay"):
        split_payment(D("10.00"), open_amount, True, "CAD")


@given(amount=st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2),
       open_amount=st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2))
def test_split_always_adds_up_and_never_overpays_the_invoice(amount, open_amount):
    applied, excess = split_payment(amount, open_amount, True, "CAD")
    assert applied + excess == amount
    assert D(0) < applied <= open_amount
    assert excess >= 0
    assert (excess > 0) == (amount > open_amount)


# -- clean_payment -----------------------------------------------------------------

def test_a_clean_payment():
    values = clean_payment({"amount": "250.50", "date": "2026-03-01", "method": "cheque", "reference": " CHQ 42 ",
                            "note": "thanks", "keep_excess_as_credit": "on"}, "CAD", TODAY)
    assert values == PaymentInput(amount=D("250.50"), payment_date=date(2026, 3, 1), method="cheque",
                                  reference="CHQ 42", note="thanks", keep_excess_as_credit=True)


def test_defaults_are_today_bank_transfer_and_no_credit():
    values = clean_payment({"amount": "10"}, "CAD", TODAY)
    assert (values.payment_date, values.method, values.keep_excess_as_credit, values.reference) == \
        (TODAY, "bank_transfer", False, "")


def test_payment_date_is_also_read_as_payment_date():
    assert clean_payment({"amount": "10", "payment_date": "2026-02-02"}, "CAD", TODAY).payment_date == date(2026, 2, 2)


def test_a_payment_dated_today_is_accepted():
    assert clean_payment({"amount": "1", "date": TODAY.isoformat()}, "CAD", TODAY).payment_date == TODAY


@pytest.mark.parametrize("amount", ["0", "0.00", 0])
def test_amount_zero_is_refused(amount):
    assert errors_of({"amount": amount})["amount"] == "The amount must be above zero"


def test_negative_amount_is_refused():
    assert "negative" in errors_of({"amount": "-5.00"})["amount"]


def test_amount_must_be_a_number():
    assert "'abc' is not a number" in errors_of({"amount": "abc"})["amount"]


@pytest.mark.parametrize("amount", ["", None])
def test_amount_is_required(amount):
    assert "required" in errors_of({"amount": amount})["amount"]


def test_a_float_is_refused():
    assert "amount" in errors_of({"amount": 12.5})


def test_three_decimals_are_refused_for_cad():
    assert errors_of({"amount": "10.005"})["amount"] == "CAD amounts have at most 2 decimals"


def test_one_decimal_and_trailing_zeros_are_fine_for_cad():
    assert clean_payment({"amount": "10.5"}, "CAD", TODAY).amount == D("10.50")
    assert clean_payment({"amount": "10.500"}, "CAD", TODAY).amount == D("10.50")


def test_jpy_has_no_decimals():
    assert errors_of({"amount": "100.5"}, "JPY")["amount"] == "JPY amounts have at most 0 decimals"
    assert clean_payment({"amount": "1500"}, "JPY", TODAY).amount == D(1500)


def test_kwd_has_three_decimals():
    assert clean_payment({"amount": "1.125"}, "KWD", TODAY).amount == D("1.125")
    assert "at most 3 decimals" in errors_of({"amount": "1.1255"}, "KWD")["amount"]


@pytest.mark.parametrize("amount", ["1e13", "1e30", "99999999999999999999999999999999999"])
def test_absurdly_large_amounts_are_a_field_error_not_a_crash(amount):
    assert errors_of({"amount": amount})["amount"] == "Amount is too large (at most 13 digits before the decimal point)"


def test_a_future_date_is_refused():
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert errors_of({"amount": "10", "date": tomorrow})["date"] == "A payment cannot be dated in the future"


def test_a_bad_date_names_the_field():
    assert "date" in errors_of({"amount": "10", "date": "2026-02-30"})
    assert "date" in errors_of({"amount": "10", "date": "yesterday"})


def test_unknown_method_is_refused_listing_the_methods():
    message = errors_of({"amount": "10", "method": "bitcoin"})["method"]
    assert message.startswith("Method must be one of:")
    for method in ("bank_transfer", "card", "cash", "cheque", "paypal", "other"):
        assert method in message


def test_every_method_the_issue_names_is_accepted():
    assert set(logic.METHODS) == {"cash", "bank_transfer", "card", "cheque", "paypal", "other"}
    for method in logic.METHODS:
        assert clean_payment({"amount": "1", "method": method}, "CAD", TODAY).method == method


def test_all_errors_come_together():
    errors = errors_of({"amount": "-1", "date": "2099-01-01", "method": "barter", "reference": "x" * 201,
                        "keep_excess_as_credit": "maybe"})
    assert set(errors) == {"amount", "date", "method", "reference", "keep_excess_as_credit"}


@pytest.mark.parametrize("raw, expected", [("on", True), ("true", True), ("1", True), (True, True),
                                           ("off", False), ("", False), (False, False)])
def test_keep_excess_reads_form_and_json_values(raw, expected):
    assert clean_payment({"amount": "1", "keep_excess_as_credit": raw}, "CAD", TODAY).keep_excess_as_credit \
        is expected


# -- reversals -----------------------------------------------------------------------

def test_a_live_payment_with_a_reason_can_be_reversed():
    check_reversal("live", D(0), D(0), "cheque bounced")
    check_reversal("live", D("20.00"), D("20.00"), "wrong client")  # its credit is still all there


def test_a_reversed_payment_cannot_be_reversed_again():
    with pytest.raises(Conflict, match="already reversed"):
        check_reversal("reversed", D(0), D(0), "again")


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_a_reversal_needs_a_reason(reason):
    with pytest.raises(ValidationFailed) as failed:
        check_reversal("live", D(0), D(0), reason)
    assert "reason" in failed.value.by_field()


def test_a_reversal_that_would_make_credit_negative_is_a_conflict():
    with pytest.raises(Conflict, match="negative credit"):
        check_reversal("live", D("20.00"), D("19.99"), "wrong client")


# -- client credit -----------------------------------------------------------------------

def test_available_credit_sums_notes_and_excess_less_what_was_used():
    assert available_credit(credit_notes_on_account=D("50.00"), payment_excess=D("20.00"), applied=D("30.00"),
                            refunded=D("5.00")) == D("35.00")


def test_credit_use_within_limits():
    check_credit_use(D("10.00"), D("10.00"), D("10.00"), "apply")
    check_credit_use(D("10.00"), D("10.00"), D("0"), "refund")  # a refund is not limited by any invoice


@pytest.mark.parametrize("amount", [D(0), D("-1")])
def test_credit_use_must_be_above_zero(amount):
    with pytest.raises(ValidationFailed, match="above zero"):
        check_credit_use(amount, D("10"), D("10"), "apply")


def test_cannot_use_more_credit_than_available():
    with pytest.raises(ValidationFailed) as failed:
        check_credit_use(D("10.01"), D("10.00"), D("50.00"), "apply")
    assert failed.value.by_field()["amount"] == "The client has only 10.00 of credit"


def test_cannot_apply_more_than_the_invoice_needs():
    with pytest.raises(ValidationFailed) as failed:
        check_credit_use(D("30.00"), D("50.00"), D("25.00"), "apply")
    assert failed.value.by_field()["amount"] == "The invoice has only 25.00 left to pay"
