"""The records the services return (app/<domain>/records.py): built from rows in one place, frozen."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from app.clients.logic import EDITABLE_FIELDS
from app.clients.records import ClientView
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
