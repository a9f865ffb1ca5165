"""The dashboard and /health."""

from __future__ import annotations

import time
from typing import Any

from litestar import Request, get
from litestar.response import Template

from app import __version__
from app.catalog.logic import e4_to_price
from app.common.i18n import _
from app.config import Config
from app.db import datafolder
from app.db import logic as db_logic
from app.reports import logic as reports_logic
from app.reports import service as reports_service
from app.web.responses import page
from app.web.security import PUBLIC

STARTED = time.monotonic()


@get("/")
async def dashboard(request: Request, welcome: int = 0) -> Template:
    is_owner = request.scope["user"].is_owner
    read = await reports_service.dashboard(owner=is_owner)
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
