"""Data in, data out, safely (issue 12, item 5): unknown fields, bounds of numbers, dates and ids, names
and subjects on one line, download names, SMTP passwords in clear, logos that are pictures only.

(CSV cells that would run as formulas: tests/http/test_exports.py.)"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from litestar.routes import HTTPRoute

from app.web.api.base import Body
from tests.http.support import field_errors, make_client, make_item, query, snapshot
from tests.http.test_render import business  # noqa: F401  (a fixture)

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


# -- bounds: ids and page numbers beyond 64 bits, dates outside 1900-2200, deep or non-UTF-8 JSON ---------

BEYOND_64_BITS = str(2**63)


def routes_with(app: Any, wanted: Any) -> list[tuple[str, str, Any]]:
    """(method, path, handler) of every route and method, for the handlers `wanted(route, handler)` picks."""
    found = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if wanted(route, handler):
                    found.extend((method, route.path, handler) for method in sorted(handler.http_methods)
                                 if method not in ("HEAD", "OPTIONS"))
    return found


def fill(path: str, int_value: str = "1") -> str:
    return re.sub(r"\{\w+:int\}", int_value, re.sub(r"\{\w+:str\}", "X", path))


def test_an_id_beyond_64_bits_in_any_path_is_422_naming_it(api, browser):
    """Every route with an id in its path, pages and API: a 4xx naming the parameter, never SQLite's 500."""
    routes = routes_with(api.app, lambda route, handler: ":int}" in route.path)
    assert len(routes) >= 60
    for method, path, _ in routes:
        caller = api if path.startswith("/api/") else browser
        response = caller.request(method, fill(path, BEYOND_64_BITS))
        name = re.search(r"\{(\w+):int\}", path).group(1)
        assert response.status_code == 422, (method, path, response.status_code)
        assert f"{name} is too large" in response.text, (method, path)


def test_a_number_or_a_date_out_of_range_in_any_query_is_422_naming_it(api, browser):
    """Every query parameter declared a whole number or a date, on every route."""
    from app.web.inputs import _kinds

    def typed_query(route: Any, handler: Any) -> bool:
        return any(_kinds(definition.annotation) and name not in route.path
                   for name, definition in handler.parsed_fn_signature.parameters.items())

    routes = routes_with(api.app, typed_query)
    assert len(routes) >= 20
    checked = 0
    for method, path, handler in routes:
        caller = api if path.startswith("/api/") else browser
        for name, definition in handler.parsed_fn_signature.parameters.items():
            kinds = _kinds(definition.annotation)
            if not kinds or f"{{{name}:" in path:
                continue
            alias = getattr(definition.kwarg_definition, "name", None) or name
            for value, words in ((BEYOND_64_BITS, "is too large"), ("0001-01-01", "between 1900 and 2200")):
                if (value == BEYOND_64_BITS) != (int in kinds):
                    continue
                response = caller.request(method, fill(path), params={alias: value})
                assert response.status_code == 422, (method, path, alias, response.status_code)
                assert f"{alias} {words}" in response.text or f"{alias} must be {words}" in response.text, \
                    (method, path, alias, response.text[:300])
                checked += 1
    assert checked >= 25


def test_page_numbers_beyond_a_million_are_named(api, browser):
    for path in ("/api/v1/clients", "/api/v1/items", "/api/v1/invoices", "/api/v1/payments", "/api/v1/outbox"):
        for page_number in ("1000001", BEYOND_64_BITS, "99999999999999999999999999"):
            response = api.get(path, params={"page": page_number})
            assert response.status_code == 422 and "page" in field_errors(response), (path, page_number)
    assert api.get("/api/v1/clients", params={"page": "1000000"}).status_code == 200


