"""The JSON API of expenses (under /api/v1): vendors, categories, expenses and receipts, supplier
e-invoices in, billable expenses onto invoices, the books' closing day, and the profit and loss and
tax-return reports."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.params import QueryParameter
from msgspec import UNSET, UnsetType

from app.common.logic import FieldError, ValidationFailed
from app.config import Config
from app.db.engine import write_transaction
from app.expenses import reports, service
from app.projects import service as projects_service
from app.web.api.base import Body
from app.web.responses import actor_id, download, download_file, iso, list_json, page_params
from app.web.security import OWNER_ONLY

# A receipt may be 20 MB: the request around it may be a little more, so the 20 MB rule is ours (422
# naming `file`), not the server's bare 413.
UPLOAD_LIMIT = 21 * 1024 * 1024


class VendorIn(Body, omit_defaults=True):
    name: str | UnsetType = UNSET
    tax_number: str | UnsetType = UNSET
    country: str | UnsetType = UNSET
    default_category: str | UnsetType = UNSET
    notes: str | UnsetType = UNSET


class VendorOut(msgspec.Struct):
    id: int
    name: str
    tax_number: str
    country: str
    default_category: str
    notes: str
    created_at: str
    updated_at: str


class CategoryIn(Body, omit_defaults=True):
    code: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    deductible_percent: int | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class CategoryOut(msgspec.Struct):
    code: str
    name: str
    deductible_percent: int
    active: bool


class SplitIn(Body):
    category: str
    net: Decimal


class ExpenseIn(Body, omit_defaults=True):
    date: str | UnsetType = UNSET
    vendor_id: int | UnsetType | None = UNSET
    category: str | UnsetType = UNSET
    splits: list[SplitIn] | UnsetType = UNSET
    description: str | UnsetType = UNSET
    currency: str | UnsetType = UNSET
    net: Decimal | UnsetType = UNSET
    taxes: list[str] | UnsetType = UNSET
    tax_amounts: dict[str, Decimal] | UnsetType = UNSET
    deductible_percent: int | UnsetType = UNSET
    paid_with: str | UnsetType = UNSET
    paid_on: str | UnsetType | None = UNSET
    reference: str | UnsetType = UNSET
    notes: str | UnsetType = UNSET
    billable: bool | UnsetType = UNSET
    client_id: int | UnsetType | None = UNSET
    markup_percent: Decimal | UnsetType = UNSET
    project_id: int | UnsetType | None = UNSET   # the project it was spent on (app.projects keeps the link)


class ReceiptOut(msgspec.Struct):
    n: int
    filename: str
    media_type: str
    size: int
    sha256: str
    url: str


class ExpenseOut(msgspec.Struct):
    id: int
    status: str
    date: str
    vendor_id: int | None
    vendor_name: str | None
    category: str
    splits: list[dict[str, str]]
    description: str
    currency: str
    net: str
    taxes: list[str]
    tax_lines: list[dict[str, str]]
    tax_total: str
    deductible_tax: str
    deductible_percent: int
    total: str
    paid_with: str
    paid_on: str | None
    reference: str
    notes: str
    billable: bool
    client_id: int | None
    markup_percent: str
    billed_document_id: int | None
    billed_number: str | None
    billed_state: str
    source: str
    source_number: str
    import_notes: str
    receipts: list[ReceiptOut]
    created_at: str
    updated_at: str
    project_id: int | None = None


class ExpenseList(msgspec.Struct):
    items: list[ExpenseOut]
    total: int
    page: int
    per_page: int


class BooksIn(Body):
    closed_up_to: str | None = None


class AddExpensesIn(Body):
    expense_ids: list[int]


def vendor_out(row: dict[str, Any]) -> VendorOut:
    return VendorOut(id=row["id"], name=row["name"], tax_number=row["tax_number"], country=row["country"],
                     default_category=row["default_category"], notes=row["notes"],
                     created_at=iso(row["created_at"]), updated_at=iso(row["updated_at"]))


def category_out(row: dict[str, Any]) -> CategoryOut:
    return CategoryOut(code=row["code"], name=row["name"], deductible_percent=row["deductible_percent"],
                       active=bool(row["active"]))


def expense_out(e: dict[str, Any], project_id: int | None = None) -> ExpenseOut:
    return ExpenseOut(project_id=project_id,
        id=e["id"], status=e["status"], date=e["date"].isoformat(), vendor_id=e["vendor"], vendor_name=e["vendor_name"],
        category=e["category"], splits=[{"category": s["category"], "net": str(s["net"])} for s in e["splits"]],
        description=e["description"], currency=e["currency"], net=str(e["net"]), taxes=e["tax_codes"],
        tax_lines=e["tax_lines"], tax_total=str(e["tax_total"]), deductible_tax=str(e["deductible_tax"]),
        deductible_percent=e["deductible_percent"], total=str(e["total"]), paid_with=e["paid_with"],
        paid_on=iso(e["paid_on"]), reference=e["reference"], notes=e["notes"], billable=bool(e["billable"]),
        client_id=e["client"], markup_percent=e["markup_percent"], billed_document_id=e["billed_document"],
        billed_number=e["billed_number"] if e["billed_state"] == "billed" else None, billed_state=e["billed_state"],
        source=e["source"], source_number=e["source_number"], import_notes=e["import_notes"],
        receipts=[ReceiptOut(n=r["n"], filename=r["filename"], media_type=r["media_type"], size=r["size"],
                             sha256=r["sha256"], url=f"/api/v1/expenses/{e['id']}/receipts/{r['n']}")
                  for r in e["receipts"]],
        created_at=iso(e["created_at"]), updated_at=iso(e["updated_at"]))


def _given(body: msgspec.Struct) -> dict[str, Any]:
    values = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not UNSET}
    if "splits" in values:
        values["splits"] = [{"category": s.category, "net": s.net} for s in values["splits"]]
    return values


async def _upload(request: Request) -> tuple[bytes, str]:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ValidationFailed([FieldError("file", "Send the file as multipart form data in the field `file`")])
    return await upload.read(), upload.filename or ""


# -- vendors --------------------------------------------------------------------------------------

@get("/api/v1/vendors", tags=["expenses"])
async def api_vendors(q: str = "", page_number: int = QueryParameter(name="page", default=1),
                      per_page: int = 100) -> dict[str, Any]:
    result = await service.list_vendors(q=q, page=page_params(page_number, per_page, 100))
    return list_json(result, [vendor_out(row) for row in result.items])


@post("/api/v1/vendors", tags=["expenses"])
async def api_vendor_create(data: VendorIn) -> VendorOut:
    return vendor_out(await service.create_vendor(_given(data)))


@get("/api/v1/vendors/{vendor_id:int}", tags=["expenses"])
async def api_vendor(vendor_id: int) -> VendorOut:
    return vendor_out(await service.get_vendor(vendor_id))


@patch("/api/v1/vendors/{vendor_id:int}", tags=["expenses"])
async def api_vendor_update(vendor_id: int, data: VendorIn) -> VendorOut:
    return vendor_out(await service.update_vendor(vendor_id, _given(data)))


@delete("/api/v1/vendors/{vendor_id:int}", tags=["expenses"], opt=OWNER_ONLY)
async def api_vendor_delete(vendor_id: int) -> None:
    await service.delete_vendor(vendor_id)


# -- categories -------------------------------------------------------------------------------------

@get("/api/v1/expense-categories", tags=["expenses"])
async def api_categories() -> list[CategoryOut]:
    """The chart of expense categories (a preset for the business's country on first use, then editable)."""
    return [category_out(row) for row in await service.list_categories()]


@post("/api/v1/expense-categories", tags=["expenses"])
async def api_category_create(data: CategoryIn) -> CategoryOut:
    return category_out(await service.create_category(_given(data)))


@patch("/api/v1/expense-categories/{code:str}", tags=["expenses"])
async def api_category_update(code: str, data: CategoryIn) -> CategoryOut:
    return category_out(await service.update_category(code, _given(data)))


# -- expenses -----------------------------------------------------------------------------------------

@get("/api/v1/expenses", tags=["expenses"])
async def api_expenses(date_from: date | None = QueryParameter(name="from", default=None),
                       date_to: date | None = QueryParameter(name="to", default=None), vendor_id: int | None = None,
                       category: str = "", client_id: int | None = None, billable: bool | None = None,
                       billed: bool | None = None, status: str = "", q: str = "",
                       page_number: int = QueryParameter(name="page", default=1), per_page: int = 50) -> ExpenseList:
    result = await service.list_expenses(date_from=date_from, date_to=date_to, vendor_id=vendor_id, category=category,
                                         client_id=client_id, billable=billable, billed=billed, status=status, q=q,
                                         page=page_params(page_number, per_page))
    projects = await projects_service.projects_of_expenses([e["id"] for e in result.items])
    return ExpenseList(**list_json(result, [expense_out(e, projects.get(e["id"])) for e in result.items]))


async def _expense_answer(expense: dict[str, Any]) -> ExpenseOut:
    projects = await projects_service.projects_of_expenses([expense["id"]])
    return expense_out(expense, projects.get(expense["id"]))


async def _write_expense(expense_id: int | None, data: ExpenseIn) -> ExpenseOut:
    """Create or change an expense and, when `project_id` is given, its project: one transaction, so a
    refused project writes nothing (the expense's domain knows nothing of projects; they know expenses)."""
    values = _given(data)
    project_given = "project_id" in values
    project_id = values.pop("project_id", None)
    async with write_transaction():
        expense = (await service.create_expense(values) if expense_id is None
                   else await service.update_expense(expense_id, values))
        if project_given:
            await projects_service.set_expense_project(expense["id"], project_id)
        return await _expense_answer(expense)


@post("/api/v1/expenses", tags=["expenses"])
async def api_expense_create(data: ExpenseIn) -> ExpenseOut:
    """Money as decimal strings; `taxes` are computed from `net` like a document line unless `tax_amounts`
    gives them as printed on the receipt. `project_id` puts it on a project of its client."""
    return await _write_expense(None, data)


@get("/api/v1/expenses/{expense_id:int}", tags=["expenses"])
async def api_expense(expense_id: int) -> ExpenseOut:
    return await _expense_answer(await service.get_expense(expense_id))


@patch("/api/v1/expenses/{expense_id:int}", tags=["expenses"])
async def api_expense_update(expense_id: int, data: ExpenseIn) -> ExpenseOut:
    return await _write_expense(expense_id, data)


@delete("/api/v1/expenses/{expense_id:int}", tags=["expenses"], opt=OWNER_ONLY)
async def api_expense_delete(expense_id: int, config: Config) -> None:
    await service.delete_expense(config.attachments_dir, expense_id)


@post("/api/v1/expenses/{expense_id:int}/record", tags=["expenses"], status_code=200)
async def api_expense_record(expense_id: int) -> ExpenseOut:
    """An imported draft, checked, becomes a recorded expense (the reports count it)."""
    return await _expense_answer(await service.record_expense(expense_id))


@post("/api/v1/expenses/{expense_id:int}/receipts", tags=["expenses"], status_code=201,
      request_max_body_size=UPLOAD_LIMIT)
async def api_receipt_add(request: Request, expense_id: int, config: Config) -> ExpenseOut:
    """Multipart `file`: a PDF, PNG or JPEG of at most 20 MB (HEIC is refused: export it as JPEG)."""
    content, filename = await _upload(request)
    return await _expense_answer(await service.add_receipt(config.attachments_dir, expense_id, content, filename))


@get("/api/v1/expenses/{expense_id:int}/receipts/{n:int}", tags=["expenses"])
async def api_receipt(expense_id: int, n: int, config: Config) -> Response:
    path, media_type, filename = await service.receipt_file(config.attachments_dir, expense_id, n)
    return download_file(path, filename or f"receipt-{expense_id}-{n}", media_type, inline=True)


@delete("/api/v1/expenses/{expense_id:int}/receipts/{n:int}", tags=["expenses"], status_code=200)
async def api_receipt_delete(expense_id: int, n: int, config: Config) -> ExpenseOut:
    return await _expense_answer(await service.remove_receipt(config.attachments_dir, expense_id, n))


@post("/api/v1/expenses/import", tags=["expenses"], status_code=201, request_max_body_size=UPLOAD_LIMIT)
async def api_expense_import(request: Request, config: Config) -> ExpenseOut:
    """Multipart `file`: a supplier's Factur-X / ZUGFeRD PDF or XRechnung / Peppol XML (CII or UBL). Answers the
    draft expense it made (vendor matched by tax number or created, the file kept as its receipt)."""
    content, filename = await _upload(request)
    return expense_out(await service.import_einvoice(config.attachments_dir, content, filename))


@get("/api/v1/clients/{client_id:int}/unbilled-expenses", tags=["expenses"])
async def api_unbilled(client_id: int) -> list[ExpenseOut]:
    expenses = await service.unbilled_for(client_id)
    projects = await projects_service.projects_of_expenses([e["id"] for e in expenses])
    return [expense_out(e, projects.get(e["id"])) for e in expenses]


@post("/api/v1/documents/{document_id:int}/expenses", tags=["expenses"], status_code=200)
async def api_bill_expenses(request: Request, document_id: int, data: AddExpensesIn) -> dict[str, Any]:
    """Add billable expenses to a draft invoice as lines; they are billed when it is issued."""
    added = await service.add_to_invoice(document_id, data.expense_ids, actor=actor_id(request))
    return {"document_id": document_id, "added": added}


@post("/api/v1/expenses/{expense_id:int}/release", tags=["expenses"], status_code=200)
async def api_expense_release(expense_id: int) -> ExpenseOut:
    return await _expense_answer(await service.release(expense_id))


@get("/api/v1/books", tags=["expenses"])
async def api_books() -> dict[str, Any]:
    return {"closed_up_to": iso(await service.closed_up_to())}


@put("/api/v1/books", tags=["expenses"], opt=OWNER_ONLY)
async def api_books_update(data: BooksIn) -> dict[str, Any]:
    """Close the books up to a day (expenses on or before it are frozen); null reopens them."""
    return {"closed_up_to": iso(await service.set_closed_up_to(data.closed_up_to))}


# -- reports -------------------------------------------------------------------------------------------

@get("/api/v1/reports/profit-loss", tags=["reports"])
async def api_profit_loss(date_from: date | None = QueryParameter(name="from", default=None),
                          date_to: date | None = QueryParameter(name="to", default=None), basis: str = "accrual",
                          currency: str = "") -> dict[str, Any]:
    """Revenue (before tax), expenses and profit, per month and per category; `basis` accrual or cash."""
    return reports.pnl_json(await reports.profit_and_loss(date_from, date_to, basis, currency or None))


@get("/api/v1/reports/profit-loss.csv", tags=["reports"], media_type="text/csv")
async def api_profit_loss_csv(date_from: date | None = QueryParameter(name="from", default=None),
                              date_to: date | None = QueryParameter(name="to", default=None), basis: str = "accrual",
                              currency: str = "") -> Response:
    report = await reports.profit_and_loss(date_from, date_to, basis, currency or None)
    return download(reports.pnl_csv(report), reports.pnl_filename(report, "csv"), "text/csv; charset=utf-8")


@get("/api/v1/reports/profit-loss.pdf", tags=["reports"], media_type="application/pdf")
async def api_profit_loss_pdf(date_from: date | None = QueryParameter(name="from", default=None),
                              date_to: date | None = QueryParameter(name="to", default=None), basis: str = "accrual",
                              currency: str = "") -> Response:
    report = await reports.profit_and_loss(date_from, date_to, basis, currency or None)
    return download(await reports.pnl_pdf(report), reports.pnl_filename(report, "pdf"), "application/pdf")


@get("/api/v1/reports/tax", tags=["reports"])
async def api_tax(date_from: date | None = QueryParameter(name="from", default=None),
                  date_to: date | None = QueryParameter(name="to", default=None), form: str = "",
                  currency: str = "", sources: bool = False) -> dict[str, Any]:
    """A tax return's figures keyed by the form's own line numbers (`form`: ca-gst34, de-ustva, fr-ca3, generic;
    default: the business's country's). `sources=true` lists the documents and expenses each figure sums."""
    report = await reports.tax_return(form or None, date_from, date_to, currency or None)
    return reports.tax_json(report, with_sources=sources)


@get("/api/v1/reports/tax.csv", tags=["reports"], media_type="text/csv")
async def api_tax_csv(date_from: date | None = QueryParameter(name="from", default=None),
                      date_to: date | None = QueryParameter(name="to", default=None), form: str = "",
                      currency: str = "") -> Response:
    report = await reports.tax_return(form or None, date_from, date_to, currency or None)
    return download(reports.tax_csv(report), reports.tax_filename(report, "csv"), "text/csv; charset=utf-8")


@get("/api/v1/reports/tax.pdf", tags=["reports"], media_type="application/pdf")
async def api_tax_pdf(date_from: date | None = QueryParameter(name="from", default=None),
                      date_to: date | None = QueryParameter(name="to", default=None), form: str = "",
                      currency: str = "") -> Response:
    report = await reports.tax_return(form or None, date_from, date_to, currency or None)
    return download(await reports.tax_pdf(report), reports.tax_filename(report, "pdf"), "application/pdf")


ROUTES = [api_vendors, api_vendor_create, api_vendor, api_vendor_update, api_vendor_delete, api_categories,
          api_category_create, api_category_update, api_expenses, api_expense_create, api_expense, api_expense_update,
          api_expense_delete, api_expense_record, api_receipt_add, api_receipt, api_receipt_delete, api_expense_import,
          api_unbilled, api_bill_expenses, api_expense_release, api_books, api_books_update, api_profit_loss,
          api_profit_loss_csv, api_profit_loss_pdf, api_tax, api_tax_csv, api_tax_pdf]
