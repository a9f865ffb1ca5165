"""Receivables' pure functions: aging buckets, statements over the ledger's entries, and what an invoice
owed at the end of a past day (issues 4 and 11)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.common.logic import ValidationFailed
from app.ledger.logic import balance_of
from app.receivables.logic import (
    AGING_BUCKETS,
    InvoiceHistory,
    Settlement,
    aging,
    aging_bucket,
    in_currency,
    open_items_on,
    statement,
    statement_date,
    statement_period,
)
from tests.unit.test_ledger_logic import entry, ledger_entries  # the ledger's entries, as its tests make them

D = Decimal
AS_OF = date(2026, 6, 30)


# -- aging ---------------------------------------------------------------------------------

@pytest.mark.parametrize("days_past_due, bucket", [
    (-10, "current"), (0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"),
    (90, "61-90"), (91, "over 90"), (400, "over 90")])
def test_aging_bucket_boundaries(days_past_due, bucket):
    assert aging_bucket(AS_OF - timedelta(days=days_past_due), AS_OF) == bucket


def test_no_due_date_is_current():
    assert aging_bucket(None, AS_OF) == "current"


def test_aging_puts_each_open_amount_in_its_bucket():
    buckets = aging([(AS_OF, D("10.00")), (AS_OF - timedelta(days=1), D("20.00")),
                     (AS_OF - timedelta(days=45), D("30.00")), (AS_OF - timedelta(days=75), D("40.00")),
                     (AS_OF - timedelta(days=120), D("50.00")), (AS_OF - timedelta(days=2), D("5.00"))], AS_OF)
    assert list(buckets) == list(AGING_BUCKETS)
    assert buckets == {"current": D("10.00"), "1-30": D("25.00"), "31-60": D("30.00"), "61-90": D("40.00"),
                       "over 90": D("50.00")}


def test_aging_ignores_nothing_open_and_negative_amounts():
    assert aging([(AS_OF - timedelta(days=5), D(0)), (AS_OF - timedelta(days=5), D("-3"))], AS_OF) == \
        {name: D(0) for name in AGING_BUCKETS}


open_items = st.lists(st.tuples(st.one_of(st.none(), st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1))),
                                st.decimals(min_value=D("-100"), max_value=D("100000"), places=2)), max_size=30)


@given(items=open_items, as_of=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)))
def test_aging_buckets_sum_to_the_open_total(items, as_of):
    buckets = aging(items, as_of)
    assert set(buckets) == set(AGING_BUCKETS)
    assert sum(buckets.values(), D(0)) == sum((amount for _, amount in items if amount > 0), D(0))
    assert all(value >= 0 for value in buckets.values())


# -- statements -----------------------------------------------------------------------------

LEDGER = [
    entry(date(2025, 12, 20), "invoice", debit="500.00", number="INV-2025-0009"),
    entry(date(2025, 12, 31), "payment", credit="200.00"),                 # last day before the period
    entry(date(2026, 1, 1), "invoice", debit="100.00", number="INV-2026-0001"),  # first day of the period
    entry(date(2026, 1, 15), "payment", credit="50.00"),
    entry(date(2026, 1, 31), "credit_note", credit="30.00", number="CN-2026-0001"),  # last day of the period
    entry(date(2026, 2, 1), "invoice", debit="999.00", number="INV-2026-0002"),  # the day after
]


def test_statement_opening_entries_and_closing_respect_the_period_boundaries():
    st_ = statement(LEDGER, date(2026, 1, 1), date(2026, 1, 31), [])
    assert st_.opening == D("300.00")
    assert [r.entry.number or r.entry.kind for r in st_.rows] == ["INV-2026-0001", "payment", "CN-2026-0001"]
    assert [r.balance for r in st_.rows] == [D("400.00"), D("350.00"), D("320.00")]
    assert st_.closing == D("320.00")
    assert (st_.date_from, st_.date_to) == (date(2026, 1, 1), date(2026, 1, 31))


def test_statement_of_one_day():
    st_ = statement(LEDGER, date(2025, 12, 31), date(2025, 12, 31), [])
    assert (st_.opening, [r.balance for r in st_.rows], st_.closing) == (D("500.00"), [D("300.00")], D("300.00"))


def test_a_period_without_entries_closes_at_its_opening():
    st_ = statement(LEDGER, date(2026, 1, 16), date(2026, 1, 30), [])
    assert st_.rows == [] and st_.opening == st_.closing == D("350.00")


def test_a_period_before_everything_is_zero_and_after_everything_is_the_final_balance():
    before = statement(LEDGER, date(2020, 1, 1), date(2020, 12, 31), [])
    assert (before.opening, before.closing, before.rows) == (D(0), D(0), [])
    after = statement(LEDGER, date(2027, 1, 1), date(2027, 12, 31), [])
    assert after.opening == after.closing == balance_of(LEDGER) == D("1319.00")


def test_statement_ages_open_items_at_the_end_of_the_period():
    st_ = statement(LEDGER, date(2026, 1, 1), date(2026, 3, 31),
                    [(date(2026, 3, 31), D("10.00")), (date(2026, 1, 30), D("20.00")), (date(2025, 12, 1), D("5.00"))])
    # due 2026-01-30 is 60 days before 2026-03-31; due 2025-12-01 is 120 days before
    assert st_.aging == {"current": D("10.00"), "1-30": D(0), "31-60": D("20.00"), "61-90": D(0),
                         "over 90": D("5.00")}


@given(entries=ledger_entries, start=st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)),
       length=st.integers(min_value=0, max_value=400))
def test_statement_closing_is_the_balance_of_everything_up_to_its_end(entries, start, length):
    end = start + timedelta(days=length)
    st_ = statement(entries, start, end, [])
    assert st_.opening == balance_of(e for e in entries if e.entry_date < start)
    assert st_.closing == balance_of(e for e in entries if e.entry_date <= end)
    assert len(st_.rows) == sum(1 for e in entries if start <= e.entry_date <= end)
    # consecutive statements chain: this one's closing is the next one's opening
    following = statement(entries, end + timedelta(days=1), end + timedelta(days=30), [])
    assert following.opening == st_.closing


# -- what an invoice owed at the end of a day ----------------------------------------------------

def invoice(total: str = "100.00", *, issued: date = date(2025, 1, 10), due: date | None = date(2025, 2, 9),
            paid: tuple[Settlement, ...] = (), credited: tuple[Settlement, ...] = ()) -> InvoiceHistory:
    return InvoiceHistory(id=1, number="INV-2025-0001", currency="EUR", issue_date=issued, due_date=due,
                          total=D(total), paid=paid, credited=credited)


def test_a_payment_counts_from_its_day_on():
    paid_in_april = invoice(paid=(Settlement(date(2025, 4, 15), D("100.00")),))
    assert paid_in_april.open_on(date(2025, 3, 31)) == D("100.00")
    assert paid_in_april.open_on(date(2025, 4, 14)) == D("100.00")
    assert paid_in_april.open_on(date(2025, 4, 15)) == D("0.00")


def test_nothing_is_owed_before_the_invoice_was_issued():
    assert invoice().open_on(date(2025, 1, 9)) == D(0)
    assert invoice().open_on(date(2025, 1, 10)) == D("100.00")


def test_a_reversed_payment_counts_until_its_reversal():
    reversed_ = invoice(paid=(Settlement(date(2025, 2, 1), D("60.00"), undone_on=date(2025, 3, 1)),))
    assert [reversed_.open_on(day) for day in (date(2025, 1, 31), date(2025, 2, 1), date(2025, 2, 28),
                                               date(2025, 3, 1))] == [D("100.00"), D("40.00"), D("40.00"), D("100.00")]


def test_credit_notes_and_applied_credit_count_from_their_day():
    settled = invoice(paid=(Settlement(date(2025, 2, 1), D("30.00")),),        # client credit applied
                      credited=(Settlement(date(2025, 3, 1), D("70.00")),))    # a credit note (or a cancellation)
    assert settled.open_on(date(2025, 2, 15)) == D("70.00")
    assert settled.open_on(date(2025, 3, 1)) == D("0.00")


def test_open_items_leave_out_what_was_settled_or_not_yet_issued():
    later = InvoiceHistory(id=2, number="INV-2025-0002", currency="EUR", issue_date=date(2025, 4, 1),
                           due_date=None, total=D("5.00"))
    settled = invoice(paid=(Settlement(date(2025, 2, 1), D("100.00")),))
    assert open_items_on([invoice(), later, settled], date(2025, 3, 31)) == [(date(2025, 2, 9), D("100.00"))]


def test_a_statement_ages_what_was_open_at_its_end_not_what_is_open_today():
    """Issue 11: 100.00 issued 2025-01-10 (due 2025-02-09) and paid 2025-04-15; the statement to 2025-03-31
    shows it 50 days past due, though it is paid today."""
    paid_later = invoice(paid=(Settlement(date(2025, 4, 15), D("100.00")),))
    ledger = [entry(date(2025, 1, 10), "invoice", debit="100.00", number="INV-2025-0001"),
              entry(date(2025, 4, 15), "payment", credit="100.00")]
    march = statement(ledger, date(2025, 1, 1), date(2025, 3, 31), open_items_on([paid_later], date(2025, 3, 31)))
    assert march.aging == {"current": D(0), "1-30": D(0), "31-60": D("100.00"), "61-90": D(0), "over 90": D(0)}
    assert march.closing == sum(march.aging.values())
    april = statement(ledger, date(2025, 4, 1), date(2025, 4, 30), open_items_on([paid_later], date(2025, 4, 30)))
    assert april.closing == D("0.00") and sum(april.aging.values()) == 0


# -- the period and the date of a statement ------------------------------------------------------

def test_a_statement_runs_from_the_new_year_to_today_unless_told():
    today = date(2026, 5, 20)
    assert statement_period(None, None, today) == (date(2026, 1, 1), today)
    assert statement_period(None, date(2025, 3, 31), today) == (date(2025, 1, 1), date(2025, 3, 31))
    assert statement_period(date(2024, 7, 1), None, today) == (date(2024, 7, 1), today)
    with pytest.raises(ValidationFailed) as refused:
        statement_period(date(2026, 5, 2), date(2026, 5, 1), today)
    assert refused.value.by_field() == {"to": "The end of the period is before its start"}


@pytest.mark.parametrize(("date_to", "dated"), [(date(2025, 3, 31), date(2025, 3, 31)),
                                                (date(2026, 5, 20), date(2026, 5, 20)),
                                                (date(2026, 12, 31), date(2026, 5, 20))])
def test_a_statement_is_dated_at_its_end_or_today_while_its_period_runs(date_to, dated):
    assert statement_date(date_to, date(2026, 5, 20)) == dated


def test_in_currency_gives_empty_sums_the_currencys_decimals():
    result = in_currency(statement([], date(2026, 1, 1), date(2026, 1, 31), []), "EUR")
    assert (str(result.opening), str(result.closing), str(result.aging["current"])) == ("0.00", "0.00", "0.00")
    assert str(in_currency(statement([], date(2026, 1, 1), date(2026, 1, 31), []), "JPY").closing) == "0"
