"""Reports: the index, and revenue by month, quarter or year (page with an SVG chart, JSON, CSV, email)."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Template

from app.common.i18n import L_, _
from app.common.logic import ValidationFailed, optional_day
from app.mail import service as mail_service
from app.reports import logic, service
from app.web.responses import form_data, page, redirect

PERIOD_LABELS = {"month": L_("Month"), "quarter": L_("Quarter"), "year": L_("Year")}


@get("/reports")
async def reports_index(request: Request) -> Template:
    return page(request, "reports/index.html", section="reports", title=_("Reports"))


@get("/reports/revenue")
async def revenue_page(request: Request, period: str = "month", date_from: str = QueryParameter(name="from", default=""),
                       date_to: str = QueryParameter(name="to", default=""), currency: str = "") -> Template:
    problem = ""
    in_base = "base" if currency == "base" else ""
    try:
        report = await service.revenue(period, optional_day(date_from, "from"), optional_day(date_to, "to"), in_base)
    except ValidationFailed as failed:
        problem = "; ".join(e.message for e in failed.errors)
        report = await service.revenue("month", currency=in_base)
    charts = {currency: logic.bar_chart_svg(report.rows, currency) for currency in report.currencies}
    params = {"period": report.period, "from": report.date_from.isoformat(), "to": report.date_to.isoformat(),
              "currency": in_base}
    base_line = await service.base_line(report, in_base=bool(in_base))
    mail = await mail_service.get_mail_settings()
    return page(request, "reports/revenue.html", status_code=422 if problem else 200, section="reports",
                title=_("Revenue"), report=report, charts=charts, params=params, periods=PERIOD_LABELS,
                problem=problem, tax_codes=service.tax_codes(report), accountant_email=mail["accountant_email"],
                base_line=base_line, in_base=bool(in_base))


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
        return redirect(back, flash=_("Not sent: ") + "; ".join(e.message for e in failed.errors), request=request)
    return redirect(back, flash=_("The report is queued for %(join)s (see the Outbox).", join=', '.join(row['to'])), request=request)


ROUTES = [reports_index, revenue_page, revenue_send]
