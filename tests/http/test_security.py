"""The door (DESIGN.md, "Security model"): Host allowlist, Origin and CSRF, sessions, roles, tokens, throttle."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from app.auth import service as auth_service
from tests.conftest import BASE_URL, OWNER_EMAIL, OWNER_PASSWORD, STAFF_EMAIL, STAFF_PASSWORD, run
from tests.http.conftest import _client
from tests.http.support import count, make_client, make_item, query, snapshot

CLIENT_FORM = {"name": "Cedar Café", "email": "hello@cedar.example"}


def raw_request(client: TestClient, method: str, url: str, **kwargs: Any) -> Any:
    """Send exactly the given headers (BrowserClient would add Origin and the CSRF token)."""
    return TestClient.request(client, method, url, **kwargs)


# -- Host allowlist -------------------------------------------------------------------

@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.nip.io:5050", "localhost.evil.example:5050",
                                  "127.0.0.1:5051", "127.0.0.1", "localhost", "0.0.0.0:5050", ""])
def test_foreign_host_is_refused_before_any_handler(api, config, host):
    response = api.post("/api/v1/clients", json={"name": "Rebinding Ltd"}, headers={"Host": host})
    assert response.status_code == 421
    assert count(config, "client") == 0
    assert api.get("/health", headers={"Host": host}).status_code == 421  # even the public route


def test_foreign_host_is_refused_on_unknown_paths_too(anonymous):
    assert anonymous.get("/no-such-page", headers={"Host": "evil.example"}).status_code == 421
    assert anonymous.put("/health", headers={"Host": "evil.example"}).status_code == 421


@pytest.mark.parametrize("host", ["127.0.0.1:5050", "localhost:5050", "[::1]:5050", "LOCALHOST:5050"])
def test_own_hosts_are_served(anonymous, host):
    assert anonymous.get("/health", headers={"Host": host}).status_code == 200


def test_foreign_host_is_refused_even_with_a_session(browser, config):
    response = browser.post("/clients", data=CLIENT_FORM, headers={"Host": "evil.example"})
    assert response.status_code == 421
    assert count(config, "client") == 0


def asgi_call(app: Any, scope_headers: list[tuple[bytes, bytes]], path: str = "/health",
              method: str = "GET") -> list[dict]:
    sent: list[dict] = []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": scope_headers,
             "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 5050)}

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_no_host_header_at_all_is_refused(config, owner):
    from app.web.server import create_app

    app = create_app(config, prepare=False)
    sent = asgi_call(app, [])
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 421
    # The same call with our Host is served, so the refusal is about the Host alone.
    sent = asgi_call(app, [(b"host", b"127.0.0.1:5050")])
    assert sent[0]["status"] == 200


# -- Origin and CSRF ------------------------------------------------------------------

@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:5050.evil.example",
                                    "http://127.0.0.1:5051", "https://localhost"])
def test_foreign_origin_with_a_valid_session_is_refused(browser, config, origin):
    response = browser.post("/clients", data=CLIENT_FORM, headers={"Origin": origin}, follow_redirects=False)
    assert response.status_code == 403
    assert count(config, "client") == 0
    response = browser.post("/api/v1/clients", json={"name": "X"}, headers={"Origin": origin})
    assert response.status_code == 403 and response.json()["detail"]
    assert count(config, "client") == 0


def test_foreign_origin_is_refused_even_with_a_token(api, config):
    response = api.post("/api/v1/clients", json={"name": "X"}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert count(config, "client") == 0


def test_missing_csrf_token_with_a_valid_session_is_refused(browser, config):
    token = browser.csrf
    browser.csrf = ""
    response = browser.post("/clients", data=CLIENT_FORM, follow_redirects=False)
    assert response.status_code == 403
    response = browser.post("/api/v1/clients", json={"name": "X"})
    assert response.status_code == 403
    assert count(config, "client") == 0
    # A wrong token is no better than none.
    response = browser.post("/clients", data=CLIENT_FORM, headers={"X-CSRF-Token": token[:-4] + "AAAA"})
    assert response.status_code == 403
    response = browser.post("/clients", data={**CLIENT_FORM, "csrf_token": "made-up"})
    assert response.status_code == 403
    assert count(config, "client") == 0


def test_csrf_token_of_another_session_is_refused(browser, config):
    with _client(config) as stranger:
        other_token = stranger.refresh_csrf("/login")
    assert other_token and other_token != browser.csrf
    browser.csrf = other_token
    assert browser.post("/clients", data=CLIENT_FORM).status_code == 403
    assert count(config, "client") == 0


def test_csrf_token_in_the_form_field_is_accepted(browser, config):
    token = browser.csrf
    browser.csrf = ""  # no header: only the hidden form field, as a plain HTML form sends it
    response = browser.post("/clients", data={**CLIENT_FORM, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert count(config, "client") == 1


def test_a_request_without_origin_needs_a_same_site_referer(browser, config):
    headers = {"X-CSRF-Token": browser.csrf}
    response = raw_request(browser, "POST", "/clients", data=CLIENT_FORM, headers=headers)
    assert response.status_code == 403
    response = raw_request(browser, "POST", "/clients", data=CLIENT_FORM,
                           headers={**headers, "Referer": "http://evil.example/page"})
    assert response.status_code == 403
    assert count(config, "client") == 0
    response = raw_request(browser, "POST", "/clients", data=CLIENT_FORM, follow_redirects=False,
                           headers={**headers, "Referer": f"{BASE_URL}/clients/new"})
    assert response.status_code == 303
    assert count(config, "client") == 1


def test_a_token_script_needs_no_origin_and_no_csrf(api, config):
    response = api.post("/api/v1/clients", json={"name": "Script Client"})
    assert response.status_code == 201
    assert api.patch(f"/api/v1/clients/{response.json()['id']}", json={"city": "Oslo"}).status_code == 200
    assert query(config, "SELECT name, city FROM client") == [("Script Client", "Oslo")]


# -- API tokens --------------------------------------------------------------------------

def test_revoked_token_is_refused(api, config, owner):
    (token_id,), = query(config, "SELECT id FROM api_token")
    run(auth_service.revoke_api_token(token_id, actor=auth_service.identity_of(owner)))
    response = api.get("/api/v1/clients")
    assert response.status_code == 401
    assert response.json()["detail"]
    assert api.post("/api/v1/clients", json={"name": "X"}).status_code == 401
    assert count(config, "client") == 0


@pytest.mark.parametrize("token", ["cf_not-a-real-token", "garbage", "cf_" + "x" * 200, ""])
def test_unknown_token_is_refused(anonymous, owner, token):
    response = anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_token_of_a_deactivated_user_is_refused(config, staff, owner):
    token, _ = run(auth_service.create_api_token(staff["id"], "staff script"))
    with _client(config) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        run(auth_service.set_user_active(staff["id"], False, actor=auth_service.identity_of(owner)))
        assert client.get("/api/v1/me", headers=headers).status_code == 401


# -- roles ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/settings", "/users", "/api/v1/settings"])
def test_staff_cannot_see_owner_pages(staff_browser, path):
    response = staff_browser.get(path, follow_redirects=False)
    assert response.status_code == 403


def test_staff_cannot_change_owner_things(staff_browser, config, owner, staff):
    client = make_client()
    item = make_item()
    settings_before = snapshot(config, "business_settings")
    clients_before = snapshot(config, "client")
    attempts = [
        ("DELETE", "/api/v1/clients/%d" % client.id, {}),
        ("DELETE", "/api/v1/clients/%d?hard=true" % client.id, {}),
        ("DELETE", "/api/v1/items/%d" % item["id"], {}),
        ("PATCH", "/api/v1/settings", {"json": {"name": "Taken over"}}),
        ("POST", "/clients/%d/archive" % client.id, {}),
        ("POST", "/catalog/%d/delete" % item["id"], {}),
        ("POST", "/settings", {"data": {"name": "Taken over", "default_currency": "EUR"}}),
        ("POST", "/users", {"data": {"email": "new@example.com", "password": "0123456789x",
                                     "password_repeat": "0123456789x"}}),
        ("POST", "/users/%d/active" % owner["id"], {"data": {"active": "0"}}),
    ]
    for method, path, kwargs in attempts:
        response = staff_browser.request(method, path, follow_redirects=False, **kwargs)
        assert response.status_code == 403, (method, path, response.status_code)
    assert snapshot(config, "business_settings") == settings_before
    assert snapshot(config, "client") == clients_before
    assert count(config, "catalog_item") == 1
    assert count(config, "app_user") == 2


def test_staff_can_do_the_daily_work(staff_browser, config):
    assert staff_browser.get("/clients").status_code == 200
    assert staff_browser.post("/clients", data=CLIENT_FORM, follow_redirects=False).status_code == 303
    assert staff_browser.post("/api/v1/items", json={"code": "X", "name": "X", "unit_price": "1"}).status_code == 201
    assert count(config, "client") == 1 and count(config, "catalog_item") == 1
    sidebar = staff_browser.get("/").text.split('<nav class="sidebar"')[1].split("</nav>")[0]
    assert 'href="/settings"' not in sidebar and 'href="/users"' not in sidebar  # the menu hides owner pages
    assert 'href="/clients"' in sidebar


def test_staff_with_a_token_cannot_delete(config, staff):
    client = make_client()
    token, _ = run(auth_service.create_api_token(staff["id"], "staff script"))
    with _client(config) as script:
        response = script.delete("/api/v1/clients/%d" % client.id, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403
    assert query(config, "SELECT status FROM client") == [("active",)]


# -- signing in ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/clients", "/clients/1", "/catalog/new", "/settings", "/account"])
def test_pages_send_strangers_to_the_login(anonymous, owner, path):
    response = anonymous.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_htmx_requests_are_told_to_go_to_the_login(anonymous, owner):
    response = anonymous.get("/clients?q=zoe", headers={"HX-Request": "true", "HX-Target": "client-results"})
    assert response.status_code == 401
    assert response.headers["hx-redirect"].startswith("/login?next=")


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/v1/clients"), ("GET", "/api/v1/me"),
                                              ("GET", "/api/v1/settings"), ("DELETE", "/api/v1/clients/1")])
def test_api_answers_strangers_with_401_json(anonymous, owner, method, path):
    response = anonymous.request(method, path)  # with our Origin, as a page of ours would send it
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["detail"] and response.json()["errors"] == []


def test_anonymous_post_writes_nothing(anonymous, owner, config):
    anonymous.refresh_csrf("/login")  # even with the anonymous session's own token
    response = anonymous.post("/clients", data=CLIENT_FORM, follow_redirects=False)
    assert response.status_code in (303, 401, 403)
    response = anonymous.post("/api/v1/clients", json={"name": "X"})
    assert response.status_code in (401, 403)
    assert count(config, "client") == 0


def test_brute_force_is_slowed_and_recorded(anonymous, owner, config):
    anonymous.refresh_csrf("/login")
    for _ in range(3):
        response = anonymous.post("/login", data={"email": OWNER_EMAIL, "password": "wrong guess", "next": "/"})
        assert response.status_code == 401
        assert "Email or password is not right" in response.text
    _move_failures(timedelta(0))  # as if typed in one breath, however slow this machine is today
    for _ in range(2):
        response = anonymous.post("/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "next": "/"},
                                  follow_redirects=False)
        assert response.status_code == 429
        assert "Too many failed sign-ins" in response.text
    assert count(config, "app_session", "user IS NOT NULL") == 0
    attempts = query(config, "SELECT email, remote, succeeded FROM login_attempt ORDER BY id")
    # Throttled by account and by browser session, never by address: every local caller is 127.0.0.1.
    caller = attempts[0][1]
    assert caller.startswith("session:") and "testclient" not in caller
    assert attempts == [(OWNER_EMAIL, caller, 0)] * 5
    # The owner sees them on the users page.
    # Once the window has passed, the right password works again.
    _move_failures(timedelta(hours=1))
    with _client(config) as owner_browser:
        owner_browser.sign_in(OWNER_EMAIL, OWNER_PASSWORD)
        assert owner_browser.get("/users").text.count(caller.removeprefix("session:")[:8]) >= 5


def _move_failures(ago: timedelta) -> None:
    from app.auth.tables import LoginAttempt
    from app.db.engine import write_transaction

    async def move() -> None:
        async with write_transaction():
            await LoginAttempt.update({LoginAttempt.at: datetime.now(UTC) - ago}).where(
                LoginAttempt.succeeded == False)  # noqa: E712

    run(move())


def test_throttle_also_counts_other_accounts_from_the_same_caller(anonymous, staff, config):
    anonymous.refresh_csrf("/login")
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        assert anonymous.post("/login", data={"email": email, "password": "x" * 12}).status_code == 401
    _move_failures(timedelta(0))
    response = anonymous.post("/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    assert response.status_code == 429


def test_a_stranger_failing_against_other_accounts_cannot_lock_the_owner_out(anonymous, owner, config):
    """Every local process is 127.0.0.1: failures from another browser session against other emails
    must not throttle the owner's own sign-in (nor would X-Forwarded-For change who is throttled)."""
    anonymous.refresh_csrf("/login")
    for n in range(8):
        response = anonymous.post("/login", data={"email": f"guess{n}@example.com", "password": "x" * 12},
                                  headers={"X-Forwarded-For": f"10.0.0.{n}"})
        assert response.status_code in (401, 429)
    _move_failures(timedelta(0))
    with _client(config) as owner_browser:
        owner_browser.sign_in(OWNER_EMAIL, OWNER_PASSWORD)
        assert owner_browser.get("/").status_code == 200


