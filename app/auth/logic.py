"""Accounts, roles and the login throttle. Pure functions."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


def token_hash(token: str) -> str:
    """We keep only the sha256 of session ids and tokens; a stolen database opens nothing."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_new_password(password: str, repeat: str | None, *, field: str = "password") -> list[FieldError]:
    errors = []
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors.append(FieldError(field, f"Password must be at least {MIN_PASSWORD_LENGTH} characters"))
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors.append(FieldError(field, f"Password must be at most {MAX_PASSWORD_LENGTH} characters"))
    elif repeat is not None and password != repeat:
        errors.append(FieldError(f"{field}_repeat", "The two passwords differ"))
    return errors


def clean_account(data: Mapping[str, Any], *, with_business: bool = False, role_default: str = "staff") -> dict[str, Any]:
    form = Form(data)
    if with_business:
        form.text("business_name", required=True, max_length=200, label="Business name")
    form.email("email", required=True)
    form.text("name", max_length=200)
    form.choice("role", ROLES, default=role_default)
    form.errors.extend(check_new_password(str(data.get("password") or ""), data.get("password_repeat")))
    values = form.raise_if_invalid()
    values["password"] = str(data.get("password"))
    return values


def check_login_input(email: str, password: str) -> list[FieldError]:
    """Sign-in fields too long to be real are refused before they are stored or hashed."""
    errors = []
    if len(email) > MAX_EMAIL_LENGTH:
        errors.append(FieldError("email", f"An email address has at most {MAX_EMAIL_LENGTH} characters"))
    if len(password) > MAX_PASSWORD_LENGTH:
        errors.append(FieldError("password", f"A password has at most {MAX_PASSWORD_LENGTH} characters"))
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

