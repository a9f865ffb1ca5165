"""Issue 15 point 8, "the pages tell the truth", through HTTP against the real SQLite file: a credited
invoice reads "credited", a client's page shows its account per currency, lines carry the item's name."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from app.clients.records import ClientView
from tests.conftest import run
from tests.http.support import field_errors, make_client, make_invoice, make_item, query


@pytest.fixture
def client(config) -> ClientView:
    return make_client(name="Maple Bakery", address_line1="12 King St", city="Toronto", country="CA")


def credit(invoice_id: int, client: ClientView, amount: str) -> None:
    from app.documents import service

    note = run(service.create_document("credit_note", {"client_id": client.id, "invoice_id": invoice_id,
                                                        "lines": [{"description": "Refund", "quantity": "1",
                                                                   "unit_price": amount}]}))
    run(service.issue(note.id))


def pay(invoice_id: int, amount: str) -> None:
    from app.payments import service

    run(service.record_payment(invoice_id, {"amount": amount, "method": "bank_transfer",
                                            "keep_excess_as_credit": True}))


def badge(html: str, document_id: int) -> str:
    """The status badge of a document's row in a list (the first badge after its link)."""
    match = re.search(rf'href="/documents/{document_id}".*?<span class="status ([^"]+)">([^<]+)</span>', html, re.S)
    assert match, html[:2000]
    return f"{match.group(1)}: {match.group(2)}"


# -- "credited", not "partly paid" ---------------------------------------------------------------

def test_an_invoice_reduced_by_a_credit_note_reads_partly_credited_everywhere(browser, api, config, client) -> None:
    invoice = make_invoice(client, "100.00")
    credit(invoice.id, client, "40.00")
    page = browser.get(f"/documents/{invoice.id}").text
    assert '<span class="status status-credited">Partly credited</span>' in page
    assert "Partly paid" not in page
    assert badge(browser.get("/invoices").text, invoice.id) == "status-credited: Partly credited"
    assert badge(browser.get(f"/clients/{client.id}").text, invoice.id) == "status-credited: Partly credited"
    assert badge(browser.get("/").text, invoice.id) == "status-credited: Partly credited"
    # The API keeps its status values and says what settled the invoice in a field of its own.
    body = api.get(f"/api/v1/invoices/{invoice.id}").json()
    assert (body["status"], body["settlement"], body["credited"], body["balance"]) == \
        ("partial", "partly_credited", "40.00", "60.00")
    listed = {item["id"]: item for item in api.get("/api/v1/invoices").json()["items"]}
    assert (listed[invoice.id]["status"], listed[invoice.id]["settlement"]) == ("partial", "partly_credited")


def test_wholly_credited_paid_and_both_read_as_what_happened(browser, api, config, client) -> None:
    credited, paid, both = (make_invoice(client, "100.00") for _ in range(3))
    credit(credited.id, client, "100.00")
    pay(paid.id, "30.00")
    credit(both.id, client, "50.00")
    pay(both.id, "50.00")
    html = browser.get("/invoices").text
    assert badge(html, credited.id) == "status-credited: Credited"
    assert badge(html, paid.id) == "status-partial: Partly paid"
    assert badge(html, both.id) == "status-paid: Paid and credited"
    settlements = {item["id"]: (item["status"], item["settlement"]) for item in api.get("/api/v1/invoices").json()["items"]}
    assert settlements[credited.id] == ("paid", "credited")
    assert settlements[paid.id] == ("partial", "partly_paid")
    assert settlements[both.id] == ("paid", "paid_and_credited")
    quote = api.post("/api/v1/quotes", json={"client_id": client.id, "lines": [
        {"description": "Plan", "quantity": "1", "unit_price": "10"}]}).json()
    assert quote["settlement"] == "none"


# -- the client's page: its account per currency, its credit, its links -----------------------------

