"""Append to and read the client ledger; statements and aging."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from piccolo.columns.combination import WhereRaw

from app.common.logic import FieldError, NotFound, ValidationFailed
from app.clients.tables import Client
from app.db.engine import DB, cached
from app.documents.tables import Document
from app.ledger import logic
from app.ledger.tables import LedgerEntry
from app.money import from_minor, round_money


async def append(*, client_id: int, currency: str, entry_date: date, kind: str, debit_minor: int = 0,
                 credit_minor: int = 0, amount_minor: int = 0, document_id: int | None = None,
                 payment_id: int | None = None, number: str = "", description: str = "",
                 actor: int | None = None) -> None:
    """Append one entry. Only inside the writer's transaction, with the change that moves the money."""
    if DB.current_transaction.get() is None:
        raise RuntimeError("ledger entries are written only inside the transaction that moves the money")
    if kind not in logic.KINDS:
        raise ValueError(f"unknown ledger kind {kind}")
    if debit_minor < 0 or credit_minor < 0:
        raise ValueError("ledger amounts are never negative; use the other side")
    await LedgerEntry.insert(LedgerEntry(
        client=client_id, currency=currency, entry_date=entry_date, kind=kind, debit_minor=debit_minor,
        credit_minor=credit_minor, amount_minor=amount_minor, document_id=document_id, payment_id=payment_id,
        number=number or "", description=description or "", at=datetime.now(timezone.utc), actor=actor,
    ))


def _entry(row: dict[str, Any]) -> logic.Entry:
    currency = row["currency"]
    return logic.Entry(entry_date=row["entry_date"], kind=row["kind"], number=row["number"],
                       description=row["description"], debit=from_minor(row["debit_minor"], currency),
                       credit=from_minor(row["credit_minor"], currency), amount=from_minor(row["amount_minor"], currency),
                       document_id=row["document_id"])


async def _rows(client_id: int, currency: str | None = None) -> list[dict[str, Any]]:
    query = LedgerEntry.select().where(LedgerEntry.client == client_id)
    if currency:
        query = query.where(LedgerEntry.currency == currency)
    # Ledger order: by date, then by the order the entries were written.
    return await query.order_by(LedgerEntry.entry_date).order_by(LedgerEntry.id)


async def currencies_of(client_id: int) -> list[str]:
    rows = await LedgerEntry.select(LedgerEntry.currency).distinct().where(LedgerEntry.client == client_id)
    return sorted(r["currency"] for r in rows)


async def ledger(client_id: int) -> dict[str, list[logic.Row]]:
    """Entries with running balance, one ledger per currency the client was billed in."""
    out: dict[str, list[logic.Row]] = {}
    for currency in await currencies_of(client_id):
        out[currency] = logic.running(_entry(r) for r in await _rows(client_id, currency))
    return out


async def balances(client_ids: list[int] | None = None) -> dict[int, list[tuple[str, Decimal]]]:
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
    out: dict[int, list[tuple[str, Decimal]]] = {}
    for row in rows:
        out.setdefault(row["client"], []).append((row["currency"], from_minor(row["balance"] or 0, row["currency"])))
    return out


async def balance(client_id: int, currency: str) -> Decimal:
    rows = await LedgerEntry.raw(
        "SELECT SUM(debit_minor) - SUM(credit_minor) AS balance FROM ledger_entry WHERE client = {} AND currency = {}",
        client_id, currency)
    return from_minor((rows[0]["balance"] if rows else 0) or 0, currency)


