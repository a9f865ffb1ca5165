"""Records as the services return them, every field filled, for tests that care about a few fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.clients.records import ClientView

CREATED = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)


def client_view(**fields: Any) -> ClientView:
    values: dict[str, Any] = {
        "id": 1, "code": "C0001", "name": "Maple Bakery", "status": "active", "contact_name": "", "email": "",
        "phone": "", "address_line1": "", "address_line2": "", "postal_code": "", "city": "", "region": "",
        "country": "", "currency": "CAD", "language": "en", "tax_number": "", "buyer_reference": "", "notes": "",
        "created_at": CREATED, "updated_at": CREATED, "archived_at": None,
    }
    return ClientView(**{**values, **fields})
