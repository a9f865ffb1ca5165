"""Emails in the client's language (issue 15 point 2): the template of the client's language and of the
document's state, filled in with the client's number and date formatting, through the real SMTP server."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

import pytest
from babel.dates import format_date
from babel.numbers import format_currency

from tests.http.smtp_support import configure, deliver, issued_invoice
from tests.http.support import create_via_api, make_client

# Mail and exports are delivered by the test itself (deliver()), not by the background workers; the smtp
# fixture (a local SMTP server) and this one live in tests/http/conftest.py.
pytestmark = pytest.mark.usefixtures("no_background_delivery")


def _sent(api, smtp, path: str) -> tuple[str, str]:
    response = api.post(path, json={})
    assert response.status_code == 202, response.text
    deliver()
    message = smtp.inbox.messages()[-1]
    return str(message["Subject"]), message.get_body(("plain",)).get_content()


def test_a_french_client_gets_a_french_email_with_french_numbers_and_dates(api, smtp):
    configure(api, smtp)
    client = make_client(name="Boulangerie Dupont", email="compta@dupont.example", contact_name="Claire Dupont",
                         language="fr", country="FR")
    invoice = issued_invoice(api, client)
    subject, body = _sent(api, smtp, f"/api/v1/invoices/{invoice['id']}/send")
    assert subject == f"Facture {invoice['number']} – Atelier Lumière"
    amount = format_currency(Decimal("1200.00"), "CAD", locale="fr_FR")   # 1 200,00 $CA
    due = format_date(date.fromisoformat(invoice["due_date"]), "medium", locale="fr_FR")
    assert "Bonjour Claire Dupont" in body
    assert f"la facture {invoice['number']} d’un montant de {amount}, à régler avant le {due}." in body
    assert "1,200.00" not in body and "Please" not in body


def test_a_german_clients_quote_and_an_english_clients_invoice(api, smtp):
    configure(api, smtp)
    german = make_client(name="Bäckerei Müller", email="buchhaltung@mueller.example", contact_name="Jonas Müller",
                         language="de", country="DE")
    quote = issued_invoice(api, german, path="quotes")
    subject, body = _sent(api, smtp, f"/api/v1/quotes/{quote['id']}/send")
    assert subject == f"Angebot {quote['number']} von Atelier Lumière"
    assert "1.200,00" in body and "gültig bis zum" in body
    english = make_client(email="accounts@maple.example", contact_name="Mia Maple", language="en")
    invoice = issued_invoice(api, english)
    subject, body = _sent(api, smtp, f"/api/v1/invoices/{invoice['id']}/send")
    assert subject == f"Invoice {invoice['number']} from Atelier Lumière" and "due on" in body


def test_a_paid_invoices_email_says_it_is_paid_never_due_on(api, smtp):
    configure(api, smtp)
    for language, paid_words, due_words in (("en", "It is paid in full", "due on"),
                                            ("fr", "Elle est intégralement payée", "avant le"),
                                            ("de", "Sie ist vollständig bezahlt", "zahlbar bis")):
        client = make_client(name=f"Client {language}", email=f"{language}@client.example", language=language)
        invoice = issued_invoice(api, client)
        assert api.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"amount": "1200.00"}).status_code == 201
        subject, body = _sent(api, smtp, f"/api/v1/invoices/{invoice['id']}/send")
        assert paid_words in body and due_words not in body, body
        assert {"en": "(paid)", "fr": "(acquittée)", "de": "(bezahlt)"}[language] in subject


def test_a_partly_paid_invoices_email_says_what_is_left(api, smtp):
    configure(api, smtp)
    client = make_client(email="accounts@maple.example", contact_name="Mia Maple")
    invoice = issued_invoice(api, client)
    assert api.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"amount": "200.00"}).status_code == 201
    subject, body = _sent(api, smtp, f"/api/v1/invoices/{invoice['id']}/send")
    assert subject.endswith("CA$1,000.00 left to pay")
    assert "Thank you for the CA$200.00 received so far: CA$1,000.00 is left to pay" in body


def test_a_credit_notes_email_says_it_is_a_credit(api, smtp):
    configure(api, smtp)
    client = make_client(email="buchhaltung@mueller.example", language="de", country="DE")
    note = issued_invoice(api, client, path="credit-notes")
    subject, body = _sent(api, smtp, f"/api/v1/credit-notes/{note['id']}/send")
    assert subject.startswith("Gutschrift ") and "zu Ihren Gunsten" in body and "nichts bezahlen" in body


def test_an_edited_template_of_one_language_is_used_for_that_languages_clients(api, smtp):
    configure(api, smtp)
    response = api.patch("/api/v1/settings/mail", json={"email_templates_by_language": {"fr": {"invoice": {
        "subject": "Votre facture {number}", "body": "Bonjour {client}, {amount} pour le {due_date}. {business}"}}}})
    assert response.status_code == 200, response.text
    french = make_client(name="Dupont SARL", email="compta@dupont.example", language="fr", country="FR")
    invoice = issued_invoice(api, french)
    subject, body = _sent(api, smtp, f"/api/v1/invoices/{invoice['id']}/send")
    assert subject == f"Votre facture {invoice['number']}"
    amount = format_currency(Decimal("1200.00"), "CAD", locale="fr_FR")
    assert body.startswith(f"Bonjour Dupont SARL, {amount} pour le ") and body.rstrip().endswith("Atelier Lumière")
    english = make_client(email="accounts@maple.example")
    invoice = issued_invoice(api, english)
    subject, _ = _sent(api, smtp, f"/api/v1/invoices/{invoice['id']}/send")
    assert subject.startswith("Invoice ")


def test_an_overdue_invoices_email_says_it_is_overdue_and_what_is_open(api, browser, smtp):
    configure(api, smtp)
    client = make_client(name="Bäckerei Müller", email="buchhaltung@mueller.example", language="de", country="DE")
    invoice = create_via_api(api, "invoices", {
        "client_id": client.id, "currency": "EUR", "issue_date": "2026-01-05", "confirm_date": True,
        "terms_days": 14, "lines": [{"description": "Beratung", "quantity": "2", "unit": "day",
                                     "unit_price": "600.00"}]}, issue=True)
    assert api.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"amount": "200.00"}).status_code == 201
    form = browser.get(f"/documents/{invoice['id']}/send")
    assert "In German, the client's language, from the template “Invoice, overdue”" in html.unescape(form.text)
    subject, body = _sent(api, smtp, f"/api/v1/invoices/{invoice['id']}/send")
    assert subject.endswith(": Zahlung überfällig")
    open_amount = format_currency(Decimal("1000.00"), "EUR", locale="de_DE")   # 1.000,00 € with a no-break space
    assert f"Sie war am 19.01.2026 fällig, offen sind noch {open_amount}." in body
