"""The JSON API of auth (under /api/v1): its routes and msgspec DTOs."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post

from app.auth import service
from app.web.api.base import Body
from app.web.responses import iso
from app.web.security import OWNER_ONLY


class TokenIn(Body, kw_only=True):
    name: str
    scope: str = "write"
    valid_until: str | None = None  # YYYY-MM-DD, the last day it works; none: until revoked


class TokenOut(msgspec.Struct):
    id: int
    name: str
    prefix: str
    scope: str
    valid_until: str | None
    state: str  # active | expired | revoked
    user_id: int
    user_email: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None
    token: str | None = None  # only in the answer to its creation: it is never shown again


def token_out(row: dict[str, Any], token: str | None = None) -> TokenOut:
    return TokenOut(id=row["id"], name=row["name"], prefix=row["prefix"], scope=row["scope"],
                    valid_until=iso(row["valid_until"]), state=row["state"], user_id=row["user"],
                    user_email=row["user.email"], created_at=iso(row["created_at"]),
                    last_used_at=iso(row["last_used_at"]), revoked_at=iso(row["revoked_at"]), token=token)


class TokenList(msgspec.Struct):
    items: list[TokenOut]


@get("/api/v1/tokens", tags=["auth"], opt=OWNER_ONLY)
async def api_tokens() -> TokenList:
    """Every API token of every account (never the token itself), newest first."""
    return TokenList(items=[token_out(row) for row in await service.list_api_tokens()])


@post("/api/v1/tokens", tags=["auth"], opt=OWNER_ONLY, status_code=201)
async def api_token_create(request: Request, data: TokenIn) -> TokenOut:
    """A new token for the owner: `scope` read, write (default) or owner, `valid_until` its last day.
    The answer carries `token` this once. Needs an owner-scope token (or the owner's session)."""
    token, row = await service.create_api_token(request.scope["user"].user_id, data.name, scope=data.scope,
                                                valid_until=data.valid_until)
    return token_out(await service.get_api_token(row["id"]), token)


@post("/api/v1/tokens/{token_id:int}/revoke", tags=["auth"], opt=OWNER_ONLY, status_code=200)
async def api_token_revoke(request: Request, token_id: int) -> TokenOut:
    return token_out(await service.revoke_api_token(token_id, actor=request.scope["user"]))


class UserIn(Body, kw_only=True):
    email: str
    password: str
    name: str = ""


class UserOut(msgspec.Struct):
    id: int
    email: str
    name: str
    role: str
    active: bool
    created_at: str
    last_login_at: str | None


def user_out(row: dict[str, Any]) -> UserOut:
    return UserOut(id=row["id"], email=row["email"], name=row["name"], role=row["role"], active=row["active"],
                   created_at=iso(row["created_at"]), last_login_at=iso(row["last_login_at"]))


class UserList(msgspec.Struct):
    items: list[UserOut]


@get("/api/v1/users", tags=["auth"], opt=OWNER_ONLY)
async def api_users() -> UserList:
    return UserList(items=[user_out(row) for row in await service.list_users()])


@post("/api/v1/users", tags=["auth"], opt=OWNER_ONLY, status_code=201)
async def api_user_create(data: UserIn) -> UserOut:
    """A staff account (there is one owner). Needs an owner-scope token (or the owner's session)."""
    return user_out(await service.create_user({"email": data.email, "password": data.password, "name": data.name,
                                               "role": "staff"}))


class Me(msgspec.Struct):
    id: int
    email: str
    name: str
    role: str
    via: str
    token_scope: str | None = None  # read | write | owner when `via` is token


@get("/api/v1/me", tags=["auth"])
async def api_me(request: Request) -> Me:
    identity = request.scope["user"]
    return Me(id=identity.user_id, email=identity.email, name=identity.name, role=identity.role, via=identity.via,
              token_scope=identity.token_scope)


ROUTES = [api_me, api_tokens, api_token_create, api_token_revoke, api_users, api_user_create]
