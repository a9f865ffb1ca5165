"""Expense pages: the list (with the drop zone for supplier e-invoices), an expense and its receipts,
vendors, the chart of categories, closing the books; the profit and loss and tax-return reports; and
the small "unbilled expenses" panel the invoice editor loads for its client."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import QueryParameter
from litestar.response import Template

from app.clients import service as clients_service
from app.common.i18n import _, ngettext, translated
from app.common.logic import Conflict, FieldError, NotFound, Page, ValidationFailed, id_of, optional_day
from app.config import Config
from app.expenses import logic, pnl, reports, service, taxreturn
from app.projects import service as projects_service
from app.settings import service as settings_service
from app.taxes import service as taxes_service
from app.web.responses import actor_id, download_file, form_data, page, page_params, redirect
from app.web.security import OWNER_ONLY

PER_PAGE = 50
SPLIT_ROWS = 4
UPLOAD_LIMIT = 21 * 1024 * 1024


async def _choices(*, vendors: bool = True) -> dict[str, Any]:
    """What the expense pages choose from. Never the clients: the expense form finds its client as the invoice
    editor does, loading the matches of what is typed (thousands of clients would be thousands of options).
    `vendors` False for a page that shows no vendor choice (the vendors' own list)."""
    categories = await service.list_categories()
    return {"categories": categories, "category_names": {c["code"]: c["name"] for c in categories},
            "vendors": (await service.list_vendors(page=Page(1, 2000))).items if vendors else [],
            "taxes": await taxes_service.list_taxes(active_only=True), "paid_with": translated(logic.PAID_WITH)}


async def _chosen_client(client_id: Any) -> Any:
    """The client the form has chosen (the picker shows it first), or None."""
    if not str(client_id or "").isdigit() or len(str(client_id)) > 12:
        return None
    try:
        return await clients_service.get_client(int(client_id))
    except NotFound:
        return None


def _form_to_data(form: dict[str, Any]) -> dict[str, Any]:
    """The expense form's fields as the service reads them (splits from the split rows, taxes from the boxes)."""
    data: dict[str, Any] = {key: form.get(key) for key in (
        "date", "description", "currency", "paid_with", "paid_on", "reference", "notes", "markup_percent")}
    data["vendor_id"] = form.get("vendor_id") or None
    data["client_id"] = form.get("client_id") or None
    data["billable"] = form.get("billable") or "off"
    data["deductible_percent"] = form.get("deductible_percent") or None
    taxes = form.get("taxes") or []
    data["taxes"] = taxes if isinstance(taxes, list) else [taxes]
    printed = {code: form.get(f"tax_amount_{code}") for code in data["taxes"] if form.get(f"tax_amount_{code}")}
    if printed:
        data["tax_amounts"] = printed
    splits = [{"category": form.get(f"split_category_{i}"), "net": form.get(f"split_net_{i}")}
              for i in range(1, SPLIT_ROWS + 1) if form.get(f"split_net_{i}") or form.get(f"split_category_{i}")]
    if splits:
        data["splits"] = splits
    else:
        data["category"] = form.get("category")
        data["net"] = form.get("net")
    return data


def _values_of(expense: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "date": expense["date"].isoformat(), "vendor_id": expense["vendor"] or "", "description": expense["description"],
        "currency": expense["currency"], "paid_with": expense["paid_with"],
        "paid_on": expense["paid_on"].isoformat() if expense["paid_on"] else "", "reference": expense["reference"],
        "notes": expense["notes"], "billable": expense["billable"], "client_id": expense["client"] or "",
        "markup_percent": expense["markup_percent"], "deductible_percent": expense["deductible_percent"],
        "taxes": expense["tax_codes"],
    }
    if len(expense["splits"]) > 1:
        for i, split in enumerate(expense["splits"], start=1):
            values[f"split_category_{i}"] = split["category"]
            values[f"split_net_{i}"] = str(split["net"])
    else:
        values["category"] = expense["category"]
        values["net"] = str(expense["net"])
    if expense["tax_amounts_given"]:
        for line in expense["tax_lines"]:
            values[f"tax_amount_{line['code']}"] = line["amount"]
    return values


def _raw_form(form: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in form:
        values = form.getall(key) if hasattr(form, "getall") else [form[key]]
        data[key] = values if key == "taxes" else values[-1]
    return data


async def _expense_form(request: Request, *, expense: dict[str, Any] | None, values: dict[str, Any],
                        errors: dict[str, str], status_code: int = 200) -> Template:
    title = _("New expense") if expense is None else _("Edit expense %(id)s", id=expense['id'])
    return page(request, "expenses/form.html", status_code=status_code, section="expenses", title=title,
                expense=expense, values=values, errors=errors, split_rows=SPLIT_ROWS,
                chosen_client=await _chosen_client(values.get("client_id")), **await _choices())


# -- the list -------------------------------------------------------------------------------------

@get("/expenses")
async def expenses_page(request: Request, date_from: str = QueryParameter(name="from", default=""),
                        date_to: str = QueryParameter(name="to", default=""), category: str = "", vendor: str = "",
                        client: str = "", show: str = "", q: str = "",
                        page_number: int = QueryParameter(name="page", default=1)) -> Template:
    problem = ""
    try:
        day_from, day_to = optional_day(date_from, "from"), optional_day(date_to, "to")
    except ValidationFailed as failed:
        problem, day_from, day_to = "; ".join(e.message for e in failed.errors), None, None
    filters: dict[str, Any] = {"date_from": day_from, "date_to": day_to, "category": category, "q": q,
                               "vendor_id": int(vendor) if vendor.isdigit() else None,
                               "client_id": int(client) if client.isdigit() else None}
    if show == "draft":
        filters["status"] = "draft"
    elif show == "billable":
        filters.update(billable=True, billed=False)
    elif show == "billed":
        filters["billed"] = True
    result = await service.list_expenses(**filters, page=page_params(page_number, PER_PAGE))
    params = {"from": date_from, "to": date_to, "category": category, "vendor": vendor, "client": client,
              "show": show, "q": q}
    return page(request, "expenses/list.html", status_code=422 if problem else 200, section="expenses",
                title=_("Expenses"), result=result, params=params, problem=problem,
                sums=await service.totals_by_currency(**filters), closed_up_to=await service.closed_up_to(),
                drafts=(await service.list_expenses(status="draft", page=Page(1, 1))).total, **await _choices())


@post("/expenses/import", request_max_body_size=UPLOAD_LIMIT)
async def expense_import_form(request: Request, config: Config) -> Response:
    form = await request.form()
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile):
            raise ValidationFailed([FieldError("file", _("Choose a supplier's e-invoice to import"))])
        expense = await service.import_einvoice(config.attachments_dir, await upload.read(), upload.filename or "")
    except (ValidationFailed, Conflict) as failed:
        message = "; ".join(e.message for e in failed.errors) if isinstance(failed, ValidationFailed) else failed.detail
        return redirect("/expenses", flash=_("Not imported: %(message)s", message=message), request=request)
    return redirect(f"/expenses/{expense['id']}", flash=_("Read invoice %(source_number)s of %(vendor_name)s: check the draft and record it.", source_number=expense['source_number'], vendor_name=expense['vendor_name']), request=request)


# -- one expense ------------------------------------------------------------------------------------

@get("/expenses/new")
async def expense_new_page(request: Request, vendor: str = "", client: str = "") -> Template:
    choices = await _choices()
    settings = await settings_service.get_settings()
    values: dict[str, Any] = {"date": (await settings_service.today()).isoformat(),
                              "currency": settings.get("default_currency") or "EUR", "paid_with": "card",
                              "markup_percent": "0", "vendor_id": vendor, "client_id": client}
    if vendor.isdigit():
        chosen = next((v for v in choices["vendors"] if v["id"] == int(vendor)), None)
        if chosen and chosen["default_category"]:
            values["category"] = chosen["default_category"]
    return await _expense_form(request, expense=None, values=values, errors={})


@post("/expenses")
async def expense_create_form(request: Request) -> Response:
    raw = _raw_form(await request.form())
    try:
        expense = await service.create_expense(_form_to_data(raw))
    except ValidationFailed as failed:
        return await _expense_form(request, expense=None, values=raw, errors=failed.by_field(), status_code=422)
    return redirect(f"/expenses/{expense['id']}", flash=_("Expense recorded. Add its receipt below."), request=request)


@get("/expenses/{expense_id:int}")
async def expense_page(request: Request, expense_id: int) -> Template:
    expense = await service.get_expense(expense_id)
    closed = await service.closed_up_to()
    project_id = (await projects_service.projects_of_expenses([expense_id])).get(expense_id)
    project = await projects_service.get_project(project_id) if project_id is not None else None
    return page(request, "expenses/detail.html", section="expenses", title=_("Expense %(expense_id)s", expense_id=expense_id), expense=expense,
                frozen=closed is not None and expense["date"] <= closed, closed_up_to=closed, project=project,
                **await _choices())


@get("/expenses/{expense_id:int}/edit")
async def expense_edit_page(request: Request, expense_id: int) -> Template:
    expense = await service.get_expense(expense_id)
    return await _expense_form(request, expense=expense, values=_values_of(expense), errors={})


@post("/expenses/{expense_id:int}/edit")
async def expense_edit_form(request: Request, expense_id: int) -> Response:
    expense = await service.get_expense(expense_id)
    raw = _raw_form(await request.form())
    try:
        await service.update_expense(expense_id, _form_to_data(raw), partial=False)
    except ValidationFailed as failed:
        return await _expense_form(request, expense=expense, values=raw, errors=failed.by_field(), status_code=422)
    return redirect(f"/expenses/{expense_id}", flash=_("Expense saved."), request=request)


@post("/expenses/{expense_id:int}/delete", opt=OWNER_ONLY)
async def expense_delete_form(request: Request, expense_id: int, config: Config) -> Response:
    await service.delete_expense(config.attachments_dir, expense_id)
    return redirect("/expenses", flash=_("Expense %(expense_id)s is deleted.", expense_id=expense_id), request=request)


@post("/expenses/{expense_id:int}/record")
async def expense_record_form(request: Request, expense_id: int) -> Response:
    await service.record_expense(expense_id)
    return redirect(f"/expenses/{expense_id}", flash=_("Recorded: the reports count it now."), request=request)


@post("/expenses/{expense_id:int}/release")
async def expense_release_form(request: Request, expense_id: int) -> Response:
    await service.release(expense_id)
    return redirect(f"/expenses/{expense_id}", flash=_("The expense is free to bill again (remove its line from the "
                    "draft if it is still there)."), request=request)


@post("/expenses/{expense_id:int}/receipts", request_max_body_size=UPLOAD_LIMIT)
async def receipt_upload_form(request: Request, expense_id: int, config: Config) -> Response:
    form = await request.form()
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile):
            raise ValidationFailed([FieldError("file", _("Choose a receipt file (PDF, PNG or JPEG)"))])
        await service.add_receipt(config.attachments_dir, expense_id, await upload.read(), upload.filename or "")
    except ValidationFailed as failed:
        return redirect(f"/expenses/{expense_id}", flash=_("Receipt not kept: ") + "; ".join(
            e.message for e in failed.errors), request=request)
    return redirect(f"/expenses/{expense_id}", flash=_("Receipt kept."), request=request)


