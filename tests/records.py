"""Records as the services return them, every field filled, for tests that care about a few fields."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from app.clients.records import ClientView
from app.payments.records import PaymentView

CREATED = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)


def client_view(**fields: Any) -> ClientView:
    values: dict[str, Any] = {
        "id": 1, "code": "C0001", "name": "Maple Bakery", "status": "active", "contact_name": "", "email": "",
        "phone": "", "address_line1": "", "address_line2": "", "postal_code": "", "city": "", "region": "",
        "country": "", "currency": "CAD", "language": "en", "tax_number": "", "buyer_reference": "", "notes": "",
        "created_at": CREATED, "updated_at": CREATED, "archived_at": None,
    }
    return ClientView(**{**values, **fields})


def payment_view(**fields: Any) -> PaymentView:
    values: dict[str, Any] = {
        "id": 1, "client_id": 1, "client_name": "Maple Bakery", "invoice_id": None, "invoice_number": None,
        "currency": "CAD", "amount": Decimal("10.00"), "applied": Decimal("10.00"), "excess": Decimal("0.00"),
        "payment_date": date(2026, 1, 4), "method": "bank_transfer", "reference": "", "note": "", "status": "live",
        "reversal_date": None, "reversal_reason": "", "replaced_by": None, "created_at": CREATED, "created_by": None,
        "reversed_at": None,
    }
    return PaymentView(**{**values, **fields})