def test_the_client_page_shows_balance_overdue_and_credit_per_currency(browser, config, client) -> None:
    from datetime import timedelta

    from app.settings.service import today

    day = run(today())
    # Issued first: a later number never carries an earlier date.
    late = make_invoice(client, "50.00", issue_date=day - timedelta(days=60), due_date=(day - timedelta(days=30)).isoformat())
    make_invoice(client, "100.00")  # CAD, the client's currency
    make_invoice(client, "80.00", currency="EUR")
    paid = make_invoice(client, "20.00", currency="EUR")
    pay(paid.id, "25.00")  # 5.00 EUR more than owed: credit to apply
    html = browser.get(f"/clients/{client.id}").text
    account = html[html.index('id="account"'):html.index('id="documents"')]
    words = [re.sub(r"<[^>]+>", " ", row).split() for row in re.findall(r"<tr>(.*?)</tr>", account, re.S)]
    rows = {row[0]: [word.strip("$€") for word in row[1:]] for row in words if row}  # amounts without symbols
    assert rows["CAD"] == ["150.00", "owes", "you", "150.00", "2", "invoices", "50.00", "1", "invoice", "0.00"]
    assert rows["EUR"] == ["75.00", "owes", "you", "80.00", "1", "invoice", "0.00", "5.00", "overpaid", "or",
                           "credited,", "not", "yet", "applied"]
    for link in (f"/clients/{client.id}/ledger", f"/invoices?client_id={client.id}", f"/quotes?client_id={client.id}",
                 f"/credit-notes?client_id={client.id}", f"/payments?client_id={client.id}"):
        assert f'href="{link}"' in account, link
        assert browser.get(link).status_code == 200, link
    # The statement with a period: the picker's form asks for the statement page with from and to.
    assert f'action="/clients/{client.id}/statement"' in account
    assert 'name="from"' in account and 'name="to"' in account and 'name="currency"' in account
    statement = browser.get(f"/clients/{client.id}/statement", params={"from": f"{day.year}-01-01",
                                                                      "to": day.isoformat(), "currency": "CAD"})
    assert statement.status_code == 200 and "Statement of account" in statement.text
    assert late.number in statement.text


def test_a_client_with_nothing_billed_says_so(browser, config) -> None:
    fresh = make_client(name="New Client")
    html = browser.get(f"/clients/{fresh.id}").text
    assert "Nothing billed yet" in html
    assert f'action="/clients/{fresh.id}/statement"' in html


# -- lines carry the catalogue item's name ----------------------------------------------------------

@pytest.fixture
def hosting(config) -> dict[str, Any]:
    return make_item(code="HOST-M", name="Managed hosting", unit="month", unit_price="120.00",
                     description="Backups and monitoring, November")


def test_a_line_added_from_an_item_keeps_its_name_shown_printed_and_searchable(browser, api, config, client,
                                                                              hosting) -> None:
    created = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [{"item_id": hosting["id"]},
                       {"description": "Setup fee", "quantity": "1", "unit_price": "50"}]})
    assert created.status_code == 201, created.text
    invoice = created.json()
    assert [(ln["name"], ln["description"]) for ln in invoice["lines"]] == \
        [("Managed hosting", "Backups and monitoring, November"), ("", "Setup fee")]
    assert query(config, "SELECT name FROM document_line WHERE document = ? ORDER BY position", invoice["id"]) == \
        [("Managed hosting",), ("",)]
    # The editor shows the name in its own field; the document page in bold above the description.
    editor = browser.get(f"/documents/{invoice['id']}/edit").text
    assert 'name="lines-0-name" value="Managed hosting"' in editor
    assert '<option value="NOK">Norwegian Krone</option>' in editor  # the currency picker: Babel's currencies
    issued = api.post(f"/api/v1/invoices/{invoice['id']}/issue")
    assert issued.status_code == 200, issued.text
    page = browser.get(f"/documents/{invoice['id']}").text
    assert '<strong class="line-name">Managed hosting</strong>' in page
    assert "Backups and monitoring, November" in page
    # Searchable by the name alone (the description does not hold it).
    found = api.get("/api/v1/invoices", params={"q": "managed host"}).json()
    assert [item["id"] for item in found["items"]] == [invoice["id"]]
    assert f'href="/documents/{invoice["id"]}"' in browser.get("/invoices", params={"q": "managed host"}).text
    # Printed: the name, then the description under it.
    pdf = api.get(f"/api/v1/invoices/{invoice['id']}/pdf").content
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert text.index("Managed hosting") < text.index("Backups and monitoring, November")


