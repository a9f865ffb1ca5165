"""What the payments service returns: frozen records with Decimal money, never raw rows. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.money import from_minor, to_minor


@dataclass(frozen=True, slots=True)
class PaymentView:
    """Money received: amount = applied (to the invoice) + excess (kept as client credit)."""

    id: int
    client_id: int
    client_name: str
    invoice_id: int | None
    invoice_number: str | None
    currency: str
    amount: Decimal
    applied: Decimal
    excess: Decimal
    payment_date: date
    method: str
    reference: str
    note: str
    status: str  # live | reversed
    reversal_date: date | None
    reversal_reason: str
    replaced_by: int | None
    created_at: datetime
    created_by: int | None
    reversed_at: datetime | None
    # Bank charges (app.fx): part of `amount` (what the payment settles) that never arrived.
    fee: Decimal = Decimal(0)
    exchange_rate: Decimal | None = None   # the rate of its day, units per base unit, when foreign

    @property
    def received(self) -> Decimal:
        """What arrived in the bank: the amount settled less the bank's fee."""
        return self.amount - self.fee

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PaymentView:
        """From a `Payment.select()` row with the client's name and the invoice's number joined in."""
        currency = row["currency"]
        return cls(
            id=row["id"], client_id=row["client"], client_name=row.get("client_name") or "",
            invoice_id=row["invoice"], invoice_number=row.get("invoice_number"), currency=currency,
            amount=from_minor(row["amount_minor"], currency), applied=from_minor(row["applied_minor"], currency),
            excess=from_minor(row["excess_minor"], currency), payment_date=row["payment_date"], method=row["method"],
            reference=row["reference"], note=row["note"], status=row["status"], reversal_date=row["reversal_date"],
            reversal_reason=row["reversal_reason"], replaced_by=row["replaced_by"], created_at=row["created_at"],
            created_by=row["created_by"], reversed_at=row["reversed_at"],
            fee=from_minor(row.get("fee_minor") or 0, currency),
            exchange_rate=Decimal(row["exchange_rate"]) if row.get("exchange_rate") else None,
        )

    @property
    def amount_minor(self) -> int:
        return to_minor(self.amount, self.currency)

    @property
    def applied_minor(self) -> int:
        return to_minor(self.applied, self.currency)


@dataclass(frozen=True, slots=True)
class PaymentTotals:
    """The sum of a list's payments in one currency, live and reversed apart."""

    currency: str
    live: Decimal
    reversed: Decimal


@dataclass(frozen=True, slots=True)
class RefundView:
    """Client credit paid back."""

    id: int
    client_id: int
    currency: str
    amount: Decimal
    refund_date: date
    method: str
    reference: str
    note: str
