"""The Litestar application: one factory, every domain's routes registered here."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import mimetypes
import socket
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Protocol

import uvicorn
from litestar import Litestar, Request, Response, Router
from litestar.config.compression import CompressionConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.di import Provide
from litestar.exceptions import HTTPException
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
from app.background import stop_task
from app.backup import service as backup_service
from app.batch import service as batch_service
from app.common import i18n
from app.config import Config
from app.db import datafolder
from app.db.lifecycle import close_database, open_database, open_reader, start_quick_check_after_start
from app.paths import FONTS_DIR, STATIC_DIR, TEMPLATES_DIR
from app.settings import service as settings_service
from app.web import templating
from app.web.deferred_routes import DeferredRoutes
from app.web.inputs import check_request_input
from app.web.pages import auth as pages_auth
from app.web.pages import dashboard as pages_dashboard
from app.web.pages import projects as pages_projects
from app.web.responses import EXCEPTION_HANDLERS
from app.web.security import PUBLIC, SecurityMiddleware, csrf_before_request, requires_login
from app.web.static_assets import StaticCacheMiddleware

log = logging.getLogger("counterfoil")

# Files that are compressed already (ZIPs, PDFs): gzip would cost CPU on the event loop for nothing
# and drop Content-Length, which the browser needs to show a download's progress.
UNCOMPRESSED_PATHS = [r"\.zip$", r"\.pdf$", r"\.woff2$", r"/pdf$", r"^/batch/[^/]+/file$", r"^/api/v1/exports/accountant$"]

# What the first page after a start needs, registered before the server answers (/health, the launch link,
# sign-in and first-run setup, the dashboard; the static files and fonts too): the other modules' routes
# follow once it has answered (create_app's `routes_after_start`, app.web.deferred_routes).
FIRST_PAGE_MODULES = [pages_auth, pages_dashboard]
# Its templates, compiled while the browser starts (Jinja compiles a template at its first use: ~35 ms
# for these): the launch link's page, then the dashboard it moves on to. (Also then: Babel's data for the
# business's locale, ~10 ms at the first amount written, and the table of file types, ~5 ms.)
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


async def before_request(request: Request) -> Response | None:
    """Every route, after the guards: the CSRF check, then what arrived (app.web.inputs)."""
    refused = await csrf_before_request(request)
    if refused is None:
        await check_request_input(request)
        await pages_projects.load_timer(request)   # the running timer's bar and title on every page
    return refused


def all_route_modules() -> list[ModuleType]:
    """Every page module, then every API module (app.web.route_modules, imported at the first call)."""
    from app.web import route_modules

    return [*route_modules.PAGE_MODULES, *route_modules.API_MODULES]


def other_workers(config: Config) -> list[BackgroundWorker]:
    """The workers besides the backup scheduler, each from its domain (imported here: the first page needs none)."""
    from app.exports import service as exports_service
    from app.mail import service as mail_service
    from app.recurring import service as recurring_service
    from app.reminders import service as reminders_service

    return [mail_service.Worker(),   # delivers queued email, retries with backoff and at start
            exports_service.Scheduler(config),   # the monthly package, catching up at start
            recurring_service.Scheduler(config),   # each profile's invoices due, exactly once, at start and hourly
            reminders_service.Scheduler(config)]   # automatic reminders, hourly, when the settings say so


def create_app(config: Config, *, prepare: bool = True, routes_after_start: bool = False) -> Litestar:
    """The app. `routes_after_start` (the server's start, run_server): only the first page's routes
    (FIRST_PAGE_MODULES, ~20 of the 739) are registered before the server answers; the other pages' and
    then the /api/v1 routes once it has answered, between the first requests (~0.2 s of the start). A
    request for a route not registered yet, or for the schema, waits for them (app.web.deferred_routes):
    none is refused, and the schema, built once, holds every route."""
    scheduler = backup_service.Scheduler(config)   # scheduled backups; the on-quit one runs at shutdown
    batches = batch_service.Batches(config)   # batch print / ZIP jobs of the document lists, in memory
    running: list[BackgroundWorker] = []
    later: list[asyncio.Task[None]] = []   # the other workers' start, after the first page (routes_after_start)

    async def on_startup() -> None:
        if prepare:
            await open_database(config)
        with audit_service.acting(Actor.system("start", origin="system")):
            # The reader opens (its thread reads the schema) while the start's own write runs: the first
            # request finds it open.
            await asyncio.gather(auth_service.purge_expired_sessions(idle_timeout_s=config.idle_timeout_s,
                                                                     lifetime_s=config.session_lifetime_s),
                                 open_reader())
        # After the start's own writes: damage it finds refuses the user's changes, not the start.
        start_quick_check_after_start()
        if routes_after_start:
            registration.append(asyncio.create_task(deferred.register(later_steps())))
            registration.append(asyncio.create_task(prepare_first_page()))

    async def prepare_first_page() -> None:
        """While the server waits for the browser (which takes longer to start than the server), what the
        first page would load at its first use is loaded, a step at a time when no request is being
        answered: its templates, Babel's data for the business's locale, the table of file types."""
        await asyncio.sleep(COMPILE_AFTER_S)
        engine = app.template_engine
        steps: list[Callable[[], object]] = [functools.partial(mimetypes.guess_type, "page.html")]   # once
        if engine is not None:
            steps[:0] = [functools.partial(engine.get_template, name) for name in FIRST_PAGE_TEMPLATES]
        try:
            for step in steps:
                await deferred.until_idle()
                step()
            await deferred.until_idle()
            locale, _time_zone = await settings_service.locale_and_time_zone()
            await deferred.until_idle()
            templating.amount(Decimal(1), "EUR", locale=i18n.formatting_locale(locale))
        except Exception:   # the first page will load it again, and say what is wrong with it
            log.exception("the first page could not be prepared")

    registration: list[asyncio.Task[None]] = []   # holds the task while it runs

    def later_steps() -> Iterator[Callable[[], None]]:
        """Each other module's routes, the pages first (the user's next click is one of them). Their
        modules are imported here, when the first step is asked for."""
        for module in all_route_modules():
            if module not in FIRST_PAGE_MODULES:
                yield functools.partial(register_module, module)

    def register_module(module: ModuleType) -> None:
        app.register(ModuleRouter(path="/", route_handlers=module.ROUTES))

    async def start_workers() -> None:
        # Serving a read-only folder's copy, nothing may send mail or write backups: what they would
        # record as done would be lost at stop, and done again at the next start.
        if datafolder.WATCH.serving_copy:
            log.warning("read-only data folder: the outbox, scheduled backups, the accountant's package and "
                        "automatic reminders are off")
            return
        await start(scheduler)   # at once: a quit within the first second still makes its on-quit backup
        if routes_after_start:
            later.append(asyncio.create_task(start_after_the_first_page()))
        else:
            for worker in other_workers(config):
                await start(worker)

    async def start(worker: BackgroundWorker) -> None:
        await worker.start()
        running.append(worker)

    async def start_after_the_first_page() -> None:
        """The other workers catch up at their start (a pause first, then what fell due while the program was
        closed): they start once the other routes are registered, which imports most of their modules."""
        await deferred.registered.wait()
        for worker in other_workers(config):
            await start(worker)

    async def stop_workers() -> None:
        for task in later:
            await stop_task(task)   # a stop within the first second: they catch up at the next start
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
    modules = FIRST_PAGE_MODULES if routes_after_start else all_route_modules()
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
        except HTTPException:   # not found, method not allowed: until every route is registered, it waits
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
