"""Benchmark the PDF renderer (DESIGN.md, "Performance budgets"; issue 21); builds its own data.

    .venv/bin/python build/bench_render.py [--zip-count 1000] [--repeat 50] [--out FOLDER] [--json FILE]
                                           [--processes] [--no-service] [--engines counterfoil,weasyprint,chromium]

Prints, in one run:
- a fresh 20-line invoice (PDF/A-3 + Factur-X, a new invoice each time: data, XML, QR, Typst, XMP) beside
  the same invoice as HTML (build/fixtures/invoice-20.html, written once: same strings, fonts and layout
  idea) printed by WeasyPrint and by a warm headless Chromium (Playwright): p50/p99 wall ms and the
  ratios (budget 20 ms; WeasyPrint and Playwright are dev dependencies only);
- the same invoice again, a plain PDF, and a 10-page statement (budget 150 ms);
- whether Typst releases the GIL, and a ZIP of --zip-count fresh 20-line invoices on every core
  (worker threads; `--processes` also on a process pool, to compare) (budget 10 s for 1,000);
- the export route's ZIP (`render.service.documents_zip`: database reads on the event loop, PDFs on
  the render threads, each issued document's stored PDF once it has one) in a fresh data folder holding
  `counterfoil demo`'s documents, their issued invoices copied until there are --zip-count: once before
  any document of record is kept (each made on first use) and once with every one kept (budget 2 s).
The documents are fabricated as the documents service returns them, so the render numbers measure
the renderer, not the database.
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


HTML_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "invoice-20.html"
FIXTURE_NUMBER = "INV-2026-0042"   # the number in the fixture; each HTML render gets its own
CHROMIUM = os.environ.get("COUNTERFOIL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


FRESH_CPU: dict[str, float] = {}   # engine -> median CPU ms of its fresh renders (in this process)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def fresh_counterfoil(repeat: int) -> list[float]:
    """Wall ms of a fresh 20-line invoice, a different one each time (numbers, amounts: nothing of the
    previous layout can be reused), PDF/A-3 with the Factur-X XML, the whole way: data, XML, QR, Typst, XMP."""
    documents = [fabricate_invoice(20, number=f"INV-2026-{9000 + i:04d}", document_id=9000 + i,
                                   scale=Decimal(1) + Decimal(i) / 997) for i in range(repeat + 1)]
    service.render_job_sync(service.document_job(documents[0], SETTINGS, None, attachments_dir=None))  # warm
    times, cpu = [], []
    for document in documents[1:]:
        start, start_cpu = time.perf_counter(), time.process_time()
        service.render_job_sync(service.document_job(document, SETTINGS, None, attachments_dir=None))
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    FRESH_CPU["Counterfoil (Typst)"] = statistics.median(cpu)
    return times


def _html_variants(repeat: int) -> list[str]:
    html = HTML_FIXTURE.read_text(encoding="utf-8")
    return [html.replace(FIXTURE_NUMBER, f"INV-2026-{8000 + i:04d}") for i in range(repeat + 1)]


def fresh_weasyprint(repeat: int) -> list[float] | None:
    """Wall ms of the HTML invoice printed by WeasyPrint (fonts from the bundled folder)."""
    try:
        import weasyprint
    except ImportError:
        return None
    times, cpu = [], []
    for i, html in enumerate(_html_variants(repeat)):
        start, start_cpu = time.perf_counter(), time.process_time()
        weasyprint.HTML(string=html, base_url=str(HTML_FIXTURE)).write_pdf()
        if i:
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
    FRESH_CPU["WeasyPrint (HTML)"] = statistics.median(cpu)
    return times


def fresh_chromium(repeat: int) -> list[float] | None:
    """Wall ms of the HTML invoice printed by a warm headless Chromium: the page is loaded once (fonts
    and all); each render changes the invoice number in the page and prints it."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(HTML_FIXTURE.as_uri())
            page.evaluate("document.fonts.ready")
            for i in range(repeat + 1):
                start = time.perf_counter()
                page.evaluate("n => { for (const e of document.querySelectorAll('.number, td')) "
                              "if (e.textContent.startsWith('INV-')) e.textContent = n; }", f"INV-2026-{8000 + i:04d}")
                page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
                if i:
                    times.append((time.perf_counter() - start) * 1000)
        finally:
            browser.close()
    return times


def _render_in_process(item: service.DocumentInputs) -> bytes:
    return service.build_and_render_sync(item)


