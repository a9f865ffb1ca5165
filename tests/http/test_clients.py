"""Clients through HTTP against the real SQLite file: pages (htmx search) and /api/v1/clients."""

from __future__ import annotations

import pytest

from tests.http.support import count, field_errors, make_client, query, snapshot

HTMX = {"HX-Request": "true", "HX-Target": "client-results"}
FORM = {"name": "Zoë Tremblay", "contact_name": "", "email": "zoe@example.com", "phone": "+1 416 555 0199",
        "address_line1": "12 King Street", "address_line2": "", "postal_code": "M5V 2T6", "city": "Toronto",
        "region": "ON", "country": "CA", "currency": "CAD", "language": "en", "tax_number": "", "notes": "",
        "code": ""}


# -- pages ------------------------------------------------------------------------

def test_empty_list_tells_what_to_do(browser):
    response = browser.get("/clients")
    assert response.status_code == 200
    assert "No clients yet" in response.text
    assert 'href="/clients/new"' in response.text


def test_create_through_the_form(browser, config):
    form = browser.get("/clients/new")
    assert form.status_code == 200 and 'name="csrf_token"' in form.text and 'name="name"' in form.text
    response = browser.post("/clients", data=FORM, follow_redirects=False)
    assert response.status_code == 303
    (client_id, code, name, email, search_digits), = query(
        config, "SELECT id, code, name, email, search_digits FROM client")
    assert response.headers["location"] == f"/clients/{client_id}"
    assert (code, name, email, search_digits) == ("C0001", "Zoë Tremblay", "zoe@example.com", "14165550199")
    detail = browser.get(f"/clients/{client_id}")
    assert detail.status_code == 200
    assert "Zoë Tremblay" in detail.text and "C0001" in detail.text
    assert "is saved as C0001" in detail.text  # the one-time flash message


def test_codes_count_up_and_skip_custom_ones(browser, config):
    for name, code in [("One", ""), ("Two", "ACME"), ("Three", ""), ("Four", "")]:
        assert browser.post("/clients", data={**FORM, "name": name, "code": code},
                            follow_redirects=False).status_code == 303
    assert query(config, "SELECT name, code FROM client ORDER BY id") == [
        ("One", "C0001"), ("Two", "ACME"), ("Three", "C0002"), ("Four", "C0003")]


def test_an_automatic_code_never_collides_with_a_typed_one(api, config):
    api.post("/api/v1/clients", json={"name": "Typed", "code": "c0001"})
    created = api.post("/api/v1/clients", json={"name": "Automatic"})
    assert created.status_code == 201 and created.json()["code"] == "C0002"
    edited = api.patch(f"/api/v1/clients/{created.json()['id']}", json={"city": "Oslo"})
    assert edited.status_code == 200


def test_a_gap_in_the_codes_is_not_reused(api, config):
    ids = [api.post("/api/v1/clients", json={"name": f"Client {n}"}).json()["id"] for n in range(3)]
    assert api.delete(f"/api/v1/clients/{ids[1]}?hard=true").status_code == 200
    assert api.post("/api/v1/clients", json={"name": "Later"}).json()["code"] == "C0004"


def test_form_with_empty_name_is_refused_and_writes_nothing(browser, config):
    response = browser.post("/clients", data={**FORM, "name": "  "})
    assert response.status_code == 422
    assert "Name is required" in response.text
    assert 'value="zoe@example.com"' in response.text  # what was typed is kept
    assert count(config, "client") == 0


@pytest.mark.parametrize(("field", "value", "message"), [
    ("email", "zoe-at-example", "not a valid email"),
    ("country", "C1", "two-letter ISO code"),
    ("country", "Canada", "Country is too long"),
    ("currency", "XYZ", "unknown currency"),
])
def test_form_with_a_bad_field_is_refused_and_writes_nothing(browser, config, field, value, message):
    response = browser.post("/clients", data={**FORM, field: value})
    assert response.status_code == 422
    assert message in response.text
    assert count(config, "client") == 0


