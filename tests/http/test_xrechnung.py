"""XRechnung that KoSIT accepts and the remaining EN 16931 rules, over HTTP against a real server
(issue 14, points 4 and 6): the seller contact and payment means in Settings (form and API, bad input
refused naming the field, nothing written), the export refusing what KoSIT would reject, payment
instructions for every document, three-decimal currencies without an e-invoice and the document page
saying why, JPY passing, untaxed lines as category O, the document discount as a BG-20 allowance,
credit notes settled rather than paid, and the non-EUR warning of an EU seller."""

from __future__ import annotations

import html
import os
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from facturx import xml_check_xsd

from app.render import logic
from tests.http.support import create_via_api, field_errors, make_client, snapshot
from tests.http.test_einvoice import LEITWEG, authority
from tests.http.test_render import SELLER_CONTACT, business, embedded, new_invoice  # noqa: F401  (business: a fixture)
from tests.schematron_xslt import Schematron
from tests.unit.test_einvoice_rules import SCHEMATRON_DIR_ENV, _found, br_de_violations
from tests.unit.test_render_logic import schematron  # noqa: F401  (the EN 16931 schematron, as a fixture)

NS = logic.NS
NO_IBAN = {"bank_iban": "", "bank_bic": ""}


@pytest.fixture(scope="module")
def kosit() -> Schematron | None:
    path = _found(os.environ.get(SCHEMATRON_DIR_ENV), "XRechnung-CII-validation.sch")
    return Schematron(path) if path else None


def accepted(xml: bytes, schematron, kosit) -> None:
    """An XRechnung as the German portals check it: XSD, the EN 16931 rules, the BR-DE rules."""
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert [f for f in schematron(xml) if not f.startswith("FX-SCH-A-000556")] == []
    assert br_de_violations(xml) == []
    if kosit is not None:
        assert kosit.errors(xml) == []


def texts(xml: bytes, path: str) -> list[str]:
    return [(n.text or "").strip() for n in ET.fromstring(xml).findall(path, NS)]


def xrechnung(api, document: dict[str, Any], path: str = "invoices"):
    return api.get(f"/api/v1/{path}/{document['id']}/xml?syntax=xrechnung")


# -- point 4: the settings ---------------------------------------------------------------------

def test_the_api_reads_and_writes_the_contact_and_payment_means(api):
    body = {**SELLER_CONTACT, "payment_means_code": "ZZZ", "payment_means_text": "Interac e-Transfer to ar@x.example",
            "payment_account_id": "Transit 00011, institution 003, account 1234567"}
    response = api.patch("/api/v1/settings", json=body)
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in body} == body
    assert {k: api.get("/api/v1/settings").json()[k] for k in body} == body


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"seller_contact_phone": "call us"}, "seller_contact_phone", "three digits"),
    ({"seller_contact_email": "ar@"}, "seller_contact_email", "valid email"),
    ({"seller_contact_name": "A\u0007B"}, "seller_contact_name", ""),
    ({"payment_means_code": "59"}, "payment_means_code", "Unknown payment means"),
    ({"payment_means_code": "30", **NO_IBAN}, "payment_account_id", "account"),
    ({"payment_means_code": "ZZZ", "payment_means_text": ""}, "payment_means_text", "payment text"),
])
def test_the_api_refuses_bad_contact_and_payment_means_and_writes_nothing(api, config, body, field, words):
    before = snapshot(config, "business_settings")
    response = api.patch("/api/v1/settings", json=body)
    assert response.status_code == 422, response.text
    errors = field_errors(response)
    assert field in errors and words in errors[field]
    assert snapshot(config, "business_settings") == before


