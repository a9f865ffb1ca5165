"""The Litestar application: one factory, every domain's routes registered here."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import socket
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Protocol

import uvicorn
from litestar import Litestar, Request, Response, Router
from litestar.config.compression import CompressionConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.di import Provide
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins import PluginProtocol
from litestar.plugins.core import MsgspecDIPlugin
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from litestar.types import ControllerRouterHandler, Scope
from litestar.types.internal_types import RouteHandlerMapItem
from litestar.utils import normalize_path

from app import __version__, codecache
from app.audit import service as audit_service
from app.audit.logic import Actor
from app.auth import service as auth_service
from app.backup import service as backup_service
from app.batch import service as batch_service
from app.config import Config
from app.db import datafolder
from app.db.lifecycle import close_database, open_database, start_quick_check_after_start
from app.exports import service as exports_service
from app.mail import service as mail_service
from app.paths import FONTS_DIR, STATIC_DIR, TEMPLATES_DIR
from app.recurring import service as recurring_service
from app.reminders import service as reminders_service
from app.web import templating
from app.web.api import audit as api_audit
from app.web.api import auth as api_auth
from app.web.api import catalog as api_catalog
from app.web.api import clients as api_clients
from app.web.api import documents as api_documents
from app.web.api import expenses as api_expenses
from app.web.api import exports as api_exports
from app.web.api import fx as api_fx
from app.web.api import imports as api_imports
from app.web.api import ledger as api_ledger
from app.web.api import mail as api_mail
from app.web.api import payments as api_payments
from app.web.api import projects as api_projects
from app.web.api import receivables as api_receivables
from app.web.api import recurring as api_recurring
from app.web.api import reminders as api_reminders
from app.web.api import render as api_render
from app.web.api import reports as api_reports
from app.web.api import settings as api_settings
from app.web.api import taxes as api_taxes
from app.web.deferred_routes import DeferredRoutes
from app.web.inputs import check_request_input
from app.web.pages import audit as pages_audit
from app.web.pages import auth as pages_auth
from app.web.pages import backup as pages_backup
from app.web.pages import batch as pages_batch
from app.web.pages import catalog as pages_catalog
from app.web.pages import clients as pages_clients
from app.web.pages import dashboard as pages_dashboard
from app.web.pages import documents as pages_documents
from app.web.pages import expenses as pages_expenses
from app.web.pages import exports as pages_exports
from app.web.pages import fx as pages_fx
from app.web.pages import imports as pages_imports
from app.web.pages import ledger as pages_ledger
from app.web.pages import mail as pages_mail
from app.web.pages import payments as pages_payments
from app.web.pages import projects as pages_projects
from app.web.pages import receivables as pages_receivables
from app.web.pages import recurring as pages_recurring
from app.web.pages import reminders as pages_reminders
from app.web.pages import render as pages_render
from app.web.pages import reports as pages_reports
from app.web.pages import settings as pages_settings
from app.web.pages import taxes as pages_taxes
from app.web.responses import EXCEPTION_HANDLERS
from app.web.security import PUBLIC, SecurityMiddleware, csrf_before_request, requires_login
from app.web.static_assets import StaticCacheMiddleware

log = logging.getLogger("counterfoil")

# Files that are compressed already (ZIPs, PDFs): gzip would cost CPU on the event loop for nothing
# and drop Content-Length, which the browser needs to show a download's progress.
UNCOMPRESSED_PATHS = [r"\.zip$", r"\.pdf$", r"\.woff2$", r"/pdf$", r"^/batch/[^/]+/file$", r"^/api/v1/exports/accountant$"]

# One page module per domain and, where the domain has a JSON API, one API module (app/web/pages, app/web/api).
PAGE_MODULES = [pages_auth, pages_backup, pages_batch, pages_catalog, pages_clients, pages_dashboard, pages_documents,
                pages_exports, pages_ledger, pages_mail, pages_payments, pages_receivables, pages_render,
                pages_reports, pages_settings, pages_taxes, pages_audit, pages_recurring, pages_expenses]
API_MODULES = [api_auth, api_catalog, api_clients, api_documents, api_exports, api_ledger, api_mail, api_payments,
               api_receivables, api_render, api_reports, api_settings, api_taxes, api_audit, api_recurring,
               api_expenses]
PAGE_MODULES.append(pages_projects)   # projects and time (issue 19)
API_MODULES.append(api_projects)
PAGE_MODULES.append(pages_reminders)   # reminders and dunning (issue 17)
API_MODULES.append(api_reminders)
PAGE_MODULES.append(pages_fx)   # exchange rates, base currency, bank accounts (issue 16)
API_MODULES.append(api_fx)
PAGE_MODULES.append(pages_imports)   # moving in from another program (issue 20)
API_MODULES.append(api_imports)

# What the first page after a start needs, registered before the server answers (/health, the launch link,
# sign-in and first-run setup, the dashboard; the static files and fonts too): the other modules' routes
# follow once it has answered (create_app's `routes_after_start`, app.web.deferred_routes).
FIRST_PAGE_MODULES = [pages_auth, pages_dashboard]
# Its templates, compiled while the browser starts (Jinja compiles a template at its first use: ~35 ms
# for these): the launch link's page, then the dashboard it moves on to.
FIRST_PAGE_TEMPLATES = ["auth/launched.html", "base.html", "dashboard.html", "_base_total.html"]
COMPILE_AFTER_S = 0.02   # a request that waited for the start goes first

class ModuleRouter(Router):
    """A page or API module's routes, registered on the app in one go.

    Litestar rebuilds its routing trie and route map at each registration on the app: 400 handlers one
    by one cost ~0.5 s at start, one router per module a tenth of that. Litestar deep-copies a router
    it registers in case the same one is registered twice; each of these is made for one app only."""

    def __deepcopy__(self, memo: dict[int, object]) -> ModuleRouter:
        return self


class CounterfoilApp(Litestar):
    """Litestar without the plugins it adds whenever pydantic or attrs can be imported.

    No route takes or returns a pydantic model or an attrs class (bodies are msgspec, app.web.api.base),
    but development tools bring both into .venv (piccolo and aiosmtpd need them): importing pydantic and
    setting up its plugins cost 0.1 s at each start of `python -m app`. The single executable leaves both
    out (build/build-binary's NOFOLLOW), so it already ran with only this plugin; now both run alike."""

    @staticmethod
    def _get_default_plugins(plugins: list[PluginProtocol]) -> list[PluginProtocol]:
        plugins.append(MsgspecDIPlugin())
        return plugins

    # Litestar's Router.register looks up each path of what it registers in route_handler_method_map,
    # which it rebuilds from every route of the app at each lookup: 190 paths a module at a time cost
    # more than the rest of the routing. The paths of one registration are distinct, so the map as it
    # was when the registration began answers each lookup as the rebuilt one would.
    _method_map: dict[str, RouteHandlerMapItem] | None = None

    @property
    def route_handler_method_map(self) -> dict[str, RouteHandlerMapItem]:
        return self._method_map if self._method_map is not None else super().route_handler_method_map

    def register(self, value: ControllerRouterHandler) -> None:  # type: ignore[override]
        self._method_map = super().route_handler_method_map
        try:
            super().register(value)
        finally:
            self._method_map = None


class BackgroundWorker(Protocol):
    """What the server starts after start-up and stops at shutdown (the schedulers, the outbox)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


DOMAIN_ROUTES = [route for module in [*PAGE_MODULES, *API_MODULES] for route in module.ROUTES]


async def before_request(request: Request) -> Response | None:
    """Every route, after the guards: the CSRF check, then what arrived (app.web.inputs)."""
    refused = await csrf_before_request(request)
    if refused is None:
        await check_request_input(request)
        await pages_projects.load_timer(request)   # the running timer's bar and title on every page
    return refused


def create_app(config: Config, *, prepare: bool = True, routes_after_start: bool = False) -> Litestar:
    """The app. `routes_after_start` (the server's start, run_server): only the first page's routes
    (FIRST_PAGE_MODULES, ~20 of the 739) are registered before the server answers; the other pages' and
    then the /api/v1 routes once it has answered, between the first requests (~0.2 s of the start). A
    request for a route not registered yet, or for the schema, waits for them (app.web.deferred_routes):
    none is refused, and the schema, built once, holds every route."""
    scheduler = backup_service.Scheduler(config)   # scheduled backups; the on-quit one runs at shutdown
    outbox = mail_service.Worker()   # delivers queued email, retries with backoff and at start
    accountant = exports_service.Scheduler(config)   # the monthly package, catching up at start
    batches = batch_service.Batches(config)   # batch print / ZIP jobs of the document lists, in memory
    recurring = recurring_service.Scheduler(config)   # each profile's invoices due, exactly once, at start and hourly
    reminders = reminders_service.Scheduler(config)   # automatic reminders, hourly, when the settings say so

    workers: list[BackgroundWorker] = [scheduler, outbox, accountant, recurring, reminders]
    running: list[BackgroundWorker] = []

    async def on_startup() -> None:
        if prepare:
            await open_database(config)
        with audit_service.acting(Actor.system("start", origin="system")):
            await auth_service.purge_expired_sessions(idle_timeout_s=config.idle_timeout_s,
                                                      lifetime_s=config.session_lifetime_s)
        # After the start's own writes: damage it finds refuses the user's changes, not the start.
        start_quick_check_after_start()
        if routes_after_start:
            # The pages first: the user's next click is one of them.
            later = [module for module in [*PAGE_MODULES, *API_MODULES] if module not in FIRST_PAGE_MODULES]
            registration.append(asyncio.create_task(deferred.register(
                [functools.partial(register_module, module) for module in later])))
            registration.append(asyncio.create_task(compile_first_page()))

    async def compile_first_page() -> None:
        """While the server waits for the browser (which takes longer to start than the server), the
        first page's templates are compiled, one at a time when no request is being answered."""
        await asyncio.sleep(COMPILE_AFTER_S)
        engine = app.template_engine
        if engine is None:
            return
        for name in FIRST_PAGE_TEMPLATES:
            await deferred.until_idle()
            try:
                engine.get_template(name)
            except Exception:   # the page itself will say what is wrong with it
                log.exception("the template %s could not be compiled", name)
                return

    registration: list[asyncio.Task[None]] = []   # holds the task while it runs

    def register_module(module: ModuleType) -> None:
        app.register(ModuleRouter(path="/", route_handlers=module.ROUTES))

    async def start_workers() -> None:
        # Serving a read-only folder's copy, nothing may send mail or write backups: what they would
        # record as done would be lost at stop, and done again at the next start.
        if datafolder.WATCH.serving_copy:
            log.warning("read-only data folder: the outbox, scheduled backups, the accountant's package and "
                        "automatic reminders are off")
            return
        for worker in workers:
            await worker.start()
            running.append(worker)

    async def stop_workers() -> None:
        while running:
            await running.pop().stop()

    async def on_shutdown() -> None:
        for task in registration:
            task.cancel()   # a stop within the first second
        await close_database()

    static = create_static_files_router(path="/static", directories=[STATIC_DIR], opt=PUBLIC,
                                        include_in_schema=False, send_as_attachment=False)
    # The pages use the same bundled Inter as the PDFs (no CDN, no network).
    fonts = create_static_files_router(path="/fonts", directories=[FONTS_DIR], opt=PUBLIC, name="fonts",
                                       include_in_schema=False, send_as_attachment=False)
    modules = FIRST_PAGE_MODULES if routes_after_start else [*PAGE_MODULES, *API_MODULES]
    app = CounterfoilApp(
        route_handlers=[*(ModuleRouter(path="/", route_handlers=module.ROUTES) for module in modules), static, fonts],
        dependencies={"config": Provide(lambda: config, use_cache=True, sync_to_thread=False),
                      "batches": Provide(lambda: batches, use_cache=True, sync_to_thread=False)},
        guards=[requires_login],
        before_request=before_request,
        exception_handlers=EXCEPTION_HANDLERS,
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
        on_startup=[on_startup, start_workers, batches.start],
        # The database last: the on-quit backup (scheduler.stop) still reads it. Closing it folds the
        # write-ahead log into counterfoil.sqlite, so that file alone holds everything after a stop.
        on_shutdown=[stop_workers, batches.stop, on_shutdown],
        type_encoders={Decimal: str, Path: str},
        request_max_body_size=20 * 1024 * 1024,
        debug=False,
    )
    # The door wraps the whole app, not each route: Litestar runs app middleware only for
    # matched routes, so a 404 or 405 would otherwise skip the Host check and the headers.
    app.state.batches = batches
    def routable(scope: Scope) -> bool:   # Litestar's own lookup (cached), as it routes the request next
        try:
            app.asgi_router.handle_routing(path=normalize_path(scope["path"]), method=scope.get("method"))
        except (NotFoundException, MethodNotAllowedException):
            return False
        return True

    deferred = DeferredRoutes(app.asgi_handler, paths=("/api", "/schema"), routable=routable)
    if not routes_after_start:
        deferred.registered.set()
    app.asgi_handler = SecurityMiddleware(StaticCacheMiddleware(deferred), config=config)
    return app


def run_server(config: Config, sock: socket.socket) -> None:
    """Serve the app on a socket the launcher has bound, until the user quits (Ctrl+C, the quit page)."""
    # No proxy headers: nothing stands between the browser and us, so an X-Forwarded-For is a lie.
    app = create_app(config, prepare=False, routes_after_start=True)
    codecache.stop()   # started by app.cli.main: the start's code is compiled
    # app.cli.main turned the collector off for the start. What the start built (modules, classes, the
    # routes) lives until the program stops: frozen, no collection walks it again. A collection first
    # would free ~2 MB that the imports and the app building left in cycles, for ~0.1 s more at each start.
    gc.freeze()
    gc.enable()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           lifespan="on", timeout_graceful_shutdown=5, proxy_headers=False))
    server.run(sockets=[sock])