@get("/expenses/{expense_id:int}/receipts/{n:int}")
async def receipt_view(expense_id: int, n: int, config: Config) -> Response:
    path, media_type, filename = await service.receipt_file(config.attachments_dir, expense_id, n)
    return download_file(path, filename or f"receipt-{expense_id}-{n}", media_type, inline=True)


@post("/expenses/{expense_id:int}/receipts/{n:int}/delete")
async def receipt_delete_form(request: Request, expense_id: int, n: int, config: Config) -> Response:
    await service.remove_receipt(config.attachments_dir, expense_id, n)
    return redirect(f"/expenses/{expense_id}", flash=_("Receipt removed."), request=request)


# -- vendors, categories, closing -------------------------------------------------------------------------

@get("/vendors")
async def vendors_page(request: Request, q: str = "") -> Template:
    result = await service.list_vendors(q=q, page=Page(1, 500))
    return page(request, "expenses/vendors.html", section="expenses", title=_("Vendors"), result=result, q=q,
                **await _choices(vendors=False))


@get("/vendors/new")
async def vendor_new_page(request: Request) -> Template:
    return page(request, "expenses/vendor_form.html", section="expenses", title=_("New vendor"), vendor=None,
                values={}, errors={}, **await _choices())


@post("/vendors")
async def vendor_create_form(request: Request) -> Response:
    data = await form_data(request)
    try:
        vendor = await service.create_vendor(data)
    except ValidationFailed as failed:
        return page(request, "expenses/vendor_form.html", status_code=422, section="expenses", title=_("New vendor"),
                    vendor=None, values=data, errors=failed.by_field(), **await _choices())
    return redirect("/vendors", flash=_("%(name)s is a vendor.", name=vendor['name']), request=request)


