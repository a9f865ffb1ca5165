"""Routes registered once the server has answered, not before (issue 21: the double-click opens the
first page in half a second).

Registering a route costs Litestar ~0.25-0.4 ms (its signature model, its parameters, the routing trie): the
739 routes took ~0.25 s of every start, and the first page needs a few of them (/health, the sign-in and
launch pages, the dashboard, the static files). The server starts with those; the other pages' routes
and then the API's follow a module at a time, once the first request has been answered (or half a second
after the start if none comes), each when no request is being answered (or at most MAX_WAIT_S later),
so the first page is not slowed by them either: they begin once its burst of requests is over.

A request for a route not yet registered (its path starts with one of `paths`, or the app cannot route it
yet: `routable`) is never refused: it waits until every deferred route is registered, and it starts the
registration at once if it had not begun. The OpenAPI schema is built at its first request, which waits
too: it holds every route.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from contextlib import suppress

from litestar.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("counterfoil")

START_WITHIN_S = 0.5   # no request came: the routes are registered anyway
QUIET_S = 0.1   # after the first answer, the registration waits until no request came for this long...
MAX_DELAY_S = 1.0   # ...at most this long after that answer, unless a request waits for a route
MAX_WAIT_S = 0.05   # for the requests being answered, before each module's routes


class DeferredRoutes:
    """ASGI: holds the requests for the deferred routes until they are registered (`register`)."""

    def __init__(self, app: ASGIApp, paths: tuple[str, ...],
                 routable: Callable[[Scope], bool] | None = None) -> None:
        self.app = app
        self.paths = paths   # these wait, routable or not (the schema's route exists before the routes it lists)
        self.routable = routable   # what the app answers already (else the request waits)
        self.registered = asyncio.Event()
        self.wanted = asyncio.Event()   # a request was answered, or one waits for the deferred routes
        self.needed = asyncio.Event()   # a request waits for the deferred routes
        self.last_request = 0.0   # when the last request began or ended (the event loop's clock)
        self.idle = asyncio.Event()   # no request is being answered
        self.idle.set()
        self.answering = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.registered.is_set():
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(self.paths) or (self.routable is not None and not self.routable(scope)):
            self.needed.set()
            self.wanted.set()
            await self.registered.wait()
        self.answering += 1
        self.idle.clear()
        self.last_request = asyncio.get_running_loop().time()
        try:
            await self.app(scope, receive, send)
        finally:
            self.answering -= 1
            if not self.answering:
                self.idle.set()
            self.last_request = asyncio.get_running_loop().time()
            self.wanted.set()

    async def until_idle(self) -> None:
        """Until no request is being answered (at most MAX_WAIT_S), then one turn of the event loop for a
        request that came meanwhile."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self.idle.wait(), MAX_WAIT_S)
        await asyncio.sleep(0)

    async def _first_page_loaded(self) -> None:
        """The browser loads the first page (the launch link, the dashboard, its styles, scripts and fonts)
        in a burst of requests: the registration waits until the burst is over (QUIET_S without a request),
        for at most MAX_DELAY_S, and not at all once a request waits for a route not registered yet."""
        loop = asyncio.get_running_loop()
        latest = loop.time() + MAX_DELAY_S
        while not self.needed.is_set() and loop.time() < latest:
            quiet_for = loop.time() - self.last_request if not self.answering else 0.0
            if quiet_for >= QUIET_S:
                return
            with suppress(TimeoutError):
                await asyncio.wait_for(self.needed.wait(), min(QUIET_S - quiet_for, latest - loop.time()))

    async def register(self, steps: Iterable[Callable[[], None]]) -> None:
        """Runs each step (one module's routes) between requests; then lets the waiting requests in.
        A step that fails is logged and the requests are let in all the same (they get a 404 rather
        than wait for ever)."""
        try:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.wanted.wait(), START_WITHIN_S)
            await self._first_page_loaded()
            for step in steps:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.idle.wait(), MAX_WAIT_S)
                step()
                await asyncio.sleep(0)   # a request that came meanwhile starts before the next step
        except Exception:
            log.exception("the routes registered after the start could not all be registered")
            raise
        finally:
            self.registered.set()
