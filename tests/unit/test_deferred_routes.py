"""app.web.deferred_routes: the routes registered once the server has answered (the API's, at the start
of `counterfoil serve`). A request for them that comes before waits, never gets a 404; the others go on."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.web import deferred_routes
from app.web.deferred_routes import DeferredRoutes


class Routes:
    """A stand-in for the app: answers the paths registered so far, 404 for the others."""

    def __init__(self) -> None:
        self.paths = {"/health", "/login"}
        self.answered: list[tuple[str, int]] = []
        self.slow = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"] == "/slow":
            await self.slow.wait()
        self.answered.append((scope["path"], 200 if scope["path"] in self.paths | {"/slow"} else 404))


async def call(app: DeferredRoutes, path: str) -> None:
    await app({"type": "http", "path": path}, None, None)


def register(routes: Routes, path: str, done: list[str]) -> Any:
    def step() -> None:
        routes.paths.add(path)
        done.append(path)
    return step


def test_a_request_for_a_deferred_route_waits_for_it_and_starts_the_registration() -> None:
    async def scenario() -> None:
        routes = Routes()
        app = DeferredRoutes(routes, paths=("/api", "/schema"))
        done: list[str] = []
        registration = asyncio.create_task(app.register(
            [register(routes, "/api/v1/clients", done), register(routes, "/schema", done)]))
        await asyncio.sleep(0)
        assert done == []   # nothing asked yet: the start goes first
        await asyncio.wait_for(asyncio.gather(call(app, "/api/v1/clients"), call(app, "/schema")), 5)
        assert sorted(routes.answered) == [("/api/v1/clients", 200), ("/schema", 200)]
        await registration
        assert app.registered.is_set()
    asyncio.run(scenario())


def test_the_other_requests_go_on_and_the_registration_follows_the_first_answer() -> None:
    async def scenario() -> None:
        routes = Routes()
        app = DeferredRoutes(routes, paths=("/api",))
        done: list[str] = []
        registration = asyncio.create_task(app.register([register(routes, "/api/v1/me", done)]))
        await call(app, "/login")   # answered at once, before any API route exists
        assert routes.answered == [("/login", 200)]
        await asyncio.wait_for(registration, 5)
        assert done == ["/api/v1/me"]
        await call(app, "/api/v1/me")
        assert routes.answered[-1] == ("/api/v1/me", 200)
    asyncio.run(scenario())


def test_with_no_request_the_routes_come_within_half_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deferred_routes, "START_WITHIN_S", 0.01)

    async def scenario() -> None:
        routes = Routes()
        app = DeferredRoutes(routes, paths=("/api",))
        done: list[str] = []
        await asyncio.wait_for(app.register([register(routes, "/api/v1/me", done)]), 5)
        assert done == ["/api/v1/me"]
    asyncio.run(scenario())


def test_a_step_waits_for_the_request_being_answered_but_not_for_ever(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deferred_routes, "MAX_WAIT_S", 0.05)
    monkeypatch.setattr(deferred_routes, "MAX_DELAY_S", 0.05)

    async def scenario() -> None:
        routes = Routes()
        app = DeferredRoutes(routes, paths=("/api",))
        done: list[str] = []
        slow = asyncio.create_task(call(app, "/slow"))   # a long download, say
        await asyncio.sleep(0)
        app.wanted.set()
        registration = asyncio.create_task(app.register([register(routes, "/api/v1/me", done)]))
        await asyncio.sleep(0.01)
        assert done == []   # waits while the request is answered...
        await asyncio.wait_for(registration, 5)
        assert done == ["/api/v1/me"]   # ...at most MAX_WAIT_S
        routes.slow.set()
        await slow
    asyncio.run(scenario())


def test_a_step_that_fails_lets_the_waiting_requests_in() -> None:
    async def scenario() -> None:
        routes = Routes()
        app = DeferredRoutes(routes, paths=("/api",))

        def broken() -> None:
            raise RuntimeError("a handler Litestar refuses")

        registration = asyncio.create_task(app.register([broken]))
        await asyncio.wait_for(call(app, "/api/v1/me"), 5)
        assert routes.answered == [("/api/v1/me", 404)]
        with pytest.raises(RuntimeError):
            await registration
    asyncio.run(scenario())


def test_a_request_the_app_cannot_route_yet_waits_and_the_routable_ones_go_on() -> None:
    """The pages registered after the start: whatever the app cannot route yet (`routable`) waits for the
    registration; what it can (the first page, /health) is answered at once."""
    async def scenario() -> None:
        routes = Routes()
        app = DeferredRoutes(routes, paths=("/api",), routable=lambda scope: scope["path"] in routes.paths)
        done: list[str] = []
        registration = asyncio.create_task(app.register([register(routes, "/clients", done)]))
        await call(app, "/login")
        assert routes.answered == [("/login", 200)] and not app.registered.is_set()
        await asyncio.wait_for(asyncio.gather(call(app, "/clients"), call(app, "/no-such-page")), 5)
        assert sorted(routes.answered[1:]) == [("/clients", 200), ("/no-such-page", 404)]
        await registration
    asyncio.run(scenario())


def test_the_registration_waits_for_the_first_pages_burst_of_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """The launch link, the dashboard, its styles and scripts come one after another: the registration
    begins once QUIET_S passed without a request."""
    monkeypatch.setattr(deferred_routes, "QUIET_S", 0.05)

    async def scenario() -> None:
        routes = Routes()
        app = DeferredRoutes(routes, paths=("/api",))
        done: list[str] = []
        registration = asyncio.create_task(app.register([register(routes, "/api/v1/me", done)]))
        for path in ["/launch", "/", "/static/app.css", "/static/app.js"]:
            await call(app, path)
            await asyncio.sleep(0.02)   # the browser asks for the next one within QUIET_S
            assert done == []
        await asyncio.wait_for(registration, 5)
        assert done == ["/api/v1/me"]
    asyncio.run(scenario())


def test_a_request_for_a_deferred_route_does_not_wait_for_the_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deferred_routes, "QUIET_S", 30)
    monkeypatch.setattr(deferred_routes, "MAX_DELAY_S", 30)

    async def scenario() -> None:
        routes = Routes()
        app = DeferredRoutes(routes, paths=("/api",))
        done: list[str] = []
        registration = asyncio.create_task(app.register([register(routes, "/api/v1/me", done)]))
        await call(app, "/")
        await asyncio.wait_for(call(app, "/api/v1/me"), 5)
        assert routes.answered[-1] == ("/api/v1/me", 200)
        await registration
    asyncio.run(scenario())


def test_requests_that_never_stop_delay_the_registration_at_most_max_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deferred_routes, "QUIET_S", 30)
    monkeypatch.setattr(deferred_routes, "MAX_DELAY_S", 0.05)

    async def scenario() -> None:
        routes = Routes()
        app = DeferredRoutes(routes, paths=("/api",))
        done: list[str] = []
        registration = asyncio.create_task(app.register([register(routes, "/api/v1/me", done)]))
        await call(app, "/")
        await asyncio.wait_for(registration, 5)
        assert done == ["/api/v1/me"]
    asyncio.run(scenario())
