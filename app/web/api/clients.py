"""The JSON API of clients (under /api/v1): its routes and msgspec DTOs."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import delete, get, patch, post, put
from litestar.params import QueryParameter
from msgspec import UNSET, UnsetType

from app.clients import service
from app.clients.records import ClientView
from app.settings import service as settings_service
from app.web.api.base import Body
from app.web.responses import iso, list_json, page_params
from app.web.security import OWNER_ONLY


class ClientOut(msgspec.Struct):
    id: int
    code: str
    name: str
    status: str
    contact_name: str
    email: str
    phone: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    region: str
    country: str
    currency: str
    language: str
    tax_number: str
    buyer_reference: str
    notes: str
    electronic_address_scheme: str
    electronic_address: str
    created_at: str
    updated_at: str
    archived_at: str | None


class ClientIn(Body, omit_defaults=True):
    name: str | UnsetType = UNSET
    code: str | UnsetType = UNSET
    contact_name: str | UnsetType = UNSET
    email: str | UnsetType = UNSET
    phone: str | UnsetType = UNSET
    address_line1: str | UnsetType = UNSET
    address_line2: str | UnsetType = UNSET
    postal_code: str | UnsetType = UNSET
    city: str | UnsetType = UNSET
    region: str | UnsetType = UNSET
    country: str | UnsetType = UNSET
    currency: str | UnsetType = UNSET
    language: str | UnsetType = UNSET
    tax_number: str | UnsetType = UNSET
    buyer_reference: str | UnsetType = UNSET
    notes: str | UnsetType = UNSET
    # The e-invoice address (EN 16931 BT-49) and its EAS scheme code; given together.
    electronic_address_scheme: str | UnsetType = UNSET
    electronic_address: str | UnsetType = UNSET


class ClientList(msgspec.Struct):
    items: list[ClientOut]
    total: int
    page: int
    per_page: int


def client_out(client: ClientView) -> ClientOut:
    return ClientOut(**{field: iso(getattr(client, field)) for field in ClientOut.__struct_fields__})


def _given(body: ClientIn) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(body).items() if v is not UNSET}


async def default_currency() -> str:
    return (await settings_service.get_settings())["default_currency"]


@get("/api/v1/clients", tags=["clients"])
async def api_clients(q: str = "", status: str = "active", sort: str = "name", dir: str = "asc",
                      page_number: int = QueryParameter(name="page", default=1), per_page: int = 50) -> ClientList:
    """List clients; `q` searches name, code, email and phone, ignoring case and accents."""
    result = await service.list_clients(q=q, status=status, sort=sort, descending=dir == "desc",
                                        page=page_params(page_number, per_page))
    return ClientList(**list_json(result, [client_out(row) for row in result.items]))


@post("/api/v1/clients", tags=["clients"])
async def api_client_create(data: ClientIn) -> ClientOut:
    return client_out(await service.create_client(_given(data), default_currency=await default_currency()))


@get("/api/v1/clients/{client_id:int}", tags=["clients"])
async def api_client(client_id: int) -> ClientOut:
    return client_out(await service.get_client(client_id))


@put("/api/v1/clients/{client_id:int}", tags=["clients"])
async def api_client_replace(client_id: int, data: ClientIn) -> ClientOut:
    return client_out(await service.update_client(client_id, _given(data), partial=False))


@patch("/api/v1/clients/{client_id:int}", tags=["clients"])
async def api_client_update(client_id: int, data: ClientIn) -> ClientOut:
    return client_out(await service.update_client(client_id, _given(data), partial=True))


@delete("/api/v1/clients/{client_id:int}", tags=["clients"], opt=OWNER_ONLY, status_code=200)
async def api_client_delete(client_id: int, hard: bool = False) -> ClientOut | None:
    """Archive the client; with `hard=true`, delete it for good.

    A hard delete answers 409 when any document refers to the client, drafts included: the
    drafts are never deleted with it. Delete them first, or archive the client instead.
    """
    client = await service.delete_client(client_id, hard=hard)
    return client_out(client) if client else None


ROUTES = [api_clients, api_client_create, api_client, api_client_replace, api_client_update,
    api_client_delete]
