"""The JSON API of exports (under /api/v1): its routes and msgspec DTOs."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import QueryParameter

from app.config import Config
from app.documents.logic import CREDIT_NOTE, INVOICE, QUOTE
from app.exports import service
from app.web.api.base import Body
from app.web.responses import actor_id, download, iso


def _csv(content: bytes, filename: str) -> Response:
    return download(content, filename, "text/csv; charset=utf-8")


@get("/api/v1/exports/clients.csv", tags=["exports"], media_type="text/csv")
async def clients_csv(q: str = "", status: str = "active", sort: str = "name", dir: str = "asc") -> Response:
    """Every client the list shows with the same filters (`q`, `status`, `sort`, `dir`), all pages."""
    return _csv(await service.clients_csv(q=q, status=status, sort=sort, descending=dir == "desc"), "clients.csv")


@get("/api/v1/exports/payments.csv", tags=["exports"], media_type="text/csv")
async def payments_csv(client_id: int | None = None, method: str = "",
                       state_filter: str = QueryParameter(name="state", default=""),
                       date_from: date | None = QueryParameter(name="from", default=None),
                       date_to: date | None = QueryParameter(name="to", default=None)) -> Response:
    """Payments with the same filters as /api/v1/payments (`client_id`, `method`, `state`, `from`, `to`)."""
    return _csv(await service.payments_csv(client_id=client_id, method=method, state=state_filter,
                                           date_from=date_from, date_to=date_to), "payments.csv")


@get("/api/v1/exports/aging.csv", tags=["exports"], media_type="text/csv")
async def aging_csv(as_of: date | None = None) -> Response:
    """The receivables aging at `as_of` (today by default): every client and currency, the largest total first."""
    return _csv(await service.aging_csv(as_of), "aging.csv")


class PackageSendIn(Body, omit_defaults=True, kw_only=True):
    to: str | list[str] | None = None
    cc: str | list[str] | None = None
    subject: str | None = None
    message: str | None = None


@get("/api/v1/exports/accountant", tags=["exports"], media_type="application/zip")
async def accountant_zip(config: Config, date_from: date | None = QueryParameter(name="from", default=None),
                         date_to: date | None = QueryParameter(name="to", default=None),
                         include_time: bool = False) -> Response:
    """The accountant's ZIP for `from`..`to`: CSVs, PDFs, Factur-X XML, summary.pdf, README.txt (and
    time_entries.csv with `include_time=true`)."""
    content, filename = await service.accountant_package(date_from, date_to, data_dir=config.data_dir,
                                                         include_time=include_time)
    return download(content, filename, "application/zip")


@post("/api/v1/exports/accountant/send", tags=["exports"], status_code=202)
async def accountant_send(request: Request, config: Config,
                          date_from: date | None = QueryParameter(name="from", default=None),
                          date_to: date | None = QueryParameter(name="to", default=None),
                          data: PackageSendIn | None = None, include_time: bool = False) -> dict[str, Any]:
    """Queue the package for the accountant's address in Settings, Email (or `to`); 202 with the message."""
    given = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None} if data else {}
    row = await service.send_accountant_package(date_from, date_to, given, data_dir=config.data_dir,
                                                actor=actor_id(request), include_time=include_time)
    return {"id": row["id"], "status": row["status"], "to": row["to"], "subject": row["subject"],
            "attachments": [a["filename"] for a in row["attachments"]], "created_at": iso(row["created_at"])}


def _documents_csv_route(doc_type: str, path: str) -> Any:
    @get(f"/api/v1/exports/{path}.csv", tags=["exports"], media_type="text/csv", name=f"{doc_type}-csv")
    async def handler(status: str = "", client_id: int | None = None, q: str = "",
                      date_from: date | None = QueryParameter(name="from", default=None),
                      date_to: date | None = QueryParameter(name="to", default=None),
                      sort: str = "date", dir: str = "desc") -> Response:
        """The list with the same filters as its /api/v1 list, all pages."""
        content = await service.documents_csv(doc_type, status=status, client_id=client_id, q=q, date_from=date_from,
                                              date_to=date_to, sort=sort, descending=dir != "asc")
        return _csv(content, f"{path}.csv")
    return handler


ROUTES = [_documents_csv_route(INVOICE, "invoices"), _documents_csv_route(QUOTE, "quotes"),
          _documents_csv_route(CREDIT_NOTE, "credit-notes"), clients_csv, payments_csv, aging_csv, accountant_zip, accountant_send]
