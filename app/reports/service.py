"""The revenue report: gathers the facts (read-only) and lets app.reports.logic sum them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from app.common.i18n import _
from app.common.logic import FieldError, ValidationFailed, optional_day, period_problems
from app.common.logic import csv_bytes as common_csv_bytes
from app.db.engine import cached
from app.documents import service as documents_service
from app.documents.tables import Document
from app.fx import logic as fx_logic
from app.fx import service as fx_service
from app.mail import logic as mail_logic
from app.mail import service as mail_service
from app.money import from_minor
from app.payments.tables import Payment
from app.render import logic as render_logic
from app.render import service as render_service
from app.reports import logic
from app.settings import service as settings_service

MAX_BUCKETS = 400


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except Exception:
        return Decimal(0)


async def period_of(period: str, date_from: date | None, date_to: date | None) -> tuple[str, date, date]:
    """Check the request; the default is this year so far, by month."""
    errors = period_problems(date_from, date_to)
    if errors:
        raise ValidationFailed(errors)
    period = period or "month"
    if period not in logic.PERIODS:
        errors.append(FieldError("period", _("period must be one of: %(join)s", join=', '.join(logic.PERIODS))))
    today = await settings_service.today()
    date_to = date_to or (today if not date_from else max(today, date_from))
    date_from = date_from or date(date_to.year, 1, 1)
    if date_to < date_from:
        errors.append(FieldError("to", _("The end of the period is before its start")))
    elif period in logic.PERIODS and len(logic.bucket_starts(date_from, date_to, period)) > MAX_BUCKETS:
        errors.append(FieldError("period", _("Too many %(period)ss in that range; choose a longer period", period=period)))
    if errors:
        raise ValidationFailed(errors)
    return period, date_from, date_to


async def facts(date_from: date, date_to: date, *, in_base: bool = False
                ) -> tuple[list[logic.DocFact], list[logic.PaymentFact]]:
    """The documents and payments of a period; `in_base`: every amount in the base currency (app.fx), a
    document at the rate it was issued with, a payment at the rate of its day; those without a rate are
    left out (see `revenue_in_base`)."""
    rows = await Document.select(
        Document.doc_type, Document.issue_date, Document.currency, Document.subtotal_minor, Document.tax_total_minor,
        Document.total_minor, Document.paid_minor, Document.credited_minor, Document.taxes_json, Document.status,
        Document.exchange_rate, Document.base_currency,
    ).where(Document.doc_type.is_in(["invoice", "credit_note"]) & (Document.status != "draft")
            & (Document.issue_date >= date_from) & (Document.issue_date <= date_to))
    docs = []
    doc_rates: list[Any] = []      # the rate each document was issued with, when of today's base
    payment_rates: list[Any] = []
    base = await fx_service.base_currency() if in_base else ""
    for row in rows:
        doc_rates.append(row["exchange_rate"] if row["base_currency"] == base else None)
        currency = row["currency"]
        open_minor = row["total_minor"] - row["paid_minor"] - row["credited_minor"]
        if row["doc_type"] != "invoice" or row["status"] == "cancelled":
            open_minor = 0
        taxes = tuple(logic.TaxFact(code=t.get("code", ""), rate=str(t.get("rate", "")), base=_dec(t.get("base")),
                                    amount=_dec(t.get("amount")))
                      for t in json.loads(row["taxes_json"] or "[]"))
        docs.append(logic.DocFact(kind=row["doc_type"], day=row["issue_date"], currency=currency,
                                  net=from_minor(row["subtotal_minor"], currency),
                                  tax=from_minor(row["tax_total_minor"], currency),
                                  total=from_minor(row["total_minor"], currency),
                                  open=from_minor(max(open_minor, 0), currency), taxes=taxes))
    payments = []
    received = await Payment.select(Payment.payment_date, Payment.currency, Payment.amount_minor,
                                    Payment.exchange_rate).where(
        (Payment.payment_date >= date_from) & (Payment.payment_date <= date_to))
    for row in received:
        payments.append(logic.PaymentFact(day=row["payment_date"], currency=row["currency"],
                                          amount=from_minor(row["amount_minor"], row["currency"])))
        payment_rates.append(row["exchange_rate"])
    reversed_ = await Payment.select(Payment.reversal_date, Payment.currency, Payment.amount_minor,
                                     Payment.exchange_rate).where(
        (Payment.status == "reversed") & (Payment.reversal_date >= date_from) & (Payment.reversal_date <= date_to))
    for row in reversed_:
        payments.append(logic.PaymentFact(day=row["reversal_date"], currency=row["currency"],
                                          amount=-from_minor(row["amount_minor"], row["currency"])))
        payment_rates.append(row["exchange_rate"])
    if not in_base:
        return docs, payments
    return await _to_base(docs, doc_rates, payments, payment_rates)


async def _to_base(docs: list[logic.DocFact], doc_rates: list[Any], payments: list[logic.PaymentFact],
                   payment_rates: list[Any]) -> tuple[list[logic.DocFact], list[logic.PaymentFact]]:
    base = await fx_service.base_currency()
    histories: dict[str, list[tuple[date, Decimal]]] = {}

    async def rate_of(currency: str, day: date, frozen: Any) -> Decimal | None:
        if currency == base:
            return Decimal(1)
        if frozen:
            return Decimal(frozen)
        if currency not in histories:
            histories[currency] = await fx_service.history(currency, base)
        return fx_logic.rate_on(histories[currency], day)

    converted_docs = []
    for doc, frozen in zip(docs, doc_rates, strict=True):
        rate = await rate_of(doc.currency, doc.day, frozen)
        if rate is None:
            continue
        def b(value: Decimal, rate: Decimal = rate) -> Decimal:
            return fx_logic.to_base(value, rate, base)
        converted_docs.append(logic.DocFact(
            kind=doc.kind, day=doc.day, currency=base, net=b(doc.net), tax=b(doc.tax), total=b(doc.total),
            open=b(doc.open), taxes=tuple(logic.TaxFact(code=t.code, rate=t.rate, base=b(t.base), amount=b(t.amount))
                                          for t in doc.taxes)))
    converted_payments = []
    for payment, frozen in zip(payments, payment_rates, strict=True):
        rate = await rate_of(payment.currency, payment.day, frozen)
        if rate is not None:
            converted_payments.append(logic.PaymentFact(day=payment.day, currency=base,
                                                        amount=fx_logic.to_base(payment.amount, rate, base)))
    return converted_docs, converted_payments


async def revenue(period: str = "month", date_from: date | None = None, date_to: date | None = None,
                  currency: str = "") -> logic.Report:
    """The revenue report; `currency="base"`: every amount in the base currency (see `facts`)."""
    if currency not in ("", "base"):
        raise ValidationFailed([FieldError("currency", "currency takes only the value base (or leave it out)")])
    period, date_from, date_to = await period_of(period, date_from, date_to)
    docs, payments = await facts(date_from, date_to, in_base=currency == "base")
    settings = await settings_service.get_settings()
    default = await fx_service.base_currency() if currency == "base" else settings.get("default_currency") or "EUR"
    return logic.revenue(docs, payments, date_from, date_to, period, default_currency=default)


async def base_line(report: logic.Report, *, in_base: bool = False) -> Any:
    """The revenue page's line: the report's net invoiced per currency and ≈ in the base currency, each
    document at the rate it was issued with (app.fx.logic.BaseTotal; `left_out` counts the invoices of
    the period without a rate, left out of the base figure)."""
    base = await fx_service.base_currency()
    other = await revenue(report.period, report.date_from, report.date_to, "" if in_base else "base")
    each, converted = (other, report) if in_base else (report, other)
    per_currency = tuple(fx_logic.CurrencySum(row.currency, row.net_invoiced)
                         for row in sorted(each.totals, key=lambda r: (r.currency != base, r.currency)))
    total = sum((row.net_invoiced for row in converted.totals if row.currency == base), Decimal(0))
    missing = await documents_service.base_totals(date_from=report.date_from, date_to=report.date_to)
    return fx_logic.BaseTotal(base, per_currency, total, missing.left_out, missing.left_out_currencies)


def _plain(value: Decimal) -> str:
    return format(value, "f")


CSV_COLUMNS = ("period", "period_start", "period_end", "currency", "invoices", "invoiced", "credit_notes", "credited",
               "net_invoiced", "net_before_tax", "tax", "collected", "outstanding")


def row_values(row: logic.Row) -> list[Any]:
    return [row.key, row.start.isoformat(), row.end.isoformat(), row.currency, row.invoices, _plain(row.invoiced),
            row.credit_notes, _plain(row.credited), _plain(row.net_invoiced), _plain(row.net), _plain(row.tax),
            _plain(row.collected), _plain(row.outstanding)]


def tax_codes(report: logic.Report) -> list[tuple[str, str]]:
    return sorted({key for row in report.rows for key in row.taxes})


def csv_bytes(report: logic.Report) -> bytes:
    """One row per period and currency; one `tax_CODE_RATE` column per tax seen (the net tax amount)."""
    codes = tax_codes(report)
    return common_csv_bytes([*CSV_COLUMNS, *[f"tax_{code}_{rate}" for code, rate in codes]],
                            [[*row_values(row), *[_plain(row.taxes.get(key, [Decimal(0), Decimal(0)])[1]) for key in codes]]
                             for row in report.rows])


def as_json(report: logic.Report) -> dict[str, Any]:
    def one(row: logic.Row) -> dict[str, Any]:
        return {"period": row.key, "label": row.label, "start": row.start.isoformat(), "end": row.end.isoformat(),
                "currency": row.currency, "invoices": row.invoices, "invoiced": _plain(row.invoiced),
                "credit_notes": row.credit_notes, "credited": _plain(row.credited),
                "net_invoiced": _plain(row.net_invoiced), "net_before_tax": _plain(row.net), "tax": _plain(row.tax),
                "collected": _plain(row.collected), "outstanding": _plain(row.outstanding),
                "taxes": [{"code": code, "rate": rate, "base": _plain(base), "amount": _plain(amount)}
                          for (code, rate), (base, amount) in sorted(row.taxes.items())]}
    return {"period": report.period, "from": report.date_from.isoformat(), "to": report.date_to.isoformat(),
            "currencies": report.currencies, "rows": [one(r) for r in report.rows],
            "totals": [one(r) for r in report.totals]}


def summary_data(report: logic.Report, *, title: str, business: str, generated: date,
                 files: Mapping[str, int] | None = None, locale: str = "en", paper: str = "a4") -> dict[str, Any]:
    """What typst_templates/accountant-summary.typ prints: totals per period and per tax, the amounts with their
    currency's decimals and grouped as `locale` writes them (1,234.00; not 1234 or 0)."""
    rows = [r for r in report.rows if r.invoices or r.credit_notes or r.collected or r.outstanding]

    def shown(value: Decimal, currency: str) -> str:
        return render_logic.amount_text(value, currency, locale)

    def amounts(r: Any) -> dict[str, str]:
        return {"currency": r.currency, "invoices": str(r.invoices), "net_invoiced": shown(r.net_invoiced, r.currency),
                "net": shown(r.net, r.currency), "tax": shown(r.tax, r.currency),
                "collected": shown(r.collected, r.currency), "outstanding": shown(r.outstanding, r.currency)}
    return {
        "title": title, "business": business, "paper": paper,
        "period_from": render_logic.date_text(report.date_from, locale),
        "period_to": render_logic.date_text(report.date_to, locale), "generated": render_logic.date_text(generated, locale),
        "by": report.period,
        "rows": [{"label": r.label, **amounts(r)} for r in rows],
        "totals": [{"label": "Total", **amounts(r)} for r in report.totals],
        "taxes": [{"currency": r.currency, "code": code, "rate": render_logic.number_text(Decimal(rate), locale),
                   "base": shown(base, r.currency), "amount": shown(amount, r.currency)}
                  for r in report.totals for (code, rate), (base, amount) in sorted(r.taxes.items())],
        "files": [{"name": name, "count": str(count)} for name, count in (files or {}).items()],
    }


