"""What every page and API route shares (app/web/pages, app/web/api): the page context and
its navigation, redirects with a one-time flash message, form data, paging and lists in JSON,
and the exception handlers that turn the core's errors (app.common.logic) into an error page
or a JSON error body."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from app import __version__
from app.common.logic import Conflict, FieldError, Forbidden, NotFound, PageOf, ValidationFailed, parse_page

log = logging.getLogger("counterfoil.web")
FLASH_COOKIE = "counterfoil_flash"

# The navigation: (section, path, label, for the owner only).
NAV = [
    ("dashboard", "/", "Dashboard", False),
    ("clients", "/clients", "Clients", False),
    ("quotes", "/quotes", "Quotes", False),
    ("invoices", "/invoices", "Invoices", False),
    ("credit_notes", "/credit-notes", "Credit notes", False),
    ("payments", "/payments", "Payments", False),
    ("reports", "/reports", "Reports", False),
    ("exports", "/exports", "Exports", False),
    ("outbox", "/outbox", "Outbox", False),
    ("catalog", "/catalog", "Catalogue", False),
    ("settings", "/settings", "Settings", True),
    ("backup", "/backup", "Backup", True),
    ("audit", "/audit", "Audit trail", True),
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
            **context,
        },
    )
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(to: str, *, flash: str | None = None, request: Request | None = None) -> Response:
    """After a successful POST: a 303 redirect (to htmx, a 200 with HX-Redirect, which it follows), with an
    optional one-time message in a 60-second cookie that the next page shows and deletes."""
    if request is not None and request.headers.get("hx-request") == "true":
        response: Response = Response(content="", status_code=200, headers={"HX-Redirect": to})
    else:
        response = Redirect(path=to, status_code=303)
    if flash:
        response.set_cookie(FLASH_COOKIE, quote(flash), path="/", httponly=True, samesite="strict", max_age=60)
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
              422: "Please check the form", 429: "Slow down", 500: "Something went wrong"}
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


def on_litestar_validation(request: Request, exc: ValidationException) -> Response:
    errors = []
    for item in exc.extra or []:
        if isinstance(item, Mapping):
            errors.append(FieldError(str(item.get("key") or item.get("source") or "request"), str(item.get("message"))))
    detail = exc.detail or "Invalid request"
    if wants_json(request):
        return error_json(400, detail, errors)
    return _error_page(request, 400, detail + (" " + "; ".join(f"{e.field}: {e.message}" for e in errors) if errors else ""))


def on_http_exception(request: Request, exc: HTTPException) -> Response:
    return error_json(exc.status_code, exc.detail) if wants_json(request) else _error_page(request, exc.status_code, exc.detail)


def on_internal_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    detail = "An unexpected error happened; nothing was saved. The details are in the log."
    if wants_json(request):
        return error_json(HTTP_500_INTERNAL_SERVER_ERROR, detail)
    return _error_page(request, 500, detail)


EXCEPTION_HANDLERS = {
    ValidationFailed: on_validation_failed,
    NotFound: on_not_found,
    Conflict: on_conflict,
    Forbidden: on_forbidden,
    PermissionDeniedException: on_forbidden,
    NotAuthorizedException: on_not_authorized,
    ValidationException: on_litestar_validation,
    HTTPException: on_http_exception,
    Exception: on_internal_error,
}