def test_form_with_a_duplicate_code_is_refused(browser, config):
    make_client(code="ACME")
    response = browser.post("/clients", data={**FORM, "code": "acme"})
    assert response.status_code == 422
    assert "already used" in response.text
    assert count(config, "client") == 1


def test_edit_through_the_form(browser, config):
    client = make_client(email="old@example.com")
    page = browser.get(f"/clients/{client.id}/edit")
    assert page.status_code == 200 and 'value="old@example.com"' in page.text
    response = browser.post(f"/clients/{client.id}/edit", data={**FORM, "name": "Maple Bakery & Co",
                                                                   "code": "MAPLE"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/clients/{client.id}"
    assert query(config, "SELECT name, code, email FROM client") == [("Maple Bakery & Co", "MAPLE", "zoe@example.com")]


def test_bad_edit_changes_nothing(browser, config):
    client = make_client(email="old@example.com")
    before = snapshot(config, "client")
    response = browser.post(f"/clients/{client.id}/edit", data={**FORM, "email": "broken"})
    assert response.status_code == 422 and "not a valid email" in response.text
    other = make_client(name="Other", code="TAKEN")
    before = snapshot(config, "client")
    response = browser.post(f"/clients/{client.id}/edit", data={**FORM, "code": "taken"})
    assert response.status_code == 422 and "already used" in response.text
    assert snapshot(config, "client") == before
    assert other.code == "TAKEN"


def test_archive_and_restore(browser, config):
    client = make_client(name="Birch Architects")
    response = browser.post(f"/clients/{client.id}/archive", follow_redirects=False)
    assert response.status_code == 303
    assert query(config, "SELECT status, archived_at IS NOT NULL FROM client") == [("archived", 1)]
    row_link = 'href="/clients/%d"' % client.id
    assert row_link not in browser.get("/clients").text
    assert row_link in browser.get("/clients?status=archived").text
    assert "Restore" in browser.get(f"/clients/{client.id}").text
    response = browser.post(f"/clients/{client.id}/restore", follow_redirects=False)
    assert response.status_code == 303
    assert query(config, "SELECT status, archived_at FROM client") == [("active", None)]
    assert row_link in browser.get("/clients").text


def test_unknown_client_pages_are_404(browser):
    assert browser.get("/clients/999").status_code == 404
    assert browser.get("/clients/999/edit").status_code == 404
    assert browser.post("/clients/999/archive").status_code == 404


def test_htmx_search_returns_only_the_rows(browser):
    make_client(name="Zoë Tremblay", email="zt@example.com")
    make_client(name="Harbour Logistics", phone="+1 416 555 0199")
    make_client(name="Cedar Café")
    full = browser.get("/clients?q=zoe")
    assert "<html" in full.text and "Zoë Tremblay" in full.text
    partial = browser.get("/clients?q=zoe", headers=HTMX)
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert "Zoë Tremblay" in partial.text
    assert "Harbour Logistics" not in partial.text and "Cedar Café" not in partial.text

    by_phone = browser.get("/clients", params={"q": "555 0199"}, headers=HTMX)
    assert "Harbour Logistics" in by_phone.text and "Zoë Tremblay" not in by_phone.text
    by_case = browser.get("/clients", params={"q": "CEDAR CAFE"}, headers=HTMX)
    assert "Cedar Café" in by_case.text and "Harbour Logistics" not in by_case.text
    none = browser.get("/clients", params={"q": "nobody"}, headers=HTMX)
    assert "No client matches" in none.text


def test_list_pages_and_sorts(browser):
    for n in range(27):
        make_client(name=f"Client {n:02d}", city="Zurich" if n == 3 else "Aachen")
    first = browser.get("/clients")
    assert "Client 00" in first.text and "Client 24" in first.text and "Client 25" not in first.text
    second = browser.get("/clients?page=2")
    assert "Client 25" in second.text and "Client 26" in second.text and "Client 00" not in second.text
    by_city = browser.get("/clients?sort=city&dir=desc", headers=HTMX).text
    assert by_city.index("Client 03") < by_city.index("Client 00")
    assert browser.get("/clients?sort=password").status_code == 422


# -- /api/v1/clients -----------------------------------------------------------------

def test_api_create_get_and_defaults(api, config):
    response = api.post("/api/v1/clients", json={"name": "Zoë Tremblay", "email": "Zoe@Example.com"})
    assert response.status_code == 201, response.text
    client = response.json()
    assert client["code"] == "C0001" and client["status"] == "active"
    assert client["email"] == "zoe@example.com"
    assert client["currency"] == "EUR"  # the settings' default currency
    assert client["archived_at"] is None and client["created_at"].endswith("+00:00")
    fetched = api.get(f"/api/v1/clients/{client['id']}")
    assert fetched.status_code == 200 and fetched.json() == client
    assert count(config, "client") == 1


def test_api_get_unknown_is_404(api):
    response = api.get("/api/v1/clients/4242")
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


def test_api_list_with_search_status_and_paging(api):
    for n in range(5):
        make_client(name=f"Client {n}")
    make_client(name="Zoë Tremblay", phone="+1 416 555 0199")
    archived = make_client(name="Zoe Archived")
    api.delete(f"/api/v1/clients/{archived.id}")

    everything = api.get("/api/v1/clients").json()
    assert set(everything) == {"items", "total", "page", "per_page"}
    assert (everything["total"], everything["page"], everything["per_page"]) == (6, 1, 50)

    page = api.get("/api/v1/clients", params={"per_page": 2, "page": 3}).json()
    assert page["total"] == 6 and page["page"] == 3 and page["per_page"] == 2
    assert [c["name"] for c in page["items"]] == ["Client 4", "Zoë Tremblay"]

    assert [c["name"] for c in api.get("/api/v1/clients", params={"q": "zoe"}).json()["items"]] == ["Zoë Tremblay"]
    assert [c["name"] for c in api.get("/api/v1/clients", params={"q": "555 0199"}).json()["items"]] == ["Zoë Tremblay"]
    assert [c["name"] for c in api.get("/api/v1/clients", params={"q": "zoe", "status": "archived"}).json()["items"]] \
        == ["Zoe Archived"]
    assert api.get("/api/v1/clients", params={"q": "zoe", "status": "all"}).json()["total"] == 2
    assert api.get("/api/v1/clients", params={"page": 99}).json()["items"] == []


@pytest.mark.parametrize(("params", "field"), [
    ({"per_page": 501}, "per_page"), ({"per_page": 0}, "per_page"), ({"page": 0}, "page"),
    ({"status": "deleted"}, "status"), ({"sort": "password_hash"}, "sort"),
])
def test_api_list_refuses_bad_parameters(api, params, field):
    response = api.get("/api/v1/clients", params=params)
    assert response.status_code == 422
    assert field in field_errors(response)


def test_api_per_page_500_is_allowed(api):
    assert api.get("/api/v1/clients", params={"per_page": 500}).json()["per_page"] == 500


def test_api_put_replaces_and_patch_updates(api, config):
    client = api.post("/api/v1/clients", json={"name": "Maple", "email": "a@example.com", "city": "Toronto",
                                               "code": "MAPLE"}).json()
    patched = api.patch(f"/api/v1/clients/{client['id']}", json={"email": "b@example.com"})
    assert patched.status_code == 200
    assert patched.json()["email"] == "b@example.com" and patched.json()["city"] == "Toronto"
    assert patched.json()["name"] == "Maple"
    replaced = api.put(f"/api/v1/clients/{client['id']}", json={"name": "Maple Bakery", "country": "ca"})
    assert replaced.status_code == 200
    body = replaced.json()
    assert (body["name"], body["country"], body["city"], body["email"], body["code"]) == \
        ("Maple Bakery", "CA", "", "", "MAPLE")
    assert query(config, "SELECT name, city FROM client") == [("Maple Bakery", "")]
    # The search keys follow the edit.
    assert api.get("/api/v1/clients", params={"q": "bakery"}).json()["total"] == 1


def test_api_put_needs_a_name(api, config):
    client = make_client()
    before = snapshot(config, "client")
    response = api.put(f"/api/v1/clients/{client.id}", json={"email": "x@example.com"})
    assert response.status_code == 422 and "name" in field_errors(response)
    assert snapshot(config, "client") == before


def test_api_delete_archives_and_hard_delete_removes(api, config):
    client = make_client()
    archived = api.delete(f"/api/v1/clients/{client.id}")
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert count(config, "client", "status = 'archived'") == 1
    assert api.delete(f"/api/v1/clients/{client.id}?hard=true").status_code == 200
    assert count(config, "client") == 0
    assert api.get(f"/api/v1/clients/{client.id}").status_code == 404
    assert api.delete(f"/api/v1/clients/{client.id}").status_code == 404


def test_api_hard_delete_of_a_client_with_only_drafts_is_refused_with_409(api, config):
    client = make_client(name="Drafty Ltd")
    draft = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [
        {"description": "Work", "quantity": "1", "unit_price": "10.00", "taxes": []}]})
    assert draft.status_code == 201, draft.text
    before = (snapshot(config, "client"), snapshot(config, "document"), snapshot(config, "document_line"))
    response = api.delete(f"/api/v1/clients/{client.id}?hard=true")
    assert response.status_code == 409, response.text
    detail = response.json()["detail"]
    assert "Drafty Ltd" in detail and "1 document" in detail and "draft" in detail and "archive" in detail
    assert (snapshot(config, "client"), snapshot(config, "document"), snapshot(config, "document_line")) == before
    # once the draft is gone, nothing refers to the client and the hard delete goes through
    assert api.delete(f"/api/v1/invoices/{draft.json()['id']}").status_code in (200, 204)
    assert api.delete(f"/api/v1/clients/{client.id}?hard=true").status_code == 200
    assert count(config, "client") == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"email": "x@example.com"}, "name"),
    ({"name": "A", "email": "not an email"}, "email"),
    ({"name": "A", "currency": "XYZ"}, "currency"),
    ({"name": "A", "country": "Germany"}, "country"),
    ({"name": "A", "language": "tlh"}, "language"),
    ({"name": "A", "code": "no spaces please"}, "code"),
])
def test_api_create_refuses_bad_input_and_writes_nothing(api, config, body, field):
    response = api.post("/api/v1/clients", json=body)
    assert response.status_code == 422
    assert field in field_errors(response)
    assert count(config, "client") == 0


