"""The JSON API of taxes (under /api/v1): its routes and msgspec DTOs."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get, patch, post
from msgspec import UNSET, UnsetType

from app.taxes import service
from app.taxes.logic import texts_of
from app.web.api.base import Body
from app.web.security import OWNER_ONLY


class TaxOut(msgspec.Struct):
    code: str
    name: str
    rate: str
    compound: bool
    note: str
    category: str
    active: bool
    # The name and legal note in other languages ({language: text}, en/fr/de), printed in a document's language.
    names: dict[str, str] = msgspec.field(default_factory=dict)
    notes: dict[str, str] = msgspec.field(default_factory=dict)


class TaxIn(Body, omit_defaults=True):
    code: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    rate: str | UnsetType = UNSET
    compound: bool | UnsetType = UNSET
    note: str | UnsetType = UNSET
    category: str | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    names: dict[str, str] | UnsetType = UNSET
    notes: dict[str, str] | UnsetType = UNSET


def tax_out(row: dict[str, Any]) -> TaxOut:
    return TaxOut(code=row["code"], name=row["name"], rate=row["rate"], compound=bool(row["compound"]),
                  note=row["note"], category=row["category"], active=bool(row["active"]),
                  names=texts_of(row.get("names")), notes=texts_of(row.get("notes")))


def _given(data: TaxIn) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}


@get("/api/v1/taxes", tags=["taxes"])
async def api_taxes() -> list[TaxOut]:
    return [tax_out(row) for row in await service.list_taxes()]


@post("/api/v1/taxes", tags=["taxes"], opt=OWNER_ONLY)
async def api_tax_create(data: TaxIn) -> TaxOut:
    return tax_out(await service.create_tax(_given(data)))


@get("/api/v1/taxes/{code:str}", tags=["taxes"])
async def api_tax(code: str) -> TaxOut:
    return tax_out(await service.get_tax(code))


@patch("/api/v1/taxes/{code:str}", tags=["taxes"], opt=OWNER_ONLY)
async def api_tax_update(code: str, data: TaxIn) -> TaxOut:
    return tax_out(await service.update_tax(code, _given(data)))


ROUTES = [api_taxes, api_tax_create, api_tax, api_tax_update]
