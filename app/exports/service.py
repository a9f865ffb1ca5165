"""CSV exports of the lists, and the accountant's package (a ZIP for a period), with its
monthly schedule that catches up at start."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.audit import service as audit_service
from app.background import Periodic
from app.clients import service as clients_service
from app.clients.records import ClientView
from app.common.i18n import _
from app.common.logic import FieldError, Page, ValidationFailed, filename_part, period_problems
from app.config import Config
from app.documents import service as documents_service
from app.documents.logic import CREDIT_NOTE, INVOICE
from app.documents.records import DocumentView
from app.expenses import package as expenses_package
from app.exports import logic
from app.mail import logic as mail_logic
from app.mail import service as mail_service
from app.payments import service as payments_service
from app.projects import service as projects_service
from app.receivables import service as receivables_service
from app.render import service as render_service
from app.reports import service as reports_service
from app.settings import service as settings_service

log = logging.getLogger("counterfoil.exports")
BATCH = 500
ZIP_DATE = (2000, 1, 1, 0, 0, 0)
SCHEDULER_FIRST_CHECK_S = 20.0
SCHEDULER_INTERVAL_S = 3600.0
SCHEDULER_AUTOSTART = True


# -- paging through the lists --------------------------------------------------------------

async def _pages(fetch: Any) -> AsyncIterator[Any]:
    number = 1
    while True:
        result = await fetch(Page(number, BATCH))
        for row in result.items:
            yield row
        if number * BATCH >= result.total or not result.items:
            return
        number += 1


async def _clients_by_id() -> dict[int, ClientView]:
    return {client.id: client async for client in _pages(
        lambda page: clients_service.list_clients(status="all", page=page))}


# -- the list exports -----------------------------------------------------------------------

async def clients_csv(*, q: str = "", status: str = "active", sort: str = "name", descending: bool = False) -> bytes:
    rows = [logic.client_row(row) async for row in _pages(
        lambda page: clients_service.list_clients(q=q, status=status, sort=sort, descending=descending, page=page))]
    return logic.csv_bytes(logic.CLIENT_COLUMNS, rows)


async def documents_csv(doc_type: str, *, status: str = "", client_id: int | None = None, q: str = "",
                        date_from: date | None = None, date_to: date | None = None, sort: str = "date",
                        descending: bool = True) -> bytes:
    clients = await _clients_by_id()
    rows = []
    async for document in _pages(lambda page: documents_service.list_documents(
            doc_type, status=status, client_id=client_id, q=q, date_from=date_from, date_to=date_to, sort=sort,
            descending=descending, page=page)):
        client = clients.get(document.client_id)
        code = client.code if client else ""
        rows.append(logic.credit_note_row(document, client_code=code) if doc_type == CREDIT_NOTE else
                    logic.document_row(document, client_code=code, client_name=document.client_name,
                                       client_tax_number=client.tax_number if client else ""))
    return logic.csv_bytes(logic.CREDIT_NOTE_COLUMNS if doc_type == CREDIT_NOTE else logic.DOCUMENT_COLUMNS, rows)


async def payments_csv(*, client_id: int | None = None, method: str = "", state: str = "",
                       date_from: date | None = None, date_to: date | None = None) -> bytes:
    rows = [logic.payment_row(row) async for row in _pages(lambda page: payments_service.list_payments(
        client_id=client_id, method=method, state=state, date_from=date_from, date_to=date_to, page=page))]
    return logic.csv_bytes(logic.PAYMENT_COLUMNS, rows)


async def aging_csv(as_of: date | None = None) -> bytes:
    """Every client of the receivables aging (the page shows them a hundred at a time)."""
    rows = await receivables_service.aging_report(as_of or await settings_service.today())
    return logic.csv_bytes(logic.AGING_COLUMNS, [logic.aging_row(row) for row in rows])


# -- the accountant's package -------------------------------------------------------------------

def check_period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    errors = period_problems(date_from, date_to)
    if errors:
        raise ValidationFailed(errors)
    if date_from is None:
        errors.append(FieldError("from", _("from: the first day of the period (YYYY-MM-DD) is required")))
    if date_to is None:
        errors.append(FieldError("to", _("to: the last day of the period (YYYY-MM-DD) is required")))
    if date_from and date_to and date_to < date_from:
        errors.append(FieldError("to", _("The end of the period is before its start")))
    if date_from and date_to and (date_to - date_from).days > 3 * 366 + 1:
        errors.append(FieldError("to", _("A package covers at most three years; make several")))
    if errors:
        raise ValidationFailed(errors)
    assert date_from and date_to
    return date_from, date_to


def package_filename(business: str, date_from: date, date_to: date) -> str:
    name = filename_part(business or "counterfoil").lower() or "counterfoil"
    return f"{name}-bookkeeping-{date_from.isoformat()}-{date_to.isoformat()}.zip"


async def _issued(doc_type: str, date_from: date, date_to: date) -> list[DocumentView]:
    """Every document of the type issued in the period, in full (lines, taxes), oldest first."""
    ids = [row.id async for row in _pages(lambda page: documents_service.list_documents(
        doc_type, date_from=date_from, date_to=date_to, sort="date", descending=False, page=page))
        if row.status != "draft"]
    return [await documents_service.get_document(i) for i in ids]


def _put(archive: zipfile.ZipFile, name: str, content: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, content)


async def _copy_pdfs(archive: zipfile.ZipFile, doc_type: str, folder: str, date_from: date, date_to: date,
                     data_dir: Path) -> int:
    """The PDFs through app.render's ZIP of a filtered list (rendered in parallel, cached)."""
    path, count = await render_service.documents_zip(doc_type, date_from=date_from, date_to=date_to, data_dir=data_dir)
    try:
        with zipfile.ZipFile(path) as source:
            for info in source.infolist():
                _put(archive, f"{folder}/{info.filename}", source.read(info))
    finally:
        path.unlink(missing_ok=True)
    return count


