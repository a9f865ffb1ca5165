"""Accounts, roles and the login throttle. Pure functions."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from app.common.i18n import N_, _, known_locale, language_of
from app.common.logic import FieldError, Form

ROLES = ("owner", "staff")
MIN_PASSWORD_LENGTH = 10
THROTTLE_WINDOW = timedelta(minutes=15)
FREE_FAILURES = 3          # mistakes anyone makes before the throttle starts
MAX_WAIT_S = 300
# Longer input is refused before anything is stored or hashed (argon2 of a megabyte is a cheap attack).
MAX_EMAIL_LENGTH = 320
MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True)
class Identity:
    """Who is making a request, and how they proved it."""

    user_id: int
    email: str
    name: str
    role: str
    via: str  # session | token
    token_scope: str | None = None  # read | write | owner, for a token; None for a browser session
    token_id: int | None = None     # the token, for the audit trail's actor
    language: str | None = None     # the user's locale for pages (`de`, `fr_CA`); None: the business locale

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


def language_problem(language: str) -> str | None:
    """Why `language` cannot be a user's page language: empty (the business locale) is fine, else a
    locale Babel knows (`de`, `de_AT`, `fr_CA`) whose language has a catalog (en, fr, de)."""
    if not language:
        return None
    if len(language) > 20 or not known_locale(language) or language_of(language) != language.split("_")[0]:
        return _("Language must be a locale such as en_CA, fr or de_DE (English, French or German)")
    return None


def new_launch_token() -> str:
    """The secret of a launch link (32 random bytes); the launcher makes it before the database opens."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """We keep only the sha256 of session ids and tokens; a stolen database opens nothing."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_new_password(password: str, repeat: str | None, *, field: str = "password") -> list[FieldError]:
    errors = []
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors.append(FieldError(field, _("Password must be at least %(MIN_PASSWORD_LENGTH)s characters", MIN_PASSWORD_LENGTH=MIN_PASSWORD_LENGTH)))
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors.append(FieldError(field, _("Password must be at most %(MAX_PASSWORD_LENGTH)s characters", MAX_PASSWORD_LENGTH=MAX_PASSWORD_LENGTH)))
    elif repeat is not None and password != repeat:
        errors.append(FieldError(f"{field}_repeat", _("The two passwords differ")))
    return errors


def clean_account(data: Mapping[str, Any], *, with_business: bool = False, role_default: str = "staff") -> dict[str, Any]:
    form = Form(data)
    if with_business:
        form.text("business_name", required=True, max_length=200, label=_("Business name"), one_line=True)
    form.email("email", required=True)
    form.text("name", max_length=200, one_line=True)
    form.choice("role", ROLES, default=role_default)
    form.errors.extend(check_new_password(str(data.get("password") or ""), data.get("password_repeat")))
    values = form.raise_if_invalid()
    values["password"] = str(data.get("password"))
    return values


def check_login_input(email: str, password: str) -> list[FieldError]:
    """Sign-in fields too long to be real are refused before they are stored or hashed."""
    errors = []
    if len(email) > MAX_EMAIL_LENGTH:
        errors.append(FieldError("email", _("An email address has at most %(MAX_EMAIL_LENGTH)s characters", MAX_EMAIL_LENGTH=MAX_EMAIL_LENGTH)))
    if len(password) > MAX_PASSWORD_LENGTH:
        errors.append(FieldError("password", _("A password has at most %(MAX_PASSWORD_LENGTH)s characters", MAX_PASSWORD_LENGTH=MAX_PASSWORD_LENGTH)))
    return errors


def throttle_caller(session_id: str | None) -> str:
    """Who is trying, for the throttle: the browser session, never the address (every local caller is
    127.0.0.1, so a per-address throttle would let any process lock the owner out)."""
    return f"session:{token_hash(session_id)[:16]}" if session_id else ""


def throttle_wait_s(failures: Iterable[datetime], now: datetime) -> int:
    """Seconds to wait before the next try: after 3 recent failures, 2, 4, 8 ... up to 5 minutes,
    counted from the last failure."""
    recent = sorted(at for at in failures if now - at <= THROTTLE_WINDOW)
    excess = len(recent) - FREE_FAILURES
    if excess < 0 or not recent:
        return 0
    wait = min(MAX_WAIT_S, 2 ** (excess + 1))
    elapsed = (now - recent[-1]).total_seconds()
    return max(0, int(wait - elapsed + 0.999))