async def summary_pdf(report: logic.Report, *, title: str, files: Mapping[str, int] | None = None) -> bytes:
    settings = await settings_service.get_settings()
    data = summary_data(report, title=title, business=settings.get("name") or "", generated=await settings_service.today(),
                        files=files, paper=render_logic.paper_of(settings),
                        locale=render_logic.report_locale(settings))
    return await render_service.render_pdf("accountant-summary.typ", data)


async def send_revenue(data: Mapping[str, Any], *, actor: int | None = None) -> dict[str, Any]:
    """Email the report (CSV and PDF) through the outbox."""
    report = await revenue(str(data.get("period") or "month"), optional_day(data.get("date_from"), "date_from"),
                           optional_day(data.get("date_to"), "date_to"))
    settings = await settings_service.get_settings()
    mail = await mail_service.get_mail_settings()
    period = f"{report.date_from.isoformat()} to {report.date_to.isoformat()}"
    subject, body = await mail_service.template_for("report", {"business_name": settings.get("name") or "",
                                                               "period": period})
    lines = [body, "", f"By {report.period}:"]
    for row in report.totals:
        lines.append(f"  {row.currency}: invoiced {_plain(row.net_invoiced)}, collected {_plain(row.collected)}, "
                     f"outstanding {_plain(row.outstanding)}")
    name = f"revenue-{report.period}-{report.date_from.isoformat()}-{report.date_to.isoformat()}"
    attachments = [mail_logic.Attachment(f"{name}.csv", "text/csv", csv_bytes(report)),
                   mail_logic.Attachment(f"{name}.pdf", "application/pdf",
                                         await summary_pdf(report, title=f"Revenue by {report.period}"))]
    defaults = {"to": mail.get("accountant_email") or "", "subject": subject, "message": "\n".join(lines)}
    return await mail_service.send_with_attachments("report", data, defaults=defaults, attachments=attachments,
                                                    actor=actor)