async def accountant_package(date_from: date | None, date_to: date | None, *, data_dir: Path,
                             include_time: bool = False) -> tuple[bytes, str]:
    """The ZIP: CSVs, the period's PDFs and Factur-X XML, summary.pdf and README.txt; with `include_time`, the
    period's time entries too (time_entries.csv, when the user ticks it). Returns (bytes, file name)."""
    date_from, date_to = check_period(date_from, date_to)
    settings = await settings_service.get_settings()
    invoices = await _issued(INVOICE, date_from, date_to)
    credit_notes = await _issued(CREDIT_NOTE, date_from, date_to)
    clients = await _clients_by_id()
    payments = [row async for row in _pages(lambda page: payments_service.list_payments(
        date_from=date_from, date_to=date_to, page=page))]
    aging = await receivables_service.aging_report(date_to)
    tables = {
        "clients.csv": (logic.CLIENT_COLUMNS, [logic.client_row(c) for c in clients.values()]),
        "invoices.csv": (logic.DOCUMENT_COLUMNS, [logic.issued_document_row(d) for d in invoices]),
        "invoice_lines.csv": (logic.LINE_COLUMNS, [r for d in invoices for r in logic.line_rows(d)]),
        "credit_notes.csv": (logic.CREDIT_NOTE_COLUMNS,
                             [logic.credit_note_row(d, client_code=d.client_code) for d in credit_notes]),
        "payments.csv": (logic.PAYMENT_COLUMNS, [logic.payment_row(p) for p in payments]),
        "tax_summary.csv": (logic.TAX_COLUMNS, logic.tax_summary([*invoices, *credit_notes])),
        "aging.csv": (logic.AGING_COLUMNS, [logic.aging_row(a) for a in aging]),
    }
    counts = {name: len(rows) for name, (_, rows) in tables.items()}
    time_file = await projects_service.time_csv(date_from, date_to) if include_time else None
    # The cost side (app.expenses): expenses.csv, receipts/, the profit and loss and the tax return.
    expense_files, expense_readme = await expenses_package.package_files(date_from, date_to, data_dir / "attachments")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        readme = logic.readme(business=settings.get("name") or "", date_from=date_from, date_to=date_to,
                              generated=_local_now(settings.get("time_zone")), counts=counts)
        if time_file is not None:
            readme += time_file.readme
        readme += expense_readme.replace("\n", "\r\n")
        _put(archive, "README.txt", readme.encode("utf-8"))
        for name, (columns, rows) in tables.items():
            _put(archive, name, logic.csv_bytes(columns, rows))
        if time_file is not None:
            _put(archive, "time_entries.csv", time_file.content)
        for name, content in expense_files:
            _put(archive, name, content)
        pdfs = await _copy_pdfs(archive, INVOICE, "pdf/invoices", date_from, date_to, data_dir)
        pdfs += await _copy_pdfs(archive, CREDIT_NOTE, "pdf/credit_notes", date_from, date_to, data_dir)
        xml_count = 0
        for document in [*invoices, *credit_notes]:
            xml = await render_service.document_xml(document.id)
            if xml is not None:
                _put(archive, f"xml/{mail_logic.safe_filename(document.number or str(document.id))}.xml", xml)
                xml_count += 1
        report = await reports_service.revenue("month", date_from, date_to)
        files = {**counts, "PDF files": pdfs, "XML files": xml_count}
        _put(archive, "summary.pdf", await reports_service.summary_pdf(report, title="Bookkeeping package",
                                                                        files=files))
    return out.getvalue(), package_filename(settings.get("name") or "", date_from, date_to)


