"""Revenue, pure: every fact falls in exactly one bucket and the sums add up (hypothesis)."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.reports import logic

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
money = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)
periods = st.sampled_from(logic.PERIODS)


@given(days, periods)
def test_a_day_lies_inside_its_bucket(day, period):
    start = logic.bucket_start(day, period)
    assert start <= day <= logic.bucket_end(day, period)
    assert logic.bucket_key(day, period) == logic.bucket_key(start, period)
    assert logic.bucket_start(logic.next_start(start, period), period) == logic.next_start(start, period)
    assert logic.next_start(start, period) == logic.bucket_end(day, period) + timedelta(days=1)


@given(days, days, periods)
def test_buckets_cover_the_range_in_order_without_gaps(a, b, period):
    date_from, date_to = min(a, b), max(a, b)
    starts = logic.bucket_starts(date_from, date_to, period)
    assert starts[0] <= date_from and logic.next_start(starts[-1], period) > date_to
    for earlier, later in itertools.pairwise(starts):
        assert logic.next_start(earlier, period) == later


facts = st.lists(st.tuples(days, st.sampled_from(["invoice", "credit_note"]), st.sampled_from(["CAD", "EUR"]),
                           money, money, money), max_size=30)
payments = st.lists(st.tuples(days, st.sampled_from(["CAD", "EUR"]), money, st.booleans()), max_size=30)


@settings(max_examples=60, deadline=None)
@given(facts, payments, days, days, periods)
def test_totals_equal_the_facts_inside_the_range(doc_facts, payment_facts, a, b, period):
    date_from, date_to = min(a, b), max(a, b)
    docs = [logic.DocFact(kind=kind, day=day, currency=cur, net=net, tax=tax, total=net + tax,
                          open=min(open_, net + tax) if kind == "invoice" else Decimal(0),
                          taxes=(logic.TaxFact("T", "10", net, tax),))
            for day, kind, cur, net, tax, open_ in doc_facts]
    pays = [logic.PaymentFact(day=day, currency=cur, amount=-amount if reversal else amount)
            for day, cur, amount, reversal in payment_facts]
    report = logic.revenue(docs, pays, date_from, date_to, period)
    inside = [d for d in docs if date_from <= d.day <= date_to]
    for total in report.totals:
        mine = [d for d in inside if d.currency == total.currency]
        invoices = [d for d in mine if d.kind == "invoice"]
        credits = [d for d in mine if d.kind == "credit_note"]
        assert total.invoiced == sum((d.total for d in invoices), Decimal(0))
        assert total.credited == sum((d.total for d in credits), Decimal(0))
        assert total.net_invoiced == total.net + total.tax
        assert total.outstanding == sum((d.open for d in invoices), Decimal(0))
        assert total.collected == sum((p.amount for p in pays if p.currency == total.currency
                                       and date_from <= p.day <= date_to), Decimal(0))
        assert total.invoices == len(invoices) and total.credit_notes == len(credits)
        rows = [r for r in report.rows if r.currency == total.currency]
        assert sum((r.invoiced for r in rows), Decimal(0)) == total.invoiced
        assert sum((r.collected for r in rows), Decimal(0)) == total.collected
        if "T" in {code for code, _ in total.taxes}:
            assert total.taxes[("T", "10")][1] == total.tax
    # every row's bucket holds exactly the facts dated in it
    for row in report.rows:
        assert date_from <= row.start <= row.end <= date_to
        assert row.invoices == sum(1 for d in inside if d.kind == "invoice" and d.currency == row.currency
                                   and row.start <= d.day <= row.end)
    keys = [(r.key, r.currency) for r in report.rows]
    assert len(keys) == len(set(keys))


def test_keys_and_labels():
    assert logic.bucket_key(date(2026, 11, 21), "month") == "2026-11"
    assert logic.bucket_key(date(2026, 11, 21), "quarter") == "2026-Q4"
    assert logic.bucket_key(date(2026, 11, 21), "year") == "2026"
    assert logic.bucket_label(date(2026, 10, 1), "quarter") == "Q4 2026"
    assert logic.bucket_label(date(2026, 2, 1), "month") == "Feb 2026"
    with pytest.raises(ValueError):
        logic.bucket_key(date(2026, 1, 1), "week")


def test_empty_range_still_has_a_row_per_bucket():
    report = logic.revenue([], [], date(2026, 1, 1), date(2026, 3, 31), "month", default_currency="CAD")
    assert [r.key for r in report.rows] == ["2026-01", "2026-02", "2026-03"]
    assert report.currencies == ["CAD"] and report.totals[0].invoiced == 0


def test_the_chart_is_well_formed_svg_without_scripts_or_style():
    docs = [logic.DocFact("invoice", date(2026, m, 3), "EUR", Decimal(100 * m), Decimal(19 * m), Decimal(119 * m),
                          Decimal(10)) for m in range(1, 13)]
    docs.append(logic.DocFact("credit_note", date(2026, 5, 3), "EUR", Decimal(2000), Decimal(0), Decimal(2000)))
    report = logic.revenue(docs, [logic.PaymentFact(date(2026, 2, 1), "EUR", Decimal(50))], date(2026, 1, 1),
                           date(2026, 12, 31), "month")
    svg = logic.bar_chart_svg(report.rows, "EUR")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    assert len(rects) >= 12 * 3
    assert "<script" not in svg and "style=" not in svg and "onload" not in svg
    titles = [r.find("{http://www.w3.org/2000/svg}title").text for r in rects if r.find("{http://www.w3.org/2000/svg}title") is not None]
    assert "May 2026: Invoiced (net of credit notes) -1405 EUR" in titles
    assert all(float(r.get("height")) >= 0 for r in rects)
    assert "Jan 2026" in svg


def test_the_chart_escapes_text():
    report = logic.revenue([], [], date(2026, 1, 1), date(2026, 1, 31), "month", default_currency="<&>")
    ET.fromstring(logic.bar_chart_svg(report.rows, "<&>"))


# -- the dashboard's money at a glance (issue 15 point 8) ---------------------------------------------

def test_last_months_runs_from_the_first_of_the_month_eleven_months_back() -> None:
    from app.reports.logic import last_months

    assert last_months(date(2026, 12, 6)) == (date(2026, 1, 1), date(2026, 12, 6))
    assert last_months(date(2026, 3, 31)) == (date(2025, 4, 1), date(2026, 3, 31))
    assert last_months(date(2026, 1, 1), 1) == (date(2026, 1, 1), date(2026, 1, 1))


def test_at_a_glance_sums_this_month_and_this_year_per_currency_net_of_credit_notes() -> None:
    from app.reports.logic import DocFact, PaymentFact, at_a_glance, last_months, revenue

    today = date(2026, 3, 15)
    docs = [
        DocFact("invoice", date(2025, 12, 3), "EUR", Decimal(500), Decimal(100), Decimal(600)),   # last year
        DocFact("invoice", date(2026, 1, 10), "EUR", Decimal(1000), Decimal(200), Decimal(1200)),
        DocFact("invoice", date(2026, 3, 2), "EUR", Decimal(300), Decimal(60), Decimal(360)),
        DocFact("credit_note", date(2026, 3, 9), "EUR", Decimal(100), Decimal(20), Decimal(120)),
        DocFact("invoice", date(2026, 3, 1), "CAD", Decimal(80), Decimal(0), Decimal(80), count=4),
    ]
    payments = [PaymentFact(date(2026, 3, 4), "EUR", Decimal(360)), PaymentFact(date(2026, 3, 5), "EUR", Decimal(-60)),
                PaymentFact(date(2026, 2, 1), "EUR", Decimal(1200))]
    report = revenue(docs, payments, *last_months(today), "month")
    glance = {g.currency: g for g in at_a_glance(report, today)}
    assert (glance["EUR"].revenue_month, glance["EUR"].revenue_year) == (Decimal(200), Decimal(1200))
    assert glance["EUR"].collected_month == Decimal(300)
    assert glance["EUR"].invoiced_month == Decimal(240)
    assert (glance["CAD"].revenue_month, glance["CAD"].revenue_year, glance["CAD"].collected_month) == \
        (Decimal(80), Decimal(80), Decimal(0))
    assert [t.invoices for t in report.totals if t.currency == "CAD"] == [4]  # a summed fact counts its documents


def test_at_a_glance_of_an_empty_year_is_zero_in_the_default_currency() -> None:
    from app.reports.logic import at_a_glance, last_months, revenue

    today = date(2026, 6, 30)
    glance = at_a_glance(revenue([], [], *last_months(today), "month", default_currency="CHF"), today)
    assert [(g.currency, g.revenue_month, g.revenue_year, g.collected_month) for g in glance] == \
        [("CHF", Decimal(0), Decimal(0), Decimal(0))]
