"""The JSON shape of a ledger entry, shared by the client's ledger and statement (/api/v1/clients/{id}/...)."""

from __future__ import annotations

from typing import Any

import msgspec

from app.ledger import logic


class EntryOut(msgspec.Struct):
    date: str
    kind: str
    number: str
    description: str
    debit: str
    credit: str
    balance: str
    amount: str
    document_id: int | None
    # The facts the line is worded from on pages and statements (null for entries written before them);
    # `description` is the English record.
    refs: dict[str, Any] | None = None


def entry_out(row: logic.Row) -> EntryOut:
    e = row.entry
    return EntryOut(date=e.entry_date.isoformat(), kind=e.kind, number=e.number, description=e.description,
                    debit=str(e.debit), credit=str(e.credit), balance=str(row.balance), amount=str(e.amount),
                    document_id=e.document_id, refs=dict(e.refs) if e.refs is not None else None)
