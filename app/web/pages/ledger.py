"""A client's ledger and statement (page and JSON), and the receivables aging report."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from litestar import Request, get
from litestar.params import QueryParameter
from litestar.response import Template

from app.clients import service as clients_service
from app.common.logic import FieldError, ValidationFailed
from app.documents import service as documents_service
from app.ledger import logic, service
from app.payments import service as payments_service
from app.web.responses import page, page_params


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


class LedgerOut(msgspec.Struct):
    client_id: int
    currency: str
    balance: str
    standing: str
    entries: list[EntryOut]


class StatementOut(msgspec.Struct):
    client_id: int
    client_name: str
    currency: str
    date_from: str
    date_to: str
    opening_balance: str
    entries: list[EntryOut]
    closing_balance: str
    aging: dict[str, str]


class AgingRow(msgspec.Struct):
    client_id: int
    client_name: str
    currency: str
    buckets: dict[str, str]
    total: str


def _entry_out(row: logic.Row) -> EntryOut:
    e = row.entry
    return EntryOut(date=e.entry_date.isoformat(), kind=e.kind, number=e.number, description=e.description,
                    debit=str(e.debit), credit=str(e.credit), balance=str(row.balance), amount=str(e.amount),
                    document_id=e.document_id)


async def _period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    today = await documents_service.today()
    date_to = date_to or today
    date_from = date_from or date(date_to.year, 1, 1)
    if date_to < date_from:
        raise ValidationFailed([FieldError("to", "The end of the period is before its start")])
    return date_from, date_to


@get("/clients/{client_id:int}/ledger")
async def ledger_page(request: Request, client_id: int) -> Template:
    client = await clients_service.get_client(client_id)
    ledgers = await service.ledger(client_id)
    return page_(request, "ledger/ledger.html", title=f"Ledger of {client.name}", client=client, ledgers=ledgers,
                 credits=dict(await payments_service.credits_of(client_id)), kinds=logic.KINDS,
                 standing=logic.standing, open_invoices=await service.open_invoices(client_id))


@get("/clients/{client_id:int}/statement")
async def statement_page(request: Request, client_id: int, currency: str = "",
                         date_from: date | None = QueryParameter(name="from", default=None),
                         date_to: date | None = QueryParameter(name="to", default=None)) -> Template:
    date_from, date_to = await _period(date_from, date_to)
    data = await service.statement(client_id, date_from, date_to, currency or None)
    return page_(request, "ledger/statement.html", title=f"Statement, {data['client']['name']}", data=data,
                 kinds=logic.KINDS, buckets=logic.AGING_BUCKETS)


@get("/reports/aging")
async def aging_page(request: Request, as_of: date | None = None,
                     page_number: int = QueryParameter(name="page", default=1)) -> Template:
    """The most overdue clients first, a page at a time; the totals are those of every client."""
    today = await documents_service.today()
    as_of = as_of or today
    result = await service.aging_page(as_of, page_params(page_number, logic.AGING_PAGE))
    return page_(request, "ledger/aging.html", title="Receivables aging", result=result, as_of=as_of,
                 buckets=logic.AGING_BUCKETS, totals=result.extra["totals"], section="reports",
                 params={"as_of": as_of.isoformat() if as_of != today else ""})


def page_(request: Request, template: str, *, section: str = "clients", **context: Any) -> Template:
    return page(request, template, section=section, **context)


@get("/api/v1/clients/{client_id:int}/ledger", tags=["ledger"])
async def api_ledger(client_id: int) -> list[LedgerOut]:
    """Ledger entries with running balance (one ledger per currency the client was billed in)."""
    await clients_service.get_client(client_id)
    out = []
    for currency, rows in (await service.ledger(client_id)).items():
        balance = rows[-1].balance if rows else Decimal(0)
        out.append(LedgerOut(client_id=client_id, currency=currency, balance=str(balance),
                             standing=logic.standing(balance), entries=[_entry_out(r) for r in rows]))
    return out


@get("/api/v1/clients/{client_id:int}/statement", tags=["ledger"])
async def api_statement(client_id: int, currency: str = "",
                        date_from: date | None = QueryParameter(name="from", default=None),
                        date_to: date | None = QueryParameter(name="to", default=None)) -> StatementOut:
    """Opening balance, entries, closing balance and the aging of open invoices for a period."""
    date_from, date_to = await _period(date_from, date_to)
    data = await service.statement(client_id, date_from, date_to, currency or None)
    st = data["statement"]
    return StatementOut(client_id=client_id, client_name=data["client"]["name"], currency=data["currency"],
                        date_from=date_from.isoformat(), date_to=date_to.isoformat(), opening_balance=str(st.opening),
                        entries=[_entry_out(r) for r in st.rows], closing_balance=str(st.closing),
                        aging={k: str(v) for k, v in st.aging.items()})


@get("/api/v1/reports/aging", tags=["reports"])
async def api_aging(as_of: date | None = None) -> list[AgingRow]:
    as_of = as_of or await documents_service.today()
    return [AgingRow(client_id=r["client_id"], client_name=r["client_name"], currency=r["currency"],
                     buckets={k: str(v) for k, v in r["buckets"].items()}, total=str(r["total"]))
            for r in await service.aging_report(as_of)]


ROUTES = [ledger_page, statement_page, aging_page, api_ledger, api_statement, api_aging]
