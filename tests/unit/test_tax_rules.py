"""Taxes by place of supply (issue 16): one test per row of the rule tables in app.taxes.logic."""

from __future__ import annotations

import pytest

from app.taxes import logic
from app.taxes.logic import Party, suggest_taxes

CA_RATES = {rate.code: rate for rate in logic.COUNTRY_PRESETS["CA"][1]}
DE_RATES = {rate.code: rate for rate in logic.COUNTRY_PRESETS["DE"][1]}
TORONTO = Party("CA", "ON", "123456789 RT0001")
VANCOUVER_REGISTERED = Party("CA", "BC", "123456789 RT0001", pst_registrations=frozenset({"BC", "MB", "SK"}))
BERLIN = Party("DE", "", "DE123456789")


@pytest.mark.parametrize(("region", "code", "rate"), [
    ("ON", "HST", "13"), ("NB", "HST15", "15"), ("NL", "HST15", "15"), ("PE", "HST15", "15"), ("NS", "HST14", "14"),
])
def test_canada_hst_provinces_get_hst_at_their_rate(region, code, rate):
    found = suggest_taxes(TORONTO, Party("CA", region), rates=CA_RATES)
    assert found.codes == (code,) and found.rule == "CA-HST"
    assert CA_RATES[code].rate == logic.Decimal(rate)
    assert found.reason == f"HST {rate} %: client in {logic.CANADA[region].name}"


def test_quebec_gets_gst_and_qst_not_compound():
    found = suggest_taxes(TORONTO, Party("CA", "Québec"), rates=CA_RATES)
    assert found.codes == ("GST", "QST") and found.rule == "CA-QC"
    assert str(CA_RATES["QST"].rate) == "9.975" and not CA_RATES["QST"].compound
    assert found.reason == "GST 5 % + QST 9.975 %: client in Québec"


@pytest.mark.parametrize(("region", "pst"), [("BC", "PST"), ("MB", "RST"), ("SK", "PST-SK")])
def test_pst_provinces_add_pst_on_goods_where_the_business_is_registered(region, pst):
    assert suggest_taxes(VANCOUVER_REGISTERED, Party("CA", region), kind="product").codes == ("GST", pst)
    services = suggest_taxes(VANCOUVER_REGISTERED, Party("CA", region), kind="service")
    assert services.codes == ("GST",) and services.rule == "CA-PST-NOT-TAXABLE"
    unregistered = suggest_taxes(TORONTO, Party("CA", region), kind="product")
    assert unregistered.codes == ("GST",) and unregistered.rule == "CA-PST-NOT-REGISTERED"
    assert "not registered" in unregistered.reason


@pytest.mark.parametrize("region", ["AB", "Alberta", "YT", "NT", "NU", "Nunavut"])
def test_alberta_and_the_territories_get_gst(region):
    found = suggest_taxes(TORONTO, Party("CA", region), rates=CA_RATES)
    assert found.codes == ("GST",) and found.rule == "CA-GST"
    assert found.reason.startswith("GST 5 %: client in ")


@pytest.mark.parametrize("country", ["US", "DE", "FR", "JP"])
def test_a_client_outside_canada_is_a_zero_rated_export(country):
    found = suggest_taxes(TORONTO, Party(country, "", "DE123456789"), rates=CA_RATES)
    assert found.codes == ("EXPORT",) and found.rule == "CA-EXPORT"
    assert CA_RATES["EXPORT"].category == "Z"


def test_canada_zero_rated_and_exempt_items():
    assert suggest_taxes(TORONTO, Party("CA", "ON"), "zero").codes == ("ZR",)
    assert suggest_taxes(TORONTO, Party("CA", "ON"), "exempt").codes == ("EXEMPT",)
    assert suggest_taxes(TORONTO, Party("US"), "exempt").codes == ("EXEMPT",)
    assert CA_RATES["EXEMPT"].category == "E" and CA_RATES["ZR"].category == "Z"


def test_a_canadian_client_without_a_province_is_taken_to_be_in_the_business_province():
    assert suggest_taxes(TORONTO, Party("", "")).codes == ("HST",)
    found = suggest_taxes(Party("CA", ""), Party("CA", ""))
    assert found.codes == ("GST",) and found.rule == "CA-UNKNOWN-PROVINCE"


@pytest.mark.parametrize(("seller", "standard", "reduced"), [
    ("DE", "VAT19", "VAT7"), ("FR", "TVA20", "TVA5.5"), ("AT", "AT20", "AT10"), ("BE", "BE21", "BE6"),
    ("NL", "NL21", "NL9"),
])
def test_eu_same_country_gets_that_countrys_rate_for_the_category(seller, standard, reduced):
    business = Party(seller, "", f"{logic.EU_MEMBERS[seller]}123456789")
    assert suggest_taxes(business, Party(seller)).codes == (standard,)
    assert suggest_taxes(business, Party(seller), "reduced").codes == (reduced,)
    table = logic.EU_VAT[seller]
    assert suggest_taxes(business, Party(seller), "zero").codes == (table.zero,)
    assert suggest_taxes(business, Party(seller), "exempt").codes == (table.exempt,)
    codes = {rate.code: rate for rate in logic.COUNTRY_PRESETS[seller][1]}
    assert {standard, reduced, table.zero, table.exempt, table.export, "RC"} <= set(codes)
    assert codes[table.export].category == "G" and codes["RC"].category == "AE" and codes[table.exempt].category == "E"