def test_the_settings_page_has_the_e_invoice_fields_and_saves_them(browser, config):
    page = browser.get("/settings").text
    for name in ("seller_contact_name", "seller_contact_phone", "seller_contact_email", "payment_means_code",
                 "payment_account_id", "payment_means_text"):
        assert f'name="{name}"' in page
    assert "E-invoices (XRechnung, EN 16931)" in page
    form = {"name": "Northwind Studio", "address_line1": "214 Spadina Avenue", "postal_code": "M5T 2C2",
            "city": "Toronto", "country": "CA", "default_currency": "CAD", "default_locale": "en_CA",
            "time_zone": "America/Toronto", "payment_terms_days": "30", "seller_contact_name": "Accounts receivable",
            "seller_contact_phone": "+1 416 555 0101", "seller_contact_email": "ar@northwind.example",
            "payment_means_code": "30", "payment_account_id": "Transit 00011, institution 003, account 1234567",
            "payment_means_text": "Wire to Example Bank"}
    assert browser.post("/settings", data=form, follow_redirects=False).status_code == 303
    saved = browser.get("/settings").text
    assert 'value="Accounts receivable"' in saved and '<option value="30" selected' in saved
    before = snapshot(config, "business_settings")
    refused = browser.post("/settings", data={**form, "payment_account_id": ""})
    assert refused.status_code == 422 and "A transfer needs the account" in html.unescape(refused.text)
    assert snapshot(config, "business_settings") == before


# -- point 4: the export ---------------------------------------------------------------------------

def test_an_xrechnung_without_the_seller_contact_is_refused_naming_each_field(api, browser, business, schematron,
                                                                             kosit):
    api.patch("/api/v1/settings", json={"seller_contact_name": "", "seller_contact_phone": "", "phone": "",
                                        "seller_contact_email": "", "email": ""})
    invoice = new_invoice(api, authority())
    response = xrechnung(api, invoice)
    assert response.status_code == 422, response.text
    errors = field_errors(response)
    assert list(errors) == ["settings.seller_contact_name", "settings.seller_contact_phone",
                            "settings.seller_contact_email"]
    assert "BR-DE-5" in errors["settings.seller_contact_name"] and "KoSIT" in response.json()["detail"]
    # The invoice froze the business as it was: a contact set now serves the next invoice.
    page = html.unescape(browser.get(f"/documents/{invoice['id']}").text)
    assert "XRechnung not ready" in page and "rule BR-DE-5" in page and 'href="/settings#f-seller_contact_name"' in page
    refused = browser.get(f"/documents/{invoice['id']}/einvoice.xml?syntax=xrechnung")
    assert refused.status_code == 422 and "BR-DE-6" in html.unescape(refused.text)
    api.patch("/api/v1/settings", json=SELLER_CONTACT)
    assert xrechnung(api, invoice).status_code == 422
    later = new_invoice(api, authority())
    xml = xrechnung(api, later).content
    accepted(xml, schematron, kosit)
    contact = ".//ram:SellerTradeParty/ram:DefinedTradeContact/"
    assert texts(xml, contact + "ram:PersonName") == ["Buchhaltung"]
    assert texts(xml, contact + "ram:TelephoneUniversalCommunication/ram:CompleteNumber") == ["+49 30 1234567"]
    assert texts(xml, contact + "ram:EmailURIUniversalCommunication/ram:URIID") == ["rechnung@atelier.example"]
    # The page says what is missing and what is ready.
    status = api.get(f"/api/v1/invoices/{invoice['id']}/einvoice").json()
    assert status["available"] and not status["xrechnung_ready"]
    assert status["xrechnung_problems"][0]["field"] == "settings.seller_contact_name"
    assert api.get(f"/api/v1/invoices/{later['id']}/einvoice").json()["xrechnung_ready"] is True


