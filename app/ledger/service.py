"""Append to and read the client ledger; statements and aging."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from piccolo.columns.combination import WhereRaw

from app.clients.tables import Client
from app.common.logic import FieldError, NotFound, Page, PageOf, ValidationFailed
from app.db.engine import cached, require_write_transaction
from app.documents.tables import Document
from app.ledger import logic
from app.ledger.tables import LedgerEntry
from app.money import from_minor, round_money


async def append(*, client_id: int, currency: str, entry_date: date, kind: str, debit_minor: int = 0,
                 credit_minor: int = 0, amount_minor: int = 0, document_id: int | None = None,
                 payment_id: int | None = None, number: str = "", description: str = "",
                 actor: int | None = None) -> None:
    """Append one entry. Only inside the writer's transaction, with the change that moves the money."""
    require_write_transaction("a ledger entry")
    if kind not in logic.KINDS:
        raise ValueError(f"unknown ledger kind {kind}")
    if debit_minor < 0 or credit_minor < 0:
        raise ValueError("ledger amounts are never negative; use the other side")
    await LedgerEntry.insert(LedgerEntry(
        client=client_id, currency=currency, entry_date=entry_date, kind=kind, debit_minor=debit_minor,
        credit_minor=credit_minor, amount_minor=amount_minor, document_id=document_id, payment_id=payment_id,
        number=number or "", description=description or "", at=datetime.now(UTC), actor=actor,
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
    """Accounts receivable aging across clients, one row per client and currency, the largest total first
    (every row: the API and the accountant's CSV)."""
    rows = sorted(await _aging_rows(as_of), key=lambda r: (-r["total"], r["client_name"]))
    return [_aging_row(row) for row in rows]


async def aging_page(as_of: date, page: Page) -> PageOf:
    """One page of the aging report, the most overdue clients first, with the totals of every row."""
    rows = await _aging_rows(as_of)
    totals = await cached(("aging-totals", as_of), lambda: _aging_totals(rows))
    return PageOf(items=[_aging_row(row) for row in rows[page.offset:page.offset + page.per_page]], total=len(rows),
                  page=page, extra={"totals": totals})


async def _aging_totals(rows: list[dict[str, Any]]) -> dict[str, dict[str, Decimal]]:
    sums: dict[str, list[int]] = {}
    for row in rows:
        add = sums.setdefault(row["currency"], [0] * (len(_AGING_KEYS) + 1))
        for index, key in enumerate((*_AGING_KEYS.values(), "total")):
            add[index] += row[key] or 0
    return {currency: {name: from_minor(minor, currency) for name, minor in zip((*_AGING_KEYS, "total"), values, strict=False)}
            for currency, values in sorted(sums.items())}


_AGING_KEYS = dict(zip(logic.AGING_BUCKETS, ("b_current", "b_1_30", "b_31_60", "b_61_90", "b_over_90"), strict=False))


def _aging_row(row: dict[str, Any]) -> dict[str, Any]:
    currency = row["currency"]
    return {"client_id": row["client_id"], "client_name": row["client_name"], "currency": currency,
            "buckets": {name: from_minor(row[key] or 0, currency) for name, key in _AGING_KEYS.items()},
            "total": from_minor(row["total"] or 0, currency)}


async def _aging_rows(as_of: date) -> list[dict[str, Any]]:
    """Open invoice balances per client and currency and bucket, in minor units, the most overdue first:
    the largest amount more than 90 days past due, then 61-90, and so on, then the largest total
    (cached per data version)."""
    return await cached(("aging", as_of), lambda: _aging_query(as_of))


async def _aging_query(as_of: date) -> list[dict[str, Any]]:
    """Summed and ordered in SQL (the same edges as logic.aging_bucket, as due-date comparisons) over the
    partial index of open invoices: 100,000 open invoices never travel into Python, and paid ones are not read."""
    open_sql = "(total_minor - paid_minor - credited_minor)"
    day30, day60, day90, day0 = (day.isoformat() for day in logic.aging_starts(as_of))
    return await LedgerEntry.raw(
        "SELECT a.*, c.name AS client_name FROM ("
        " SELECT client AS client_id, currency,"
        f" SUM(CASE WHEN due_date IS NULL OR due_date >= {{}} THEN {open_sql} ELSE 0 END) AS b_current,"
        f" SUM(CASE WHEN due_date < {{}} AND due_date >= {{}} THEN {open_sql} ELSE 0 END) AS b_1_30,"
        f" SUM(CASE WHEN due_date < {{}} AND due_date >= {{}} THEN {open_sql} ELSE 0 END) AS b_31_60,"
        f" SUM(CASE WHEN due_date < {{}} AND due_date >= {{}} THEN {open_sql} ELSE 0 END) AS b_61_90,"
        f" SUM(CASE WHEN due_date < {{}} THEN {open_sql} ELSE 0 END) AS b_over_90,"
        f" SUM({open_sql}) AS total"
        " FROM document INDEXED BY document_open_invoice"
        " WHERE doc_type = 'invoice' AND status IN ('issued', 'sent') AND total_minor - paid_minor - credited_minor > 0"
        " AND issue_date <= {}"
        " GROUP BY client, currency"
        ") a JOIN client c ON c.id = a.client_id"
        " ORDER BY a.b_over_90 DESC, a.b_61_90 DESC, a.b_31_60 DESC, a.b_1_30 DESC, a.total DESC, c.name, c.id",
        day0, day0, day30, day30, day60, day60, day90, day90, day0)
