"""app.fx.logic: rates, conversion (half-up to the target's minor unit), rate files."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.common.logic import ValidationFailed
from app.fx import logic

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fx"
TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(("amount", "source", "target", "source_rate", "target_rate", "expected"), [
    ("100.00", "CAD", "EUR", "1", "0.6712", "67.12"),
    ("1.00", "CAD", "EUR", "1", "0.66665", "0.67"),          # 0.66665 -> half-up
    ("1.00", "CAD", "EUR", "1", "0.66664", "0.67"),
    ("1.00", "CAD", "EUR", "1", "0.66649", "0.67"),
    ("1.00", "CAD", "EUR", "1", "0.66449", "0.66"),
    ("10.00", "CAD", "JPY", "1", "110.45", "1105"),           # JPY has no minor unit: 1104.5 -> 1105
    ("10.00", "CAD", "JPY", "1", "110.44", "1104"),
    ("1.00", "CAD", "KWD", "1", "0.22215", "0.222"),          # KWD has three: 0.22215 -> 0.222
    ("1.00", "CAD", "KWD", "1", "0.2225", "0.223"),           # 0.2225 -> 0.223 (half-up, not half-even)
    ("67.12", "EUR", "CAD", "0.6712", "1", "100.00"),
    ("100", "EUR", "USD", "0.62", "0.71", "114.52"),           # cross through the base: 100 * 0.71 / 0.62
    ("5.005", "KWD", "KWD", "1", "1", "5.005"),
])
def test_convert_rounds_half_up_to_the_target_minor_unit(amount, source, target, source_rate, target_rate, expected):
    result = logic.convert(Decimal(amount), source, target, Decimal(source_rate), Decimal(target_rate))
    assert result == Decimal(expected) and str(result) == expected


def test_half_up_differs_from_bankers_rounding_on_a_tie():
    assert logic.convert(Decimal("0.125"), "EUR", "USD", Decimal(1), Decimal(1)) == Decimal("0.13")
    assert logic.convert(Decimal("2.5"), "CAD", "JPY", Decimal(1), Decimal(1)) == Decimal("3")


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=2),
       st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000"), places=4),
       st.sampled_from(["EUR", "JPY", "KWD", "USD"]))
def test_a_conversion_is_exact_to_the_target_minor_unit_and_within_half_a_unit(amount, rate, target):
    result = logic.convert(amount, "CAD", target, Decimal(1), rate)
    digits = {"EUR": 2, "JPY": 0, "KWD": 3, "USD": 2}[target]
    assert -result.as_tuple().exponent == digits
    assert abs(result - amount * rate) <= Decimal(1).scaleb(-digits) / 2


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2),
       st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100"), places=4))
def test_to_base_and_back_moves_at_most_a_cent_or_two(amount, rate):
    there = logic.convert(amount, "CAD", "EUR", Decimal(1), rate)
    back = logic.to_base(there, rate, "CAD")
    assert abs(back - amount) <= Decimal("0.01") / rate + Decimal("0.01")


def test_rate_on_takes_the_latest_on_or_before_the_day():
    history = [(date(2026, 11, 2), Decimal("0.62")), (date(2026, 11, 4), Decimal("0.63"))]
    assert logic.rate_on(history, date(2026, 11, 1)) is None
    assert logic.rate_on(history, date(2026, 11, 2)) == Decimal("0.62")
    assert logic.rate_on(history, date(2026, 11, 3)) == Decimal("0.62")
    assert logic.rate_on(history, date(2026, 11, 4)) == Decimal("0.63")
    assert logic.rate_on(history, date(2027, 1, 1)) == Decimal("0.63")


@pytest.mark.parametrize(("value", "message"), [
    ("0", "above zero"), ("-1.2", "above zero"), ("abc", "not a number"), ("", "required"), (None, "required"),
    ("NaN", "not a number"), ("Infinity", "not a number"), (0.5, "as text"), ("0.0000000001", "out of range"),
])
def test_bad_rates_are_refused_naming_the_field(value, message):
    with pytest.raises(ValidationFailed) as failed:
        logic.parse_rate(value)
    assert failed.value.errors[0].field == "rate" and message in failed.value.errors[0].message


def test_clean_rate_names_every_field_at_fault():
    with pytest.raises(ValidationFailed) as failed:
        logic.clean_rate({"date": "2027-01-01", "currency": "XYZ", "rate": "0"}, "CAD", TODAY)
    assert {e.field for e in failed.value.errors} == {"date", "currency", "rate"}
    assert "future" in failed.value.by_field()["date"]
    with pytest.raises(ValidationFailed) as failed:
        logic.clean_rate({"date": "2026-12-01", "currency": "cad", "rate": "1"}, "CAD", TODAY)
    assert "base currency" in failed.value.by_field()["currency"]
    rate = logic.clean_rate({"date": "2026-12-01", "currency": "eur", "rate": " 0.671200 "}, "CAD", TODAY)
    assert rate == logic.RateInput(date(2026, 12, 1), "EUR", Decimal("0.6712"))


def test_significant_keeps_ten_digits_in_plain_notation():
    assert str(logic.significant(Decimal(1) / Decimal(3))) == "0.3333333333"
    assert str(logic.significant(Decimal("1000"))) == "1000"
    assert str(logic.significant(Decimal("110.4500"))) == "110.45"


def test_rate_text_for_the_hint():
    assert logic.rate_text(Decimal("0.6712")) == "0.6712"
    assert logic.rate_text(Decimal("0.00012345")) == "0.0001235"
    assert logic.rate_text(Decimal("110.45")) == "110.4500"


def test_realised_difference_is_a_gain_when_the_currency_rose():
    # Invoice of 1000 EUR frozen at 0.6700 EUR per CAD (1492.54 CAD); paid when 1 CAD = 0.6600 EUR (1515.15 CAD).
    assert logic.realised_difference(Decimal(1000), Decimal("0.67"), Decimal("0.66"), "CAD") == Decimal("22.61")
    assert logic.realised_difference(Decimal(1000), Decimal("0.66"), Decimal("0.67"), "CAD") == Decimal("-22.61")


def test_base_total_sums_per_currency_and_counts_what_it_left_out():
    total = logic.base_total([("EUR", Decimal("100"), Decimal("149.25")), ("CAD", Decimal("10"), Decimal("10")),
                              ("USD", Decimal("5"), None), ("EUR", Decimal("1"), Decimal("1.49"))], "CAD")
    assert [(s.currency, s.amount) for s in total.per_currency] == [("CAD", 10), ("EUR", 101), ("USD", 5)]
    assert total.total == Decimal("160.74") and total.left_out == 1 and total.left_out_currencies == ("USD",)


def _read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_the_ecb_file_is_rebased_to_the_business_base():
    parsed = logic.parse_rate_file(_read("eurofxref-hist.csv"), "CAD", TODAY)
    assert parsed.layout == "ecb"
    rates = {(r.rate_date.isoformat(), r.currency): r.rate for r in parsed.rates}
    # 1 EUR = 1.6150 CAD, so 1 CAD = 1/1.6150 EUR; 1 CAD = 1.1520/1.6150 USD.
    assert rates[("2026-11-03", "EUR")] == Decimal("0.6191950464")
    assert rates[("2026-11-03", "USD")] == Decimal("0.7133126935")
    assert ("2026-11-03", "CAD") not in rates and ("2026-11-03", "CYP") not in rates
    assert parsed.skipped == 2  # CYP is N/A on both days
    assert logic.parse_rate_file(_read("eurofxref-hist.csv"), "EUR", TODAY).rates[0].rate == Decimal("1.152")


def test_the_bank_of_canada_file_turns_cad_per_unit_into_units_per_cad():
    parsed = logic.parse_rate_file(_read("boc-fx.csv"), "CAD", TODAY)
    assert parsed.layout == "boc"
    rates = {(r.rate_date.isoformat(), r.currency): r.rate for r in parsed.rates}
    assert rates[("2026-11-02", "USD")] == Decimal("0.7127583749")
    assert rates[("2026-11-02", "JPY")] == Decimal("108.2251082")
    assert ("2026-11-03", "JPY") not in rates and parsed.skipped == 1
    in_eur = {(r.rate_date.isoformat(), r.currency): r.rate for r in logic.parse_rate_file(_read("boc-fx.csv"), "EUR",
                                                                                             TODAY).rates}
    assert in_eur[("2026-11-02", "CAD")] == Decimal("1.612")


def test_the_plain_file_and_its_faults_by_line():
    parsed = logic.parse_rate_file(_read("plain.csv"), "CAD", TODAY)
    assert parsed.layout == "csv" and len(parsed.rates) == 3 and parsed.skipped == 0
    with pytest.raises(logic.RateFileError, match="line 3: rate: the rate must be above zero"):
        logic.parse_rate_file(_read("bad-line.csv"), "CAD", TODAY)
    with pytest.raises(logic.RateFileError, match="line 1: not a rate file"):
        logic.parse_rate_file(_read("unknown-layout.csv"), "CAD", TODAY)
    with pytest.raises(logic.RateFileError, match="line 2: date: 2027-01-02 is in the future"):
        logic.parse_rate_file("date,currency,rate\n2027-01-02,EUR,0.6\n", "CAD", TODAY)
    with pytest.raises(logic.RateFileError, match="line 1: currency: unknown currency"):
        logic.parse_rate_file("2026-01-02,ABC,0.6\n", "CAD", TODAY)
    with pytest.raises(logic.RateFileError, match="line 1: not a rate file"):
        logic.parse_rate_file("", "CAD", TODAY)


# -- bank accounts per currency ---------------------------------------------------------------------

def test_iban_check_digits():
    assert logic.iban_valid("DE89370400440532013000") and logic.iban_valid("BE71096123456769")
    assert not logic.iban_valid("DE89370400440532013001") and not logic.iban_valid("DE89 3704")


def test_choose_account_by_currency_then_any():
    eur = {"currencies": "EUR", "iban": "BE71096123456769"}
    cad = {"currencies": "CAD USD", "transit": "12345"}
    anything = {"currencies": "", "iban": "DE89370400440532013000"}
    accounts = [eur, cad, anything]
    assert logic.choose_account(accounts, "EUR") is eur
    assert logic.choose_account(accounts, "USD") is cad
    assert logic.choose_account(accounts, "GBP") is anything
    assert logic.choose_account([eur, cad], "GBP") is None
    blank = logic.with_account({"name": "X", "bank_iban": "OLD"}, None)
    assert blank["bank_iban"] == "" and blank["name"] == "X"


@pytest.mark.parametrize(("data", "field"), [
    ({"iban": "DE00370400440532013000"}, "iban"), ({"iban": "DE89370400440532013000", "bic": "XX"}, "bic"),
    ({"institution": "4", "transit": "12345", "account_number": "1234567"}, "institution"),
    ({"institution": "004", "account_number": "1234567"}, "transit"),
    ({"routing": "12345678", "account_number": "1234567"}, "routing"),
    ({"routing": "021000021"}, "account_number"),
    ({"iban": "DE89370400440532013000", "currencies": "EUR XTQ"}, "currencies"), ({}, "iban"),
])
def test_a_bad_account_names_its_field(data, field):
    with pytest.raises(ValidationFailed) as failed:
        logic.clean_account(data)
    assert field in failed.value.by_field()


def test_a_good_account_is_cleaned():
    assert logic.clean_account({"iban": "de89 3704 0044 0532 0130 00", "currencies": "eur, usd eur",
                                "holder": "  Maple   Studio "}) == {
        "holder": "Maple Studio", "bank_name": "", "iban": "DE89370400440532013000", "bic": "", "institution": "",
        "transit": "", "routing": "", "account_number": "", "note": "", "currencies": "EUR USD"}
