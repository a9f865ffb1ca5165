"""Each user reads the pages in their language and writes numbers as their locale does (issue 15).

A German user sees German pages and German numbers, and the 1.200,50 they type is stored as 1200.50; the
API stays English unless Accept-Language asks; the language is chosen on the account page.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import run
from tests.http.support import count, make_client, query
from tests.http.test_documents_pages import draft, editor_form, form_line, line


@pytest.fixture
def client(config):
    from app.taxes import service

    run(service.apply_preset("germany"))
    return make_client(name="Müller GmbH", address_line1="Hauptstraße 1", city="Berlin", country="DE", currency="EUR",
                       language="de")


def choose(browser, language: str):
    return browser.post("/account/language", data={"language": language}, follow_redirects=False)


def test_a_new_user_reads_english_pages_in_the_canadian_format(browser, config, client) -> None:
    invoice = draft("invoice", client, line("Beratung", "2", "617.25"))
    page = browser.get(f"/documents/{invoice.id}").text
    assert "Bill to" in page and "1,234.50" in page and 'lang="en-CA"' in page


def test_a_german_user_sees_german_pages_dates_and_numbers(browser, config, client) -> None:
    response = choose(browser, "de_DE")
    assert response.status_code == 303
    assert query(config, "SELECT language FROM app_user") == [("de_DE",)]
    invoice = draft("invoice", client, line("Beratung", "2", "617.25"), issue_date=date(2026, 12, 5),
                    backdate=True)
    page = browser.get(f"/documents/{invoice.id}").text
    assert "Rechnung an" in page and "Entwurf" in page and "Bill to" not in page
    assert "1.234,50" in page and "05.12.2026" in page
    assert "Kunden" in browser.get("/clients").text
    assert "Sprache gespeichert." in browser.get("/account").text or "Sprache" in browser.get("/account").text


def test_a_german_user_types_german_numbers_and_they_are_stored_exactly(browser, config, client) -> None:
    choose(browser, "de")
    document = draft("invoice", client)
    form = editor_form(document, form_line(0, "Beratung", "1,5", "1.200,50"), discount_percent="2,5")
    response = browser.post(f"/documents/{document.id}/edit", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text[:3000]
    assert query(config, "SELECT quantity, unit_price FROM document_line WHERE document = ?", document.id) == [
        ("1.5", "1200.5")] or query(config, "SELECT CAST(quantity AS TEXT), CAST(unit_price AS TEXT) FROM document_line "
                                            "WHERE document = ?", document.id)[0][1] in ("1200.5", "1200.50")
    editor = browser.get(f"/documents/{document.id}/edit").text
    assert 'value="1200,50"' in editor or 'value="1200,5"' in editor, "the editor shows the price as typed back"


def test_an_ambiguous_german_number_is_refused_showing_both_readings(browser, config, client) -> None:
    choose(browser, "de")
    document = draft("invoice", client)
    before = count(config, "document_line")
    form = editor_form(document, form_line(0, "Beratung", "1", "1.200"))
    response = browser.post(f"/documents/{document.id}/edit", data=form)
    assert response.status_code == 422
    assert "1.200" in response.text and "1200" in response.text and "1,2" in response.text
    assert count(config, "document_line") == before


def test_a_french_user_types_spaces_between_thousands(browser, config, client) -> None:
    choose(browser, "fr")
    document = draft("invoice", client)
    form = editor_form(document, form_line(0, "Conseil", "1", "1 200,50"))
    response = browser.post(f"/documents/{document.id}/edit", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text[:3000]
    page = browser.get(f"/documents/{document.id}").text
    assert "Facture" in page and "1\u202f200,50" in page


def test_an_english_user_refuses_a_decimal_comma_and_says_how_it_read_it(browser, config, client) -> None:
    document = draft("invoice", client)
    form = editor_form(document, form_line(0, "Consulting", "1", "12,5"))
    response = browser.post(f"/documents/{document.id}/edit", data=form)
    assert response.status_code == 422
    assert "did you mean 12.5?" in response.text


def test_a_bad_language_is_refused_and_nothing_changes(browser, config) -> None:
    for wanted in ("es", "xx_YY", "de" * 20):
        response = choose(browser, wanted)
        assert response.status_code == 422
        assert "Language must be a locale" in response.text
    assert query(config, "SELECT language FROM app_user") == [(None,)]


def test_going_back_to_the_business_default(browser, config) -> None:
    choose(browser, "fr")
    assert "Votre compte" in browser.get("/account").text
    choose(browser, "")
    assert query(config, "SELECT language FROM app_user") == [(None,)]
    assert "Your account" in browser.get("/account").text


def test_the_business_locale_is_everyones_default(browser, config) -> None:
    from app.settings import service

    run(service.update_settings({"default_locale": "de_AT"}))
    page = browser.get("/clients").text
    assert "Kunden" in page


def test_the_api_answers_in_english_unless_accept_language_asks(api, config) -> None:
    body = {"name": ""}
    english = api.post("/api/v1/clients", json=body)
    assert english.status_code == 422 and "Name is required" in english.text
    german = api.post("/api/v1/clients", json=body, headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert german.status_code == 422 and "Name ist erforderlich" in german.text, german.text
    # numbers in the API stay plain decimals whatever the language asked
    refused = api.post("/api/v1/items", json={"code": "X", "name": "X", "unit_price": "1.200,50"},
                       headers={"Accept-Language": "de"})
    assert refused.status_code in (400, 422) and "unit_price" in refused.text
