"""Taxes by place of supply through /api/v1 against the real SQLite file (issue 16, point 1 and its API).

A Canadian business (Toronto) billing Ontario, Québec, British Columbia, Germany with and without a VAT
number and the US; a German business (Berlin) billing Germany, France with and without a VAT number,
Switzerland and Canada. Each line added from the catalogue without taxes gets the rules' taxes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.support import field_errors, snapshot

CA_BUSINESS = {"name": "Northwind Studio", "country": "CA", "region": "ON", "city": "Toronto",
               "tax_number": "123456789 RT0001", "default_currency": "CAD"}
DE_BUSINESS = {"name": "Nordlicht Design GmbH", "country": "DE", "region": "", "city": "Berlin", "postal_code": "10115",
               "tax_number": "DE123456789", "default_currency": "EUR"}


def setup_business(api, business: dict[str, Any], preset: str) -> list[str]:
    assert api.patch("/api/v1/settings", json=business).status_code == 200
    response = api.post(f"/api/v1/taxes/presets/{preset}")
    assert response.status_code == 200, response.text
    return response.json()["added"]


def new_client(api, name: str, country: str, region: str = "", tax_number: str = "", currency: str = "") -> int:
    body = {"name": name, "country": country, "region": region, "tax_number": tax_number}
    if currency:
        body["currency"] = currency
    response = api.post("/api/v1/clients", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def new_item(api, code: str, **fields: Any) -> dict[str, Any]:
    response = api.post("/api/v1/items", json={"code": code, "name": f"Item {code}", "unit_price": "100.00", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def invoice_taxes(api, client_id: int, item_id: int) -> tuple[list[str], list[str]]:
    """The taxes a catalogue line gets on a new draft for the client, and the suggestion for the same pair."""
    response = api.post("/api/v1/invoices", json={"client_id": client_id, "lines": [{"item_id": item_id, "quantity": "1"}]})
    assert response.status_code == 201, response.text
    suggested = api.get(f"/api/v1/taxes/suggest?client_id={client_id}&item_id={item_id}")
    assert suggested.status_code == 200, suggested.text
    return response.json()["lines"][0]["taxes"], suggested.json()["taxes"]


@pytest.fixture
def canadian(api) -> dict[str, Any]:
    added = setup_business(api, CA_BUSINESS, "CA")
    assert {"GST", "HST", "HST14", "HST15", "QST", "PST", "RST", "PST-SK", "EXPORT"} <= set(added)
    return new_item(api, "DES-H", tax_category="standard")


@pytest.mark.parametrize(("country", "region", "tax_number", "expected"), [
    ("CA", "ON", "", ["HST"]),
    ("CA", "QC", "1234567890 TQ0001", ["GST", "QST"]),
    ("CA", "BC", "", ["GST"]),                    # not registered for BC PST, and a service
    ("DE", "", "DE811907980", ["EXPORT"]),
    ("DE", "", "", ["EXPORT"]),
    ("US", "NY", "", ["EXPORT"]),
])
def test_a_canadian_business_gets_the_rules_taxes_by_default(api, canadian, country, region, tax_number, expected):
    client_id = new_client(api, f"Client {country} {region} {tax_number}", country, region, tax_number)
    line_taxes, suggested = invoice_taxes(api, client_id, canadian["id"])
    assert line_taxes == expected and suggested == expected


def test_the_suggestion_says_why(api, canadian):
    ontario = new_client(api, "Maple Bakery", "CA", "Ontario")
    body = api.get(f"/api/v1/taxes/suggest?client_id={ontario}&item_id={canadian['id']}").json()
    assert body == {"taxes": ["HST"], "reason": "HST 13 %: client in Ontario", "rule": "CA-HST"}
    quebec = new_client(api, "Lumière Inc.", "CA", "QC")
    typed = api.get(f"/api/v1/taxes/suggest?client_id={quebec}").json()   # a typed line: no item
    assert typed["taxes"] == ["GST", "QST"] and typed["reason"] == "GST 5 % + QST 9.975 %: client in Québec"


def test_pst_only_where_the_business_is_registered_and_on_goods(api, canadian):
    vancouver = new_client(api, "Granite Logistics", "CA", "BC")
    licence = new_item(api, "LICENCE", kind="product")
    assert invoice_taxes(api, vancouver, licence["id"])[0] == ["GST"]
    assert api.patch("/api/v1/settings", json={"pst_registrations": ["BC"]}).json()["pst_registrations"] == ["BC"]
    assert invoice_taxes(api, vancouver, licence["id"])[0] == ["GST", "PST"]
    assert invoice_taxes(api, vancouver, canadian["id"])[0] == ["GST"]   # a service: no BC PST
    document = api.post("/api/v1/invoices", json={"client_id": vancouver, "lines": [
        {"item_id": licence["id"], "quantity": "1"}]}).json()
    assert [(t["code"], t["amount"]) for t in document["taxes"]] == [("GST", "5.00"), ("PST", "7.00")]


def test_an_items_own_codes_and_a_lines_codes_override_the_rules(api, canadian):
    quebec_item = new_item(api, "QC-ONLY", default_taxes=["GST", "QST"])
    ontario = new_client(api, "Maple Bakery", "CA", "ON")
    assert invoice_taxes(api, ontario, quebec_item["id"]) == (["GST", "QST"], ["GST", "QST"])
    assert api.get(f"/api/v1/taxes/suggest?client_id={ontario}&item_id={quebec_item['id']}").json()["rule"] == "ITEM"
    typed = api.post("/api/v1/invoices", json={"client_id": ontario, "lines": [
        {"item_id": canadian["id"], "quantity": "1", "taxes": ["GST"]}]}).json()
    assert typed["lines"][0]["taxes"] == ["GST"]


def test_zero_rated_and_exempt_categories(api, canadian):
    ontario = new_client(api, "Maple Bakery", "CA", "ON")
    assert invoice_taxes(api, ontario, new_item(api, "GROCERY", tax_category="zero")["id"])[0] == ["ZR"]
    assert invoice_taxes(api, ontario, new_item(api, "COURSE", tax_category="exempt")["id"])[0] == ["EXEMPT"]
    item = api.get(f"/api/v1/items/{canadian['id']}").json()
    assert item["tax_category"] == "standard"


@pytest.fixture
def german(api) -> dict[str, Any]:
    added = setup_business(api, DE_BUSINESS, "DE")
    assert {"VAT19", "VAT7", "RC", "DE-EXPORT"} <= set(added)
    return new_item(api, "BERATUNG", tax_category="standard")


@pytest.mark.parametrize(("country", "tax_number", "expected", "rule"), [
    ("DE", "DE811907980", ["VAT19"], "EU-DOMESTIC"),
    ("FR", "FR40303265045", ["RC"], "EU-REVERSE-CHARGE"),
    ("FR", "", ["VAT19"], "EU-B2C"),
    ("CH", "CHE-123.456.789", ["DE-EXPORT"], "EU-EXPORT"),
    ("CA", "123456789 RT0001", ["DE-EXPORT"], "EU-EXPORT"),
])
def test_a_german_business_gets_the_rules_taxes_by_default(api, german, country, tax_number, expected, rule):
    client_id = new_client(api, f"Kunde {country} {tax_number}", country, "", tax_number, currency="EUR")
    line_taxes, suggested = invoice_taxes(api, client_id, german["id"])
    assert line_taxes == expected and suggested == expected
    body = api.get(f"/api/v1/taxes/suggest?client_id={client_id}&item_id={german['id']}").json()
    assert body["rule"] == rule
    if rule == "EU-B2C":
        assert "One-Stop Shop" in body["reason"]


def test_reverse_charge_carries_its_legal_note_and_export_its_own(api, german):
    paris = new_client(api, "Atelier Lumière SARL", "FR", "", "FR40303265045", currency="EUR")
    document = api.post("/api/v1/invoices", json={"client_id": paris, "lines": [
        {"item_id": german["id"], "quantity": "2"}]}).json()
    assert [(t["code"], t["category"]) for t in document["taxes"]] == [("RC", "AE")]
    assert query_note(api, "RC").startswith("Reverse charge")
    assert "außerhalb der EU" in query_note(api, "DE-EXPORT")


def query_note(api, code: str) -> str:
    return api.get(f"/api/v1/taxes/{code}").json()["note"]


def test_a_reduced_rate_item_in_germany(api, german):
    berlin = new_client(api, "Buchhandlung Müller", "DE", currency="EUR")
    books = new_item(api, "BUCH", tax_category="reduced", kind="product")
    assert invoice_taxes(api, berlin, books["id"])[0] == ["VAT7"]


def test_presets_are_idempotent_and_unknown_ones_refused(api, config):
    first = api.post("/api/v1/taxes/presets/AT")
    assert first.status_code == 200 and "AT20" in first.json()["added"]
    before = snapshot(config, "tax")
    again = api.post("/api/v1/taxes/presets/at")
    assert again.status_code == 200 and again.json()["added"] == [] and "AT20" in again.json()["taxes"]
    assert snapshot(config, "tax") == before
    for country in ("BE", "NL", "US", "FR"):
        assert api.post(f"/api/v1/taxes/presets/{country}").status_code == 200
    unknown = api.post("/api/v1/taxes/presets/XX")
    assert unknown.status_code == 422 and "country" in field_errors(unknown)


def test_bad_input_is_refused_naming_the_field(api, config, canadian):
    assert "client_id" in field_errors(api.get("/api/v1/taxes/suggest"))
    assert "item_id" in field_errors(api.get("/api/v1/taxes/suggest?client_id=1&item_id=abc"))
    assert api.get("/api/v1/taxes/suggest?client_id=999999").status_code == 404
    client_id = new_client(api, "Maple Bakery", "CA", "ON")
    assert api.get(f"/api/v1/taxes/suggest?client_id={client_id}&item_id=99999999999999999999").status_code == 404
    items = snapshot(config, "catalog_item")
    bad_item = api.post("/api/v1/items", json={"code": "X", "name": "X", "unit_price": "1.00", "tax_category": "luxury"})
    assert bad_item.status_code == 422 and "tax_category" in field_errors(bad_item)
    assert snapshot(config, "catalog_item") == items
    settings = snapshot(config, "business_settings")
    for body, field in (({"pst_registrations": ["ON"]}, "pst_registrations"), ({"paper_size": "legal"}, "paper_size")):
        response = api.patch("/api/v1/settings", json=body)
        assert response.status_code == 422 and field in field_errors(response), response.text
    assert snapshot(config, "business_settings") == settings


@pytest.mark.parametrize("currency", ["XXX", "XTS", "XAU", "VEF", "ZWL"])
def test_documents_and_clients_take_only_currencies_in_use(api, config, canadian, currency):
    client_id = new_client(api, "Maple Bakery", "CA", "ON")
    documents = snapshot(config, "document")
    response = api.post("/api/v1/invoices", json={"client_id": client_id, "currency": currency, "lines": [
        {"item_id": canadian["id"], "quantity": "1"}]})
    assert response.status_code == 422
    message = field_errors(response)["currency"]
    assert f"{currency} cannot be used" in message and "in use" in message
    assert snapshot(config, "document") == documents
    refused = api.post("/api/v1/clients", json={"name": "Gold Hoarders", "currency": currency})
    assert refused.status_code == 422 and "currency" in field_errors(refused)


def test_paper_follows_the_country_unless_chosen(api, canadian):
    assert api.get("/api/v1/settings").json()["paper"] == "letter"
    assert api.patch("/api/v1/settings", json={"paper_size": "a4"}).json()["paper"] == "a4"
    assert api.patch("/api/v1/settings", json={"paper_size": "", "country": "DE"}).json()["paper"] == "a4"
    assert api.patch("/api/v1/settings", json={"country": "US"}).json()["paper"] == "letter"


def test_old_items_keep_their_codes_as_an_override_and_get_a_category(config):
    """The migration's guess (catalog 2026-12-06T04:19:34), run on rows as an older version left them."""
    import sqlite3

    from app.catalog.piccolo_migrations import catalog_2026_12_06t04_19_34_000000 as migration

    connection = sqlite3.connect(config.database_path)
    try:
        now = "2026-01-01T00:00:00+00:00"
        for code, category in (("GST", "S"), ("EXEMPT", "E"), ("ZR", "Z"), ("EXPORT", "Z")):
            connection.execute("INSERT INTO tax (code, name, rate, compound, note, category, active, created_at, "
                               "updated_at) VALUES (?, ?, '0', 0, '', ?, 1, ?, ?)", (code, code, category, now, now))
        for code, taxes in (("A", "GST"), ("B", "EXEMPT"), ("C", "ZR EXPORT"), ("D", ""), ("E", "ZR GST")):
            connection.execute("INSERT INTO catalog_item (code, name, kind, description, unit, unit_price_e4, "
                               "default_tax_codes, tax_category, category, active, search_text, created_at, updated_at) "
                               "VALUES (?, ?, 'service', '', '', 0, ?, 'standard', '', 1, '', ?, ?)",
                               (code, code, taxes, now, now))
        for statement in migration.GUESS:
            connection.execute(statement)
        rows = connection.execute("SELECT code, default_tax_codes, tax_category FROM catalog_item ORDER BY code").fetchall()
    finally:
        connection.rollback()
        connection.close()
    assert rows == [("A", "GST", "standard"), ("B", "EXEMPT", "exempt"), ("C", "ZR EXPORT", "zero"),
                    ("D", "", "standard"), ("E", "ZR GST", "standard")]


