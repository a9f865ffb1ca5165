"""Profit and loss and the tax returns: gathers the facts (read-only) for app.expenses.pnl and
app.expenses.taxreturn, and writes them as CSV, JSON and PDF (Typst)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from app.common.i18n import _
from app.common.logic import FieldError, ValidationFailed, csv_bytes, period_problems
from app.documents.tables import Document
from app.expenses import pnl, taxreturn
from app.expenses import service as expenses_service
from app.expenses.tables import Expense, ExpenseSplit
from app.fx import service as fx_service
from app.ledger import service as ledger_service
from app.money import from_minor, round_money
from app.payments.tables import CreditApplication, Payment
from app.render import logic as render_logic
from app.render import service as render_service
from app.settings import service as settings_service

MAX_DAYS = 10 * 366


def _plain(value: Decimal, currency: str | None = None) -> str:
    """An amount as a decimal string, with the currency's decimals when it is known ("0.00", not "0")."""
    return format(round_money(value, currency) if currency else value, "f")


async def period_of(date_from: date | None, date_to: date | None, *, default: str = "year") -> tuple[date, date]:
    """Check a requested period; the default is this year so far (or this quarter, for a tax return)."""
    errors = period_problems(date_from, date_to)
    if errors:
        raise ValidationFailed(errors)
    today = await settings_service.today()
    if date_from is None and date_to is None and default == "quarter":
        return quarter_of(today)
    date_to = date_to or (today if not date_from else max(today, date_from))
    date_from = date_from or date(date_to.year, 1, 1)
    if date_to < date_from:
        raise ValidationFailed([FieldError("to", _("The end of the period is before its start"))])
    if (date_to - date_from).days > MAX_DAYS:
        raise ValidationFailed([FieldError("to", _("A report covers at most ten years"))])
    return date_from, date_to


