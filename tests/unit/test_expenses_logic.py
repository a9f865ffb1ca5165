"""The pure rules of expenses: taxes and deductible shares, receipts by content, closed periods,
billing lines; every P&L and tax-return figure on known numbers; and properties on random books:
profit = revenue - expenses, net tax = collected - deductible, each figure = the sum of its rows."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.common.logic import Conflict, ValidationFailed
from app.expenses import einvoice, logic, pnl, taxreturn
from app.expenses.taxreturn import PurchaseFact, SaleFact, TaxPart
from app.taxes.logic import PRESETS

D = Decimal
CANADA = {r.code: r for r in PRESETS["canada"][1]}
GERMANY = {r.code: r for r in PRESETS["germany"][1]}
FRANCE = {r.code: r for r in PRESETS["france"][1]}


# -- taxes and totals ------------------------------------------------------------------------------------

def test_input_taxes_are_computed_like_a_document_line():
    totals = logic.compute_expense([("office", D("100.00"))], ["GST", "QST"], CANADA, "CAD")
    assert [(t.code, t.base, t.amount, t.deductible) for t in totals.taxes] == [
        ("GST", D("100.00"), D("5.00"), D("5.00")), ("QST", D("100.00"), D("9.98"), D("9.98"))]
    assert (totals.net, totals.tax_total, totals.total, totals.deductible) == (D("100.00"), D("14.98"), D("114.98"),
                                                                               D("14.98"))


def test_each_tax_once_on_the_sum_of_the_splits():
    totals = logic.compute_expense([("office", D("0.10")), ("software", D("0.10"))], ["GST"], CANADA, "CAD")
    assert totals.taxes[0].amount == D("0.01")  # 5 % of 0.20, not 0.01 + 0.01
    assert totals.net == D("0.20") and totals.splits == (("office", D("0.10")), ("software", D("0.10")))


def test_the_deductible_share_rounds_half_up():
    totals = logic.compute_expense([("meals", D("64.20"))], ["GST"], CANADA, "CAD", deductible_percent=50)
    assert (totals.taxes[0].amount, totals.deductible) == (D("3.21"), D("1.61"))
    assert logic.deductible_part(D("3.21"), 0, "CAD") == D("0.00")


def test_taxes_as_printed_replace_the_computed_ones():
    totals = logic.compute_expense([("office", D("100.00"))], ["GST"], CANADA, "CAD", tax_amounts={"GST": D("4.99")})
    assert (totals.tax_total, totals.total) == (D("4.99"), D("104.99"))


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"tax_amounts": {"GST": D("100.01")}}, "tax_amounts"),
    ({"tax_amounts": {"GST": D("1.001")}}, "tax_amounts.GST"),
])
def test_taxes_larger_than_the_net_or_too_precise_are_refused(kwargs, field):
    with pytest.raises(ValidationFailed) as refused:
        logic.compute_expense([("office", D("100.00"))], ["GST"], CANADA, "CAD", **kwargs)
    assert refused.value.errors[0].field == field


def test_unknown_tax_codes_and_yen_decimals_are_refused():
    with pytest.raises(ValidationFailed, match="Unknown tax code"):
        logic.compute_expense([("office", D("1.00"))], ["VAT99"], CANADA, "CAD")
    with pytest.raises(ValidationFailed, match="more decimals than JPY"):
        logic.compute_expense([("office", D("1.50"))], [], CANADA, "JPY")


@pytest.mark.parametrize(("data", "field"), [
    ({"net": "-1"}, "net"), ({"net": "0"}, "net"), ({"net": 1.5}, "net"), ({"date": "2026-13-01"}, "date"),
    ({"splits": [{"category": "", "net": "1"}]}, "splits[0].category"),
    ({"splits": [{"category": "office", "net": "-1"}]}, "splits[0].net"),
    ({"splits": [{"category": "office", "net": "1"}], "net": "2"}, "net"),
    ({"taxes": [3]}, "taxes"), ({"markup_percent": "2000"}, "markup_percent"),
    ({"deductible_percent": "150"}, "deductible_percent"), ({"description": "two\nlines"}, "description"),
    ({"tax_amounts": {"GST": "1"}, "taxes": ["QST"]}, "tax_amounts"),
])
def test_clean_expense_names_the_field(data, field):
    base = {"date": "2026-01-01", "category": "office", "net": "10", "currency": "CAD"}
    with pytest.raises(ValidationFailed) as refused:
        logic.clean_expense({**base, **data})
    assert field in refused.value.by_field(), refused.value.by_field()


def test_the_chart_follows_the_country():
    assert {c.code: c.deductible_percent for c in logic.chart_for("ca")}["meals"] == 50
    assert logic.chart_for("DE")[0].name == "Büromaterial" and logic.chart_for("FR")[0].name.startswith("Fournitures")
    assert logic.chart_for("") == logic.GENERIC_CHART


def test_a_tax_number_compares_without_its_punctuation():
    assert logic.compact_tax_number("de 123.456-789") == "DE123456789"


# -- receipts ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "kind"), [(b"%PDF-1.7 x", "pdf"), (b"\x89PNG\r\n\x1a\nxx", "png"),
                                               (b"\xff\xd8\xff\xe0xx", "jpg")])
def test_receipts_are_known_by_their_first_bytes(content, kind):
    assert logic.receipt_kind(content) == kind


@pytest.mark.parametrize(("content", "words"), [
    (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 8, "HEIC"), (b"\x00\x00\x00\x18ftypmif1" + b"\x00" * 8, "HEIC"),
    (b"<svg/>", "PDF, PNG or JPEG"), (b"", "empty"), (b"%PDF-" + b"\x00" * logic.MAX_RECEIPT_BYTES, "20 MB"),
])
def test_other_files_are_refused_with_a_clear_message(content, words):
    with pytest.raises(ValidationFailed, match=words):
        logic.receipt_kind(content)


def test_receipt_names_are_only_ever_a_sha256():
    assert logic.receipt_name("a" * 64, "png") == "receipts/" + "a" * 64 + ".png"
    for bad in ("../etc/passwd", "A" * 64, "a" * 63):
        with pytest.raises(ValueError):
            logic.receipt_name(bad, "png")
    assert logic.upload_filename("../../evil\x00.png") == ".._.._evil.png"


# -- closing and billing ------------------------------------------------------------------------------------------

def test_the_closed_period_refuses_new_dates_and_freezes_old_expenses():
    closed = date(2026, 3, 31)
    logic.check_open(date(2026, 4, 1), closed)
    logic.check_open(date(2020, 1, 1), None)
    with pytest.raises(ValidationFailed, match="closed up to 2026-03-31"):
        logic.check_open(closed, closed)
    with pytest.raises(Conflict, match="frozen"):
        logic.check_not_frozen(date(2026, 1, 1), closed)


def test_billing_state_and_line():
    assert logic.billed_state(None) == "unbilled"
    assert logic.billed_state({"id": 3, "status": "draft"}) == "on_draft"
    assert logic.billed_state({"id": 3, "status": "sent"}) == "billed"
    assert logic.billed_state({"id": 3, "status": "cancelled"}) == "unbilled"
    expense = {"description": "Hotel", "expense_date": date(2026, 5, 4), "markup_percent": "12.5", "currency": "EUR"}
    assert logic.billing_line(expense, "Ibis", D("80.00")) == {
        "description": "Hotel (Ibis, 2026-05-04)", "quantity": "1", "unit_price": "90.00", "taxes": []}
    taxed = {**expense, "tax_codes": ["HST"]}
    assert logic.billing_line(taxed, "Ibis", D("80.00"))["taxes"] == ["HST"]   # taxed as it was paid
    assert logic.paid_on_for("unpaid", date(2026, 1, 2), date(2026, 1, 1)) is None
    assert logic.paid_on_for("card", None, date(2026, 1, 1)) == date(2026, 1, 1)


def test_a_suppliers_vat_line_finds_the_tax_code_of_its_rate_and_category():
    assert logic.match_tax_code(D("19"), "S", GERMANY) == "VAT19"
    assert logic.match_tax_code(D("0"), "AE", GERMANY) == "RC"
    assert logic.match_tax_code(D("21"), "S", GERMANY) is None


# -- the P&L on known numbers ------------------------------------------------------------------------------------

def test_every_pnl_figure_on_known_numbers():
    revenue = [pnl.RevenueFact(date(2026, 1, 5), "EUR", D("1000.00"), "document:1"),
               pnl.RevenueFact(date(2026, 2, 5), "EUR", D("-200.00"), "document:2"),
               pnl.RevenueFact(date(2026, 2, 6), "USD", D("50.00"), "document:3"),
               pnl.RevenueFact(date(2025, 12, 31), "EUR", D("999.00"), "document:4")]
    expenses = [pnl.ExpenseFact(date(2026, 1, 9), "EUR", 1, (("rent", D("500.00")),)),
                pnl.ExpenseFact(date(2026, 2, 9), "EUR", 2, (("office", D("30.00")), ("rent", D("20.00"))))]
    report = pnl.profit_and_loss(revenue, expenses, date_from=date(2026, 1, 1), date_to=date(2026, 2, 28),
                                 currency="EUR", basis="accrual", category_names={"rent": "Rent"})
    assert (report.revenue, report.expenses, report.profit) == (D("800.00"), D("550.00"), D("250.00"))
    assert [(m.key, m.revenue, m.expenses, m.profit) for m in report.months] == [
        ("2026-01", D("1000.00"), D("500.00"), D("500.00")), ("2026-02", D("-200.00"), D("50.00"), D("-250.00"))]
    assert [(c.code, c.name, c.amount, c.count) for c in report.categories] == [
        ("rent", "Rent", D("520.00"), 2), ("office", "office", D("30.00"), 1)]
    assert report.other_currencies == {"USD": 1}
    assert pnl.cash_share(D("113.00"), D("100.00"), D("113.00")) == D("100.00")
    svg = pnl.chart_svg(report.months, "EUR")
    assert svg.startswith("<svg") and "<script" not in svg and "Jan 2026" in svg and "polyline" in svg


def test_the_chart_of_an_empty_period_still_draws():
    assert "<svg" in pnl.chart_svg([], "EUR")


# -- the returns on known numbers ------------------------------------------------------------------------------------

def sale(doc_id: int, net: str, *parts: tuple[str, str, str, str, str], day: date = date(2026, 2, 1),
         currency: str = "CAD") -> SaleFact:
    return SaleFact(doc_id, f"INV-{doc_id}", day, currency, D(net),
                    tuple(TaxPart(code, D(rate), cat, D(base), D(amount)) for code, rate, cat, base, amount in parts))


def purchase(exp_id: int, *parts: tuple[str, str, str, str, str, str], currency: str = "CAD") -> PurchaseFact:
    return PurchaseFact(exp_id, f"Expense {exp_id}", date(2026, 2, 2), currency, D("0"),
                        tuple(TaxPart(code, D(rate), cat, D(base), D(amount), D(ded))
                              for code, rate, cat, base, amount, ded in parts))


PERIOD = {"date_from": date(2026, 1, 1), "date_to": date(2026, 3, 31)}


def test_every_gst34_line():
    report = taxreturn.build("ca-gst34", [
        sale(1, "1000.00", ("GST", "5", "S", "1000.00", "50.00"), ("QST", "9.975", "S", "1000.00", "99.75")),
        sale(2, "200.00", ("HST", "13", "S", "200.00", "26.00")),
        sale(3, "-100.00", ("GST", "5", "S", "-100.00", "-5.00"), ("QST", "9.975", "S", "-100.00", "-9.98")),
        sale(4, "300.00", ("PST", "7", "S", "300.00", "21.00")),
    ], [purchase(1, ("GST", "5", "S", "80.00", "4.00", "2.00"), ("QST", "9.975", "S", "80.00", "7.98", "3.99"))],
        currency="CAD", **PERIOD)
    assert report.lines() == {
        "101": D("1400.00"), "103": D("71.00"), "104": D(0), "105": D("71.00"), "106": D("2.00"), "107": D(0),
        "108": D("2.00"), "109": D("69.00"), "205": D("89.77"), "206": D(0), "207": D("89.77"), "208": D("3.99"),
        "209": D("85.78")}
    assert report.net == D("69.00") and [s.id for s in report.figure("103").sources] == [1, 2, 3]


def test_every_ustva_figure():
    report = taxreturn.build("de-ustva", [
        sale(1, "1000.00", ("VAT19", "19", "S", "1000.00", "190.00"), currency="EUR"),
        sale(2, "100.00", ("VAT7", "7", "S", "100.00", "7.00"), currency="EUR"),
        sale(3, "500.00", ("RC", "0", "AE", "500.00", "0.00"), currency="EUR"),
        sale(4, "50.00", ("EXPORT", "0", "G", "50.00", "0.00"), currency="EUR"),
        sale(5, "40.00", ("K", "0", "K", "40.00", "0.00"), currency="EUR"),
        sale(6, "30.00", ("VAT0", "0", "E", "30.00", "0.00"), currency="EUR"),
        sale(7, "10.00", ("OLD16", "16", "S", "10.00", "1.60"), currency="EUR"),
    ], [purchase(1, ("VAT19", "19", "S", "200.00", "38.00", "38.00"), currency="EUR")], currency="EUR", **PERIOD)
    assert report.lines() == {
        "81": D("1000.00"), "81-tax": D("190.00"), "86": D("100.00"), "86-tax": D("7.00"), "35": D("10.00"),
        "36": D("1.60"), "41": D("40.00"), "21": D("500.00"), "45": D("50.00"), "48": D("30.00"), "66": D("38.00"),
        "83": D("160.60")}


def test_every_ca3_box_and_a_credit():
    report = taxreturn.build("fr-ca3", [
        sale(1, "1000.00", ("TVA20", "20", "S", "1000.00", "200.00"), currency="EUR"),
        sale(2, "100.00", ("TVA10", "10", "S", "100.00", "10.00"), currency="EUR"),
        sale(3, "100.00", ("TVA5.5", "5.5", "S", "100.00", "5.50"), currency="EUR"),
        sale(4, "300.00", ("RC", "0", "AE", "300.00", "0.00"), currency="EUR"),
    ], [purchase(1, ("TVA20", "20", "S", "2000.00", "400.00", "400.00"), currency="EUR")], currency="EUR", **PERIOD)
    lines = report.lines()
    assert (lines["A1"], lines["E2"], lines["08"], lines["08-tax"], lines["9B-tax"], lines["09-tax"]) == (
        D("1200.00"), D("300.00"), D("1000.00"), D("200.00"), D("10.00"), D("5.50"))
    assert (lines["16"], lines["20"], lines["23"], lines["28"], lines["25"], lines["net"]) == (
        D("215.50"), D("400.00"), D("400.00"), D(0), D("184.50"), D("-184.50"))


def test_other_currencies_and_days_outside_are_left_out():
    report = taxreturn.build("generic", [sale(1, "10.00", currency="USD"),
                                         sale(2, "10.00", day=date(2025, 1, 1))], [], currency="CAD", **PERIOD)
    assert report.left_out == {"USD": 1} and report.net == 0 and report.figure("sales").amount == 0


def test_a_sale_in_another_currency_counts_at_its_rate_of_issue_in_a_return_in_the_base():
    """A Canadian business's USD export, issued at 0.73 USD per CAD: line 101 counts it in CAD (1000 / 0.73),
    each figure rounded to the cent; one issued with no rate is left out and counted aside."""
    export = taxreturn.in_currency(sale(1, "1000.00", ("ZERO", "0", "Z", "1000.00", "0.00"), currency="USD"), "CAD",
                                   D("0.73"))
    taxed = taxreturn.in_currency(sale(2, "100.00", ("GST", "5", "S", "100.00", "5.00"), currency="USD"), "CAD",
                                  D("0.73"))
    report = taxreturn.build("ca-gst34", [export, taxed, sale(3, "10.00", currency="USD")], [], currency="CAD",
                             **PERIOD)
    assert report.lines()["101"] == D("1369.86") + D("136.99")
    assert report.lines()["103"] == D("6.85")
    assert report.left_out == {"USD": 1}
    # A return in USD counts them as they were issued.
    in_usd = taxreturn.build("ca-gst34", [export, taxed], [], currency="USD", **PERIOD)
    assert in_usd.lines()["101"] == D("1100.00") and in_usd.left_out == {}


def test_a_foreign_invoice_at_its_rate_is_revenue_in_the_base_currency():
    facts = [pnl.RevenueFact(day=date(2026, 3, 2), currency="USD", net=D("1000.00"), source="document:1",
                             in_base=("CAD", D("1369.86"))),
             pnl.RevenueFact(day=date(2026, 3, 3), currency="USD", net=D("10.00"), source="document:2")]
    report = pnl.profit_and_loss(facts, [], date_from=date(2026, 1, 1), date_to=date(2026, 12, 31), currency="CAD",
                                 basis="accrual", category_names={})
    assert report.revenue == D("1369.86") and report.other_currencies == {"USD": 1}


# -- properties ---------------------------------------------------------------------------------------------------

amounts = st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2)
days = st.integers(min_value=0, max_value=400).map(lambda n: date(2026, 1, 1) + timedelta(days=n))
codes = st.sampled_from([("GST", "5", "S"), ("HST", "13", "S"), ("QST", "9.975", "S"), ("PST", "7", "S"),
                         ("VAT19", "19", "S"), ("VAT7", "7", "S"), ("RC", "0", "AE"), ("EXP", "0", "G")])


@st.composite
def tax_parts(draw, *, expense: bool) -> tuple[TaxPart, ...]:
    parts = []
    for code, rate, category in draw(st.lists(codes, max_size=3, unique=True)):
        base = draw(amounts)
        amount = (base * D(rate) / 100).quantize(D("0.01"))
        deductible = (amount * draw(st.sampled_from([0, 50, 100])) / 100).quantize(D("0.01")) if expense else D(0)
        parts.append(TaxPart(code, D(rate), category, base, amount, deductible))
    return tuple(parts)


@st.composite
def sales(draw) -> list[SaleFact]:
    found = []
    for index in range(draw(st.integers(0, 12))):
        sign = draw(st.sampled_from([1, 1, 1, -1]))
        parts = tuple(TaxPart(p.code, p.rate, p.category, sign * p.base, sign * p.amount)
                      for p in draw(tax_parts(expense=False)))
        found.append(SaleFact(index + 1, f"N{index}", draw(days), draw(st.sampled_from(["CAD", "CAD", "EUR"])),
                              sign * draw(amounts), parts))
    return found


@st.composite
def purchases(draw) -> list[PurchaseFact]:
    return [PurchaseFact(index + 1, f"E{index}", draw(days), draw(st.sampled_from(["CAD", "CAD", "EUR"])),
                         draw(amounts), draw(tax_parts(expense=True))) for index in range(draw(st.integers(0, 12)))]


@settings(max_examples=150, deadline=None)
@given(sales(), purchases(), st.sampled_from(sorted(taxreturn.FORMS)), st.sampled_from(["CAD", "EUR"]))
def test_net_tax_is_collected_minus_deductible_and_each_figure_sums_its_rows(sold, bought, form, currency):
    report = taxreturn.build(form, sold, bought, currency=currency, date_from=date(2026, 1, 1),
                             date_to=date(2026, 12, 31))
    kept_sales = [s for s in sold if s.currency == currency and s.day.year == 2026]
    kept_purchases = [p for p in bought if p.currency == currency and p.day.year == 2026]
    lines = report.lines()
    if form == "generic":
        assert report.net == taxreturn.collected_total(kept_sales) - taxreturn.deductible_total(kept_purchases)
    elif form == "ca-gst34":
        federal = sum((t.amount for s in kept_sales for t in s.taxes if taxreturn.is_federal(t.code)), D(0))
        claimed = sum((t.deductible for p in kept_purchases for t in p.taxes if taxreturn.is_federal(t.code)), D(0))
        assert report.net == lines["103"] - lines["106"] == federal - claimed
        assert lines["209"] == lines["205"] - lines["208"]
    elif form == "de-ustva":
        assert report.net == lines["81-tax"] + lines["86-tax"] + lines["36"] - lines["66"]
        assert lines["66"] == taxreturn.deductible_total(kept_purchases)
    else:
        assert report.net == lines["16"] - lines["23"] and lines["28"] - lines["25"] == report.net
    for figure in report.figures:
        assert figure.amount == sum((s.amount for s in figure.sources), D(0)), figure.key


@st.composite
def expense_facts(draw) -> list[pnl.ExpenseFact]:
    return [pnl.ExpenseFact(draw(days), draw(st.sampled_from(["EUR", "EUR", "USD"])), index,
                            tuple((draw(st.sampled_from(["rent", "office", "meals"])), draw(amounts))
                                  for _ in range(draw(st.integers(1, 3)))))
            for index in range(draw(st.integers(0, 15)))]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(days, st.sampled_from(["EUR", "USD"]), amounts, st.booleans()), max_size=15),
       expense_facts(), st.sampled_from(list(pnl.BASES)))
def test_profit_is_revenue_minus_expenses_month_by_month(raw_revenue, spent, basis):
    revenue = [pnl.RevenueFact(day, currency, amount if positive else -amount, f"document:{i}")
               for i, (day, currency, amount, positive) in enumerate(raw_revenue)]
    report = pnl.profit_and_loss(revenue, spent, date_from=date(2026, 1, 1), date_to=date(2026, 12, 31),
                                 currency="EUR", basis=basis, category_names={})
    in_period = [r for r in revenue if r.currency == "EUR" and r.day.year == 2026]
    spent_in = [e for e in spent if e.currency == "EUR" and e.day.year == 2026]
    assert report.revenue == sum((r.net for r in in_period), D(0))
    assert report.expenses == sum((e.net for e in spent_in), D(0))
    assert report.profit == report.revenue - report.expenses
    assert sum((m.profit for m in report.months), D(0)) == report.profit
    assert sum((c.amount for c in report.categories), D(0)) == report.expenses
    assert len(report.months) == 12


# -- the e-invoice's own arithmetic ------------------------------------------------------------------------------------

def supplier(**changes: object) -> einvoice.SupplierInvoice:
    values: dict[str, object] = dict(
        syntax="UBL", container="xml", kind="invoice", number="1", issue_date=date(2026, 1, 1), currency="EUR",
        seller_name="S", seller_tax_number="", seller_country="", lines=[einvoice.SupplierLine("a", D(1), D("100.00"))],
        taxes=[einvoice.SupplierTax("S", D(19), D("100.00"), D("19.00"))], line_total=D("100.00"),
        tax_exclusive=D("100.00"), tax_total=D("19.00"), grand_total=D("119.00"))
    values.update(changes)
    return einvoice.SupplierInvoice(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "rule"), [
    ({"line_total": D("99.00")}, "BR-CO-10"), ({"tax_exclusive": D("90.00")}, "BR-CO-13"),
    ({"tax_total": D("20.00")}, "BR-CO-14"), ({"grand_total": D("120.00")}, "BR-CO-15"),
])
def test_an_invoice_that_does_not_add_up_names_the_rule(changes, rule):
    assert any(rule in problem for problem in einvoice.arithmetic_problems(supplier(**changes)))


def test_an_invoice_that_adds_up_has_no_problem():
    assert einvoice.arithmetic_problems(supplier()) == []
    assert einvoice.arithmetic_problems(supplier(allowances=D("10.00"), tax_exclusive=D("90.00"),
                                                 taxes=[einvoice.SupplierTax("S", D(19), D("90.00"), D("17.10"))],
                                                 tax_total=D("17.10"), grand_total=D("107.10"))) == []


def test_what_counterfoil_check_proves_of_an_expense():
    row = {"net_minor": 1000, "tax_total_minor": 50, "deductible_tax_minor": 25, "currency": "CAD",
           "taxes_json": '[{"code": "GST", "amount": "0.50", "deductible": "0.25"}]'}
    assert logic.expense_problems(row, [600, 400]) == []
    assert logic.expense_problems(row, [600]) == ["its splits add up to 600, its net is 1000 (minor units)"]
    assert logic.expense_problems({**row, "tax_total_minor": 60}, [1000]) == [
        "its taxes add up to 50, its tax total is 60 (minor units)"]
    assert logic.expense_problems({**row, "taxes_json": "not json"}, [1000]) == ["its taxes cannot be read"]
