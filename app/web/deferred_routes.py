"""Routes registered once the server has answered, not before (issue 21: the double-click opens the
first page in half a second).

Registering a route costs Litestar ~0.25-0.4 ms (its signature model, its parameters, the routing trie): the
739 routes took ~0.25 s of every start, and the first page needs a few of them (/health, the sign-in and
launch pages, the dashboard, the static files). The server starts with those; the other pages' routes
and then the API's follow a module at a time, once the first request has been answered (or half a second
after the start if none comes), each when no request is being answered (or at most MAX_WAIT_S later),
so the first pages are not slowed by them either.

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
        self.idle = asyncio.Event()   # no request is being answered
        self.idle.set()
        self.answering = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.registered.is_set():
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(self.paths) or (self.routable is not None and not self.routable(scope)):
            self.wanted.set()
            await self.registered.wait()
        self.answering += 1
        self.idle.clear()
        try:
            await self.app(scope, receive, send)
        finally:
            self.answering -= 1
            if not self.answering:
                self.idle.set()
            self.wanted.set()

    async def register(self, steps: Iterable[Callable[[], None]]) -> None:
        """Runs each step (one module's routes) between requests; then lets the waiting requests in.
        A step that fails is logged and the requests are let in all the same (they get a 404 rather
        than wait for ever)."""
        try:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.wanted.wait(), START_WITHIN_S)
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