def quarter_of(day: date) -> tuple[date, date]:
    start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    end = date(start.year + (start.month + 2) // 12, (start.month + 2) % 12 + 1, 1) - timedelta(days=1)
    return start, end


async def _currency(currency: str | None) -> str:
    if currency:
        from app.money import MoneyError, check_currency
        try:
            return check_currency(currency)
        except MoneyError as error:
            raise ValidationFailed([FieldError("currency", _("Currency: %(error)s", error=error))]) from None
    settings = await settings_service.get_settings()
    return settings.get("default_currency") or "EUR"


# -- facts ----------------------------------------------------------------------------------------

async def sale_facts(date_from: date, date_to: date) -> list[taxreturn.SaleFact]:
    """The issued invoices and credit notes of the period, each in its own currency and, when it was issued
    at a known rate, also in the base currency at that rate (app.fx: frozen at issue)."""
    rows = await Document.select(Document.id, Document.doc_type, Document.number, Document.issue_date,
                                 Document.currency, Document.subtotal_minor, Document.taxes_json,
                                 Document.base_currency, Document.exchange_rate).where(
        Document.doc_type.is_in(["invoice", "credit_note"]) & (Document.status != "draft")
        & (Document.issue_date >= date_from) & (Document.issue_date <= date_to)).order_by(Document.issue_date)
    facts = []
    for row in rows:
        sign = 1 if row["doc_type"] == "invoice" else -1
        taxes = tuple(taxreturn.TaxPart(code=t["code"], rate=Decimal(str(t["rate"])), category=t.get("category") or "S",
                                        base=sign * Decimal(str(t["base"])), amount=sign * Decimal(str(t["amount"])))
                      for t in json.loads(row["taxes_json"] or "[]"))
        fact = taxreturn.SaleFact(document_id=row["id"], number=row["number"] or f"#{row['id']}",
                                  day=row["issue_date"], currency=row["currency"],
                                  net=sign * from_minor(row["subtotal_minor"], row["currency"]), taxes=taxes)
        if row["exchange_rate"] and row["base_currency"] and row["base_currency"] != row["currency"]:
            fact = taxreturn.in_currency(fact, row["base_currency"], Decimal(row["exchange_rate"]))
        facts.append(fact)
    return facts


async def _recorded(date_column: Any, date_from: date, date_to: date) -> list[dict[str, Any]]:
    return await Expense.select(Expense.id, Expense.expense_date, Expense.paid_on, Expense.currency,
                                Expense.net_minor, Expense.taxes_json, Expense.description,
                                Expense.vendor.name.as_alias("vendor_name")).where(
        (Expense.status == "recorded") & (date_column >= date_from) & (date_column <= date_to))


def _expense_label(row: Mapping[str, Any]) -> str:
    return " · ".join(p for p in (row.get("vendor_name") or "", row.get("description") or "") if p) or \
        f"Expense {row['id']}"


async def purchase_facts(date_from: date, date_to: date) -> list[taxreturn.PurchaseFact]:
    facts = []
    for row in await _recorded(Expense.expense_date, date_from, date_to):
        taxes = tuple(taxreturn.TaxPart(code=t["code"], rate=Decimal(t["rate"]), category=t.get("category") or "S",
                                        base=Decimal(t["base"]), amount=Decimal(t["amount"]),
                                        deductible=Decimal(t["deductible"]))
                      for t in json.loads(row["taxes_json"] or "[]"))
        facts.append(taxreturn.PurchaseFact(expense_id=row["id"], label=_expense_label(row), day=row["expense_date"],
                                            currency=row["currency"],
                                            net=from_minor(row["net_minor"], row["currency"]), taxes=taxes))
    return facts


async def expense_facts(date_from: date, date_to: date, basis: str) -> list[pnl.ExpenseFact]:
    column = Expense.paid_on if basis == "cash" else Expense.expense_date
    rows = await _recorded(column, date_from, date_to)
    splits: dict[int, list[dict[str, Any]]] = {}
    if rows:
        for split in await ExpenseSplit.select().where(ExpenseSplit.expense.is_in([r["id"] for r in rows])).order_by(
                ExpenseSplit.position):
            splits.setdefault(split["expense"], []).append(split)
    return [pnl.ExpenseFact(day=row["paid_on"] if basis == "cash" else row["expense_date"], currency=row["currency"],
                            expense_id=row["id"], label=_expense_label(row),
                            splits=tuple((s["category"], from_minor(s["net_minor"], row["currency"]))
                                         for s in splits.get(row["id"], [])))
            for row in rows]


async def revenue_facts(date_from: date, date_to: date, basis: str) -> list[pnl.RevenueFact]:
    if basis == "accrual":
        return [pnl.RevenueFact(day=s.day, currency=s.currency, net=s.net, source=f"document:{s.document_id}",
                                label=s.number,
                                in_base=(s.converted.currency, s.converted.net) if s.converted is not None else None)
                for s in await sale_facts(date_from, date_to)]
    received: list[tuple[date, int, int, str]] = []   # (day, invoice, amount minor signed, source)
    for row in await Payment.select(Payment.id, Payment.invoice, Payment.applied_minor, Payment.payment_date).where(
            Payment.invoice.is_not_null() & (Payment.payment_date >= date_from) & (Payment.payment_date <= date_to)):
        received.append((row["payment_date"], row["invoice"], row["applied_minor"], f"payment:{row['id']}"))
    for row in await Payment.select(Payment.id, Payment.invoice, Payment.applied_minor, Payment.reversal_date).where(
            Payment.invoice.is_not_null() & (Payment.status == "reversed") & (Payment.reversal_date >= date_from)
            & (Payment.reversal_date <= date_to)):
        received.append((row["reversal_date"], row["invoice"], -row["applied_minor"], f"payment:{row['id']}"))
    for row in await CreditApplication.select().where((CreditApplication.applied_date >= date_from)
                                                      & (CreditApplication.applied_date <= date_to)):
        received.append((row["applied_date"], row["invoice"], row["amount_minor"], f"credit:{row['id']}"))
    invoices = {}
    if received:
        for row in await Document.select(Document.id, Document.number, Document.currency, Document.subtotal_minor,
                                         Document.total_minor).where(
                Document.id.is_in(sorted({r[1] for r in received}))):
            invoices[row["id"]] = row
    facts = []
    for day, invoice_id, amount, source in received:
        invoice = invoices[invoice_id]
        currency = invoice["currency"]
        share = pnl.cash_share(from_minor(amount, currency), from_minor(invoice["subtotal_minor"], currency),
                               from_minor(invoice["total_minor"], currency))
        facts.append(pnl.RevenueFact(day=day, currency=currency, net=round_money(share, currency), source=source,
                                     label=invoice["number"] or ""))
    return facts


# -- profit and loss ------------------------------------------------------------------------------------

async def profit_and_loss(date_from: date | None = None, date_to: date | None = None, basis: str = "accrual",
                          currency: str | None = None) -> pnl.ProfitAndLoss:
    basis = basis or "accrual"
    if basis not in pnl.BASES:
        raise ValidationFailed([FieldError("basis", _("basis must be accrual or cash"))])
    date_from, date_to = await period_of(date_from, date_to)
    return pnl.profit_and_loss(await revenue_facts(date_from, date_to, basis),
                               await expense_facts(date_from, date_to, basis), date_from=date_from, date_to=date_to,
                               # By default in the base currency (app.fx), the business currency unless chosen.
                               currency=await _currency(currency) if currency else await fx_service.base_currency(),
                               basis=basis, category_names=await expenses_service.category_names(),
                               fx=await fx_facts(date_from, date_to))


# The ledger's memo kinds (app.fx) and what each means to the P&L: (kind, sign).
FX_KINDS = {"fx_gain": ("fx", 1), "fx_loss": ("fx", -1), "bank_fee": ("fee", 1), "bank_fee_reversed": ("fee", -1)}


async def fx_facts(date_from: date, date_to: date) -> list[pnl.FxFact]:
    """Realised exchange gains and losses and bank fees on payments, from the ledger's memo entries."""
    return [pnl.FxFact(day=row["entry_date"] if isinstance(row["entry_date"], date)
                       else date.fromisoformat(row["entry_date"]), currency=row["currency"],
                       kind=FX_KINDS[row["kind"]][0],
                       amount=FX_KINDS[row["kind"]][1] * from_minor(int(row["amount_minor"]), row["currency"]))
            for row in await ledger_service.memo_sums(tuple(FX_KINDS), date_from, date_to)]


def pnl_json(report: pnl.ProfitAndLoss) -> dict[str, Any]:
    cur = report.currency
    return {
        "basis": report.basis, "currency": report.currency, "from": report.date_from.isoformat(),
        "to": report.date_to.isoformat(), "revenue": _plain(report.revenue, cur), "expenses": _plain(report.expenses, cur),
        "profit": _plain(report.profit, cur), "fx_result": _plain(report.fx_result, cur),
        "bank_fees": _plain(report.bank_fees, cur),
        "months": [{"month": m.key, "label": m.label, "revenue": _plain(m.revenue, cur),
                    "expenses": _plain(m.expenses, cur), "profit": _plain(m.profit, cur)} for m in report.months],
        "categories": [{"code": c.code, "name": c.name, "amount": _plain(c.amount, cur), "count": c.count}
                       for c in report.categories],
        "other_currencies": report.other_currencies,
    }


def pnl_csv(report: pnl.ProfitAndLoss) -> bytes:
    cur = report.currency
    rows: list[list[Any]] = [["month", m.key, m.label, cur, _plain(m.revenue, cur), _plain(m.expenses, cur),
                              _plain(m.profit, cur)] for m in report.months]
    rows += [["category", c.code, c.name, cur, "", _plain(c.amount, cur), ""] for c in report.categories]
    rows.append(["total", "", "Total", cur, _plain(report.revenue, cur), _plain(report.expenses, cur),
                 _plain(report.profit, cur)])
    return csv_bytes(["row", "key", "label", "currency", "revenue", "expenses", "profit"], rows)


def _report_page(settings: Mapping[str, Any]) -> dict[str, Any]:
    """What every report PDF takes from the settings: the business's name, its paper (US Letter in Canada and the
    US, A4 elsewhere) and the locale its numbers and dates are written in (1,234.50 or 1.234,50)."""
    return {"business": settings.get("name") or "", "paper": render_logic.paper_of(settings),
            "locale": render_logic.report_locale(settings)}


async def pnl_pdf(report: pnl.ProfitAndLoss) -> bytes:
    settings = await settings_service.get_settings()
    page = _report_page(settings)
    cur, locale = report.currency, page["locale"]

    def shown(value: Decimal) -> str:
        return render_logic.amount_text(value, cur, locale)
    data = {**pnl_json(report), **page,
            "from": render_logic.date_text(report.date_from, locale), "to": render_logic.date_text(report.date_to, locale),
            "generated": render_logic.date_text(await settings_service.today(), locale),
            "basis_text": "Cash basis" if report.basis == "cash" else "Accrual basis",
            "revenue": shown(report.revenue), "expenses": shown(report.expenses), "profit": shown(report.profit),
            "months": [{"label": m.label, "revenue": shown(m.revenue), "expenses": shown(m.expenses),
                        "profit": shown(m.profit)} for m in report.months],
            "categories": [{"name": c.name, "count": c.count, "amount": shown(c.amount)} for c in report.categories],
            # The lines of their own, and the columns' totals that count them, as the page shows them.
            "fx_result": shown(report.fx_result) if report.fx_result else "",
            "bank_fees": shown(report.bank_fees) if report.bank_fees else "",
            "total_revenue": shown(report.revenue_and_fx), "total_expenses": shown(report.expenses_and_fees),
            "other": ", ".join(f"{n} in {c}" for c, n in sorted(report.other_currencies.items()))}
    return await render_service.render_pdf("profit-loss.typ", data)


def pnl_filename(report: pnl.ProfitAndLoss, extension: str) -> str:
    return f"profit-loss-{report.basis}-{report.date_from.isoformat()}-{report.date_to.isoformat()}.{extension}"


# -- tax returns ---------------------------------------------------------------------------------------

async def default_form() -> str:
    settings = await settings_service.get_settings()
    return taxreturn.form_for_country(settings.get("country"))


async def tax_return(form: str | None = None, date_from: date | None = None, date_to: date | None = None,
                     currency: str | None = None) -> taxreturn.TaxReturn:
    form = form or await default_form()
    if form not in taxreturn.FORMS:
        raise ValidationFailed([FieldError("form", _("form must be one of: %(forms)s", forms=", ".join(taxreturn.FORMS)))])
    date_from, date_to = await period_of(date_from, date_to, default="quarter")
    return taxreturn.build(form, await sale_facts(date_from, date_to), await purchase_facts(date_from, date_to),
                           currency=await _currency(currency), date_from=date_from, date_to=date_to)


def tax_json(report: taxreturn.TaxReturn, *, with_sources: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "form": report.form, "title": report.title, "from": report.date_from.isoformat(),
        "to": report.date_to.isoformat(), "currency": report.currency,
        "lines": {f.key: _plain(f.amount, report.currency) for f in report.figures},
        "labels": {f.key: f.label for f in report.figures},
        "net": _plain(report.net, report.currency), "net_line": report.net_key, "notes": report.notes,
        "left_out": report.left_out,
    }
    if with_sources:
        data["sources"] = {f.key: [{"kind": s.kind, "id": s.id, "label": s.label,
                                    "amount": _plain(s.amount, report.currency)}
                                   for s in f.sources] for f in report.figures}
    return data


def tax_csv(report: taxreturn.TaxReturn) -> bytes:
    return csv_bytes(["form", "line", "label", "currency", "amount", "derived", "from", "to"],
                     [[report.form, f.key, f.label, report.currency, _plain(f.amount, report.currency), f.derived,
                       report.date_from.isoformat(), report.date_to.isoformat()] for f in report.figures])


async def tax_pdf(report: taxreturn.TaxReturn) -> bytes:
    settings = await settings_service.get_settings()
    page = _report_page(settings)
    locale = page["locale"]
    data = {**tax_json(report), **page, "tax_number": settings.get("tax_number") or "",
            "from": render_logic.date_text(report.date_from, locale), "to": render_logic.date_text(report.date_to, locale),
            "generated": render_logic.date_text(await settings_service.today(), locale),
            "net": render_logic.amount_text(report.net, report.currency, locale),
            "figures": [{"key": f.key, "label": f.label, "amount": render_logic.amount_text(f.amount, report.currency, locale),
                         "derived": f.derived,
                         "count": str(len(f.sources))} for f in report.figures],
            "other": ", ".join(f"{n} in {c}" for c, n in sorted(report.left_out.items()))}
    return await render_service.render_pdf("tax-return.typ", data)


def tax_filename(report: taxreturn.TaxReturn, extension: str) -> str:
    return f"tax-{report.form}-{report.date_from.isoformat()}-{report.date_to.isoformat()}.{extension}"
