"""Sign-in, first-run setup, launch links, accounts and API tokens."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.response import Template

from app.auth import service
from app.auth.logic import TOKEN_SCOPE_LABELS, TOKEN_SCOPES, throttle_caller
from app.auth.service import LoginThrottled
from app.common import i18n
from app.common.i18n import PAGE_LOCALES, _, lazy, ngettext, translated
from app.common.logic import Conflict, ValidationFailed
from app.config import Config
from app.settings import service as settings_service
from app.settings.logic import LOCALES
from app.web.responses import form_data, page, redirect
from app.web.security import OWNER_ONLY, PUBLIC, SESSION_COOKIE


def _safe_next(target: str | None) -> str:
    """Only local paths: never bounce a signed-in user to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/"
    return target


def _set_session_cookie(response: Response, session_id: str, config: Config) -> None:
    response.set_cookie(SESSION_COOKIE, session_id, path="/", httponly=True, samesite="strict",
                        max_age=config.session_lifetime_s)


async def _anonymous_csrf(request: Request, config: Config) -> tuple[str, str | None]:
    """The login and setup forms need a CSRF token before anyone is signed in."""
    csrf = request.scope["auth"].get("csrf")
    if csrf:
        return csrf, None
    session_id, csrf = await service.start_session(None, lifetime_s=3600, how="anonymous")
    request.scope["auth"]["csrf"] = csrf
    return csrf, session_id


async def _signed_in(request: Request, user: dict[str, Any], config: Config, *, how: str, to: str) -> Response:
    old = request.scope["auth"].get("session_id")
    if old:
        await service.end_session(old)  # a fresh id at every sign-in (no session fixation)
    session_id, _token = await service.start_session(user["id"], lifetime_s=config.session_lifetime_s, how=how)
    response = redirect(to, request=request)
    _set_session_cookie(response, session_id, config)
    return response


@get("/setup", opt=PUBLIC)
async def setup_page(request: Request, config: Config) -> Response:
    if await service.owner_exists():
        return redirect("/login")
    _csrf, new_session = await _anonymous_csrf(request, config)
    response = page(request, "auth/setup.html", title=_("Welcome to Counterfoil"), values={}, errors={})
    if new_session:
        response.set_cookie(SESSION_COOKIE, new_session, path="/", httponly=True, samesite="strict", max_age=3600)
    return response


@post("/setup", opt=PUBLIC)
async def setup_submit(request: Request, config: Config) -> Response:
    data = await form_data(request)
    try:
        user = await service.setup_owner(data)
    except ValidationFailed as failed:
        safe = {k: v for k, v in data.items() if "password" not in k}
        return page(request, "auth/setup.html", status_code=422, title=_("Welcome to Counterfoil"),
                    values=safe, errors=failed.by_field())
    except Conflict:
        return redirect("/login", flash=_("This Counterfoil already has an owner. Sign in."))
    return await _signed_in(request, user, config, how="setup", to="/?welcome=1")


@get("/login", opt=PUBLIC)
async def login_page(request: Request, config: Config, next: str | None = None) -> Response:
    if not await service.owner_exists():
        return redirect("/setup")
    if request.scope.get("user") is not None:
        return redirect(_safe_next(next))
    _csrf, new_session = await _anonymous_csrf(request, config)
    response = page(request, "auth/login.html", title=_("Sign in"), next=_safe_next(next), values={}, errors={})
    if new_session:
        response.set_cookie(SESSION_COOKIE, new_session, path="/", httponly=True, samesite="strict", max_age=3600)
    return response


@post("/login", opt=PUBLIC)
async def login_submit(request: Request, config: Config) -> Response:
    data = await form_data(request)
    target = _safe_next(data.get("next"))
    caller = throttle_caller(request.scope["auth"].get("session_id"))
    try:
        user = await service.login(str(data.get("email", "")), str(data.get("password", "")), caller=caller)
    except LoginThrottled as throttled:
        return page(request, "auth/login.html", status_code=429, title=_("Sign in"), next=target,
                    values={"email": data.get("email", "")}, errors={"password": str(throttled)})
    except ValidationFailed as failed:
        return page(request, "auth/login.html", status_code=401, title=_("Sign in"), next=target,
                    values={"email": data.get("email", "")}, errors=failed.by_field())
    return await _signed_in(request, user, config, how="password", to=target)


@post("/logout")
async def logout(request: Request) -> Response:
    session_id = request.scope["auth"].get("session_id")
    if session_id:
        await service.end_session(session_id)
    response = redirect("/login", flash=_("You are signed out."), request=request)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/launch", opt=PUBLIC)
async def launch(request: Request, config: Config, token: str = "") -> Response:
    """The launcher's one-time link: signs in whoever started the program on this computer."""
    signed_in = await service.sign_in_by_launch(token, lifetime_s=config.session_lifetime_s,
                                                replacing=request.scope["auth"].get("session_id")) if token else None
    if signed_in is None:
        if not await service.owner_exists():
            return redirect("/setup")
        return redirect("/login", flash=_("That start link has expired; sign in with your password."))
    _owner, session_id = signed_in
    # A 200 page that moves on by itself: a SameSite=Strict cookie set during a
    # redirect chain that began outside the site would not be sent on the next hop.
    response = Template(template_name="auth/launched.html", context={})
    _set_session_cookie(response, session_id, config)
    return response


@get("/users", opt=OWNER_ONLY)
async def users_page(request: Request) -> Template:
    return page(request, "auth/users.html", section="users", title=_("Users"),
                users=await service.list_users(), attempts=await service.recent_login_attempts(),
                values={}, errors={})


