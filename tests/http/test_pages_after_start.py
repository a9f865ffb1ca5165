"""The server's start registers only the first page's routes before it answers (app.web.server's
FIRST_PAGE_MODULES); the other pages' and the API's follow (app.web.deferred_routes). A page asked for
before its route is registered waits for it: the browser gets the page, never a 404."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from app import launcher
from app.auth import service as auth_service
from app.config import Config
from app.web.security import SESSION_COOKIE
from app.web.server import FIRST_PAGE_MODULES, FIRST_PAGE_TEMPLATES, create_app
from tests.conftest import BASE_URL, run


def _routes(app: Litestar) -> set[tuple[str, tuple[str, ...]]]:
    return {(route.path, tuple(sorted(route.methods))) for route in app.routes}


def _signed_in(client: TestClient, owner: dict[str, Any], config: Config) -> None:
    """A session as the launch link leaves it, without a request (the first request is the test's)."""
    session_id, _csrf = run(auth_service.start_session(owner["id"], lifetime_s=config.session_lifetime_s))
    client.cookies.set(SESSION_COOKIE, session_id)


def test_the_start_registers_only_the_first_pages_routes(config: Config) -> None:
    app = create_app(config, prepare=False, routes_after_start=True)
    paths = {route.path for route in app.routes}
    assert {"/", "/health", "/login", "/setup", "/launch"} <= paths
    assert "/clients" not in paths and "/invoices" not in paths and "/api/v1/me" not in paths
    first = {handler.paths.copy().pop() for module in FIRST_PAGE_MODULES for handler in module.ROUTES}
    assert {path for path in paths if not path.startswith(("/static", "/fonts", "/schema"))} == first


def test_a_page_asked_for_first_waits_for_its_route(config: Config, owner: dict[str, Any]) -> None:
    app = create_app(config, prepare=False, routes_after_start=True)
    with TestClient(app, base_url=BASE_URL) as client:
        _signed_in(client, owner, config)
        first = client.get("/clients")   # the very first request: no route for it yet
        assert first.status_code == 200, first.text
        assert "clients" in first.text.lower()
        assert client.get("/invoices?status=open").status_code == 200
        assert client.get("/no-such-page").status_code == 404
    eager = create_app(config, prepare=False)
    assert _routes(app) == _routes(eager)   # every route, as an app built at once has them


def test_a_signed_out_browser_is_sent_to_sign_in_from_a_page_not_registered_yet(config: Config,
                                                                                 owner: dict[str, Any]) -> None:
    with TestClient(create_app(config, prepare=False, routes_after_start=True), base_url=BASE_URL) as client:
        response = client.get("/invoices", follow_redirects=False)
        assert response.status_code in (302, 303), response.text
        assert response.headers["location"].startswith("/login")


def test_the_launch_link_and_the_dashboard_are_routed_before_the_other_routes(config: Config,
                                                                             owner: dict[str, Any]) -> None:
    """What a double-click opens is answered as soon as the server answers: its routes need no waiting."""
    app = create_app(config, prepare=False, routes_after_start=True)
    for path in ["/health", "/launch", "/", "/login", "/setup", "/static/app.css", "/static/htmx.min.js"]:
        app.asgi_router.handle_routing(path=path, method="GET")   # raises NotFoundException if not routable
    token = run(launcher._new_launch_token())
    with TestClient(app, base_url=BASE_URL) as client:
        launched = client.get(f"/launch?token={token}")
        assert launched.status_code == 200, launched.text
        dashboard = client.get("/")
        assert dashboard.status_code == 200, dashboard.text
        assert client.get("/static/app.css").status_code == 200


def test_the_first_pages_templates_are_compiled_while_the_browser_starts(config: Config,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(config, prepare=False, routes_after_start=True)
    environment = app.template_engine.engine   # type: ignore[union-attr]

    def compiled() -> set[str]:
        return {name for _loader, name in environment.cache} if environment.cache is not None else set()

    assert not set(FIRST_PAGE_TEMPLATES) & compiled()
    with TestClient(app, base_url=BASE_URL):
        deadline = time.monotonic() + 10
        while not set(FIRST_PAGE_TEMPLATES) <= compiled() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert set(FIRST_PAGE_TEMPLATES) <= compiled()   # no request asked for them
        time.sleep(0.2)   # then the locale's data
    assert "could not be prepared" not in caplog.text


def test_the_workers_but_the_backup_scheduler_start_once_the_other_routes_are_registered(
        config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first page needs none of them: the outbox, the accountant's package, recurring invoices and reminders
    start after the first page's burst (each catches up at its start); the backup scheduler at once, so that a
    quit in the first second still makes its on-quit backup. A stop before then starts none of them."""
    from app.mail import service as mail_service
    from app.web import server

    started: list[tuple[str, bool]] = []   # each worker, and whether the other routes were registered then
    apps: list[Litestar] = []
    real = server.other_workers

    def recorded(config: Config) -> list[Any]:
        workers = real(config)
        for worker in workers:
            async def start(original: Any = worker.start, name: str = type(worker).__module__) -> None:
                started.append((name, "/clients" in {route.path for route in apps[-1].routes}))
                await original()
            worker.start = start   # type: ignore[method-assign]
        return workers
    monkeypatch.setattr(server, "other_workers", recorded)
    monkeypatch.setattr(mail_service, "WORKER_AUTOSTART", False)   # no delivery attempts in this test

    apps.append(create_app(config, prepare=False, routes_after_start=True))
    with TestClient(apps[-1], base_url=BASE_URL) as client:
        assert client.get("/health").status_code == 200
        deadline = time.monotonic() + 10
        while len(started) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert started == [("app.mail.service", True), ("app.exports.service", True), ("app.recurring.service", True),
                       ("app.reminders.service", True)]

    started.clear()
    apps.append(create_app(config, prepare=False, routes_after_start=True))
    with TestClient(apps[-1], base_url=BASE_URL):
        pass   # stopped at once
    assert started == []

    apps.append(create_app(config, prepare=False))   # an app built at once (the tests' apps) starts them with it
    with TestClient(apps[-1], base_url=BASE_URL):
        assert len(started) == 4
