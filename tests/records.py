"""Records as the services return them, every field filled, for tests that care about a few fields."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from app.clients.records import ClientView
from app.documents.records import DocumentView, LineView
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


def line_view(**fields: Any) -> LineView:
    values: dict[str, Any] = {
        "position": 1, "item_id": None, "description": "Design", "quantity": Decimal(1), "unit": "",
        "unit_price": Decimal("100.00"), "discount_percent": Decimal(0), "taxes": (), "net": Decimal("100.00"),
    }
    return LineView(**{**values, **fields})


def document_view(**fields: Any) -> DocumentView:
    """An issued invoice of one line (100.00 CAD, untaxed) unless told otherwise."""
    values: dict[str, Any] = {
        "id": 2, "doc_type": "invoice", "number": "INV-2026-0001", "status": "issued", "shown_status": "issued",
        "client_id": 1, "client_name": "Maple Bakery", "currency": "CAD", "issue_date": date(2026, 1, 3),
        "due_date": date(2026, 2, 2), "valid_until": None, "subtotal": Decimal("100.00"),
        "tax_total": Decimal("0.00"), "total": Decimal("100.00"), "paid": Decimal("0.00"),
        "credited": Decimal("0.00"), "balance": Decimal("100.00"), "invoice_id": None, "invoice_number": None,
        "created_at": CREATED, "client_code": "C0001", "terms_days": 30, "discount_percent": Decimal(0),
        "notes": "", "terms": "", "footer": "", "lines": (line_view(),), "taxes": (), "snapshot": None,
        "source_quote_id": None, "source_quote_number": None, "converted_invoice_id": None,
        "converted_invoice_number": None, "duplicated_from": None, "cancel_reason": "", "issued_at": CREATED,
        "sent_at": None, "cancelled_at": None, "decided_at": None, "updated_at": CREATED, "created_by": None,
    }
    return DocumentView(**{**values, **fields})
