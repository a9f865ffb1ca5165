"""E-invoice rules over HTTP: the buyer reference (BT-10, Leitweg-ID) frozen into the Factur-X and
XRechnung XML, XRechnung refused without it, and reverse charge refused without both VAT numbers
(EN 16931 BR-AE-02/03) while Factur-X is on, warned about in the editor either way."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from typing import Any

from facturx import xml_check_xsd

from app.render import logic
from tests.http.support import field_errors, make_client, query, snapshot
from tests.http.test_render import business, embedded, new_invoice, squashed  # noqa: F401  (business: a fixture)
from tests.unit.test_render_logic import schematron  # noqa: F401  (the EN 16931 schematron, as a fixture)

LEITWEG = "04011000-1234512345-06"
CLIENT_VAT_MISSING = "Reverse charge needs the client's VAT number; add it on the client."
WRITE_TABLES = ("document", "document_line", "document_event", "number_series", "ledger_entry", "client")
HTMX = {"HX-Request": "true", "HX-Target": "doc-totals"}


def state(config) -> dict[str, list[tuple]]:
    """Every row issuing writes, to prove a refused issue changed nothing."""
    return {table: snapshot(config, table) for table in WRITE_TABLES}


def authority(**fields: Any) -> dict[str, Any]:
    return make_client(**{"name": "Freie Hansestadt Bremen, Senatorin für Finanzen", "language": "de",
                          "country": "DE", "address_line1": "Rudolf-Hilferding-Platz 1", "postal_code": "28195",
                          "city": "Bremen", "currency": "EUR", "tax_number": "DE114707273",
                          "buyer_reference": LEITWEG, **fields})


def buyer_reference(xml: bytes) -> str | None:
    node = ET.fromstring(xml).find(".//ram:ApplicableHeaderTradeAgreement/ram:BuyerReference", logic.NS)
    return None if node is None else node.text


def test_the_buyer_reference_is_frozen_into_the_issued_xml_and_pdf(api, business, schematron):
    client = authority()
    invoice = new_invoice(api, client, taxes=("RC",))
    pdf = api.get(f"/api/v1/invoices/{invoice['id']}/pdf").content
    attached = embedded(pdf)["files"]["factur-x.xml"]["content"]
    assert buyer_reference(attached) == LEITWEG
    assert xml_check_xsd(attached, flavor="factur-x", level="en16931") and schematron(attached) == []
    assert f"Leitweg-ID:{LEITWEG}" in squashed(pdf)  # printed under the client's address
    facturx = api.get(f"/api/v1/invoices/{invoice['id']}/xml")
    xrechnung = api.get(f"/api/v1/invoices/{invoice['id']}/xml?syntax=xrechnung")
    assert facturx.status_code == xrechnung.status_code == 200
    assert buyer_reference(facturx.content) == buyer_reference(xrechnung.content) == LEITWEG
    assert logic.XRECHNUNG_GUIDELINE.encode() in xrechnung.content
    assert xml_check_xsd(xrechnung.content, flavor="factur-x", level="en16931")
    # The Factur-X schematron only objects to the XRechnung guideline ID itself (its code list is Factur-X's);
    # every EN 16931 rule holds.
    assert [f for f in schematron(xrechnung.content) if not f.startswith("FX-SCH-A-000556")] == []
    assert schematron(xrechnung.content.replace(logic.XRECHNUNG_GUIDELINE.encode(),
                                                logic.EN16931_GUIDELINE.encode())) == []
    # The client moves on; the issued invoice keeps the reference it was issued with.
    changed = api.patch(f"/api/v1/clients/{client.id}", json={"buyer_reference": "04011000-99999-33"})
    assert changed.status_code == 200 and changed.json()["buyer_reference"] == "04011000-99999-33"
    assert api.get(f"/api/v1/invoices/{invoice['id']}/xml?syntax=xrechnung").content == xrechnung.content
    assert api.get(f"/api/v1/invoices/{invoice['id']}/xml").content == facturx.content
    assert f"Leitweg-ID:{LEITWEG}" in squashed(api.get(f"/api/v1/invoices/{invoice['id']}/pdf").content)
    # ...and the next invoice carries the new one.
    later = new_invoice(api, client, lines=1)
    assert buyer_reference(api.get(f"/api/v1/invoices/{later['id']}/xml?syntax=xrechnung").content) == \
        "04011000-99999-33"


def test_xrechnung_without_a_buyer_reference_is_refused_naming_the_field(api, business):
    client = authority(buyer_reference="")
    invoice = new_invoice(api, client, lines=1)
    response = api.get(f"/api/v1/invoices/{invoice['id']}/xml?syntax=xrechnung")
    assert response.status_code == 422, response.text
    errors = field_errors(response)
    assert list(errors) == ["buyer_reference"]
    assert "Buyer reference" in errors["buyer_reference"] and "client" in errors["buyer_reference"]
    assert "Leitweg-ID" in response.json()["detail"] and "BR-DE-15" in response.json()["detail"]
    # plain Factur-X (EN 16931) does not need one, and has none
    facturx = api.get(f"/api/v1/invoices/{invoice['id']}/xml")
    assert facturx.status_code == 200 and buyer_reference(facturx.content) is None
    # Setting it on the client afterwards does not change what was issued.
    api.patch(f"/api/v1/clients/{client.id}", json={"buyer_reference": LEITWEG})
    assert api.get(f"/api/v1/invoices/{invoice['id']}/xml?syntax=xrechnung").status_code == 422


def test_reverse_charge_without_the_clients_vat_number_is_not_issued(api, browser, business, config):
    client = make_client(name="Wiener Werkstätten GmbH", country="AT", language="de", currency="EUR")
    draft = new_invoice(api, client, taxes=("RC",), issue=False)
    before = state(config)
    response = api.post(f"/api/v1/invoices/{draft['id']}/issue")
    assert response.status_code == 422, response.text
    assert field_errors(response) == {"client.tax_number": CLIENT_VAT_MISSING}
    assert "BR-AE-02" in response.json()["detail"]
    assert state(config) == before  # no number, no ledger entry, no event
    page = browser.post(f"/documents/{draft['id']}/issue")
    assert page.status_code == 422 and CLIENT_VAT_MISSING in html.unescape(page.text)
    assert state(config) == before
    # With the VAT number on the client, it is issued and carries it.
    api.patch(f"/api/v1/clients/{client.id}", json={"tax_number": "ATU12345678"})
    issued = api.post(f"/api/v1/invoices/{draft['id']}/issue")
    assert issued.status_code == 200 and issued.json()["number"]


def test_reverse_charge_without_the_businesss_own_vat_number_is_not_issued(api, business, config):
    assert api.patch("/api/v1/settings", json={"tax_number": ""}).status_code == 200
    client = make_client(name="Soylent SARL", country="FR", currency="EUR", tax_number="FR40303265045")
    draft = new_invoice(api, client, taxes=("RC",), issue=False)
    before = state(config)
    response = api.post(f"/api/v1/invoices/{draft['id']}/issue")
    assert response.status_code == 422
    errors = field_errors(response)
    assert list(errors) == ["settings.tax_number"] and "your own VAT number" in errors["settings.tax_number"]
    assert state(config) == before
    # a credit note on the account with reverse charge: the same rule
    credit = api.post("/api/v1/credit-notes", json={"client_id": client.id, "currency": "EUR", "lines": [
        {"description": "Goodwill", "quantity": "1", "unit_price": "50", "taxes": ["RC"]}]})
    assert credit.status_code == 201
    assert api.post(f"/api/v1/credit-notes/{credit.json()['id']}/issue").status_code == 422
    # Standard-rated documents are not concerned.
    assert new_invoice(api, client, taxes=("VAT19",))["number"]


def test_reverse_charge_is_issued_when_factur_x_is_off(api, business, config):
    assert api.patch("/api/v1/settings", json={"facturx_enabled": False}).json()["facturx_enabled"] is False
    client = make_client(name="Initech Ltd", country="IE", currency="EUR")
    invoice = new_invoice(api, client, taxes=("RC",))  # issued: asserts 200
    assert invoice["number"] and query(config, "SELECT status FROM document WHERE id = ?", invoice["id"]) == [("issued",)]
    pdf = api.get(f"/api/v1/invoices/{invoice['id']}/pdf").content
    assert embedded(pdf)["files"] == {}
    assert "Reversecharge" in squashed(pdf)  # the legal note is still printed
    # Turned back on, a cancellation is still possible (the rule is checked when issuing, not when correcting).
    api.patch("/api/v1/settings", json={"facturx_enabled": True})
    cancelled = api.post(f"/api/v1/invoices/{invoice['id']}/cancel", json={"reason": "Wrong client"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"


def test_a_quote_with_reverse_charge_is_issued_but_warned_about(api, browser, business):
    client = make_client(name="Umbrella BV", country="NL", currency="EUR")
    quote = new_invoice(api, client, taxes=("RC",), path="quotes", issue=False)
    text = html.unescape(browser.get(f"/documents/{quote['id']}/edit").text)
    assert CLIENT_VAT_MISSING in text and "An invoice made from this quote cannot be issued" in text
    assert api.post(f"/api/v1/quotes/{quote['id']}/issue").status_code == 200


def _editor_form(document: dict[str, Any], tax: str, client_id: int | None = None) -> dict[str, Any]:
    return {"client_id": str(client_id or document["client_id"]), "currency": "EUR",
            "issue_date": document["issue_date"], "terms_days": "30", "due_date": document["due_date"],
            "due_date_was": document["due_date"], "discount_percent": "", "notes": "", "terms": "", "footer": "",
            "lines-0-description": "Consulting", "lines-0-quantity": "8", "lines-0-unit_price": "95.50",
            "lines-0-discount_percent": "", "lines-0-unit": "h", "lines-0-item": "", "lines-0-item_id": "",
            "lines-0-taxes": [tax] if tax else []}


def test_the_editor_warns_as_soon_as_reverse_charge_meets_a_client_without_vat_number(api, browser, business, config):
    client = make_client(name="Acme Oy", country="FI", currency="EUR")
    draft = new_invoice(api, client, taxes=("VAT19",), issue=False)
    editor = html.unescape(browser.get(f"/documents/{draft['id']}/edit").text)
    assert 'id="doc-warnings"' in editor and CLIENT_VAT_MISSING not in editor
    # Picking the reverse-charge tax: the preview (htmx, while typing) brings the warning at once.
    before = state(config)
    preview = browser.post(f"/documents/{draft['id']}/preview", data=_editor_form(draft, "RC"), headers=HTMX)
    assert preview.status_code == 200
    text = html.unescape(preview.text)
    assert 'id="doc-warnings" hx-swap-oob="true"' in text and CLIENT_VAT_MISSING in text
    assert f'href="/clients/{client.id}/edit#f-tax_number"' in text and "cannot be issued" in text
    assert state(config) == before  # a preview writes nothing
    # Back to the standard rate: the warning goes away.
    plain = html.unescape(browser.post(f"/documents/{draft['id']}/preview", data=_editor_form(draft, "VAT19"),
                                       headers=HTMX).text)
    assert 'id="doc-warnings" hx-swap-oob="true"' in plain and CLIENT_VAT_MISSING not in plain
    # Saved with reverse charge: the editor and the draft's page (where Issue is) both say it.
    saved = browser.post(f"/documents/{draft['id']}/edit", data=_editor_form(draft, "RC"), follow_redirects=False)
    assert saved.status_code == 303
    assert CLIENT_VAT_MISSING in html.unescape(browser.get(f"/documents/{draft['id']}/edit").text)
    assert CLIENT_VAT_MISSING in html.unescape(browser.get(f"/documents/{draft['id']}").text)
    # Factur-X off: still warned, but issuing is allowed.
    api.patch("/api/v1/settings", json={"facturx_enabled": False})
    off = html.unescape(browser.get(f"/documents/{draft['id']}/edit").text)
    assert CLIENT_VAT_MISSING in off and "Factur-X is off, so it can still be issued" in off
    # A client with a VAT number: no warning.
    api.patch(f"/api/v1/clients/{client.id}", json={"tax_number": "FI12345671"})
    assert CLIENT_VAT_MISSING not in html.unescape(browser.get(f"/documents/{draft['id']}/edit").text)
