"""The records the services return (app/<domain>/records.py): built from rows in one place, frozen."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.clients.logic import EDITABLE_FIELDS
from app.clients.records import ClientView
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
