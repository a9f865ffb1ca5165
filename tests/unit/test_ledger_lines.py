"""Ledger lines worded from an entry's kind and references (app.ledger.logic.line_text), pure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.ledger import logic
from app.render.logic import LABELS, LINE_LABELS


def words(kind: str, refs: dict | None, *, number: str = "INV-7", language: str = "en",
          description: str = "stored text") -> str:
    labels = LABELS[language]
    return logic.line_text(kind, number, refs, description,
                           phrase=lambda key: labels.get(f"line_{key}") or logic.LINE_PHRASES[key],
                           money=lambda minor: f"{minor / 100:.2f} €", day=lambda text: f"<{text}>")


def test_an_entry_written_before_references_reads_as_its_stored_description():
    assert words("payment", None, description="Payment, Bank transfer") == "Payment, Bank transfer"
    assert logic.refs_of("") is None and logic.refs_of("not json") is None and logic.refs_of("[1]") is None
    assert logic.refs_of(logic.refs_json({})) == {}


@pytest.mark.parametrize(("kind", "refs", "english", "german"), [
    ("invoice", {}, "Invoice INV-7", "Rechnung INV-7"),
    ("credit_note", {"on_account": True}, "Credit note INV-7 (on account)", "Gutschrift INV-7 (als Guthaben)"),
    ("payment", {"method": "bank_transfer", "reference": "SEPA 42", "excess_minor": 500},
     "Payment, Bank transfer (SEPA 42); 5.00 € kept as credit",
     "Zahlung, Überweisung (SEPA 42); 5.00 € als Guthaben verbucht"),
    ("reversal", {"payment_date": "2026-03-10", "reason": "bounced"}, "Payment of <2026-03-10> reversed: bounced",
     "Zahlung vom <2026-03-10> storniert: bounced"),
    ("credit_applied", {"amount_minor": 1250}, "12.50 € of client credit applied to INV-7",
     "12.50 € Guthaben mit INV-7 verrechnet"),
    ("refund", {"method": "cheque", "reference": ""}, "Refund of client credit, Cheque",
     "Erstattung von Guthaben, Scheck"),
    ("reminder_charge", {"title": "1. Mahnung", "invoices": "INV-1, INV-2", "fee_minor": 500, "interest_minor": 12},
     "1. Mahnung INV-7 (INV-1, INV-2): fee 5.00 €, interest 0.12 €",
     "1. Mahnung INV-7 (INV-1, INV-2): Gebühr 5.00 €, Zinsen 0.12 €"),
    ("reminder_cancelled", {"title": "Reminder", "reason": ""}, "Reminder INV-7 cancelled", "Reminder INV-7 storniert"),
    ("charge_payment", {"method": "cash", "reference": "R-1"}, "Payment of the fee and interest of INV-7, Cash (R-1)",
     "Zahlung von Gebühr und Zinsen zu INV-7, bar (R-1)"),
])
def test_every_kind_is_worded_in_the_readers_language(kind, refs, english, german):
    assert kind in logic.KINDS
    assert words(kind, refs) == english
    assert words(kind, refs, language="de") == german
    assert words(kind, refs, language="fr") not in (english, "stored text")


def test_every_phrase_has_its_french_and_german_with_the_same_placeholders():
    import string

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for language, lines in LINE_LABELS.items():
        assert set(lines) == set(logic.LINE_PHRASES), language
        for key, text in lines.items():
            assert fields(text) == fields(logic.LINE_PHRASES[key]), (language, key)


def test_an_entry_on_a_page_is_worded_with_gettext():
    entry = logic.Entry(entry_date=date(2026, 3, 10), kind="payment", number="INV-7", description="old words",
                        debit=Decimal(0), credit=Decimal("10.00"), currency="EUR",
                        refs={"method": "card", "reference": "", "excess_minor": 0})
    assert entry.text == "Payment, Card"
    assert logic.Entry(entry_date=date(2026, 3, 10), kind="payment", number="", description="old words",
                       debit=Decimal(0), credit=Decimal(0)).text == "old words"
