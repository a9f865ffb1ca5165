"""Reports: the index, and revenue by month, quarter or year (page with an SVG chart, JSON, CSV, email)."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Template

from app.common.logic import FieldError, ValidationFailed
from app.mail import service as mail_service
from app.reports import logic, service
from app.web.responses import form_data, iso, page, redirect

PERIOD_LABELS = {"month": "Month", "quarter": "Quarter", "year": "Year"}


def _parse_day(text: str, name: str) -> date | None:
    if not text or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed([FieldError(name, f"{name}: a date as YYYY-MM-DD")]) from None


@get("/reports")
async def reports_index(request: Request) -> Template:
    return page(request, "reports/index.html", section="reports", title="Reports")


@get("/reports/revenue")
async def revenue_page(request: Request, period: str = "month", date_from: str = QueryParameter(name="from", default=""),
                       date_to: str = QueryParameter(name="to", default="")) -> Template:
    problem = ""
    try:
        report = await service.revenue(period, _parse_day(date_from, "from"), _parse_day(date_to, "to"))
    except ValidationFailed as failed:
        problem = "; ".join(e.message for e in failed.errors)
        report = await service.revenue("month")
    charts = {currency: logic.bar_chart_svg(report.rows, currency) for currency in report.currencies}
    params = {"period": report.period, "from": report.date_from.isoformat(), "to": report.date_to.isoformat()}
    mail = await mail_service.get_mail_settings()
    return page(request, "reports/revenue.html", status_code=422 if problem else 200, section="reports",
                title="Revenue", report=report, charts=charts, params=params, periods=PERIOD_LABELS,
                problem=problem, tax_codes=service.tax_codes(report), accountant_email=mail["accountant_email"])


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
                      date_to: date | None = QueryParameter(name="to", default=None)) -> RevenueOut:
    """Invoiced, credited, collected and outstanding per month, quarter or year and currency, with the tax
    of each period (default: this year by month). Money is a decimal string beside its currency."""
    return _out(await service.revenue(period, date_from, date_to))


@get("/api/v1/reports/revenue.csv", tags=["reports"], media_type="text/csv")
async def api_revenue_csv(period: str = "month", date_from: date | None = QueryParameter(name="from", default=None),
                          date_to: date | None = QueryParameter(name="to", default=None)) -> Response:
    report = await service.revenue(period, date_from, date_to)
    name = f"revenue-{report.period}-{report.date_from.isoformat()}-{report.date_to.isoformat()}.csv"
    return Response(content=service.csv_bytes(report), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


class RevenueSendIn(msgspec.Struct, omit_defaults=True, kw_only=True):
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


@post("/reports/revenue/send")
async def revenue_send(request: Request) -> Response:
    data = await form_data(request)
    wanted = {"period": data.get("period") or "month", "date_from": data.get("from") or None,
              "date_to": data.get("to") or None}
    if str(data.get("recipient") or "").strip():
        wanted["to"] = str(data["recipient"])
    back = f"/reports/revenue?period={wanted['period']}&from={wanted['date_from'] or ''}&to={wanted['date_to'] or ''}"
    try:
        row = await service.send_revenue(wanted, actor=request.scope["user"].user_id)
    except ValidationFailed as failed:
        return redirect(back, flash="Not sent: " + "; ".join(e.message for e in failed.errors), request=request)
    return redirect(back, flash=f"The report is queued for {', '.join(row['to'])} (see the Outbox).", request=request)


ROUTES = [reports_index, revenue_page, api_revenue, api_revenue_csv, api_revenue_send, revenue_send]