async def send_accountant_package(date_from: date | None, date_to: date | None, data: Mapping[str, Any], *,
                                  data_dir: Path, actor: int | None = None, include_time: bool = False
                                  ) -> dict[str, Any]:
    """Queue the package for the accountant (or `to`); 422 when no address is known."""
    date_from, date_to = check_period(date_from, date_to)
    mail = await mail_service.get_mail_settings()
    if not (data.get("to") or mail.get("accountant_email")):
        raise ValidationFailed([FieldError("to", _("To: no accountant's email in Settings, Email; enter an address"))])
    content, filename = await accountant_package(date_from, date_to, data_dir=data_dir, include_time=include_time)
    settings = await settings_service.get_settings()
    subject, body = await mail_service.template_for("accountant", {
        "business_name": settings.get("name") or "", "period": f"{date_from.isoformat()} to {date_to.isoformat()}"})
    return await mail_service.send_with_attachments(
        "accountant", data, defaults={"to": mail.get("accountant_email") or "", "subject": subject, "message": body},
        attachments=[mail_logic.Attachment(filename, "application/zip", content)], actor=actor)


# -- the monthly schedule ----------------------------------------------------------------------

async def run_schedule_if_due(config: Config) -> list[str]:
    """Send every month's package that is due and not sent yet (catching up after the app was closed)."""
    mail = await mail_service.get_mail_settings()
    if mail["accountant_schedule"] != "monthly" or not mail["accountant_email"]:
        return []
    today = await settings_service.today()
    sent = []
    for key in logic.due_periods(today, mail["accountant_last_period"], mail["accountant_day"]):
        start, end = logic.month_bounds(int(key[:4]), int(key[5:7]))
        await send_accountant_package(start, end, {}, data_dir=config.data_dir)
        await mail_service.set_accountant_last_period(key)
        log.info("accountant's package for %s queued on schedule", key)
        sent.append(key)
    return sent


class Scheduler:
    """Checks at start (after a short pause) and every hour whether a monthly package is due."""

    def __init__(self, config: Config):
        self.config = config
        self.periodic = Periodic("the accountant's package schedule",
                                 lambda: audit_service.as_system("accountant package", run_schedule_if_due(config)),
                                 first_delay_s=SCHEDULER_FIRST_CHECK_S, interval_s=SCHEDULER_INTERVAL_S)

    async def start(self) -> None:
        if SCHEDULER_AUTOSTART:
            self.periodic.start()

    async def stop(self) -> None:
        await self.periodic.stop()


def _local_now(zone_name: str | None) -> str:
    """Now in the business's time zone, named: "2026-12-05 09:00 America/Toronto" (times are stored in UTC and
    shown where the business is)."""
    try:
        zone = ZoneInfo(zone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone, zone_name = ZoneInfo("UTC"), "UTC"
    return f"{datetime.now(UTC).astimezone(zone):%Y-%m-%d %H:%M} {zone_name or 'UTC'}"