def test_json_that_is_not_utf8_or_nests_too_deep_is_400_naming_the_body(api, config):
    client = make_client()
    for content, words in ((b'{"client_id": 1, "notes": "caf\xe9"}', "UTF-8"),
                           (b'{"notes": ' + b"[" * 40 + b"]" * 40 + b"}", "deeper than 32 levels (41)"),
                           (b'{"notes": ' + b"[" * 5000 + b"]" * 5000 + b"}", "deeper than 32 levels"),
                           (b"[" * 200_000 + b"]" * 200_000, "deeper than 32 levels"),
                           (b'"\\' + b'\\"' * 100_000, None)):   # no closing quote: malformed, answered at once
        response = api.post("/api/v1/invoices", content=content, headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        if words is None:
            continue
        assert words in field_errors(response)["body"]
    deep_but_allowed = {"client_id": client.id, "lines": [{"description": "x", "quantity": "1", "unit_price": "1",
                                                           "taxes": []}]}
    assert api.post("/api/v1/invoices", json=deep_but_allowed).status_code == 201
    assert snapshot(config, "document") != []


@pytest.mark.parametrize(("body", "field"), [
    ({"client_id": 2**63}, "client_id"), ({"client_id": 2**70}, "client_id"),
    ({"lines": [{"description": "x", "quantity": "1", "unit_price": "1", "item_id": 2**64}]}, "lines[0].item_id"),
    ({"terms_days": -(2**63) - 1}, "terms_days"),
])
def test_a_whole_number_beyond_64_bits_in_a_body_is_422_naming_it(api, config, body, field):
    client = make_client()
    response = api.post("/api/v1/invoices", json={"client_id": client.id, **body})
    assert response.status_code == 422 and list(field_errors(response)) == [field], response.text
    assert snapshot(config, "document") == []
    ids = api.post("/api/v1/invoices/bulk/mark-sent", json={"ids": [1, 2**64]})
    assert ids.status_code == 422 and list(field_errors(ids)) == ["ids[1]"]


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"quantity": "1000000000000"}, "lines[0].quantity", "at most 12 digits"),
    ({"quantity": "1E+1000000"}, "lines[0].quantity", "too large"),
    ({"unit_price": "1000000000000"}, "lines[0].unit_price", "at most 12 digits"),
    ({"unit_price": "9E+999999"}, "lines[0].unit_price", "too large"),
    ({"unit_price": 1e300}, "lines[0].unit_price", "too large"),
])
def test_quantities_and_prices_have_twelve_digits_at_most(api, config, change, field, words):
    client = make_client()
    line = {"description": "Work", "quantity": "1", "unit_price": "10", **change}
    response = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [line]})
    assert response.status_code == 422, response.text
    assert words in field_errors(response)[field]
    item = api.post("/api/v1/items", json={"code": "BIG", "name": "Big", "unit_price": "1000000000000"})
    assert item.status_code == 422 and "at most 12 digits" in field_errors(item)["unit_price"]
    assert snapshot(config, "document") == [] and snapshot(config, "catalog_item") == []


def test_twelve_digits_are_accepted(api):
    client = make_client()
    response = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [
        {"description": "Shares", "quantity": "999999999999", "unit_price": "0.5"},
        {"description": "Tower", "quantity": "1", "unit_price": "999999999999"}]})
    assert response.status_code == 201, response.text
    assert [line["quantity"] for line in response.json()["lines"]] == ["999999999999", "1"]
    item = api.post("/api/v1/items", json={"code": "TOWER", "name": "Tower", "unit_price": "999999999999.9999"})
    assert item.status_code == 201 and item.json()["unit_price"] == "999999999999.9999"


@pytest.mark.parametrize("day", ["1899-12-31", "2201-01-01", "0001-01-01", "9999-12-31"])
def test_a_date_outside_1900_to_2200_is_named(api, config, day):
    client = make_client()
    body = {"client_id": client.id, "issue_date": day, "confirm_date": True,
            "lines": [{"description": "Work", "quantity": "1", "unit_price": "10"}]}
    response = api.post("/api/v1/invoices", json=body)
    assert response.status_code == 422 and "between 1900 and 2200" in field_errors(response)["issue_date"]
    draft = api.post("/api/v1/invoices", json={k: v for k, v in body.items() if k != "issue_date"})
    assert draft.status_code == 201
    assert api.post(f"/api/v1/invoices/{draft.json()['id']}/issue").status_code == 200
    payment = api.post(f"/api/v1/invoices/{draft.json()['id']}/payments", json={"amount": "1.00", "date": day})
    assert payment.status_code == 422 and "between 1900 and 2200" in field_errors(payment)["date"]
    assert snapshot(config, "payment") == []


# -- a document dated more than a year from today: confirmed, in the API and in the editor ---------------

