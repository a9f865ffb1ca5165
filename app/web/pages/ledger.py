"""A client's ledger (page and JSON). Statements and the aging report are app/web/pages/receivables.py."""

from __future__ import annotations

import msgspec
from litestar import Request, get
from litestar.response import Template

from app.clients import service as clients_service
from app.ledger import logic, service
from app.payments import service as payments_service
from app.receivables import service as receivables_service
from app.web.api.ledger_dto import EntryOut, entry_out
from app.web.responses import page


class LedgerOut(msgspec.Struct):
    client_id: int
    currency: str
    balance: str
    standing: str
    entries: list[EntryOut]


@get("/clients/{client_id:int}/ledger")
async def ledger_page(request: Request, client_id: int) -> Template:
    client = await clients_service.get_client(client_id)
    return page(request, "ledger/ledger.html", section="clients", title=f"Ledger of {client.name}", client=client,
                ledgers=await service.ledger(client_id), credits=dict(await payments_service.credits_of(client_id)),
                kinds=logic.KINDS, standing=logic.standing,
                open_invoices=await receivables_service.open_invoices(client_id))


@get("/api/v1/clients/{client_id:int}/ledger", tags=["ledger"])
async def api_ledger(client_id: int) -> list[LedgerOut]:
    """Ledger entries with running balance (one ledger per currency the client was billed in)."""
    await clients_service.get_client(client_id)
    return [LedgerOut(client_id=client_id, currency=account.currency, balance=str(account.balance),
                      standing=logic.standing(account.balance), entries=[entry_out(r) for r in account.rows])
            for account in await service.ledger(client_id)]


ROUTES = [ledger_page, api_ledger]
