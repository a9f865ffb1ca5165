"""A client's ledger (page and JSON). Statements and the aging report are app/web/pages/receivables.py."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from app.clients import service as clients_service
from app.common.i18n import _
from app.ledger import logic, service
from app.payments import service as payments_service
from app.receivables import service as receivables_service
from app.web.responses import page


@get("/clients/{client_id:int}/ledger")
async def ledger_page(request: Request, client_id: int) -> Template:
    client = await clients_service.get_client(client_id)
    return page(request, "ledger/ledger.html", section="clients", title=_("Ledger of %(name)s", name=client.name), client=client,
                ledgers=await service.ledger(client_id), credits=dict(await payments_service.credits_of(client_id)),
                kinds=logic.KINDS, standing=logic.standing,
                open_invoices=await receivables_service.open_invoices(client_id))


ROUTES = [ledger_page]
