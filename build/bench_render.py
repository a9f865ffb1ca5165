"""Benchmark the PDF renderer (DESIGN.md, "Performance budgets"); builds its own data.

    .venv/bin/python build/bench_render.py [--zip-count 1000] [--out FOLDER] [--service]

Prints the median warm render time of a 20-line invoice (budget 20 ms; with and
without the Factur-X attachment), of a 10-page statement (budget 150 ms), and the
time to build a ZIP of N invoice PDFs on every core (budget 30 s for 1,000 on 2 cores).
The documents are fabricated as the documents service returns them, so the numbers
measure the renderer (data, XML, QR, Typst, XMP), not the database.

`--service` also times the ZIP as the export route makes it (`render.service.documents_zip`:
database reads on the event loop, PDFs on the render threads) in a fresh data folder holding
`counterfoil demo`'s documents, their issued invoices copied until there are --zip-count; once
with an empty PDF cache and once with every PDF already kept.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_results import Results

from app.documents.logic import TaxAmount
from app.documents.records import DocumentView, LineView
from app.money import round_money
from app.render import logic, service

SETTINGS: dict[str, Any] = {
    "name": "Atelier Lumière SARL", "tagline": "Design & development studio", "address_line1": "12 rue des Lilas",
    "address_line2": "", "postal_code": "75011", "city": "Paris", "region": "", "country": "FR",
    "email": "billing@atelier-lumiere.example", "phone": "+33 1 23 45 67 89", "website": "atelier-lumiere.example",
    "registration_number": "RCS Paris 812 345 678", "tax_number": "FR32812345678", "logo_filename": "",
    "bank_account_holder": "Atelier Lumière SARL", "bank_name": "Banque Exemple", "bank_iban": "FR7630006000011234567890189",
    "bank_bic": "AGRIFRPPXXX", "default_locale": "fr_FR", "default_currency": "EUR", "invoice_footer": "",
    "facturx_enabled": True,
}
CLIENT: dict[str, Any] = {
    "code": "C-0042", "name": "Globex Corporation GmbH", "contact_name": "Hanna Schmidt", "email": "ap@globex.example",
    "phone": "", "address_line1": "Friedrichstraße 123", "address_line2": "", "postal_code": "10117",
    "city": "Berlin", "region": "", "country": "DE", "tax_number": "DE123456789", "language": "de",
}
DESCRIPTIONS = ["Website redesign: discovery workshop", "UX research and interviews", "Visual design, home page",
                "Front-end development (React)", "Back-end integration", "Content migration",
                "Accessibility audit (WCAG 2.2)", "Hosting, 12 months", "Project management", "Training session"]


def fabricate_invoice(lines: int = 20, *, number: str = "INV-2026-0042", status: str = "issued",
                      client: dict[str, Any] | None = None, currency: str = "EUR", tax_rate: str = "20",
                      category: str = "S", scale: Decimal = Decimal(1), paid: Decimal = Decimal(0),
                      doc_type: str = "invoice", document_id: int = 42, discount: bool = True) -> DocumentView:
    """A document as documents.service.get_document returns it, totals computed exactly."""
    client = dict(CLIENT if client is None else client)
    rows, subtotal = [], Decimal(0)
    for i in range(lines):
        quantity = Decimal(1 + i % 5) if i % 3 else Decimal("7.5")
        price = (Decimal(85) + Decimal(i * 15)) * scale
        line_discount = Decimal(10) if discount and i % 7 == 3 else Decimal(0)
        net = round_money(quantity * price * (100 - line_discount) / 100, currency)
        subtotal += net
        rows.append(LineView(position=i + 1, item_id=None, description=DESCRIPTIONS[i % len(DESCRIPTIONS)]
                             + (f" (phase {i // len(DESCRIPTIONS) + 1})" if i >= len(DESCRIPTIONS) else ""),
                             quantity=quantity, unit="h" if i % 3 else "day", unit_price=price,
                             discount_percent=line_discount, taxes=("VAT",), net=net))
    rate = Decimal(tax_rate)
    tax = round_money(subtotal * rate / 100, currency)
    total = subtotal + tax
    issued_at = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
    issued = status != "draft"
    return DocumentView(
        id=document_id, doc_type=doc_type, number=number if issued else None, status=status, shown_status=status,
        client_id=1, client_name=client["name"], client_code=client.get("code", ""), currency=currency,
        issue_date=date(2026, 3, 12), due_date=date(2026, 4, 11) if doc_type == "invoice" else None,
        valid_until=date(2026, 4, 11) if doc_type == "quote" else None, terms_days=30,
        discount_percent=Decimal(0), notes="Thank you for your business.", terms="Payment within 30 days.",
        footer="", subtotal=subtotal, tax_total=tax, total=total, paid=paid, credited=Decimal(0),
        balance=total - paid if doc_type == "invoice" else Decimal(0),
        taxes=(TaxAmount(code="VAT", name=f"VAT {tax_rate} %", rate=rate, base=subtotal, amount=tax,
                         compound=False, category=category,
                         note=logic.EXEMPTION_REASONS.get(category, "") if category != "S" else ""),),
        snapshot={"business": {k: SETTINGS.get(k, "") for k in (
            "name", "tagline", "address_line1", "address_line2", "postal_code", "city", "region", "country", "email",
            "phone", "website", "registration_number", "tax_number", "logo_filename", "bank_account_holder",
            "bank_name", "bank_iban", "bank_bic")}, "client": client} if issued else None,
        invoice_id=None, invoice_number=None, source_quote_id=None, source_quote_number=None,
        converted_invoice_id=None, converted_invoice_number=None, duplicated_from=None, cancel_reason="",
        issued_at=issued_at if issued else None, sent_at=None, cancelled_at=None, decided_at=None,
        created_at=issued_at, updated_at=issued_at, created_by=None, lines=tuple(rows),
    )


STATEMENT_ENTRIES = 370  # ten A4 pages


def fabricate_statement(entries: int = STATEMENT_ENTRIES) -> dict[str, Any]:
    """A statement with `entries` ledger lines (about 37 a page)."""
    start = date(2025, 1, 1)
    rows, balance = [], Decimal("1250.00")
    for i in range(entries):
        day = start + timedelta(days=i)
        if i % 3 == 2:
            amount = Decimal(400 + (i % 7) * 35)
            balance -= amount
            rows.append({"date": day, "kind": "payment", "number": f"PAY-{i:05d}", "description": "Bank transfer",
                         "debit": "0", "credit": str(amount), "balance": str(balance)})
        else:
            amount = Decimal(600 + (i % 11) * 42) + Decimal("0.50")
            balance += amount
            rows.append({"date": day, "kind": "invoice", "number": f"INV-2025-{i:04d}",
                         "description": DESCRIPTIONS[i % len(DESCRIPTIONS)], "debit": str(amount), "credit": "0",
                         "balance": str(balance)})
    return {"client": CLIENT, "currency": "EUR", "period_from": start, "period_to": start + timedelta(days=entries),
            "date": start + timedelta(days=entries), "opening_balance": "1250.00", "entries": rows,
            "closing_balance": str(balance),
            "aging": {"current": "1200.00", "1_30": "800.00", "31_60": "350.50", "61_90": "0", "over_90": "120.00"}}


CPU_TIMES: list[float] = []


def _median_ms(function, repeat: int) -> float:
    """Median wall time; the median CPU time of the same runs goes to CPU_TIMES (a loaded
    machine stretches wall time, CPU time much less)."""
    function()  # warm: compiler, fonts, templates
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    CPU_TIMES.append(statistics.median(cpu))
    return statistics.median(times)


def gil_share(jobs: list[Any]) -> tuple[float, float]:
    """Whether the renderer lets other threads run (the ZIP's worker threads then use every core): a
    pure-Python counter in a second thread counts while `jobs` render, then while the thread sleeps as
    long. Returns the ratio of the two counts (near 1: Typst releases the GIL while it compiles; near
    0: it holds it) and the render time."""
    import threading

    def count_while(work) -> tuple[int, float]:
        stop, counted = threading.Event(), []

        def counter() -> None:
            n = 0
            while not stop.is_set():
                n += 1
            counted.append(n)
        thread = threading.Thread(target=counter)
        thread.start()
        start = time.perf_counter()
        work()
        elapsed = time.perf_counter() - start
        stop.set()
        thread.join()
        return counted[0], elapsed

    rendering, elapsed = count_while(lambda: [service.render_job_sync(job) for job in jobs])
    sleeping, _ = count_while(lambda: time.sleep(elapsed))
    return rendering / max(1, sleeping), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip-count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None, help="keep sample PDFs here")
    parser.add_argument("--service", action="store_true", help="also time the export route's ZIP on a real database")
    parser.add_argument("--json", type=Path, help="also write the numbers here (build/bench_compare.py)")
    args = parser.parse_args()
    results = Results("bench_render")

    invoice = fabricate_invoice(20)

    def invoice_pdf(facturx: bool = True) -> bytes:
        settings = {**SETTINGS, "facturx_enabled": facturx}
        job = service.document_job(invoice, settings, None, attachments_dir=None)
        return service.render_job_sync(job)

    with_xml = _median_ms(lambda: invoice_pdf(True), args.repeat)
    without_xml = _median_ms(lambda: invoice_pdf(False), args.repeat)
    # A different invoice each time (new numbers, client, amounts): Typst's memoisation cannot reuse the layout.
    others = iter([fabricate_invoice(20, number=f"INV-2026-{i:04d}", document_id=i, scale=Decimal(1) + Decimal(i) / 100)
                   for i in range(args.repeat + 1)])
    distinct = _median_ms(lambda: service.render_job_sync(service.document_job(
        next(others), SETTINGS, None, attachments_dir=None)), args.repeat)
    statement = fabricate_statement(STATEMENT_ENTRIES)
    statement_pdf = service.statement_pdf_sync(statement, SETTINGS)
    pages = statement_pdf.count(b"/Type /Page\n") or statement_pdf.count(b"/Type/Page/") or _pages(statement_pdf)
    statement_ms = _median_ms(lambda: service.statement_pdf_sync(statement, SETTINGS), max(5, args.repeat // 3))
    cpu = dict(zip(("with_xml", "without_xml", "distinct", "statement"), CPU_TIMES, strict=False))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    print(f"(load average {load:.1f} on {os.cpu_count()} cores; CPU time in brackets)")
    print(f"invoice, 20 lines, PDF/A-3 + Factur-X, same invoice again: median {with_xml:6.1f} ms "
          f"[{cpu['with_xml']:5.1f}] (budget 20 ms)")
    print(f"invoice, 20 lines, plain PDF, same invoice again:          median {without_xml:6.1f} ms "
          f"[{cpu['without_xml']:5.1f}]")
    print(f"invoice, 20 lines, PDF/A-3 + Factur-X, a new invoice each: median {distinct:6.1f} ms [{cpu['distinct']:5.1f}]")
    print(f"statement, {pages} pages:                                     median {statement_ms:6.1f} ms "
          f"[{cpu['statement']:5.1f}] (budget 150 ms)")

    results.add("invoice 20 lines PDF/A-3 + Factur-X, same again", with_xml)
    results.add("invoice 20 lines plain PDF, same again", without_xml)
    results.add("invoice 20 lines PDF/A-3 + Factur-X, a new one each", distinct)
    results.add(f"statement {pages} pages", statement_ms)
    gil_jobs = [service.document_job(fabricate_invoice(20, number=f"INV-2026-{i:04d}", document_id=i), SETTINGS, None,
                                     attachments_dir=None) for i in range(1, 21)]
    ratio, _ = gil_share(gil_jobs)
    print(f"a Python thread beside the renders runs at {ratio:.0%} of its speed alone "
          f"({'Typst releases the GIL: threads use every core' if ratio > 0.5 else 'Typst holds the GIL: use processes'})")
    results.add("Python thread beside renders, share of its speed", ratio, "ratio", higher_is_better=True)
    workers = service._workers()
    documents = [fabricate_invoice(20, number=f"INV-2026-{i:04d}", document_id=i) for i in range(1, args.zip_count + 1)]
    with tempfile.TemporaryDirectory() as folder:
        start, start_cpu = time.perf_counter(), time.process_time()
        path = Path(folder) / "invoices.zip"
        with ThreadPoolExecutor(max_workers=workers) as pool, zipfile.ZipFile(path, "w") as archive:
            # As the service does it: data, XML, QR and PDF built in the worker threads.
            inputs = [service.DocumentInputs(document=d, settings=SETTINGS, client=None, attachments_dir=None)
                      for d in documents]
            for item, pdf in zip(inputs, pool.map(service.build_and_render_sync, inputs), strict=False):
                archive.writestr(item.filename, pdf)
        elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        size = path.stat().st_size
    print(f"ZIP of {args.zip_count} invoice PDFs on {workers} threads ({os.cpu_count()} cores): "
          f"{elapsed:6.2f} s [CPU {elapsed_cpu:.1f} s], {size / 1e6:.1f} MB (budget 30 s for 1,000 on 2 cores)")
    results.add(f"ZIP of {args.zip_count} invoice PDFs", elapsed, "s")
    results.write(args.json)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "invoice-20.pdf").write_bytes(invoice_pdf(True))
        (args.out / "statement.pdf").write_bytes(statement_pdf)
    if args.service:
        service_zip(args.zip_count)


def service_zip(count: int) -> None:
    """The export route's ZIP of `count` issued invoices against a real SQLite data folder."""
    import asyncio
    import shutil
    import sqlite3

    from app import demo
    from app.config import Config
    from app.db.lifecycle import open_database

    folder = Path(tempfile.mkdtemp(prefix="bench-render-"))
    try:
        config = Config.for_data_dir(folder)

        async def build() -> None:
            await open_database(config)
            await demo.fill(config)
        asyncio.run(build())
        connection = sqlite3.connect(config.database_path)
        issued = [row[0] for row in connection.execute(
            "SELECT id FROM document WHERE doc_type = 'invoice' AND number IS NOT NULL ORDER BY id")]
        have = len(issued)
        document_columns = [r[1] for r in connection.execute("PRAGMA table_info(document)") if r[1] != "id"]
        line_columns = [r[1] for r in connection.execute("PRAGMA table_info(document_line)")
                        if r[1] not in ("id", "document")]
        for n in range(max(0, count - have)):
            source = issued[n % have]
            values = connection.execute(f"SELECT {', '.join(document_columns)} FROM document WHERE id = ?",
                                        (source,)).fetchone()
            row = dict(zip(document_columns, values, strict=False))
            row["number"] = f"BENCH-{n + 1:05d}"
            cursor = connection.execute(f"INSERT INTO document ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                        tuple(row.values()))
            connection.execute(f"INSERT INTO document_line (document, {', '.join(line_columns)}) "
                               f"SELECT ?, {', '.join(line_columns)} FROM document_line WHERE document = ?",
                               (cursor.lastrowid, source))
        connection.commit()
        total, lines = connection.execute(
            "SELECT COUNT(*), (SELECT COUNT(*) FROM document_line JOIN document d ON d.id = document_line.document "
            "WHERE d.doc_type = 'invoice' AND d.number IS NOT NULL) FROM document "
            "WHERE doc_type = 'invoice' AND number IS NOT NULL").fetchone()
        connection.close()

        async def export() -> tuple[float, float, int]:
            await open_database(config)
            start, start_cpu = time.perf_counter(), time.process_time()
            path, exported = await service.documents_zip("invoice", data_dir=folder)
            path.unlink()
            return time.perf_counter() - start, time.process_time() - start_cpu, exported
        for label in ("no document of record yet (each made on first use)", "every document of record kept"):
            elapsed, elapsed_cpu, exported = asyncio.run(export())
            print(f"export route's ZIP of {exported} issued invoices ({lines / total:.1f} lines each on average), "
                  f"{label}: {elapsed:6.2f} s [CPU {elapsed_cpu:.1f} s]")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _pages(pdf: bytes) -> int:
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


if __name__ == "__main__":
    main()