async def open_invoices(client_id: int | None = None, currency: str | None = None) -> list[dict[str, Any]]:
    query = Document.select(Document.id, Document.number, Document.client, Document.currency, Document.issue_date,
                            Document.due_date, Document.total_minor, Document.paid_minor, Document.credited_minor,
                            Document.client.name.as_alias("client_name")).where(
        (Document.doc_type == "invoice") & Document.status.is_in(["issued", "sent"])
        & WhereRaw("document.total_minor - document.paid_minor - document.credited_minor > 0"))
    if client_id is not None:
        query = query.where(Document.client == client_id)
    if currency:
        query = query.where(Document.currency == currency)
    rows = await query.order_by(Document.due_date).order_by(Document.id)
    for row in rows:
        row["open"] = from_minor(row["total_minor"] - row["paid_minor"] - row["credited_minor"], row["currency"])
    return rows


async def statement(client_id: int, date_from: date, date_to: date, currency: str | None = None) -> dict[str, Any]:
    if date_to < date_from:
        raise ValidationFailed([FieldError("to", "The end of the period is before its start")])
    client = await Client.select().where(Client.id == client_id).first()
    if client is None:
        raise NotFound(f"Client {client_id}")
    currencies = await currencies_of(client_id)
    currency = currency or (currencies[0] if currencies else client["currency"] or "")
    entries = [_entry(r) for r in await _rows(client_id, currency)]
    opens = [(row["due_date"], row["open"]) for row in await open_invoices(client_id, currency)
             if row["issue_date"] <= date_to]
    result = logic.statement(entries, date_from, date_to, opens)
    if currency:
        # An empty opening or period sums to a bare Decimal(0): give it the currency's decimals ("0.00").
        result = logic.Statement(result.date_from, result.date_to, round_money(result.opening, currency), result.rows,
                                 round_money(result.closing, currency),
                                 {k: round_money(v, currency) for k, v in result.aging.items()})
    return {"client": client, "currency": currency, "currencies": currencies, "statement": result}


async def aging_report(as_of: date) -> list[dict[str, Any]]:
    """Accounts receivable aging across clients, one row per client and currency (cached per data version)."""
    return await cached(("aging", as_of), lambda: _aging_report(as_of))


async def _aging_report(as_of: date) -> list[dict[str, Any]]:
    """Accounts receivable aging across clients, one row per client and currency.

    Summed in SQL (the same buckets as logic.aging_bucket) so that 100,000 open
    invoices never travel into Python.
    """
    open_sql = "(d.total_minor - d.paid_minor - d.credited_minor)"
    days = "(julianday({}) - julianday(d.due_date))"
    rows = await LedgerEntry.raw(
        "SELECT d.client AS client_id, c.name AS client_name, d.currency AS currency, "
        f"SUM(CASE WHEN d.due_date IS NULL OR d.due_date >= {{}} THEN {open_sql} ELSE 0 END) AS b_current, "
        f"SUM(CASE WHEN {days} BETWEEN 1 AND 30 THEN {open_sql} ELSE 0 END) AS b_1_30, "
        f"SUM(CASE WHEN {days} BETWEEN 31 AND 60 THEN {open_sql} ELSE 0 END) AS b_31_60, "
        f"SUM(CASE WHEN {days} BETWEEN 61 AND 90 THEN {open_sql} ELSE 0 END) AS b_61_90, "
        f"SUM(CASE WHEN {days} > 90 THEN {open_sql} ELSE 0 END) AS b_over_90, "
        f"SUM({open_sql}) AS total "
        "FROM document d JOIN client c ON c.id = d.client "
        f"WHERE d.doc_type = 'invoice' AND d.status IN ('issued', 'sent') AND {open_sql} > 0 AND d.issue_date <= {{}} "
        "GROUP BY d.client, d.currency ORDER BY total DESC, c.name",
        *([as_of.isoformat()] * 6))
    keys = dict(zip(logic.AGING_BUCKETS, ("b_current", "b_1_30", "b_31_60", "b_61_90", "b_over_90")))
    return [{"client_id": r["client_id"], "client_name": r["client_name"], "currency": r["currency"],
             "buckets": {name: from_minor(r[key] or 0, r["currency"]) for name, key in keys.items()},
             "total": from_minor(r["total"] or 0, r["currency"])} for r in rows]