def test_thirty_simultaneous_wrong_passwords_check_at_most_the_free_attempts(owner, config, monkeypatch):
    """The attempt is counted before the hash is checked, in the write transaction: a burst of
    wrong passwords cannot all reach the hash before the throttle sees them."""
    import asyncio

    from app.auth import service

    checked = 0
    real_verify = service._verify

    async def counting_verify(password_hash: str, password: str) -> bool:
        nonlocal checked
        checked += 1
        return await real_verify(password_hash, password)

    monkeypatch.setattr(service, "_verify", counting_verify)

    async def burst() -> list[str]:
        async def one() -> str:
            try:
                await service.login(OWNER_EMAIL, "wrong guess number", caller="session:burst")
            except service.LoginThrottled:
                return "throttled"
            except Exception as error:
                return type(error).__name__
            return "signed in"

        results = await asyncio.gather(*(one() for _ in range(30)))
        try:
            await service.login(OWNER_EMAIL, OWNER_PASSWORD, caller="session:burst")
            results.append("signed in")
        except service.LoginThrottled:
            results.append("throttled")
        return results

    results = run(burst())
    assert checked <= 3   # FREE_FAILURES
    assert results.count("ValidationFailed") == checked
    assert results[-1] == "throttled"   # the right password waits its turn too, and is not checked early
    assert count(config, "login_attempt") == 31


