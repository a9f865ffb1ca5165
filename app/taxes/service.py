"""Tax rates: define, edit, load presets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from app.common.i18n import _
from app.common.logic import FieldError, NotFound, ValidationFailed
from app.db.columns import column_values
from app.db.engine import write_transaction
from app.taxes import logic
from app.taxes.logic import TaxRate
from app.taxes.tables import Tax


def _now() -> datetime:
    return datetime.now(UTC)


async def list_taxes(*, active_only: bool = False) -> list[dict[str, Any]]:
    query = Tax.select()
    if active_only:
        query = query.where(Tax.active == True)  # noqa: E712
    return await query.order_by(Tax.compound).order_by(Tax.code)


async def get_tax(code: str) -> dict[str, Any]:
    row = await Tax.select().where(Tax.code == (code or "").upper()).first()
    if row is None:
        raise NotFound(_("Tax %(code)s", code=code))
    return row


async def rates_by_code() -> dict[str, TaxRate]:
    return {row["code"]: logic.rate_of(row) for row in await Tax.select()}


async def unknown_codes(codes: list[str]) -> list[str]:
    if not codes:
        return []
    known = set(await Tax.select(Tax.code).where(Tax.code.is_in(list(codes))).output(as_list=True))
    return [code for code in codes if code not in known]


async def create_tax(data: Mapping[str, Any]) -> dict[str, Any]:
    values = logic.clean_tax(data)
    async with write_transaction():
        if await Tax.exists().where(Tax.code == values["code"]):
            raise ValidationFailed([FieldError("code", _("Tax code %(code)s already exists", code=values['code']))])
        now = _now()
        await Tax.insert(Tax(**values, created_at=now, updated_at=now))
    return await get_tax(values["code"])


async def update_tax(code: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Changing a rate affects drafts only: issued documents froze their tax breakdown."""
    values = logic.clean_tax(data, partial=True)
    values.pop("code", None)  # documents refer to the code; it does not change
    async with write_transaction():
        current = await get_tax(code)
        values["updated_at"] = _now()
        await Tax.update(column_values(values)).where(Tax.id == current["id"])
    return await get_tax(code)


async def apply_preset(preset: str, *, field: str = "preset") -> list[str]:
    """Add the preset's rates that are not defined yet; returns the codes added (none the second time).

    `preset`: an ISO country code (CA, DE, FR, AT, BE, NL, US) or an older name (canada, uk, none)."""
    found = logic.preset_of(preset)
    if found is None:
        raise ValidationFailed([FieldError(field, _("Unknown preset %(preset)r: use one of %(presets)s", preset=preset,
                                                    presets=", ".join(logic.COUNTRY_PRESETS)))])
    added = []
    async with write_transaction():
        for rate in found[1]:
            if await Tax.exists().where(Tax.code == rate.code):
                continue
            now = _now()
            rate = logic.preset_rate(rate)   # with its name and note in en, fr and de
            await Tax.insert(Tax(code=rate.code, name=rate.name, rate=str(rate.rate), compound=rate.compound,
                                 note=rate.note, category=rate.category, names=logic.texts_json(rate.names),
                                 notes=logic.texts_json(rate.notes), created_at=now, updated_at=now))
            added.append(rate.code)
    return added
