"""The records the services return (app/<domain>/records.py): built from rows in one place, frozen."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.clients.logic import EDITABLE_FIELDS
from app.clients.records import ClientView
from app.common.logic import FieldError
from app.documents import logic as documents_logic
from app.documents.logic import clean_line
from app.documents.records import (
    DocumentSummary,
    DocumentView,
    LineView,
    tax_as_json,
    tax_from_json,
    taxes_from_json,
)
from app.payments.records import PaymentView
from tests.records import client_view

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# -- clients ---------------------------------------------------------------------------------

def client_row(**fields: object) -> dict[str, object]:
    """A row as `Client.select()` returns it, search keys included."""
    row = {name: "" for name in EDITABLE_FIELDS}
    row.update(id=7, name="Maple Bakery", code="C0007", status="active", language="en", currency="CAD",
               search_text="maple bakery c0007", search_digits="", created_at=NOW, updated_at=NOW, archived_at=None)
    row.update(fields)
    return row


def test_a_client_is_read_from_its_row_without_the_search_keys():
    client = ClientView.from_row(client_row(email="a@maple.example"))
    assert (client.id, client.name, client.email, client.archived_at) == (7, "Maple Bakery", "a@maple.example", None)
    assert not hasattr(client, "search_text") and "search_text" not in client.as_mapping()


def test_a_client_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        client_view().name = "Renamed"  # type: ignore[misc]


def test_the_client_form_gets_the_editable_fields_only():
    values = ClientView.from_row(client_row(city="Toronto")).form_values()
    assert set(values) == set(EDITABLE_FIELDS) and values["city"] == "Toronto"


def test_as_mapping_holds_every_field_of_the_record():
    client = client_view(country="DE", buyer_reference="991-33333TEST-33")
    mapping = client.as_mapping()
    assert set(mapping) == {f.name for f in dataclasses.fields(ClientView)}
    assert ClientView(**mapping) == client


# -- payments --------------------------------------------------------------------------------

def payment_row(**fields: object) -> dict[str, object]:
    """A row as the payments service selects it: every column, the client's name and the invoice's number."""
    row: dict[str, object] = {
        "id": 3, "client": 7, "client_name": "Maple Bakery", "invoice": 12, "invoice_number": "INV-2026-0001",
        "currency": "JPY", "amount_minor": 1500, "applied_minor": 1200, "excess_minor": 300,
        "payment_date": date(2026, 3, 1), "method": "cash", "reference": "R-1", "note": "", "status": "live",
        "reversal_date": None, "reversal_reason": "", "replaced_by": None, "idempotency_key": "k-1",
        "created_at": NOW, "created_by": 1, "reversed_at": None,
    }
    row.update(fields)
    return row


def test_a_payment_carries_decimal_money_in_its_currencys_minor_unit():
    payment = PaymentView.from_row(payment_row())
    assert (payment.amount, payment.applied, payment.excess) == (Decimal(1500), Decimal(1200), Decimal(300))
    assert (payment.client_id, payment.invoice_id, payment.invoice_number) == (7, 12, "INV-2026-0001")
    euros = PaymentView.from_row(payment_row(currency="EUR", amount_minor=12345, applied_minor=12345, excess_minor=0))
    assert str(euros.amount) == "123.45" and str(euros.excess) == "0.00"
    assert (euros.amount_minor, euros.applied_minor) == (12345, 12345)


def test_a_payment_without_an_invoice_has_no_number():
    payment = PaymentView.from_row(payment_row(invoice=None, invoice_number=None, client_name=None))
    assert (payment.invoice_id, payment.invoice_number, payment.client_name) == (None, None, "")


# -- documents -------------------------------------------------------------------------------

def line_row(**fields: object) -> dict[str, object]:
    """A `document_line` row: exact decimal text, tax codes joined by spaces, the net in minor units."""
    row: dict[str, object] = {"id": 5, "document": 9, "position": 1, "item": 3, "description": "Design",
                              "quantity": "1.5", "unit": "h", "unit_price": "120.00", "discount_percent": "10",
                              "tax_codes": "GST PST", "net_minor": 16200}
    row.update(fields)
    return row


def test_a_line_is_read_from_its_row_once():
    line = LineView.from_row(line_row(), "CAD")
    assert (line.item_id, line.quantity, line.unit_price, line.discount_percent) == \
        (3, Decimal("1.5"), Decimal("120.00"), Decimal(10))
    assert line.taxes == ("GST", "PST") and str(line.net) == "162.00"
    assert LineView.from_row(line_row(tax_codes="", discount_percent=""), "JPY").taxes == ()


@pytest.mark.parametrize("text", ["1.5", "120.00", "0.0125", "1000", "-2", "0", "99999999.9999"])
def test_a_lines_decimals_keep_the_exact_text_they_were_stored_as(text):
    """The API prints `format(value, "f")`: the same characters as the row held."""
    line = LineView.from_row(line_row(quantity=text, unit_price=text, discount_percent=text), "EUR")
    assert format(line.quantity, "f") == format(line.unit_price, "f") == format(line.discount_percent, "f") == text


def test_a_line_as_input_is_what_validation_returns_for_it():
    """Copying a document's lines (duplicate, convert, cancel, a header-only edit) goes through as_input:
    the shape create_document takes and clean_line returns, so a copy is the same line again."""
    line = LineView.from_row(line_row(), "CAD")
    errors: list[FieldError] = []
    assert clean_line(line.as_input(), 0, errors) == line.as_input() and errors == []
    assert documents_logic.as_line(line.as_input()) == documents_logic.Line(
        description="Design", quantity=Decimal("1.5"), unit_price=Decimal("120.00"), discount_percent=Decimal(10),
        tax_codes=("GST", "PST"), unit="h", item_id=3)


def test_a_tax_breakdown_survives_its_json():
    tax = documents_logic.TaxAmount(code="QST", name="QST 9.975 %", rate=Decimal("9.975"), base=Decimal("100.00"),
                                    amount=Decimal("10.47"), compound=True, category="S", note="")
    assert tax_from_json(json.loads(json.dumps(tax_as_json(tax)))) == tax
    old = tax_from_json({"code": "GST", "name": "GST", "rate": "5", "base": "100.00", "amount": "5.00"})
    assert (old.category, old.compound, old.note) == ("S", False, "")
    assert taxes_from_json("") == ()


def document_row(**fields: object) -> dict[str, object]:
    """A row as the documents service selects one: every column, the names of what it refers to."""
    row: dict[str, object] = {
        "id": 9, "doc_type": "invoice", "number": "INV-2026-0009", "status": "issued", "client": 7,
        "client_name": "Maple Bakery", "client_code": "C0007", "currency": "CAD", "issue_date": date(2026, 2, 1),
        "due_date": date(2026, 3, 3), "valid_until": None, "terms_days": 30, "discount_percent": "0", "notes": "",
        "terms": "", "footer": "", "subtotal_minor": 10000, "tax_total_minor": 1300, "total_minor": 11300,
        "paid_minor": 3000, "credited_minor": 0,
        "taxes_json": json.dumps([{"code": "HST", "name": "HST", "rate": "13", "base": "100.00", "amount": "13.00"}]),
        "snapshot_json": json.dumps({"business": {"name": "Studio"}, "client": {"name": "Maple Bakery"}}),
        "invoice": None, "invoice_number": None, "source_quote": 4, "source_quote_number": "QUO-2026-0004",
        "converted_invoice": None, "converted_invoice_number": None, "duplicated_from": None, "cancel_reason": "",
        "search_text": "inv-2026-0009 maple bakery", "issued_at": NOW, "sent_at": None, "cancelled_at": None,
        "decided_at": None, "created_at": NOW, "updated_at": NOW, "created_by": 1,
    }
    row.update(fields)
    return row


def test_a_document_carries_decimal_money_and_the_status_a_user_sees():
    document = DocumentView.from_rows(document_row(), [line_row(net_minor=10000)], date(2026, 4, 1))
    assert (document.total, document.paid, document.balance) == (Decimal("113.00"), Decimal("30.00"), Decimal("83.00"))
    assert document.shown_status == "overdue" and document.status == "issued"
    assert document.taxes[0].rate == Decimal(13) and document.snapshot == {"business": {"name": "Studio"},
                                                                          "client": {"name": "Maple Bakery"}}
    assert (document.client_id, document.source_quote_id, document.source_quote_number) == (7, 4, "QUO-2026-0004")
    assert document.tax_codes() == ["GST", "PST"] and not hasattr(document, "search_text")
    on_time = DocumentView.from_rows(document_row(), [], date(2026, 3, 3))
    assert on_time.shown_status == "partial" and on_time.lines == ()


def test_a_draft_has_no_snapshot_and_a_quote_no_balance():
    quote = DocumentView.from_rows(document_row(doc_type="quote", status="draft", number=None, snapshot_json="",
                                                valid_until=date(2026, 3, 1), due_date=None), [], date(2026, 4, 1))
    assert quote.snapshot is None and quote.balance == Decimal("0.00") and quote.shown_status == "draft"


def test_a_list_row_is_a_summary_with_the_same_rules():
    columns = ("id", "doc_type", "number", "status", "client", "currency", "issue_date", "due_date", "valid_until",
               "subtotal_minor", "tax_total_minor", "total_minor", "paid_minor", "credited_minor", "client_name",
               "invoice", "invoice_number", "created_at")
    row = {name: value for name, value in document_row().items() if name in columns}
    summary = DocumentSummary.from_row(row, date(2026, 4, 1))
    full = DocumentView.from_rows(document_row(), [], date(2026, 4, 1))
    assert summary == DocumentSummary(**{f.name: getattr(full, f.name) for f in dataclasses.fields(DocumentSummary)})
