"""Reminders' rules, pure: which level is due, fees and interest in integer minor units (half-up), the
dunning settings' checks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.common.logic import ValidationFailed
from app.reminders import logic

D = Decimal
DUE = date(2026, 3, 1)


def dunning(**changes: object) -> logic.Dunning:
    return logic.clean_dunning({**logic.dunning_as_data(logic.default_dunning()), **changes})


# -- interest and fees --------------------------------------------------------------------------

def test_interest_is_actual_over_365_by_default_and_rounds_half_up() -> None:
    # 1000.00 at 9 % for 49 days: 100000 * 0.09 * 49 / 365 = 1208.219... -> 1208
    assert logic.interest_minor(100_000, D("9"), 49) == 1208
    # 1000.00 at 9 % for 1 day: 24.657... -> 25
    assert logic.interest_minor(100_000, D("9"), 1) == 25
    # an exact half rounds up: 365.00 * 10 % * 0.5 day... choose 730 minor at 5 % for 365 days = 36.5 -> 37
    assert logic.interest_minor(730, D("5"), 365) == 37
    assert logic.interest_minor(100_000, D("9"), 49, "actual/360") == 1225   # 1225.0
    assert logic.interest_minor(0, D("9"), 49) == logic.interest_minor(100_000, D("0"), 49) == 0
    assert logic.interest_minor(100_000, D("9"), 0) == 0


def test_fees() -> None:
    assert logic.flat_fee_minor(D("5.00"), "EUR") == 500
    assert logic.flat_fee_minor(D("5.005"), "EUR") == 501          # half-up to the cent
    assert logic.flat_fee_minor(D("5.5"), "JPY") == 6               # no minor unit: half-up to the yen
    assert logic.flat_fee_minor(D("1.2345"), "KWD") == 1235         # three decimals
    assert logic.percent_fee_minor(12_345, D("1.5")) == 185         # 185.175 -> 185
    assert logic.percent_fee_minor(10_100, D("0.5")) == 51          # 50.5 -> 51
    assert logic.percent_fee_minor(0, D("10")) == 0


@given(st.integers(min_value=0, max_value=10**12), st.decimals(min_value=0, max_value=100, places=4),
       st.integers(min_value=0, max_value=3650))
def test_interest_is_an_integer_within_half_a_unit_of_the_exact_amount(open_minor: int, rate: Decimal,
                                                                        days: int) -> None:
    result = logic.interest_minor(open_minor, rate, days)
    exact = D(open_minor) * rate / 100 * days / 365
    assert isinstance(result, int) and result >= 0
    assert abs(D(result) - exact) <= D("0.5")


@given(st.integers(min_value=1, max_value=10**10), st.decimals(min_value=0, max_value=100, places=2),
       st.integers(min_value=1, max_value=400), st.integers(min_value=1, max_value=400))
def test_interest_split_over_two_reminders_is_never_more_than_a_unit_per_split(open_minor: int, rate: Decimal,
                                                                              first: int, second: int) -> None:
    """Charging interest in two reminders (the second one from where the first stopped) gives the same
    as charging it at once, to within the rounding of each charge."""
    whole = logic.interest_minor(open_minor, rate, first + second)
    parts = logic.interest_minor(open_minor, rate, first) + logic.interest_minor(open_minor, rate, second)
    assert abs(whole - parts) <= 1


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(min_value=0, max_value=500),
       st.integers(min_value=0, max_value=500))
def test_interest_periods_never_overlap(due: date, a: int, b: int) -> None:
    first = logic.interest_period(due, None, due + timedelta(days=a))
    charged_to = first[1] if first else None
    second = logic.interest_period(due, charged_to, due + timedelta(days=a + b))
    if first:
        assert first[0] == due + timedelta(days=1)
    if first and second:
        assert second[0] == first[1] + timedelta(days=1)
    days = sum((p[1] - p[0]).days + 1 for p in (first, second) if p)
    assert days == a + b


def test_charges_of_a_reminder_put_the_flat_fee_once_and_interest_per_invoice() -> None:
    level = dunning().level(3)
    assert level is not None
    invoices = [logic.InvoiceDue(1, "INV-1", date(2026, 1, 1), DUE, 100_000, 0),
                logic.InvoiceDue(2, "INV-2", date(2026, 1, 1), DUE, 50_000, 20_000, interest_charged_to=date(2026, 3, 20))]
    result = logic.charges(invoices, level, "EUR", date(2026, 3, 31))
    assert result.flat_fee_minor == 1000 and result.fee_minor == 1000
    assert [(i.interest_from, i.interest_to, i.interest_minor) for i in result.items] == [
        (date(2026, 3, 2), date(2026, 3, 31), 740),        # 100000 * 9 % * 30 / 365 = 739.7
        (date(2026, 3, 21), date(2026, 3, 31), 81)]        # 30000 * 9 % * 11 / 365 = 81.4
    assert result.total_minor == 130_000 + 1000 + 821
    notice = logic.charges(invoices, None, "EUR", date(2026, 3, 31))
    assert notice.fee_minor == notice.interest_minor == 0


# -- which level is due -------------------------------------------------------------------------

def test_levels_go_up_one_at_a_time_with_their_gaps() -> None:
    d = dunning()
    nxt = lambda day, applied: logic.next_level(due_date=DUE, as_of=day, dunning=d, applied=applied)  # noqa: E731
    assert nxt(DUE, {}) is None and nxt(DUE + timedelta(days=6), {}) is None
    assert nxt(DUE + timedelta(days=7), {}) == 1
    assert nxt(DUE + timedelta(days=60), {}) == 1                   # closed for two months: level 1 first
    sent = {1: DUE + timedelta(days=60)}
    assert nxt(DUE + timedelta(days=61), sent) is None               # not level 2 the next day
    assert nxt(DUE + timedelta(days=74), sent) == 2                  # 14 days (21 - 7) after level 1
    assert nxt(DUE + timedelta(days=200), {1: DUE, 2: DUE, 3: DUE, 4: DUE}) is None


def test_notices_come_only_in_their_window() -> None:
    d = dunning(notice_days_before_due=3, notice_on_due_date=True)
    nxt = lambda day, applied: logic.next_level(due_date=DUE, as_of=day, dunning=d, applied=applied)  # noqa: E731
    assert nxt(DUE - timedelta(days=4), {}) is None
    assert nxt(DUE - timedelta(days=3), {}) == logic.NOTICE_BEFORE
    assert nxt(DUE - timedelta(days=1), {logic.NOTICE_BEFORE: DUE - timedelta(days=3)}) is None
    assert nxt(DUE, {logic.NOTICE_BEFORE: DUE}) == logic.NOTICE_ON_DUE
    assert nxt(DUE, {logic.NOTICE_ON_DUE: DUE}) is None
    assert nxt(DUE + timedelta(days=1), {}) is None                  # a day late, no "due today" notice
    assert logic.next_level(due_date=None, as_of=DUE, dunning=d, applied={}) is None


@given(st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=4, unique=True),
       st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=40))
def test_following_the_due_list_applies_each_level_once_in_order(days: list[int], steps: list[int]) -> None:
    days = sorted(days)
    d = logic.clean_dunning({"levels": [{"level": n + 1, "days_after_due": day, "title": f"L{n + 1}"}
                                        for n, day in enumerate(days)]})
    applied: dict[int, date] = {}
    today = DUE
    for step in steps:
        today += timedelta(days=step)
        level = logic.next_level(due_date=DUE, as_of=today, dunning=d, applied=applied)
        if level is not None:
            assert level not in applied and level == max(applied, default=0) + 1
            assert (today - DUE).days >= d.levels[level - 1].days_after_due
            applied[level] = today
    assert list(applied) == sorted(applied)


# -- settings -----------------------------------------------------------------------------------

def test_default_settings_read_back() -> None:
    data = logic.dunning_as_data(logic.default_dunning())
    assert logic.dunning_as_data(logic.clean_dunning(data)) == data
    assert [lv["days_after_due"] for lv in data["levels"]] == [7, 21, 35, 49]
    assert data["day_count"] == "actual/365" and data["auto_send"] is False


@pytest.mark.parametrize(("change", "field"), [
    ({"days_after_due": -1}, "levels.0.days_after_due"),
    ({"fee_flat": "-0.01"}, "levels.0.fee_flat"),
    ({"fee_percent": "100.01"}, "levels.0.fee_percent"),
    ({"interest_rate": "-2"}, "levels.0.interest_rate"),
    ({"title": "Two\nlines"}, "levels.0.title"),
    ({"texts": {"fr": {"subject": "Payez {montant}", "body": "x"}}}, "levels.0.texts.fr.subject"),
    ({"texts": {"de": {"subject": "", "body": "x"}}}, "levels.0.texts.de.subject"),
])
def test_bad_levels_name_their_field(change: dict[str, object], field: str) -> None:
    data = logic.dunning_as_data(logic.default_dunning())
    data["levels"][0].update(change)
    with pytest.raises(ValidationFailed) as failed:
        logic.clean_dunning(data)
    assert field in failed.value.by_field()


def test_fill_and_titles() -> None:
    assert logic.fill("Pay {amount} by {due_date} {unknown}", {"amount": "5 €", "due_date": "1 May"}) == \
        "Pay 5 € by 1 May {unknown}"
    assert logic.title_in("2nd notice", "de") == "2. Mahnung" and logic.title_in("Mahnung", "de") == "Mahnung"
    assert logic.format_number(date(2027, 1, 5), 12) == "REM-2027-0012"
    assert logic.unique_pairs_problems([(1, 1, "REM-1"), (1, 2, "REM-2"), (1, 1, "REM-3")]) == [
        ("REM-3", "level 1 applied twice to invoice 1 (also REM-1)")]
    assert logic.check_remindable("draft", 100, "") and logic.check_remindable("issued", 0, "INV-1") == "INV-1 is paid"
    assert logic.check_remindable("sent", 100, "INV-1") is None