def fresh_zip(count: int, *, processes: bool) -> tuple[float, float, int]:
    """A ZIP of `count` fresh 20-line invoices made on every core, as the export route makes it (data, XML,
    QR and PDF built in the workers, written into the ZIP in order): (seconds, CPU seconds of this
    process and its workers, bytes). `processes`: a process pool instead of the threads (its start is counted)."""
    workers = service._workers()
    documents = [fabricate_invoice(20, number=f"INV-2026-{i:04d}", document_id=i, scale=Decimal(1) + Decimal(i) / 1009)
                 for i in range(1, count + 1)]
    inputs = [service.DocumentInputs(document=d, settings=SETTINGS, client=None, attachments_dir=None)
              for d in documents]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "invoices.zip"
        start, start_cpu, start_children = time.perf_counter(), time.process_time(), _children_cpu()
        pool: Any
        if processes:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
            work = _render_in_process
        else:
            pool = ThreadPoolExecutor(max_workers=workers)
            work = service.build_and_render_sync
        with pool, zipfile.ZipFile(path, "w") as archive:
            for item, pdf in zip(inputs, pool.map(work, inputs, chunksize=8 if processes else 1), strict=True):
                archive.writestr(zipfile.ZipInfo(item.filename, date_time=(2000, 1, 1, 0, 0, 0)), pdf)
        elapsed = time.perf_counter() - start
        elapsed_cpu = time.process_time() - start_cpu + _children_cpu() - start_children
        return elapsed, elapsed_cpu, path.stat().st_size


