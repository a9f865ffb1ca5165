"""Catalogue operations; each write is one transaction through the writer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable

from app.catalog import logic
from app.catalog.tables import Item
from app.common.i18n import _
from app.common.logic import (
    Conflict,
    FieldError,
    NotFound,
    Page,
    PageOf,
    ValidationFailed,
    like_pattern,
    parse_search,
)
from app.db.columns import column_values
from app.db.engine import write_transaction
from app.taxes import service as taxes_service

SORTS = {"name": Item.name, "code": Item.code, "price": Item.unit_price_e4, "category": Item.category}

# Documents tell us whether an item is on any line, without this module importing theirs.
_usage_checks: list[Callable[[int], Awaitable[int]]] = []


def register_usage_check(check: Callable[[int], Awaitable[int]]) -> None:
    _usage_checks.append(check)


def _now() -> datetime:
    return datetime.now(UTC)



async def list_items(*, q: str = "", active: bool | None = None, category: str = "",
                     sort: str = "name", descending: bool = False, page: Page = Page()) -> PageOf:
    if sort not in SORTS:
        raise ValidationFailed([FieldError("sort", _("sort must be one of: %(join)s", join=', '.join(SORTS)))])
    select, count = Item.select(), Item.count()
    conditions: list[Combinable] = []
    if active is not None:
        conditions.append(Item.active == active)
    if category:
        conditions.append(Item.category == category)
    query = parse_search(q)
    if not query.empty:
        conditions.append(WhereRaw(
            " AND ".join(["search_text LIKE {} ESCAPE '\\'"] * len(query.words)),
            *[like_pattern(word) for word in query.words],
        ))
    for condition in conditions:
        select, count = select.where(condition), count.where(condition)
    rows = await select.order_by(SORTS[sort], ascending=not descending).order_by(Item.id).limit(page.per_page).offset(page.offset)
    return PageOf(items=rows, total=await count, page=page)


async def get_item(item_id: int) -> dict[str, Any]:
    row = await Item.select().where(Item.id == item_id).first()
    if row is None:
        raise NotFound(_("Item %(item_id)s", item_id=item_id))
    return row


async def categories() -> list[str]:
    rows = await Item.select(Item.category).distinct().where(Item.category != "").order_by(Item.category)
    return [row["category"] for row in rows]


async def count_items() -> int:
    return await Item.count().where(Item.active == True)  # noqa: E712


async def recent_items(limit: int = 5) -> list[dict[str, Any]]:
    return await Item.select().where(Item.active == True).order_by(Item.created_at, ascending=False).limit(limit)  # noqa: E712


async def _check_unique(values: dict[str, Any], except_id: int | None = None) -> None:
    errors = []
    for field, label in (("code", "Code"), ("name", "Name")):
        if field not in values:
            continue
        query = Item.exists().where(WhereRaw(f"lower({field}) = lower({{}})", values[field]))
        if except_id is not None:
            query = query.where(Item.id != except_id)
        if await query:
            errors.append(FieldError(field, _("%(label)s %(value)s is already used by another item", label=label, value=repr(values[field]))))
    if values.get("default_tax_codes"):
        unknown = await taxes_service.unknown_codes(values["default_tax_codes"].split())
        if unknown:
            errors.append(FieldError("default_taxes", _("Unknown tax code %(code)s: define it under Settings, Taxes", code=repr(unknown[0]))))
    if errors:
        raise ValidationFailed(errors)


def _search(values: dict[str, Any], current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    merged = {**(current or {}), **values}
    values["search_text"] = logic.item_search_text(
        merged.get("code", ""), merged.get("name", ""), merged.get("category", ""), merged.get("description", ""))
    return values


async def create_item(data: Mapping[str, Any]) -> dict[str, Any]:
    values = logic.clean_item(data)
    async with write_transaction():
        await _check_unique(values)
        now = _now()
        item = Item(**_search(values), created_at=now, updated_at=now)
        await item.save()
        return await get_item(item.id)


async def update_item(item_id: int, data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    values = logic.clean_item(data, partial=partial)
    async with write_transaction():
        current = await get_item(item_id)
        await _check_unique(values, except_id=item_id)
        values = _search(values, current)
        values["updated_at"] = _now()
        await Item.update(column_values(values)).where(Item.id == item_id)
        return await get_item(item_id)


async def delete_item(item_id: int) -> None:
    """Remove an item nobody used; an item on documents is deactivated instead (409)."""
    async with write_transaction():
        item = await get_item(item_id)
        for check in _usage_checks:
            if await check(item_id):
                raise Conflict(_("%(name)s is used on documents; mark it inactive instead of deleting it.", name=item['name']))
        await Item.delete().where(Item.id == item_id)
