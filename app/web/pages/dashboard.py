"""The dashboard and /health."""

from __future__ import annotations

import shutil
import time
from typing import Any

from litestar import Request, get
from litestar.response import Template

from app import __version__
from app.backup import service as backup_service
from app.catalog import service as catalog_service
from app.catalog.logic import e4_to_price
from app.clients import service as clients_service
from app.common.logic import Page
from app.config import Config
from app.db.engine import raw_connection
from app.documents import service as documents_service
from app.settings import service as settings_service
from app.taxes import service as taxes_service
from app.web.responses import page
from app.web.security import PUBLIC

STARTED = time.monotonic()


@get("/")
async def dashboard(request: Request, welcome: int = 0) -> Template:
    settings = await settings_service.get_settings()
    counts = await clients_service.count_clients()
    return page(
        request, "dashboard.html", section="dashboard", title="Dashboard", settings=settings,
        client_counts=counts, item_count=await catalog_service.count_items(),
        recent_clients=await clients_service.recent_clients(), recent_items=await catalog_service.recent_items(),
        welcome=bool(welcome), price=e4_to_price,
        invoice_stats=await documents_service.statistics(),
        recent_invoices=(await documents_service.list_documents("invoice", page=Page(1, 6))).items,
        open_quotes=(await documents_service.list_documents("quote", status="issued", page=Page(1, 1))).total,
        backup_health=await backup_service.schedule_health() if request.scope["user"].is_owner else None,
        # Staff cannot open Settings: their first steps are only the ones they can take.
        setup_steps=[step for step in [
            ("Business details", bool(settings["address_line1"] and settings["email"]), "/settings", True),
            ("Logo", bool(settings["logo_filename"]), "/settings#logo", True),
            ("Taxes", bool(await taxes_service.list_taxes()), "/settings/taxes", True),
            ("First client", counts.active + counts.archived > 0, "/clients/new", False),
            ("First catalogue item", await catalog_service.count_items() > 0, "/catalog/new", False),
        ] if request.scope["user"].is_owner or not step[3]],
    )


@get("/health", opt=PUBLIC, tags=["system"])
async def health(config: Config) -> dict[str, Any]:
    """Liveness for scripts and the launcher: no login, no user data."""
    try:
        connection = raw_connection(config.database_path)
        connection.execute("SELECT 1").fetchone()
        connection.close()
        database = "ok"
    except Exception as error:  # the point of /health is to say so, not to fail
        database = f"error: {type(error).__name__}"
    return {
        "status": "ok" if database == "ok" else "degraded",
        "version": __version__,
        "uptime_s": round(time.monotonic() - STARTED, 1),
        "database": database,
        "disk_free_bytes": shutil.disk_usage(config.data_dir).free,
    }


ROUTES = [dashboard, health]
