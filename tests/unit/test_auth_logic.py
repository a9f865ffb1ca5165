"""Accounts: the login throttle, session expiry, passwords, API token scopes (app.auth.logic)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.auth.logic import (
    FREE_FAILURES,
    MAX_EMAIL_LENGTH,
    MAX_PASSWORD_LENGTH,
    MAX_WAIT_S,
    THROTTLE_WINDOW,
    TOKEN_SCOPES,
    Identity,
    check_login_input,
    check_new_password,
    clean_account,
    clean_new_token,
    session_expired,
    throttle_caller,
    throttle_wait_s,
    token_allows,
    token_expired,
    token_hash,
    token_refusal,
    token_state,
)
from app.common.logic import ValidationFailed

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def failures(n: int, *, last_ago_s: float = 0, spacing_s: float = 1) -> list[datetime]:
    last = NOW - timedelta(seconds=last_ago_s)
    return [last - timedelta(seconds=spacing_s * i) for i in range(n)]


@pytest.mark.parametrize("n", range(FREE_FAILURES))
def test_the_first_mistakes_are_free(n):
    assert throttle_wait_s(failures(n), NOW) == 0


@pytest.mark.parametrize(("n", "wait"), [(3, 2), (4, 4), (5, 8), (6, 16), (9, 128), (10, 256), (11, MAX_WAIT_S), (40, MAX_WAIT_S)])
def test_wait_doubles_after_three_failures_up_to_five_minutes(n, wait):
    assert throttle_wait_s(failures(n), NOW) == wait


def test_wait_counts_from_the_last_failure():
    assert throttle_wait_s(failures(5, last_ago_s=3), NOW) == 5   # 8 s wait, 3 s already gone
    assert throttle_wait_s(failures(5, last_ago_s=8), NOW) == 0
    assert throttle_wait_s(failures(5, last_ago_s=7.5), NOW) == 1  # never rounds a wait down to zero


def test_old_failures_are_forgotten():
    old = [NOW - THROTTLE_WINDOW - timedelta(seconds=i + 1) for i in range(20)]
    assert throttle_wait_s(old, NOW) == 0
    assert throttle_wait_s(old + failures(3), NOW) == 2


def test_order_of_failures_does_not_matter():
    times = failures(4)
    assert throttle_wait_s(list(reversed(times)), NOW) == throttle_wait_s(times, NOW) == 4


def test_session_idle_timeout():
    created = NOW - timedelta(hours=1)
    kwargs = dict(created_at=created, now=NOW, idle_timeout_s=600, lifetime_s=86_400)
    assert not session_expired(last_seen_at=NOW - timedelta(seconds=599), **kwargs)
    assert not session_expired(last_seen_at=NOW - timedelta(seconds=600), **kwargs)
    assert session_expired(last_seen_at=NOW - timedelta(seconds=601), **kwargs)


def test_session_absolute_lifetime():
    kwargs = dict(last_seen_at=NOW, now=NOW, idle_timeout_s=600, lifetime_s=86_400)
    assert not session_expired(created_at=NOW - timedelta(seconds=86_400), **kwargs)
    assert session_expired(created_at=NOW - timedelta(seconds=86_401), **kwargs)


def test_token_hash_is_sha256_hex_and_never_the_token():
    digest = token_hash("cf_secret")
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest == token_hash("cf_secret") != token_hash("cf_secret2")
    assert "secret" not in digest


def test_new_password_rules():
    assert [e.field for e in check_new_password("short", "short")] == ["password"]
    assert [e.field for e in check_new_password("long enough 1", "long enough 2")] == ["password_repeat"]
    assert check_new_password("long enough 1", "long enough 1") == []
    assert check_new_password("long enough 1", None) == []


def test_clean_account():
    values = clean_account({"email": "Staff@Example.com", "password": "0123456789", "password_repeat": "0123456789"})
    assert values["email"] == "staff@example.com"
    assert values["role"] == "staff"
    assert values["password"] == "0123456789"
    with pytest.raises(ValidationFailed) as failed:
        clean_account({"email": "x", "role": "admin", "password": "a", "password_repeat": "a"}, with_business=True)
    assert set(failed.value.by_field()) == {"email", "role", "password", "business_name"}


def test_identity_roles():
    owner = Identity(1, "o@example.com", "O", "owner", "session")
    staff = Identity(2, "s@example.com", "S", "staff", "token")
    assert owner.is_owner and not staff.is_owner


def test_sign_in_input_longer_than_any_real_one_is_refused():
    assert check_login_input("a" * MAX_EMAIL_LENGTH, "p" * MAX_PASSWORD_LENGTH) == []
    assert [e.field for e in check_login_input("a" * (MAX_EMAIL_LENGTH + 1), "p")] == ["email"]
    assert [e.field for e in check_login_input("a@b.c", "p" * (MAX_PASSWORD_LENGTH + 1))] == ["password"]


def test_a_new_password_has_a_ceiling_too():
    assert check_new_password("p" * MAX_PASSWORD_LENGTH, None) == []
    assert "at most" in check_new_password("p" * (MAX_PASSWORD_LENGTH + 1), None)[0].message


def test_the_throttle_knows_callers_by_session_never_by_address():
    assert throttle_caller(None) == throttle_caller("") == ""
    caller = throttle_caller("a-session-id")
    assert caller.startswith("session:") and "a-session-id" not in caller
    assert caller == throttle_caller("a-session-id") != throttle_caller("another-session-id")



# -- API token scopes -----------------------------------------------------------------

METHODS = st.sampled_from(["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "get", "post", "TRACE"])
ROUTE_KINDS = st.sampled_from([(False, False), (False, True), (True, False), (True, True)])  # (api, owner only)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@given(scope=st.sampled_from(TOKEN_SCOPES), method=METHODS, kind=ROUTE_KINDS)
def test_each_scope_opens_at_least_what_the_smaller_ones_do(scope, method, kind):
    api_route, owner_only = kind
    order = list(TOKEN_SCOPES)
    if token_allows(scope, method, api_route=api_route, owner_only_route=owner_only):
        for larger in order[order.index(scope):]:
            assert token_allows(larger, method, api_route=api_route, owner_only_route=owner_only)


@given(scope=st.sampled_from(TOKEN_SCOPES), method=METHODS, owner_only=st.booleans())
def test_no_token_opens_a_page(scope, method, owner_only):
    refusal = token_refusal(scope, method, api_route=False, owner_only_route=owner_only)
    assert refusal is not None and "browser" in refusal


@given(method=METHODS, kind=ROUTE_KINDS)
def test_a_read_token_never_changes_anything(method, kind):
    api_route, owner_only = kind
    if method.upper() not in ("GET", "HEAD", "OPTIONS"):
        assert not token_allows("read", method, api_route=api_route, owner_only_route=owner_only)


@given(scope=st.sampled_from(TOKEN_SCOPES), method=METHODS)
def test_what_only_the_owner_may_do_needs_the_owner_scope(scope, method):
    allowed = token_allows(scope, method, api_route=True, owner_only_route=True)
    assert allowed == (scope == "owner")


@given(method=METHODS)
def test_write_does_every_api_request_that_is_not_the_owners(method):
    assert token_allows("write", method, api_route=True, owner_only_route=False)
    assert token_allows("owner", method, api_route=True, owner_only_route=False)


@given(scope=st.text(max_size=12).filter(lambda text: text not in TOKEN_SCOPES), method=METHODS, kind=ROUTE_KINDS)
def test_an_unknown_scope_opens_nothing(scope, method, kind):
    api_route, owner_only = kind
    assert not token_allows(scope, method, api_route=api_route, owner_only_route=owner_only)


@pytest.mark.parametrize(("scope", "method", "owner_only", "allowed"), [
    ("read", "GET", False, True), ("read", "HEAD", False, True), ("read", "POST", False, False),
    ("read", "DELETE", False, False), ("read", "GET", True, False),
    ("write", "POST", False, True), ("write", "PATCH", True, False), ("write", "GET", True, False),
    ("owner", "PATCH", True, True), ("owner", "DELETE", True, True),
])
def test_the_scope_table(scope, method, owner_only, allowed):
    assert token_allows(scope, method, api_route=True, owner_only_route=owner_only) is allowed


def test_refusals_say_what_the_token_lacks():
    assert "read-only" in token_refusal("read", "POST", api_route=True, owner_only_route=False)
    assert "owner scope; this one is write" in token_refusal("write", "PATCH", api_route=True, owner_only_route=True)


TODAY = date(2026, 12, 5)


def test_a_token_works_through_its_last_day():
    assert not token_expired(None, TODAY)
    assert not token_expired(TODAY, TODAY)
    assert token_expired(TODAY - timedelta(days=1), TODAY)
    assert token_state(revoked=False, valid_until=TODAY, today=TODAY) == "active"
    assert token_state(revoked=False, valid_until=TODAY, today=TODAY + timedelta(days=1)) == "expired"
    assert token_state(revoked=True, valid_until=None, today=TODAY) == "revoked"


def test_a_new_token_is_write_until_revoked_by_default():
    assert clean_new_token({"name": " backup "}, role="owner", today=TODAY) == {
        "name": "backup", "scope": "write", "valid_until": None}
    assert clean_new_token({"name": "x", "scope": "read", "valid_until": "2026-12-05"}, role="staff", today=TODAY) == {
        "name": "x", "scope": "read", "valid_until": TODAY}
    assert clean_new_token({"name": "x", "scope": "owner", "valid_until": date(2027, 1, 1)}, role="owner",
                           today=TODAY)["valid_until"] == date(2027, 1, 1)


@pytest.mark.parametrize(("data", "role", "field", "words"), [
    ({"name": ""}, "owner", "name", "Give the token a name"),
    ({"name": "x" * 101}, "owner", "name", "at most 100"),
    ({"name": "two\nlines"}, "owner", "name", "one line"),
    ({"name": "x", "scope": "admin"}, "owner", "scope", "read, write, owner"),
    ({"name": "x", "scope": "owner"}, "staff", "scope", "Only the owner's tokens"),
    ({"name": "x", "valid_until": "2026-12-04"}, "owner", "valid_until", "has passed"),
    ({"name": "x", "valid_until": "next week"}, "owner", "valid_until", "is not a date"),
    ({"name": "x", "valid_until": "2026-02-30"}, "owner", "valid_until", "is not a date"),
    ({"name": "x", "valid_until": "2201-01-01"}, "owner", "valid_until", "at the latest 2200-12-31"),
])
def test_a_bad_new_token_is_refused_naming_the_field(data, role, field, words):
    with pytest.raises(ValidationFailed) as failed:
        clean_new_token(data, role=role, today=TODAY)
    assert words in failed.value.by_field()[field]
