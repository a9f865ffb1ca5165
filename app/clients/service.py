"""What a user can do with clients; each write is one transaction through the writer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from piccolo.columns.combination import WhereRaw

from app.clients import logic
from app.clients.records import ClientChoice, ClientCounts, ClientView
from app.clients.tables import Client
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
    storable_id,
)
from app.db.columns import column_values
from app.db.engine import write_transaction

SORTS = {
    "name": Client.name, "code": Client.code, "city": Client.city,
    "created": Client.created_at, "email": Client.email,
}

# Other domains (documents) tell us whether a client is referenced, so that a
# hard delete can be refused without this module importing theirs.
_usage_checks: list[Callable[[int], Awaitable[int]]] = []


def register_usage_check(check: Callable[[int], Awaitable[int]]) -> None:
    _usage_checks.append(check)


# ...and follow a client's new name where they keep it (the documents' search text),
# inside the transaction that renames the client.
_rename_hooks: list[Callable[[int, str], Awaitable[None]]] = []


def register_rename_hook(hook: Callable[[int, str], Awaitable[None]]) -> None:
    _rename_hooks.append(hook)


def _now() -> datetime:
    return datetime.now(UTC)



def search_clause(q: str):
    """SQL for the same rule as common.logic.matches: every word in the folded text, or the digits in the phone."""
    query = parse_search(q)
    if query.empty:
        return None
    words_sql = " AND ".join(["search_text LIKE {} ESCAPE '\\'"] * len(query.words))
    args = [like_pattern(word) for word in query.words]
    if query.digits:
        return WhereRaw(f"(({words_sql}) OR search_digits LIKE {{}} ESCAPE '\\')", *args, like_pattern(query.digits))
    return WhereRaw(f"({words_sql})", *args)


async def list_clients(*, q: str = "", status: str = "active", sort: str = "name",
                       descending: bool = False, page: Page = Page()) -> PageOf[ClientView]:
    if status not in ("active", "archived", "all"):
        raise ValidationFailed([FieldError("status", _("status must be active, archived or all"))])
    if sort not in SORTS:
        raise ValidationFailed([FieldError("sort", _("sort must be one of: %(join)s", join=', '.join(SORTS)))])
    conditions = []
    if status != "all":
        conditions.append(Client.status == status)
    clause = search_clause(q)
    if clause is not None:
        conditions.append(clause)
    count = Client.count()
    for condition in conditions:
        count = count.where(condition)
    column = SORTS[sort]
    total = await count
    if page.offset >= total:
        return PageOf(items=[], total=total, page=page)
    # The page's ids first, through the sort's index (the rows skipped before the page are never read
    # whole); a page past the middle is counted from the end, in the other order (issue 21).
    size = min(page.per_page, total - page.offset)
    from_end = page.offset > total // 2
    ascending = descending if from_end else not descending
    ids = Client.select(Client.id)
    for condition in conditions:
        ids = ids.where(condition)
    found = [row["id"] for row in await ids.order_by(column, ascending=ascending).order_by(Client.id, ascending=not from_end)
             .limit(size).offset(total - page.offset - size if from_end else page.offset)]
    if from_end:
        found.reverse()
    by_id = {row["id"]: row for row in await Client.select().where(Client.id.is_in(found))} if found else {}
    return PageOf(items=[ClientView.from_row(by_id[i]) for i in found if i in by_id], total=total, page=page)


async def client_choices(*, status: str = "all", limit: int = 500, including: int | None = None
                         ) -> list[ClientChoice]:
    """The first `limit` clients by name (all, or those of one status) to pick from in a select: ids and
    names only, read from the name index, so that a page offering them reads no client's whole row.
    `including`: the client already chosen, added in its place when it is beyond the first `limit`."""
    query = Client.select(Client.id, Client.name)
    if status != "all":
        query = query.where(Client.status == status)
    rows = await query.order_by(Client.name).order_by(Client.id).limit(limit)
    choices = [ClientChoice(id=row["id"], name=row["name"]) for row in rows]
    if including is not None and storable_id(including) and all(c.id != including for c in choices):
        row = await Client.select(Client.id, Client.name).where(Client.id == including).first()
        if row is not None:
            choices = sorted([*choices, ClientChoice(id=row["id"], name=row["name"])], key=lambda c: (c.name, c.id))
    return choices


async def get_client(client_id: int) -> ClientView:
    row = await Client.select().where(Client.id == client_id).first() if storable_id(client_id) else None
    if row is None:
        raise NotFound(_("Client %(client_id)s", client_id=client_id))
    return ClientView.from_row(row)


async def recent_clients(limit: int = 5) -> list[ClientView]:
    # Walks client_status_created backwards (its entries end with the id) and stops after `limit`.
    rows = await Client.select().where(Client.status == "active") \
        .order_by(Client.created_at, Client.id, ascending=False).limit(limit)
    return [ClientView.from_row(row) for row in rows]


async def count_clients() -> ClientCounts:
    active = await Client.count().where(Client.status == "active")
    archived = await Client.count().where(Client.status == "archived")
    return ClientCounts(active=active, archived=archived)


async def _code_taken(code: str, except_id: int | None = None) -> bool:
    query = Client.exists().where(WhereRaw("lower(code) = lower({})", code))
    if except_id is not None:
        query = query.where(Client.id != except_id)
    return await query


def _with_search_keys(values: dict[str, Any], current: ClientView | None = None) -> dict[str, Any]:
    merged = {**(current.as_mapping() if current else {}), **values}
    text, digits = logic.search_keys(
        merged.get("name", ""), merged.get("code", ""), merged.get("email", ""),
        merged.get("phone", ""), merged.get("contact_name", ""),
    )
    values["search_text"] = text
    values["search_digits"] = digits
    return values


async def create_client(data: Mapping[str, Any], *, default_currency: str = "") -> ClientView:
    values = logic.clean_client(data)
    async with write_transaction():
        if values.get("code"):
            if await _code_taken(values["code"]):
                raise ValidationFailed([FieldError("code", _("Code %(code)s is already used by another client", code=values['code']))])
        else:
            codes = await Client.select(Client.code).where(Client.code.like("C%")).output(as_list=True)
            values["code"] = logic.next_client_code(codes)
        if not values.get("currency") and default_currency:
            values["currency"] = default_currency
        now = _now()
        client = Client(**_with_search_keys(values), status="active", created_at=now, updated_at=now)
        await client.save()
        return await get_client(client.id)


async def update_client(client_id: int, data: Mapping[str, Any], *, partial: bool = False) -> ClientView:
    values = logic.clean_client(data, partial=partial)
    async with write_transaction():
        current = await get_client(client_id)
        if "code" in values:
            if not values["code"]:
                values.pop("code")  # an emptied code keeps the old one
            elif await _code_taken(values["code"], except_id=client_id):
                raise ValidationFailed([FieldError("code", _("Code %(code)s is already used by another client", code=values['code']))])
        values = _with_search_keys(values, current)
        values["updated_at"] = _now()
        await Client.update(column_values(values)).where(Client.id == client_id)
        if values.get("name", current.name) != current.name:
            for hook in _rename_hooks:
                await hook(client_id, values["name"])
        return await get_client(client_id)


async def set_status(client_id: int, status: str) -> ClientView:
    async with write_transaction():
        await get_client(client_id)
        await Client.update({
            Client.status: status,
            Client.archived_at: _now() if status == "archived" else None,
            Client.updated_at: _now(),
        }).where(Client.id == client_id)
        return await get_client(client_id)


async def delete_client(client_id: int, *, hard: bool = False) -> ClientView | None:
    """Archive by default; a hard delete only for a client nothing refers to.

    A draft counts: deleting the client never deletes the user's drafts with it (Conflict instead).
    """
    if not hard:
        return await set_status(client_id, "archived")
    async with write_transaction():
        client = await get_client(client_id)
        for check in _usage_checks:
            used = await check(client_id)
            if used:
                raise Conflict(
                    _("%(name)s has %(used)s document(s), drafts included, and cannot be deleted; archive the client instead (or delete its drafts first, if that is all it has).", name=client.name, used=used)
                )
        await Client.delete().where(Client.id == client_id)
    return None
