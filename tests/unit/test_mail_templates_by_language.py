"""Message templates per language and per document state (app.mail.logic, pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.common.logic import ValidationFailed
from app.mail import logic

TODAY = date(2026, 12, 6)


def choose(total: str = "100", paid: str = "0", credited: str = "0", due: date | None = date(2026, 12, 20),
           doc_type: str = "invoice") -> str:
    balance = Decimal(total) - Decimal(paid) - Decimal(credited)
    return logic.choose_template(doc_type, total=Decimal(total), paid=Decimal(paid), credited=Decimal(credited),
                                 balance=balance, due_date=due, today=TODAY)


def test_the_template_follows_the_invoices_state():
    assert choose() == "invoice"
    assert choose(paid="100") == "invoice_paid"
    assert choose(paid="60", credited="40") == "invoice_paid"
    assert choose(paid="150") == "invoice_paid"                    # overpaid: still nothing to pay
    assert choose(paid="30") == "invoice_partly_paid"
    assert choose(credited="30") == "invoice_partly_paid"
    assert choose(due=date(2026, 12, 1)) == "invoice_overdue"
    assert choose(paid="30", due=date(2026, 12, 1)) == "invoice_overdue"
    assert choose(paid="100", due=date(2026, 12, 1)) == "invoice_paid"   # paid late is paid
    assert choose(due=TODAY) == "invoice"                           # due today is not overdue yet
    assert choose(due=None) == "invoice"
    assert choose(doc_type="quote") == "quote" and choose(doc_type="credit_note") == "credit_note"


@given(total=st.integers(1, 10**9), paid=st.integers(0, 10**9), credited=st.integers(0, 10**9),
       days=st.integers(-400, 400))
def test_a_paid_invoice_never_gets_a_template_that_asks_for_money(total, paid, credited, days):
    due = date.fromordinal(TODAY.toordinal() + days)
    kind = choose(str(total), str(paid), str(credited), due)
    if paid + credited >= total:
        assert kind == "invoice_paid"
        for language in logic.LANGUAGES:
            body = logic.DEFAULT_TEMPLATES[language][kind]["body"]
            assert "{due_date}" not in body and "{amount}" not in body
    else:
        assert kind != "invoice_paid"
    amount = logic.message_amount(kind, total=Decimal(total), balance=Decimal(total - paid - credited))
    assert amount == (Decimal(total) if kind == "invoice_paid" else Decimal(total - paid - credited))


def test_every_default_template_exists_in_every_language_with_known_placeholders():
    for language in logic.LANGUAGES:
        assert set(logic.DEFAULT_TEMPLATES[language]) == set(logic.TEMPLATE_KINDS)
        for kind, parts in logic.DEFAULT_TEMPLATES[language].items():
            for part, text in parts.items():
                assert text.strip(), (language, kind, part)
                assert all(p in logic.PLACEHOLDERS for p in logic.placeholders_in(text)), (language, kind, part)
            # the same facts in every language: what the English one says, the others say too
            english = set(logic.placeholders_in(logic.DEFAULT_TEMPLATES["en"][kind]["body"]))
            assert set(logic.placeholders_in(parts["body"])) == english, (language, kind)


def test_placeholders_are_filled_and_an_unknown_one_stays_visible():
    values = {"number": "FA-2026-0007", "amount": "1 200,00 €", "due_date": "5 janv. 2027", "client": "Dupont",
              "business": "Atelier Lumière"}
    text = logic.fill("Facture {number} : {amount} avant le {due_date}, {client} / {business} {oops}", values)
    assert text == "Facture FA-2026-0007 : 1 200,00 € avant le 5 janv. 2027, Dupont / Atelier Lumière {oops}"
    assert logic.fill("{number}{number}", {"number": "{amount}", "amount": "x"}) == "{amount}{amount}"  # one pass


def test_an_unknown_placeholder_is_refused_naming_the_language_the_template_and_the_field():
    with pytest.raises(ValidationFailed) as refused:
        logic.clean_templates_by_language({"de": {"invoice_overdue": {"subject": "Mahnung {nummer}", "body": "x"}},
                                           "fr": {"quote": {"subject": "Devis {number}", "body": "{montant}"}}})
    errors = refused.value.by_field()
    assert set(errors) == {"de_invoice_overdue_subject", "fr_quote_body"}
    assert errors["de_invoice_overdue_subject"].startswith("German invoice, overdue subject: unknown placeholder {nummer}")
    assert errors["fr_quote_body"].startswith("French quote body: unknown placeholder {montant}")
    with pytest.raises(ValidationFailed) as refused:
        logic.clean_templates_by_language({"it": {}})
    assert list(refused.value.by_field()) == ["email_templates_by_language.it"]


def test_saved_templates_before_languages_are_read_as_the_business_language():
    legacy = {"invoice": {"subject": "Facture {number}", "body": ""}}
    by_language = logic.saved_by_language(legacy, "fr")
    assert by_language == {"fr": {"invoice": {"subject": "Facture {number}", "body": ""}}}
    merged = logic.merged_templates(by_language)
    assert merged["fr"]["invoice"]["subject"] == "Facture {number}"
    assert merged["fr"]["invoice"]["body"] == logic.DEFAULT_TEMPLATES["fr"]["invoice"]["body"]  # empty: default
    assert merged["en"]["invoice"] == logic.DEFAULT_TEMPLATES["en"]["invoice"]
    assert logic.saved_by_language({"de": {"quote": {"subject": "A"}}}, "en") == {"de": {"quote": {"subject": "A"}}}
