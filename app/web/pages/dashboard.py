"""The dashboard and /health."""

from __future__ import annotations

import time
from typing import Any

from litestar import Request, get
from litestar.response import Template

from app import __version__
from app.backup import service as backup_service
from app.catalog import service as catalog_service
from app.catalog.logic import e4_to_price
from app.clients import service as clients_service
from app.common.i18n import _
from app.common.logic import Page
from app.config import Config
from app.db import datafolder
from app.db import logic as db_logic
from app.db.engine import one_snapshot
from app.documents import service as documents_service
from app.expenses import reports as expenses_reports
from app.reports import logic as reports_logic
from app.reports import service as reports_service
from app.settings import service as settings_service
from app.taxes import service as taxes_service
from app.web.responses import page
from app.web.security import PUBLIC

STARTED = time.monotonic()


async def _reads(*, owner: bool) -> dict[str, Any]:
    """Everything the dashboard reads, by name: the settings, today, the last twelve months, this year's
    profit and the tax return being built, the counts, the newest clients and items, the invoices'
    statistics, the newest invoices, the open quotes, the base-currency totals, the taxes and (`owner`) the
    backups' health.

    All of one snapshot, in two groups read at the same time on two readers (about 30 ms of queries at
    100,000 invoices at each first view after a change, each group half of it): with a core free, the page
    comes sooner, and its figures all agree. The first one after a start reads them one after the other while
    the readers open (the page a double-click shows would wait for them)."""
    async with one_snapshot(2, if_open=True) as snapshot:
        settings = await settings_service.get_settings()
        today = await settings_service.today()

        async def documents() -> dict[str, Any]:
            return {
                "invoice_stats": await documents_service.statistics(),
                "recent_invoices": (await documents_service.list_documents("invoice", page=Page(1, 6))).items,
                "open_quotes": (await documents_service.list_documents("quote", status="issued", page=Page(1, 1))).total,
                "item_count": await catalog_service.count_items(),
                "recent_items": await catalog_service.recent_items(),
                "taxes": await taxes_service.list_taxes(),
                "backup_health": await backup_service.schedule_health() if owner else None,
            }

        async def money_and_clients() -> dict[str, Any]:
            return {
                "base_totals": await reports_service.dashboard_totals(),
                "profit": await expenses_reports.profit_and_loss(today.replace(month=1, day=1), today),
                "next_tax": await expenses_reports.tax_return(),
                "months": await reports_service.last_twelve_months(),
                "client_counts": await clients_service.count_clients(),
                "recent_clients": await clients_service.recent_clients(),
            }
        first, second = await snapshot.together(documents, money_and_clients)
    return {"settings": settings, "today": today, **first, **second}


@get("/")
async def dashboard(request: Request, welcome: int = 0) -> Template:
    is_owner = request.scope["user"].is_owner
    read = await _reads(owner=is_owner)
    settings, counts, months, today = read["settings"], read["client_counts"], read["months"], read["today"]
    # Money first: this month's and this year's revenue, what came in, and the last twelve months as the
    # revenue report draws them (app.reports).
    main = settings.get("default_currency") or ""
    charts = {currency: reports_logic.bar_chart_svg(months.rows, currency, width=640, height=190)
              for currency in sorted(months.currencies, key=lambda c: (c != main, c))}  # the business's own first
    return page(
        request, "dashboard.html", section="dashboard", title=_("Dashboard"), settings=settings,
        # The cost side (app.expenses): this year's profit and the net of the return being built this quarter.
        profit=read["profit"], next_tax=read["next_tax"],
        client_counts=counts, item_count=read["item_count"],
        recent_clients=read["recent_clients"], recent_items=read["recent_items"],
        welcome=bool(welcome), price=e4_to_price, glance=reports_logic.at_a_glance(months, today), charts=charts,
        months=months, invoice_stats=read["invoice_stats"], recent_invoices=read["recent_invoices"],
        open_quotes=read["open_quotes"],
        # Totals across currencies in the base currency (app.fx): web/templates/_base_total.html.
        base_totals=read["base_totals"], backup_health=read["backup_health"],
        # Staff cannot open Settings: their first steps are only the ones they can take.
        setup_steps=[step for step in [
            (_("Business details"), bool(settings["address_line1"] and settings["email"]), "/settings", True),
            (_("Logo"), bool(settings["logo_filename"]), "/settings#logo", True),
            (_("Taxes"), bool(read["taxes"]), "/settings/taxes", True),
            (_("First client"), counts.active + counts.archived > 0, "/clients/new", False),
            (_("First catalogue item"), read["item_count"] > 0, "/catalog/new", False),
        ] if is_owner or not step[3]],
    )


@get("/health", opt=PUBLIC, tags=["system"])
async def health(config: Config) -> dict[str, Any]:
    """Liveness for scripts and the launcher: no login, no user data. "degraded" (still 200: the server
    answers) when the database does not, the data folder is gone or read-only, or its disk has less than
    50 MB free (`detail` says which)."""
    data_folder = datafolder.condition()
    try:
        connection = datafolder.connect_reading(config.database_path, writable=data_folder == db_logic.OK)
        try:
            connection.execute("SELECT 1").fetchone()
        finally:
            connection.close()
        database = "ok"
    except Exception as error:  # the point of /health is to say so, not to fail
        database = f"error: {type(error).__name__}"
    free = datafolder.free_space(config.data_dir) if data_folder != db_logic.GONE else None
    status = db_logic.health_status(database_ok=database == "ok", condition=data_folder, free_bytes=free)
    body: dict[str, Any] = {
        "status": status,
        "version": __version__,
        "uptime_s": round(time.monotonic() - STARTED, 1),
        "database": database,
        "data_folder": data_folder,
        "disk_free_bytes": free,
    }
    if status != "ok":
        body["detail"] = db_logic.health_detail(database=database, condition=data_folder, free_bytes=free)
    return body


ROUTES = [dashboard, health]
