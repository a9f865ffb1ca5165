"""Catalogue items: exact prices stored as integers of 1/10,000, and validation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.catalog.logic import clean_item, e4_to_price, parse_tax_codes, price_to_e4
from app.common.logic import ValidationFailed


@pytest.mark.parametrize(("price", "e4"), [
    ("120.00", 1_200_000), ("0.0125", 125), ("24.99", 249_900), ("0", 0), ("1.2345", 12_345),
    ("99999999999", 999_999_999_990_000),
])
def test_price_to_e4(price, e4):
    assert price_to_e4(Decimal(price)) == e4


@pytest.mark.parametrize(("e4", "text"), [
    (1_200_000, "120.00"), (125, "0.0125"), (249_900, "24.99"), (185_000, "18.50"), (6_800, "0.68"),
    (12_345, "1.2345"), (12_340, "1.234"), (0, "0.00"), (1, "0.0001"), (10_000_000_000_000, "1000000000.00"),
])
def test_e4_to_price_shows_two_to_four_decimals(e4, text):
    assert str(e4_to_price(e4)) == text


@pytest.mark.parametrize("price", ["0.00001", "1.23456", "0.123456789"])
def test_more_than_four_decimals_cannot_be_stored(price):
    with pytest.raises(ValueError, match="more than 4 decimal places"):
        price_to_e4(Decimal(price))


@given(st.decimals(min_value=0, max_value=Decimal("99999999999"), places=4, allow_nan=False, allow_infinity=False))
def test_price_round_trip_is_exact(price):
    stored = price_to_e4(price)
    assert isinstance(stored, int)
    back = e4_to_price(stored)
    assert back == price
    assert 2 <= -back.as_tuple().exponent <= 4


@given(st.integers(min_value=0, max_value=10**15))
def test_stored_round_trip_is_exact(e4):
    assert price_to_e4(e4_to_price(e4)) == e4


# -- validation ------------------------------------------------------------------

def errors_of(data, **kwargs) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failed:
        clean_item(data, **kwargs)
    return failed.value.by_field()


GOOD = {"code": "DEV-H", "name": "Development", "unit_price": "125.00"}


def test_a_good_item():
    values = clean_item({**GOOD, "default_taxes": "hst, gst;HST", "unit": "hour", "kind": "service"})
    assert values["unit_price_e4"] == 1_250_000
    assert "unit_price" not in values
    assert values["default_tax_codes"] == "HST GST"
    assert values["active"] is True
    assert values["kind"] == "service"


def test_trailing_zeros_beyond_four_places_are_still_exact():
    assert clean_item({**GOOD, "unit_price": "1.234500"})["unit_price_e4"] == 12_345


@pytest.mark.parametrize(("field", "value"), [
    ("unit_price", "-1"), ("unit_price", "-0.01"), ("unit_price", "1.23456"), ("unit_price", "abc"),
    ("unit_price", ""), ("unit_price", 12.5), ("unit_price", "1000000000000"),
    ("code", ""), ("code", "bad code"), ("name", ""), ("name", "   "),
    ("kind", "thing"), ("default_taxes", "G$T"), ("active", "maybe"),
])
def test_bad_field_is_named(field, value):
    errors = errors_of({**GOOD, field: value})
    assert list(errors) == [field]


def test_negative_price_message():
    assert "negative" in errors_of({**GOOD, "unit_price": "-5"})["unit_price"]


def test_partial_update_checks_only_what_is_given():
    assert clean_item({"unit_price": "9.5"}, partial=True) == {"unit_price_e4": 95_000}
    assert set(errors_of({"unit_price": "-1"}, partial=True)) == {"unit_price"}


@pytest.mark.parametrize(("raw", "codes"), [
    (None, []), ("", []), ("gst hst", ["GST", "HST"]), (["vat19", "VAT19"], ["VAT19"]), ("a,b;;c", ["A", "B", "C"]),
])
def test_parse_tax_codes(raw, codes):
    assert parse_tax_codes(raw) == codes


@pytest.mark.parametrize(("price", "ok"), [("999999999999.9999", True), ("1000000000000", False),
                                           ("1E+1000000", False)])
def test_a_price_has_at_most_twelve_digits_before_the_point(price, ok):
    from app.catalog.logic import clean_item
    from app.common.logic import ValidationFailed

    if ok:
        assert clean_item({"code": "A", "name": "B", "unit_price": price})["unit_price_e4"] == 9_999_999_999_999_999
    else:
        with pytest.raises(ValidationFailed) as refused:
            clean_item({"code": "A", "name": "B", "unit_price": price})
        assert "at most 12 digits" in refused.value.by_field()["unit_price"]