def test_with_an_iban_the_payment_means_is_sepa_transfer(api, business, schematron, kosit):
    xml = xrechnung(api, new_invoice(api, authority())).content
    accepted(xml, schematron, kosit)
    assert texts(xml, ".//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["58"]
    assert texts(xml, ".//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == ["DE89370400440532013000"]


def test_without_an_iban_the_chosen_payment_means_is_written_or_the_export_refused(api, business, schematron,
                                                                                    kosit):
    api.patch("/api/v1/settings", json=NO_IBAN)
    client = authority()
    bare = new_invoice(api, client)
    response = xrechnung(api, bare)
    assert response.status_code == 422
    assert "BR-DE-1" in field_errors(response)["settings.payment_means_code"]
    assert api.get(f"/api/v1/invoices/{bare['id']}/xml").status_code == 200   # plain EN 16931 has no BR-DE-1
    # A credit transfer to a Canadian account.
    assert api.patch("/api/v1/settings", json={
        "payment_means_code": "30", "payment_account_id": "Transit 00011, institution 003, account 1234567",
        "payment_means_text": "Wire to RBC Royal Bank, Toronto"}).status_code == 200
    xml = xrechnung(api, new_invoice(api, client)).content
    accepted(xml, schematron, kosit)
    assert texts(xml, ".//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["30"]
    assert texts(xml, ".//ram:PayeePartyCreditorFinancialAccount/ram:ProprietaryID") == [
        "Transit 00011, institution 003, account 1234567"]
    assert texts(xml, ".//ram:SpecifiedTradeSettlementPaymentMeans/ram:Information") == ["Wire to RBC Royal Bank, Toronto"]
    # Another means, in words.
    api.patch("/api/v1/settings", json={"payment_means_code": "ZZZ", "payment_means_text": "Interac e-Transfer"})
    xml = xrechnung(api, new_invoice(api, client)).content
    accepted(xml, schematron, kosit)
    assert texts(xml, ".//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["ZZZ"]
    assert ET.fromstring(xml).find(".//ram:PayeePartyCreditorFinancialAccount", NS) is None


def test_a_credit_note_is_settled_between_the_partners_and_copies_no_payment_terms(api, business, schematron,
                                                                                   kosit):
    invoice = new_invoice(api, authority(), terms="Zahlbar innerhalb von 30 Tagen ohne Abzug.")
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["terms"].startswith("Zahlbar")
    draft = api.post(f"/api/v1/invoices/{invoice['id']}/credit")
    assert draft.status_code == 201, draft.text
    assert draft.json()["terms"] == ""   # the invoice's payment terms are not the credit's
    issued = api.post(f"/api/v1/credit-notes/{draft.json()['id']}/issue")
    assert issued.status_code == 200, issued.text
    response = xrechnung(api, issued.json(), "credit-notes")
    assert response.status_code == 200, response.text
    xml = response.content
    accepted(xml, schematron, kosit)
    assert texts(xml, ".//rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert texts(xml, ".//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["97"]
    terms = texts(xml, ".//ram:SpecifiedTradePaymentTerms/ram:Description")
    assert len(terms) == 1 and invoice["number"] in terms[0] and "Zahlbar" not in terms[0]
    assert ET.fromstring(xml).find(".//ram:DueDateDateTime", NS) is None
    status = api.get(f"/api/v1/credit-notes/{issued.json()['id']}/einvoice")
    assert status.status_code == 200 and status.json()["xrechnung_ready"] is True
    assert api.get(f"/api/v1/credit-notes/{invoice['id']}/einvoice").status_code == 404   # an invoice's id


# -- point 6 ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("currency", ["KWD", "BHD", "OMR", "JOD", "TND"])
def test_three_decimal_currencies_are_issued_without_an_e_invoice_and_the_page_says_why(api, browser, business,
                                                                                     currency):
    client = make_client(name="Gulf Trading WLL", country="KW", currency=currency, postal_code="13001",
                         city="Kuwait City")
    invoice = create_via_api(api, "invoices", {
        "client_id": client.id, "currency": currency, "lines": [
            {"description": "Consulting", "quantity": "3", "unit_price": "12.345", "taxes": []}]})
    assert invoice["number"] and invoice["total"] == "37.035"
    assert embedded(api.get(f"/api/v1/invoices/{invoice['id']}/pdf").content)["files"] == {}
    refused = api.get(f"/api/v1/invoices/{invoice['id']}/xml")
    assert refused.status_code == 409 and "BR-DEC" in refused.json()["detail"] and currency in refused.json()["detail"]
    status = api.get(f"/api/v1/invoices/{invoice['id']}/einvoice").json()
    assert status["available"] is False and "BR-DEC" in status["problem"] and status["xrechnung_ready"] is False
    page = html.unescape(browser.get(f"/documents/{invoice['id']}").text)
    assert "has no e-invoice" in page and f"{currency} amounts have 3 decimals" in page
    assert browser.get(f"/documents/{invoice['id']}/einvoice.xml").status_code == 409


def test_a_jpy_invoice_with_a_document_discount_passes(api, business, schematron, kosit):
    client = authority(currency="JPY")
    invoice = create_via_api(api, "invoices", {
        "client_id": client.id, "currency": "JPY", "discount_percent": "5", "lines": [
            {"description": "Workshop", "quantity": "2", "unit_price": "125000", "taxes": ["VAT19"]},
            {"description": "Reisekosten", "quantity": "1", "unit_price": "33333", "taxes": ["VAT7"]}]})
    xml = xrechnung(api, invoice).content
    accepted(xml, schematron, kosit)
    assert texts(xml, ".//ram:GrandTotalAmount") == [invoice["total"]] and "." not in invoice["total"]
    status = api.get(f"/api/v1/invoices/{invoice['id']}/einvoice").json()
    assert any("BT-6" in w for w in status["warnings"])   # a German seller invoicing in yen


def test_the_document_discount_is_a_document_level_allowance(api, business, schematron):
    client = authority()
    invoice = create_via_api(api, "invoices", {
        "client_id": client.id, "currency": "EUR", "discount_percent": "10", "lines": [
            {"description": "Beratung", "quantity": "3", "unit_price": "99.99", "discount_percent": "5",
             "taxes": ["VAT19"]},
            {"description": "Fachbuch", "quantity": "1", "unit_price": "49.90", "taxes": ["VAT7"]}]})
    xml = api.get(f"/api/v1/invoices/{invoice['id']}/xml").content
    assert [f for f in schematron(xml)] == []
    header = ET.fromstring(xml).findall(".//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge", NS)
    assert [(a.find("ram:CategoryTradeTax/ram:RateApplicablePercent", NS).text, a.find("ram:ReasonCode", NS).text)
            for a in header] == [("19", "95"), ("7", "95")]
    lines = ET.fromstring(xml).findall(".//ram:IncludedSupplyChainTradeLineItem", NS)
    # the line keeps its own 5 % only: 3 x 99.99 = 299.97, less 15.00 = 284.97
    assert texts(xml, ".//ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:ActualAmount") == \
        ["15.00"]
    assert lines[0].find(".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount", NS).text == \
        "284.97"
    assert texts(xml, ".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxBasisTotalAmount") == \
        [invoice["subtotal"]]
    assert "Rounding" not in xml.decode()


def test_untaxed_lines_are_category_o_alone_and_refused_beside_taxed_ones(api, browser, business, schematron):
    client = authority()
    untaxed = create_via_api(api, "invoices", {"client_id": client.id, "currency": "EUR", "lines": [
        {"description": "Mitgliedsbeitrag", "quantity": "1", "unit_price": "120", "taxes": []}]})
    xml = api.get(f"/api/v1/invoices/{untaxed['id']}/xml").content
    assert schematron(xml) == []
    assert texts(xml, ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == ["O"]
    mixed = create_via_api(api, "invoices", {"client_id": client.id, "currency": "EUR", "lines": [
        {"description": "Beratung", "quantity": "1", "unit_price": "100", "taxes": ["VAT0"]},
        {"description": "Auslagen", "quantity": "1", "unit_price": "20", "taxes": []}]})
    refused = api.get(f"/api/v1/invoices/{mixed['id']}/xml")
    assert refused.status_code == 409 and "BR-O-11" in refused.json()["detail"]
    assert "line 2" in api.get(f"/api/v1/invoices/{mixed['id']}/einvoice").json()["problem"]
    assert "BR-O-11" in browser.get(f"/documents/{mixed['id']}").text


def test_an_eu_seller_in_another_currency_is_warned_on_the_page_and_in_the_api(api, browser, business):
    client = make_client(name="Initech Inc.", country="US", currency="USD", postal_code="98101", city="Seattle")
    invoice = create_via_api(api, "invoices", {"client_id": client.id, "currency": "USD", "lines": [
        {"description": "Consulting", "quantity": "2", "unit_price": "150", "taxes": ["VAT19"]}]})
    status = api.get(f"/api/v1/invoices/{invoice['id']}/einvoice").json()
    assert status["available"] and len(status["warnings"]) == 1
    assert "BT-6" in status["warnings"][0] and "exchange rate" in status["warnings"][0]
    page = html.unescape(browser.get(f"/documents/{invoice['id']}").text)
    assert "Invoiced in USD by a seller in DE" in page
    euro = create_via_api(api, "invoices", {"client_id": client.id, "currency": "EUR", "lines": [
        {"description": "Consulting", "quantity": "2", "unit_price": "150", "taxes": ["VAT19"]}]})
    assert api.get(f"/api/v1/invoices/{euro['id']}/einvoice").json()["warnings"] == []


def test_the_document_page_offers_the_xml_downloads_when_ready(api, browser, business, schematron):
    invoice = new_invoice(api, authority())
    page = browser.get(f"/documents/{invoice['id']}").text
    assert f'href="/documents/{invoice["id"]}/einvoice.xml?syntax=xrechnung"' in page and "XRechnung ready" in page
    download = browser.get(f"/documents/{invoice['id']}/einvoice.xml?syntax=xrechnung")
    assert download.status_code == 200 and download.headers["content-type"].startswith("application/xml")
    assert f'{invoice["number"]}-xrechnung.xml' in download.headers["content-disposition"]
    assert texts(download.content, ".//ram:BuyerReference") == [LEITWEG]
    plain = browser.get(f"/documents/{invoice['id']}/einvoice.xml")
    assert plain.status_code == 200 and logic.EN16931_GUIDELINE.encode() in plain.content


def test_a_drafts_page_says_before_issuing_that_it_will_have_no_e_invoice(api, browser, business):
    kuwaiti = make_client(name="Gulf Trading WLL", country="KW", currency="KWD")
    draft = create_via_api(api, "invoices", {"client_id": kuwaiti.id, "currency": "KWD", "lines": [
        {"description": "Consulting", "quantity": "1", "unit_price": "1.234", "taxes": []}]}, issue=False)
    page = html.unescape(browser.get(f"/documents/{draft['id']}").text)
    assert 'id="einvoice-ahead"' in page and "KWD amounts have 3 decimals" in page
    mixed = create_via_api(api, "invoices", {"client_id": authority().id, "currency": "EUR", "lines": [
        {"description": "Beratung", "quantity": "1", "unit_price": "100", "taxes": ["VAT19"]},
        {"description": "Auslagen", "quantity": "1", "unit_price": "20", "taxes": []}]}, issue=False)
    assert "BR-O-11" in html.unescape(browser.get(f"/documents/{mixed['id']}").text)
    plain = new_invoice(api, authority(), issue=False)
    assert 'id="einvoice-ahead"' not in browser.get(f"/documents/{plain['id']}").text


def test_a_client_without_a_buyer_reference_is_told_no_xrechnung_not_not_ready(api, browser, business):
    """XRechnung is for German public buyers (a Leitweg-ID): a client without one, its address incomplete
    too, is told there is no XRechnung, not to cancel the invoice and issue it anew."""
    client = authority(buyer_reference="", postal_code="", name="Atelier Kranich")
    invoice = new_invoice(api, client)
    page = html.unescape(browser.get(f"/documents/{invoice['id']}").text)
    assert "No XRechnung" in page and "XRechnung not ready" not in page
