"""The ledger's pure functions: running balances and standings (issue 4; aging and statements are
tests/unit/test_receivables_logic.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ledger import logic
from app.ledger.logic import Entry, balance_of, running, standing

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
                                "refund",
                                # issue 17: a reminder's fee and interest, its cancellation, their payment
                                "reminder_charge", "reminder_cancelled", "charge_payment", "credit_to_charges",
                                # issue 16: memo entries in the base currency (exchange result, bank fees)
                                "fx_gain", "fx_loss", "bank_fee", "bank_fee_reversed"}


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