def test_a_renamed_item_does_not_change_the_line_and_the_name_can_be_typed(api, config, client, hosting) -> None:
    from app.catalog import service as catalog_service

    invoice = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [
        {"item_id": hosting["id"], "name": "Hosting (premium)"}]}).json()
    assert invoice["lines"][0]["name"] == "Hosting (premium)"
    run(catalog_service.update_item(hosting["id"], {"name": "Cloud hosting"}, partial=True))
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["lines"][0]["name"] == "Hosting (premium)"


def test_a_bad_line_name_is_refused_naming_the_field_and_nothing_is_written(api, config, client) -> None:
    before = query(config, "SELECT COUNT(*) FROM document")
    response = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [
        {"name": "x" * 201, "description": "Work", "quantity": "1", "unit_price": "10"}]})
    assert response.status_code == 422
    assert "lines[0].name" in field_errors(response)
    response = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [
        {"name": "Two\nlines", "description": "Work", "quantity": "1", "unit_price": "10"}]})
    assert response.status_code == 422 and "lines[0].name" in field_errors(response)
    assert query(config, "SELECT COUNT(*) FROM document") == before


# -- the dashboard shows money --------------------------------------------------------------------

def test_the_dashboard_shows_revenue_paid_outstanding_and_a_chart(browser, config, client) -> None:
    from datetime import timedelta

    from app.reports import service as reports_service
    from app.settings.service import today

    day = run(today())
    earlier = make_invoice(client, "300.00", issue_date=day - timedelta(days=70),
                           due_date=(day - timedelta(days=40)).isoformat())  # overdue, another month
    invoice = make_invoice(client, "1000.00")
    credit(invoice.id, client, "200.00")
    pay(invoice.id, "500.00")
    make_invoice(client, "90.00", issue=False)  # a draft counts nowhere
    html = browser.get("/").text

    def card(card_id: str) -> str:
        start = html.index(f'id="{card_id}"')
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[start:html.index("</a>", start)]))

    this_year = earlier.issue_date.year == day.year
    assert "Revenue this month 800.00 CAD" in card("revenue-month")
    assert f"Revenue this year {'1,100.00' if this_year else '800.00'} CAD" in card("revenue-year")
    assert "Paid this month 500.00 CAD" in card("paid-month")
    assert "Outstanding 600.00 CAD" in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    chart = html[html.index('id="last-twelve-months"'):]
    assert "<svg" in chart and chart.count("<rect") >= 12
    # The chart's sums are the revenue report's: summed per month in SQL, they agree with the facts read one by one.
    quick = run(reports_service.last_twelve_months())
    docs, payments = run(reports_service.facts(quick.date_from, quick.date_to))
    from app.reports import logic as reports_logic

    slow = reports_logic.revenue(docs, payments, quick.date_from, quick.date_to, "month", default_currency="CAD")
    fields = ("invoiced", "credited", "net", "tax", "collected", "outstanding", "invoices", "credit_notes")
    assert [[getattr(row, name) for name in fields] for row in quick.rows] == \
        [[getattr(row, name) for name in fields] for row in slow.rows]


def test_an_empty_dashboard_shows_zero_money_and_an_empty_chart(browser, config) -> None:
    html = browser.get("/").text
    assert 'id="revenue-month"' in html and 'id="last-twelve-months"' in html and "<svg" in html


# -- "add a new client" from a document's client picker ----------------------------------------------