@pytest.mark.parametrize(("field", "length"), [("email", 321), ("password", 1025)])
def test_overlong_sign_in_fields_are_refused_before_anything_is_stored(anonymous, owner, config, field, length):
    anonymous.refresh_csrf("/login")
    data = {"email": OWNER_EMAIL, "password": "wrong guess", "next": "/"}
    data[field] = ("a" * (length - 12) + "@example.com") if field == "email" else "p" * length
    response = anonymous.post("/login", data=data)
    assert response.status_code == 401
    assert "at most" in response.text
    assert count(config, "login_attempt") == 0


def test_changing_a_password_ends_every_other_session_and_offers_to_revoke_tokens(owner, config):
    with _client(config) as first, _client(config) as second:
        first.sign_in(OWNER_EMAIL, OWNER_PASSWORD)
        second.sign_in(OWNER_EMAIL, OWNER_PASSWORD)
        first.refresh_csrf("/account")
        assert first.post("/account/tokens", data={"name": "script"}).status_code == 200
        first.refresh_csrf("/account")
        response = first.post("/account/password", data={
            "current_password": OWNER_PASSWORD, "password": "a brand new passphrase",
            "password_repeat": "a brand new passphrase"})
        assert response.status_code == 200
        assert "Every other browser signed in to this account is signed out" in response.text
        assert "Revoke all 1 active token" in response.text
        assert first.get("/", follow_redirects=False).status_code == 200       # this one stays
        assert second.get("/", follow_redirects=False).status_code == 303      # the other is signed out
        first.refresh_csrf("/account")
        response = first.post("/account/tokens/revoke-all", follow_redirects=True)
        assert "1 API token revoked" in response.text
        assert count(config, "api_token", "revoked_at IS NULL") == 0


