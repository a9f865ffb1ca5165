"""Dashboard, /health, static files and the OpenAPI document."""

from __future__ import annotations

import re

from app import __version__
from tests.conftest import OWNER_EMAIL
from tests.http.support import make_client, make_item


def test_dashboard_empty_state_says_what_to_do_first(browser):
    response = browser.get("/")
    assert response.status_code == 200
    text = response.text
    assert "Getting started" in text
    for href in ('href="/settings"', 'href="/clients/new"', 'href="/catalog/new"'):
        assert href in text
    assert "No clients yet" in text


def test_dashboard_shows_counts_and_the_latest_records(browser):
    make_client(name="Zoë Tremblay")
    make_client(name="Cedar Café")
    make_item(code="HOST-M", name="Managed hosting", unit_price="120")
    text = browser.get("/").text
    assert "Zoë Tremblay" in text and "Cedar Café" in text and "Managed hosting" in text
    assert re.search(r'stat-value">2</span><span class="stat-label">active clients', text)
    assert re.search(r'stat-value">1</span><span class="stat-label">catalogue items', text)


def test_health_needs_no_login_and_says_no_more_than_it_should(anonymous, owner):
    response = anonymous.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "version", "uptime_s", "database", "data_folder", "disk_free_bytes"}
    assert body["status"] == "ok" and body["database"] == "ok" and body["version"] == __version__
    assert body["data_folder"] == "ok"
    assert isinstance(body["uptime_s"], (int, float)) and body["uptime_s"] >= 0
    assert isinstance(body["disk_free_bytes"], int) and body["disk_free_bytes"] > 0
    assert OWNER_EMAIL not in response.text and "Test Studio" not in response.text
    assert "set-cookie" not in response.headers


def test_health_reports_a_broken_database(anonymous, config):
    config.database_path.unlink()
    config.database_path.mkdir()  # something that is not a database
    body = anonymous.get("/health").json()
    assert body["status"] != "ok" and body["database"] != "ok"


def test_static_files_need_no_login(anonymous):
    response = anonymous.get("/static/htmx.min.js")
    assert response.status_code == 200
    assert "htmx" in response.text[:2000]


def test_openapi_describes_every_api_route(api):
    response = api.get("/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]
    routes = {}
    for route in api.app.routes:
        if route.path.startswith("/api/v1"):
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            routes[path] = {method.lower() for method in route.methods} - {"options", "head"}
    assert {"/api/v1/clients", "/api/v1/clients/{client_id}", "/api/v1/items", "/api/v1/items/{item_id}",
            "/api/v1/settings", "/api/v1/me"} <= set(routes)
    for path, methods in routes.items():
        assert path in paths, f"{path} is missing from the OpenAPI document"
        assert methods <= set(paths[path]), (path, methods, set(paths[path]))


def test_openapi_needs_a_login(anonymous):
    response = anonymous.get("/schema/openapi.json", follow_redirects=False)
    assert response.status_code in (303, 401)
