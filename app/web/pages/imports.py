"""The Import page (owner only): upload a file from another billing program, see its preview (the format
detected, the column mapping, the first rows as they will be stored, every problem per row), change the
mapping or the reading, then apply it in one go or discard it."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from app.common.i18n import N_, _, translated
from app.common.logic import Conflict, NotFound, ValidationFailed
from app.config import Config
from app.documents import logic as documents_logic
from app.imports import formats, parsing, service
from app.web.api.imports import REQUEST_LIMIT, options_of, uploaded_files
from app.web.responses import actor_id, form_data, page, redirect
from app.web.security import OWNER_ONLY

# Labels translated where shown (the templates' `_(label)`).
SOURCE_CHOICES = [("auto", N_("Detect"))] + [(s, formats.SOURCE_LABELS[s]) for s in formats.SOURCES]
KIND_CHOICES = [("auto", N_("Detect")), ("clients", N_("Clients")), ("items", N_("Items")), ("invoices", N_("Invoices")),
                ("payments", N_("Payments"))]


async def _start_page(request: Request, *, status_code: int = 200, error: str = "",
                      values: dict[str, Any] | None = None) -> Template:
    return page(request, "imports/imports.html", status_code=status_code, section="imports", title=_("Import"),
                error=error, values=values or {"source": "auto", "kind": "auto"}, sources=SOURCE_CHOICES,
                kinds=KIND_CHOICES, jobs=await service.recent_jobs(), limit=service.max_bytes())


@get("/imports", opt=OWNER_ONLY)
async def imports_page(request: Request) -> Template:
    return await _start_page(request)


@post("/imports", opt=OWNER_ONLY, request_max_body_size=REQUEST_LIMIT)
async def imports_upload(request: Request, config: Config) -> Response | Template:
    form = await request.form()
    values = {"source": str(form.get("source") or "auto"), "kind": str(form.get("kind") or "auto")}
    try:
        files = await uploaded_files(form)
        job = await service.create_preview(files, data_dir=config.data_dir, source=values["source"],
                                           kind=values["kind"], options=options_of(form), actor=actor_id(request))
    except ValidationFailed as failed:
        return await _start_page(request, status_code=422, error=" ".join(e.message for e in failed.errors),
                                 values=values)
    return redirect(f"/imports/{job['id']}", request=request)


def _preview_page(request: Request, job: dict[str, Any], *, status_code: int = 200, error: str = "") -> Template:
    preview = job["preview"]
    return page(request, "imports/preview.html", status_code=status_code, section="imports",
                title=_("Import preview"), job=job, preview=preview, error=error, sources=SOURCE_CHOICES,
                encodings=list(parsing.ENCODING_LABELS.items()),
                separators=[(k if k != "\t" else "tab", v) for k, v in parsing.SEPARATORS.items()],
                decimals=list(parsing.DECIMALS.items()), date_formats=list(parsing.DATE_FORMATS.items()),
                status_labels=translated(documents_logic.STATUS_LABELS),
                type_labels=translated(documents_logic.TYPE_LABELS))


@get("/imports/{import_id:int}", opt=OWNER_ONLY)
async def import_preview(request: Request, import_id: int) -> Template:
    return _preview_page(request, await service.get_job(import_id))


@post("/imports/{import_id:int}/revise", opt=OWNER_ONLY)
async def import_revise(request: Request, import_id: int, config: Config) -> Response | Template:
    data = await form_data(request)
    job = await service.get_job(import_id)
    mapping: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        if key.startswith("map:"):
            _prefix, index, field = key.split(":", 2)
            try:
                name = job["preview"]["files"][int(index)]["name"]
            except (ValueError, IndexError):
                continue
            mapping.setdefault(name, {})[field] = str(value)
    options = {"dialect": {k: str(data[k]) for k in ("encoding", "separator", "decimal", "date_format")
                           if data.get(k) not in (None, "", "auto")},
               "mapping": mapping, "accept_totals": bool(job["options"].get("accept_totals"))}
    try:
        await service.revise(import_id, data_dir=config.data_dir, source=str(data.get("source") or job["source"]),
                             options=options)
    except (ValidationFailed, Conflict) as failed:
        message = (" ".join(e.message for e in failed.errors) if isinstance(failed, ValidationFailed)
                   else failed.detail)
        return _preview_page(request, job, status_code=422 if isinstance(failed, ValidationFailed) else 409,
                             error=message)
    return redirect(f"/imports/{import_id}", request=request)


@post("/imports/{import_id:int}/apply", opt=OWNER_ONLY)
async def import_apply(request: Request, import_id: int, config: Config) -> Response | Template:
    data = await form_data(request)
    try:
        summary = await service.apply(import_id, data_dir=config.data_dir,
                                      accept_totals=str(data.get("accept_totals") or "") in ("1", "on", "true"),
                                      actor=actor_id(request))
    except (ValidationFailed, Conflict) as failed:
        message = (failed.detail if isinstance(failed, Conflict) else
                   failed.detail + " " + " ".join(e.message for e in failed.errors[:5]))
        return _preview_page(request, await service.get_job(import_id),
                             status_code=409 if isinstance(failed, Conflict) else 422, error=message)
    return redirect(f"/imports/{import_id}", request=request, flash=_(
        "Imported %(clients)s clients, %(invoices)s invoices, %(credit_notes)s credit notes and %(payments)s "
        "payments in %(seconds)s s.", clients=summary["clients"], invoices=summary["invoices"],
        credit_notes=summary["credit_notes"], payments=summary["payments"], seconds=summary["seconds"]))


@post("/imports/{import_id:int}/discard", opt=OWNER_ONLY)
async def import_discard(request: Request, import_id: int, config: Config) -> Response:
    try:
        await service.discard(import_id, data_dir=config.data_dir)
    except NotFound:
        pass
    return redirect("/imports", request=request, flash=_("The import was discarded; nothing was written."))


ROUTES = [imports_page, imports_upload, import_preview, import_revise, import_apply, import_discard]
