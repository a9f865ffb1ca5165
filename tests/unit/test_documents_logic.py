"""app.documents.logic: totals, taxes, statuses, numbering and input checks.

Every expected amount below is worked out by hand in the comment beside it, so a
change in the rounding rule (half-up, per line, tax once per document) shows up here.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.common.logic import Conflict, ValidationFailed
from app.documents import logic
from app.documents.logic import (
    CREDIT_NOTE,
    INVOICE,
    QUOTE,
    Line,
    check_can_cancel,
    check_can_issue,
    check_credit_fits,
    check_editable,
    check_invoice_total,
    check_pattern,
    check_quote_transition,
    clean_document,
    compute_totals,
    format_number,
    invoice_status,
    line_net,
    quote_status,
    shown_status,
)
from app.money import minor_digits, round_money
from app.taxes.logic import PRESETS, TaxRate

D = Decimal
RATES = {rate.code: rate for rate in PRESETS["canada"][1]}  # GST 5, HST 13, HST15, PST 7, QST 9.975
RATES["QSTC"] = TaxRate("QSTC", "QST (compound, before 2013)", D("7.5"), compound=True)
RATES["VAT10"] = TaxRate("VAT10", "VAT 10 %", D("10"))
RATES["VAT5"] = TaxRate("VAT5", "VAT 5 %", D("5"))
RATES["ZERO"] = TaxRate("ZERO", "Exempt", D("0"), category="E")


def line(quantity: str, price: str, *taxes: str, discount: str = "0", description: str = "Work") -> Line:
    return Line(description=description, quantity=D(quantity), unit_price=D(price), discount_percent=D(discount),
                tax_codes=tuple(taxes))


def tax_amounts(totals: logic.Totals) -> dict[str, tuple[str, str]]:
    """{code: (base, amount)} as exact text, so '5.00' and '5' are not confused."""
    return {tax.code: (str(tax.base), str(tax.amount)) for tax in totals.taxes}


def assert_exact_decimals(totals: logic.Totals) -> None:
    exponent = -minor_digits(totals.currency)
    amounts = [*totals.nets, totals.subtotal, totals.tax_total, totals.total,
               *(t.base for t in totals.taxes), *(t.amount for t in totals.taxes)]
    for amount in amounts:
        assert amount.as_tuple().exponent == exponent, (amount, totals)


# -- hand-computed examples ------------------------------------------------------

def test_gst_and_pst_on_100():
    totals = compute_totals([line("1", "100", "GST", "PST")], RATES, "CAD")
    # 100.00 x 5 % = 5.00; 100.00 x 7 % = 7.00
    assert totals.nets == (D("100.00"),)
    assert tax_amounts(totals) == {"GST": ("100.00", "5.00"), "PST": ("100.00", "7.00")}
    assert (str(totals.subtotal), str(totals.tax_total), str(totals.total)) == ("100.00", "12.00", "112.00")
    assert_exact_decimals(totals)


def test_hst_13():
    totals = compute_totals([line("1", "19.99", "HST")], RATES, "CAD")
    # 19.99 x 13 % = 2.5987 -> 2.60
    assert tax_amounts(totals) == {"HST": ("19.99", "2.60")}
    assert str(totals.total) == "22.59"


def test_qst_9_975_rounds_half_up():
    totals = compute_totals([line("1", "100", "GST", "QST")], RATES, "CAD")
    # 100.00 x 9.975 % = 9.975 -> 9.98 (half-up; banker's rounding would give 9.98 too, see the next one)
    assert tax_amounts(totals) == {"GST": ("100.00", "5.00"), "QST": ("100.00", "9.98")}
    assert str(totals.total) == "114.98"
    # 10.50 x 9.975 % = 1.047375 -> 1.05; 33.33 x 9.975 % = 3.3246675 -> 3.32
    assert tax_amounts(compute_totals([line("1", "10.50", "QST")], RATES, "CAD"))["QST"] == ("10.50", "1.05")
    assert tax_amounts(compute_totals([line("1", "33.33", "QST")], RATES, "CAD"))["QST"] == ("33.33", "3.32")


def test_half_up_at_half_a_cent():
    # 0.125 -> 0.13 (half-even would give 0.12); 3 x 0.005 = 0.015 -> 0.02 (half-even: 0.02); 0.245 -> 0.25
    assert str(line_net(line("1", "0.125"), "EUR")) == "0.13"
    assert str(line_net(line("3", "0.005"), "EUR")) == "0.02"
    assert str(line_net(line("1", "0.245"), "EUR")) == "0.25"
    # tax: 0.25 x 10 % = 0.025 -> 0.03 (half-even would give 0.02)
    totals = compute_totals([line("1", "0.25", "VAT10")], RATES, "EUR")
    assert tax_amounts(totals) == {"VAT10": ("0.25", "0.03")}
    # negative amounts round away from zero too (a credit line): -0.125 -> -0.13
    assert str(line_net(line("-1", "0.125"), "EUR")) == "-0.13"


def test_jpy_has_no_decimals():
    totals = compute_totals([line("1.5", "333", "VAT10"), line("3", "333", "VAT10")], RATES, "JPY")
    # 1.5 x 333 = 499.5 -> 500; 3 x 333 = 999; tax (500 + 999) x 10 % = 149.9 -> 150
    assert totals.nets == (D("500"), D("999"))
    assert tax_amounts(totals) == {"VAT10": ("1499", "150")}
    assert (str(totals.subtotal), str(totals.tax_total), str(totals.total)) == ("1499", "150", "1649")
    assert_exact_decimals(totals)


def test_kwd_has_three_decimals():
    totals = compute_totals([line("1", "1.2345", "VAT5")], RATES, "KWD")
    # 1.2345 -> 1.235 (half-up at half a fils); 1.235 x 5 % = 0.06175 -> 0.062
    assert totals.nets == (D("1.235"),)
    assert tax_amounts(totals) == {"VAT5": ("1.235", "0.062")}
    assert str(totals.total) == "1.297"
    assert_exact_decimals(totals)


def test_line_discount():
    # 3 x 19.99 = 59.97, less 10 % = 53.973 -> 53.97; HST 53.97 x 13 % = 7.0161 -> 7.02
    totals = compute_totals([line("3", "19.99", "HST", discount="10")], RATES, "CAD")
    assert totals.nets == (D("53.97"),)
    assert tax_amounts(totals) == {"HST": ("53.97", "7.02")}
    assert str(totals.total) == "60.99"
    # 100 % off is a free line
    assert line_net(line("2", "50", discount="100"), "EUR") == D("0.00")


def test_document_discount_applies_per_line_before_tax():
    lines = [line("1", "100", "GST"), line("1", "50", "GST")]
    totals = compute_totals(lines, RATES, "CAD", D("10"))
    # 100 -> 90.00, 50 -> 45.00; GST on 135.00 = 6.75
    assert totals.nets == (D("90.00"), D("45.00"))
    assert tax_amounts(totals) == {"GST": ("135.00", "6.75")}
    assert str(totals.total) == "141.75"
    # line discount 10 % and document discount 5 %: 100 x 0.90 x 0.95 = 85.50 (not 100 x 0.85)
    assert line_net(line("1", "100", discount="10"), "CAD", D("5")) == D("85.50")
    # both discounts, rounded once: 3 x 3.33 = 9.99 x 0.9 x 0.95 = 8.54145 -> 8.54
    assert line_net(line("3", "3.33", discount="10"), "CAD", D("5")) == D("8.54")


def test_compound_tax_sits_on_the_net_plus_the_non_compound_taxes():
    totals = compute_totals([line("1", "100", "GST", "QSTC")], RATES, "CAD")
    # GST 5.00; QST (compound 7.5 %) on 100.00 + 5.00 = 105.00 -> 7.875 -> 7.88
    assert tax_amounts(totals) == {"GST": ("100.00", "5.00"), "QSTC": ("105.00", "7.88")}
    assert str(totals.total) == "112.88"
    assert [t.code for t in totals.taxes] == ["GST", "QSTC"]  # compound taxes come after
    assert totals.taxes[1].compound and not totals.taxes[0].compound


def test_compound_tax_only_adds_the_taxes_of_its_own_lines():
    lines = [line("1", "100", "GST", "QSTC"), line("1", "50", "QSTC"), line("1", "40", "GST")]
    totals = compute_totals(lines, RATES, "CAD")
    # GST on 100 + 40 = 140.00 -> 7.00; QSTC on 150.00 + GST of the first line (5.00) = 155.00 -> 11.625 -> 11.63
    assert tax_amounts(totals) == {"GST": ("140.00", "7.00"), "QSTC": ("155.00", "11.63")}
    assert str(totals.total) == str(D("190.00") + D("7.00") + D("11.63"))


def test_br_co_17_tax_once_on_the_sum_of_nets():
    lines = [line("0.333", "1", "HST"), line("0.333", "1", "HST"), line("0.333", "1", "HST")]
    totals = compute_totals(lines, RATES, "CAD")
    # each net is rounded first: 0.333 -> 0.33, so the subtotal is 0.99 (not 0.999 -> 1.00)
    assert totals.nets == (D("0.33"),) * 3
    assert totals.subtotal == D("0.99")
    # the tax once on 0.99: 0.1287 -> 0.13; per line it would be 3 x round(0.0429) = 0.12
    assert tax_amounts(totals) == {"HST": ("0.99", "0.13")}
    assert str(totals.total) == "1.12"
    # the same effect the other way: 3 x 0.10 at 5 %: per line 3 x 0.01 = 0.03, once on 0.30 = 0.015 -> 0.02
    totals = compute_totals([line("1", "0.10", "GST")] * 3, RATES, "CAD")
    assert tax_amounts(totals) == {"GST": ("0.30", "0.02")}


def test_lines_without_taxes_and_an_empty_document_have_the_currencys_decimals():
    totals = compute_totals([line("2", "10")], RATES, "EUR")
    assert (str(totals.subtotal), str(totals.tax_total), str(totals.total)) == ("20.00", "0.00", "20.00")
    assert totals.taxes == ()
    empty = compute_totals([], RATES, "KWD")
    assert (str(empty.subtotal), str(empty.tax_total), str(empty.total)) == ("0.000", "0.000", "0.000")


def test_zero_rate_tax_is_listed_with_its_base():
    totals = compute_totals([line("1", "80", "ZERO")], RATES, "EUR")
    assert tax_amounts(totals) == {"ZERO": ("80.00", "0.00")}
    assert totals.taxes[0].category == "E"


def test_balance():
    assert logic.balance(D("135.60"), D("50.00"), D("0.00")) == D("85.60")
    assert logic.balance(D("135.60"), D("50.00"), D("85.60")) == D("0.00")


# -- properties --------------------------------------------------------------------

CURRENCIES = ["EUR", "JPY", "KWD"]
TAX_SETS = [(), ("GST",), ("GST", "PST"), ("HST",), ("GST", "QST"), ("GST", "QSTC"), ("QSTC",), ("VAT10",),
            ("ZERO",), ("VAT5", "VAT10", "QSTC")]


def _scaled(max_units: int, places: int, minimum: int = 0) -> st.SearchStrategy[Decimal]:
    return st.integers(minimum, max_units).map(lambda n: Decimal(n).scaleb(-places))


quantities = st.one_of(
    st.integers(1, 1000).map(Decimal),
    st.integers(1, 10_000_000).map(lambda n: Decimal(n).scaleb(-4)),     # 0.0001 .. 1000
    st.integers(-50, -1).map(Decimal),                                   # credit / deposit lines
)
prices = st.one_of(_scaled(1_000_000, 2), _scaled(100_000_000, 4), _scaled(5_000_000, 0))
discounts = st.one_of(st.just(D(0)), st.sampled_from([D(5), D(10), D("12.5"), D(50), D(100)]), _scaled(10_000, 2))


@st.composite
def lines_strategy(draw: st.DrawFn, discounts_too: bool = True) -> list[Line]:
    count = draw(st.integers(0, 12))
    return [Line(description=f"Line {i}", quantity=draw(quantities), unit_price=draw(prices),
                 discount_percent=draw(discounts) if discounts_too else D(0),
                 tax_codes=draw(st.sampled_from(TAX_SETS))) for i in range(count)]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(lines=lines_strategy(), currency=st.sampled_from(CURRENCIES), document_discount=discounts)
def test_identities_hold_for_any_lines(lines, currency, document_discount):
    totals = compute_totals(lines, RATES, currency, document_discount)
    assert totals.total == totals.subtotal + totals.tax_total
    assert totals.subtotal == sum(totals.nets, D(0))
    assert totals.tax_total == sum((t.amount for t in totals.taxes), D(0))
    assert list(totals.nets) == [line_net(l, currency, document_discount) for l in lines]
    assert_exact_decimals(totals)
    # each tax is computed once, on the sum of the nets of the lines that carry it; a compound tax adds
    # the non-compound taxes of those same lines, each computed once on their shared nets
    for tax in totals.taxes:
        carrying = [(l, n) for l, n in zip(lines, totals.nets, strict=False) if tax.code in l.tax_codes]
        expected_base = sum((n for _, n in carrying), D(0))
        if tax.compound:
            for simple in {c for l, _ in carrying for c in l.tax_codes if not RATES[c].compound}:
                shared = sum((n for l, n in carrying if simple in l.tax_codes), D(0))
                expected_base += round_money(shared * RATES[simple].rate / 100, currency)
        assert tax.base == expected_base
        assert tax.amount == round_money(tax.base * tax.rate / 100, currency)
    assert [t.code for t in totals.taxes] == sorted(
        {c for l in lines for c in l.tax_codes}, key=lambda c: (RATES[c].compound, c))


@settings(max_examples=200)
@given(lines=lines_strategy(), currency=st.sampled_from(CURRENCIES), data=st.data())
def test_totals_do_not_change_when_lines_are_reordered(lines, currency, data):
    shuffled = data.draw(st.permutations(lines))
    before = compute_totals(lines, RATES, currency)
    after = compute_totals(shuffled, RATES, currency)
    assert (after.subtotal, after.taxes, after.tax_total, after.total) == \
        (before.subtotal, before.taxes, before.tax_total, before.total)
    assert sorted(after.nets) == sorted(before.nets)


@settings(max_examples=200)
@given(lines=lines_strategy(discounts_too=False), currency=st.sampled_from(CURRENCIES), discount=discounts)
def test_document_discount_equals_the_same_line_discounts(lines, currency, discount):
    on_document = compute_totals(lines, RATES, currency, discount)
    on_lines = compute_totals([Line(l.description, l.quantity, l.unit_price, discount, l.tax_codes) for l in lines],
                              RATES, currency)
    assert on_document == on_lines


# -- numbering ---------------------------------------------------------------------

@pytest.mark.parametrize(("pattern", "day", "seq", "number"), [
    ("INV-{year}-{seq:04}", date(2026, 3, 5), 7, "INV-2026-0007"),
    ("INV-{year}-{seq:04}", date(2026, 12, 31), 12345, "INV-2026-12345"),  # padding is a minimum
    ("{yy}{seq:05}", date(2026, 3, 5), 7, "2600007"),
    ("{yy}{seq:05}", date(2006, 3, 5), 42, "0600042"),
    ("QUO-{year}{month:02}-{seq}", date(2027, 1, 9), 3, "QUO-202701-3"),
    ("CN-{year}-{seq:04}", date(2025, 6, 1), 1, "CN-2025-0001"),
])
def test_format_number(pattern, day, seq, number):
    assert format_number(pattern, day, seq) == number


@pytest.mark.parametrize("pattern", ["INV-{year}-{seq:04}", "{yy}{seq:05}", "QUO-{year}-{seq:04}",
                                     "F{year}/{month:02}/{seq:03}", "{year}{seq}"])
def test_check_pattern_accepts(pattern):
    assert check_pattern(pattern) == pattern
    assert check_pattern(f"  {pattern}  ") == pattern


@pytest.mark.parametrize(("pattern", "message"), [
    ("INV-{year}", "must contain {seq}"),
    ("INV-0001", "must contain {seq}"),
    ("INV-{seq:04}", "needs {year} or {yy}"),
    ("INV-{month:02}-{seq}", "needs {year} or {yy}"),
    ("{{year}}-{seq}", "needs {year} or {yy}"),  # escaped braces are text, not a field
    ("INV-{year}-{client}-{seq}", "Unknown field {client}"),
    ("INV-{year}-{}-{seq}", "Unknown field"),
    ("INV-{year.real}-{seq}", "Unknown field"),
    ("INV-{year}-{seq:04", "Unbalanced braces"),
    ("INV-{year}}-{seq}", "Unbalanced braces"),
    ("INV-year}-{seq}", "Unbalanced braces"),
    ("{year}-{seq:s}", "cannot be used"),
    ("INV-{year}-{seq:4}", "padded with zeros only"),   # a width alone pads with spaces: "INV-2026- 189"
    ("INV-{year}-{seq:>5}", "padded with zeros only"),
    ("INV-{year}-{seq!r}", "padded with zeros only"),
    ("INV-{yy:02}-{seq}", "padded with zeros only"),
    ("", "required"),
    ("   ", "required"),
    ("X" * 41 + "{year}{seq}", "at most 40"),
])
def test_check_pattern_refuses(pattern, message):
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        check_pattern(pattern)


def test_default_patterns_are_valid():
    for pattern in logic.DEFAULT_PATTERNS.values():
        assert check_pattern(pattern) == pattern
    assert logic.DEFAULT_PATTERNS == {INVOICE: "INV-{year}-{seq:04}", QUOTE: "QUO-{year}-{seq:04}",
                                      CREDIT_NOTE: "CN-{year}-{seq:04}"}


def test_clean_number_patterns_checks_the_given_ones_by_their_settings_field():
    assert logic.clean_number_patterns({"invoice_number_pattern": " F{yy}-{seq:05} ", "name": "ignored"}) == {
        "invoice_number_pattern": "F{yy}-{seq:05}"}
    assert logic.clean_number_patterns({}) == {}
    assert logic.clean_number_patterns({"quote_number_pattern": ""}) == {"quote_number_pattern": "QUO-{year}-{seq:04}"}
    assert logic.clean_number_patterns({}, partial=False) == {
        field: logic.DEFAULT_PATTERNS[doc_type] for doc_type, field in logic.PATTERN_FIELDS.items()}
    with pytest.raises(ValidationFailed) as failed:
        logic.clean_number_patterns({"invoice_number_pattern": "F-{seq}", "credit_note_number_pattern": "CN-{year}",
                                     "quote_number_pattern": "Q{yy}{seq}"})
    assert set(failed.value.by_field()) == {"invoice_number_pattern", "credit_note_number_pattern"}
    assert "{year} or {yy}" in failed.value.by_field()["invoice_number_pattern"]


@pytest.mark.parametrize(("doc_type", "stored", "becomes_sent"), [
    (INVOICE, "issued", True),
    (INVOICE, "sent", False), (INVOICE, "draft", False), (INVOICE, "cancelled", False),
    (QUOTE, "issued", False), (CREDIT_NOTE, "issued", False),
])
def test_only_an_issued_invoice_becomes_sent_when_sent(doc_type, stored, becomes_sent):
    assert logic.sending_makes_it_sent(doc_type, stored) is becomes_sent


# -- snapshot ----------------------------------------------------------------------

def test_snapshot_freezes_the_listed_fields_of_business_and_client():
    settings = {"name": "Northwind", "city": "Toronto", "bank_iban": None, "smtp_password": "secret",
                "invoice_number_pattern": "INV-{year}-{seq:04}"}
    client = {"id": 7, "name": "Globex", "buyer_reference": "04011000-1234512345-06", "notes": "private"}
    frozen = logic.snapshot(settings, client)
    assert list(frozen["business"]) == list(logic.SNAPSHOT_BUSINESS_FIELDS)
    assert list(frozen["client"]) == list(logic.SNAPSHOT_CLIENT_FIELDS)
    assert (frozen["business"]["name"], frozen["business"]["city"], frozen["business"]["bank_iban"]) == \
        ("Northwind", "Toronto", "")   # a missing or empty field is ""
    assert frozen["client"]["buyer_reference"] == "04011000-1234512345-06" and frozen["client"]["email"] == ""


# -- statuses ----------------------------------------------------------------------

TODAY = date(2026, 11, 21)


def status(stored, total="100.00", paid="0", credited="0", due=TODAY + timedelta(days=30)):
    return invoice_status(stored, total=D(total), paid=D(paid), credited=D(credited), due_date=due, today=TODAY)


def test_invoice_statuses():
    assert status("draft") == "draft"
    assert status("draft", due=TODAY - timedelta(days=90)) == "draft"  # a draft is never overdue
    assert status("issued") == "issued"
    assert status("sent") == "sent"
    assert status("issued", paid="40.00") == "partial"
    assert status("sent", credited="40.00") == "partial"
    assert status("sent", paid="60.00", credited="40.00") == "paid"
    assert status("issued", paid="100.00") == "paid"
    assert status("issued", due=TODAY - timedelta(days=1)) == "overdue"
    assert status("sent", paid="40.00", due=TODAY - timedelta(days=1)) == "overdue"
    assert status("issued", paid="100.00", due=TODAY - timedelta(days=1)) == "paid"  # paid late is paid
    assert status("cancelled", credited="100.00") == "cancelled"
    assert status("cancelled", due=TODAY - timedelta(days=1)) == "cancelled"
    assert status("issued", due=None) == "issued"


def test_due_today_is_not_overdue_tomorrow_it_is():
    assert status("issued", due=TODAY) == "issued"
    assert invoice_status("issued", total=D(1), paid=D(0), credited=D(0), due_date=TODAY,
                          today=TODAY + timedelta(days=1)) == "overdue"


def test_quote_statuses():
    assert quote_status("issued", valid_until=TODAY, today=TODAY) == "issued"
    assert quote_status("issued", valid_until=TODAY - timedelta(days=1), today=TODAY) == "expired"
    assert quote_status("issued", valid_until=None, today=TODAY) == "issued"
    for stored in ("draft", "accepted", "declined", "converted"):
        assert quote_status(stored, valid_until=TODAY - timedelta(days=1), today=TODAY) == stored
    assert shown_status(QUOTE, "issued", valid_until=TODAY - timedelta(days=1), today=TODAY) == "expired"
    assert shown_status(CREDIT_NOTE, "issued", total=D(5), today=TODAY) == "issued"
    assert shown_status(INVOICE, "sent", total=D(5), paid=D(5), today=TODAY) == "paid"


def test_issued_documents_are_not_editable_and_the_message_says_what_to_do():
    check_editable(INVOICE, "draft")
    with pytest.raises(Conflict, match="credit note"):
        check_editable(INVOICE, "issued")
    with pytest.raises(Conflict, match="credit note"):
        check_editable(INVOICE, "cancelled")
    with pytest.raises(Conflict, match="duplicate"):
        check_editable(QUOTE, "accepted")


def test_what_issuing_needs():
    check_can_issue(INVOICE, "draft", 1, "active")
    with pytest.raises(Conflict, match="already issued"):
        check_can_issue(INVOICE, "issued", 1, "active")
    with pytest.raises(Conflict, match="at least one line"):
        check_can_issue(INVOICE, "draft", 0, "active")
    with pytest.raises(Conflict, match="archived"):
        check_can_issue(QUOTE, "draft", 3, "archived")


def test_an_invoice_below_zero_cannot_be_issued():
    check_invoice_total(INVOICE, Decimal("0.00"))
    check_invoice_total(QUOTE, Decimal("-10.00"))   # a quote moves no money (credit notes: check_credit_fits)
    with pytest.raises(Conflict, match=r"The invoice totals -150.00: an invoice cannot be below zero"):
        check_invoice_total(INVOICE, Decimal("-150.00"))


def test_quote_transitions():
    check_quote_transition("accept", "issued", "issued")
    check_quote_transition("decline", "issued", "expired")
    check_quote_transition("convert", "accepted", "accepted")
    with pytest.raises(Conflict, match="expired"):
        check_quote_transition("accept", "issued", "expired")
    with pytest.raises(Conflict, match="cannot be converted"):
        check_quote_transition("convert", "converted", "converted")
    with pytest.raises(Conflict, match="A declined quote cannot be declined"):
        check_quote_transition("decline", "declined", "declined")
    with pytest.raises(Conflict, match="A draft quote cannot be accepted"):
        check_quote_transition("accept", "draft", "draft")
    with pytest.raises(Conflict, match="An accepted quote cannot be accepted"):
        check_quote_transition("accept", "accepted", "accepted")


def test_cancel_and_credit_rules():
    check_can_cancel("issued", D(0), D(0))
    with pytest.raises(Conflict, match="delete it"):
        check_can_cancel("draft", D(0), D(0))
    with pytest.raises(Conflict, match="already cancelled"):
        check_can_cancel("cancelled", D(0), D(0))
    with pytest.raises(Conflict, match="payments"):
        check_can_cancel("sent", D("1.00"), D(0))
    check_credit_fits(D("85.60"), D("85.60"), "INV-2026-0001")
    with pytest.raises(Conflict, match="more than the open balance of INV-2026-0001"):
        check_credit_fits(D("85.61"), D("85.60"), "INV-2026-0001")
    with pytest.raises(Conflict, match="above zero"):
        check_credit_fits(D("0.00"), D("85.60"), "INV-2026-0001")


# -- input -------------------------------------------------------------------------

GOOD = {"client_id": 1, "currency": "EUR", "issue_date": "2026-05-10", "due_date": "2026-06-09",
        "lines": [{"description": "Design", "quantity": "2", "unit_price": "10.50", "taxes": ["VAT19"]}]}


def errors_of(data, doc_type=INVOICE, **kwargs) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        clean_document(data, doc_type, **kwargs)
    return caught.value.by_field()


def test_clean_document_reads_a_good_body():
    values = clean_document({**GOOD, "client_id": "1", "currency": "eur", "discount_percent": "2.5",
                             "lines": [{"description": "  Design ", "quantity": "1.25", "unit_price": "80",
                                        "taxes": "vat19, vat19 VAT7"}]}, INVOICE)
    assert values.client_id == 1 and values.currency == "EUR"
    assert values.issue_date == date(2026, 5, 10) and values.due_date == date(2026, 6, 9)
    assert values.discount_percent == D("2.5")
    (only,) = values.lines
    assert only["description"] == "Design" and only["quantity"] == D("1.25") and only["unit_price"] == D(80)
    assert only["taxes"] == ["VAT19", "VAT7"]


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"lines": [{**GOOD["lines"][0], "quantity": "abc"}]}, "lines[0].quantity", "'abc' is not a number"),
    ({"lines": [{**GOOD["lines"][0], "quantity": "0"}]}, "lines[0].quantity", "cannot be zero"),
    ({"lines": [{**GOOD["lines"][0], "quantity": "1.00001"}]}, "lines[0].quantity", "at most 4 decimals"),
    ({"lines": [{**GOOD["lines"][0], "unit_price": "-1"}]}, "lines[0].unit_price", "cannot be negative"),
    ({"lines": [{**GOOD["lines"][0], "unit_price": "1.23456"}]}, "lines[0].unit_price", "at most 4 decimals"),
    ({"lines": [{**GOOD["lines"][0], "unit_price": ""}]}, "lines[0].unit_price", "a number is required"),
    ({"lines": [{**GOOD["lines"][0], "discount_percent": 150}]}, "lines[0].discount_percent", "between 0 and 100"),
    ({"lines": [{**GOOD["lines"][0], "discount_percent": "-5"}]}, "lines[0].discount_percent", "between 0 and 100"),
    ({"lines": [{**GOOD["lines"][0], "description": "   "}]}, "lines[0].description", "description is required"),
    ({"lines": [GOOD["lines"][0], {"quantity": "1", "unit_price": "1"}]}, "lines[1].description",
     "Line 2: a description is required"),
    ({"discount_percent": "150"}, "discount_percent", "between 0 and 100"),
    ({"due_date": "2026-05-09"}, "due_date", "cannot be before the issue date"),
    ({"due_date": "9 May"}, "due_date", "YYYY-MM-DD"),
    ({"currency": "XYZ"}, "currency", "unknown currency code 'XYZ'"),
    ({"client_id": "abc"}, "client_id", "Choose a client"),
    ({"client_id": None}, "client_id", "Choose a client"),
    ({"terms_days": "400"}, "terms_days", "at most 365"),
    ({"lines": "Design"}, "lines", "must be a list"),
])
def test_clean_document_names_the_field(change, field, message):
    errors = errors_of({**GOOD, **change})
    assert field in errors, errors
    assert message in errors[field]


def test_clean_document_reports_every_bad_field_at_once():
    errors = errors_of({**GOOD, "currency": "XYZ", "due_date": "2026-05-01",
                        "lines": [{"description": "", "quantity": "abc", "unit_price": "-1", "discount_percent": "150"}]})
    assert set(errors) == {"currency", "due_date", "lines[0].description", "lines[0].quantity", "lines[0].unit_price",
                           "lines[0].discount_percent"}


def test_quote_validity_and_negative_lines():
    assert "valid_until" in errors_of({**GOOD, "valid_until": "2026-05-01"}, QUOTE)
    # an invoice may carry a negative line (a deposit already received), and so may the credit note that
    # mirrors it (its total must still be above zero, which issuing checks)
    negative = {**GOOD, "lines": [GOOD["lines"][0], {**GOOD["lines"][0], "quantity": "-1"}]}
    assert clean_document(negative, INVOICE).lines[1]["quantity"] == -1
    assert clean_document(negative, CREDIT_NOTE).lines[1]["quantity"] == -1


def test_a_line_amount_too_large_for_the_database_is_refused():
    # 999,999,999 x 99,999,999,999 would be ~1e22 cents: more than a 64-bit integer holds
    errors = errors_of({**GOOD, "lines": [{**GOOD["lines"][0], "quantity": "999999999", "unit_price": "99999999999"}]})
    assert "too large" in errors["lines[0].unit_price"]
    assert clean_document({**GOOD, "lines": [{**GOOD["lines"][0], "quantity": "1000",
                                              "unit_price": "999999999"}]}, INVOICE).lines[0]["unit_price"]


def test_partial_update_checks_only_what_is_given():
    values = clean_document({"notes": "Thanks"}, INVOICE, partial=True)
    assert values.given == {"notes"} and values.lines == [] and values.client_id is None
    assert "lines[0].quantity" in errors_of({"lines": [{"description": "x", "quantity": "x", "unit_price": "1"}]},
                                            partial=True)


def test_exact_text_of_quantities_and_prices():
    assert logic.decimal_text(D("1.5000")) == "1.5"
    assert logic.decimal_text(D("120")) == "120"
    assert logic.decimal_text(D("1E+2")) == "100"
    assert logic.decimal_text(D("-0")) == "0"
    assert logic.price_text(D("120")) == "120.00"
    assert logic.price_text(D("0.0125")) == "0.0125"
    assert logic.price_text(D("19.9")) == "19.90"


# -- reverse charge needs both VAT numbers (EN 16931 BR-AE-02/03/04) ----------------------------

def test_reverse_charge_without_the_clients_vat_number_is_a_problem():
    problems = logic.reverse_charge_problems(["S", "AE"], seller_tax_number="DE811111111", buyer_tax_number="")
    assert [(p.field, p.message) for p in problems] == [
        ("client.tax_number", "Reverse charge needs the client's VAT number; add it on the client.")]


def test_reverse_charge_without_the_sellers_vat_number_is_a_problem():
    problems = logic.reverse_charge_problems(["AE"], seller_tax_number="  ", buyer_tax_number="ATU12345678")
    assert [p.field for p in problems] == ["settings.tax_number"] and "Settings" in problems[0].message
    both = logic.reverse_charge_problems(["AE"], seller_tax_number=None, buyer_tax_number=" ")
    assert [p.field for p in both] == ["client.tax_number", "settings.tax_number"]


def test_no_reverse_charge_or_both_numbers_no_problem():
    assert logic.reverse_charge_problems(["S", "E", "Z", "K"], seller_tax_number="", buyer_tax_number="") == []
    assert logic.reverse_charge_problems([], seller_tax_number="", buyer_tax_number="") == []
    assert logic.reverse_charge_problems(["AE"], seller_tax_number="DE811111111",
                                         buyer_tax_number="FR 32 812 345 678") == []
    # no client chosen yet: nothing to say about the client
    assert logic.reverse_charge_problems(["AE"], seller_tax_number="DE811111111", buyer_tax_number=None) == []


def test_reverse_charge_needs_vat_identifiers_not_local_tax_numbers():
    """The e-invoice writes a number without a country prefix as a local registration (or leaves a
    buyer's out), which BR-AE-02 does not accept: such numbers are named as the problem."""
    problems = logic.reverse_charge_problems(["AE"], seller_tax_number="123456789 RT0001", buyer_tax_number="12345678")
    assert {p.field: p.message for p in problems} == {
        "client.tax_number": "Reverse charge needs the client's VAT number with its country prefix (like "
                             "DE123456789); \u201c12345678\u201d is not one. Correct it on the client.",
        "settings.tax_number": "Reverse charge needs the business's VAT number with its country prefix (like "
                               "DE123456789); \u201c123456789 RT0001\u201d is not one. Correct it in Settings (Tax number)."}


def test_issuing_is_refused_only_for_e_invoices_with_factur_x_on():
    args = dict(seller_tax_number="DE811111111", buyer_tax_number="")
    for doc_type in (INVOICE, CREDIT_NOTE):
        with pytest.raises(ValidationFailed) as refused:
            logic.check_reverse_charge(doc_type, ["AE"], facturx_enabled=True, **args)
        assert refused.value.by_field() == {"client.tax_number": logic.CLIENT_VAT_MISSING}
        assert "BR-AE-02" in refused.value.detail and "Not issued" in refused.value.detail
        logic.check_reverse_charge(doc_type, ["AE"], facturx_enabled=False, **args)  # Factur-X off: allowed
    logic.check_reverse_charge(QUOTE, ["AE"], facturx_enabled=True, **args)  # a quote is never an e-invoice
    logic.check_reverse_charge(INVOICE, ["S"], facturx_enabled=True, **args)


vat_number = st.sampled_from(["", " ", "DE123456789", "ATU12345678", "123456789 RT0001", None])


@given(st.lists(st.sampled_from(["S", "Z", "E", "AE", "K", "G", "O"]), max_size=5), vat_number, vat_number,
       st.sampled_from([INVOICE, CREDIT_NOTE, QUOTE]), st.booleans())
def test_the_reverse_charge_rule(categories, seller, buyer, doc_type, facturx):
    problems = logic.reverse_charge_problems(categories, seller_tax_number=seller, buyer_tax_number=buyer)
    def unusable(number: str | None) -> bool:   # empty, or a local tax number (no country prefix)
        return not (number or "").strip() or number.strip()[0].isdigit()
    missing = {"client.tax_number"} if buyer is not None and unusable(buyer) else set()
    missing |= {"settings.tax_number"} if unusable(seller) else set()
    assert {p.field for p in problems} == (missing if "AE" in categories else set())
    refused = "AE" in categories and facturx and doc_type != QUOTE and (unusable(seller) or unusable(buyer))
    try:
        logic.check_reverse_charge(doc_type, categories, seller_tax_number=seller, buyer_tax_number=buyer,
                                   facturx_enabled=facturx)
    except ValidationFailed:
        assert refused
    else:
        assert not refused


# -- bounds: 12 digits, 64-bit ids, dates 1900-2200, a date far from today confirmed -------------------

HUGE_NUMBERS = st.one_of(
    st.builds(lambda digits, exponent: f"{digits}E{exponent:+d}", st.integers(-10**20, 10**20),
              st.integers(-10**7, 10**7)),
    st.integers(-10**30, 10**30).map(str), st.text(max_size=20))


@given(HUGE_NUMBERS, HUGE_NUMBERS, st.one_of(st.integers(), st.text(max_size=25)))
def test_a_line_never_raises_and_a_kept_line_fits_the_database(quantity, price, item_id):
    body = {**GOOD, "lines": [{"description": "x", "quantity": quantity, "unit_price": price, "item_id": item_id}]}
    try:
        values = clean_document(body, INVOICE)
    except ValidationFailed as failed:
        assert all(e.field.startswith("lines[0].") for e in failed.errors)
        return
    kept = values.lines[0]
    assert abs(kept["quantity"]) < Decimal(10) ** 12 and kept["unit_price"] < Decimal(10) ** 12
    assert abs(kept["quantity"] * kept["unit_price"]) < logic.MAX_LINE_AMOUNT
    assert kept["item_id"] is None or 1 <= kept["item_id"] <= 2**63 - 1


@pytest.mark.parametrize(("change", "field"), [
    ({"quantity": "1000000000000"}, "lines[0].quantity"), ({"quantity": "1E+1000000"}, "lines[0].quantity"),
    ({"unit_price": "1000000000000"}, "lines[0].unit_price"), ({"unit_price": "1E+1000000"}, "lines[0].unit_price"),
    ({"item_id": 2**63}, "lines[0].item_id"), ({"item_id": 0}, "lines[0].item_id"),
])
def test_a_number_beyond_its_bounds_names_its_line_field(change, field):
    errors = errors_of({**GOOD, "lines": [{**GOOD["lines"][0], **change}]})
    assert list(errors) == [field]


def test_twelve_digits_are_a_quantity_and_a_price():
    values = clean_document({**GOOD, "lines": [{**GOOD["lines"][0], "quantity": "999999999999", "unit_price": "0.5"},
                                               {**GOOD["lines"][0], "quantity": "1", "unit_price": "999999999999"}]},
                            INVOICE)
    assert [line["quantity"] for line in values.lines] == [Decimal("999999999999"), 1]


@pytest.mark.parametrize(("change", "field"), [
    ({"client_id": 2**63}, "client_id"), ({"client_id": "99999999999999999999999"}, "client_id"),
    ({"invoice_id": 2**64}, "invoice_id"), ({"issue_date": "1899-12-31"}, "issue_date"),
    ({"issue_date": "2201-01-01", "due_date": None}, "issue_date"), ({"due_date": "0001-01-01"}, "due_date"),
    ({"valid_until": "9999-12-31"}, "valid_until"),
])
def test_an_id_or_a_date_out_of_bounds_is_named(change, field):
    assert field in errors_of({**GOOD, **change}, CREDIT_NOTE if "invoice_id" in change else INVOICE)


TODAY = date(2026, 5, 10)


@pytest.mark.parametrize(("days", "asked"), [(0, False), (365, False), (-365, False), (366, True), (-366, True),
                                             (36500, True)])
def test_a_date_more_than_a_year_from_today_asks_for_confirmation(days, asked):
    values = clean_document({**GOOD, "issue_date": (TODAY + timedelta(days=days)).isoformat(), "due_date": None},
                            INVOICE)
    problems = logic.unconfirmed_dates(values, TODAY)
    assert [p.field for p in problems] == (["issue_date"] if asked else [])
    assert logic.asks_date_confirmation(problems) == asked
    confirmed = clean_document({**GOOD, "issue_date": (TODAY + timedelta(days=days)).isoformat(), "due_date": None,
                                "confirm_date": True}, INVOICE)
    assert logic.unconfirmed_dates(confirmed, TODAY) == []


def test_every_far_date_is_named_and_a_saved_one_is_not_asked_again():
    far = {**GOOD, "issue_date": "2062-01-05", "due_date": "2062-02-04"}
    values = clean_document(far, INVOICE)
    problems = logic.unconfirmed_dates(values, TODAY)
    assert [p.field for p in problems] == ["issue_date", "due_date"]
    assert "2062-01-05 is more than a year after today" in problems[0].message
    saved = {"issue_date": date(2062, 1, 5), "due_date": date(2062, 2, 4)}
    assert logic.unconfirmed_dates(values, TODAY, saved) == []
    assert logic.unconfirmed_dates(clean_document({"notes": "x"}, INVOICE, partial=True), TODAY, saved) == []
    assert clean_document({**GOOD, "confirm_date": "true"}, INVOICE).confirm_date is True
    assert "confirm_date" in errors_of({**GOOD, "confirm_date": "perhaps"})
