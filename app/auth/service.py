"""Accounts, sessions, API tokens, launch tokens and the login throttle."""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from piccolo.custom_types import Combinable

from app.audit import service as audit_service
from app.audit.logic import Actor
from app.auth import logic
from app.auth.logic import Identity
from app.auth.tables import ApiToken, LaunchToken, LoginAttempt, Session, User
from app.common.i18n import _
from app.common.logic import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from app.db.datafolder import DataFolderProblem
from app.db.engine import write_transaction
from app.settings import service as settings_service

log = logging.getLogger("counterfoil.auth")
_hasher = PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4
LAST_SEEN_GRANULARITY = timedelta(seconds=60)
TOKEN_PREFIX = "cf_"


class TokenExpired(Exception):
    """A known, unrevoked API token past its last day: refused with words that say so (not "invalid")."""

    def __init__(self, valid_until: date):
        self.valid_until = valid_until
        super().__init__(f"This API token expired: its last day was {valid_until.isoformat()}. "
                         "Make a new one on your account page or with `counterfoil token create`.")


class LoginThrottled(Exception):
    def __init__(self, wait_s: int):
        self.wait_s = wait_s
        super().__init__(f"Too many failed sign-ins. Try again in {wait_s} seconds.")


def _now() -> datetime:
    return datetime.now(UTC)


