"""app.money: Decimal in, Decimal out, integers of ISO 4217 minor units in the database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.money import (
    MoneyError,
    check_currency,
    decimal_places,
    from_minor,
    minor_digits,
    money_text,
    parse_decimal,
    quantum,
    round_money,
    to_minor,
)

CURRENCIES = ["JPY", "EUR", "KWD", "USD", "CAD", "CHF", "BHD", "KRW"]


@pytest.mark.parametrize(("currency", "digits"), [("JPY", 0), ("KRW", 0), ("EUR", 2), ("USD", 2), ("CAD", 2),
                                                   ("KWD", 3), ("BHD", 3), ("TND", 3)])
def test_minor_units_follow_iso_4217(currency, digits):
    assert minor_digits(currency) == digits
    assert quantum(currency) == Decimal(1).scaleb(-digits)


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    ("1234.50", "EUR", 123450),
    ("0.01", "EUR", 1),
    ("-0.01", "EUR", -1),
    ("0", "EUR", 0),
    ("1500", "JPY", 1500),
    ("1.234", "KWD", 1234),
    ("1.2", "KWD", 1200),
    ("12345678901234567.89", "EUR", 1234567890123456789),
    ("-12345678901234567.89", "USD", -1234567890123456789),
    ("123456789012345678", "JPY", 123456789012345678),
])
def test_to_minor_and_back(amount, currency, minor):
    value = Decimal(amount)
    assert to_minor(value, currency) == minor
    assert isinstance(to_minor(value, currency), int)
    back = from_minor(minor, currency)
    assert back == value
    assert back.as_tuple().exponent == -minor_digits(currency)  # always the currency's decimals


def test_from_minor_text_has_exactly_the_currencys_decimals():
    assert str(from_minor(123450, "EUR")) == "1234.50"
    assert str(from_minor(1500, "JPY")) == "1500"
    assert str(from_minor(1200, "KWD")) == "1.200"
    assert str(from_minor(5, "EUR")) == "0.05"
    assert str(from_minor(-5, "EUR")) == "-0.05"
    assert str(from_minor(1234567890123456789, "EUR")) == "12345678901234567.89"


@pytest.mark.parametrize(("amount", "currency"), [("12.345", "EUR"), ("1.5", "JPY"), ("0.0001", "KWD"),
                                                  ("12345678901234567.891", "EUR")])
def test_to_minor_refuses_amounts_finer_than_the_minor_unit(amount, currency):
    with pytest.raises(MoneyError, match="decimals"):
        to_minor(Decimal(amount), currency)


@pytest.mark.parametrize("bad", [12.5, 0.1, True, 3])
def test_to_minor_refuses_anything_but_decimal(bad):
    with pytest.raises(MoneyError):
        to_minor(bad, "EUR")


@pytest.mark.parametrize("bad", [1.5, 100.0, True, Decimal("12.5"), "1250"])
def test_from_minor_refuses_anything_but_an_integer(bad):
    # int(1.5) would silently drop half a cent; a minor-unit count is an integer or nothing.
    with pytest.raises(MoneyError):
        from_minor(bad, "EUR")


@pytest.mark.parametrize(("amount", "currency", "rounded"), [
    ("0.005", "EUR", "0.01"),
    ("0.004", "EUR", "0.00"),
    ("-0.005", "EUR", "-0.01"),   # half away from zero, symmetric for credits
    ("2.5", "JPY", "3"),
    ("1.0005", "KWD", "1.001"),
    ("1.0004", "KWD", "1.000"),
])
def test_round_money_is_half_up(amount, currency, rounded):
    assert str(round_money(Decimal(amount), currency)) == rounded


def test_money_text_is_the_json_form():
    assert money_text(Decimal("1234.5"), "EUR") == "1234.50"
    assert money_text(Decimal("1234.5"), "JPY") == "1235"
    assert money_text(Decimal("7"), "KWD") == "7.000"


@pytest.mark.parametrize(("text", "value"), [
    ("12.50", Decimal("12.50")),
    (" 1 234.50 ", Decimal("1234.50")),
    ("1\u00a0234.50", Decimal("1234.50")),
    (12, Decimal(12)),
    (Decimal("0.0001"), Decimal("0.0001")),
    ("-3", Decimal(-3)),
    ("12345678901234567.89", Decimal("12345678901234567.89")),
])
def test_parse_decimal_reads_exact_text(text, value):
    parsed = parse_decimal(text)
    assert parsed == value
    assert isinstance(parsed, Decimal)


@pytest.mark.parametrize("bad", [12.5, 0.1, float("nan"), True, False])
def test_parse_decimal_refuses_floats_and_booleans(bad):
    with pytest.raises(MoneyError, match="as text"):
        parse_decimal(bad, field="Amount")


@pytest.mark.parametrize("bad", ["", "   ", "abc", "1,5", "12.5.0", "NaN", "Infinity", "-inf", "1e", Decimal("NaN")])
def test_parse_decimal_refuses_non_numbers(bad):
    with pytest.raises(MoneyError):
        parse_decimal(bad, field="amount")


@pytest.mark.parametrize(("value", "places"), [
    (Decimal("1.50"), 2), (Decimal("0.0125"), 4), (Decimal(100), 0), (Decimal("1E+2"), 0), (Decimal("-3.1"), 1),
])
def test_decimal_places_counts_the_written_digits_after_the_point(value, places):
    assert decimal_places(value) == places


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_decimal_places_refuses_what_is_not_a_number(bad):
    with pytest.raises(MoneyError, match="not a number"):
        decimal_places(bad)


def test_parse_decimal_names_the_field():
    with pytest.raises(MoneyError, match=r"^Unit price: "):
        parse_decimal("twelve", field="Unit price")


@pytest.mark.parametrize(("code", "normal"), [("EUR", "EUR"), ("eur", "EUR"), (" cad ", "CAD"), ("JPY", "JPY")])
def test_check_currency_normalises_known_codes(code, normal):
    assert check_currency(code) == normal


@pytest.mark.parametrize("bad", ["XYZ", "", "EU", "EURO", "123", None])
def test_check_currency_refuses_unknown_codes(bad):
    with pytest.raises(MoneyError, match="unknown currency"):
        check_currency(bad)


def test_minor_digits_refuses_unknown_currency():
    with pytest.raises(MoneyError):
        minor_digits("XYZ")


# -- properties ----------------------------------------------------------------

currencies = st.sampled_from(CURRENCIES)
big_integers = st.integers(min_value=-(10**20), max_value=10**20)


@given(minor=big_integers, currency=currencies)
def test_from_minor_then_to_minor_is_identity(minor, currency):
    amount = from_minor(minor, currency)
    assert isinstance(amount, Decimal)
    assert to_minor(amount, currency) == minor


@given(minor=big_integers, currency=currencies)
def test_text_round_trip_is_exact(minor, currency):
    """What JSON carries (a string) reads back to the same number of minor units."""
    text = money_text(from_minor(minor, currency), currency)
    assert to_minor(parse_decimal(text), currency) == minor


@given(amount=st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), allow_nan=False,
                          allow_infinity=False, places=6), currency=currencies)
def test_rounding_then_storing_loses_at_most_half_a_minor_unit(amount, currency):
    rounded = round_money(amount, currency)
    assert abs(rounded - amount) <= quantum(currency) / 2
    assert from_minor(to_minor(rounded, currency), currency) == rounded


@given(amount=st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), allow_nan=False,
                          allow_infinity=False, places=6), currency=currencies)
def test_rounding_is_symmetric_around_zero(amount, currency):
    assert round_money(-amount, currency) == -round_money(amount, currency)
