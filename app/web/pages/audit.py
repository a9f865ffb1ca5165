"""The audit trail's pages, for the owner: the trail with its filters, a record's own history,
the verification, and the exports (CSV and JSON lines, with the hashes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, get
from litestar.response import Stream, Template

from app.audit import logic, service
from app.auth import service as auth_service
from app.common.i18n import _
from app.common.logic import FieldError, ValidationFailed
from app.web.responses import download_headers, page
from app.web.security import OWNER_ONLY

# The query parameters of the page and the exports (app.audit.logic.parse_filter reads them).
FILTER_KEYS = ("entity", "entity_id", "actor", "user", "action", "from", "to", "before")


def _params(request: Request) -> dict[str, str]:
    return {key: request.query_params.get(key, "") for key in FILTER_KEYS}


@get("/audit", opt=OWNER_ONLY)
async def audit_page(request: Request) -> Template:
    params = _params(request)
    errors: dict[str, str] = {}
    try:
        criteria = logic.parse_filter(params)
    except ValidationFailed as failed:
        errors = failed.by_field()
        criteria = logic.AuditFilter()
    result = await service.list_entries(criteria)
    shown = {key: value for key, value in params.items() if key != "before"}
    return page(request, "audit/list.html", status_code=422 if errors else 200, section="audit",
                title=_("Audit trail"), entries=result.entries, next_before=result.next_before, params=shown,
                errors=errors, users=await auth_service.list_users(), entities={key: _(label) for key, label in logic.ENTITY_LABELS.items()},
                actions=logic.ACTIONS, head=await service.current_head())


@get("/audit/history/{entity:str}/{entity_id:int}", opt=OWNER_ONLY)
async def audit_history(request: Request, entity: str, entity_id: int) -> Template:
    """A record's own history from the trail: a fragment for the record's page (htmx), a page by itself."""
    if not logic.ENTITY_NAME.match(entity):
        raise ValidationFailed([FieldError("entity", _("entity must be a table name such as document"))])
    entries = await service.history(entity, entity_id)
    fragment = request.headers.get("hx-request") == "true"
    return page(request, "audit/_history.html" if fragment else "audit/history.html", section="audit",
                title=_("History of %(lower)s %(entity_id)s", lower=logic.entity_label(entity).lower(), entity_id=entity_id), entries=entries,
                entity=entity, entity_id=entity_id, label=logic.entity_label(entity),
                link=logic.link_for(entity, entity_id) if entity != "payment" else None)


@get("/audit/verify", opt=OWNER_ONLY)
async def audit_verify_page(request: Request) -> Template:
    verification = await service.verify()
    return page(request, "audit/verify.html", status_code=200, section="audit", title=_("Verify the audit trail"),
                result=verification)


async def _export_lines(criteria: logic.AuditFilter, kind: str) -> AsyncIterator[bytes]:
    if kind == "csv":
        lines = [logic.csv_header_line()]
        async for entry in service.iter_entries(criteria):
            lines.append(logic.csv_line(logic.csv_row(entry)))
            if len(lines) >= 500:
                yield "".join(lines).encode("utf-8")
                lines = []
        yield "".join(lines).encode("utf-8")
        return
    chunk: list[str] = []
    async for entry in service.iter_entries(criteria):
        chunk.append(logic.jsonl_line(entry) + "\n")
        if len(chunk) >= 500:
            yield "".join(chunk).encode("utf-8")
            chunk = []
    yield "".join(chunk).encode("utf-8")


def _export(request: Request, kind: str) -> Stream:
    params: dict[str, Any] = {key: value for key, value in _params(request).items() if key != "before"}
    criteria = logic.parse_filter(params)   # a bad filter: 422 before anything is sent
    media_type = "text/csv; charset=utf-8" if kind == "csv" else "application/x-ndjson"
    name = f"counterfoil-audit.{'csv' if kind == 'csv' else 'jsonl'}"
    return Stream(_export_lines(criteria, kind), media_type=media_type,
                  headers=download_headers(name))


@get("/audit/export.csv", opt=OWNER_ONLY)
async def audit_export_csv(request: Request) -> Stream:
    """The entries matching the filters, oldest first, as CSV with their hashes and changes as stored."""
    return _export(request, "csv")


@get("/audit/export.jsonl", opt=OWNER_ONLY)
async def audit_export_jsonl(request: Request) -> Stream:
    """The entries matching the filters, oldest first, one JSON object a line, with their hashes."""
    return _export(request, "jsonl")


ROUTES = [audit_page, audit_history, audit_verify_page, audit_export_csv, audit_export_jsonl]
