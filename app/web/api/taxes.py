"""The JSON API of taxes (under /api/v1): its routes and msgspec DTOs."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get, patch, post
from msgspec import UNSET, UnsetType

from app.common.logic import FieldError, ValidationFailed
from app.documents import service as documents_service
from app.taxes import logic, service
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


class PresetOut(msgspec.Struct):
    country: str
    name: str
    added: list[str]     # the codes this call defined (empty when the preset was loaded before)
    taxes: list[str]     # every code of the preset


class SuggestionOut(msgspec.Struct):
    taxes: list[str]
    reason: str
    rule: str            # the row of the rules that decided (CA-HST, EU-REVERSE-CHARGE...), "ITEM" for an override


@post("/api/v1/taxes/presets/{country:str}", tags=["taxes"], opt=OWNER_ONLY, status_code=200)
async def api_tax_preset(country: str) -> PresetOut:
    """Defines the country's rates and legal notes; idempotent (a second call adds nothing)."""
    added = await service.apply_preset(country, field="country")
    name, rates = logic.preset_of(country) or ("", [])
    return PresetOut(country=country.upper(), name=name, added=added, taxes=[rate.code for rate in rates])


@get("/api/v1/taxes/suggest", tags=["taxes"])
async def api_tax_suggest(client_id: str = "", item_id: str = "") -> SuggestionOut:
    """The taxes a new line for this client (and catalogue item) gets by default, and why."""
    errors = []
    if not client_id.strip().isdigit():
        errors.append(FieldError("client_id", "client_id must be a client's id (a number)"))
    if item_id.strip() and not item_id.strip().isdigit():
        errors.append(FieldError("item_id", "item_id must be a catalogue item's id (a number)"))
    if errors:
        raise ValidationFailed(errors)
    found = await documents_service.suggest_taxes(int(client_id), int(item_id) if item_id.strip() else None)
    return SuggestionOut(taxes=list(found.codes), reason=found.reason, rule=found.rule)


# The suggestion's static path first: /api/v1/taxes/{code} would otherwise read "suggest" as a code.
ROUTES = [api_tax_suggest, api_tax_preset, api_taxes, api_tax_create, api_tax, api_tax_update]
