"""Numbers, money and dates in the reader's locale, both ways (issue 15 point 3): app.common.numbers reads
what a locale writes, strictly; app.web.templating writes it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from app.common import i18n
from app.common.logic import Form
from app.common.numbers import NumberNotRead, as_typed, input_text, read_decimal
from app.web.templating import amount, day, money, number, plain_number

LOCALES = ("de", "fr", "en_CA", "de_CH", "fr_CA")


@pytest.mark.parametrize(("locale", "typed", "value"), [
    ("de", "1.200,50", "1200.50"), ("de", "1200,5", "1200.5"), ("de", "1.200.000", "1200000"), ("de", "-3,5", "-3.5"),
    ("de", "0,0125", "0.0125"), ("de", "12.50", "12.50"), ("de", "1200.50", "1200.50"), ("de", "1200", "1200"),
    ("fr", "1 200,50", "1200.50"), ("fr", "1\u00a0200,50", "1200.50"), ("fr", "1\u202f200,50", "1200.50"),
    ("fr_CA", "1 234,5", "1234.5"), ("de_CH", "1'200.50", "1200.50"), ("de_CH", "1’200.50", "1200.50"),
    ("en_CA", "1,200", "1200"), ("en_CA", "1.200", "1.200"), ("en_CA", "-1,234.5", "-1234.5"),
    ("en_CA", "1 200.50", "1200.50"), ("en_CA", " 7 ", "7"),
])
def test_what_each_locale_writes_is_read_exactly(locale: str, typed: str, value: str) -> None:
    assert read_decimal(typed, locale) == Decimal(value)


@pytest.mark.parametrize(("locale", "typed", "shown"), [
    ("de", "1.200", ["1200", "1,2"]),            # German grouping or a plain decimal point: refused, both shown
    ("en_CA", "1,5", ["did you mean 1.5?"]),     # a decimal comma in English
    ("de", "1,2,3", ["1.234,56"]),               # nothing German: the message shows how German writes numbers
    ("en_CA", "1 200,50", ["1,234.56"]),
    ("de", "abc", ["'abc'"]),
    ("fr", "", ["a number is required"]),
])
def test_what_a_locale_does_not_write_is_refused_saying_how_it_was_read(locale: str, typed: str,
                                                                         shown: list[str]) -> None:
    with pytest.raises(NumberNotRead) as refused:
        read_decimal(typed, locale)
    for part in shown:
        assert part in str(refused.value)


def test_the_refusal_is_in_the_readers_language() -> None:
    with i18n.using_locale("de"), pytest.raises(NumberNotRead) as refused:
        read_decimal("1.200", "de")
    assert "zweifach" in str(refused.value)


money_values = st.decimals(min_value=Decimal("-999999999.99"), max_value=Decimal("999999999.99"), places=2,
                           allow_nan=False, allow_infinity=False)
exact_values = st.decimals(min_value=Decimal("-99999999"), max_value=Decimal("99999999"), places=4,
                           allow_nan=False, allow_infinity=False)


@given(value=money_values, locale=st.sampled_from(LOCALES))
def test_a_grouped_amount_as_shown_reads_back_as_the_same_number(value: Decimal, locale: str) -> None:
    shown = format_decimal(value, format="#,##0.00", locale=locale)
    assert read_decimal(shown, locale) == value


@given(value=exact_values, locale=st.sampled_from(LOCALES))
def test_a_number_written_into_a_form_field_reads_back_exactly(value: Decimal, locale: str) -> None:
    assert read_decimal(input_text(value, locale), locale) == value


@given(value=exact_values, locale=st.sampled_from(LOCALES))
def test_a_plain_decimal_the_program_fills_in_reads_back_exactly(value: Decimal, locale: str) -> None:
    with i18n.using_locale(locale, typed=True):
        assert read_decimal(as_typed(format(value, "f")), locale) == value


def test_page_forms_read_typed_numbers_the_readers_way_and_the_api_plain() -> None:
    with i18n.using_locale("de", typed=True):
        form = Form({"price": "1.200,50"})
        form.decimal("price")
        assert form.values == {"price": Decimal("1200.50")}
    plain = Form({"price": "1.200,50"})            # outside a page (the API): plain decimals only
    plain.decimal("price")
    assert plain.errors and "price" not in plain.values


@pytest.mark.parametrize(("locale", "money_text", "day_text"), [
    ("en_CA", "€1,234.50", "2026-12-05"), ("de", "1.234,50\u00a0€", "05.12.2026"),
    ("fr", "1\u202f234,50\u00a0€", "05/12/2026"), ("de_CH", "EUR\u00a01’234.50", "05.12.2026"),
    ("en_US", "€1,234.50", "Dec 5, 2026"),
])
def test_money_and_dates_are_written_in_the_requests_locale(locale: str, money_text: str, day_text: str) -> None:
    with i18n.using_locale(locale):
        assert money(Decimal("1234.5"), "EUR") == money_text
        assert day(date(2026, 12, 5)) == day_text


def test_the_default_stays_as_the_program_always_wrote_it() -> None:
    assert money("1234.5", "CAD") == "$1,234.50"
    assert amount("1234.4", "JPY") == "1,234"
    assert day(date(2026, 12, 5)) == "2026-12-05"
    assert day(datetime(2026, 12, 5, 14, 5, tzinfo=UTC)) == "2026-12-05 14:05"
    assert plain_number("9.975") == "9.975" and number("1234.5") == "1,234.5"


def test_times_are_shown_in_the_business_time_zone() -> None:
    stored = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)
    with i18n.using_locale("de", time_zone="Europe/Berlin"):
        assert day(stored) == "06.12.2026 00:30"
        assert plain_number("9.975") == "9,975"
    with i18n.using_locale("en_CA", time_zone="America/Toronto"):
        assert day(stored) == "2026-12-05 18:30"
    with i18n.using_locale("de", time_zone="Nowhere/Gone"):
        assert day(stored) == "05.12.2026 23:30"     # an unknown zone counts as UTC