# -- the editor: defaults, why, and a warning ------------------------------------------------------------

def test_the_editor_fills_new_lines_with_the_rules_says_why_and_warns(browser, config):
    import html
    import re

    from app.clients import service as clients_service
    from app.documents import service as documents_service
    from app.settings import service as settings_service
    from app.taxes import service as taxes_service
    from tests.conftest import run
    from tests.http.test_documents_pages import editor_form, form_line

    run(settings_service.update_settings(CA_BUSINESS))
    run(taxes_service.apply_preset("CA"))
    quebec = run(clients_service.create_client({"name": "Lumière Inc.", "country": "CA", "region": "QC"}))
    draft = run(documents_service.create_document("invoice", {"client_id": quebec.id, "lines": []}))
    page = html.unescape(browser.get(f"/documents/{draft.id}/edit").text)
    # The first, empty line already carries the rules' taxes, and says why.
    assert re.search(r'name="lines-0-taxes" value="GST" checked', page)
    assert re.search(r'name="lines-0-taxes" value="QST" checked', page)
    assert "Taxes: GST 5 % + QST 9.975 %: client in Québec" in page
    lines = (form_line(0, "Design", "1", "100", "HST"),)
    added = html.unescape(browser.post(f"/documents/{draft.id}/preview",
                                       data={**editor_form(draft, *lines), "op": "add"}).text)
    assert re.search(r'name="lines-1-taxes" value="GST" checked', added)
    assert re.search(r'name="lines-1-taxes" value="QST" checked', added)
    assert not re.search(r'name="lines-1-taxes" value="HST" checked', added)
    # The typed line with HST goes against the rules for a Québec client: a warning, kept as typed.
    assert "This line has HST 13 %; the rules give GST 5 % + QST 9.975 %: client in Québec" in added
    assert re.search(r'name="lines-0-taxes" value="HST" checked', added)
    typing = html.unescape(browser.post(f"/documents/{draft.id}/preview", data=editor_form(draft, *lines)).text)
    assert 'id="taxhint-0" hx-swap-oob="true"' in typing and "This line has HST 13 %" in typing