def session_expired(*, created_at: datetime, last_seen_at: datetime, now: datetime,
                    idle_timeout_s: int, lifetime_s: int) -> bool:
    return (now - last_seen_at).total_seconds() > idle_timeout_s or (now - created_at).total_seconds() > lifetime_s



# -- API token scopes ------------------------------------------------------------

TOKEN_SCOPES = ("read", "write", "owner")
TOKEN_SCOPE_LABELS = {
    "read": N_("Read: look, change nothing"),
    "write": N_("Write: also create, change and send"),
    "owner": N_("Owner: also settings, users, backups, tokens and deleting"),
}
# What a read token may do: look, never change (RFC 9110's safe methods that Counterfoil answers).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_TOKEN_NAME_LENGTH = 100
LAST_TOKEN_DAY = date(2200, 12, 31)


def token_refusal(scope: str, method: str, *, api_route: bool, owner_only_route: bool) -> str | None:
    """Why a token of `scope` may not make this request, or None when it may.

    Tokens are for scripts, so they open only the JSON API; the pages are for a signed-in browser.
    `read` only looks; `write` also changes; what only the owner may do (settings, users, backups,
    tokens, deleting) needs `owner`. An unknown scope opens nothing. The user's role still applies
    after this: a staff user's token never does what only the owner may."""
    if scope not in TOKEN_SCOPES:
        return _("This API token has no known scope; make a new one.")
    if not api_route:
        return _("API tokens open only the /api/ routes; pages need a browser sign-in.")
    if owner_only_route and scope != "owner":
        return _("This needs an API token with the owner scope; this one is %(scope)s.", scope=scope)
    if scope == "read" and method.upper() not in READ_METHODS:
        return _("This API token is read-only: it may look (GET), not change anything.")
    return None


def token_allows(scope: str, method: str, *, api_route: bool = True, owner_only_route: bool = False) -> bool:
    return token_refusal(scope, method, api_route=api_route, owner_only_route=owner_only_route) is None


def token_expired(valid_until: date | None, today: date) -> bool:
    """A token works through its last day (`valid_until`, in the business's time zone); None: no end."""
    return valid_until is not None and today > valid_until


def clean_new_token(data: Mapping[str, Any], *, role: str, today: date, default_scope: str = "write"
                    ) -> dict[str, Any]:
    """Name, scope and last day of a new API token. Only the owner's tokens can have the owner scope
    (a staff user's token could not use it); the last day is today or later, or empty for no end."""
    form = Form(data)
    name = str(data.get("name") or "").strip()
    if not name or len(name) > MAX_TOKEN_NAME_LENGTH or any(not ch.isprintable() for ch in name):
        form.error("name", _("Give the token a name on one line (at most %(MAX_TOKEN_NAME_LENGTH)s characters), e.g. 'backup script'", MAX_TOKEN_NAME_LENGTH=MAX_TOKEN_NAME_LENGTH))
    else:
        form.values["name"] = name
    form.choice("scope", TOKEN_SCOPES, default=default_scope, label=_("Scope"))
    if form.values.get("scope") == "owner" and role != "owner":
        form.values.pop("scope")
        form.error("scope", _("Only the owner's tokens can have the owner scope; choose read or write"))
    raw = data.get("valid_until")
    if isinstance(raw, date) and not isinstance(raw, datetime):
        valid_until: date | None = raw
    elif raw is None or str(raw).strip() == "":
        valid_until = None
    else:
        try:
            valid_until = date.fromisoformat(str(raw).strip())
        except ValueError:
            valid_until = None
            form.error("valid_until", f"Expires: {str(raw)[:40]!r} is not a date (YYYY-MM-DD)")
    if valid_until is not None and valid_until < today:
        form.error("valid_until", _("Expires: %(isoformat)s has passed; give today or a later day", isoformat=valid_until.isoformat()))
    elif valid_until is not None and valid_until > LAST_TOKEN_DAY:
        form.error("valid_until", _("Expires: at the latest %(isoformat)s (or leave it empty)", isoformat=LAST_TOKEN_DAY.isoformat()))
    values = form.raise_if_invalid()
    values["valid_until"] = valid_until
    return values


def token_state(*, revoked: bool, valid_until: date | None, today: date) -> str:
    """How a token reads on the account page: revoked, expired or active."""
    if revoked:
        return "revoked"
    return "expired" if token_expired(valid_until, today) else "active"
