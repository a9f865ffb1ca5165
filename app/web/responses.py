"""What every page and API route shares (app/web/pages, app/web/api): the page context and
its navigation, redirects with a one-time flash message, form data, paging and lists in JSON,
and the exception handlers that turn the core's errors (app.common.logic) into an error page
or a JSON error body."""

from __future__ import annotations

import logging
import re
import sqlite3
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import File, Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap
from unidecode import unidecode

from app import __version__
from app.common.i18n import L_
from app.common.logic import Conflict, FieldError, Forbidden, NotFound, PageOf, ValidationFailed, parse_page
from app.db import datafolder
from app.db import logic as db_logic
from app.db.datafolder import DataFolderProblem

log = logging.getLogger("counterfoil.web")
FLASH_COOKIE = "counterfoil_flash"

# The navigation: (section, path, label, for the owner only).
NAV = [
    ("dashboard", "/", L_("Dashboard"), False),
    ("clients", "/clients", L_("Clients"), False),
    ("quotes", "/quotes", L_("Quotes"), False),
    ("invoices", "/invoices", L_("Invoices"), False),
    ("recurring", "/recurring", L_("Recurring"), False),
    ("credit_notes", "/credit-notes", L_("Credit notes"), False),
    ("payments", "/payments", L_("Payments"), False),
    ("reminders", "/reminders", L_("Reminders"), False),
    ("projects", "/projects", L_("Projects & time"), False),
    ("expenses", "/expenses", L_("Expenses"), False),
    ("reports", "/reports", L_("Reports"), False),
    ("exports", "/exports", L_("Exports"), False),
    ("outbox", "/outbox", L_("Outbox"), False),
    ("catalog", "/catalog", L_("Catalogue"), False),
    ("settings", "/settings", L_("Settings"), True),
    ("backup", "/backup", L_("Backup"), True),
    ("imports", "/imports", L_("Import"), True),
    ("audit", "/audit", L_("Audit trail"), True),
]


def actor_id(request: Request) -> int:
    """The signed-in user (or the token's owner) making the request: the actor written in history."""
    return request.scope["user"].user_id


def wants_json(request: Request) -> bool:
    """The API and /health answer errors in JSON; every other path answers with an error page."""
    return request.url.path.startswith("/api/") or request.url.path.startswith("/health")


def page(request: Request, template: str, *, status_code: int = 200, section: str = "", title: str = "",
         **context: Any) -> Template:
    """Render `template` with what every page needs: who is signed in, the CSRF token, the navigation
    they may see, the flash message (read once: its cookie is deleted) and the version.

    Always the template it is given: a route that answers htmx with a fragment picks the fragment's
    template itself (e.g. `clients/_rows.html` when HX-Target is the result list)."""
    flash = request.cookies.get(FLASH_COOKIE)
    identity = request.scope.get("user")
    if identity is not None and identity.via == "token":
        identity = None  # pages are for browser sessions: a token's refusal page shows no account
    response = Template(
        template_name=template,
        status_code=status_code,
        context={
            "identity": identity,
            "csrf_token": request.scope.get("auth", {}).get("csrf") or "",
            "nav": [item for item in NAV if not item[3] or (identity and identity.is_owner)],
            "section": section,
            "title": title,
            "flash": flash,
            "version": __version__,
            "data_folder_notice": data_folder_notice(),
            "timer": request.scope.get("state", {}).get("timer"),   # the running timer's bar (pages.projects)
            **context,
        },
    )
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def data_folder_notice() -> str:
    """The banner every page shows while the data folder cannot take changes (read-only, gone)."""
    condition = datafolder.condition()
    if condition == db_logic.OK or datafolder.WATCH.data_dir is None:
        return ""
    if condition == db_logic.GONE:
        return db_logic.gone_message(str(datafolder.WATCH.data_dir))
    if condition == db_logic.DAMAGED:
        return db_logic.damaged_message(str(datafolder.WATCH.database), datafolder.WATCH.damage)
    return (f"Read-only: the data folder {datafolder.WATCH.data_dir} cannot be written, so Counterfoil shows "
            "your data but saves no changes. Backup > Download backup still works. Make the folder writable, "
            "then start Counterfoil again.")


def redirect(to: str, *, flash: str | None = None, request: Request | None = None) -> Response:
    """After a successful POST: a 303 redirect (to htmx, a 200 with HX-Redirect, which it follows), with an
    optional one-time message in a 60-second cookie that the next page shows and deletes."""
    if request is not None and request.headers.get("hx-request") == "true":
        response: Response = Response(content="", status_code=200, headers={"HX-Redirect": to})
    else:
        response = Redirect(path=to, status_code=303)
    if flash:
        response.set_cookie(FLASH_COOKIE, quote(str(flash)), path="/", httponly=True, samesite="strict", max_age=60)
    return response


