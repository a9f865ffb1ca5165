"""API tokens have scopes and an end (issue 12, item 4): read only looks, write also changes, owner also
does what only the owner may (settings, users, tokens, deleting); pages are for browser sessions only;
a token past its last day answers 401 saying it expired. Every check through HTTP against the real
SQLite file, for each scope."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest

from app.auth import service as auth_service
from app.common.logic import ValidationFailed
from tests.conftest import run
from tests.http.conftest import PooledClient, _client
from tests.http.support import count, field_errors, make_item, query, snapshot

TOKEN_FIELD_RE = r'id="new-token">([^<]+)<'


@contextmanager
def script(config, token: str) -> Iterator[Any]:
    """A script: the bearer token, no cookies, no Origin."""
    with _client(config, PooledClient) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def new_token(user: dict[str, Any], scope: str, **extra: Any) -> str:
    token, _ = run(auth_service.create_api_token(user["id"], f"{scope} script", scope=scope, **extra))
    return token


def state(config) -> dict[str, list[tuple]]:
    """Everything a refused request might have written."""
    return {table: snapshot(config, table)
            for table in ("client", "catalog_item", "business_settings", "api_token", "app_user")}


# (method, path, body, the scopes that may) for the owner's tokens; "{item}" is a catalogue item's id.
OWNER_REQUESTS = [
    ("GET", "/api/v1/clients", None, {"read", "write", "owner"}),
    ("GET", "/api/v1/me", None, {"read", "write", "owner"}),
    ("POST", "/api/v1/clients", {"name": "Scripted Ltd"}, {"write", "owner"}),
    ("PATCH", "/api/v1/items/{item}", {"name": "Renamed"}, {"write", "owner"}),
    ("GET", "/api/v1/settings", None, {"owner"}),
    ("PATCH", "/api/v1/settings", {"name": "Taken over"}, {"owner"}),
    ("GET", "/api/v1/tokens", None, {"owner"}),
    ("POST", "/api/v1/tokens", {"name": "made by a script"}, {"owner"}),
    ("GET", "/api/v1/users", None, {"owner"}),
    ("POST", "/api/v1/users", {"email": "new@example.com", "password": "a long password 1"}, {"owner"}),
    ("DELETE", "/api/v1/items/{item}", None, {"owner"}),
    # Pages are for browser sessions, whatever the scope.
    ("GET", "/clients", None, set()),
    ("GET", "/account", None, set()),
    ("GET", "/settings", None, set()),
    ("POST", "/account/tokens", {"name": "via the page"}, set()),
    ("POST", "/users", {"email": "page@example.com", "password": "a long password 1"}, set()),
]


@pytest.mark.parametrize("scope", ["read", "write", "owner"])
def test_each_scope_opens_exactly_its_requests(config, owner, scope):
    token = new_token(owner, scope)
    item = make_item()
    with script(config, token) as client:
        for method, path, body, allowed in OWNER_REQUESTS:
            before = state(config)
            url = path.format(item=item["id"])
            kwargs: dict[str, Any] = {}
            if body is not None:
                kwargs = {"json": body} if url.startswith("/api/") else {"data": body}
            response = client.request(method, url, follow_redirects=False, **kwargs)
            if scope in allowed:
                assert response.status_code < 300, (scope, method, url, response.status_code, response.text)
            else:
                assert response.status_code == 403, (scope, method, url, response.status_code, response.text)
                assert state(config) == before, (scope, method, url)  # a refusal writes nothing
                if url.startswith("/api/"):
                    assert response.json()["detail"], (scope, method, url)
                else:
                    assert "browser" in response.text and "Your account" not in response.text


def test_refusals_say_what_the_token_lacks(config, owner):
    with script(config, new_token(owner, "read")) as client:
        response = client.post("/api/v1/clients", json={"name": "X"})
        assert response.status_code == 403 and "read-only" in response.json()["detail"]
    with script(config, new_token(owner, "write")) as client:
        response = client.patch("/api/v1/settings", json={"name": "X"})
        assert response.status_code == 403
        assert "owner scope; this one is write" in response.json()["detail"]
        page = client.get("/clients")
        assert page.status_code == 403 and "pages need a browser sign-in" in page.text
    assert count(config, "client") == 0


def test_a_staff_token_keeps_to_the_staff_role_whatever_its_scope(config, staff):
    item = make_item()
    with script(config, new_token(staff, "write")) as client:
        assert client.post("/api/v1/clients", json={"name": "Staff Client"}).status_code == 201
        refused = client.delete(f"/api/v1/items/{item['id']}")
        assert refused.status_code == 403 and "Only the owner" in refused.json()["detail"]
        assert client.post("/api/v1/tokens", json={"name": "more"}).status_code == 403
    with script(config, new_token(staff, "read")) as client:
        assert client.get("/api/v1/clients").json()["total"] == 1
        assert client.post("/api/v1/clients", json={"name": "Other"}).status_code == 403
    assert count(config, "client") == 1 and count(config, "catalog_item") == 1
    assert count(config, "api_token") == 2


def test_a_staff_user_cannot_make_an_owner_scope_token(staff_browser, config, staff):
    with pytest.raises(ValidationFailed) as refused:
        run(auth_service.create_api_token(staff["id"], "sneaky", scope="owner"))
    assert "Only the owner's tokens" in refused.value.by_field()["scope"]
    response = staff_browser.post("/account/tokens", data={"name": "sneaky", "scope": "owner"})
    assert response.status_code == 422 and "Only the owner&#39;s tokens" in response.text
    assert count(config, "api_token") == 0
    # The form offers the staff user only what their token could use.
    page = staff_browser.get("/account").text
    assert 'value="read"' in page and 'value="write"' in page and 'value="owner"' not in page


# -- the end of a token ----------------------------------------------------------------

def test_a_token_works_through_its_last_day_then_answers_401_saying_it_expired(config, owner, browser):
    today = run(_business_today())
    token = new_token(owner, "write", valid_until=today.isoformat())
    with script(config, token) as client:
        assert client.get("/api/v1/me").status_code == 200
        (used_before,), = query(config, "SELECT last_used_at FROM api_token")
        assert used_before is not None
        # The last day passes (written straight to the file: the form refuses a day in the past).
        _write(config, "UPDATE api_token SET valid_until = ?, last_used_at = NULL",
               (today - timedelta(days=1)).isoformat())
        for method, path in [("GET", "/api/v1/me"), ("POST", "/api/v1/clients"), ("GET", "/clients")]:
            response = client.request(method, path, json={"name": "Late"} if method == "POST" else None)
            assert response.status_code == 401, (method, path)
            assert response.json()["detail"] == (
                f"This API token expired: its last day was {(today - timedelta(days=1)).isoformat()}. "
                "Make a new one on your account page or with `counterfoil token create`.")
    assert count(config, "client") == 0
    assert query(config, "SELECT last_used_at FROM api_token") == [(None,)]  # an expired try is no use
    row = browser.get("/account").text.split('class="token-row')[1].split("</tr>")[0]
    assert "token-expired" in row and "Expired" in row


def _write(config, sql: str, *args: Any) -> None:
    import sqlite3

    connection = sqlite3.connect(config.database_path, timeout=30)
    try:
        with connection:
            connection.execute(sql, args)
    finally:
        connection.close()


async def _business_today() -> date:
    from app.settings import service as settings_service

    return await settings_service.today()


def test_the_database_refuses_an_unknown_scope(config, owner):
    """A stored scope outside the three (only by editing the file) is refused by the database itself."""
    import sqlite3

    new_token(owner, "read")
    with pytest.raises(sqlite3.IntegrityError, match="api_token_scope_known"):
        _write(config, "UPDATE api_token SET scope = 'admin'")
    assert query(config, "SELECT scope FROM api_token") == [("read",)]


# -- the account page ----------------------------------------------------------------------

def test_the_account_page_makes_a_scoped_token_with_an_end_and_shows_its_use(browser, config):
    import re

    last_day = (run(_business_today()) + timedelta(days=30)).isoformat()
    page = browser.get("/account").text
    assert '<option value="write" selected>' in page  # the default
    response = browser.post("/account/tokens", data={"name": "reports", "scope": "read", "valid_until": last_day})
    assert response.status_code == 200
    token = re.search(TOKEN_FIELD_RE, response.text).group(1)
    assert query(config, "SELECT name, scope, valid_until, last_used_at FROM api_token") == [
        ("reports", "read", last_day, None)]
    row = browser.get("/account").text.split('class="token-row')[1].split("</tr>")[0]
    assert "Read" in row and last_day in row and "never" in row and "Active" in row
    with script(config, token) as client:
        assert client.get("/api/v1/me").json()["token_scope"] == "read"
    row = browser.get("/account").text.split('class="token-row')[1].split("</tr>")[0]
    assert "never" not in row  # the last use, to the minute


def test_a_token_without_an_end_works_until_revoked(browser, config):
    assert browser.post("/account/tokens", data={"name": "ci", "scope": "write"}).status_code == 200
    assert query(config, "SELECT scope, valid_until FROM api_token") == [("write", None)]
    assert "until revoked" in browser.get("/account").text


@pytest.mark.parametrize(("form", "field", "words"), [
    ({"name": "x", "scope": "admin"}, "scope", "Scope must be one of: read, write, owner"),
    ({"name": "x", "valid_until": "2001-01-01"}, "valid_until", "2001-01-01 has passed"),
    ({"name": "x", "valid_until": "31/12/2030"}, "valid_until", "is not a date (YYYY-MM-DD)"),
    ({"name": "", "scope": "read"}, "name", "Give the token a name"),
])
def test_a_bad_token_form_is_refused_naming_the_field_and_keeps_what_was_typed(browser, config, form, field, words):
    response = browser.post("/account/tokens", data=form)
    assert response.status_code == 422
    assert f'id="e-{field}"' in response.text or words in response.text
    assert words in response.text
    assert count(config, "api_token") == 0


# -- the tokens and users API (owner scope) --------------------------------------------------

def test_an_owner_token_makes_a_narrower_token_shown_once(config, owner):
    with script(config, new_token(owner, "owner")) as client:
        created = client.post("/api/v1/tokens", json={"name": "nightly report", "scope": "read",
                                                      "valid_until": "2099-12-31"})
        assert created.status_code == 201, created.text
        body = created.json()
        assert (body["scope"], body["valid_until"], body["state"], body["last_used_at"]) == (
            "read", "2099-12-31", "active", None)
        assert body["token"].startswith("cf_") and body["token"].startswith(body["prefix"])
        listed = client.get("/api/v1/tokens").json()["items"]
        assert {item["name"] for item in listed} == {"owner script", "nightly report"}
        assert all(item["token"] is None for item in listed)  # never shown again
    with script(config, body["token"]) as reader:
        assert reader.get("/api/v1/clients").status_code == 200
        assert reader.post("/api/v1/clients", json={"name": "X"}).status_code == 403
    with script(config, new_token(owner, "owner")) as client:
        revoked = client.post(f"/api/v1/tokens/{body['id']}/revoke")
        assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    with script(config, body["token"]) as reader:
        assert reader.get("/api/v1/clients").status_code == 401


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "scope": "superuser"}, "scope"),
    ({"name": "x", "valid_until": "2000-01-01"}, "valid_until"),
    ({"name": "x", "valid_until": "soon"}, "valid_until"),
    ({"name": " "}, "name"),
])
def test_bad_token_requests_are_refused_naming_the_field(config, owner, body, field):
    with script(config, new_token(owner, "owner")) as client:
        response = client.post("/api/v1/tokens", json=body)
        assert response.status_code == 422, response.text
        assert field in field_errors(response)
    assert count(config, "api_token") == 1


def test_an_unknown_field_in_a_token_request_is_refused(config, owner):
    with script(config, new_token(owner, "owner")) as client:
        response = client.post("/api/v1/tokens", json={"name": "x", "scopes": "read"})
        assert 400 <= response.status_code < 500 and "scopes" in response.text
    assert count(config, "api_token") == 1


def test_only_an_owner_token_adds_a_user(config, owner):
    account = {"email": "bookkeeper@example.com", "password": "a long password 1", "name": "Bea"}
    with script(config, new_token(owner, "write")) as client:
        assert client.post("/api/v1/users", json=account).status_code == 403
    assert count(config, "app_user") == 1
    with script(config, new_token(owner, "owner")) as client:
        created = client.post("/api/v1/users", json=account)
        assert created.status_code == 201, created.text
        assert (created.json()["email"], created.json()["role"]) == ("bookkeeper@example.com", "staff")
        again = client.post("/api/v1/users", json=account)
        assert again.status_code == 422 and "email" in field_errors(again)
        assert {user["role"] for user in client.get("/api/v1/users").json()["items"]} == {"owner", "staff"}
    assert count(config, "app_user", "role = 'staff'") == 1


def test_the_staff_account_page_lists_only_its_own_tokens(staff_browser, config, owner, staff):
    new_token(owner, "owner")
    new_token(staff, "read")
    table = staff_browser.get("/account").text.split("<table")[1].split("</table>")[0]
    assert "read script" in table and "owner script" not in table
    assert "<th>Of</th>" not in table  # whose token it is: shown to the owner, who sees every account's
