"""Tax names, legal notes and standard units in the document's language (issue 15 point 2)."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.conftest import run
from tests.http.support import create_via_api, field_errors, make_client


def text_of(pdf: bytes) -> str:
    result = subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(result.stdout.decode("utf-8").replace("\xa0", " ").replace("\u202f", " ").split())


@pytest.fixture
def german_business(api) -> None:
    from app.taxes import service as taxes_service

    response = api.patch("/api/v1/settings", json={
        "name": "Atelier Lumière", "address_line1": "Hauptstraße 5", "postal_code": "10115", "city": "Berlin",
        "country": "DE", "tax_number": "DE811111111", "default_currency": "EUR", "default_locale": "de"})
    assert response.status_code == 200, response.text
    run(taxes_service.apply_preset("germany"))


def invoice_for(api, client, taxes: tuple[str, ...], unit: str = "h", quantity: str = "8") -> dict[str, Any]:
    return create_via_api(api, "invoices", {
        "client_id": client.id, "currency": "EUR", "issue_date": "2026-03-02", "confirm_date": True,
        "lines": [{"description": "Beratung", "quantity": quantity, "unit": unit, "unit_price": "95.50",
                   "taxes": list(taxes)}]}, issue=True)


def pdf_text(api, invoice) -> str:
    response = api.get(f"/api/v1/invoices/{invoice['id']}/pdf")
    assert response.status_code == 200, response.text
    return text_of(response.content)


def test_a_preset_tax_and_its_note_print_in_the_clients_language(api, browser, german_business):
    french = make_client(name="Dupont SARL", language="fr", country="FR", tax_number="FR12345678901")
    text = pdf_text(api, invoice_for(api, french, ("RC",)))
    assert "Autoliquidation : TVA due par le preneur, art. 196 Directive 2006/112/CE." in text
    assert "Reverse charge" not in text and "heures" in text and " h " not in text
    text = pdf_text(api, invoice_for(api, french, ("VAT19",), unit="Std.", quantity="1.5"))
    assert "TVA 19 %" in text and "USt." not in text and "1,5 heure" in text
    german = make_client(name="Müller GmbH", language="de", country="DE")
    invoice = invoice_for(api, german, ("VAT19",))
    text = pdf_text(api, invoice)
    assert "USt. 19 %" in text and "Stunden" in text
    page = browser.get(f"/documents/{invoice['id']}")   # the page: in the user's language (the business's German)
    assert page.status_code == 200 and 'lang="de"' in page.text and '8 <span class="muted">Stunden</span>' in page.text
    english = make_client(name="Initech Ltd", language="en", country="IE")
    text = pdf_text(api, invoice_for(api, english, ("VAT7",), unit="Lizenz"))
    assert "VAT 7%" in text and "Lizenz" in text   # a unit not on the standard list stays as typed


def test_names_and_notes_per_language_are_edited_through_the_api_and_the_page(api, browser, german_business):
    response = api.patch("/api/v1/taxes/VAT0", json={"names": {"fr": "Exonération", "en": "Exempt supply"},
                                                     "notes": {"fr": "TVA non applicable, art. 4 UStG."}})
    assert response.status_code == 200, response.text
    assert response.json()["names"] == {"en": "Exempt supply", "fr": "Exonération"}
    french = make_client(name="Dupont SARL", language="fr", country="FR")
    text = pdf_text(api, invoice_for(api, french, ("VAT0",)))
    assert "Exonération" in text and "TVA non applicable, art. 4 UStG." in text
    bad = api.patch("/api/v1/taxes/VAT0", json={"names": {"es": "Exento"}})
    assert bad.status_code == 422 and list(field_errors(bad)) == ["names.es"]
    page = browser.get("/settings/taxes")
    assert 'name="name_fr" value="Exonération"' in page.text
    refused = browser.post("/settings/taxes/VAT0", data={"name": "Steuerfrei", "rate": "0", "category": "E",
                                                         "active": "on", "name_de": "x" * 101})
    assert refused.status_code == 422 and "Name in German is too long" in refused.text
    assert api.get("/api/v1/taxes/VAT0").json()["names"] == {"en": "Exempt supply", "fr": "Exonération"}
    saved = browser.post("/settings/taxes/VAT0", data={"name": "Steuerfrei", "rate": "0", "category": "E",
                                                       "active": "on", "name_fr": "", "name_en": "Exempt supply",
                                                       "name_de": "Steuerbefreit"}, follow_redirects=False)
    assert saved.status_code in (302, 303)
    assert api.get("/api/v1/taxes/VAT0").json()["names"] == {"de": "Steuerbefreit", "en": "Exempt supply"}


def test_an_issued_document_keeps_the_names_it_was_issued_with(api, german_business):
    french = make_client(name="Dupont SARL", language="fr", country="FR")
    invoice = invoice_for(api, french, ("VAT7",))
    assert api.patch("/api/v1/taxes/VAT7", json={"names": {"fr": "TVA réduite"}}).status_code == 200
    assert "TVA 7 %" in pdf_text(api, invoice)   # the document of record
    assert "TVA réduite" in pdf_text(api, invoice_for(api, french, ("VAT7",)))
