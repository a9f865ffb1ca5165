"""Peppol BIS Billing 3.0 over HTTP against the real SQLite file: the electronic address on settings and
clients (API and pages), `GET /api/v1/{invoices,credit-notes}/{id}/xml?syntax=ubl`, the page's download
and what is refused (422 naming the field, 409 for a draft, nothing written)."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from app.render import ubl
from tests.http.support import create_via_api, field_errors, make_client, snapshot
from tests.unit.test_ubl import X, official_rules, rule_failures, xsd  # noqa: F401  (fixtures)

BELGIAN_SELLER = {
    "name": "Brasserie Numérique SRL", "address_line1": "Rue de la Loi 16", "postal_code": "1000", "city": "Bruxelles",
    "country": "BE", "email": "factures@brasserie.example", "tax_number": "BE0123456749", "registration_number": "",
    "bank_account_holder": "Brasserie Numérique SRL", "bank_iban": "BE71096123456769", "bank_bic": "GKCCBEBB",
    "default_currency": "EUR", "electronic_address_scheme": "0208", "electronic_address": "0123 456 749",
}
GENT = {"name": "Stad Gent", "country": "BE", "address_line1": "Botermarkt 1", "postal_code": "9000", "city": "Gent",
        "tax_number": "BE0207451227", "currency": "EUR", "language": "en", "buyer_reference": "PO-2026-118",
        "electronic_address_scheme": "0208", "electronic_address": "0207451227"}


@pytest.fixture
def seller(api) -> dict[str, Any]:
    from app.taxes import service as taxes_service
    from tests.conftest import run

    response = api.patch("/api/v1/settings", json=BELGIAN_SELLER)
    assert response.status_code == 200, response.text
    run(taxes_service.create_tax({"code": "BTW21", "name": "BTW 21 %", "rate": "21"}))
    return response.json()


def issued_invoice(api, client_id: int, *, currency: str = "EUR", **extra: Any) -> dict[str, Any]:
    body = {"client_id": client_id, "currency": currency, "issue_date": "2026-03-02", "confirm_date": True, **extra,
            "lines": [{"description": "Website & hosting <2026>", "quantity": "3", "unit": "h", "unit_price": "95.50",
                       "discount_percent": "10", "taxes": ["BTW21"]},
                      {"description": "Domain ☕", "quantity": "1", "unit": "", "unit_price": "12.00",
                       "taxes": ["BTW21"]}]}
    return create_via_api(api, "invoices", body)


# -- the electronic address -------------------------------------------------------------------

def test_settings_take_an_electronic_address_with_its_scheme(api, seller):
    assert (seller["electronic_address_scheme"], seller["electronic_address"]) == ("0208", "0123456749")
    assert api.get("/api/v1/settings").json()["electronic_address"] == "0123456749"
    cleared = api.patch("/api/v1/settings", json={"electronic_address_scheme": "", "electronic_address": ""})
    assert cleared.status_code == 200 and cleared.json()["electronic_address"] == ""


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"electronic_address_scheme": "1234", "electronic_address": "0123456749"}, "electronic_address_scheme",
     "not a code of the EAS list"),
    ({"electronic_address_scheme": "0208", "electronic_address": "0123456748"}, "electronic_address",
     "not a Belgian enterprise number"),
    ({"electronic_address_scheme": "", "electronic_address": "0123456749"}, "electronic_address_scheme",
     "Choose the scheme"),
    ({"electronic_address_scheme": "0208", "electronic_address": ""}, "electronic_address", "Give the electronic"),
    ({"electronic_address": "0123456749"}, "electronic_address_scheme", "together"),
    ({"electronic_address_scheme": "9930", "electronic_address": "FR123"}, "electronic_address", "starts with DE"),
    ({"electronic_address_scheme": "0088", "electronic_address": "4000001000006"}, "electronic_address", "GLN"),
    ({"electronic_address_scheme": "0208", "electronic_address": "01234\x0056749"}, "electronic_address",
     "control characters"),
])
def test_a_bad_electronic_address_is_refused_naming_the_field(api, config, seller, body, field, words):
    before = snapshot(config, "business_settings")
    response = api.patch("/api/v1/settings", json={**body, "city": "Antwerpen"})
    assert response.status_code == 422, response.text
    assert words in field_errors(response)[field]
    assert snapshot(config, "business_settings") == before  # nothing half-written, not even the city
    client = api.post("/api/v1/clients", json={"name": "Bad address", **body})  # a new client: the whole body
    assert client.status_code == 422 and field in field_errors(client)


def test_clients_carry_an_electronic_address_through_the_api(api, seller):
    created = api.post("/api/v1/clients", json=GENT)
    assert created.status_code == 201, created.text
    client = created.json()
    assert (client["electronic_address_scheme"], client["electronic_address"]) == ("0208", "0207451227")
    moved = api.patch(f"/api/v1/clients/{client['id']}", json={"electronic_address_scheme": "9925",
                                                               "electronic_address": "be0207451227"})
    assert moved.json()["electronic_address"] == "BE0207451227"  # a VAT prefix as registers write it


def test_the_pages_show_and_save_the_electronic_address(browser, config):
    settings_page = browser.get("/settings")
    assert 'name="electronic_address_scheme"' in settings_page.text and "0208 · BE enterprise number" in settings_page.text
    form = {"name": "Stad Gent", "currency": "EUR", "language": "en", "country": "BE",
            "electronic_address_scheme": "0208", "electronic_address": "0207 451 227"}
    response = browser.post("/clients", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    detail = browser.get(response.headers["location"])
    assert "0208:0207451227" in detail.text
    bad = browser.post("/clients", data={**form, "electronic_address": "0207451228"})
    assert bad.status_code == 422 and "not a Belgian enterprise number" in bad.text
    assert 'id="f-electronic_address"' in bad.text


# -- the UBL export ---------------------------------------------------------------------------

def test_an_issued_invoice_and_its_credit_note_as_peppol_ubl(api, seller, xsd):
    client = make_client(**GENT)
    invoice = issued_invoice(api, client.id)
    response = api.get(f"/api/v1/invoices/{invoice['id']}/xml?syntax=ubl")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert f'{invoice["number"]}-peppol-ubl.xml' in response.headers["content-disposition"]
    assert xsd(response.content) == [] and rule_failures(response.content) == []
    root = etree.fromstring(response.content)
    assert root.findtext("cbc:CustomizationID", namespaces=X) == ubl.CUSTOMIZATION_ID
    assert root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=X) == invoice["total"]
    endpoints = [(e.get("schemeID"), e.text) for e in root.iterfind(".//cbc:EndpointID", X)]
    assert endpoints == [("0208", "0123456749"), ("0208", "0207451227")]
    assert root.findtext(".//cac:Item/cbc:Name", namespaces=X) == "Website & hosting <2026>"

    cancelled = api.post(f"/api/v1/invoices/{invoice['id']}/cancel", json={"reason": "Wrong department"})
    assert cancelled.status_code == 200, cancelled.text
    credit_id = api.get("/api/v1/credit-notes").json()["items"][0]["id"]
    credit = api.get(f"/api/v1/credit-notes/{credit_id}/xml?syntax=ubl")
    assert credit.status_code == 200, credit.text
    assert xsd(credit.content) == [] and rule_failures(credit.content) == []
    root = etree.fromstring(credit.content)
    assert etree.QName(root).localname == "CreditNote"
    assert root.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=X) == invoice["number"]
    # The same id under the other type's path is not found.
    assert api.get(f"/api/v1/invoices/{credit_id}/xml?syntax=ubl").status_code == 404


def test_what_peppol_would_reject_is_refused_naming_the_field(api, config, seller):
    nobody = make_client(**{**GENT, "electronic_address_scheme": "", "electronic_address": ""})
    invoice = issued_invoice(api, nobody.id)
    before = snapshot(config, "document")
    response = api.get(f"/api/v1/invoices/{invoice['id']}/xml?syntax=ubl")
    assert response.status_code == 422
    errors = field_errors(response)
    assert set(errors) == {"client.electronic_address"} and "PEPPOL-EN16931-R010" in errors["client.electronic_address"]
    assert snapshot(config, "document") == before
    # Setting the address on the client afterwards is enough: it is where the invoice goes, not what it says.
    api.patch(f"/api/v1/clients/{nobody.id}", json={"electronic_address_scheme": "0208",
                                                    "electronic_address": "0207451227"})
    assert api.get(f"/api/v1/invoices/{invoice['id']}/xml?syntax=ubl").status_code == 200


def test_three_decimal_currencies_drafts_and_bad_input(api, seller):
    client = make_client(**GENT)
    dinar = issued_invoice(api, client.id, currency="KWD")
    response = api.get(f"/api/v1/invoices/{dinar['id']}/xml?syntax=ubl")
    assert response.status_code == 422 and "BR-DEC" in field_errors(response)["currency"]
    draft = create_via_api(api, "invoices", {"client_id": client.id, "currency": "EUR", "lines": [
        {"description": "Later", "quantity": "1", "unit_price": "5", "taxes": ["BTW21"]}]}, issue=False)
    assert api.get(f"/api/v1/invoices/{draft['id']}/xml?syntax=ubl").status_code == 409
    invoice = issued_invoice(api, client.id)
    unknown = api.get(f"/api/v1/invoices/{invoice['id']}/xml?syntax=edifact")
    assert unknown.status_code == 422 and "syntax" in field_errors(unknown)
    assert api.get("/api/v1/invoices/999999/xml?syntax=ubl").status_code == 404
    assert api.get("/api/v1/invoices/99999999999999999999/xml?syntax=ubl").status_code in (400, 404, 422)


def test_the_document_page_downloads_it_or_says_what_is_missing(browser, api, seller):
    client = make_client(**GENT)
    invoice = issued_invoice(api, client.id)
    page = browser.get(f"/documents/{invoice['id']}")
    assert f'href="/documents/{invoice["id"]}/peppol.xml"' in page.text
    download = browser.get(f"/documents/{invoice['id']}/peppol.xml")
    assert download.status_code == 200 and download.content.startswith(b"<?xml")
    assert "attachment" in download.headers["content-disposition"]
    # Issued, the invoice keeps the seller's address it was issued with; a client without one is named.
    nobody = make_client(**{**GENT, "name": "Café Zonder Adres", "electronic_address_scheme": "",
                            "electronic_address": ""})
    other = issued_invoice(api, nobody.id)
    refused = browser.get(f"/documents/{other['id']}/peppol.xml")
    assert refused.status_code == 422
    assert "No Peppol e-invoice yet" in refused.text and "PEPPOL-EN16931-R010" in refused.text
    assert f'href="/clients/{nobody.id}/edit#f-electronic_address"' in refused.text
    draft = create_via_api(api, "invoices", {"client_id": client.id, "currency": "EUR", "lines": [
        {"description": "Later", "quantity": "1", "unit_price": "5", "taxes": ["BTW21"]}]}, issue=False)
    assert "peppol.xml" not in browser.get(f"/documents/{draft['id']}").text


def test_the_demo_issues_a_peppol_invoice_to_a_belgian_participant(config, owner, xsd, official_rules):
    """Run like `counterfoil demo` (twice: a second run adds no second Peppol client), through the services."""
    from app import demo
    from app.clients import service as clients_service
    from app.common.logic import Page
    from app.documents import service as documents_service
    from app.integrity import service as integrity_service
    from app.render import service as render_service
    from tests.conftest import run

    run(demo.fill(config, clients=4, invoices=6))
    run(demo.fill(config, clients=0, invoices=6))
    clients = [c for c in run(clients_service.list_clients(status="active", page=Page(1, 500))).items
               if c.electronic_address == demo.PEPPOL_CLIENT["electronic_address"]]
    assert len(clients) == 1
    invoices = run(documents_service.client_documents(clients[0].id))
    assert [d.doc_type for d in invoices] == ["invoice"] and invoices[0].status in ("issued", "sent")
    xml, _ = run(render_service.document_ubl(invoices[0].id))
    failures = xsd(xml) + rule_failures(xml)
    for rules in official_rules:
        failures += rules(xml)
    assert failures == []
    root = etree.fromstring(xml)
    assert [(e.get("schemeID"), e.text) for e in root.iterfind(".//cbc:EndpointID", X)] == [
        ("0088", "7540012345674"), ("0208", "0879464059")]
    assert root.findtext("cbc:BuyerReference", namespaces=X) == clients[0].code
    assert [str(b) for b in integrity_service.run_checks(config.database_path)] == []