def test_api_create_refuses_a_duplicate_code(api, config):
    make_client(code="ACME")
    response = api.post("/api/v1/clients", json={"name": "Other", "code": "Acme"})
    assert response.status_code == 422
    assert "code" in field_errors(response)
    assert count(config, "client") == 0 + 1


def test_api_patch_refuses_bad_input_and_changes_nothing(api, config):
    client = make_client(email="keep@example.com")
    make_client(name="Other", code="TAKEN")
    before = snapshot(config, "client")
    for body, field in [({"email": "nope"}, "email"), ({"code": "taken"}, "code"), ({"name": ""}, "name"),
                        ({"currency": "XYZ"}, "currency")]:
        response = api.patch(f"/api/v1/clients/{client.id}", json=body)
        assert response.status_code == 422, body
        assert field in field_errors(response)
    assert snapshot(config, "client") == before


def test_api_wrong_json_types_are_400_and_write_nothing(api, config):
    response = api.post("/api/v1/clients", json={"name": 42})
    assert response.status_code == 400
    assert "detail" in response.json() and "errors" in response.json()
    response = api.post("/api/v1/clients", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert count(config, "client") == 0


# -- the buyer reference (EN 16931 BT-10, e.g. a German authority's Leitweg-ID) --------------------

LEITWEG = "04011000-1234512345-06"


def test_buyer_reference_through_the_form(browser, config):
    form = browser.get("/clients/new").text
    assert 'name="buyer_reference"' in form and "Buyer reference (e.g. Leitweg-ID)" in form
    response = browser.post("/clients", data={**FORM, "buyer_reference": f" {LEITWEG} "}, follow_redirects=False)
    assert response.status_code == 303
    (client_id, reference), = query(config, "SELECT id, buyer_reference FROM client")
    assert reference == LEITWEG
    detail = browser.get(f"/clients/{client_id}").text
    assert "Buyer reference" in detail and LEITWEG in detail and "check digits" not in detail
    edit = browser.get(f"/clients/{client_id}/edit").text
    assert f'value="{LEITWEG}"' in edit
    # A mistyped Leitweg-ID is saved (a reference is free text) but the client's page points it out.
    mistyped = "04011000-1234512354-06"
    assert browser.post(f"/clients/{client_id}/edit", data={**FORM, "buyer_reference": mistyped},
                        follow_redirects=False).status_code == 303
    assert "check digits (the last two) do not match" in browser.get(f"/clients/{client_id}").text
    # Too long or on two lines: refused, named, nothing changed.
    before = snapshot(config, "client")
    for bad, message in [("R" * 101, "at most 100"), ("PO 1\r\nPO 2", "one line")]:
        refused = browser.post(f"/clients/{client_id}/edit", data={**FORM, "buyer_reference": bad})
        assert refused.status_code == 422 and message in refused.text and 'id="e-buyer_reference"' in refused.text
    assert snapshot(config, "client") == before
    # Emptied: no reference any more.
    assert browser.post(f"/clients/{client_id}/edit", data={**FORM, "buyer_reference": ""},
                        follow_redirects=False).status_code == 303
    assert query(config, "SELECT buyer_reference FROM client") == [("",)]


def test_buyer_reference_through_the_api(api, config):
    created = api.post("/api/v1/clients", json={"name": "Stadt Bremen", "country": "DE", "buyer_reference": LEITWEG})
    assert created.status_code == 201 and created.json()["buyer_reference"] == LEITWEG
    client_id = created.json()["id"]
    assert api.get(f"/api/v1/clients/{client_id}").json()["buyer_reference"] == LEITWEG
    assert api.get("/api/v1/clients").json()["items"][0]["buyer_reference"] == LEITWEG
    # PATCH leaves it alone unless given; PUT replaces the whole client, so it is emptied when not given.
    assert api.patch(f"/api/v1/clients/{client_id}", json={"city": "Bremen"}).json()["buyer_reference"] == LEITWEG
    patched = api.patch(f"/api/v1/clients/{client_id}", json={"buyer_reference": "PO 2026/17"})
    assert patched.status_code == 200 and patched.json()["buyer_reference"] == "PO 2026/17"
    assert api.put(f"/api/v1/clients/{client_id}", json={"name": "Stadt Bremen"}).json()["buyer_reference"] == ""
    before = snapshot(config, "client")
    for bad in ("x" * 101, "line\nbreak"):
        response = api.patch(f"/api/v1/clients/{client_id}", json={"buyer_reference": bad})
        assert response.status_code == 422 and list(field_errors(response)) == ["buyer_reference"]
    assert snapshot(config, "client") == before
    assert api.post("/api/v1/clients", json={"name": "X", "buyer_reference": 12}).status_code == 400
    schema = api.get("/schema/openapi.json").json()
    assert "buyer_reference" in schema["components"]["schemas"]["ClientOut"]["properties"]
