"""Bounds of every number, id and date a form or a JSON body can send (app.common.logic): whatever
arrives, the answer is a value within what SQLite and datetime hold, or an error naming the field,
never an exception."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.common.logic import (
    MAX_DATE,
    MAX_ID,
    MAX_INTEGER_DIGITS,
    MAX_PAGE,
    MIN_DATE,
    FieldError,
    Form,
    ValidationFailed,
    line_problem,
    parse_day,
    parse_page,
    period_problems,
    storable_id,
)

ANY_INPUT = st.one_of(st.none(), st.booleans(), st.integers(), st.text(), st.decimals(allow_nan=True),
                      st.floats(), st.lists(st.integers(), max_size=2))
# Decimal text of any size: 1E+1000000, 0.000...1, huge digit runs.
DECIMAL_TEXT = st.one_of(
    st.builds(lambda digits, exponent: f"{digits}E{exponent:+d}", st.integers(-10**30, 10**30),
              st.integers(-10**7, 10**7)),
    st.integers(-10**40, 10**40).map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(str))


@given(ANY_INPUT)
def test_an_integer_field_is_stored_or_named(raw):
    form = Form({"count": raw})
    form.integer("count")
    if form.errors:
        assert [e.field for e in form.errors] == ["count"]
    else:
        assert -MAX_ID <= form.values["count"] <= MAX_ID


@given(st.integers())
def test_an_id_is_from_one_to_two_to_the_63_minus_one(number):
    form = Form({"client_id": str(number)})
    form.identifier("client_id")
    assert (not form.errors) == (1 <= number <= MAX_ID) == storable_id(number)


@given(DECIMAL_TEXT)
def test_a_decimal_field_never_raises_and_keeps_twelve_digits(text):
    form = Form({"unit_price": text})
    form.decimal("unit_price", minimum=Decimal(0), max_places=4)
    if form.errors:
        assert [e.field for e in form.errors] == ["unit_price"]
    else:
        value = form.values["unit_price"]
        assert value < Decimal(10) ** MAX_INTEGER_DIGITS
        assert value == value.quantize(Decimal("0.0001"))


@pytest.mark.parametrize(("text", "ok"), [("999999999999.9999", True), ("1000000000000", False),
                                          ("-999999999999", True), ("1E+12", False), ("1E+1000000", False)])
def test_twelve_digits_before_the_point_and_no_more(text, ok):
    form = Form({"amount": text})
    form.decimal("amount", max_places=4, label="Amount")
    assert (not form.errors) == ok
    if not ok:
        assert form.errors[0].message == "Amount is too large (at most 12 digits before the decimal point)"


@given(st.dates())
def test_a_date_is_between_1900_and_2200(day):
    errors: list[FieldError] = []
    parsed = parse_day(day.isoformat(), "issue_date", errors, "Issue date")
    inside = MIN_DATE <= day <= MAX_DATE
    assert (parsed == day) == inside
    assert [e.field for e in errors] == ([] if inside else ["issue_date"])


@given(st.text())
def test_any_text_as_a_date_is_a_date_or_a_named_error(text):
    form = Form({"date": text})
    form.date("date")
    assert form.errors == [] or [e.field for e in form.errors] == ["date"]
    if not form.errors and form.values["date"] is not None:
        assert MIN_DATE <= form.values["date"] <= MAX_DATE


def test_the_edges_of_the_date_range():
    for day, ok in ((date(1900, 1, 1), True), (date(1899, 12, 31), False), (date(2200, 12, 31), True),
                    (date(2201, 1, 1), False), (date(1, 1, 1), False), (date(9999, 12, 31), False)):
        errors: list[FieldError] = []
        parse_day(day, "d", errors, "Date")
        assert (not errors) == ok, day
    assert "between 1900 and 2200" in period_problems(date(1, 1, 1), None)[0].message
    assert [e.field for e in period_problems(date(1, 1, 1), date(9999, 1, 1))] == ["from", "to"]
    # the furthest due date (365 days after the last allowed day) is still a date Python can hold
    assert MAX_DATE + timedelta(days=365) > MAX_DATE


@given(st.one_of(st.integers(), st.text(max_size=30)), st.one_of(st.integers(), st.text(max_size=30)))
def test_a_page_is_refused_naming_it_or_its_offset_fits_64_bits(page, per_page):
    try:
        result = parse_page(page, per_page)
    except ValidationFailed as failed:
        assert {e.field for e in failed.errors} <= {"page", "per_page"}
    else:
        assert 1 <= result.page <= MAX_PAGE and 0 <= result.offset <= MAX_ID


def test_a_page_beyond_a_million_is_named():
    with pytest.raises(ValidationFailed) as refused:
        parse_page(str(2**63), "50")
    assert refused.value.by_field() == {"page": f"page must be a whole number from 1 to {MAX_PAGE}"}


# -- one line of text: names and email subjects ------------------------------------------------------

@pytest.mark.parametrize(("text", "named"), [
    ("Maple\r\nBcc: all@example.com", "a line break"), ("Maple\nBakery", "a line break"), ("Tab\there", "a tab"),
    ("Line\u2028separator", "U+2028 LINE SEPARATOR"), ("Para\u2029graph", "U+2029 PARAGRAPH SEPARATOR"),
    ("\u202eyrekaB elpaM", "U+202E RIGHT-TO-LEFT OVERRIDE"), ("Zero\u200bwidth", "U+200B ZERO WIDTH SPACE"),
    ("\ufeffBOM", "U+FEFF ZERO WIDTH NO-BREAK SPACE"), ("Nul\x00", "U+0000"), ("Next\x85line", "U+0085"),
    ("Isolate\u2066x\u2069", "U+2066 LEFT-TO-RIGHT ISOLATE"),
])
def test_a_name_with_a_control_or_line_separator_is_refused_naming_it(text, named):
    problem = line_problem(text, "Name")
    assert problem is not None and problem.startswith("Name must be one line of plain text") and named in problem


@pytest.mark.parametrize("text", ["Søren Kierkegaard", "Zoë's Café", "علی\u200cرضا", "👨\u200d👩\u200d👧 Family",
                                  "ΑΒΓ & Co.", "東京 株式会社", "O'Brien-Smith, Ltd."])
def test_a_name_in_any_script_is_one_line(text):
    assert line_problem(text, "Name") is None


@given(st.text())
def test_a_refused_text_holds_a_breaking_character_and_a_kept_one_none(text):
    import unicodedata

    breaking = [ch for ch in text if unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs")
                or (unicodedata.category(ch) == "Cf" and ch not in "\u200c\u200d")]
    assert (line_problem(text, "Name") is None) == (not breaking)