def test_the_api_asks_for_confirm_date_when_a_document_is_far_from_today(api, config):
    from app.settings.service import today
    from tests.conftest import run

    client = make_client()
    far = (run(today()) + timedelta(days=400)).isoformat()
    body = {"client_id": client.id, "issue_date": far, "lines": [{"description": "Work", "quantity": "1",
                                                                  "unit_price": "10"}]}
    refused = api.post("/api/v1/invoices", json=body)
    assert refused.status_code == 422
    assert "more than a year after today" in field_errors(refused)["issue_date"]
    assert "confirm_date" in field_errors(refused)["issue_date"]
    assert snapshot(config, "document") == []
    created = api.post("/api/v1/invoices", json={**body, "confirm_date": True})
    assert created.status_code == 201 and created.json()["issue_date"] == far
    # the confirmed date is kept by later edits without asking again; a new far date asks again
    document_id = created.json()["id"]
    assert api.patch(f"/api/v1/invoices/{document_id}", json={"notes": "Phase 2", "issue_date": far}).status_code == 200
    old = (run(today()) - timedelta(days=800)).isoformat()
    again = api.patch(f"/api/v1/invoices/{document_id}", json={"issue_date": old})
    assert again.status_code == 422 and "more than a year before today" in field_errors(again)["issue_date"]
    assert api.get(f"/api/v1/invoices/{document_id}").json()["issue_date"] == far


def test_the_editor_asks_with_a_box_and_saves_once_it_is_ticked(browser, config):
    from app.documents import service
    from app.settings.service import today
    from tests.conftest import run

    client = make_client()
    draft = run(service.create_document("invoice", {"client_id": client.id, "lines": [
        {"description": "Work", "quantity": "1", "unit_price": "10"}]}))
    far = (run(today()) + timedelta(days=3650)).isoformat()
    form = {"client_id": str(client.id), "currency": "CAD", "issue_date": far, "terms_days": "30",
            "lines-0-description": "Work", "lines-0-quantity": "1", "lines-0-unit_price": "10"}
    response = browser.post(f"/documents/{draft.id}/edit", data=form)
    assert response.status_code == 422
    assert "more than a year after today" in response.text and 'name="confirm_date"' in response.text
    assert run(service.get_document(draft.id)).issue_date == run(today())
    saved = browser.post(f"/documents/{draft.id}/edit", data={**form, "confirm_date": "true"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert run(service.get_document(draft.id)).issue_date.isoformat() == far
    assert 'name="confirm_date"' not in browser.get(f"/documents/{draft.id}/edit").text


# -- names and email subjects are one line ----------------------------------------------------------------

BREAKERS = ["Maple\r\nBcc: everyone@example.com", "Maple\u2028Bakery", "Maple\u2029Bakery", "\u202eyrekaB elpaM",
            "Maple\x00", "Maple\tBakery"]


@pytest.mark.parametrize("bad", BREAKERS)
def test_a_name_with_a_control_or_line_separator_is_refused_at_input(api, config, bad):
    make_client(name="Kept")
    assert api.get("/api/v1/settings").status_code == 200   # the settings rows exist before the refusals
    before = {table: snapshot(config, table) for table in ("client", "app_user", "business_settings", "mail_settings")}
    for method, path, body, field in [
        ("POST", "/api/v1/clients", {"name": bad}, "name"),
        ("POST", "/api/v1/clients", {"name": "Fine", "contact_name": bad}, "contact_name"),
        ("PATCH", "/api/v1/clients/1", {"name": bad}, "name"),
        ("POST", "/api/v1/users", {"email": "sam@example.com", "password": "long enough pass", "name": bad}, "name"),
        ("PATCH", "/api/v1/settings", {"name": bad}, "name"),
        ("PATCH", "/api/v1/settings/mail", {"smtp_from_name": bad}, "smtp_from_name"),
        ("PATCH", "/api/v1/settings/mail", {"email_templates": {"invoice": {"subject": bad, "body": "Hi"}}},
         "invoice_subject"),
    ]:
        response = api.request(method, path, json=body)
        assert response.status_code == 422, (path, body, response.text)
        message = field_errors(response)[field]
        assert "must be one line of plain text" in message, message
    assert {table: snapshot(config, table) for table in before} == before


def test_a_name_in_any_script_is_kept(api):
    response = api.post("/api/v1/clients", json={"name": "Søren Ångström", "contact_name": "علی\u200cرضا"})
    assert response.status_code == 201 and response.json()["contact_name"] == "علی\u200cرضا"


def test_the_client_form_names_the_field_too(browser, config):
    response = browser.post("/clients", data={"name": "Maple\u2028Bakery", "currency": "CAD"})
    assert response.status_code == 422 and "U+2028 LINE SEPARATOR" in response.text
    assert snapshot(config, "client") == []


@pytest.mark.parametrize("subject", ["Invoice\r\nBcc: all@example.com", "Invoice\u2028two", "Invoice\u0085x"])
def test_an_email_subject_with_a_line_separator_is_refused(api, config, subject):
    assert api.patch("/api/v1/settings/mail", json={"smtp_host": "127.0.0.1", "smtp_port": 2525,
                                                    "smtp_security": "none", "smtp_username": "",
                                                    "smtp_from_email": "billing@example.com"}).status_code == 200
    client = make_client(email="accounts@maple.example")
    invoice = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [
        {"description": "Work", "quantity": "1", "unit_price": "10"}]}).json()
    assert api.post(f"/api/v1/invoices/{invoice['id']}/issue").status_code == 200
    response = api.post(f"/api/v1/invoices/{invoice['id']}/send", json={"subject": subject})
    assert response.status_code == 422 and "must be one line" in field_errors(response)["subject"]
    assert snapshot(config, "outbox_message") == []


