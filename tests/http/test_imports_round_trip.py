"""The round trip: `counterfoil demo`, every CSV export, imported into an empty folder, gives the same
lists back (clients, invoices, credit notes, payments) and `counterfoil check` holds on both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app import demo
from app.clients import service as clients_service
from app.common.logic import Page
from app.config import Config
from app.db.lifecycle import close_database, open_database
from app.documents import service as documents_service
from app.exports import logic as exports_logic
from app.exports import service as exports_service
from app.imports import service as imports_service
from app.integrity.service import run_checks
from app.payments import service as payments_service
from app.settings import service as settings_service
from app.taxes import service as taxes_service
from tests.conftest import run

ALL = Page(1, 10_000)


async def lists() -> dict[str, list[tuple[Any, ...]]]:
    clients = (await clients_service.list_clients(status="all", page=ALL)).items
    invoices = (await documents_service.list_documents("invoice", page=ALL)).items
    notes = (await documents_service.list_documents("credit_note", page=ALL)).items
    payments = (await payments_service.list_payments(page=ALL)).items
    return {
        "clients": sorted((c.code, c.name, c.status, c.email, c.phone, c.city, c.country, c.currency, c.tax_number,
                           c.language) for c in clients),
        "invoices": sorted((d.number, d.shown_status, d.issue_date, d.due_date, d.client_name, d.currency, d.subtotal,
                            d.tax_total, d.total, d.paid, d.credited, d.balance) for d in invoices if d.number),
        "credit_notes": sorted((d.number, d.issue_date, d.invoice_number, d.client_name, d.total) for d in notes
                               if d.number),
        "payments": sorted((p.payment_date, p.invoice_number, p.client_name, p.amount, p.applied, p.excess, p.method,
                            p.reference, p.status) for p in payments),
    }


async def export_everything(folder: Path) -> None:
    """Every CSV the Exports page offers, and the invoice lines of the accountant's package."""
    folder.mkdir()
    (folder / "clients.csv").write_bytes(await exports_service.clients_csv(status="all"))
    (folder / "invoices.csv").write_bytes(await exports_service.documents_csv("invoice"))
    (folder / "credit_notes.csv").write_bytes(await exports_service.documents_csv("credit_note"))
    (folder / "payments.csv").write_bytes(await exports_service.payments_csv())
    issued = [row.id for row in (await documents_service.list_documents("invoice", page=ALL)).items if row.number]
    documents = [await documents_service.get_document(i) for i in issued]
    (folder / "invoice_lines.csv").write_bytes(exports_logic.csv_bytes(
        exports_logic.LINE_COLUMNS, [r for d in documents for r in exports_logic.line_rows(d)]))


def test_demo_exported_and_imported_into_an_empty_folder_gives_the_same_lists(config: Config, tmp_path: Path):
    run(demo.fill(config, clients=8, invoices=30))
    assert [str(b) for b in run_checks(config.database_path)] == []
    before = run(lists())
    exported = tmp_path / "export"
    run(export_everything(exported))
    run(close_database())

    empty = Config(data_dir=tmp_path / "empty")
    empty.data_dir.mkdir()

    async def import_into_empty() -> tuple[dict[str, Any], dict[str, list[tuple[Any, ...]]]]:
        await open_database(empty)
        # What a new folder is given first: the business's currency and its taxes (the export names them).
        await settings_service.update_settings({"default_currency": "CAD", "time_zone": "America/Toronto"})
        await taxes_service.apply_preset("canada")
        await taxes_service.apply_preset("germany")
        files = imports_service.files_of(exported)
        job = await imports_service.create_preview(files, data_dir=empty.data_dir)
        assert job["preview"]["can_apply"] and not job["preview"]["counts"]["confirmations"], job["preview"]["problems"][:5]
        assert {f["source"] for f in job["preview"]["files"]} == {"counterfoil"}
        await imports_service.apply(job["id"], data_dir=empty.data_dir)
        return job, await lists()
    try:
        _job, after = run(import_into_empty())
    finally:
        run(close_database())
    for name in before:
        assert after[name] == before[name], name
    assert [str(b) for b in run_checks(empty.database_path)] == []
    run(open_database(config))   # the fixture's folder, for its teardown