@get("/vendors/{vendor_id:int}/edit")
async def vendor_edit_page(request: Request, vendor_id: int) -> Template:
    vendor = await service.get_vendor(vendor_id)
    return page(request, "expenses/vendor_form.html", section="expenses", title=_("Edit %(name)s", name=vendor['name']),
                vendor=vendor, values=vendor, errors={}, **await _choices())


@post("/vendors/{vendor_id:int}/edit")
async def vendor_edit_form(request: Request, vendor_id: int) -> Response:
    vendor = await service.get_vendor(vendor_id)
    data = await form_data(request)
    try:
        vendor = await service.update_vendor(vendor_id, data)
    except ValidationFailed as failed:
        return page(request, "expenses/vendor_form.html", status_code=422, section="expenses",
                    title=_("Edit %(name)s", name=vendor['name']), vendor=vendor, values=data, errors=failed.by_field(),
                    **await _choices())
    return redirect("/vendors", flash=_("%(name)s is saved.", name=vendor['name']), request=request)


@post("/vendors/{vendor_id:int}/delete", opt=OWNER_ONLY)
async def vendor_delete_form(request: Request, vendor_id: int) -> Response:
    vendor = await service.get_vendor(vendor_id)
    await service.delete_vendor(vendor_id)
    return redirect("/vendors", flash=_("%(name)s is deleted.", name=vendor['name']), request=request)


