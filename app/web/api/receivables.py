"""The JSON API of receivables (under /api/v1): its routes and msgspec DTOs."""

from __future__ import annotations

from datetime import date

import msgspec
from litestar import get
from litestar.params import QueryParameter

from app.common.logic import FieldError, ValidationFailed
from app.receivables import service
from app.settings import service as settings_service
from app.web.api.ledger_dto import EntryOut, entry_out


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


class AgingRowOut(msgspec.Struct):
    client_id: int
    client_name: str
    currency: str
    buckets: dict[str, str]
    total: str


@get("/api/v1/clients/{client_id:int}/statement", tags=["ledger"])
async def api_statement(client_id: int, currency: str = "",
                        date_from: date | None = QueryParameter(name="from", default=None),
                        date_to: date | None = QueryParameter(name="to", default=None)) -> StatementOut:
    """Opening balance, entries, closing balance and the aging of open invoices for a period."""
    view = await service.statement(client_id, date_from, date_to, currency or None)
    st = view.statement
    return StatementOut(client_id=client_id, client_name=view.client["name"], currency=view.currency,
                        date_from=st.date_from.isoformat(), date_to=st.date_to.isoformat(),
                        opening_balance=str(st.opening), entries=[entry_out(r) for r in st.rows],
                        closing_balance=str(st.closing), aging={k: str(v) for k, v in st.aging.items()})


@get("/api/v1/reports/aging", tags=["reports"])
async def api_aging(as_of: date | None = None, currency: str = "") -> list[AgingRowOut]:
    """Open balances per client and currency by how far past due; `currency=base`: one row per client in
    the base currency, each invoice at the rate it was issued with (invoices without a rate left out)."""
    as_of = as_of or await settings_service.today()
    if currency == "base":
        rows, _total, _left_out = await service.aging_in_base(as_of)
        return [AgingRowOut(client_id=r.client_id, client_name=r.client_name, currency=r.currency,
                            buckets={k: str(v) for k, v in r.buckets.items()}, total=str(r.total)) for r in rows]
    if currency:
        raise ValidationFailed([FieldError("currency", "currency takes only the value base (or leave it out)")])
    return [AgingRowOut(client_id=r.client_id, client_name=r.client_name, currency=r.currency,
                        buckets={k: str(v) for k, v in r.buckets.items()}, total=str(r.total))
            for r in await service.aging_report(as_of)]


ROUTES = [api_statement, api_aging]