async def dashboard_totals() -> dict[str, Any]:
    """The dashboard's base-currency line (web/templates/_base_total.html): what is owed on open invoices
    and what was invoiced this year, per currency and ≈ in the base currency at issue-date rates, each
    counting the invoices it left out for want of a rate."""
    today = await settings_service.today()
    return {"base": await fx_service.base_currency(),
            "owed": await documents_service.base_totals(open_only=True),
            "billed": await documents_service.base_totals(date_from=date(today.year, 1, 1), date_to=today),
            "year": today.year}
async def monthly_facts(date_from: date, date_to: date) -> tuple[list[logic.DocFact], list[logic.PaymentFact]]:
    """The facts of `facts`, summed per month and currency in SQL (one fact per month, kind and currency):
    the dashboard's twelve months stay a few dozen rows however many documents there are."""
    docs = []
    for row in await Document.raw(
            "SELECT doc_type, substr(issue_date, 1, 7) AS month, currency, COUNT(*) AS n, "
            "SUM(subtotal_minor) AS net, SUM(tax_total_minor) AS tax, SUM(total_minor) AS total, "
            "SUM(CASE WHEN doc_type = 'invoice' AND status != 'cancelled' "
            "    THEN max(total_minor - paid_minor - credited_minor, 0) ELSE 0 END) AS open "
            "FROM document WHERE doc_type IN ('invoice', 'credit_note') AND status != 'draft' "
            "AND issue_date >= {} AND issue_date <= {} GROUP BY doc_type, month, currency",
            date_from.isoformat(), date_to.isoformat()):
        currency = row["currency"]
        docs.append(logic.DocFact(kind=row["doc_type"], day=date.fromisoformat(row["month"] + "-01"),
                                  currency=currency, net=from_minor(row["net"] or 0, currency),
                                  tax=from_minor(row["tax"] or 0, currency),
                                  total=from_minor(row["total"] or 0, currency),
                                  open=from_minor(row["open"] or 0, currency), count=row["n"]))
    payments = []
    for column, sign, condition in (("payment_date", 1, "1 = 1"), ("reversal_date", -1, "status = 'reversed'")):
        for row in await Payment.raw(
                f"SELECT substr({column}, 1, 7) AS month, currency, SUM(amount_minor) AS amount FROM payment "
                f"WHERE {condition} AND {column} >= {{}} AND {column} <= {{}} GROUP BY month, currency",
                date_from.isoformat(), date_to.isoformat()):
            payments.append(logic.PaymentFact(day=date.fromisoformat(row["month"] + "-01"), currency=row["currency"],
                                              amount=sign * from_minor(row["amount"] or 0, row["currency"])))
    return docs, payments


async def last_twelve_months() -> logic.Report:
    """The revenue report of the last twelve months by month (this one included), for the dashboard."""
    date_from, date_to = logic.last_months(await settings_service.today())

    async def compute() -> logic.Report:
        docs, payments = await monthly_facts(date_from, date_to)
        settings = await settings_service.get_settings()
        return logic.revenue(docs, payments, date_from, date_to, "month",
                             default_currency=settings.get("default_currency") or "EUR")

    return await cached(("reports", "last_twelve_months", date_from, date_to), compute)
