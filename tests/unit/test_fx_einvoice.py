"""BT-6 and BT-111 (issue 16): an EU seller invoicing in another currency than its VAT accounting currency
gives the VAT total in that currency too, at the rate frozen at issue; the XML stays EN 16931 valid."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from decimal import Decimal

from app.render import logic
from tests.unit.test_einvoice_rules import in_usd
from tests.unit.test_render_logic import schematron  # noqa: F401  (the EN 16931 schematron, as a fixture)

NS = logic.NS


def frozen(rate: str = "1.1", base: str = "EUR"):
    return replace(in_usd(), exchange_rate=Decimal(rate), base_currency=base)


def test_the_vat_total_in_the_accounting_currency_is_in_the_xml_and_valid(schematron):
    document = frozen()
    invoice = logic.einvoice_of(document)
    expected = logic.round_money(invoice.tax_total / Decimal("1.1"), "EUR")
    assert (invoice.tax_currency, invoice.tax_total_accounting) == ("EUR", expected)
    xml = logic.facturx_xml(document)
    root = ET.fromstring(xml)
    settlement = root.find(".//ram:ApplicableHeaderTradeSettlement", NS)
    assert settlement is not None
    assert settlement.findtext("ram:TaxCurrencyCode", namespaces=NS) == "EUR"
    totals = {node.get("currencyID"): node.text for node in settlement.iterfind(
        "ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxTotalAmount", NS)}
    assert totals == {"USD": str(invoice.tax_total), "EUR": str(expected)}
    assert schematron(xml) == []
    assert logic.einvoice_warnings(document) == []


def test_without_a_rate_of_the_accounting_currency_there_is_no_bt6_and_a_warning():
    for document in (in_usd(), frozen(base="CAD")):
        invoice = logic.einvoice_of(document)
        assert (invoice.tax_currency, invoice.tax_total_accounting) == ("", None)
        assert b"TaxCurrencyCode" not in logic.facturx_xml(document)
        assert "BT-6" in logic.einvoice_warnings(document)[0]


def test_a_seller_outside_the_eu_or_in_its_own_currency_has_no_bt6():
    canadian = frozen()
    canadian = replace(canadian, snapshot={**canadian.snapshot,
                                           "business": {**canadian.snapshot["business"], "country": "CA"}})
    assert logic.einvoice_of(canadian).tax_currency == ""
    in_eur = replace(frozen(), currency="EUR")
    assert logic.vat_in_accounting_currency(in_eur, in_eur.snapshot["business"], Decimal(1)) == ("", None)


def test_peppol_ubl_carries_bt6_and_bt111_and_stays_valid():
    from lxml import etree

    from tests.unit.test_ubl import HARD_CASES, X, document, rule_failures, xml_of
    from tests.unit.test_ubl import xsd as xsd_fixture

    doc = replace(document(**HARD_CASES["USD"]), exchange_rate=Decimal("1.0800"), base_currency="EUR")
    xml = xml_of(doc)
    root = etree.fromstring(xml)
    assert root.findtext("cbc:TaxCurrencyCode", namespaces=X) == "EUR"
    amounts = {node.get("currencyID"): node.text for node in root.xpath("cac:TaxTotal/cbc:TaxAmount", namespaces=X)}
    assert set(amounts) == {"USD", "EUR"}
    assert Decimal(amounts["EUR"]) == logic.round_money(Decimal(amounts["USD"]) / Decimal("1.08"), "EUR")
    assert xsd_fixture.__wrapped__()(xml) == []
    # PEPPOL-EN16931-R053: one tax total with subtotals, the other (BT-111) its amount alone; R051 excepts
    # BT-111 from "every currencyID is BT-5" (the XPath stand-ins of test_ubl check the rest without it).
    totals = root.xpath("cac:TaxTotal", namespaces=X)
    assert [len(t.xpath("cac:TaxSubtotal", namespaces=X)) > 0 for t in totals] == [True, False]
    root.remove(totals[1])
    assert rule_failures(etree.tostring(root)) == []