def _children_cpu() -> float:
    """CPU seconds of the ended child processes (a process pool's workers, once shut down)."""
    times = os.times()
    return times.children_user + times.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip-count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--out", type=Path, default=None, help="keep sample PDFs here")
    parser.add_argument("--engines", default="counterfoil,weasyprint,chromium",
                        help="which engines print the fresh invoice (comma-separated)")
    parser.add_argument("--processes", action="store_true", help="also make the fresh ZIP on a process pool")
    parser.add_argument("--no-service", action="store_true", help="skip the export route's ZIPs (no database)")
    parser.add_argument("--service", action="store_true", help=argparse.SUPPRESS)   # the default now; kept for old scripts
    parser.add_argument("--json", type=Path, help="also write the numbers here (build/bench_compare.py)")
    args = parser.parse_args()
    results = Results("bench_render")
    engines = {name.strip() for name in args.engines.split(",")}
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    print(f"(load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores at the start; "
          "CPU time in brackets)")

    # -- a fresh invoice, three engines side by side ------------------------------------------
    fresh: dict[str, list[float] | None] = {"Counterfoil (Typst)": fresh_counterfoil(args.repeat)}
    if "weasyprint" in engines:
        fresh["WeasyPrint (HTML)"] = fresh_weasyprint(args.repeat)
    if "chromium" in engines:
        fresh["Chromium headless, warm (HTML)"] = fresh_chromium(args.repeat)
    ours = statistics.median(fresh["Counterfoil (Typst)"] or [1.0])
    print(f"\na fresh 20-line invoice, {args.repeat} renders each (Counterfoil: PDF/A-3 + Factur-X, "
          f"a new invoice each time; budget 20 ms):")
    print(f"  {'engine':34s} {'p50 ms':>8s} {'p99 ms':>8s} {'p50 / Counterfoil':>18s} {'CPU p50 ms':>11s}")
    for engine, times in fresh.items():
        if times is None:
            print(f"  {engine:34s} not installed (pip install -e '.[dev]'; Chromium at {CHROMIUM})")
            continue
        p50, p99 = statistics.median(times), percentile(times, 0.99)
        cpu_p50 = f"{FRESH_CPU[engine]:11.1f}" if engine in FRESH_CPU else f"{'(browser)':>11s}"
        print(f"  {engine:34s} {p50:8.1f} {p99:8.1f} {p50 / ours:17.1f}x {cpu_p50}")
        key = engine.split(" (")[0].split(",")[0]
        results.add(f"fresh invoice 20 lines, {key}, p50", p50)
        results.add(f"fresh invoice 20 lines, {key}, p99", p99)

    # -- the same invoice again, plain, and a statement ------------------------------------------
    invoice = fabricate_invoice(20)

    def invoice_pdf(facturx: bool = True) -> bytes:
        settings = {**SETTINGS, "facturx_enabled": facturx}
        job = service.document_job(invoice, settings, None, attachments_dir=None)
        return service.render_job_sync(job)

    with_xml = _median_ms(lambda: invoice_pdf(True), args.repeat)
    without_xml = _median_ms(lambda: invoice_pdf(False), args.repeat)
    statement = fabricate_statement(STATEMENT_ENTRIES)
    statement_pdf = service.statement_pdf_sync(statement, SETTINGS)
    pages = statement_pdf.count(b"/Type /Page\n") or statement_pdf.count(b"/Type/Page/") or _pages(statement_pdf)
    statement_ms = _median_ms(lambda: service.statement_pdf_sync(statement, SETTINGS), max(5, args.repeat // 3))
    cpu = dict(zip(("with_xml", "without_xml", "statement"), CPU_TIMES, strict=False))
    print(f"\ninvoice, 20 lines, PDF/A-3 + Factur-X, same invoice again: median {with_xml:6.1f} ms [{cpu['with_xml']:5.1f}]")
    print(f"invoice, 20 lines, plain PDF, same invoice again:          median {without_xml:6.1f} ms "
          f"[{cpu['without_xml']:5.1f}]")
    print(f"statement, {pages} pages:                                      median {statement_ms:6.1f} ms "
          f"[{cpu['statement']:5.1f}] (budget 150 ms)")
    results.add("invoice 20 lines PDF/A-3 + Factur-X, same again", with_xml)
    results.add("invoice 20 lines plain PDF, same again", without_xml)
    results.add(f"statement {pages} pages", statement_ms)

    # -- batches on every core -------------------------------------------------------------------
    gil_jobs = [service.document_job(fabricate_invoice(20, number=f"INV-2026-{i:04d}", document_id=i), SETTINGS, None,
                                     attachments_dir=None) for i in range(1, 21)]
    ratio, _ = gil_share(gil_jobs)
    print(f"\na Python thread beside the renders runs at {ratio:.0%} of its speed alone "
          f"({'Typst releases the GIL: threads use every core' if ratio > 0.5 else 'Typst holds the GIL: use processes'})")
    results.add("Python thread beside renders, share of its speed", ratio, "ratio", higher_is_better=True)
    batch: dict[str, float] = {}
    for processes in (False, True) if args.processes else (False,):
        kind = "processes" if processes else "threads"
        elapsed, elapsed_cpu, size = fresh_zip(args.zip_count, processes=processes)
        print(f"ZIP of {args.zip_count} fresh 20-line invoice PDFs, {service._workers()} {kind} on "
              f"{os.cpu_count()} cores: {elapsed:6.2f} s [CPU {elapsed_cpu:.1f} s], {size / 1e6:.1f} MB "
              "(budget 10 s for 1,000)")
        results.add(f"ZIP of {args.zip_count} fresh invoice PDFs, {kind}", elapsed, "s")
        batch[f"ZIP of {args.zip_count} fresh 20-line invoices ({kind})"] = elapsed
    if not args.no_service:
        for label, elapsed in service_zip(args.zip_count).items():
            results.add(label, elapsed, "s")
            batch[label] = elapsed
    print("\nbatches:")
    for label, elapsed in batch.items():
        print(f"  {label:78s} {elapsed:6.2f} s")
    results.write(args.json)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "invoice-20.pdf").write_bytes(invoice_pdf(True))
        (args.out / "statement.pdf").write_bytes(statement_pdf)


def service_zip(count: int) -> dict[str, float]:
    """The export route's ZIP of `count` issued invoices against a real SQLite data folder: once with no
    document of record kept yet, once with every one kept. Returns {label: seconds}."""
    import asyncio
    import shutil
    import sqlite3

    from app import demo
    from app.config import Config
    from app.db.lifecycle import open_database

    folder = Path(tempfile.mkdtemp(prefix="bench-render-"))
    measured: dict[str, float] = {}
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
        # The demo's invoices were issued with their records; the copies have none: drop them all, so the
        # first export makes every record on first use.
        connection.execute("DELETE FROM document_record")
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
        for label, key in (("no document of record yet (each made on first use)", "fresh"),
                           ("every document of record kept", "stored")):
            elapsed, elapsed_cpu, exported = asyncio.run(export())
            print(f"export route's ZIP of {exported} issued invoices ({lines / total:.1f} lines each on average), "
                  f"{label}: {elapsed:6.2f} s [CPU here {elapsed_cpu:.1f} s]")
            measured[f"export route's ZIP of {exported} issued invoices, {key}"] = elapsed
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return measured


def _pages(pdf: bytes) -> int:
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


if __name__ == "__main__":
    main()