def test_session_cookie_is_private_to_the_app(anonymous, owner):
    anonymous.refresh_csrf("/login")
    response = anonymous.post("/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "next": "/"},
                              follow_redirects=False)
    assert response.status_code == 303
    cookies = [value for key, value in response.headers.multi_items() if key == "set-cookie"]
    session = [cookie for cookie in cookies if cookie.startswith("counterfoil_session=")]
    assert len(session) == 1
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in session[0].split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=strict"
    assert attributes["path"] == "Path=/"
    # A fresh id at sign-in: the anonymous session's id is not reused.
    assert anonymous.cookies.get("counterfoil_session") == session[0].split(";")[0].split("=", 1)[1]


def test_idle_session_ends(browser, config):
    assert browser.get("/").status_code == 200
    _age_sessions(config, last_seen=timedelta(hours=8, minutes=1))
    response = browser.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert count(config, "app_session", "user IS NOT NULL") == 0


def test_an_active_session_stays_alive(browser, config):
    _age_sessions(config, last_seen=timedelta(hours=7, minutes=59))
    assert browser.get("/").status_code == 200
    # The request moved last_seen_at forward, so the idle clock starts again.
    assert datetime.now(UTC) - _last_seen() < timedelta(minutes=1)


def _last_seen() -> datetime:
    from app.auth.tables import Session

    async def read() -> datetime:
        row = await Session.select(Session.last_seen_at).where(Session.user.is_not_null()).first()
        return row["last_seen_at"]

    return run(read())


