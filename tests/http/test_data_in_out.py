"""Data in, data out, safely (issue 12, item 5): unknown fields, bounds of numbers, dates and ids, names
and subjects on one line, download names, SMTP passwords in clear, logos that are pictures only.

(CSV cells that would run as formulas: tests/http/test_exports.py.)"""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from app.web.api.base import Body
from tests.http.support import field_errors, make_client, make_item, snapshot

# -- a field the endpoint does not know ------------------------------------------------------------


def body_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every API route that reads a JSON body, path parameters filled in."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if "data" not in handler.parsed_fn_signature.parameters:
                continue
            path = re.sub(r"\{\w+:int\}", "1", re.sub(r"\{\w+:str\}", "X", route.path))
            found.extend((method, path) for method in sorted(handler.http_methods))
    return found


def test_every_body_refuses_a_field_it_does_not_know(api):
    routes = body_routes(api.app)
    assert len(routes) >= 30
    for method, path in routes:
        response = api.request(method, path, json={"zzz_misspelt": "x"})
        assert response.status_code == 422, (method, path, response.text)
        assert list(field_errors(response)) == ["zzz_misspelt"], (method, path)
        assert "zzz_misspelt" in response.json()["detail"]


def test_a_misspelt_field_changes_nothing_and_is_named(api, config):
    """The report that started it: PATCH /api/v1/items/N with `nmae` answered 200 and dropped it."""
    item = make_item()
    before = snapshot(config, "catalog_item")
    response = api.patch(f"/api/v1/items/{item['id']}", json={"nmae": "Renamed", "unit_price": "1.00"})
    assert response.status_code == 422
    errors = field_errors(response)
    assert list(errors) == ["nmae"] and "nmae" in errors["nmae"]
    assert snapshot(config, "catalog_item") == before


def test_a_field_inside_a_line_or_a_template_is_named_with_its_path(api, config):
    client = make_client()
    response = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [
        {"description": "Work", "quantity": "1", "unit_price": "10"},
        {"description": "More", "qty": "2", "unit_price": "10"}]})
    assert response.status_code == 422 and list(field_errors(response)) == ["lines[1].qty"]
    assert snapshot(config, "document") == []
    response = api.patch("/api/v1/settings/mail", json={"email_templates": {"invoice": {"subjet": "Hello"}}})
    assert response.status_code == 422 and list(field_errors(response)) == ["email_templates.invoice.subjet"]


def test_every_api_body_struct_forbids_unknown_fields():
    import msgspec

    from app.web import api as api_package

    bodies = {value for module in vars(api_package).values() if hasattr(module, "__dict__")
              for value in vars(module).values()
              if isinstance(value, type) and issubclass(value, msgspec.Struct) and value.__name__.endswith("In")}
    assert len(bodies) >= 15
    for struct in bodies:
        assert issubclass(struct, Body), struct
        assert struct.__struct_config__.forbid_unknown_fields, struct


@pytest.mark.parametrize("body", [{"name": 42}, {"name": ["x"]}])
def test_a_wrong_type_is_still_400_naming_the_field(api, body):
    response = api.post("/api/v1/clients", json=body)
    assert response.status_code == 400 and "name" in field_errors(response)
