"""Batch print and ZIP pages: the actions on the quotes, invoices and credit notes lists, the
job's page with its progress panel (polled by htmx), cancel, and the finished file."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import QueryParameter
from litestar.response import File, Template

from app.batch import logic, service
from app.batch.service import Batches
from app.common.i18n import lazy
from app.common.logic import NotFound, ValidationFailed
from app.documents.logic import CREDIT_NOTE, INVOICE, QUOTE, TYPE_PATHS
from app.web.responses import download_file, form_data, page, redirect

SECTIONS = {QUOTE: "quotes", INVOICE: "invoices", CREDIT_NOTE: "credit_notes"}


def _owner(request: Request) -> int:
    return request.scope["user"].user_id


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _list_url(doc_type: str, query: dict[str, str]) -> str:
    return f"/{TYPE_PATHS[doc_type]}" + (("?" + urlencode(query)) if query else "")


def _job_context(batches: Batches, job: service.Job) -> dict[str, Any]:
    return {"job": job, "view": logic.panel(job.status, batches.now(), doc_type=job.doc_type, kind=job.kind),
            "base": f"/{TYPE_PATHS[job.doc_type]}", "back": _list_url(job.doc_type, job.filters.query()),
            "described": logic.describe(job.doc_type, job.filters, job.client_name),
            "hidden": job.filters.query(), "plural": logic.NOUNS[job.doc_type][1],
            "kind_label": lazy(logic.KIND_LABELS[job.kind])}


def _panel(request: Request, batches: Batches, job: service.Job) -> Template:
    return page(request, "batch/_panel.html", **_job_context(batches, job))


def _type_routes(doc_type: str) -> list[Any]:
    base = f"/{TYPE_PATHS[doc_type]}/batch"

    @get(f"{base}/actions", name=f"{doc_type}-batch-actions", include_in_schema=False)
    async def actions(request: Request, status: str = "", client_id: str = "", q: str = "",
                      date_from: str = QueryParameter(name="from", default=""),
                      date_to: str = QueryParameter(name="to", default="")) -> Template:
        """The list's batch actions for its current filters, with how many PDFs they make."""
        raw = {"status": status, "client_id": client_id, "q": q, "from": date_from, "to": date_to}
        try:
            filters = logic.parse_filters(doc_type, raw)
        except ValidationFailed as failed:
            return page(request, "batch/_actions.html", problem=" ".join(e.message for e in failed.errors))
        counted = await service.count_batch(doc_type, filters)
        return page(request, "batch/_actions.html", problem="", base=f"/{TYPE_PATHS[doc_type]}",
                    hidden=filters.query(), **logic.actions_view(doc_type, counted.count, counted.drafts_left_out))

    @post(base, name=f"{doc_type}-batch-start", include_in_schema=False)
    async def start(request: Request, batches: Batches) -> Response:
        """Start "Download PDFs (ZIP)" or "Print all" for the list's filters; then its page shows progress."""
        data = await form_data(request)
        filters = logic.parse_filters(doc_type, data)   # bad input: 422 naming the field
        kind = logic.parse_kind(data.get("kind"))
        try:
            job = await batches.start_job(_owner(request), doc_type, kind, filters)
        except service.EmptyBatch as empty:
            return redirect(_list_url(doc_type, filters.query()), flash=empty.detail, request=request)
        return redirect(f"/batch/{job.id}", request=request)

    return [actions, start]


@get("/batch/{job_id:str}", include_in_schema=False)
async def job_page(request: Request, batches: Batches, job_id: str) -> Template:
    job = batches.get(job_id, _owner(request))
    return page(request, "batch/job.html", section=SECTIONS[job.doc_type], title=logic.job_title(job.doc_type, job.kind),
                **_job_context(batches, job))


@get("/batch/{job_id:str}/panel", include_in_schema=False)
async def job_panel(request: Request, batches: Batches, job_id: str) -> Template:
    """The progress panel alone; it polls itself while the batch is under way."""
    try:
        job = batches.get(job_id, _owner(request))
    except NotFound:
        # The panel that polls is replaced by one that does not (app.js swaps 4xx for data-swap-errors).
        return page(request, "batch/_gone.html", status_code=404)
    return _panel(request, batches, job)


@post("/batch/{job_id:str}/cancel", include_in_schema=False)
async def job_cancel(request: Request, batches: Batches, job_id: str) -> Response:
    job = batches.cancel(job_id, _owner(request))
    if _is_htmx(request):
        return _panel(request, batches, job)
    return redirect(f"/batch/{job.id}", request=request)


@get("/batch/{job_id:str}/file", include_in_schema=False)
async def job_file(request: Request, batches: Batches, job_id: str) -> File:
    """The ZIP (a download) or the combined PDF (opened in the browser's viewer, to print in one go).
    Sent once: the file is removed from the cache right after."""
    job, path = batches.take_file(job_id, _owner(request))
    return download_file(path, job.filename, job.media_type, inline=job.kind == logic.PRINT,
                         headers={"Cache-Control": "private, max-age=3600"},
                         background=BackgroundTask(batches.release, job))


ROUTES = [*_type_routes(INVOICE), *_type_routes(QUOTE), *_type_routes(CREDIT_NOTE), job_page, job_panel, job_cancel,
          job_file]
