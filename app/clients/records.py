"""A client as the clients service returns it: a frozen record, never a raw row. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from app.clients.logic import EDITABLE_FIELDS


@dataclass(frozen=True, slots=True)
class ClientView:
    """One client; the search keys (`search_text`, `search_digits`) stay inside the service."""

    id: int
    code: str
    name: str
    status: str  # active | archived
    contact_name: str
    email: str
    phone: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    region: str
    country: str
    currency: str
    language: str
    tax_number: str
    buyer_reference: str
    notes: str
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    electronic_address_scheme: str = ""  # an EAS code (0208, 9930...), "" when the client has no e-invoice address
    electronic_address: str = ""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ClientView:
        """From a `Client.select()` row (extra columns are left out)."""
        return cls(**{name: row[name] for name in FIELD_NAMES})

    def form_values(self) -> dict[str, str]:
        """The editable fields, as the client form fills its inputs."""
        return {name: getattr(self, name) for name in EDITABLE_FIELDS}

    def as_mapping(self) -> dict[str, Any]:
        """Every field by name, for code that reads a party (the business or a client) as a mapping:
        the printed address blocks and the snapshot frozen on issue."""
        return {name: getattr(self, name) for name in FIELD_NAMES}


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(ClientView))


@dataclass(frozen=True, slots=True)
class ClientCounts:
    active: int
    archived: int


@dataclass(frozen=True, slots=True)
class ClientChoice:
    """A client offered in a select (a list's filter, a form): its id and name, nothing more."""

    id: int
    name: str