@get("/expenses/categories")
async def categories_page(request: Request) -> Template:
    return page(request, "expenses/categories.html", section="expenses", title=_("Expense categories"),
                values={}, errors={}, **await _choices())


@post("/expenses/categories")
async def category_create_form(request: Request) -> Response:
    data = await form_data(request)
    try:
        category = await service.create_category(data)
    except ValidationFailed as failed:
        return page(request, "expenses/categories.html", status_code=422, section="expenses",
                    title=_("Expense categories"), values=data, errors=failed.by_field(), **await _choices())
    return redirect("/expenses/categories", flash=_("%(name)s is a category.", name=category['name']), request=request)


@post("/expenses/categories/{code:str}")
async def category_update_form(request: Request, code: str) -> Response:
    data = await form_data(request)
    data.setdefault("active", "off")
    try:
        category = await service.update_category(code, data)
    except ValidationFailed as failed:
        return redirect("/expenses/categories", flash=_("Not saved: ") + "; ".join(e.message for e in failed.errors),
                        request=request)
    return redirect("/expenses/categories", flash=_("%(name)s is saved.", name=category['name']), request=request)


@post("/expenses/closing", opt=OWNER_ONLY)
async def closing_form(request: Request) -> Response:
    data = await form_data(request)
    try:
        day = await service.set_closed_up_to(data.get("closed_up_to") or None)
    except ValidationFailed as failed:
        return redirect("/expenses", flash=_("Not saved: ") + "; ".join(e.message for e in failed.errors),
                        request=request)
    message = _("The books are closed up to %(isoformat)s.", isoformat=day.isoformat()) if day else _("The books are open.")
    return redirect("/expenses", flash=message, request=request)


# -- billing from the invoice editor ------------------------------------------------------------------------

@get("/documents/{document_id:int}/unbilled-expenses")
async def unbilled_panel(request: Request, document_id: int) -> Template:
    """The invoice editor's panel: this client's billable expenses not billed yet, and those on this draft."""
    document = await service.document_for_billing(document_id)
    expenses: list[dict[str, Any]] = []
    on_this: list[dict[str, Any]] = []
    if document and document["doc_type"] == "invoice" and document["status"] == "draft":
        expenses = await service.unbilled_for(document["client"])
        on_this = await service.on_document(document_id)
    return page(request, "expenses/_unbilled.html", document=document, expenses=expenses, on_this=on_this)