async def form_data(request: Request) -> dict[str, Any]:
    """The submitted form as a dict; repeated fields (checkbox lists) become lists."""
    form = await request.form()
    data: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        values = form.getall(key)
        data[key] = values if len(values) > 1 or key.endswith("[]") else values[0]
    return {key.removesuffix("[]"): value for key, value in data.items()}


def page_params(page: Any, per_page: Any, default: int = 50):
    return parse_page(page, per_page, default_per_page=default)


# -- downloads ----------------------------------------------------------------------------
# Every file the app hands out (PDFs, ZIPs, CSVs, XML, attachments) is named here. The name comes from a
# fixed pattern filled with checked values (a number, a client, typed dates), never from a query
# parameter; it keeps its letters (Søren stays Søren) in `filename*` (RFC 6266, RFC 8187), with an
# ASCII look-alike in `filename` for the old clients that read only that.
_FALLBACK_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()+-]")
_ATTR_CHARS = "!#$&+-.^_`|~"   # RFC 8187 attr-char besides letters and digits: left as they are


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """`attachment; filename="Soren.pdf"; filename*=UTF-8''S%C3%B8ren.pdf` (just `filename` when it is
    plain ASCII). No control character, quote, backslash or slash of the name reaches the header."""
    name = "".join(ch for ch in unicodedata.normalize("NFC", filename or "")
                   if unicodedata.category(ch)[0] != "C").replace("/", "-").replace("\\", "-").strip() or "download"
    look_alike = re.sub(r" (?=\.)", "", " ".join(unidecode(name).split()))   # 東京.zip -> "Dong Jing.zip"
    fallback = _FALLBACK_UNSAFE.sub("_", look_alike).strip(" .") or "download"
    header = f'{"inline" if inline else "attachment"}; filename="{fallback}"'
    if fallback != name:
        header += "; filename*=UTF-8''" + quote(name, safe=_ATTR_CHARS)
    return header


def download_headers(filename: str, *, inline: bool = False, headers: Mapping[str, str] | None = None
                     ) -> dict[str, str]:
    """The headers of a download (lower-case names, so that a File response does not add its own)."""
    out = {"content-disposition": content_disposition(filename, inline=inline), "cache-control": "private, no-cache"}
    out.update({name.lower(): value for name, value in (headers or {}).items()})
    return out


def download(content: bytes, filename: str, media_type: str, *, inline: bool = False,
             headers: Mapping[str, str] | None = None) -> Response:
    """A file made in memory (a PDF, a CSV, a ZIP) as a download, or `inline` to open in the browser."""
    return Response(content=content, media_type=media_type,
                    headers=download_headers(filename, inline=inline, headers=headers))


def download_file(path: Path, filename: str, media_type: str, *, inline: bool = False,
                  headers: Mapping[str, str] | None = None, background: BackgroundTask | None = None) -> File:
    """A file on disk (a batch ZIP, a backup bundle) as a download, streamed."""
    return File(path=path, media_type=media_type, content_disposition_type="inline" if inline else "attachment",
                headers=download_headers(filename, inline=inline, headers=headers), background=background)


def list_json(result: PageOf, items: list[Any]) -> dict[str, Any]:
    return {"items": items, "total": result.total, "page": result.page.page, "per_page": result.page.per_page}


def iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def error_json(status: int, detail: str, errors: list[FieldError] | None = None) -> Response:
    return Response(
        content={"detail": detail, "errors": [{"field": e.field, "message": e.message} for e in errors or []]},
        status_code=status, media_type=MediaType.JSON,
    )


def _error_page(request: Request, status: int, detail: str) -> Response:
    titles = {400: "Bad request", 403: "Not allowed", 404: "Not found", 409: "Not possible now",
              422: "Please check the form", 429: "Slow down", 500: "Something went wrong",
              503: "Changes cannot be saved", 507: "The disk is full"}
    return page(request, "error.html", status_code=status, title=titles.get(status, "Error"), detail=detail,
                status=status)


def on_validation_failed(request: Request, exc: ValidationFailed) -> Response:
    if wants_json(request):
        return error_json(422, exc.detail, exc.errors)
    return _error_page(request, 422, exc.detail + " " + "; ".join(e.message for e in exc.errors))


