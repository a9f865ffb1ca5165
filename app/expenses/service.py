"""Vendors, the chart of categories, expenses and their receipts, closing the books, billing expenses.

Each user action is one transaction through the writer. Receipt files are written before the
transaction that records them and removed again when it fails, so a refused upload leaves nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable

from app.clients import service as clients_service
from app.clients.tables import Client
from app.common.i18n import _
from app.common.logic import (
    Conflict,
    FieldError,
    NotFound,
    Page,
    PageOf,
    ValidationFailed,
    like_pattern,
    parse_day,
    storable_id,
)
from app.db import datafolder
from app.db.columns import column_values
from app.db.engine import write_transaction
from app.documents import service as documents_service
from app.documents.tables import Document
from app.expenses import einvoice, logic
from app.expenses.tables import Books, Expense, ExpenseCategory, ExpenseSplit, Receipt, Vendor
from app.money import from_minor, to_minor
from app.paths import ensure_private_dir
from app.settings import service as settings_service
from app.taxes import service as taxes_service

BOOKS_ID = 1
# What an invoice billed: these stay as they were once the invoice is issued.
BILLED_FIELDS = ("net_minor", "currency", "client", "billable", "markup_percent")
RECEIPTS_DIR = "receipts"


def _now() -> datetime:
    return datetime.now(UTC)


# -- categories ------------------------------------------------------------------------------------

async def ensure_chart() -> None:
    """On first use, the preset chart of the business's country becomes the user's (editable) chart."""
    if await ExpenseCategory.exists():
        return
    settings = await settings_service.get_settings()
    async with write_transaction():
        if await ExpenseCategory.exists():
            return
        now = _now()
        for position, preset in enumerate(logic.chart_for(settings.get("country"))):
            await ExpenseCategory.insert(ExpenseCategory(
                code=preset.code, name=preset.name, deductible_percent=preset.deductible_percent, active=True,
                position=position, created_at=now, updated_at=now))


async def list_categories(*, active_only: bool = False) -> list[dict[str, Any]]:
    """The chart; until the user edits it, the preset of the business's country (reading writes nothing:
    a read-only or vanished data folder still shows every page)."""
    rows = await ExpenseCategory.select().order_by(ExpenseCategory.position).order_by(ExpenseCategory.id)
    if not rows:
        settings = await settings_service.get_settings()
        rows = [{"id": None, "code": preset.code, "name": preset.name, "position": position, "active": True,
                 "deductible_percent": preset.deductible_percent}
                for position, preset in enumerate(logic.chart_for(settings.get("country")))]
    return [row for row in rows if row["active"] or not active_only]


async def category_names() -> dict[str, str]:
    return {row["code"]: row["name"] for row in await list_categories()}


async def _category(code: str) -> dict[str, Any]:
    row = next((c for c in await list_categories() if c["code"] == code), None)
    if row is None:
        raise NotFound(_("Category %(code)r", code=code))
    return row


async def create_category(data: Mapping[str, Any]) -> dict[str, Any]:
    values = logic.clean_category(data)
    await ensure_chart()
    async with write_transaction():
        if await ExpenseCategory.exists().where(ExpenseCategory.code == values["code"]):
            raise ValidationFailed([FieldError("code", _("Category %(code)r exists already", code=values["code"]))])
        last = await ExpenseCategory.select(ExpenseCategory.position).order_by(
            ExpenseCategory.position, ascending=False).first()
        now = _now()
        await ExpenseCategory.insert(ExpenseCategory(**values, position=(last["position"] + 1) if last else 0,
                                                     created_at=now, updated_at=now))
        return await _category(values["code"])


async def update_category(code: str, data: Mapping[str, Any]) -> dict[str, Any]:
    values = logic.clean_category(data, partial=True)
    values.pop("code", None)  # expenses point at the code: it stays
    await ensure_chart()
    async with write_transaction():
        await _category(code)
        values["updated_at"] = _now()
        await ExpenseCategory.update(column_values(values)).where(ExpenseCategory.code == code)
        return await _category(code)


async def _check_categories(codes: Sequence[str], field_name: str = "category") -> None:
    known = {row["code"] for row in await list_categories()}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValidationFailed([FieldError(field_name, _("Unknown category %(category)r: add it under Expenses, "
                                                         "Categories", category=unknown[0]))])


# -- vendors ---------------------------------------------------------------------------------------

async def list_vendors(*, q: str = "", page: Page = Page(1, 500)) -> PageOf:
    select, count = Vendor.select(), Vendor.count()
    if q.strip():
        condition = WhereRaw("(name LIKE {} ESCAPE '\\' OR tax_number LIKE {} ESCAPE '\\')",
                             like_pattern(q.strip()), like_pattern(q.strip()))
        select, count = select.where(condition), count.where(condition)
    rows = await select.order_by(Vendor.name).limit(page.per_page).offset(page.offset)
    return PageOf(items=rows, total=await count, page=page)


async def get_vendor(vendor_id: int) -> dict[str, Any]:
    row = await Vendor.select().where(Vendor.id == vendor_id).first() if storable_id(vendor_id) else None
    if row is None:
        raise NotFound(_("Vendor %(vendor_id)s", vendor_id=vendor_id))
    return row


async def _check_vendor(values: Mapping[str, Any], except_id: int | None = None) -> None:
    if values.get("default_category"):
        await _check_categories([values["default_category"]], "default_category")
    if "name" in values:
        query = Vendor.exists().where(WhereRaw("lower(name) = lower({})", values["name"]))
        if except_id is not None:
            query = query.where(Vendor.id != except_id)
        if await query:
            raise ValidationFailed([FieldError("name", _("A vendor named %(name)r exists already", name=values["name"]))])


async def create_vendor(data: Mapping[str, Any]) -> dict[str, Any]:
    values = logic.clean_vendor(data)
    async with write_transaction():
        await _check_vendor(values)
        now = _now()
        vendor = Vendor(**values, created_at=now, updated_at=now)
        await vendor.save()
        return await get_vendor(vendor.id)


async def update_vendor(vendor_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    values = logic.clean_vendor(data, partial=True)
    async with write_transaction():
        await get_vendor(vendor_id)
        await _check_vendor(values, except_id=vendor_id)
        values["updated_at"] = _now()
        await Vendor.update(column_values(values)).where(Vendor.id == vendor_id)
        return await get_vendor(vendor_id)


async def delete_vendor(vendor_id: int) -> None:
    async with write_transaction():
        vendor = await get_vendor(vendor_id)
        if await Expense.exists().where(Expense.vendor == vendor_id):
            raise Conflict(_("%(name)s has expenses; it cannot be deleted.", name=vendor['name']))
        await Vendor.delete().where(Vendor.id == vendor_id)


async def vendor_by_tax_number(tax_number: str) -> dict[str, Any] | None:
    wanted = logic.compact_tax_number(tax_number)
    if not wanted:
        return None
    for row in await Vendor.select().where(Vendor.tax_number != ""):
        if logic.compact_tax_number(row["tax_number"]) == wanted:
            return row
    return None


# -- closing the books -------------------------------------------------------------------------------

async def closed_up_to() -> date | None:
    row = await Books.select(Books.closed_up_to).where(Books.id == BOOKS_ID).first()
    return row["closed_up_to"] if row else None


async def set_closed_up_to(day: Any) -> date | None:
    """Close the books up to `day` (blank reopens them all); expenses on or before it are frozen."""
    errors: list[FieldError] = []
    parsed = parse_day(day, "closed_up_to", errors, "Books closed up to")
    today = await settings_service.today()
    if parsed is not None and parsed >= today:
        # Only days gone by are closed: a closed today or tomorrow would refuse this day's receipts.
        errors.append(FieldError("closed_up_to", _("The books can be closed up to yesterday (%(yesterday)s) at the latest", yesterday=(today - timedelta(days=1)).isoformat())))
    if errors:
        raise ValidationFailed(errors)
    async with write_transaction():
        if await Books.exists().where(Books.id == BOOKS_ID):
            await Books.update({Books.closed_up_to: parsed, Books.updated_at: _now()}).where(Books.id == BOOKS_ID)
        else:
            await Books.insert(Books(id=BOOKS_ID, closed_up_to=parsed, updated_at=_now()))
    return parsed


# -- reading expenses ---------------------------------------------------------------------------------

async def _receipts_of(expense_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    if expense_ids:
        for row in await Receipt.select().where(Receipt.expense.is_in(list(expense_ids))).order_by(Receipt.position):
            found.setdefault(row["expense"], []).append(row)
    return found


async def _splits_of(expense_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    if expense_ids:
        for row in await ExpenseSplit.select().where(ExpenseSplit.expense.is_in(list(expense_ids))).order_by(
                ExpenseSplit.position):
            found.setdefault(row["expense"], []).append(row)
    return found


def _query() -> Any:
    return Expense.select(*Expense.all_columns(), Expense.vendor.name.as_alias("vendor_name"),
                          Expense.client.name.as_alias("client_name"),
                          Expense.billed_document.number.as_alias("billed_number"),
                          Expense.billed_document.status.as_alias("billed_status"))


def view(row: Mapping[str, Any], splits: Sequence[Mapping[str, Any]], receipts: Sequence[Mapping[str, Any]]
         ) -> dict[str, Any]:
    """An expense as the pages and the API read it: amounts as Decimal in its currency."""
    currency = row["currency"]
    state = logic.billed_state({"id": row["billed_document"], "status": row.get("billed_status")})
    return {
        **row,
        "date": row["expense_date"],
        "net": from_minor(row["net_minor"], currency),
        "tax_total": from_minor(row["tax_total_minor"], currency),
        "deductible_tax": from_minor(row["deductible_tax_minor"], currency),
        "total": from_minor(row["total_minor"], currency),
        "tax_lines": json.loads(row["taxes_json"] or "[]"),
        "tax_codes": [t["code"] for t in json.loads(row["taxes_json"] or "[]")],
        "splits": [{"category": s["category"], "net": from_minor(s["net_minor"], currency)} for s in splits],
        "receipts": [{"n": i + 1, "filename": r["filename"], "media_type": r["media_type"], "size": r["size"],
                      "sha256": r["sha256"]} for i, r in enumerate(receipts)],
        "billed_state": state,
        "billed_price": logic.billed_price(from_minor(row["net_minor"], currency), row["markup_percent"], currency),
    }


async def get_expense(expense_id: int) -> dict[str, Any]:
    row = await _query().where(Expense.id == expense_id).first() if storable_id(expense_id) else None
    if row is None:
        raise NotFound(_("Expense %(expense_id)s", expense_id=expense_id))
    splits, receipts = await _splits_of([expense_id]), await _receipts_of([expense_id])
    return view(row, splits.get(expense_id, []), receipts.get(expense_id, []))


async def list_expenses(*, date_from: date | None = None, date_to: date | None = None, vendor_id: int | None = None,
                        category: str = "", client_id: int | None = None, billable: bool | None = None,
                        billed: bool | None = None, status: str = "", q: str = "",
                        page: Page = Page()) -> PageOf:
    conditions: list[Combinable] = []
    if date_from:
        conditions.append(Expense.expense_date >= date_from)
    if date_to:
        conditions.append(Expense.expense_date <= date_to)
    if vendor_id is not None:
        conditions.append(Expense.vendor == vendor_id)
    if category:
        conditions.append(WhereRaw("expense.id IN (SELECT expense FROM expense_split WHERE category = {})", category))
    if client_id is not None:
        conditions.append(Expense.client == client_id)
    if billable is not None:
        conditions.append(Expense.billable == billable)
    if billed is not None:
        billed_sql = ("expense.billed_document IN (SELECT id FROM document WHERE status NOT IN ('draft', "
                      "'cancelled'))")
        conditions.append(WhereRaw(billed_sql if billed else f"NOT ({billed_sql}) OR expense.billed_document IS NULL"))
    if status:
        if status not in logic.STATUSES:
            raise ValidationFailed([FieldError("status", _("status must be one of: %(join)s", join=', '.join(logic.STATUSES)))])
        conditions.append(Expense.status == status)
    if q.strip():
        pattern = like_pattern(q.strip())
        conditions.append(WhereRaw("(expense.description LIKE {} ESCAPE '\\' OR expense.reference LIKE {} ESCAPE '\\' "
                                   "OR expense.vendor IN (SELECT id FROM vendor WHERE name LIKE {} ESCAPE '\\'))",
                                   pattern, pattern, pattern))
    select, count = _query(), Expense.count()
    for condition in conditions:
        select, count = select.where(condition), count.where(condition)
    rows = await select.order_by(Expense.expense_date, ascending=False).order_by(Expense.id, ascending=False).limit(
        page.per_page).offset(page.offset)
    ids = [row["id"] for row in rows]
    splits, receipts = await _splits_of(ids), await _receipts_of(ids)
    return PageOf(items=[view(row, splits.get(row["id"], []), receipts.get(row["id"], [])) for row in rows],
                  total=await count, page=page)


async def totals_by_currency(**filters: Any) -> dict[str, dict[str, Decimal]]:
    """Net, tax and total of every expense the filters select, per currency (the list's footer)."""
    result = await list_expenses(**filters, page=Page(1, 100_000))
    sums: dict[str, dict[str, Decimal]] = {}
    for row in result.items:
        entry = sums.setdefault(row["currency"], {"net": Decimal(0), "tax": Decimal(0), "total": Decimal(0)})
        entry["net"] += row["net"]
        entry["tax"] += row["tax_total"]
        entry["total"] += row["total"]
    return sums


# -- writing expenses -----------------------------------------------------------------------------------

async def _resolve(values: logic.ExpenseInput, current: Mapping[str, Any] | None = None) -> tuple[dict[str, Any],
                                                                                                 logic.ExpenseTotals]:
    """The row's columns and the computed totals, from a cleaned request and (for a change) the saved expense."""
    given = dict(values.values)
    row: dict[str, Any] = {k: v for k, v in given.items() if not k.startswith("_")}
    merged = {**(current or {}), **row}
    errors: list[FieldError] = []
    if merged.get("vendor") is not None and not await Vendor.exists().where(Vendor.id == merged["vendor"]):
        errors.append(FieldError("vendor_id", _("Vendor %(vendor)s does not exist", vendor=merged['vendor'])))
    if row.get("client") is not None and not await Client.exists().where(Client.id == row["client"]):
        errors.append(FieldError("client_id", _("Client %(client)s does not exist", client=row['client'])))
    if merged.get("billable") and merged.get("client") is None:
        errors.append(FieldError("client_id", _("A billable expense needs the client it is billed to")))
    if errors:
        raise ValidationFailed(errors)
    splits = values.splits
    if splits is None and current is not None:
        saved = [(s["category"], s["net"]) for s in current["splits"]]
        if given.get("_category") and len(saved) == 1:
            saved = [(given["_category"], saved[0][1])]
        if given.get("_net") is not None and len(saved) == 1:
            saved = [(saved[0][0], given["_net"])]
        elif given.get("_net") is not None:
            raise ValidationFailed([FieldError("net", _("This expense is split: change the splits, not the net"))])
        splits = saved
    assert splits is not None
    await _check_categories([c for c, _net in splits], "category" if len(splits) == 1 else "splits")
    codes = values.tax_codes if values.tax_codes is not None else (current["tax_codes"] if current else [])
    tax_amounts = values.tax_amounts
    if tax_amounts is None and current is not None and current.get("tax_amounts_given") and values.tax_codes is None \
            and values.splits is None and "_net" not in given:
        tax_amounts = {t["code"]: Decimal(t["amount"]) for t in current["tax_lines"]}
    percent = given.get("deductible_percent")
    if percent is None:
        category_changed = values.splits is not None or given.get("_category")
        if current is not None and not category_changed:
            percent = current["deductible_percent"]
        else:
            category = await _category(splits[0][0])
            percent = category["deductible_percent"]
    currency = merged["currency"]
    tax_bases = values.tax_bases
    if tax_bases is None and tax_amounts is not None and current is not None and tax_amounts is not values.tax_amounts:
        tax_bases = {t["code"]: Decimal(t["base"]) for t in current["tax_lines"]}
    totals = logic.compute_expense(splits, codes, await taxes_service.rates_by_code(), currency,
                                   deductible_percent=percent, tax_amounts=tax_amounts, tax_bases=tax_bases)
    row.update({
        "category": splits[0][0], "deductible_percent": percent,
        "net_minor": to_minor(totals.net, currency), "tax_total_minor": to_minor(totals.tax_total, currency),
        "deductible_tax_minor": to_minor(totals.deductible, currency),
        "total_minor": to_minor(totals.total, currency),
        "taxes_json": json.dumps([logic.tax_json(t) for t in totals.taxes]),
        "tax_amounts_given": tax_amounts is not None,
    })
    if "paid_with" in row or "paid_on" in row or "expense_date" in row or current is None:
        row["paid_on"] = logic.paid_on_for(merged.get("paid_with") or "bank", merged.get("paid_on"),
                                           merged["expense_date"])
    return row, totals


async def _write_splits(expense_id: int, totals: logic.ExpenseTotals) -> None:
    await ExpenseSplit.delete().where(ExpenseSplit.expense == expense_id)
    for position, (category, net) in enumerate(totals.splits, start=1):
        await ExpenseSplit.insert(ExpenseSplit(expense=expense_id, position=position, category=category,
                                               net_minor=to_minor(net, totals.currency)))


async def create_expense(data: Mapping[str, Any], *, status: str = "recorded", source: str = "manual",
                         source_number: str = "", import_notes: str = "") -> dict[str, Any]:
    values = logic.clean_expense(data)
    async with write_transaction():
        closed = await closed_up_to()
        logic.check_open(values.values["expense_date"], closed)
        row, totals = await _resolve(values)
        logic.check_paid_on(row.get("paid_on"), closed, await settings_service.today())
        now = _now()
        expense = Expense(**row, status=status, source=source, source_number=source_number,
                          import_notes=import_notes, created_at=now, updated_at=now)
        await expense.save()
        await _write_splits(expense.id, totals)
        return await get_expense(expense.id)


async def update_expense(expense_id: int, data: Mapping[str, Any], *, partial: bool = True) -> dict[str, Any]:
    values = logic.clean_expense(data, partial=partial)
    async with write_transaction():
        current = await get_expense(expense_id)
        closed = await closed_up_to()
        logic.check_not_frozen(current["expense_date"], closed)
        if "expense_date" in values.values:
            logic.check_open(values.values["expense_date"], closed)
        row, totals = await _resolve(values, current)
        if "paid_on" in row and row["paid_on"] != current["paid_on"]:
            logic.check_paid_on(row["paid_on"], closed, await settings_service.today())
        if current["billed_state"] == "billed" and any(
                key in row and row[key] != current[key] for key in BILLED_FIELDS):
            raise Conflict(_("This expense is billed on invoice %(billed_number)s: its amount and client stay as billed.", billed_number=current['billed_number']))
        row["updated_at"] = _now()
        await Expense.update(column_values(row)).where(Expense.id == expense_id)
        await _write_splits(expense_id, totals)
        return await get_expense(expense_id)


async def record_expense(expense_id: int) -> dict[str, Any]:
    """An imported draft, checked by the user, becomes a recorded expense (counted in the reports)."""
    async with write_transaction():
        current = await get_expense(expense_id)
        if current["status"] != "draft":
            raise Conflict(_("This expense is recorded already."))
        logic.check_open(current["expense_date"], await closed_up_to())
        await Expense.update({Expense.status: "recorded", Expense.updated_at: _now()}).where(Expense.id == expense_id)
        return await get_expense(expense_id)


async def delete_expense(attachments_dir: Path, expense_id: int) -> None:
    async with write_transaction():
        current = await get_expense(expense_id)
        logic.check_not_frozen(current["expense_date"], await closed_up_to())
        if current["billed_state"] == "billed":
            raise Conflict(_("This expense is billed on invoice %(billed_number)s; it cannot be deleted.", billed_number=current['billed_number']))
        await Expense.delete().where(Expense.id == expense_id)
    for receipt in current["receipts"]:
        await _forget_file(attachments_dir, receipt["sha256"], receipt["media_type"])


# -- receipts -----------------------------------------------------------------------------------------

def _receipt_path(attachments_dir: Path, sha256: str, kind: str) -> Path:
    return attachments_dir / logic.receipt_name(sha256, kind)


def _write_file(path: Path, content: bytes) -> bool:
    """Write a receipt's bytes (durably, atomically); False when the same bytes are there already."""
    if path.is_file():
        return False
    datafolder.before_write()
    ensure_private_dir(path.parent.parent)
    ensure_private_dir(path.parent)
    temporary = path.with_name(path.name + ".part")
    try:
        with open(temporary, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return True


async def _forget_file(attachments_dir: Path, sha256: str, media_type: str) -> None:
    """Remove a receipt file no expense refers to any more (the same bytes may serve two expenses)."""
    if not await Receipt.exists().where(Receipt.sha256 == sha256):
        _receipt_path(attachments_dir, sha256, logic.kind_of_media_type(media_type)).unlink(missing_ok=True)


async def store_receipt_file(attachments_dir: Path, content: bytes, *, kind: str | None = None
                             ) -> tuple[str, str, bool]:
    """Check and write a receipt's bytes: (sha256, kind, newly written)."""
    kind = kind or logic.receipt_kind(content)
    sha256 = hashlib.sha256(content).hexdigest()
    written = _write_file(_receipt_path(attachments_dir, sha256, kind), content)
    return sha256, kind, written


async def _insert_receipt(expense_id: int, sha256: str, kind: str, size: int, filename: str) -> None:
    count = await Receipt.count().where(Receipt.expense == expense_id)
    if count >= logic.MAX_RECEIPTS:
        raise ValidationFailed([FieldError("file", _("An expense keeps at most %(MAX_RECEIPTS)s receipts", MAX_RECEIPTS=logic.MAX_RECEIPTS))])
    last = await Receipt.select(Receipt.position).where(Receipt.expense == expense_id).order_by(
        Receipt.position, ascending=False).first()
    await Receipt.insert(Receipt(expense=expense_id, position=(last["position"] + 1) if last else 1, sha256=sha256,
                                 filename=logic.upload_filename(filename) or f"receipt.{kind}",
                                 media_type=logic.STORED_TYPES[kind], size=size, created_at=_now()))


async def add_receipt(attachments_dir: Path, expense_id: int, content: bytes, filename: str = "") -> dict[str, Any]:
    current = await get_expense(expense_id)
    logic.check_not_frozen(current["expense_date"], await closed_up_to())
    sha256, kind, written = await store_receipt_file(attachments_dir, content)
    try:
        async with write_transaction():
            current = await get_expense(expense_id)
            logic.check_not_frozen(current["expense_date"], await closed_up_to())
            await _insert_receipt(expense_id, sha256, kind, len(content), filename)
    except BaseException:
        if written:
            await _forget_file(attachments_dir, sha256, logic.STORED_TYPES[kind])
        raise
    return await get_expense(expense_id)


# -- supplier e-invoices in ------------------------------------------------------------------------------

async def import_einvoice(attachments_dir: Path, content: bytes, filename: str = "") -> dict[str, Any]:
    """A draft expense from a supplier's e-invoice, the file kept as its receipt. The vendor is matched by
    tax number, or created. What Counterfoil cannot record as the invoice says (a VAT rate with no tax code
    of the same rate) is written in the draft's import notes, with the totals that differ."""
    invoice = einvoice.read(content)
    rates = await taxes_service.rates_by_code()
    codes: list[str] = []
    amounts: dict[str, Decimal] = {}
    bases: dict[str, Decimal] = {}
    notes: list[str] = []
    for tax in invoice.taxes:
        code = logic.match_tax_code(tax.rate, tax.category, rates)
        if code is None:
            if tax.amount:
                notes.append(f"VAT {tax.category} {tax.rate} % of {tax.amount} {invoice.currency} on {tax.base}: no tax "
                             "code with this rate and category (Settings, Taxes); it is not recorded")
            continue
        if code not in codes:
            codes.append(code)
        amounts[code] = amounts.get(code, Decimal(0)) + tax.amount
        bases[code] = bases.get(code, Decimal(0)) + tax.base
    recorded_total = invoice.tax_exclusive + sum(amounts.values(), Decimal(0))
    if recorded_total != invoice.grand_total:
        notes.append(f"Total recorded {recorded_total}, the invoice's total {invoice.grand_total} {invoice.currency}")
    first = invoice.lines[0].name if invoice.lines else ""
    more = f" (+{len(invoice.lines) - 1} more)" if len(invoice.lines) > 1 else ""
    description = f"{first}{more}" if first else f"Invoice {invoice.number}"
    kind = "pdf" if invoice.container == "pdf" else "xml"
    sha256, kind, written = await store_receipt_file(attachments_dir, content, kind=kind)
    try:
        async with write_transaction():
            vendor = await vendor_by_tax_number(invoice.seller_tax_number)
            if vendor is None and not invoice.seller_tax_number:
                vendor = await Vendor.select().where(
                    WhereRaw("lower(name) = lower({})", invoice.seller_name)).first()
            if vendor is None:
                name = invoice.seller_name or invoice.seller_tax_number
                if await Vendor.exists().where(WhereRaw("lower(name) = lower({})", name)):
                    name = f"{name} ({invoice.seller_tax_number})"
                vendor = await create_vendor({"name": name[:200], "tax_number": invoice.seller_tax_number[:80],
                                              "country": invoice.seller_country if len(invoice.seller_country) == 2
                                              else ""})
            elif await Expense.exists().where((Expense.vendor == vendor["id"])
                                              & (Expense.source_number == invoice.number)):
                raise Conflict(_("Invoice %(number)s of %(name)s is already among the expenses.", number=invoice.number, name=vendor['name']))
            known = {row["code"] for row in await list_categories()}
            category = vendor["default_category"] if vendor["default_category"] in known else \
                ("other" if "other" in known else sorted(known)[0])
            expense = await create_expense({
                "date": invoice.issue_date.isoformat(), "vendor_id": vendor["id"], "category": category,
                "description": description[:500], "currency": invoice.currency, "net": str(invoice.tax_exclusive),
                "taxes": codes, "tax_amounts": {c: str(a) for c, a in amounts.items()} or None,
                "tax_bases": {c: str(a) for c, a in bases.items()} or None,
                "paid_with": "unpaid", "reference": invoice.number[:200],
            }, status="draft", source="einvoice", source_number=invoice.number[:100], import_notes="\n".join(notes))
            await _insert_receipt(expense["id"], sha256, kind, len(content),
                                  filename or f"{invoice.number}.{kind}")
    except BaseException:
        if written:
            await _forget_file(attachments_dir, sha256, logic.STORED_TYPES[kind])
        raise
    return await get_expense(expense["id"])


async def remove_receipt(attachments_dir: Path, expense_id: int, n: int) -> dict[str, Any]:
    async with write_transaction():
        current = await get_expense(expense_id)
        logic.check_not_frozen(current["expense_date"], await closed_up_to())
        rows = await Receipt.select().where(Receipt.expense == expense_id).order_by(Receipt.position)
        if not 1 <= n <= len(rows):
            raise NotFound(_("Receipt %(n)s of expense %(expense_id)s", n=n, expense_id=expense_id))
        await Receipt.delete().where(Receipt.id == rows[n - 1]["id"])
    await _forget_file(attachments_dir, rows[n - 1]["sha256"], rows[n - 1]["media_type"])
    return await get_expense(expense_id)


async def receipt_file(attachments_dir: Path, expense_id: int, n: int) -> tuple[Path, str, str]:
    """The n-th receipt (from 1) of an expense: (path, media type, the name it was uploaded as)."""
    expense = await get_expense(expense_id)
    if not 1 <= n <= len(expense["receipts"]):
        raise NotFound(_("Receipt %(n)s of expense %(expense_id)s", n=n, expense_id=expense_id))
    receipt = expense["receipts"][n - 1]
    path = _receipt_path(attachments_dir, receipt["sha256"], logic.kind_of_media_type(receipt["media_type"]))
    if not path.is_file():
        raise NotFound(_("The file of receipt %(n)s of expense %(expense_id)s", n=n, expense_id=expense_id))
    return path, receipt["media_type"], receipt["filename"]


async def receipt_paths(attachments_dir: Path, expense_ids: Sequence[int]) -> list[tuple[int, int, Path, str]]:
    """(expense id, n, path, file name) of every receipt of these expenses whose file is there."""
    found = []
    receipts = await _receipts_of(expense_ids)
    for expense_id in expense_ids:
        for n, receipt in enumerate(receipts.get(expense_id, []), start=1):
            path = _receipt_path(attachments_dir, receipt["sha256"], logic.kind_of_media_type(receipt["media_type"]))
            if path.is_file():
                found.append((expense_id, n, path, receipt["filename"]))
    return found


# -- billing ------------------------------------------------------------------------------------------

async def unbilled_for(client_id: int, currency: str | None = None) -> list[dict[str, Any]]:
    """Billable recorded expenses of a client not on any invoice yet (or on a cancelled one)."""
    result = await list_expenses(client_id=client_id, billable=True, status="recorded", page=Page(1, 500))
    return [e for e in result.items if e["billed_state"] == "unbilled" and (currency is None or e["currency"] == currency)]


async def document_for_billing(document_id: int) -> dict[str, Any] | None:
    """The few fields of a document the billing panel needs, or None."""
    if not storable_id(document_id):
        return None
    return await Document.select(Document.id, Document.doc_type, Document.status, Document.client,
                                 Document.currency).where(Document.id == document_id).first()


async def on_document(document_id: int) -> list[dict[str, Any]]:
    rows = await _query().where(Expense.billed_document == document_id).order_by(Expense.expense_date)
    return [view(row, [], []) for row in rows]


async def add_to_invoice(document_id: int, expense_ids: Sequence[int], *, actor: int | None = None) -> list[int]:
    """Put billable expenses on a draft invoice as lines, and link them to it (billed when it is issued)."""
    if not expense_ids:
        raise ValidationFailed([FieldError("expense_ids", _("Choose at least one expense to add"))])
    async with write_transaction():
        document = await Document.select().where(Document.id == document_id).first() \
            if storable_id(document_id) else None
        if document is None:
            raise NotFound(_("Document %(document_id)s", document_id=document_id))
        current = await documents_service.get_document(document_id)
        lines = [{"description": ln.description, "quantity": str(ln.quantity), "unit": ln.unit,
                  "unit_price": str(ln.unit_price), "discount_percent": str(ln.discount_percent),
                  "taxes": list(ln.taxes), **({"item_id": ln.item_id} if ln.item_id else {})}
                 for ln in current.lines]
        for expense_id in expense_ids:
            expense = await get_expense(expense_id)
            logic.check_billable_to(expense, document)
            if expense["billed_state"] != "unbilled":
                raise Conflict(_("Expense %(expense_id)s is already on invoice %(value)s.", expense_id=expense_id, value=expense['billed_number'] or '#' + str(expense['billed_document'])))
            lines.append(logic.billing_line(expense, expense.get("vendor_name") or "", expense["net"]))
            await Expense.update({Expense.billed_document: document_id, Expense.updated_at: _now()}).where(
                Expense.id == expense_id)
        await documents_service.update_draft(document_id, {"lines": lines}, actor=actor)
    return list(expense_ids)


async def release(expense_id: int) -> dict[str, Any]:
    """Take an expense off the draft invoice it was put on (the line stays for the user to remove)."""
    async with write_transaction():
        current = await get_expense(expense_id)
        if current["billed_state"] == "billed":
            raise Conflict(_("This expense is billed on invoice %(billed_number)s; credit the invoice instead.", billed_number=current['billed_number']))
        await Expense.update({Expense.billed_document: None, Expense.updated_at: _now()}).where(
            Expense.id == expense_id)
        return await get_expense(expense_id)


async def count_expenses() -> int:
    return await Expense.count()


async def expenses_of_client(client_id: int) -> int:
    """How many expenses are billable to a client (a client with some is not deleted)."""
    return await Expense.count().where(Expense.client == client_id)


clients_service.register_usage_check(expenses_of_client)
