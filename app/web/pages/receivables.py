"""What clients owe: a client's statement (page and JSON) and the receivables aging report (page and JSON).

The statement's PDF is app/web/pages/render.py, its email app/web/pages/mail.py."""

from __future__ import annotations

from datetime import date

from litestar import Request, get
from litestar.params import QueryParameter
from litestar.response import Template

from app.common.i18n import _
from app.fx import service as fx_service
from app.ledger import logic as ledger_logic
from app.receivables import logic, service
from app.settings import service as settings_service
from app.web.responses import page, page_params


@get("/clients/{client_id:int}/statement")
async def statement_page(request: Request, client_id: int, currency: str = "",
                         date_from: date | None = QueryParameter(name="from", default=None),
                         date_to: date | None = QueryParameter(name="to", default=None)) -> Template:
    view = await service.statement(client_id, date_from, date_to, currency or None)
    return page(request, "receivables/statement.html", section="clients", title=_("Statement, %(name)s", name=view.client['name']),
                data=view, kinds=ledger_logic.KINDS, buckets=logic.AGING_BUCKETS)


@get("/reports/aging")
async def aging_page(request: Request, as_of: date | None = None,
                     page_number: int = QueryParameter(name="page", default=1)) -> Template:
    """The most overdue clients first, a page at a time; the totals are those of every client."""
    today = await settings_service.today()
    as_of = as_of or today
    result = await service.aging_page(as_of, page_params(page_number, logic.AGING_PAGE))
    totals = result.extra["totals"]
    # A base-currency line under the per-currency totals, when there is more than the base to add up.
    base = await fx_service.base_currency()
    base_aging = await service.aging_in_base(as_of) if any(t.currency != base for t in totals) else None
    return page(request, "receivables/aging.html", section="reports", title=_("Receivables aging"), result=result,
                as_of=as_of, buckets=logic.AGING_BUCKETS, totals=totals, base_aging=base_aging,
                params={"as_of": as_of.isoformat() if as_of != today else ""})


ROUTES = [statement_page, aging_page]