def on_not_found(request: Request, exc: NotFound) -> Response:
    return error_json(404, exc.detail) if wants_json(request) else _error_page(request, 404, exc.detail)


def on_conflict(request: Request, exc: Conflict) -> Response:
    return error_json(409, exc.detail) if wants_json(request) else _error_page(request, 409, exc.detail)


def on_forbidden(request: Request, exc: Forbidden | PermissionDeniedException) -> Response:
    detail = getattr(exc, "detail", None) or "You do not have the right to do this."
    return error_json(403, detail) if wants_json(request) else _error_page(request, 403, detail)


def on_not_authorized(request: Request, exc: NotAuthorizedException) -> Response:
    if wants_json(request):
        return error_json(401, "Sign in or send an API token (Authorization: Bearer ...).")
    target = "/login?next=" + quote(request.url.path + (("?" + request.url.query) if request.url.query else ""))
    if request.headers.get("hx-request") == "true":
        return Response(content="", status_code=401, headers={"HX-Redirect": target})
    return Redirect(path=target, status_code=303)


# msgspec's words for a body field that the struct does not declare (app.web.api.base.Body forbids them).
UNKNOWN_FIELD = re.compile(r"Object contains unknown field `(?P<name>.*)`")


def unknown_field_error(key: str, message: str) -> FieldError | None:
    """msgspec's "Object contains unknown field `nmae`" (at the body's top, key `data`, or inside it, key
    `lines[0]`) as an error naming the field in full (`nmae`, `lines[0].qty`); None for any other error."""
    match = UNKNOWN_FIELD.fullmatch(message)
    if match is None:
        return None
    name = match.group("name")
    field = name if key in ("", "data") else f"{key}.{name}"
    return FieldError(field, f"Unknown field {field!r}: this endpoint does not take it (check the spelling; "
                             "/schema/openapi.json lists the fields)")


def on_litestar_validation(request: Request, exc: ValidationException) -> Response:
    """A body or parameter of the wrong type is 400 naming it; a body field the endpoint does not know is 422
    naming it (a misspelt field is refused, never silently dropped)."""
    errors = []
    unknown = []
    for item in exc.extra or []:
        if isinstance(item, Mapping):
            key = str(item.get("key") or item.get("source") or "request")
            message = str(item.get("message"))
            error = unknown_field_error(key, message) if item.get("source") == "body" else None
            if error is not None:
                unknown.append(error)
            errors.append(error or FieldError(key, message))
    if unknown:
        detail = "The request has a field this endpoint does not know: " + ", ".join(e.field for e in unknown) + "."
        status = 422
    else:
        detail = exc.detail or "Invalid request"
        status = 400
    if wants_json(request):
        return error_json(status, detail, errors)
    return _error_page(request, status,
                       detail + (" " + "; ".join(f"{e.field}: {e.message}" for e in errors) if errors else ""))


def on_http_exception(request: Request, exc: HTTPException) -> Response:
    return error_json(exc.status_code, exc.detail) if wants_json(request) else _error_page(request, exc.status_code, exc.detail)


def on_data_folder_problem(request: Request, exc: DataFolderProblem) -> Response:
    """The data folder is gone, read-only or its disk full: say which, and where (503, or 507 for a full disk)."""
    log.error("%s %s: %s", request.method, request.url.path, exc.message)
    if wants_json(request):
        return error_json(exc.status, exc.message)
    return _error_page(request, exc.status, exc.message)


def on_storage_error(request: Request, exc: sqlite3.Error | OSError) -> Response:
    """A SQLite or file error: by name when the data folder (or a full disk) explains it, else unexpected."""
    problem = datafolder.problem_from(exc)
    if problem is None:
        return on_internal_error(request, exc)
    return on_data_folder_problem(request, problem)


def on_internal_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    detail = "An unexpected error happened; nothing was saved. The details are in the log."
    if wants_json(request):
        return error_json(HTTP_500_INTERNAL_SERVER_ERROR, detail)
    return _error_page(request, 500, detail)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ValidationFailed: on_validation_failed,
    NotFound: on_not_found,
    Conflict: on_conflict,
    Forbidden: on_forbidden,
    PermissionDeniedException: on_forbidden,
    NotAuthorizedException: on_not_authorized,
    ValidationException: on_litestar_validation,
    HTTPException: on_http_exception,
    DataFolderProblem: on_data_folder_problem,
    sqlite3.Error: on_storage_error,
    OSError: on_storage_error,
    Exception: on_internal_error,
}
