"""What the accountant's package (app.exports) carries of the cost side: expenses.csv, the receipts,
the profit and loss and the tax return of the period (CSV and PDF), and their README section."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from app.common.logic import Page, csv_bytes, filename_part
from app.expenses import reports, service

EXPENSE_COLUMNS = ("id", "date", "vendor", "vendor_tax_number", "categories", "description", "reference", "currency",
                   "net", "tax", "deductible_tax", "total", "taxes", "paid_with", "paid_on", "billable_to",
                   "billed_invoice", "receipts")

README = """expenses.csv ({count} rows): the expenses recorded in the period (by their date; imported drafts not
yet checked are left out). categories: each category and its net ("office:60.00; software:40.50");
taxes: each input tax as code:amount:deductible part; receipts: their files under receipts/.
receipts/: each expense's receipt files, named <expense id>-<n>-<name as uploaded>.
profit-loss.pdf, profit-loss.csv: revenue (before tax) against expenses per month and per category,
accrual basis, and the profit.
tax-return.pdf, tax-return.csv: the tax return of the period ({form}), each figure keyed by the form's
own line or box number.
"""


async def package_files(date_from: date, date_to: date, attachments_dir: Path) -> tuple[list[tuple[str, bytes]], str]:
    """(name, content) of each file to add, and the README's section about them."""
    result = await service.list_expenses(date_from=date_from, date_to=date_to, status="recorded",
                                         page=Page(1, 1_000_000))
    expenses = sorted(result.items, key=lambda e: (e["date"], e["id"]))
    files: list[tuple[str, bytes]] = []
    receipt_names: dict[int, list[str]] = {}
    for expense_id, n, path, filename in await service.receipt_paths(attachments_dir, [e["id"] for e in expenses]):
        stem = filename_part(filename.rsplit(".", 1)[0], 60) or "receipt"
        name = f"receipts/{expense_id}-{n}-{stem}{path.suffix}"
        receipt_names.setdefault(expense_id, []).append(name.removeprefix("receipts/"))
        files.append((name, path.read_bytes()))
    rows = [[e["id"], e["date"].isoformat(), e["vendor_name"] or "", (await _vendor_tax_number(e)),
             "; ".join(f"{s['category']}:{s['net']}" for s in e["splits"]), e["description"], e["reference"],
             e["currency"], str(e["net"]), str(e["tax_total"]), str(e["deductible_tax"]), str(e["total"]),
             "; ".join(f"{t['code']}:{t['amount']}:{t['deductible']}" for t in e["tax_lines"]), e["paid_with"],
             e["paid_on"].isoformat() if e["paid_on"] else "", e["client_name"] or "" if e["billable"] else "",
             e["billed_number"] if e["billed_state"] == "billed" else "", "; ".join(receipt_names.get(e["id"], []))]
            for e in expenses]
    pnl = await reports.profit_and_loss(date_from, date_to, "accrual")
    tax = await reports.tax_return(None, date_from, date_to)
    files = [("expenses.csv", csv_bytes(EXPENSE_COLUMNS, rows)), *files,
             ("profit-loss.csv", reports.pnl_csv(pnl)), ("profit-loss.pdf", await reports.pnl_pdf(pnl)),
             ("tax-return.csv", reports.tax_csv(tax)), ("tax-return.pdf", await reports.tax_pdf(tax))]
    return files, README.format(count=len(rows), form=tax.title)



async def _vendor_tax_number(expense: dict[str, Any]) -> str:
    if expense["vendor"] is None:
        return ""
    return (await service.get_vendor(expense["vendor"]))["tax_number"]
