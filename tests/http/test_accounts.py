"""Accounts through HTTP: users page, account page, API tokens, password change, logout, /api/v1/me."""

from __future__ import annotations

import re

import pytest

from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD, STAFF_EMAIL, STAFF_PASSWORD
from tests.http.conftest import _client
from tests.http.support import count, query

TOKEN_RE = re.compile(r'id="new-token">(cf_[^<]+)<')
NEW_STAFF = {"email": "Helper@Example.com", "name": "Hana Helper", "password": "helper password 1",
             "password_repeat": "helper password 1"}


def test_users_page_lists_accounts_and_sign_ins(browser, staff):
    response = browser.get("/users")
    assert response.status_code == 200
    assert OWNER_EMAIL in response.text and STAFF_EMAIL in response.text
    assert "Recent sign-in attempts" in response.text and "Signed in" in response.text  # the owner's own sign-in


def test_owner_adds_a_staff_account_that_can_sign_in(browser, config):
    response = browser.post("/users", data=NEW_STAFF, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/users"
    assert query(config, "SELECT email, role, active FROM app_user WHERE role = 'staff'") == [
        ("helper@example.com", "staff", 1)]
    with _client(config) as other:
        other.sign_in("helper@example.com", "helper password 1")
        assert other.get("/api/v1/me").json()["role"] == "staff"


def test_the_users_form_cannot_make_another_owner(browser, config):
    browser.post("/users", data={**NEW_STAFF, "role": "owner"})
    assert query(config, "SELECT role FROM app_user WHERE email = 'helper@example.com'") == [("staff",)]


@pytest.mark.parametrize(("change", "message"), [
    ({"password_repeat": "something else"}, "The two passwords differ"),
    ({"password": "short", "password_repeat": "short"}, "at least 10 characters"),
    ({"email": "not-an-email"}, "not a valid email"),
    ({"email": OWNER_EMAIL}, "already has an account"),
])
def test_bad_new_account_is_refused_and_writes_nothing(browser, config, change, message):
    response = browser.post("/users", data={**NEW_STAFF, **change})
    assert response.status_code == 422
    assert message in response.text
    assert "helper password 1" not in response.text  # passwords are never echoed back
    assert count(config, "app_user") == 1


def test_deactivated_staff_is_signed_out_and_cannot_sign_in(browser, staff_browser, staff, config):
    assert staff_browser.get("/").status_code == 200
    response = browser.post(f"/users/{staff['id']}/active", data={"active": "0"}, follow_redirects=False)
    assert response.status_code == 303
    assert query(config, "SELECT active FROM app_user WHERE id = ?", staff["id"]) == [(0,)]
    assert staff_browser.get("/", follow_redirects=False).status_code == 303
    with _client(config) as other:
        other.refresh_csrf("/login")
        refused = other.post("/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "next": "/"})
        assert refused.status_code == 401
    browser.post(f"/users/{staff['id']}/active", data={"active": "1"})
    with _client(config) as other:
        other.sign_in(STAFF_EMAIL, STAFF_PASSWORD)


def test_the_owner_cannot_be_deactivated(browser, owner, config):
    response = browser.post(f"/users/{owner['id']}/active", data={"active": "0"})
    assert response.status_code == 409
    assert query(config, "SELECT active FROM app_user WHERE id = ?", owner["id"]) == [(1,)]


def test_account_page(browser):
    response = browser.get("/account")
    assert response.status_code == 200
    assert OWNER_EMAIL in response.text and "No tokens yet" in response.text


def test_create_and_revoke_an_api_token(browser, config):
    response = browser.post("/account/tokens", data={"name": "backup script"})
    assert response.status_code == 200
    token = TOKEN_RE.search(response.text).group(1)
    assert query(config, "SELECT name, revoked_at FROM api_token") == [("backup script", None)]
    # Shown once: the next visit shows only its prefix.
    again = browser.get("/account").text
    assert token not in again and token[:10] in again

    headers = {"Authorization": f"Bearer {token}"}
    assert browser.get("/api/v1/me", headers=headers).json()["via"] == "token"

    (token_id,), = query(config, "SELECT id FROM api_token")
    revoked = browser.post(f"/account/tokens/{token_id}/revoke", follow_redirects=False)
    assert revoked.status_code == 303
    assert query(config, "SELECT revoked_at IS NOT NULL FROM api_token") == [(1,)]
    response = browser.get("/api/v1/me", headers=headers)
    assert response.status_code == 401 and response.json()["detail"]


def test_token_needs_a_name(browser, config):
    response = browser.post("/account/tokens", data={"name": "  "})
    assert response.status_code == 422
    assert count(config, "api_token") == 0


def test_staff_cannot_revoke_the_owners_token(staff_browser, api_token, config):
    (token_id,), = query(config, "SELECT id FROM api_token")
    response = staff_browser.post(f"/account/tokens/{token_id}/revoke")
    assert response.status_code == 403
    assert query(config, "SELECT revoked_at FROM api_token") == [(None,)]


def test_change_password(browser, config):
    wrong = browser.post("/account/password", data={"current_password": "not it", "password": "new password 123",
                                                    "password_repeat": "new password 123"})
    assert wrong.status_code == 422 and "current password is not right" in wrong.text
    mismatch = browser.post("/account/password", data={"current_password": OWNER_PASSWORD,
                                                       "password": "new password 123", "password_repeat": "other"})
    assert mismatch.status_code == 422
    with _client(config) as other:
        other.sign_in(OWNER_EMAIL, OWNER_PASSWORD)  # still the old one
    ok = browser.post("/account/password", data={"current_password": OWNER_PASSWORD, "password": "new password 123",
                                                 "password_repeat": "new password 123"}, follow_redirects=False)
    assert ok.status_code == 200 and "Your password is changed" in ok.text
    with _client(config) as other:
        other.sign_in(OWNER_EMAIL, "new password 123")


def test_logout_ends_the_session(browser, config):
    assert count(config, "app_session", "user IS NOT NULL") == 1
    response = browser.post("/logout", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert 'counterfoil_session=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    assert count(config, "app_session", "user IS NOT NULL") == 0
    after = browser.get("/", follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"].startswith("/login")


def test_logout_needs_the_csrf_token(browser, config):
    """Otherwise any site could sign the user out."""
    browser.csrf = ""
    response = browser.post("/logout", follow_redirects=False)
    assert response.status_code == 403
    assert count(config, "app_session", "user IS NOT NULL") == 1


def test_api_me(api, staff_browser):
    me = api.get("/api/v1/me").json()
    assert me == {"id": me["id"], "email": OWNER_EMAIL, "name": "Olivia Owner", "role": "owner", "via": "token",
                  "token_scope": "owner"}
    staff_me = staff_browser.get("/api/v1/me").json()
    assert (staff_me["email"], staff_me["role"], staff_me["via"], staff_me["token_scope"]) == (
        STAFF_EMAIL, "staff", "session", None)


def test_sign_in_takes_the_next_parameter_but_never_leaves_the_site(anonymous, owner, config):
    anonymous.refresh_csrf("/login")
    response = anonymous.post("/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD,
                                              "next": "https://evil.example/"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    with _client(config) as other:
        other.refresh_csrf("/login")
        response = other.post("/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD,
                                              "next": "/clients?q=zoe"}, follow_redirects=False)
        assert response.headers["location"] == "/clients?q=zoe"
        for target in ("//evil.example/x", "http://evil.example"):
            other.post("/logout")
            other.refresh_csrf("/login")
            response = other.post("/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD,
                                                  "next": target}, follow_redirects=False)
            assert response.headers["location"] == "/", target
