"""The JSON API of the audit trail (under /api/v1), for the owner: its routes and msgspec DTOs."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get
from litestar.params import QueryParameter

from app.audit import logic, service
from app.audit.logic import Entry
from app.web.security import OWNER_ONLY


class AuditEntryOut(msgspec.Struct):
    seq: int
    at: str
    actor: str | None
    actor_name: str | None
    user_id: int | None
    origin: str | None
    action: str | None
    operation: str
    entity: str
    entity_id: int | None
    parent_entity: str | None
    parent_id: int | None
    changes: dict[str, Any]
    note: str | None
    hash: str | None
    prev_hash: str | None


class AuditPageOut(msgspec.Struct):
    items: list[AuditEntryOut]
    next_before: int | None   # pass as `before` for the next (older) page; null at the trail's start


class AuditVerifyOut(msgspec.Struct):
    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    anchors_checked: int
    first_broken_seq: int | None
    problems: list[str]


def entry_out(entry: Entry) -> AuditEntryOut:
    return AuditEntryOut(**entry.as_json())


@get("/api/v1/audit", opt=OWNER_ONLY, tags=["audit"])
async def api_audit(entity: str = "", entity_id: str = "", actor: str = "", action: str = "",
                    date_from: str = QueryParameter(name="from", default=""),
                    date_to: str = QueryParameter(name="to", default=""), before: str = "",
                    limit: int = QueryParameter(default=service.PAGE_SIZE, ge=1, le=service.MAX_PAGE_SIZE)
                    ) -> AuditPageOut:
    """The audit trail, newest first. Filters (all optional, combined): `entity` (a table: document,
    client, payment...), `entity_id`, `actor` (a user id, or user:ID, token:ID, cli:NAME, system:JOB,
    anonymous), `action` (issue, payment, reversal, login...), `from` and `to` (UTC days, inclusive).
    The next page: `before` = the `next_before` of this one."""
    criteria = logic.parse_filter({"entity": entity, "entity_id": entity_id, "actor": actor, "action": action,
                                   "from": date_from, "to": date_to, "before": before})
    result = await service.list_entries(criteria, limit=limit)
    return AuditPageOut(items=[entry_out(entry) for entry in result.entries], next_before=result.next_before)


@get("/api/v1/audit/verify", opt=OWNER_ONLY, tags=["audit"])
async def api_audit_verify() -> AuditVerifyOut:
    """The audit part of `counterfoil check`: the chain from its first entry (the first broken sequence
    number), the heads kept outside the database, the triggers, and the books against the trail."""
    return AuditVerifyOut(**(await service.verify()).as_json())


ROUTES = [api_audit, api_audit_verify]