async def hash_password(password: str) -> str:
    # About 100 ms of CPU: keep it off the event loop.
    return await asyncio.to_thread(_hasher.hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
    return await asyncio.to_thread(verify)


# -- accounts ---------------------------------------------------------------

async def owner_exists() -> bool:
    return await User.exists().where((User.role == "owner") & (User.active == True))  # noqa: E712


async def setup_owner(data: Mapping[str, Any]) -> dict[str, Any]:
    """First run: the business name and the owner's account, once."""
    values = logic.clean_account(data, with_business=True, role_default="owner")
    password_hash = await hash_password(values["password"])
    await settings_service.get_settings()
    async with write_transaction():
        if await owner_exists():
            raise Conflict(_("This Counterfoil already has an owner; sign in instead."))
        user = User(email=values["email"], name=values.get("name", ""), role="owner",
                    password_hash=password_hash, created_at=_now())
        await user.save()
        await settings_service.update_settings({"name": values["business_name"]}, actor_id=user.id)
        if audit_service.current_actor().actor == "anonymous":
            # The first-run page: the owner being created is the one acting (the command line stays itself).
            audit_service.act_as(Actor.user(user.id, values["email"], origin="page"))
    return await get_user(user.id)


async def create_user(data: Mapping[str, Any]) -> dict[str, Any]:
    values = logic.clean_account(data, role_default="staff")
    password_hash = await hash_password(values["password"])
    async with write_transaction():
        if await User.exists().where(User.email == values["email"]):
            raise ValidationFailed([FieldError("email", _("%(email)s already has an account", email=values['email']))])
        user = User(email=values["email"], name=values.get("name", ""), role=values["role"],
                    password_hash=password_hash, created_at=_now())
        await user.save()
    return await get_user(user.id)


async def get_user(user_id: int) -> dict[str, Any]:
    row = await User.select(User.id, User.email, User.name, User.role, User.active, User.created_at,
                            User.last_login_at, User.language).where(User.id == user_id).first()
    if row is None:
        raise NotFound(_("User %(user_id)s", user_id=user_id))
    return row


async def list_users() -> list[dict[str, Any]]:
    return await User.select(User.id, User.email, User.name, User.role, User.active, User.created_at,
                             User.last_login_at).order_by(User.role, ascending=False).order_by(User.email)


async def set_user_active(user_id: int, active: bool, *, actor: Identity) -> dict[str, Any]:
    async with write_transaction():
        user = await get_user(user_id)
        if user["role"] == "owner" and not active:
            raise Conflict(_("The owner's account cannot be deactivated."))
        await User.update({User.active: active}).where(User.id == user_id)
        if not active:
            await Session.delete().where(Session.user == user_id)
            await ApiToken.update({ApiToken.revoked_at: _now()}).where(
                (ApiToken.user == user_id) & ApiToken.revoked_at.is_null())
    return await get_user(user_id)


async def set_language(user_id: int, language: str | None) -> dict[str, Any]:
    """The user's choice of language and locale for their pages; None or "" goes back to the business
    locale. Refused unless Babel knows the locale and we have its language's catalog."""
    problem = logic.language_problem(language or "")
    if problem:
        raise ValidationFailed([FieldError("language", problem)])
    if await User.count().where(User.id == user_id) == 0:
        raise NotFound(_("User"))
    async with write_transaction():
        await User.update({User.language: language or None}).where(User.id == user_id)
    return await get_user(user_id)


async def change_password(user_id: int, current: str, new: str, repeat: str, *,
                          keep_session: str | None = None) -> int:
    """Change a password and end every other session of the account (the one changing it stays
    signed in). Returns how many API tokens of the account are still active, so the page can
    offer to revoke them."""
    row = await User.select(User.password_hash).where(User.id == user_id).first()
    if row is None:
        raise NotFound(_("User"))
    if len(current) > logic.MAX_PASSWORD_LENGTH or not await _verify(row["password_hash"], current):
        raise ValidationFailed([FieldError("current_password", _("The current password is not right"))])
    errors = logic.check_new_password(new, repeat)
    if errors:
        raise ValidationFailed(errors)
    new_hash = await hash_password(new)
    async with write_transaction():
        await User.update({User.password_hash: new_hash}).where(User.id == user_id)
        others: Combinable = Session.user == user_id
        if keep_session:
            others = others & (Session.id_hash != logic.token_hash(keep_session))
        await Session.delete().where(others)
        return await ApiToken.count().where((ApiToken.user == user_id) & ApiToken.revoked_at.is_null())


async def revoke_all_api_tokens(user_id: int) -> int:
    """Revoke every active token of an account (after a password change); returns how many."""
    async with write_transaction():
        active = ApiToken.revoked_at.is_null() & (ApiToken.user == user_id)
        count = await ApiToken.count().where(active)
        await ApiToken.update({ApiToken.revoked_at: _now()}).where(active)
    return count


def _identity(user: Mapping[str, Any], via: str) -> Identity:
    return Identity(user_id=user["id"], email=user["email"], name=user["name"] or user["email"],
                    role=user["role"], via=via, language=user.get("language"))


# -- login and the throttle --------------------------------------------------

async def login(email: str, password: str, *, caller: str = "") -> dict[str, Any]:
    """Check a password; slow down repeated failures for the account and for the caller
    (`logic.throttle_caller`: the browser session).

    The attempt is counted, as a failure, in the same write transaction that reads the
    throttle, before the hash is checked: thirty simultaneous tries are serialised by the
    single writer, so at most FREE_FAILURES of them reach the hash before the throttle
    answers. A right password turns its attempt into a success afterwards."""
    email = (email or "").strip().lower()
    password = password or ""
    errors = logic.check_login_input(email, password)
    if errors:
        raise ValidationFailed(errors, detail=_("Sign-in failed."))
    now = _now()
    since = now - logic.THROTTLE_WINDOW
    who: Combinable = LoginAttempt.email == email
    if caller:
        who = who | (LoginAttempt.remote == caller)
    async with write_transaction(bookkeeping=True):
        failures = await LoginAttempt.select(LoginAttempt.at).where(
            (LoginAttempt.succeeded == False) & (LoginAttempt.at >= since) & who  # noqa: E712
        ).output(as_list=True)
        wait = logic.throttle_wait_s(failures, now)
        attempt = (await LoginAttempt.insert(LoginAttempt(email=email, remote=caller, succeeded=False, at=now))
                   .returning(LoginAttempt.id))[0]["id"]
    if wait:
        log.warning("sign-in throttled for %s (%s, %d s)", email, caller or "no session", wait)
        await _record_failed_login(attempt, email, f"throttled for {wait} seconds")
        raise LoginThrottled(wait)
    user = await User.select().where((User.email == email) & (User.active == True)).first()  # noqa: E712
    # Verify against a dummy hash when the account does not exist, so timing tells nothing.
    ok = await _verify(user["password_hash"] if user else _dummy_hash(), password)
    if not (user and ok):
        log.warning("failed sign-in for %s (%s)", email, caller or "no session")
        await _record_failed_login(attempt, email, "wrong email or password")
        raise ValidationFailed([FieldError("password", _("Email or password is not right"))], detail=_("Sign-in failed."))
    # The sign-in is the user's own act (the trail names them, not "not signed in").
    with audit_service.acting(Actor.user(user["id"], email, origin=audit_service.current_actor().origin)):
        async with write_transaction(bookkeeping=True):
            await LoginAttempt.update({LoginAttempt.succeeded: True}).where(LoginAttempt.id == attempt)
            await User.update({User.last_login_at: now}).where(User.id == user["id"])
    log.info("sign-in for %s", email)
    return user


async def _record_failed_login(attempt_id: int, email: str, reason: str) -> None:
    """A failed sign-in is its own entry in the audit trail (the attempt's row stays as it was written)."""
    async with write_transaction():
        await audit_service.record("failed login", "login_attempt", attempt_id, note=reason, changes={"email": email})


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Made on first use, not at import: hashing takes ~100 ms and start-up time matters.
    return _hasher.hash("not a real password, only for even timing")


async def recent_login_attempts(limit: int = 20) -> list[dict[str, Any]]:
    return await LoginAttempt.select().order_by(LoginAttempt.at, ascending=False).limit(limit)


# -- browser sessions ---------------------------------------------------------

async def start_session(user_id: int | None, *, lifetime_s: int, how: str = "password") -> tuple[str, str]:
    """A new session; returns (cookie value, csrf token). Anonymous sessions carry only the CSRF token."""
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = _now()
    async with write_transaction(bookkeeping=True):
        await Session.insert(Session(id_hash=logic.token_hash(session_id), user=user_id, csrf_token=csrf,
                                     created_at=now, last_seen_at=now,
                                     expires_at=now + timedelta(seconds=lifetime_s), how=how))
    return session_id, csrf


async def _unless_the_folder_refuses(write: Callable[[], Awaitable[Any]]) -> None:
    """A bookkeeping write that may be skipped (a session's last use, an expired session's removal): a data
    folder that is gone or read-only must not stop the signed-in from reading their data."""
    try:
        async with write_transaction(bookkeeping=True):
            await write()
    except DataFolderProblem as problem:
        log.debug("bookkeeping skipped: %s", problem.message)


_USER_FIELDS = frozenset({"email", "name", "role", "active", "language"})   # read from app_user beside a session or token


async def load_session(session_id: str, *, idle_timeout_s: int, lifetime_s: int) -> tuple[Identity | None, str] | None:
    """The session's identity (None when anonymous) and CSRF token, or None if unknown or expired."""
    if not session_id or len(session_id) > 100:
        return None
    # Every request of a signed-in browser asks this: one plain statement by a unique index (building it
    # with the query builder cost half a millisecond of each request, issue 21).
    rows = await Session.raw(
        "SELECT s.id, s.csrf_token, s.created_at, s.last_seen_at, s.user, u.email, u.name, u.role, u.active, "
        "u.language FROM app_session AS s LEFT JOIN app_user AS u ON u.id = s.user WHERE s.id_hash = {} LIMIT 1",
        logic.token_hash(session_id))
    if not rows:
        return None
    row = {("user." + key if key in _USER_FIELDS else key): value for key, value in rows[0].items()}
    now = _now()
    if logic.session_expired(created_at=row["created_at"], last_seen_at=row["last_seen_at"], now=now,
                             idle_timeout_s=idle_timeout_s, lifetime_s=lifetime_s):
        await _unless_the_folder_refuses(lambda: Session.delete().where(Session.id == row["id"]))
        return None
    if now - row["last_seen_at"] > LAST_SEEN_GRANULARITY:
        await _unless_the_folder_refuses(
            lambda: Session.update({Session.last_seen_at: now}).where(Session.id == row["id"]))
    if row["user"] is None:
        return None, row["csrf_token"]
    if not row["user.active"]:
        return None
    identity = Identity(user_id=row["user"], email=row["user.email"], name=row["user.name"] or row["user.email"],
                        role=row["user.role"], via="session", language=row["user.language"])
    return identity, row["csrf_token"]


async def end_session(session_id: str) -> None:
    async with write_transaction(bookkeeping=True):
        await Session.delete().where(Session.id_hash == logic.token_hash(session_id))


async def purge_expired_sessions(*, idle_timeout_s: int, lifetime_s: int) -> int:
    now = _now()
    async with write_transaction(bookkeeping=True):
        stale = await Session.select(Session.id).where(
            (Session.last_seen_at < now - timedelta(seconds=idle_timeout_s))
            | (Session.created_at < now - timedelta(seconds=lifetime_s))
        ).output(as_list=True)
        if stale:
            await Session.delete().where(Session.id.is_in(stale))
        await LaunchToken.delete().where(LaunchToken.expires_at < now)
    return len(stale)


# -- API tokens ---------------------------------------------------------------

async def create_api_token(user_id: int, name: str, *, scope: str = "write",
                           valid_until: date | str | None = None) -> tuple[str, dict[str, Any]]:
    """A new token for the user: `scope` read, write or owner (owner only for the owner's account),
    working through `valid_until` (None: until revoked). Returns the token, shown once, and its row."""
    user = await get_user(user_id)
    values = logic.clean_new_token({"name": name, "scope": scope, "valid_until": valid_until},
                                   role=user["role"], today=await settings_service.today())
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with write_transaction():
        await get_user(user_id)
        row = ApiToken(name=values["name"], token_hash=logic.token_hash(token), prefix=token[:10], user=user_id,
                       created_at=_now(), scope=values["scope"], valid_until=values["valid_until"])
        await row.save()
        created = await _api_token_row(row.id)
    return token, created


async def create_api_token_for_owner(name: str, *, scope: str = "owner", valid_until: date | str | None = None) -> str:
    owner = await User.select(User.id).where(User.role == "owner").first()
    if owner is None:
        raise Conflict(_("There is no owner yet: run `counterfoil init` or open the app to set it up first."))
    token, _record = await create_api_token(owner["id"], name, scope=scope, valid_until=valid_until)
    return token


_TOKEN_COLUMNS = (ApiToken.id, ApiToken.name, ApiToken.prefix, ApiToken.scope, ApiToken.valid_until, ApiToken.created_at,
                  ApiToken.last_used_at, ApiToken.revoked_at, ApiToken.user, ApiToken.user.email)


async def _api_token_row(token_id: int) -> dict[str, Any]:
    row = await ApiToken.select(*_TOKEN_COLUMNS).where(ApiToken.id == token_id).first()
    if row is None:
        raise NotFound(_("Token %(token_id)s", token_id=token_id))
    return row


async def get_api_token(token_id: int) -> dict[str, Any]:
    """One token (never its secret) with `state`: active, expired or revoked."""
    row = await _api_token_row(token_id)
    row["state"] = logic.token_state(revoked=row["revoked_at"] is not None, valid_until=row["valid_until"],
                                     today=await settings_service.today())
    return row


async def list_api_tokens(*, user_id: int | None = None) -> list[dict[str, Any]]:
    query = ApiToken.select(*_TOKEN_COLUMNS)
    if user_id is not None:
        query = query.where(ApiToken.user == user_id)
    rows = await query.order_by(ApiToken.created_at, ascending=False)
    today = await settings_service.today()
    for row in rows:
        row["state"] = logic.token_state(revoked=row["revoked_at"] is not None, valid_until=row["valid_until"],
                                         today=today)
    return rows


async def revoke_api_token(token_id: int, *, actor: Identity) -> dict[str, Any]:
    async with write_transaction():
        token = await _api_token_row(token_id)
        if not actor.is_owner and token["user"] != actor.user_id:
            raise Forbidden(_("You can only revoke your own tokens."))
        if token["revoked_at"] is None:
            await ApiToken.update({ApiToken.revoked_at: _now()}).where(ApiToken.id == token_id)
    return await get_api_token(token_id)


async def identity_for_token(token: str) -> Identity | None:
    """Who a bearer token speaks for, with its scope; None when unknown, revoked or its user is
    deactivated. Raises TokenExpired for a token past its last day."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    # Every API request asks this: one plain statement by a unique index (see load_session).
    rows = await ApiToken.raw(
        "SELECT t.id, t.last_used_at, t.scope, t.valid_until, t.user, u.email, u.name, u.role, u.active "
        "FROM api_token AS t JOIN app_user AS u ON u.id = t.user "
        "WHERE t.token_hash = {} AND t.revoked_at IS NULL LIMIT 1", logic.token_hash(token))
    row = {("user." + key if key in _USER_FIELDS else key): value for key, value in rows[0].items()} if rows else None
    if row is None or not row["user.active"]:
        return None
    if row["valid_until"] is not None and logic.token_expired(row["valid_until"], await settings_service.today()):
        raise TokenExpired(row["valid_until"])
    now = _now()
    if row["last_used_at"] is None or now - row["last_used_at"] > LAST_SEEN_GRANULARITY:
        await _unless_the_folder_refuses(
            lambda: ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"]))
    return Identity(user_id=row["user"], email=row["user.email"], name=row["user.name"] or row["user.email"],
                    role=row["user.role"], via="token", token_scope=row["scope"], token_id=row["id"])


# -- launch tokens (the person who started the program) ------------------------

async def create_launch_token(ttl_s: int, *, token: str | None = None) -> str:
    """Record a one-time launch token (`token`, made by the launcher before the database opened, else a new
    one); only its hash is kept."""
    token = token or logic.new_launch_token()
    now = _now()
    async with write_transaction(bookkeeping=True):
        await LaunchToken.insert(LaunchToken(token_hash=logic.token_hash(token), created_at=now,
                                             expires_at=now + timedelta(seconds=ttl_s)))
    return token


async def sign_in_by_launch(token: str, *, lifetime_s: int, replacing: str | None = None
                            ) -> tuple[dict[str, Any], str] | None:
    """The launch link's sign-in: the one-time token spent, the browser's old session (`replacing`) ended, a
    new one started, in one transaction (one commit, one flush to disk, on the double-click's path). Returns
    the owner and the new session's cookie value; None when the token is unknown, spent or expired."""
    owner = await User.select().where((User.role == "owner") & (User.active == True)).first()  # noqa: E712
    # Whoever holds the launch page signs in as the owner: the trail says so.
    actor = (Actor.user(owner["id"], owner["email"], origin="page") if owner
             else audit_service.current_actor())
    with audit_service.acting(actor):
        async with write_transaction(bookkeeping=True):
            row = await LaunchToken.select().where(LaunchToken.token_hash == logic.token_hash(token or "")).first()
            now = _now()
            if row is None or row["used_at"] is not None or row["expires_at"] < now:
                return None
            await LaunchToken.update({LaunchToken.used_at: now}).where(LaunchToken.id == row["id"])
            owner = await User.select().where((User.role == "owner") & (User.active == True)).first()  # noqa: E712
            if owner is None:
                return None
            if replacing:
                await end_session(replacing)
            session_id, _csrf = await start_session(owner["id"], lifetime_s=lifetime_s, how="launch")
    return owner, session_id


def identity_of(user: Mapping[str, Any], via: str = "session") -> Identity:
    return _identity(user, via)
