"""The server's start registers the JSON API once it has answered (app.web.server.create_app's
`routes_after_start`, app.web.deferred_routes): its first requests for the API and the schema get what an
app built with every route gives, never a 404."""

from __future__ import annotations

import json
from typing import Any

from litestar.testing import TestClient

from app.config import Config
from app.web.server import create_app
from tests.conftest import BASE_URL


def _schema(client: TestClient) -> dict[str, Any]:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_first_requests_for_the_api_and_its_schema_wait_for_their_routes(config: Config, api_token: str) -> None:
    headers = {"Authorization": f"Bearer {api_token}"}
    with TestClient(create_app(config, prepare=False, routes_after_start=True), base_url=BASE_URL) as late:
        late.headers.update(headers)
        first = late.get("/api/v1/me")   # the very first request: the routes are not there yet
        assert first.status_code == 200, first.text
        late_schema = _schema(late)
        assert late.get("/api/v1/clients").status_code == 200
        assert late.get("/api/v1/no-such-thing").status_code == 404
    with TestClient(create_app(config, prepare=False), base_url=BASE_URL) as eager:
        eager.headers.update(headers)
        eager_schema = _schema(eager)
    assert json.dumps(late_schema, sort_keys=True) == json.dumps(eager_schema, sort_keys=True)
    assert len(late_schema["paths"]) > 200


def test_pages_are_answered_before_the_api_is_registered(config: Config) -> None:
    app = create_app(config, prepare=False, routes_after_start=True)
    with TestClient(app, base_url=BASE_URL) as client:
        assert client.get("/login").status_code == 200
        assert client.get("/health").status_code == 200
        # Registered after that first answer, between requests: the app then has every route.
        assert client.get("/schema/openapi.json", follow_redirects=False).status_code in (303, 401)
        assert any(route.path.startswith("/api/v1/") for route in app.routes)
