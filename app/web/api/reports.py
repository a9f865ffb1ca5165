"""The JSON API of reports (under /api/v1): its routes and msgspec DTOs."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import QueryParameter

from app.reports import logic, service
from app.web.api.base import Body
from app.web.responses import download, iso


class RevenueRow(msgspec.Struct):
    period: str
    label: str
    start: str
    end: str
    currency: str
    invoices: int
    invoiced: str
    credit_notes: int
    credited: str
    net_invoiced: str
    net_before_tax: str
    tax: str
    collected: str
    outstanding: str
    taxes: list[dict[str, str]]


class RevenueOut(msgspec.Struct):
    period: str
    currencies: list[str]
    rows: list[RevenueRow]
    totals: list[RevenueRow]
    date_from: str = msgspec.field(name="from")
    date_to: str = msgspec.field(name="to")


def _out(report: logic.Report) -> RevenueOut:
    data = service.as_json(report)
    return RevenueOut(period=data["period"], date_from=data["from"], date_to=data["to"], currencies=data["currencies"],
                      rows=[RevenueRow(**r) for r in data["rows"]], totals=[RevenueRow(**r) for r in data["totals"]])


@get("/api/v1/reports/revenue", tags=["reports"])
async def api_revenue(period: str = "month", date_from: date | None = QueryParameter(name="from", default=None),
                      date_to: date | None = QueryParameter(name="to", default=None), currency: str = "") -> RevenueOut:
    """Invoiced, credited, collected and outstanding per month, quarter or year and currency, with the tax
    of each period (default: this year by month). Money is a decimal string beside its currency.
    `currency=base`: every amount in the base currency, documents at the rate they were issued with,
    payments at the rate of their day (those without a rate left out)."""
    return _out(await service.revenue(period, date_from, date_to, currency))


@get("/api/v1/reports/revenue.csv", tags=["reports"], media_type="text/csv")
async def api_revenue_csv(period: str = "month", date_from: date | None = QueryParameter(name="from", default=None),
                          date_to: date | None = QueryParameter(name="to", default=None),
                          currency: str = "") -> Response:
    report = await service.revenue(period, date_from, date_to, currency)
    name = f"revenue-{report.period}-{report.date_from.isoformat()}-{report.date_to.isoformat()}.csv"
    return download(service.csv_bytes(report), name, "text/csv; charset=utf-8")


class RevenueSendIn(Body, omit_defaults=True, kw_only=True):
    to: str | list[str] | None = None
    cc: str | list[str] | None = None
    subject: str | None = None
    message: str | None = None
    period: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@post("/api/v1/reports/revenue/send", tags=["reports"], status_code=202)
async def api_revenue_send(request: Request, data: RevenueSendIn | None = None) -> dict[str, Any]:
    """Email the report (CSV and PDF) through the outbox; `to` defaults to the accountant's address."""
    given = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None} if data else {}
    row = await service.send_revenue(given, actor=request.scope["user"].user_id)
    return {"id": row["id"], "status": row["status"], "to": row["to"], "subject": row["subject"],
            "attachments": [a["filename"] for a in row["attachments"]], "created_at": iso(row["created_at"])}


ROUTES = [api_revenue, api_revenue_csv, api_revenue_send]
