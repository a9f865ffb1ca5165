"""Ledger and statement lines in the reader's language (issue 15 point 2): an entry keeps its kind and its
references and is worded when shown: the statement PDF in the client's language, the pages in the user's."""

from __future__ import annotations

import subprocess

import pytest

from tests.http.smtp_support import configure, deliver, issued_invoice
from tests.http.support import make_client


def text_of(pdf: bytes) -> str:
    """The PDF's words in reading order (poppler's pdftotext -raw: a wrapped cell stays in one piece)."""
    result = subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True)
    return result.stdout.decode("utf-8")


# Mail and exports are delivered by the test itself (deliver()), not by the background workers; the smtp
# fixture (a local SMTP server) and this one live in tests/http/conftest.py.
pytestmark = pytest.mark.usefixtures("no_background_delivery")


def _movements(api, client) -> dict:
    invoice = issued_invoice(api, client)
    paid = api.post(f"/api/v1/invoices/{invoice['id']}/payments",
                    json={"amount": "1300.00", "reference": "SEPA 42", "keep_excess_as_credit": True})
    assert paid.status_code == 201, paid.text
    refund = api.post(f"/api/v1/clients/{client.id}/refunds", json={"currency": "CAD", "amount": "40.00",
                                                                    "method": "cheque"})
    assert refund.status_code == 201, refund.text
    return invoice


def _statement(api, client) -> str:
    response = api.get(f"/api/v1/clients/{client.id}/statement.pdf")
    assert response.status_code == 200, response.text
    return " ".join(text_of(response.content).replace("\xa0", " ").replace("\u202f", " ").split())


def test_a_german_clients_statement_pdf_has_german_lines(api):
    client = make_client(name="Bäckerei Müller", language="de", country="DE", code="BM-1")
    invoice = _movements(api, client)
    text = _statement(api, client)
    assert "Kontoauszug" in text
    assert f"Rechnung {invoice['number']}" in text
    # The type and number have their columns: a payment's line says how it was paid.
    assert f"Zahlung {invoice['number']} Überweisung (SEPA 42); 100,00 CA$ als Guthaben verbucht" in text
    assert "Erstattung von Guthaben, Scheck" in text
    assert "Payment" not in text and "Bank transfer" not in text and "Refund" not in text


def test_a_french_clients_statement_email_and_pdf_are_french(api, smtp):
    configure(api, smtp)
    client = make_client(name="Boulangerie Dupont", email="compta@dupont.example", language="fr", country="FR")
    invoice = _movements(api, client)
    response = api.post(f"/api/v1/clients/{client.id}/statement/send", json={})
    assert response.status_code == 202, response.text
    assert response.json()["subject"] == "Relevé de compte – Atelier Lumière"
    deliver()
    [message] = smtp.inbox.messages()
    body = message.get_body(("plain",)).get_content()
    assert "Veuillez trouver ci-joint votre relevé de compte" in body and "Le solde s’élève à" in body
    [attachment] = list(message.iter_attachments())
    text = " ".join(text_of(attachment.get_content()).replace("\xa0", " ").replace("\u202f", " ").split())
    assert f"Facture {invoice['number']}" in text and "Virement (SEPA 42)" in text
    assert "Remboursement du crédit client, chèque" in text


def test_the_pages_word_the_lines_in_the_users_language_and_the_api_keeps_the_record(api, browser):
    client = make_client(name="Bäckerei Müller", language="de", country="DE")
    invoice = _movements(api, client)
    ledger = browser.get(f"/clients/{client.id}/ledger")
    assert ledger.status_code == 200
    assert f"Invoice {invoice['number']}" in ledger.text            # the English-speaking user reads English
    assert "Payment, Bank transfer (SEPA 42); 100.00 CAD kept as credit" in ledger.text
    statement = browser.get(f"/clients/{client.id}/statement")
    assert "Refund of client credit, Cheque" in statement.text
    body = api.get(f"/api/v1/clients/{client.id}/ledger").json()
    entries = [entry for found in (body if isinstance(body, list) else body.get("ledgers", body.get("currencies", [])))
               for entry in found["entries"]]
    payment = next(e for e in entries if e["kind"] == "payment")
    assert payment["description"] == "Payment, Bank transfer (SEPA 42); 100.00 CAD kept as credit"  # the record
    assert payment["refs"] == {"method": "bank_transfer", "reference": "SEPA 42", "excess_minor": 10000}
