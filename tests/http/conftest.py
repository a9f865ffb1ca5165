"""HTTP clients that behave like the browser (Origin, CSRF token) or like a script (bearer)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from app.config import Config
from app.web.server import create_app
from tests.conftest import BASE_URL, OWNER_EMAIL, OWNER_PASSWORD, STAFF_EMAIL, STAFF_PASSWORD, run

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class _AppPool:
    """Litestar apps kept for reuse within one test process.

    Building the app (validating a few hundred handler signatures) costs more than most
    tests. The app reads everything from its Config object, so a reused app gets the
    test's config copied into its own. An app serves one client at a time (its startup
    hooks start workers bound to that client's event loop); a second client alive at
    the same time gets another app. A test needing other settings calls create_app.
    """

    def __init__(self) -> None:
        self.free: list[tuple[Config, Litestar]] = []

    def acquire(self, config: Config) -> tuple[Config, Litestar]:
        if self.free:
            live, app = self.free.pop()
        else:
            live = dataclasses.replace(config, extra_hosts=list(config.extra_hosts))
            app = create_app(live, prepare=False)
        for field in dataclasses.fields(Config):
            value = getattr(config, field.name)
            setattr(live, field.name, list(value) if isinstance(value, list) else value)
        return live, app

    def release(self, entry: tuple[Config, Litestar]) -> None:
        self.free.append(entry)


APPS = _AppPool()


class PooledClient(TestClient):
    """A TestClient on an app from the pool; the app goes back when the client closes."""

    pool_entry: tuple[Config, Litestar] | None = None

    def __exit__(self, *exc_info: Any) -> None:
        try:
            super().__exit__(*exc_info)
        finally:
            if self.pool_entry is not None:
                APPS.release(self.pool_entry)
                self.pool_entry = None


class BrowserClient(PooledClient):
    """Sends what a same-site browser sends: Origin on unsafe methods and the page's CSRF token."""

    csrf: str = ""

    def refresh_csrf(self, path: str = "/login") -> str:
        response = self.get(path)
        match = CSRF_RE.search(response.text)
        if match:
            self.csrf = match.group(1)
        return self.csrf

    def request(self, method: str, url: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if method.upper() not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("Origin", BASE_URL)
            if self.csrf:
                headers.setdefault("X-CSRF-Token", self.csrf)
            kwargs["headers"] = headers
        return super().request(method, url, **kwargs)

    def sign_in(self, email: str, password: str) -> Any:
        self.refresh_csrf("/login")
        response = self.post("/login", data={"email": email, "password": password, "next": "/"},
                             follow_redirects=False)
        assert response.status_code == 303, response.text
        self.refresh_csrf("/account")
        return response


def _client(config: Config, cls: type[PooledClient] = BrowserClient) -> Any:
    entry = APPS.acquire(config)
    client = cls(app=entry[1], base_url=BASE_URL, raise_server_exceptions=False)
    client.pool_entry = entry
    return client


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at its smallest cost: these tests check the flows, not the hash's strength.

    (tests/http/test_cli.py checks the real parameters in a database made by `counterfoil init`.)
    """
    from argon2 import PasswordHasher

    from app.auth import service

    monkeypatch.setattr(service, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def anonymous(config: Config) -> Iterator[BrowserClient]:
    with _client(config) as client:
        yield client  # type: ignore[misc]


@pytest.fixture
def browser(config: Config, owner: dict[str, Any]) -> Iterator[BrowserClient]:
    """Signed in as the owner."""
    with _client(config) as client:
        client.sign_in(OWNER_EMAIL, OWNER_PASSWORD)  # type: ignore[attr-defined]
        yield client  # type: ignore[misc]


@pytest.fixture
def staff_browser(config: Config, staff: dict[str, Any]) -> Iterator[BrowserClient]:
    with _client(config) as client:
        client.sign_in(STAFF_EMAIL, STAFF_PASSWORD)  # type: ignore[attr-defined]
        yield client  # type: ignore[misc]


@pytest.fixture
def api_token(owner: dict[str, Any]) -> str:
    from app.auth import service

    token, _ = run(service.create_api_token(owner["id"], "tests", scope="owner"))
    return token


@pytest.fixture
def api(config: Config, api_token: str) -> Iterator[TestClient]:
    """A script: bearer token, no cookies, no Origin."""
    with _client(config, PooledClient) as client:
        client.headers["Authorization"] = f"Bearer {api_token}"
        yield client


# -- mail ------------------------------------------------------------------------------------------

@pytest.fixture
def no_background_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    """The outbox worker and the exports scheduler stay off: a test delivers with smtp_support.deliver()
    when it wants the mail sent (a module asks for it with pytest.mark.usefixtures)."""
    from app.exports import service as exports_service
    from app.mail import service as mail_service

    monkeypatch.setattr(mail_service, "WORKER_AUTOSTART", False)
    monkeypatch.setattr(exports_service, "SCHEDULER_AUTOSTART", False)


@pytest.fixture
def smtp() -> Iterator[Any]:
    """A local SMTP server (with AUTH) receiving what the test sends; its inbox holds the messages."""
    from tests.http.smtp_support import SmtpServer, free_port

    server = SmtpServer(free_port()).start()
    yield server
    server.stop()