@post("/users", opt=OWNER_ONLY)
async def users_create(request: Request) -> Response:
    data = await form_data(request)
    try:
        user = await service.create_user({**data, "role": "staff"})
    except ValidationFailed as failed:
        safe = {k: v for k, v in data.items() if "password" not in k}
        return page(request, "auth/users.html", status_code=422, section="users", title=_("Users"),
                    users=await service.list_users(), attempts=await service.recent_login_attempts(),
                    values=safe, errors=failed.by_field())
    return redirect("/users", flash=_("%(email)s can now sign in as staff.", email=user['email']), request=request)


@post("/users/{user_id:int}/active", opt=OWNER_ONLY)
async def users_set_active(request: Request, user_id: int) -> Response:
    data = await form_data(request)
    active = str(data.get("active", "")) in ("1", "true", "on")
    user = await service.set_user_active(user_id, active, actor=request.scope["user"])
    return redirect("/users", flash=(_("%(email)s is active.", email=user['email']) if active
                                          else _("%(email)s is deactivated.", email=user['email'])), request=request)


async def _account_page(request: Request, *, status_code: int = 200, errors: dict[str, str] | None = None,
                        values: dict[str, Any] | None = None, new_token: str | None = None, **extra: Any) -> Template:
    identity = request.scope["user"]
    tokens = await service.list_api_tokens(user_id=None if identity.is_owner else identity.user_id)
    # A staff user's token could never use the owner scope, so the form does not offer it.
    scopes = [(scope, lazy(TOKEN_SCOPE_LABELS[scope])) for scope in TOKEN_SCOPES if scope != "owner" or identity.is_owner]
    user = await service.get_user(identity.user_id)
    business_locale, _zone = await settings_service.locale_and_time_zone()
    language_choices = [("", _("Business default (%(name)s)", name=LOCALES.get(business_locale, business_locale))),
                        *PAGE_LOCALES.items()]
    if user["language"] and user["language"] not in PAGE_LOCALES:
        language_choices.append((user["language"], user["language"]))
    return page(request, "auth/account.html", status_code=status_code, section="account", title=_("Your account"),
                errors=errors or {}, values=values or {"scope": "write"}, new_token=new_token, tokens=tokens,
                scopes=scopes, scope_labels=translated(TOKEN_SCOPE_LABELS), language_choices=language_choices,
                language_values={"language": extra.pop("chosen_language", user["language"] or "")},
                business_locale_name=LOCALES.get(business_locale, business_locale), example_day=date(2026, 12, 5),
                **extra)


@post("/account/language")
async def account_language(request: Request) -> Response:
    """The user's language and number format for their pages; empty goes back to the business locale."""
    data = await form_data(request)
    wanted = str(data.get("language", "")).strip()
    try:
        await service.set_language(request.scope["user"].user_id, wanted or None)
    except ValidationFailed as failed:
        return await _account_page(request, status_code=422, errors=failed.by_field(), chosen_language=wanted)
    # The next page is read with the new choice (the door loads it with the session); say so in it.
    with i18n.using_locale(wanted or (await settings_service.locale_and_time_zone())[0]):
        return redirect("/account", flash=_("Language saved."), request=request)


@get("/account")
async def account_page(request: Request) -> Template:
    return await _account_page(request)


@post("/account/password")
async def account_password(request: Request) -> Response:
    identity = request.scope["user"]
    data = await form_data(request)
    try:
        active_tokens = await service.change_password(
            identity.user_id, str(data.get("current_password", "")), str(data.get("password", "")),
            str(data.get("password_repeat", "")), keep_session=request.scope["auth"].get("session_id"))
    except ValidationFailed as failed:
        return await _account_page(request, status_code=422, errors=failed.by_field())
    # Whoever knew the old password may have made a token with it: offer to revoke them all.
    return await _account_page(request, password_changed=True, active_tokens=active_tokens)


@post("/account/tokens/revoke-all")
async def account_tokens_revoke_all(request: Request) -> Response:
    revoked = await service.revoke_all_api_tokens(request.scope["user"].user_id)
    return redirect("/account", flash=ngettext("%(num)s API token revoked.", "%(num)s API tokens revoked.", revoked) % {"num": revoked}, request=request)


@post("/account/tokens")
async def account_token_create(request: Request) -> Response:
    identity = request.scope["user"]
    data = await form_data(request)
    wanted = {key: str(data.get(key) or "") for key in ("name", "scope", "valid_until")}
    try:
        token, _record = await service.create_api_token(identity.user_id, wanted["name"], scope=wanted["scope"] or "write",
                                                  valid_until=wanted["valid_until"] or None)
    except ValidationFailed as failed:
        return await _account_page(request, status_code=422, errors=failed.by_field(), values=wanted)
    # Shown once, never again: we keep only its hash.
    return await _account_page(request, new_token=token)


@post("/account/tokens/{token_id:int}/revoke")
async def account_token_revoke(request: Request, token_id: int) -> Response:
    token = await service.revoke_api_token(token_id, actor=request.scope["user"])
    return redirect("/account", flash=_("Token “%(name)s” is revoked.", name=token['name']), request=request)


ROUTES = [setup_page, setup_submit, login_page, login_submit, logout, launch, users_page, users_create,
    users_set_active, account_page, account_language, account_password, account_tokens_revoke_all, account_token_create,
    account_token_revoke]
