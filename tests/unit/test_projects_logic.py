"""Durations, rounding and grouping of time entries: pure rules, with a property for the grouping."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.projects import logic


@pytest.mark.parametrize(("text", "minutes"), [
    ("1:30", 90), ("0:05", 5), ("10:00", 600), ("1.5h", 90), ("1,5h", 90), ("1.5", 90), ("2", 120),
    ("90m", 90), ("90 min", 90), ("1h30m", 90), ("1h 30m", 90), ("0.25h", 15), ("  45m ", 45), ("0.1", 6),
    ("1h", 60), (75, 75),
])
def test_durations_are_read_in_every_usual_form(text, minutes):
    assert logic.parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["", "abc", "1:75", "1.5.2h", "-1h", "h", "m", "1:3", True])
def test_a_duration_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError):
        logic.parse_duration(text)


def test_minutes_are_shown_as_hours_and_minutes():
    assert [logic.format_minutes(m) for m in (0, 5, 90, 600, 6001)] == ["0:00", "0:05", "1:30", "10:00", "100:01"]


@pytest.mark.parametrize(("minutes", "rule", "billed"), [
    (70, 0, 70), (70, 6, 72), (70, 15, 75), (70, 30, 90), (60, 15, 60), (1, 30, 30), (61, 6, 66)])
def test_rounding_goes_up_to_the_step(minutes, rule, billed):
    assert logic.round_minutes(minutes, rule) == billed


def test_budgets_warn_from_80_and_are_over_at_100_percent():
    assert logic.budget_state(79, 100).level == "ok"
    assert logic.budget_state(80, 100).level == "warn"
    assert logic.budget_state(100, 100).level == "over"
    assert logic.budget_state(130, 100).percent == 130
    assert logic.budget_state(10, None).level == "none"


def test_rates_fall_back_from_task_to_project_to_client_to_business():
    assert logic.rate_of(None, None, None, 500000) == 500000
    assert logic.rate_of(None, None, 600000, 500000) == 600000
    assert logic.rate_of(None, 700000, 600000, 500000) == 700000
    assert logic.rate_of(900000, 700000, 600000, 500000) == 900000
    assert logic.rate_of(None, None, None, None) == 0


def test_line_descriptions_carry_the_dates():
    entries = [logic.Billable(1, date(2026, 11, 2), 60, 800000, "Design", "Wireframes"),
               logic.Billable(2, date(2026, 11, 20), 30, 800000, "Design", "")]
    assert [line.description for line in logic.group_lines(entries, "entry", 0, project_name="Web")] == [
        "2 Nov 2026 · Design: Wireframes", "20 Nov 2026 · Design"]
    assert logic.group_lines(entries, "task", 0, project_name="Web")[0].description == "Design (2–20 Nov 2026)"
    assert logic.group_lines(entries, "period", 0, project_name="Web")[0].description == "Web (2–20 Nov 2026)"
    assert logic.group_lines(entries, "period", 0, project_name="Web")[0].hours == Decimal("1.5")


billables = st.lists(st.builds(
    logic.Billable, id=st.integers(1, 10**6), entry_date=st.dates(date(2026, 1, 1), date(2026, 3, 31)),
    minutes=st.integers(1, 24 * 60), rate_e4=st.sampled_from([0, 500000, 800000, 1234567]),
    task=st.sampled_from(["", "Design", "Build"]), description=st.text(max_size=20)),
    max_size=40, unique_by=lambda b: b.id)


@given(billables, st.sampled_from(logic.ROUNDINGS), st.sampled_from(logic.GROUPINGS))
def test_any_grouping_bills_the_sum_of_the_rounded_entries(entries, rounding, group_by):
    lines = logic.group_lines(entries, group_by, rounding, project_name="P")
    assert sum(line.minutes for line in lines) == sum(logic.round_minutes(e.minutes, rounding) for e in entries)
    assert sorted(i for line in lines for i in line.entry_ids) == sorted(e.id for e in entries)
    for line in lines:   # one rate a line, and each line's entries at that rate
        assert {e.rate_e4 for e in entries if e.id in line.entry_ids} == {line.rate_e4}
        assert line.hours == (Decimal(line.minutes) / 60).quantize(Decimal("0.0001"))


@given(st.integers(1, 24 * 60), st.sampled_from(logic.ROUNDINGS))
def test_rounding_never_bills_less_and_less_than_one_step_more(minutes, rounding):
    billed = logic.round_minutes(minutes, rounding)
    assert minutes <= billed < minutes + max(rounding, 1)


def test_weeks_run_monday_to_sunday():
    week = logic.week_of(date(2026, 11, 5))
    assert week[0] == date(2026, 11, 2) and week[-1] == date(2026, 11, 8) and week[1] - week[0] == timedelta(days=1)


def test_line_dates_follow_the_clients_language():
    assert logic.describe_span(date(2026, 6, 9), date(2026, 7, 31), "en") == "9 Jun – 31 Jul 2026"
    assert logic.describe_day(date(2026, 8, 3), "fr") == "3 août 2026"
    assert logic.describe_span(date(2026, 11, 2), date(2026, 11, 20), "de") == "2–20 Nov. 2026"
    assert logic.describe_day(date(2026, 8, 3), "xx-nonsense") == "3 Aug 2026"


def test_an_expense_goes_on_its_clients_projects_or_without_a_client_on_any():
    assert logic.expense_link_problem(None, None, 7) is None
    assert logic.expense_link_problem(7, "Maple Bakery", 7) is None
    problem = logic.expense_link_problem(8, "Harbour Cafe", 7)
    assert problem is not None and "Harbour Cafe" in problem


def test_time_to_invoice_bills_only_the_projects_unbilled_billable_expenses_of_the_period():
    project = {"client": 7, "currency": "CAD"}
    expense = {"billable": True, "status": "recorded", "billed_state": "unbilled", "client": 7, "currency": "CAD",
               "expense_date": date(2026, 3, 10)}
    march = (date(2026, 3, 1), date(2026, 3, 31))
    assert logic.expense_billable_on(expense, project, *march)
    for change in ({"billable": False}, {"status": "draft"}, {"billed_state": "on_draft"}, {"billed_state": "billed"},
                   {"client": None}, {"client": 8}, {"currency": "EUR"}, {"expense_date": date(2026, 4, 1)}):
        assert not logic.expense_billable_on({**expense, **change}, project, *march), change


def test_to_e4_is_exact():
    assert logic.to_e4(Decimal("110.00")) == 1_100_000 and logic.to_e4(Decimal("0.001")) == 10