# -- the PDF: the tax number's label, the paper, the address order ------------------------------------------

def issued_pdf(api, client_id: int, item_id: int) -> bytes:
    draft = api.post("/api/v1/invoices", json={"client_id": client_id, "lines": [{"item_id": item_id, "quantity": "3"}]})
    assert draft.status_code == 201, draft.text
    assert api.post(f"/api/v1/invoices/{draft.json()['id']}/issue").status_code == 200
    response = api.get(f"/api/v1/invoices/{draft.json()['id']}/pdf")
    assert response.status_code == 200
    return response.content


def page_size(pdf: bytes) -> str:
    import subprocess

    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return next(line for line in info.splitlines() if line.startswith("Page size"))


def test_an_ontario_invoice_has_hst_the_gst_hst_label_and_letter_paper(api, canadian):
    from tests.http.support import text_of

    ontario = api.post("/api/v1/clients", json={"name": "Maple Bakery", "country": "CA", "region": "ON",
                                                "city": "Toronto", "postal_code": "M5V 2T6"}).json()["id"]
    pdf = issued_pdf(api, ontario, canadian["id"])
    text = text_of(pdf)
    assert "GST/HST No. 123456789 RT0001" in text and "USt-IdNr." not in text
    assert "HST (ON)" in text and "Toronto ON M5V 2T6" in text
    assert "(letter)" in page_size(pdf)


def test_a_german_business_prints_its_ust_idnr_on_a4_with_the_postal_code_first(api, german):
    from tests.http.support import text_of

    # A German client reads the document in German: the preset's own name for the rate (an English one
    # would read "VAT 19%", the name in English of the same rate).
    munich = api.post("/api/v1/clients", json={"name": "Sommerfeld Architekten", "country": "DE", "city": "München",
                                               "postal_code": "80331", "currency": "EUR",
                                               "language": "de"}).json()["id"]
    pdf = issued_pdf(api, munich, german["id"])
    text = text_of(pdf)
    assert "USt-IdNr. DE123456789" in text and "80331 München" in text and "USt. 19 %" in text
    assert "(A4)" in page_size(pdf)
