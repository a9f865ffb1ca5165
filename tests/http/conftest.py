"""HTTP clients that behave like the browser (Origin, CSRF token) or like a script (bearer)."""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest
from litestar.testing import TestClient

from app.config import Config
from app.server import create_app
from tests.conftest import BASE_URL, OWNER_EMAIL, OWNER_PASSWORD, STAFF_EMAIL, STAFF_PASSWORD, run

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class BrowserClient(TestClient):
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


def _client(config: Config, cls: type[TestClient] = BrowserClient) -> TestClient:
    return cls(app=create_app(config, prepare=False), base_url=BASE_URL, raise_server_exceptions=False)


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

    token, _ = run(service.create_api_token(owner["id"], "tests"))
    return token


@pytest.fixture
def api(config: Config, api_token: str) -> Iterator[TestClient]:
    """A script: bearer token, no cookies, no Origin."""
    with TestClient(app=create_app(config, prepare=False), base_url=BASE_URL, raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {api_token}"}) as client:
        yield client