def test_session_lifetime_ends_even_an_active_session(browser, config):
    _age_sessions(config, created=timedelta(days=14, minutes=1))
    assert browser.get("/", follow_redirects=False).status_code == 303


def test_idle_timeout_comes_from_the_config(config, owner):
    from app.web.server import create_app

    short = type(config)(data_dir=config.data_dir, port=config.port, idle_timeout_s=120)
    with _client(config) as client:
        client.sign_in(OWNER_EMAIL, OWNER_PASSWORD)
        _age_sessions(config, last_seen=timedelta(minutes=3))
        assert client.get("/").status_code == 200  # the default config allows 8 hours
        _age_sessions(config, last_seen=timedelta(minutes=3))
        with TestClient(app=create_app(short, prepare=False), base_url=BASE_URL, cookies=client.cookies) as strict:
            assert strict.get("/", follow_redirects=False).status_code == 303


def _age_sessions(config, *, last_seen: timedelta | None = None, created: timedelta | None = None) -> None:
    from app.auth.tables import Session
    from app.db.engine import write_transaction

    async def age() -> None:
        now = datetime.now(UTC)
        async with write_transaction():
            changes = {}
            if last_seen is not None:
                changes[Session.last_seen_at] = now - last_seen
            if created is not None:
                changes[Session.created_at] = now - created
            await Session.update(changes).where(Session.user.is_not_null())

    run(age())


# -- launch token -------------------------------------------------------------------------

