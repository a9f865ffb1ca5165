"""app.documents.logic.settlement and the status label: a credit note is not a payment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.documents import logic

D = Decimal
TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(("paid", "credited", "expected"), [
    ("0", "0", "none"),
    ("40", "0", "partly_paid"),
    ("100", "0", "paid"),
    ("0", "40", "partly_credited"),
    ("0", "100", "credited"),
    ("30", "40", "partly_paid_and_credited"),
    ("60", "40", "paid_and_credited"),
])
def test_settlement_names_what_settled_the_invoice(paid: str, credited: str, expected: str) -> None:
    assert logic.settlement(D("100"), D(paid), D(credited)) == expected


def test_an_invoice_reduced_by_a_credit_note_reads_partly_credited_not_partly_paid() -> None:
    shown = logic.invoice_status("issued", total=D(100), paid=D(0), credited=D(40), due_date=None, today=TODAY)
    assert shown == "partial"  # the API's status stays as it was
    settled = logic.settlement(D(100), D(0), D(40))
    assert logic.status_label_key(logic.INVOICE, shown, settled) == "Partly credited"
    assert logic.status_css(logic.INVOICE, shown, settled) == "status-credited"


def test_a_wholly_credited_invoice_reads_credited() -> None:
    shown = logic.invoice_status("issued", total=D(100), paid=D(0), credited=D(100), due_date=None, today=TODAY)
    assert shown == "paid"
    assert logic.status_label_key(logic.INVOICE, shown, logic.settlement(D(100), D(0), D(100))) == "Credited"


def test_payments_still_read_paid_and_other_statuses_keep_their_labels() -> None:
    assert logic.status_label_key(logic.INVOICE, "partial", "partly_paid") == "Partly paid"
    assert logic.status_css(logic.INVOICE, "partial", "partly_paid") == "status-partial"
    assert logic.status_label_key(logic.INVOICE, "paid", "paid") == "Paid"
    # Overdue says it is late whatever settled part of it.
    assert logic.status_label_key(logic.INVOICE, "overdue", "partly_credited") == "Overdue"
    assert logic.status_label_key(logic.QUOTE, "expired", "none") == "Expired"
    assert logic.status_label_key(logic.CREDIT_NOTE, "issued", "none") == "Issued"


money = st.integers(min_value=0, max_value=10**9).map(lambda n: D(n) / 100)


@given(total=money, paid=money, credited=money)
def test_settlement_agrees_with_the_balance(total: Decimal, paid: Decimal, credited: Decimal) -> None:
    settled = logic.settlement(total, paid, credited)
    assert settled in logic.SETTLEMENTS
    if settled != "none":
        assert settled.startswith("partly_") == (logic.balance(total, paid, credited) > 0)
        assert ("paid" in settled) == (paid > 0)
        assert ("credited" in settled) == (credited > 0)


# -- "add a new client" from a picker: where the client form may go back to ---------------------------

@pytest.mark.parametrize(("return_to", "expected"), [
    ("/invoices/new", logic.ClientReturn("/invoices/new", "invoice")),
    ("/quotes/new", logic.ClientReturn("/quotes/new", "quote")),
    ("/credit-notes/new", logic.ClientReturn("/credit-notes/new", "credit_note")),
    ("/documents/42/edit", logic.ClientReturn("/documents/42/edit", "", 42)),
    (" /documents/7/edit ", logic.ClientReturn("/documents/7/edit", "", 7)),
])
def test_the_client_form_goes_back_to_a_document_picker(return_to: str, expected: logic.ClientReturn) -> None:
    assert logic.client_return_target(return_to) == expected


@pytest.mark.parametrize("return_to", [
    "", "https://evil.example/invoices/new", "//evil.example/documents/1/edit", "/documents/0/edit",
    "/documents/1/edit?x=1", "/documents/1/edit/../../admin", "/invoices/new\nx", "/payments/new", "/documents/1",
    "/documents/1234567890123/edit", "javascript:alert(1)",
])
def test_any_other_return_to_is_ignored(return_to: str) -> None:
    assert logic.client_return_target(return_to) is None


# -- a line's item name: printed above the description, searched with it ---------------------------

def test_the_description_is_not_repeated_under_a_name_it_only_repeats() -> None:
    assert logic.shown_description("Managed hosting", "Managed hosting") == ""
    assert logic.shown_description("Managed hosting", " Managed hosting ") == ""
    assert logic.shown_description("Managed hosting", "Backups, November") == "Backups, November"
    assert logic.shown_description("", "Setup fee") == "Setup fee"


def test_search_reads_names_and_descriptions() -> None:
    lines = [{"name": "Managed hosting", "description": "Backups"}, {"name": "", "description": "Setup fee"},
             {"description": "Old line without a name"}]
    assert logic.line_texts(lines) == ["Managed hosting", "Backups", "Setup fee", "Old line without a name"]
    assert "managed hosting" in logic.search_text_of("INV-1", "Maple", logic.line_texts(lines))
