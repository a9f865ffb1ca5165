"""The JSON API of imports (under /api/v1, owner only): upload a file for its preview, look at it, apply
it (one transaction, or nothing) or discard it."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, delete, get, post
from litestar.datastructures import UploadFile

from app.common.i18n import _
from app.common.logic import FieldError, ValidationFailed
from app.config import Config
from app.imports import service
from app.web.api.base import Body
from app.web.responses import actor_id
from app.web.security import OWNER_ONLY

# The form parser spools the upload to disk; the import's own limit (COUNTERFOIL_IMPORT_MAX_BYTES) is
# checked on what arrived, so a file too large gets its 422 naming `file` rather than a bare 413.
REQUEST_LIMIT = 8 * 1024 ** 3
DIALECT_FIELDS = ("encoding", "separator", "decimal", "date_format")


class ApplyIn(Body, omit_defaults=True):
    accept_totals: bool = False


async def uploaded_files(form: Any, field: str = "file") -> list[tuple[str, bytes]]:
    """Every file sent in `field` (several may be: an export in parts), read; each temporary file closed."""
    uploads = [u for u in form.getall(field) if isinstance(u, UploadFile)] if field in form else []
    files = []
    limit = service.max_bytes()
    for upload in uploads:
        try:
            data = await upload.read(limit + 1)
        finally:
            await upload.close()
        files.append((upload.filename or "upload", data))
    if not files:
        raise ValidationFailed([FieldError("file", _("file: send the file as multipart form data in the field `file`"))])
    return files


def options_of(form: Any) -> dict[str, Any]:
    """The import's options from the form: `mapping` (JSON text), the dialect's fields, `accept_totals`."""
    options: dict[str, Any] = {"dialect": {name: str(form.get(name)) for name in DIALECT_FIELDS if form.get(name)},
                               "accept_totals": str(form.get("accept_totals") or "").lower() in ("1", "true", "on",
                                                                                                  "yes")}
    raw = form.get("mapping")
    if raw not in (None, ""):
        try:
            options["mapping"] = json.loads(str(raw))
        except ValueError:
            raise ValidationFailed([FieldError("mapping", _("mapping: JSON of field -> column name"))]) from None
    return options


@post("/api/v1/imports", tags=["imports"], status_code=201, opt=OWNER_ONLY, request_max_body_size=REQUEST_LIMIT)
async def api_import_create(request: Request, config: Config) -> dict[str, Any]:
    """Multipart `file` (CSV, JSON or ZIP; repeat it for several), `source`, `kind`, `mapping` (JSON), and
    optionally `encoding`, `separator`, `decimal`, `date_format`, `accept_totals`. Answers the preview with
    its id; nothing is written to the books until it is applied."""
    form = await request.form()
    files = await uploaded_files(form)
    return await service.create_preview(files, data_dir=config.data_dir, source=str(form.get("source") or "auto"),
                                        kind=str(form.get("kind") or "auto"), options=options_of(form),
                                        actor=actor_id(request))


@get("/api/v1/imports/{import_id:int}", tags=["imports"], opt=OWNER_ONLY)
async def api_import(import_id: int) -> dict[str, Any]:
    return await service.get_job(import_id)


@post("/api/v1/imports/{import_id:int}/apply", tags=["imports"], status_code=200, opt=OWNER_ONLY)
async def api_import_apply(request: Request, import_id: int, config: Config, data: ApplyIn | None = None
                           ) -> dict[str, Any]:
    """Write the import, all or nothing: 422 while a row has a problem, 409 while a differing total is not
    accepted (`accept_totals`)."""
    summary = await service.apply(import_id, data_dir=config.data_dir,
                                  accept_totals=data.accept_totals if data is not None else None,
                                  actor=actor_id(request))
    return {**await service.get_job(import_id), "summary": summary}


@delete("/api/v1/imports/{import_id:int}", tags=["imports"], status_code=204, opt=OWNER_ONLY)
async def api_import_discard(import_id: int, config: Config) -> None:
    await service.discard(import_id, data_dir=config.data_dir)


ROUTES = [api_import_create, api_import, api_import_apply, api_import_discard]