# -- download names: a fixed pattern, letters kept --------------------------------------------------------

def filename_star(response: Any) -> str:
    """The UTF-8 name of a download (RFC 8187), checked to come with an ASCII fallback."""
    header = response.headers["content-disposition"]
    match = re.fullmatch(r'(attachment|inline); filename="([ -~]+)"; filename\*=UTF-8\'\'(\S+)', header)
    assert match, header
    return unquote(match.group(3))


def test_a_pdf_for_soren_is_named_soren(api, business):
    from tests.http.test_render import new_invoice

    soren = make_client(name="Søren Åberg", country="DK", currency="EUR")
    invoice = new_invoice(api, soren, lines=1)
    response = api.get(f"/api/v1/invoices/{invoice['id']}/pdf")
    assert response.status_code == 200
    assert filename_star(response) == f"{invoice['number']}_Søren-Åberg.pdf"
    assert f'filename="{invoice["number"]}_Soren-Aberg.pdf"' in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "private, no-cache"
    inline = api.get(f"/api/v1/invoices/{invoice['id']}/pdf", params={"inline": "true"})
    assert inline.headers["content-disposition"].startswith("inline; ")


def test_a_query_parameter_never_names_a_download(api, business):
    from tests.http.test_render import new_invoice

    invoice = new_invoice(api, make_client(name="Globex", country="DE", currency="EUR", postal_code="10115",
                                           city="Berlin", buyer_reference="04011000-1234512345-06"), lines=1)
    for syntax, word in (("factur-x", "factur-x"), ("xrechnung", "xrechnung"), ("ubl", "peppol-ubl")):
        response = api.get(f"/api/v1/invoices/{invoice['id']}/xml", params={"syntax": syntax})
        if syntax == "ubl":  # the business and Globex have no Peppol address: refused, nothing named
            assert response.status_code == 422 and "content-disposition" not in response.headers
            continue
        assert response.status_code == 200, response.text
        assert response.headers["content-disposition"] == f'attachment; filename="{invoice["number"]}-{word}.xml"'
    evil = api.get(f"/api/v1/invoices/{invoice['id']}/xml", params={"syntax": 'evil"; filename="run.exe'})
    assert evil.status_code == 422 and "content-disposition" not in evil.headers


def test_csv_and_package_names(api, config):
    assert api.patch("/api/v1/settings", json={"name": "Søren Design"}).status_code == 200
    response = api.get("/api/v1/exports/clients.csv")
    assert response.headers["content-disposition"] == 'attachment; filename="clients.csv"'
    package = api.get("/api/v1/exports/accountant", params={"from": "2026-01-01", "to": "2026-01-31"})
    assert package.status_code == 200
    assert filename_star(package) == "søren-design-bookkeeping-2026-01-01-2026-01-31.zip"


# -- an SMTP password over an unencrypted connection ----------------------------------------------------

def test_the_api_refuses_a_password_in_clear_unless_ticked(api, config):
    from tests.http.smtp_support import PASSWORD, USERNAME

    assert api.get("/api/v1/settings/mail").status_code == 200
    before = snapshot(config, "mail_settings")
    plain = {"smtp_host": "mail.example.com", "smtp_port": 25, "smtp_security": "none", "smtp_username": USERNAME,
             "smtp_password": PASSWORD}
    for path in ("/api/v1/settings/mail", "/api/v1/settings"):
        refused = api.patch(path, json=plain)
        assert refused.status_code == 422, refused.text
        assert "would send your password unencrypted" in field_errors(refused)["smtp_security"]
    assert snapshot(config, "mail_settings") == before
    saved = api.patch("/api/v1/settings/mail", json={**plain, "smtp_allow_unencrypted_password": True})
    assert saved.status_code == 200 and saved.json()["smtp_allow_unencrypted_password"] is True
    untick = api.patch("/api/v1/settings/mail", json={"smtp_allow_unencrypted_password": False})
    assert untick.status_code == 422 and "smtp_security" in field_errors(untick)
    encrypted = api.patch("/api/v1/settings/mail", json={"smtp_security": "starttls", "smtp_port": 587})
    assert encrypted.status_code == 200