def test_launch_token_signs_the_owner_in_once(anonymous, owner, config):
    token = run(auth_service.create_launch_token(120))
    response = anonymous.get(f"/launch?token={token}", follow_redirects=False)
    assert response.status_code == 200
    assert "counterfoil_session=" in response.headers["set-cookie"]
    me = anonymous.get("/api/v1/me").json()
    assert (me["email"], me["role"]) == (OWNER_EMAIL, "owner")
    assert query(config, "SELECT how FROM app_session WHERE user IS NOT NULL") == [("launch",)]
    assert query(config, "SELECT used_at IS NOT NULL FROM launch_token") == [(1,)]
    with _client(config) as second:
        response = second.get(f"/launch?token={token}", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login"
        assert second.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("token", ["", "made-up-token"])
def test_unknown_launch_token_signs_no_one_in(anonymous, owner, token):
    response = anonymous.get(f"/launch?token={token}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert anonymous.get("/api/v1/me").status_code == 401


def test_expired_launch_token_signs_no_one_in(anonymous, owner):
    token = run(auth_service.create_launch_token(-1))
    assert anonymous.get(f"/launch?token={token}", follow_redirects=False).status_code == 303
    assert anonymous.get("/api/v1/me").status_code == 401


# -- headers ---------------------------------------------------------------------------------

def test_security_headers_everywhere_and_never_cors(browser, anonymous, api, config):
    responses = [
        browser.get("/"),
        browser.get("/clients", headers={"Origin": "http://evil.example"}),
        api.get("/api/v1/clients", headers={"Origin": "http://evil.example"}),
        anonymous.get("/health"),
        anonymous.get("/login"),
        anonymous.get("/static/app.css"),
        anonymous.get("/nope"),
        browser.get("/clients/424242"),
        raw_request(anonymous, "PUT", "/health"),
        anonymous.get("/health", headers={"Host": "evil.example"}),
        browser.post("/clients", data=CLIENT_FORM, headers={"Origin": "http://evil.example"}),
        raw_request(anonymous, "OPTIONS", "/api/v1/clients",
                    headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}),
    ]
    for response in responses:
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], response.url
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert not any(name.lower().startswith("access-control-") for name in headers), (response.url, headers)


# -- first run --------------------------------------------------------------------------------

SETUP = {"business_name": "Birch Studio", "name": "Bea Birch", "email": "Bea@Birch.example",
         "password": "a long password", "password_repeat": "a long password"}


def test_first_run_leads_to_setup(anonymous):
    response = anonymous.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    response = anonymous.get(response.headers["location"], follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/setup"
    page = anonymous.get("/setup")
    assert page.status_code == 200
    for field in ("business_name", "email", "password", "password_repeat", "csrf_token"):
        assert f'name="{field}"' in page.text
    assert anonymous.get("/launch?token=x", follow_redirects=False).headers["location"] == "/setup"


def test_setup_creates_the_owner_and_signs_in(anonymous, config):
    anonymous.refresh_csrf("/setup")
    response = anonymous.post("/setup", data=SETUP, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/?welcome=1"
    assert query(config, "SELECT email, role FROM app_user") == [("bea@birch.example", "owner")]
    assert query(config, "SELECT name FROM business_settings") == [("Birch Studio",)]
    assert "Welcome" in anonymous.get("/?welcome=1").text
    assert anonymous.get("/api/v1/me").json()["role"] == "owner"


@pytest.mark.parametrize(("change", "field_message"), [
    ({"password_repeat": "another long password"}, "The two passwords differ"),
    ({"password": "short", "password_repeat": "short"}, "at least 10 characters"),
    ({"email": "bea"}, "not a valid email"),
    ({"business_name": ""}, "Business name is required"),
])
def test_bad_setup_is_refused_and_writes_nothing(anonymous, config, change, field_message):
    anonymous.refresh_csrf("/setup")
    response = anonymous.post("/setup", data={**SETUP, **change})
    assert response.status_code == 422
    assert field_message in response.text
    assert "a long password" not in response.text
    assert count(config, "app_user") == 0


def test_setup_needs_the_csrf_token(anonymous, config):
    anonymous.refresh_csrf("/setup")
    anonymous.csrf = ""
    assert anonymous.post("/setup", data=SETUP).status_code == 403
    assert count(config, "app_user") == 0


def test_second_setup_is_refused(anonymous, owner, config):
    assert anonymous.get("/setup", follow_redirects=False).headers["location"] == "/login"
    anonymous.refresh_csrf("/login")
    response = anonymous.post("/setup", data=SETUP, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert query(config, "SELECT email FROM app_user") == [(OWNER_EMAIL,)]
    assert anonymous.get("/api/v1/me").status_code == 401
    with _client(config) as other:
        other.sign_in(OWNER_EMAIL, OWNER_PASSWORD)  # the owner's password is untouched