@post("/documents/{document_id:int}/unbilled-expenses")
async def unbilled_add_form(request: Request, document_id: int) -> Response:
    form = await request.form()
    ids = [i for v in (form.getall("expense_id", []) if hasattr(form, "getall") else []) if (i := id_of(v)) is not None]
    try:
        await service.add_to_invoice(document_id, ids, actor=actor_id(request))
    except (ValidationFailed, Conflict) as failed:
        message = "; ".join(e.message for e in failed.errors) if isinstance(failed, ValidationFailed) else failed.detail
        return redirect(f"/documents/{document_id}/edit", flash=_("Not added: %(message)s", message=message), request=request)
    return redirect(f"/documents/{document_id}/edit", flash=ngettext("%(num)s expense added as lines; it is billed when the invoice is issued.", "%(num)s expenses added as lines; they are billed when the invoice is issued.", len(ids)) % {"num": len(ids)}, request=request)


# -- reports -------------------------------------------------------------------------------------------------

@get("/reports/profit-loss")
async def profit_loss_page(request: Request, date_from: str = QueryParameter(name="from", default=""),
                           date_to: str = QueryParameter(name="to", default=""), basis: str = "accrual") -> Template:
    problem = ""
    try:
        report = await reports.profit_and_loss(optional_day(date_from, "from"), optional_day(date_to, "to"), basis)
    except ValidationFailed as failed:
        problem = "; ".join(e.message for e in failed.errors)
        report = await reports.profit_and_loss()
    params = {"from": report.date_from.isoformat(), "to": report.date_to.isoformat(), "basis": report.basis}
    return page(request, "expenses/profit_loss.html", status_code=422 if problem else 200, section="reports",
                title=_("Profit and loss"), report=report, chart=pnl.chart_svg(report.months, report.currency),
                params=params, problem=problem, bases={"accrual": _("Accrual"), "cash": _("Cash")})


def _tax_params(report: taxreturn.TaxReturn) -> dict[str, str]:
    return {"form": report.form, "from": report.date_from.isoformat(), "to": report.date_to.isoformat()}


@get("/reports/tax")
async def tax_page(request: Request, form: str = "", date_from: str = QueryParameter(name="from", default=""),
                   date_to: str = QueryParameter(name="to", default=""), line: str = "") -> Template:
    problem = ""
    try:
        report = await reports.tax_return(form or None, optional_day(date_from, "from"), optional_day(date_to, "to"))
    except ValidationFailed as failed:
        problem = "; ".join(e.message for e in failed.errors)
        report = await reports.tax_return()
    chosen = next((f for f in report.figures if f.key == line), None)
    return page(request, "expenses/tax.html", status_code=422 if problem else 200, section="reports",
                title=report.title, report=report, params=_tax_params(report), problem=problem, forms=taxreturn.FORMS,
                chosen=chosen, quarters=_quarters(await reports.period_of(None, None, default="quarter")))


def _quarters(current: tuple[date, date]) -> list[tuple[str, str, str]]:
    """This quarter and the three before it, for one-click periods: (label, from, to)."""
    found = []
    start = current[0]
    for _quarter in range(4):
        begin, end = reports.quarter_of(start)
        found.append((f"Q{(begin.month - 1) // 3 + 1} {begin.year}", begin.isoformat(), end.isoformat()))
        start = date(begin.year - (1 if begin.month == 1 else 0), (begin.month - 4) % 12 + 1, 1)
    return found


ROUTES = [expenses_page, expense_import_form, expense_new_page, expense_create_form, expense_page, expense_edit_page,
          expense_edit_form, expense_delete_form, expense_record_form, expense_release_form, receipt_upload_form,
          receipt_view, receipt_delete_form, vendors_page, vendor_new_page, vendor_create_form, vendor_edit_page,
          vendor_edit_form, vendor_delete_form, categories_page, category_create_form, category_update_form,
          closing_form, unbilled_panel, unbilled_add_form, profit_loss_page, tax_page]
