"""The ledger's pure functions: running balances, standings, aging buckets, statements (issue 4)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ledger import logic
from app.ledger.logic import AGING_BUCKETS, Entry, aging, aging_bucket, balance_of, running, standing, statement

D = Decimal
AS_OF = date(2026, 6, 30)


def entry(day: date, kind: str = "invoice", debit: str = "0", credit: str = "0", amount: str = "0",
          number: str = "") -> Entry:
    return Entry(entry_date=day, kind=kind, number=number, description=kind, debit=D(debit), credit=D(credit),
                 amount=D(amount))


# -- running balance ---------------------------------------------------------------------

def test_running_balance_follows_each_entry():
    rows = running([
        entry(date(2026, 1, 5), "invoice", debit="100.00", number="INV-1"),
        entry(date(2026, 1, 10), "payment", credit="40.00"),
        entry(date(2026, 1, 11), "credit_applied", amount="10.00"),  # an allocation moves nothing
        entry(date(2026, 1, 12), "payment", credit="90.00"),        # 30 more than owed: in credit
        entry(date(2026, 1, 20), "reversal", debit="40.00"),
        entry(date(2026, 1, 21), "refund", debit="30.00"),
    ])
    assert [r.balance for r in rows] == [D("100.00"), D("60.00"), D("60.00"), D("-30.00"), D("10.00"), D("40.00")]
    assert rows[2].entry.amount == D("10.00")


def test_running_starts_from_the_opening_balance():
    rows = running([entry(date(2026, 2, 1), credit="25.00")], opening=D("100.00"))
    assert [r.balance for r in rows] == [D("75.00")]
    assert running([], opening=D("5")) == []


def test_balance_of_is_debits_less_credits():
    assert balance_of([]) == D(0)
    assert balance_of([entry(AS_OF, debit="10.00"), entry(AS_OF, credit="2.50"), entry(AS_OF, amount="99")]) == \
        D("7.50")


@pytest.mark.parametrize("balance, expected", [(D("0.01"), "owes"), (D(0), "settled"), (D("-0.00"), "settled"),
                                                (D("-0.01"), "credit")])
def test_standing_colours_the_balance(balance, expected):
    assert standing(balance) == expected


def test_every_kind_the_issue_names_has_a_label():
    assert set(logic.KINDS) == {"invoice", "credit_note", "cancellation", "payment", "reversal", "credit_applied",
                                "refund"}


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


amounts = st.decimals(min_value=D("0"), max_value=D("100000"), places=2)
ledger_entries = st.lists(st.builds(lambda day, debit, credit: Entry(day, "payment", "", "", debit, credit),
                                    st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)), amounts,
                                    amounts), max_size=40).map(lambda es: sorted(es, key=lambda e: e.entry_date))


@given(entries=ledger_entries, opening=st.decimals(min_value=D("-1000"), max_value=D("1000"), places=2))
def test_running_balance_final_is_debits_less_credits(entries, opening):
    rows = running(entries, opening)
    assert len(rows) == len(entries)
    final = rows[-1].balance if rows else opening
    assert final == opening + sum((e.debit for e in entries), D(0)) - sum((e.credit for e in entries), D(0))


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