def test_the_settings_page_asks_for_the_box_and_then_warns(browser, config):
    form = {"smtp_host": "mail.example.com", "smtp_port": "25", "smtp_security": "none", "smtp_username": "me",
            "smtp_password": "secret", "smtp_from_email": "billing@example.com", "smtp_from_name": "Billing",
            "accountant_email": ""}
    refused = browser.post("/settings/email", data=form)
    assert refused.status_code == 422
    assert "would send your password unencrypted" in refused.text and 'name="smtp_allow_unencrypted_password"' in refused.text
    saved = browser.post("/settings/email", data={**form, "smtp_allow_unencrypted_password": "true"},
                         follow_redirects=False)
    assert saved.status_code == 303
    page = browser.get("/settings/email").text
    assert "Your password is sent unencrypted" in page
    # the form sent without the box (unticked) while the password would still go in clear: refused again
    again = browser.post("/settings/email", data={**form, "smtp_password": ""})
    assert again.status_code == 422


def test_a_saved_plain_password_is_never_sent_without_consent(api, config, smtp):
    """Settings from before the rule (or restored from a bundle) with Security none and a password: the
    server never sees the password; the test message says why."""
    import sqlite3

    from tests.http.smtp_support import PASSWORD, USERNAME

    assert api.patch("/api/v1/settings/mail", json={
        "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none", "smtp_username": USERNAME,
        "smtp_password": PASSWORD, "smtp_allow_unencrypted_password": True,
        "smtp_from_email": "billing@atelier.example"}).status_code == 200
    with sqlite3.connect(config.database_path) as connection:
        connection.execute("UPDATE mail_settings SET smtp_allow_unencrypted_password = 0")
    connection.close()
    result = api.post("/api/v1/settings/mail/test", json={"to": "me@example.com"})
    assert result.status_code == 200 and result.json()["ok"] is False
    assert "would send your password unencrypted" in result.json()["reply"]
    assert smtp.inbox.logins == [] and smtp.inbox.messages() == []


# -- a logo is a PNG or a JPEG, told by its content ------------------------------------------------------

SVG = (b"<?xml version='1.0'?>\n<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink'>"
       b"<image xlink:href='file:///etc/passwd'/><script>alert(1)</script></svg>")


@pytest.mark.parametrize(("content", "filename", "media"), [
    (SVG, "logo.svg", "image/svg+xml"), (SVG, "logo.png", "image/png"),   # the name does not matter
    (b"GIF89a" + b"\0" * 20, "logo.png", "image/png"), (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "logo.png", "image/png"),
])
def test_a_logo_that_is_not_a_png_or_jpeg_is_refused(browser, config, content, filename, media):
    response = browser.post("/settings/logo", files={"logo": (filename, content, media)}, follow_redirects=False)
    assert response.status_code == 422
    assert ("SVG logos are not accepted" if content is SVG else "must be a PNG or JPEG image") in response.text
    assert query(config, "SELECT logo_filename FROM business_settings") == [("",)]
    assert not config.attachments_dir.exists() or list(config.attachments_dir.iterdir()) == []
    assert browser.get("/settings/logo").status_code == 404


def test_a_png_named_svg_is_a_png(browser, config):
    from tests.http.support import png

    image = png()
    response = browser.post("/settings/logo", files={"logo": ("logo.svg", image, "image/svg+xml")},
                            follow_redirects=False)
    assert response.status_code == 303
    served = browser.get("/settings/logo")
    assert served.headers["content-type"] == "image/png" and served.content == image


def test_an_svg_logo_from_before_is_never_served_or_printed(browser, config):
    """A logo kept by an older version (or brought by a backup bundle) that is an SVG is not used."""
    import sqlite3

    config.attachments_dir.mkdir(exist_ok=True)
    (config.attachments_dir / "logo-old.svg").write_bytes(SVG)
    (config.attachments_dir / "logo-fake.png").write_bytes(SVG)
    for name in ("logo-old.svg", "logo-fake.png"):
        with sqlite3.connect(config.database_path) as connection:
            connection.execute("UPDATE business_settings SET logo_filename = ?", (name,))
        connection.close()
        assert browser.get("/settings/logo").status_code == 404
        card = browser.get("/settings/business-card/pdf")
        assert card.status_code == 200 and card.content.startswith(b"%PDF-")
