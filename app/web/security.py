"""The door: Host allowlist, Origin check, who is asking, and CSRF.

Every website the user visits can knock on 127.0.0.1 (DNS rebinding, cross-site
forms), so before any handler runs we refuse foreign Hosts (421) and foreign
Origins on unsafe methods (403). Browser sessions must also present the
session's CSRF token (header `X-CSRF-Token`, which htmx sends, or the form
field `csrf_token`). Scripts authenticate with `Authorization: Bearer` and need
no CSRF token, because a browser never attaches that header by itself.

What a token may do is decided here too, in `requires_login`, from the route's opt
(OWNER_ONLY) and the token's scope, by one pure rule (app.auth.logic.token_refusal): tokens
open only the API, `read` only looks, and what only the owner may do needs `owner`.
"""

from __future__ import annotations

import hmac
import json
import logging
import sqlite3
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from app.audit import service as audit_service
from app.audit.logic import Actor
from app.auth import service as auth_service
from app.auth.logic import Identity, token_refusal
from app.auth.service import TokenExpired
from app.common import i18n
from app.config import Config
from app.settings import service as settings_service

log = logging.getLogger("counterfoil.security")
SESSION_COOKIE = "counterfoil_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


async def _plain(send: Send, status: int, text: str, *, json_body: bool = False) -> None:
    if json_body:
        body = json.dumps({"detail": text, "errors": []}).encode()
        content_type = b"application/json"
    else:
        body = text.encode()
        content_type = b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                            *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class SecurityMiddleware:
    """Pure ASGI middleware: runs before routing, so no handler ever sees a refused request."""

    def __init__(self, app: ASGIApp, config: Config):
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        allowed_hosts = self.config.allowed_hosts()
        host = _header(scope, b"host")
        is_api = scope["path"].startswith("/api/")
        if not host or host.lower() not in allowed_hosts:
            log.warning("refused Host %r for %s", host, scope["path"])
            await _plain(send, 421, "Misdirected request: this server answers only on its own local address.",
                         json_body=is_api)
            return
        method = scope.get("method", "GET")
        origin = _header(scope, b"origin")
        authorization = _header(scope, b"authorization") or ""
        bearer = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
        if method not in SAFE_METHODS:
            if origin is not None:
                if origin == "null" or urlsplit(origin).netloc.lower() not in allowed_hosts:
                    log.warning("refused Origin %r on %s %s", origin, method, scope["path"])
                    await _plain(send, 403, "Cross-origin request refused.", json_body=is_api)
                    return
            elif bearer is None:
                # A browser always sends Origin on unsafe requests; without one we
                # accept only a same-site Referer (old browsers, privacy modes).
                referer = _header(scope, b"referer")
                if not referer or urlsplit(referer).netloc.lower() not in allowed_hosts:
                    await _plain(send, 403, "Request refused: no Origin header.", json_body=is_api)
                    return
        identity = None
        csrf_token = None
        session_id = None
        if bearer is not None:
            try:
                identity = await auth_service.identity_for_token(bearer)
            except TokenExpired as expired:
                await _plain(send, 401, str(expired), json_body=True)
                return
            if identity is None:
                await _plain(send, 401, "Invalid or revoked API token.", json_body=True)
                return
        else:
            session_id = _cookie(scope, SESSION_COOKIE)
            if session_id:
                loaded = await auth_service.load_session(
                    session_id, idle_timeout_s=self.config.idle_timeout_s, lifetime_s=self.config.session_lifetime_s)
                if loaded is None:
                    session_id = None
                else:
                    identity, csrf_token = loaded
        scope["user"] = identity
        scope["auth"] = {"session_id": session_id, "csrf": csrf_token, "bearer": bearer is not None}
        scope.setdefault("state", {})
        actor = audit_actor(identity, api=is_api_path(scope["path"]))

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        locale, time_zone = await _reader_locale(scope, identity)
        with audit_service.acting(actor), i18n.using_locale(locale, time_zone=time_zone,
                                                            typed=not is_api_path(scope["path"])):
            # every change this request makes is recorded as theirs; every text is in their language
            await self.app(scope, receive, send_with_headers)


async def _reader_locale(scope: Scope, identity: Identity | None) -> tuple[str, str | None]:
    """The locale a request is answered in. The API (scripts) answers in English unless Accept-Language
    asks for one of our languages; a page in the user's language, else the business locale, with times
    in the business time zone."""
    if is_api_path(scope["path"]):
        return i18n.negotiate(_header(scope, b"accept-language")) or "en", None
    try:
        business_locale, time_zone = await settings_service.locale_and_time_zone()
    except (sqlite3.Error, OSError) as error:   # a data folder gone or not yet made: the page still answers
        log.debug("no business locale: %s", error)
        business_locale, time_zone = "en", "UTC"
    chosen = identity.language if identity is not None and identity.via == "session" else None
    return chosen or business_locale, time_zone


def audit_actor(identity: Identity | None, *, api: bool) -> Actor:
    """Who the audit trail names for a request: the token, the signed-in user, or nobody yet (sign-in)."""
    origin = "api" if api else "page"
    if identity is None:
        return Actor.anonymous(origin=origin)
    if identity.via == "token" and identity.token_id is not None:
        return Actor.token(identity.token_id, identity.user_id, identity.email)
    return Actor.user(identity.user_id, identity.email, origin=origin)


async def csrf_before_request(request: Request) -> Response | None:
    """Unsafe browser requests must carry the session's CSRF token (header or form field)."""
    if request.method in SAFE_METHODS or request.scope["auth"].get("bearer"):
        return None
    expected = request.scope["auth"].get("csrf")
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            given = form.get(CSRF_FIELD)
    if not expected or not given or not hmac.compare_digest(str(given), expected):
        log.warning("missing or wrong CSRF token on %s %s", request.method, request.url.path)
        raise PermissionDeniedException(
            "The form has expired or did not come from Counterfoil. Reload the page and try again.")
    return None


def is_api_path(path: str) -> bool:
    """The routes meant for scripts: the JSON API and the OpenAPI document that describes it."""
    return path.startswith("/api/") or path == "/schema" or path.startswith("/schema/")


def requires_login(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """App-wide guard; handlers marked `opt={"public": True}` are open (login, setup, health).
    Everyone is held to their role, and a token also to its scope (app.auth.logic.token_refusal)."""
    if handler.opt.get("public"):
        return
    identity = connection.scope.get("user")
    if identity is None:
        raise NotAuthorizedException("Sign in first.")
    owner_only = bool(handler.opt.get("owner_only"))
    if owner_only and not identity.is_owner:
        raise PermissionDeniedException("Only the owner of this Counterfoil can do this.")
    if identity.via == "token":
        scope = connection.scope
        method = scope["method"] if scope["type"] == ScopeType.HTTP else "GET"  # a websocket's scope has no method
        refusal = token_refusal(identity.token_scope or "", method,
                                api_route=is_api_path(connection.scope["path"]), owner_only_route=owner_only)
        if refusal is not None:
            raise PermissionDeniedException(refusal)


OWNER_ONLY = {"owner_only": True}
PUBLIC = {"public": True}
