"""The JSON API of ledger (under /api/v1): its routes and msgspec DTOs."""

from __future__ import annotations

import msgspec
from litestar import get

from app.clients import service as clients_service
from app.ledger import logic, service
from app.web.api.ledger_dto import EntryOut, entry_out


class LedgerOut(msgspec.Struct):
    client_id: int
    currency: str
    balance: str
    standing: str
    entries: list[EntryOut]


@get("/api/v1/clients/{client_id:int}/ledger", tags=["ledger"])
async def api_ledger(client_id: int) -> list[LedgerOut]:
    """Ledger entries with running balance (one ledger per currency the client was billed in)."""
    await clients_service.get_client(client_id)
    return [LedgerOut(client_id=client_id, currency=account.currency, balance=str(account.balance),
                      standing=logic.standing(account.balance), entries=[entry_out(r) for r in account.rows])
            for account in await service.ledger(client_id)]


ROUTES = [api_ledger]
