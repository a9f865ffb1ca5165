"""The JSON API of catalog (under /api/v1): its routes and msgspec DTOs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from litestar import delete, get, patch, post, put
from litestar.params import QueryParameter
from msgspec import UNSET, UnsetType

from app.catalog import logic, service
from app.web.api.base import Body
from app.web.responses import iso, list_json, page_params
from app.web.security import OWNER_ONLY


class ItemOut(msgspec.Struct):
    id: int
    code: str
    name: str
    kind: str
    description: str
    unit: str
    unit_price: str
    default_taxes: list[str]
    category: str
    active: bool
    created_at: str
    updated_at: str
    tax_category: str = "standard"  # what the rules by place of supply read; default_taxes overrides them
    # Prices in other currencies than the business's (app.fx): {"EUR": "1100.00"}.
    prices: dict[str, str] = msgspec.field(default_factory=dict)


class ItemIn(Body, omit_defaults=True):
    code: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    kind: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    unit: str | UnsetType = UNSET
    unit_price: Decimal | UnsetType = UNSET
    default_taxes: list[str] | UnsetType = UNSET
    category: str | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    tax_category: str | UnsetType = UNSET
    prices: dict[str, Any] | UnsetType = UNSET


class ItemList(msgspec.Struct):
    items: list[ItemOut]
    total: int
    page: int
    per_page: int


def item_out(row: dict[str, Any]) -> ItemOut:
    return ItemOut(
        id=row["id"], code=row["code"], name=row["name"], kind=row["kind"], description=row["description"],
        unit=row["unit"], unit_price=str(logic.e4_to_price(row["unit_price_e4"])),
        default_taxes=row["default_tax_codes"].split(), category=row["category"], active=bool(row["active"]),
        created_at=iso(row["created_at"]), updated_at=iso(row["updated_at"]),
        tax_category=row.get("tax_category") or "standard",
        prices={code: str(price) for code, price in logic.prices_of(row).items()},
    )


def _given(body: ItemIn) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(body).items() if v is not UNSET}


@get("/api/v1/items", tags=["catalog"])
async def api_items(q: str = "", active: bool | None = None, category: str = "", sort: str = "name",
                    dir: str = "asc", page_number: int = QueryParameter(name="page", default=1),
                    per_page: int = 50) -> ItemList:
    result = await service.list_items(q=q, active=active, category=category, sort=sort, descending=dir == "desc",
                                      page=page_params(page_number, per_page))
    return ItemList(**list_json(result, [item_out(row) for row in result.items]))


@post("/api/v1/items", tags=["catalog"])
async def api_item_create(data: ItemIn) -> ItemOut:
    return item_out(await service.create_item(_given(data)))


@get("/api/v1/items/{item_id:int}", tags=["catalog"])
async def api_item(item_id: int) -> ItemOut:
    return item_out(await service.get_item(item_id))


@put("/api/v1/items/{item_id:int}", tags=["catalog"])
async def api_item_replace(item_id: int, data: ItemIn) -> ItemOut:
    return item_out(await service.update_item(item_id, _given(data), partial=False))


@patch("/api/v1/items/{item_id:int}", tags=["catalog"])
async def api_item_update(item_id: int, data: ItemIn) -> ItemOut:
    return item_out(await service.update_item(item_id, _given(data), partial=True))


@delete("/api/v1/items/{item_id:int}", tags=["catalog"], opt=OWNER_ONLY)
async def api_item_delete(item_id: int) -> None:
    await service.delete_item(item_id)


ROUTES = [api_items, api_item_create, api_item, api_item_replace, api_item_update, api_item_delete]