@pytest.mark.parametrize(("country", "vat_id"), [
    ("FR", "FR40303265045"), ("AT", "ATU12345678"), ("NL", "NL123456789B01"), ("BE", "BE0879464059"),
    ("IT", "IT12345678901"), ("GR", "EL123456789"),
])
def test_eu_other_country_with_a_valid_looking_vat_id_is_reverse_charge(country, vat_id):
    found = suggest_taxes(BERLIN, Party(country, "", vat_id), rates=DE_RATES)
    assert found.codes == ("RC",) and found.rule == "EU-REVERSE-CHARGE"
    assert vat_id in found.reason
    assert "Art. 196" in DE_RATES["RC"].note


@pytest.mark.parametrize("vat_id", ["", "123456789", "DE123456789", "FR12", "ATU1234"])
def test_eu_other_country_without_a_vat_id_pays_the_business_vat_and_oss_is_said_out_of_scope(vat_id):
    found = suggest_taxes(BERLIN, Party("FR" if vat_id != "ATU1234" else "AT", "", vat_id), rates=DE_RATES)
    assert found.codes == ("VAT19",) and found.rule == "EU-B2C"
    assert "One-Stop Shop" in found.reason


@pytest.mark.parametrize("country", ["CH", "CA", "US", "GB"])
def test_eu_client_outside_the_eu_is_outside_the_scope_with_its_note(country):
    found = suggest_taxes(BERLIN, Party(country, "ON", "CHE-123.456.789"), rates=DE_RATES)
    assert found.codes == ("DE-EXPORT",) and found.rule == "EU-EXPORT"
    assert "außerhalb der EU" in DE_RATES["DE-EXPORT"].note


def test_us_has_no_tax_by_default():
    seller = Party("US", "WA", "12-3456789")
    assert suggest_taxes(seller, Party("US", "NY")).codes == ()
    assert suggest_taxes(seller, Party("US", "NY")).rule == "US-NONE"
    # The state's sales tax the user picks on a line is not against the rules.
    sales_tax = {"NY": logic.TaxRate("NY", "Sales tax (NY)", logic.Decimal("8.875"))}
    assert logic.contradiction(["NY"], logic.line_taxes(seller, Party("US", "NY"), rates=sales_tax), sales_tax) is None
    assert suggest_taxes(seller, Party("CA", "ON")).rule == "US-EXPORT"


def test_no_rules_without_the_business_country_or_for_a_country_without_tables():
    assert not suggest_taxes(Party(""), Party("CA", "ON")).decided
    assert not suggest_taxes(Party("JP"), Party("JP")).decided


def test_province_names_and_vat_ids_are_read_as_people_type_them():
    assert logic.canadian_province("quebec") == "QC" == logic.canadian_province(" Québec ")
    assert logic.canadian_province("PEI") == "PE" and logic.canadian_province("Bavaria") == ""
    assert logic.valid_looking_vat_id("DE", "DE 123 456 789") and not logic.valid_looking_vat_id("DE", "DE12345")


def test_presets_by_country_code_and_by_their_old_names():
    assert logic.preset_of("canada") == logic.preset_of("CA") == logic.preset_of("ca")
    assert logic.preset_of("uk") is logic.PRESETS["uk"] and logic.preset_of("XX") is None
    for _name, rates in logic.COUNTRY_PRESETS.values():
        assert len({rate.code for rate in rates}) == len(rates)
        for rate in rates:
            assert logic.CODE_RE.match(rate.code) and rate.category in logic.CATEGORIES


def test_an_old_items_fixed_codes_give_its_category():
    assert logic.category_of_codes(["EXEMPT"], CA_RATES) == "exempt"
    assert logic.category_of_codes(["ZR"], CA_RATES) == "zero"
    assert logic.category_of_codes(["GST", "QST"], CA_RATES) == "standard"
    assert logic.category_of_codes([], CA_RATES) == "standard"


def test_a_line_against_the_rules_is_told_and_one_that_agrees_is_not():
    rules = logic.line_taxes(TORONTO, Party("CA", "QC"), rates=CA_RATES)
    assert logic.contradiction(["GST", "QST"], rules, CA_RATES) is None
    assert logic.contradiction(["QST", "GST"], rules, CA_RATES) is None
    assert logic.contradiction(["HST"], rules, CA_RATES) == (
        "This line has HST 13 %; the rules give GST 5 % + QST 9.975 %: client in Québec")
    assert logic.contradiction([], rules, CA_RATES).startswith("This line has no tax")
    undecided = logic.line_taxes(Party(""), Party("CA", "QC"), rates=CA_RATES)
    assert logic.contradiction(["HST"], undecided, CA_RATES) is None


def test_an_items_own_codes_win_and_missing_codes_are_named():
    own = logic.line_taxes(TORONTO, Party("CA", "QC"), own_codes=["HST"], rates=CA_RATES)
    assert own.codes == ("HST",) and own.rule == "ITEM" and "the item's own taxes" in own.reason
    missing = logic.line_taxes(TORONTO, Party("CA", "QC"), rates={"GST": CA_RATES["GST"]})
    assert missing.codes == ("GST",) and "not defined yet: QST" in missing.reason


def test_a_reason_names_a_rate_as_the_reader_writes_numbers():
    from decimal import Decimal

    from app.common.i18n import using_locale

    rates = {"QST": logic.TaxRate("QST", "QST (QC)", Decimal("9.975")), "HST": logic.TaxRate("HST", "HST", Decimal("13"))}
    assert logic.rate_label("QST", rates) == "QST 9.975 %"
    with using_locale("fr_CA"):
        assert logic.rate_label("QST", rates) == "QST 9,975 %"
        assert logic.rate_label("HST", rates) == "HST 13 %"
    assert logic.rate_label("GST", rates) == "GST"
