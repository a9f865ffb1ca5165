"""The books: append entries to a client's ledger and read it back (entries, running balances, balances).

What the ledger means for open invoices (statements, aging) is app.receivables."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from app.common.i18n import _
from app.db.engine import require_write_transaction
from app.ledger import logic
from app.ledger.tables import LedgerEntry
from app.money import from_minor


async def append(*, client_id: int, currency: str, entry_date: date, kind: str, debit_minor: int = 0,
                 credit_minor: int = 0, amount_minor: int = 0, document_id: int | None = None,
                 payment_id: int | None = None, number: str = "", description: str = "",
                 refs: Mapping[str, Any] | None = None, actor: int | None = None) -> None:
    """Append one entry. Only inside the writer's transaction, with the change that moves the money.

    `description`: the English line kept as the record; `refs`: the facts it is worded from when shown,
    in the reader's language (logic.line_text)."""
    require_write_transaction("a ledger entry")
    if kind not in logic.KINDS:
        raise ValueError(_("unknown ledger kind %(kind)s", kind=kind))
    if debit_minor < 0 or credit_minor < 0:
        raise ValueError(_("ledger amounts are never negative; use the other side"))
    await LedgerEntry.insert(LedgerEntry(
        client=client_id, currency=currency, entry_date=entry_date, kind=kind, debit_minor=debit_minor,
        credit_minor=credit_minor, amount_minor=amount_minor, document_id=document_id, payment_id=payment_id,
        number=number or "", description=description or "", refs=logic.refs_json(refs), at=datetime.now(UTC),
        actor=actor,
    ))


async def memos_of_payment(payment_id: int, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    """A payment's memo entries of the given kinds (app.fx: exchange gain or loss, bank fee)."""
    return await LedgerEntry.select().where((LedgerEntry.payment_id == payment_id) & LedgerEntry.kind.is_in(list(kinds)))


async def memo_sums(kinds: tuple[str, ...], date_from: date, date_to: date) -> list[dict[str, Any]]:
    """Memo entries of the given kinds dated in a period, summed per day, kind and currency (the P&L)."""
    return await LedgerEntry.raw(
        "SELECT entry_date, kind, currency, SUM(amount_minor) AS amount_minor FROM ledger_entry"
        " WHERE kind IN (" + ", ".join("{}" for _ in kinds) + ") AND entry_date >= {} AND entry_date <= {}"
        " GROUP BY entry_date, kind, currency ORDER BY entry_date", *kinds, date_from, date_to)


def _entry(row: dict[str, Any]) -> logic.Entry:
    currency = row["currency"]
    return logic.Entry(entry_date=row["entry_date"], kind=row["kind"], number=row["number"],
                       description=row["description"], debit=from_minor(row["debit_minor"], currency),
                       credit=from_minor(row["credit_minor"], currency), amount=from_minor(row["amount_minor"], currency),
                       document_id=row["document_id"], currency=currency, refs=logic.refs_of(row.get("refs")))


async def entries(client_id: int, currency: str) -> list[logic.Entry]:
    """A client's entries in one currency, in ledger order: by date, then in the order they were written."""
    rows = await LedgerEntry.select().where((LedgerEntry.client == client_id) & (LedgerEntry.currency == currency)
                                            ).order_by(LedgerEntry.entry_date).order_by(LedgerEntry.id)
    return [_entry(row) for row in rows]


async def currencies_of(client_id: int) -> list[str]:
    rows = await LedgerEntry.select(LedgerEntry.currency).distinct().where(LedgerEntry.client == client_id)
    return sorted(r["currency"] for r in rows)


async def ledger(client_id: int) -> list[logic.CurrencyLedger]:
    """Entries with running balance, one ledger per currency the client was billed in."""
    return [logic.CurrencyLedger(currency, tuple(logic.running(await entries(client_id, currency))))
            for currency in await currencies_of(client_id)]


async def balances(client_ids: list[int] | None = None) -> dict[int, list[logic.Balance]]:
    """Balance per client and currency, summed in SQL as integers."""
    where = ""
    args: list[Any] = []
    if client_ids is not None:
        if not client_ids:
            return {}
        where = "WHERE client IN (" + ", ".join("{}" for _ in client_ids) + ")"
        args = list(client_ids)
    rows = await LedgerEntry.raw(
        f"SELECT client, currency, SUM(debit_minor) - SUM(credit_minor) AS balance FROM ledger_entry {where} "
        "GROUP BY client, currency ORDER BY client, currency", *args)
    out: dict[int, list[logic.Balance]] = {}
    for row in rows:
        out.setdefault(row["client"], []).append(
            logic.Balance(row["currency"], from_minor(row["balance"] or 0, row["currency"])))
    return out