def test_add_a_new_client_from_the_new_invoice_picker_and_come_back_with_it_picked(browser, config, client) -> None:
    from urllib.parse import parse_qs, urlsplit

    picker = browser.get("/invoices/new", params={"q": "Globex Nord"}, headers={"HX-Target": "client-pick"}).text
    link = re.search(r'id="add-new-client" href="([^"]+)"', picker)
    assert link, picker
    url = link.group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(url).query) == {"name": ["Globex Nord"], "return_to": ["/invoices/new"]}
    form = browser.get(url).text
    assert 'name="name"' in form and 'value="Globex Nord"' in form
    assert '<input type="hidden" name="return_to" value="/invoices/new">' in form
    saved = browser.post("/clients", data={"name": "Globex Nord", "currency": "EUR", "language": "de",
                                           "return_to": "/invoices/new"}, follow_redirects=False)
    assert saved.status_code in (302, 303), saved.text
    new_id = query(config, "SELECT id FROM client WHERE name = 'Globex Nord'")[0][0]
    draft = query(config, "SELECT id, client, currency, doc_type, status FROM document ORDER BY id DESC LIMIT 1")[0]
    assert draft[1:] == (new_id, "EUR", "invoice", "draft")
    assert saved.headers["location"] == f"/documents/{draft[0]}/edit"
    editor = browser.get(saved.headers["location"]).text
    assert re.search(rf'name="client_id" value="{new_id}" checked', editor)
    assert "It is picked on this draft" in editor


def test_add_a_new_client_from_a_drafts_editor_comes_back_to_that_draft(browser, config, client) -> None:
    draft = make_invoice(client, "10.00", issue=False)
    options = browser.get("/documents/client-options", params={"client_q": "Initech", "client_id": client.id,
                                                               "document_id": draft.id}).text
    link = re.search(r'id="add-new-client" href="([^"]+)"', options)
    assert link, options
    saved = browser.post("/clients", data={"name": "Initech", "return_to": f"/documents/{draft.id}/edit"},
                         follow_redirects=False)
    assert saved.headers["location"] == f"/documents/{draft.id}/edit"
    new_id = query(config, "SELECT id FROM client WHERE name = 'Initech'")[0][0]
    assert query(config, "SELECT client FROM document WHERE id = ?", draft.id) == [(new_id,)]


def test_the_client_form_keeps_return_to_when_refused_and_ignores_a_foreign_one(browser, config, client) -> None:
    refused = browser.post("/clients", data={"name": "", "return_to": "/quotes/new"})
    assert refused.status_code == 422
    assert '<input type="hidden" name="return_to" value="/quotes/new">' in refused.text
    assert query(config, "SELECT COUNT(*) FROM document") == [(0,)]
    # Any other return_to is dropped: the client is saved and its own page follows.
    form = browser.get("/clients/new", params={"name": "Acme", "return_to": "https://evil.example/"}).text
    assert 'name="return_to"' not in form
    saved = browser.post("/clients", data={"name": "Acme", "return_to": "https://evil.example/"},
                         follow_redirects=False)
    new_id = query(config, "SELECT id FROM client WHERE name = 'Acme'")[0][0]
    assert saved.headers["location"] == f"/clients/{new_id}"
    assert query(config, "SELECT COUNT(*) FROM document") == [(0,)]


def test_a_draft_issued_meanwhile_keeps_its_client_and_the_new_one_is_saved(browser, config, client) -> None:
    invoice = make_invoice(client, "10.00")  # issued: it cannot change client
    saved = browser.post("/clients", data={"name": "Late Client", "return_to": f"/documents/{invoice.id}/edit"},
                         follow_redirects=False)
    new_id = query(config, "SELECT id FROM client WHERE name = 'Late Client'")[0][0]
    assert saved.headers["location"] == f"/clients/{new_id}"
    assert query(config, "SELECT client FROM document WHERE id = ?", invoice.id) == [(client.id,)]


# -- country, currency, locale and time zone: pickers from Babel's data, checked by the server ------------

@pytest.mark.parametrize(("sent", "stored"), [("de_DE", "de_DE"), ("fr-be", "fr_BE"), ("en_AU", "en_AU"), ("de", "de")])
def test_any_babel_locale_of_a_supported_language_is_accepted(api, config, sent: str, stored: str) -> None:
    response = api.patch("/api/v1/settings", json={"default_locale": sent})
    assert response.status_code == 200, response.text
    assert response.json()["default_locale"] == stored
    assert query(config, "SELECT default_locale FROM business_settings") == [(stored,)]


