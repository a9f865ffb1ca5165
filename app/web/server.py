"""The Litestar application: one factory, every domain's routes registered here."""

from __future__ import annotations

import socket
from decimal import Decimal
from pathlib import Path

import uvicorn
from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from app import __version__
from app.audit import service as audit_service
from app.audit.logic import Actor
from app.auth import service as auth_service
from app.backup import service as backup_service
from app.batch import service as batch_service
from app.config import Config
from app.db.lifecycle import open_database
from app.exports import service as exports_service
from app.mail import service as mail_service
from app.paths import FONTS_DIR, STATIC_DIR, TEMPLATES_DIR
from app.web import api, pages, templating
from app.web.responses import EXCEPTION_HANDLERS
from app.web.security import PUBLIC, SecurityMiddleware, csrf_before_request, requires_login

# Files that are compressed already (ZIPs, PDFs): gzip would cost CPU on the event loop for nothing
# and drop Content-Length, which the browser needs to show a download's progress.
UNCOMPRESSED_PATHS = [r"\.zip$", r"\.pdf$", r"/pdf$", r"^/batch/[^/]+/file$", r"^/api/v1/exports/accountant$"]

# One page module and, where the domain has a JSON API, one API module per domain (app/web/pages, app/web/api).
PAGE_MODULES = [pages.dashboard, pages.auth, pages.clients, pages.catalog, pages.settings, pages.taxes, pages.documents,
                pages.render, pages.batch, pages.payments, pages.ledger, pages.receivables, pages.backup, pages.mail,
                pages.exports, pages.reports, pages.audit]
API_MODULES = [api.auth, api.clients, api.catalog, api.settings, api.taxes, api.documents, api.render, api.payments,
               api.ledger, api.receivables, api.mail, api.exports, api.reports, api.audit]
DOMAIN_ROUTES = [route for module in [*PAGE_MODULES, *API_MODULES] for route in module.ROUTES]


def create_app(config: Config, *, prepare: bool = True) -> Litestar:
    scheduler = backup_service.Scheduler(config)   # scheduled backups; the on-quit one runs at shutdown
    outbox = mail_service.Worker()   # delivers queued email, retries with backoff and at start
    accountant = exports_service.Scheduler(config)   # the monthly package, catching up at start
    batches = batch_service.Batches(config)   # batch print / ZIP jobs of the document lists, in memory

    async def on_startup() -> None:
        if prepare:
            await open_database(config)
        with audit_service.acting(Actor.system("start", origin="system")):
            await auth_service.purge_expired_sessions(idle_timeout_s=config.idle_timeout_s,
                                                      lifetime_s=config.session_lifetime_s)

    static = create_static_files_router(path="/static", directories=[STATIC_DIR], opt=PUBLIC,
                                        include_in_schema=False, send_as_attachment=False)
    # The pages use the same bundled Inter as the PDFs (no CDN, no network).
    fonts = create_static_files_router(path="/fonts", directories=[FONTS_DIR], opt=PUBLIC, name="fonts",
                                       include_in_schema=False, send_as_attachment=False)
    app = Litestar(
        route_handlers=[*DOMAIN_ROUTES, static, fonts],
        dependencies={"config": Provide(lambda: config, use_cache=True, sync_to_thread=False),
                      "batches": Provide(lambda: batches, use_cache=True, sync_to_thread=False)},
        guards=[requires_login],
        before_request=csrf_before_request,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        template_config=TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine,
                                       engine_callback=templating.configure),
        openapi_config=OpenAPIConfig(
            title="Counterfoil", version=__version__, path="/schema",
            description="Counterfoil's local HTTP API. Authenticate with `Authorization: Bearer TOKEN` "
                        "(`counterfoil token create`). Money is a decimal string beside its currency.",
            render_plugins=[JsonRenderPlugin()],
        ),
        compression_config=CompressionConfig(backend="gzip", minimum_size=2048, exclude=UNCOMPRESSED_PATHS),
        logging_config=LoggingConfig(log_exceptions="never", disable_stack_trace={404, 401, 403, 409, 422},
                                     loggers={"counterfoil": {"level": "INFO", "propagate": True}}),
        on_startup=[on_startup, scheduler.start, outbox.start, accountant.start, batches.start],
        on_shutdown=[scheduler.stop, outbox.stop, accountant.stop, batches.stop],
        type_encoders={Decimal: str, Path: str},
        request_max_body_size=20 * 1024 * 1024,
        debug=False,
    )
    # The door wraps the whole app, not each route: Litestar runs app middleware only for
    # matched routes, so a 404 or 405 would otherwise skip the Host check and the headers.
    app.state.batches = batches
    app.asgi_handler = SecurityMiddleware(app.asgi_handler, config=config)
    return app


def run_server(config: Config, sock: socket.socket) -> None:
    """Serve the app on a socket the launcher has bound, until the user quits (Ctrl+C, the quit page)."""
    # No proxy headers: nothing stands between the browser and us, so an X-Forwarded-For is a lie.
    server = uvicorn.Server(uvicorn.Config(create_app(config, prepare=False), log_level="warning", access_log=False,
                                           lifespan="on", timeout_graceful_shutdown=5, proxy_headers=False))
    server.run(sockets=[sock])
