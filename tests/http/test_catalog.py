"""Catalogue through HTTP against the real SQLite file: pages and /api/v1/items."""

from __future__ import annotations

import pytest

from tests.http.support import count, field_errors, make_item, query, snapshot

FORM = {"code": "DEV-H", "name": "Software development", "kind": "service", "category": "Development",
        "unit": "hour", "unit_price": "125.00", "default_taxes": "", "active": "on",
        "description": "Design, implementation and testing."}


# -- pages ------------------------------------------------------------------------

def test_empty_catalogue_page(browser):
    response = browser.get("/catalog")
    assert response.status_code == 200
    assert 'href="/catalog/new"' in response.text


def test_create_through_the_form(browser, config):
    page = browser.get("/catalog/new")
    assert page.status_code == 200 and 'name="unit_price"' in page.text
    response = browser.post("/catalog", data={**FORM, "unit_price": "24.9900"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/catalog"
    assert query(config, "SELECT code, name, unit_price_e4, active, kind, category FROM catalog_item") == [
        ("DEV-H", "Software development", 249_900, 1, "service", "Development")]
    listing = browser.get("/catalog")
    assert "Software development" in listing.text and "24.99" in listing.text


def test_unchecked_active_box_makes_the_item_inactive(browser, config):
    form = {key: value for key, value in FORM.items() if key != "active"}
    assert browser.post("/catalog", data=form, follow_redirects=False).status_code == 303
    (item_id, active), = query(config, "SELECT id, active FROM catalog_item")
    assert active == 0
    row_link = 'href="/catalog/%d/edit"' % item_id
    assert row_link not in browser.get("/catalog").text
    assert row_link in browser.get("/catalog?show=inactive").text
    assert row_link in browser.get("/catalog?show=all").text


@pytest.mark.parametrize(("field", "value", "message"), [
    ("unit_price", "-5", "cannot be negative"),
    ("unit_price", "1.23456", "more than 4 decimal places"),
    ("unit_price", "cheap", "not a number"),
    ("name", "", "Name is required"),
    ("code", "", "Code is required"),
])
def test_form_with_bad_input_is_refused_and_writes_nothing(browser, config, field, value, message):
    response = browser.post("/catalog", data={**FORM, field: value})
    assert response.status_code == 422
    assert message in response.text
    assert count(config, "catalog_item") == 0


@pytest.mark.parametrize(("field", "value"), [("code", "dev-h"), ("name", "SOFTWARE Development")])
def test_form_with_a_duplicate_code_or_name_is_refused(browser, config, field, value):
    make_item(code="DEV-H", name="Software development")
    response = browser.post("/catalog", data={**FORM, "code": "OTHER", "name": "Other", field: value})
    assert response.status_code == 422
    assert "already used" in response.text
    assert count(config, "catalog_item") == 1


def test_edit_through_the_form(browser, config):
    item = make_item(unit_price="0.0125")
    page = browser.get(f"/catalog/{item['id']}/edit")
    assert page.status_code == 200 and 'value="0.0125"' in page.text
    response = browser.post(f"/catalog/{item['id']}/edit", data={**FORM, "unit_price": "130"}, follow_redirects=False)
    assert response.status_code == 303
    assert query(config, "SELECT unit_price_e4, name FROM catalog_item") == [(1_300_000, "Software development")]


def test_bad_edit_changes_nothing(browser, config):
    item = make_item()
    make_item(code="HOST-M", name="Hosting")
    before = snapshot(config, "catalog_item")
    for field, value in [("unit_price", "-1"), ("code", "host-m"), ("name", "hosting"), ("unit_price", "0.00001")]:
        response = browser.post(f"/catalog/{item['id']}/edit", data={**FORM, field: value})
        assert response.status_code == 422, field
    assert snapshot(config, "catalog_item") == before


def test_delete_through_the_form(browser, config):
    item = make_item()
    response = browser.post(f"/catalog/{item['id']}/delete", follow_redirects=False)
    assert response.status_code == 303
    assert count(config, "catalog_item") == 0
    assert browser.get(f"/catalog/{item['id']}/edit").status_code == 404


def test_htmx_search_returns_only_the_rows(browser):
    make_item(code="DEV-H", name="Développement logiciel")
    make_item(code="HOST-M", name="Managed hosting", category="Hosting")
    partial = browser.get("/catalog", params={"q": "developpement"},
                          headers={"HX-Request": "true", "HX-Target": "item-results"})
    assert partial.status_code == 200 and "<html" not in partial.text
    assert "Développement logiciel" in partial.text and "Managed hosting" not in partial.text
    by_category = browser.get("/catalog", params={"category": "Hosting"}).text
    assert "Managed hosting" in by_category and "Développement logiciel" not in by_category


# -- /api/v1/items -------------------------------------------------------------------

def test_api_crud(api, config):
    created = api.post("/api/v1/items", json={"code": "DOMAIN", "name": "Domain renewal", "kind": "product",
                                              "unit": "year", "unit_price": "24.99", "category": "Hosting"})
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["unit_price"] == "24.99" and item["active"] is True and item["default_taxes"] == []
    assert api.get(f"/api/v1/items/{item['id']}").json() == item

    patched = api.patch(f"/api/v1/items/{item['id']}", json={"unit_price": "0.0125"})
    assert patched.status_code == 200
    assert patched.json()["unit_price"] == "0.0125" and patched.json()["name"] == "Domain renewal"
    assert query(config, "SELECT unit_price_e4 FROM catalog_item") == [(125,)]

    replaced = api.put(f"/api/v1/items/{item['id']}", json={"code": "DOMAIN", "name": "Domain", "unit_price": "20"})
    assert replaced.status_code == 200
    assert (replaced.json()["unit_price"], replaced.json()["category"], replaced.json()["kind"]) == \
        ("20.00", "", "service")

    assert api.delete(f"/api/v1/items/{item['id']}").status_code == 204
    assert api.get(f"/api/v1/items/{item['id']}").status_code == 404
    assert count(config, "catalog_item") == 0


@pytest.mark.parametrize(("number", "text"), [("24.99", "24.99"), ("1.1", "1.10"), ("0.0001", "0.0001"),
                                              ("100", "100.00")])
def test_api_reads_json_numbers_through_their_decimal_text(api, number, text):
    body = ('{"code": "X", "name": "X", "unit_price": %s}' % number).encode()
    response = api.post("/api/v1/items", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["unit_price"] == text


def test_api_list_filters_and_pages(api):
    for n in range(4):
        make_item(code=f"S{n}", name=f"Service {n}", category="Consulting")
    make_item(code="OLD", name="Old thing", active=False)
    listing = api.get("/api/v1/items").json()
    assert (listing["total"], listing["page"], listing["per_page"]) == (5, 1, 50)
    assert api.get("/api/v1/items", params={"active": "true"}).json()["total"] == 4
    assert [i["code"] for i in api.get("/api/v1/items", params={"active": "false"}).json()["items"]] == ["OLD"]
    assert api.get("/api/v1/items", params={"category": "Consulting"}).json()["total"] == 4
    assert [i["code"] for i in api.get("/api/v1/items", params={"q": "service 3"}).json()["items"]] == ["S3"]
    page = api.get("/api/v1/items", params={"per_page": 2, "page": 2, "sort": "code"}).json()
    assert [i["code"] for i in page["items"]] == ["S1", "S2"]  # OLD, S0 | S1, S2 | S3
    response = api.get("/api/v1/items", params={"per_page": 501})
    assert response.status_code == 422 and "per_page" in field_errors(response)


@pytest.mark.parametrize(("body", "field"), [
    ({"code": "X", "name": "", "unit_price": "1"}, "name"),
    ({"code": "", "name": "X", "unit_price": "1"}, "code"),
    ({"code": "X", "name": "X", "unit_price": "-0.01"}, "unit_price"),
    ({"code": "X", "name": "X", "unit_price": "1.23456"}, "unit_price"),
    ({"code": "X", "name": "X"}, "unit_price"),
    ({"code": "X", "name": "X", "unit_price": "1", "kind": "robot"}, "kind"),
    ({"code": "X", "name": "X", "unit_price": "1", "default_taxes": ["G$T"]}, "default_taxes"),
])
def test_api_create_refuses_bad_input_and_writes_nothing(api, config, body, field):
    response = api.post("/api/v1/items", json=body)
    assert response.status_code == 422, response.text
    assert field in field_errors(response)
    assert count(config, "catalog_item") == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"code": "dev-h", "name": "Other", "unit_price": "1"}, "code"),
    ({"code": "OTHER", "name": "DEVELOPMENT", "unit_price": "1"}, "name"),
])
def test_api_refuses_duplicate_code_and_name(api, config, body, field):
    make_item(code="DEV-H", name="Development")
    response = api.post("/api/v1/items", json=body)
    assert response.status_code == 422
    assert field in field_errors(response)
    assert count(config, "catalog_item") == 1


def test_api_float_looking_garbage_is_refused(api, config):
    response = api.post("/api/v1/items", json={"code": "X", "name": "X", "unit_price": "12,50"})
    assert response.status_code in (400, 422)
    assert count(config, "catalog_item") == 0


def test_api_patch_refuses_bad_input_and_changes_nothing(api, config):
    item = make_item()
    make_item(code="HOST-M", name="Hosting")
    before = snapshot(config, "catalog_item")
    for body, field in [({"unit_price": "-1"}, "unit_price"), ({"code": "HOST-M"}, "code"),
                        ({"name": "hosting"}, "name"), ({"name": ""}, "name")]:
        response = api.patch(f"/api/v1/items/{item['id']}", json=body)
        assert response.status_code == 422, body
        assert field in field_errors(response)
    assert snapshot(config, "catalog_item") == before


def test_api_unknown_item_is_404(api):
    assert api.get("/api/v1/items/77").status_code == 404
    assert api.patch("/api/v1/items/77", json={"name": "X"}).status_code == 404
    assert api.delete("/api/v1/items/77").status_code == 404