@pytest.mark.parametrize(("body", "field"), [
    ({"default_locale": "es_ES"}, "default_locale"),
    ({"default_locale": "de_XX"}, "default_locale"),
    ({"default_locale": "en_Shaw"}, "default_locale"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"country": "EU"}, "country"),
    ({"country": "QQ"}, "country"),
])
def test_values_outside_babels_lists_are_refused_naming_the_field(api, config, body: dict[str, str], field: str) -> None:
    before = query(config, "SELECT * FROM business_settings")
    response = api.patch("/api/v1/settings", json=body)
    assert response.status_code == 422, response.text
    assert field in field_errors(response)
    assert query(config, "SELECT * FROM business_settings") == before


def test_a_client_in_an_unknown_country_is_refused(api, config) -> None:
    response = api.post("/api/v1/clients", json={"name": "Nowhere Ltd", "country": "ZZ"})
    assert response.status_code == 422 and "country" in field_errors(response)
    assert query(config, "SELECT COUNT(*) FROM client WHERE name = 'Nowhere Ltd'") == [(0,)]
    response = api.post("/api/v1/clients", json={"name": "Brussels SA", "country": "be", "language": "fr"})
    assert response.status_code == 201, response.text
    assert response.json()["country"] == "BE"


def test_the_forms_offer_the_lists(browser, config) -> None:
    settings = browser.get("/settings").text
    for field, listed in (("country", "country-codes"), ("default_currency", "currency-list"),
                          ("default_locale", "locale-list"), ("time_zone", "time-zone-list")):
        assert re.search(rf'id="f-{field}"[^>]*list="{listed}"', settings, re.S), field
        assert f'<datalist id="{listed}">' in settings
    assert '<option value="fr_BE">French (Belgium)</option>' in settings
    assert '<option value="DE">Germany</option>' in settings
    assert '<option value="Europe/Berlin">' in settings
    assert '<option value="EUR">Euro</option>' in settings
    form = browser.get("/clients/new").text
    assert 'list="country-codes"' in form and 'list="currency-list"' in form
    # A refused form keeps the pickers.
    refused = browser.post("/clients", data={"name": "Nowhere Ltd", "country": "ZZ"})
    assert refused.status_code == 422 and '<datalist id="country-codes">' in refused.text
    assert "Unknown country code" in refused.text


def test_the_e_invoice_names_the_item_and_describes_it(api, config) -> None:
    from tests.http.test_render import IBAN, SELLER_CONTACT, embedded

    response = api.patch("/api/v1/settings", json={
        "name": "Atelier Lumière", "address_line1": "Hauptstraße 5", "postal_code": "10115", "city": "Berlin",
        "country": "DE", "email": "hello@atelier.example", "tax_number": "DE811111111",
        "bank_account_holder": "Atelier Lumière", "bank_iban": IBAN, "bank_bic": "COBADEFFXXX",
        "default_currency": "EUR", **SELLER_CONTACT})
    assert response.status_code == 200, response.text
    buyer = make_client(name="Globex GmbH", language="de", country="DE", address_line1="Ring 1", postal_code="50667",
                        city="Köln", tax_number="DE999999999")
    item = make_item(code="HOST-M", name="Managed hosting", unit="month", unit_price="120.00",
                     description="Backups and monitoring")
    invoice = api.post("/api/v1/invoices", json={"client_id": buyer.id, "currency": "EUR", "lines": [
        {"item_id": item["id"]}]}).json()
    assert api.post(f"/api/v1/invoices/{invoice['id']}/issue").status_code == 200
    xml = embedded(api.get(f"/api/v1/invoices/{invoice['id']}/pdf").content)["files"]["factur-x.xml"]["content"]
    text = xml.decode("utf-8")
    assert "<ram:Name>Managed hosting</ram:Name>" in text
    assert "<ram:Description>Backups and monitoring</ram:Description>" in text
