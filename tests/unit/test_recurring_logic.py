"""The recurring schedule, its periods, the placeholders and what a profile may hold (app.recurring.logic)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.common import i18n
from app.common.logic import ValidationFailed
from app.recurring import logic
from app.recurring.logic import Period, Schedule

LINE = {"description": "Hosting, {period}", "quantity": "1", "unit_price": "120.00"}


def body(**changes):
    return {"client_id": 1, "lines": [LINE], "every": 1, "unit": "month", "start_date": "2027-01-01", **changes}


def starts(schedule: Schedule, n: int) -> list[date]:
    return [period.start for period in list(logic.periods(schedule))[:n]]


# -- the schedule ---------------------------------------------------------------------------------

def test_monthly_on_the_first_bills_each_calendar_month():
    periods = list(logic.periods(Schedule(1, "month", date(2027, 1, 1), count=3)))
    assert [(p.start, p.end) for p in periods] == [
        (date(2027, 1, 1), date(2027, 1, 31)), (date(2027, 2, 1), date(2027, 2, 28)),
        (date(2027, 3, 1), date(2027, 3, 31))]


def test_the_31st_is_the_last_day_of_a_shorter_month_and_comes_back_after_it():
    assert starts(Schedule(1, "month", date(2027, 1, 31)), 4) == [
        date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]
    assert starts(Schedule(1, "month", date(2028, 1, 1), day_of_month=31), 2) == [date(2028, 1, 31), date(2028, 2, 29)]


def test_a_day_of_month_before_the_start_s_day_begins_in_the_next_period():
    assert starts(Schedule(1, "month", date(2027, 1, 20), day_of_month=5), 2) == [date(2027, 2, 5), date(2027, 3, 5)]
    assert starts(Schedule(1, "quarter", date(2027, 1, 20), day_of_month=5), 2) == [date(2027, 4, 5), date(2027, 7, 5)]


def test_weeks_quarters_and_years():
    assert starts(Schedule(2, "week", date(2027, 1, 4)), 3) == [date(2027, 1, 4), date(2027, 1, 18), date(2027, 2, 1)]
    assert starts(Schedule(1, "quarter", date(2027, 1, 15)), 3) == [date(2027, 1, 15), date(2027, 4, 15),
                                                                     date(2027, 7, 15)]
    assert starts(Schedule(1, "year", date(2028, 2, 29)), 2) == [date(2028, 2, 29), date(2029, 2, 28)]


def test_the_end_date_and_the_count_end_the_schedule():
    assert starts(Schedule(1, "month", date(2027, 1, 1), end_date=date(2027, 3, 1)), 10) == [
        date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)]
    assert len(list(logic.periods(Schedule(1, "month", date(2027, 1, 1), count=12)))) == 12


def test_due_periods_are_those_come_and_not_done_oldest_first():
    schedule = Schedule(1, "month", date(2027, 1, 1))
    assert [p.start.month for p in logic.due_periods(schedule, after=None, through=date(2027, 4, 15))] == [1, 2, 3, 4]
    assert [p.start.month for p in logic.due_periods(schedule, after=date(2027, 2, 1), through=date(2027, 4, 1))] \
        == [3, 4]
    assert logic.due_periods(schedule, after=date(2027, 4, 1), through=date(2027, 4, 30)) == []
    assert logic.next_period(schedule, after=date(2027, 4, 1)).start == date(2027, 5, 1)
    assert logic.next_period(Schedule(1, "month", date(2027, 1, 1), count=1), after=date(2027, 1, 1)) is None


@settings(max_examples=300, deadline=None)
@given(start=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), every=st.integers(1, 12),
       unit=st.sampled_from(logic.UNITS), day=st.one_of(st.none(), st.integers(1, 31)))
def test_any_schedule_has_increasing_dates_one_per_period_and_clamps(start, every, unit, day):
    day = None if unit == "week" else day
    schedule = Schedule(every, unit, start, day, count=30)
    periods = list(logic.periods(schedule))
    assert len(periods) == 30
    assert periods[0].start >= start
    for before, after in pairwise(periods):
        assert before.start < after.start                       # increasing
        assert before.end == after.start - timedelta(days=1)    # periods follow each other, no gap, no overlap
    if unit == "week":
        assert all((b.start - a.start).days == 7 * every for a, b in pairwise(periods))
        return
    months = every * logic.MONTHS_PER_UNIT[unit]
    wanted = day or start.day
    for a, b in pairwise(periods):
        # one per period: exactly `months` calendar months apart
        assert (b.start.year * 12 + b.start.month) - (a.start.year * 12 + a.start.month) == months
    for period in periods:
        last = calendar.monthrange(period.start.year, period.start.month)[1]
        assert period.start.day == min(wanted, last)             # the 31st clamps to the month's end
    # the first date is the first such day on or after the start
    assert (periods[0].start - start).days < 31 * months + 1


# -- placeholders ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("locale", "expected"), [
    ("en_GB", "Hosting, 1–31 January 2027 (January 2027)"),
    ("de", "Hosting, 1.–31. Januar 2027 (Januar 2027)"),
    ("fr", "Hosting, 1–31 janvier 2027 (janvier 2027)"),
    ("en", "Hosting, January 1\u2009–\u200931, 2027 (January 2027)"),
])
def test_placeholders_are_written_in_the_client_s_language(locale, expected):
    period = Period(0, date(2027, 1, 1), date(2027, 1, 31))
    assert logic.fill_placeholders("Hosting, {period} ({month} {year})", period, locale) == expected


def test_a_period_across_two_years_names_both():
    period = Period(0, date(2026, 12, 15), date(2027, 1, 14))
    assert logic.fill_placeholders("{period}", period, "en_GB") == "15 December 2026\u2009–\u200914 January 2027"


def test_text_without_placeholders_is_left_as_it_is():
    assert logic.fill_placeholders("Support {not a placeholder", Period(0, date(2027, 1, 1), date(2027, 1, 31)),
                                   "en") == "Support {not a placeholder"


# -- bad input --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "field"), [
    ({"every": 0}, "every"), ({"every": -1}, "every"), ({"every": "often"}, "every"), ({"every": None}, "every"),
    ({"unit": "day"}, "unit"),
    ({"day_of_month": 0}, "day_of_month"), ({"day_of_month": 32}, "day_of_month"),
    ({"unit": "week", "day_of_month": 3}, "day_of_month"),
    ({"end_date": "2026-12-31"}, "end_date"), ({"start_date": "2027-02-30"}, "start_date"),
    ({"start_date": None}, "start_date"), ({"count": 0}, "count"), ({"action": "send"}, "action"),
    ({"status": "finished"}, "status"), ({"client_id": None}, "client_id"), ({"lines": []}, "lines"),
    ({"lines": [{"description": "Hosting, {perod}", "quantity": "1", "unit_price": "5"}]}, "lines[0].description"),
    ({"lines": [{"description": "Hosting", "quantity": "1", "unit_price": "-5"}]}, "lines[0].unit_price"),
    ({"notes": "For {montth}"}, "notes"), ({"colour": "blue"}, "colour"),
])
def test_bad_input_is_refused_naming_the_field(changes, field):
    with pytest.raises(ValidationFailed) as refused:
        logic.clean_profile(body(**changes))
    assert field in refused.value.by_field(), refused.value.by_field()


def test_a_partial_change_is_checked_with_what_is_stored():
    stored = {**body(), "start_date": date(2027, 1, 1)}
    with pytest.raises(ValidationFailed) as refused:
        logic.clean_profile({"end_date": "2026-06-01"}, current=stored)
    assert set(refused.value.by_field()) == {"end_date"}
    values = logic.clean_profile({"every": 3}, current=stored)
    assert (values.every, values.unit, values.start_date, values.given) == (3, "month", date(2027, 1, 1), {"every"})


def test_describe_says_the_schedule_in_words():
    assert logic.describe(Schedule(1, "month", date(2027, 1, 1))) == "Every month on the 1st"
    assert logic.describe(Schedule(3, "month", date(2027, 1, 31))) == \
        "Every 3 months on the 31st (the month's last day when shorter)"
    assert logic.describe(Schedule(2, "week", date(2027, 1, 1))) == "Every 2 weeks"
    assert logic.describe(Schedule(1, "year", date(2027, 3, 22))) == "Every year on the 22nd"


@pytest.mark.parametrize(("language", "schedule", "expected"), [
    ("fr", Schedule(1, "month", date(2027, 1, 1)), "Tous les mois le 1er"),
    ("fr", Schedule(2, "month", date(2027, 1, 5)), "Tous les 2 mois le 5"),
    ("fr", Schedule(1, "quarter", date(2027, 1, 15)), "Chaque trimestre le 15"),
    ("fr", Schedule(3, "week", date(2027, 1, 15)), "Toutes les 3 semaines"),
    ("fr", Schedule(1, "month", date(2027, 1, 31)), "Tous les mois le 31 (le dernier jour du mois s'il est plus court)"),
    ("de", Schedule(1, "month", date(2027, 1, 5)), "Jeden Monat am 5."),
    ("de", Schedule(2, "year", date(2027, 1, 1)), "Alle 2 Jahre am 1."),
    ("de", Schedule(1, "week", date(2027, 1, 1)), "Jede Woche"),
    ("de", Schedule(1, "quarter", date(2027, 1, 30)), "Jedes Quartal am 30. (der letzte Tag des Monats, wenn er kürzer ist)"),
])
def test_describe_in_the_readers_language(language, schedule, expected):
    with i18n.using(i18n.translations_for(language)):
        assert logic.describe(schedule) == expected


def test_ordinal_days_as_each_language_writes_them():
    assert [logic.ordinal_day(d, "en") for d in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]
    assert [logic.ordinal_day(d, "fr") for d in (1, 2, 31)] == ["1er", "2", "31"]
    assert [logic.ordinal_day(d, "de") for d in (1, 2, 31)] == ["1.", "2.", "31."]


@settings(max_examples=200, deadline=None)
@given(start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)), every=st.integers(1, 4),
       unit=st.sampled_from(logic.UNITS), day=st.one_of(st.none(), st.integers(1, 31)),
       steps=st.lists(st.integers(0, 120), min_size=1, max_size=8))
def test_runs_on_any_days_make_each_period_once_and_in_order(start, every, unit, day, steps):
    """However often the program runs (each run makes what is due after the last period done), the
    periods made are exactly those of one run on the last day, each once, oldest first."""
    schedule = Schedule(every, unit, start, None if unit == "week" else day)
    made: list[date] = []
    today = start - timedelta(days=10)
    for step in steps:
        today += timedelta(days=step)
        made += [p.start for p in logic.due_periods(schedule, after=made[-1] if made else None, through=today)]
    assert made == [p.start for p in logic.due_periods(schedule, after=None, through=today)]
    assert made == sorted(set(made))


def test_a_schedule_stored_before_dates_were_bounded_ends_at_the_calendars_last_year():
    """A profile starting in 9999 (stored before start dates were bounded to 1900-2200) has one period left
    and no next one after it: never an error from the date arithmetic for every list and run."""
    schedule = logic.Schedule(every=1, unit="month", start_date=date(9999, 11, 1))
    assert [(p.start, p.end) for p in logic.periods(schedule)] == [(date(9999, 11, 1), date(9999, 11, 30))]
    assert logic.next_period(schedule, after=date(9999, 11, 1)) is None
