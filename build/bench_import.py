"""Benchmark: moving in a large business through `counterfoil import` (app.imports).

    .venv/bin/python build/bench_import.py [--clients 10000] [--invoices 100000] [--payments 60000]
                                           [--without-audit] [--keep DIR] [--json FILE] [--skip-check]

Writes three generic CSV files (docs/import.md): clients, invoices with three lines each (one row per
line) and payments against the oldest invoices, then imports them into a fresh data folder in one go:
the preview (read, mapped, checked against the books) and the apply (the preview's plan, written in one
transaction with executemany when nothing was written since, the audit triggers recording every row,
sealed in steps before the commit). Prints rows per second, the time of each phase, the CPU time of the
import and of the process, the load average, the peak resident memory of the import, and that
`counterfoil check` holds. Goal (issue 20): under 60 s on two cores, under 500 MB. `--json FILE` writes
the figures for build/bench_compare.py.

With --without-audit the same import runs on a database whose audit triggers are dropped (and the seal
off): the difference is what recording every row costs.

The page and list benchmarks build their folder with `build_book` (below): a ten-year book generated as
another program's export and imported with `counterfoil import`, cached by a key (book_key).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_results import Results  # noqa: E402

from app.audit import service as audit_service  # noqa: E402
from app.config import Config  # noqa: E402
from app.db import engine  # noqa: E402
from app.db.lifecycle import close_database, open_database  # noqa: E402

GOAL_S = 60.0
GOAL_MB = 500.0
WORK = [("Design", "hour", "95.00"), ("Hosting", "month", "25.00"), ("Support", "hour", "45.50"),
        ("Photography", "day", "640.00"), ("Editing", "hour", "60.00")]


def make_files(folder: Path, clients: int, invoices: int, payments: int, seed: int = 20) -> dict[str, int]:
    rng = random.Random(seed)
    with open(folder / "clients.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["source_id", "code", "name", "email", "city", "country", "currency"])
        for i in range(1, clients + 1):
            writer.writerow([f"c{i}", f"K{i:05d}", f"Client {i} Ltd", f"billing{i}@example.com", "Toronto", "CA", "CAD"])
    start = date(2021, 1, 4)
    totals = []
    rows = 0
    with open(folder / "invoices.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["source_id", "number", "status", "issue_date", "due_date", "client_source_id", "currency",
                         "description", "quantity", "unit", "unit_price", "taxes", "total"])
        for i in range(1, invoices + 1):
            day = start + timedelta(days=i * 1800 // invoices)
            lines = [rng.choice(WORK) for _ in range(3)]
            quantities = [rng.randint(1, 9) for _ in lines]
            net = sum(int(q) * int(p.replace(".", "")) for (_, _, p), q in zip(lines, quantities, strict=True))
            total_cents = net + (net * 5 + 50) // 100   # GST 5 %, rounded half up
            totals.append(total_cents)
            for (description, unit, price), quantity in zip(lines, quantities, strict=True):
                writer.writerow([f"d{i}", f"OLD-{day.year}-{i:06d}", "sent", day.isoformat(),
                                 (day + timedelta(days=30)).isoformat(), f"c{rng.randint(1, clients)}", "CAD",
                                 description, quantity, unit, price, "GST", f"{total_cents / 100:.2f}"])
                rows += 1
    with open(folder / "payments.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["source_id", "payment_date", "invoice_number", "amount", "currency", "method", "reference"])
        for i in range(1, payments + 1):
            day = start + timedelta(days=i * 1800 // invoices)
            writer.writerow([f"p{i}", (day + timedelta(days=12)).isoformat(), f"OLD-{day.year}-{i:06d}",
                             f"{totals[i - 1] / 100:.2f}", "CAD", "bank transfer", f"T{i}"])
    return {"clients": clients, "invoice lines": rows, "payments": payments}


# -- a book for the page and list benchmarks, built through the import --------------------------------

BOOK_CITIES = ["Toronto", "Montréal", "Berlin", "Lyon", "Vancouver", "München", "Halifax", "Seattle"]
BOOK_TRADES = ["Bakery", "Architects", "Consulting", "Café"]
BOOK_LINES = [("Software development", "hour", "125.00"), ("UI/UX design", "hour", "95.00"),
              ("Managed hosting", "month", "60.00")]
BOOK_VERSION = 1   # raise when make_book_files writes something else: the cached folders are built again


def make_book_files(folder: Path, clients: int, invoices: int, seed: int = 2026) -> dict[str, int]:
    """A book as it ages, as another program would export it: ten years of invoices (B-2016-000001...), most
    paid, a few percent open (the older ones overdue), some partly paid, a few drafts and cancelled ones
    (the list filters' shares matter to their speed), three lines each with HST; the clients and the searches
    of build/bench_pages.py ("client 4217", "555 0199", "b-2021-0542", "hosting") find what they look for."""
    rng = random.Random(seed)
    with open(folder / "clients.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["source_id", "code", "name", "contact_name", "email", "phone", "address_line1",
                         "postal_code", "city", "region", "country", "currency", "language"])
        for i in range(1, clients + 1):
            writer.writerow([f"c{i}", f"B{i:06d}", f"Client {i} {rng.choice(BOOK_TRADES)}", f"Contact {i}",
                             f"accounts{i}@example.com", f"+1 416 555 {i % 10000:04d}", f"{i} King Street West",
                             "M5V 2T6", rng.choice(BOOK_CITIES), "ON", "CA", "CAD", "en"])
    payments: list[list[str]] = []
    with open(folder / "invoices.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["source_id", "number", "status", "issue_date", "due_date", "client_source_id", "currency",
                         "description", "quantity", "unit", "unit_price", "taxes", "total", "notes", "terms"])
        for n in range(invoices):
            year = 2016 + n * 10 // invoices
            day = date(year, 1 + n % 12, 15)
            lines = [rng.choice(BOOK_LINES) for _ in range(3)]
            quantities = [rng.randint(1, 40) for _ in lines]
            net = sum(q * int(price.replace(".", "")) for (_, _, price), q in zip(lines, quantities, strict=True))
            total_cents = net + (net * 13 + 50) // 100   # HST 13 %, rounded half up
            kind = rng.random()
            status, paid = rng.choice(["issued", "sent"]), total_cents
            if kind < 0.005:
                status, paid = "draft", 0
            elif kind < 0.01:
                status, paid = "cancelled", 0
            elif kind < 0.05:
                paid = 0
            elif kind < 0.06:
                paid = total_cents // 2
            number = f"B-{year}-{n:06d}"
            for (description, unit, price), quantity in zip(lines, quantities, strict=True):
                writer.writerow([f"d{n}", number, status, day.isoformat(), (day + timedelta(days=13)).isoformat(),
                                 f"c{rng.randint(1, clients)}", "CAD", description, quantity, unit, price, "HST",
                                 f"{total_cents / 100:.2f}", "Thank you!", "Payment due within 14 days."])
            if paid:
                payments.append([f"p{n}", (day + timedelta(days=10)).isoformat(), number, f"{paid / 100:.2f}", "CAD",
                                 rng.choice(["bank transfer", "card", "cheque"]), f"T{n}"])
    with open(folder / "payments.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["source_id", "payment_date", "invoice_number", "amount", "currency", "method", "reference"])
        writer.writerows(payments)
    return {"clients": clients, "invoice lines": 3 * invoices, "payments": len(payments)}


def book_key(clients: int, invoices: int) -> str:
    """What a built book depends on: its size, the generator, and the schema (the migrations) and the import
    that wrote it; a folder built under another key is built again."""
    digest = hashlib.sha256(f"{BOOK_VERSION}:{clients}:{invoices}".encode())
    for path in sorted([*ROOT.glob("app/*/piccolo_migrations/*.py"), *ROOT.glob("app/imports/*.py"),
                        ROOT / "app" / "demo.py"]):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    return Path(os.environ.get("COUNTERFOIL_BENCH_CACHE") or Path(tempfile.gettempdir()) / "counterfoil-bench-cache")


def build_book(data_dir: Path, clients: int, invoices: int) -> None:
    """A data folder holding the book of make_book_files, built as a user moving in would build it: a demo
    business without clients or invoices (its settings and taxes), then `counterfoil import` of the files
    (every row through the import's checks, audited and sealed). Built once per key (book_key) under
    cache_root() and copied from there: the page and list benchmarks then run on a folder the import made."""
    cached = cache_root() / f"book-{clients}-{invoices}-{book_key(clients, invoices)}"
    if not (cached / "counterfoil.sqlite").exists():
        started = time.monotonic()
        building = cached.with_name(cached.name + ".part")
        shutil.rmtree(building, ignore_errors=True)
        files = building / "files"
        files.mkdir(parents=True)
        counts = make_book_files(files, clients, invoices)
        data = building / "data"
        for args in (["demo", "--clients", "0", "--invoices", "0"], ["import", str(files)]):
            done = subprocess.run([sys.executable, "-m", "app", *args, "--data-dir", str(data)], cwd=ROOT,
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"counterfoil {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
                                 f"{done.stderr[-3000:]}")
        print(f"book built through the import: {counts}; {done.stdout.strip().splitlines()[-1]} "
              f"({time.monotonic() - started:.0f} s in all)", flush=True)
        shutil.rmtree(cached, ignore_errors=True)
        os.replace(data, cached)
        shutil.rmtree(building, ignore_errors=True)
    shutil.copytree(cached, data_dir, dirs_exist_ok=True)


# -- the import benchmark -----------------------------------------------------------------------------

def drop_audit_triggers(database: Path) -> None:
    connection = sqlite3.connect(database)
    for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit_%' "
                                      "AND tbl_name != 'audit_entry'").fetchall():
        connection.execute(f"DROP TRIGGER {name}")
    connection.commit()
    connection.close()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_import(config: Config, folder: Path, audited: bool) -> dict[str, float]:
    from app.imports import service
    from app.taxes import service as taxes_service

    await open_database(config)
    await taxes_service.apply_preset("canada")
    if not audited:
        await engine.DB.close_connections()
        drop_audit_triggers(config.database_path)
        engine.install_transaction_hooks(None)
    shown = {"at": 0.0}
    started = time.monotonic()
    cpu_started = time.process_time()

    def progress(step: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - shown["at"] > 1 or done == total:
            shown["at"] = now
            print(f"  writing: {done:,}/{total:,} records ({step}) at {now - started:.1f} s", flush=True)
    job = await service.create_preview(service.files_of(folder), data_dir=config.data_dir)
    preview_s = time.monotonic() - started
    problems = job["preview"]["problems"]
    if not job["preview"]["can_apply"]:
        raise SystemExit(f"the preview found problems: {problems[:3]}")
    print(f"  preview: {preview_s:.1f} s, peak {peak_mb():.0f} MB", flush=True)
    applied_at = time.monotonic()
    summary = await service.apply(job["id"], data_dir=config.data_dir, progress=progress)
    apply_s = time.monotonic() - applied_at
    print(f"  applied: {apply_s:.1f} s, peak {peak_mb():.0f} MB (before the check, which reads every row)", flush=True)
    peak_import = peak_mb()
    await close_database(checkpoint=True)
    engine.install_transaction_hooks(audit_service.HOOKS)
    return {"preview_s": preview_s, "apply_s": apply_s, "total_s": preview_s + apply_s,
            "read_in_apply_s": summary["seconds_reading"], "writing_s": summary["seconds_writing"],
            "sealing_s": summary["seconds_sealing"], "rows": job["preview"]["counts"]["rows"],
            "cpu_s": time.process_time(), "cpu_import_s": time.process_time() - cpu_started, "peak_mb": peak_import,
            "plan_of_preview": summary.get("plan_of_preview")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--payments", type=int, default=60_000)
    parser.add_argument("--without-audit", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep the data folder here (for the page and list benchmarks)")
    parser.add_argument("--json", type=Path, help="also write the numbers here (build/bench_compare.py)")
    parser.add_argument("--skip-check", action="store_true", help="leave out `counterfoil check` afterwards (to "
                        "measure the import alone while working on it; a result without the check proves nothing)")
    args = parser.parse_args()
    load_at_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / "files"
        folder.mkdir()
        made = time.monotonic()
        counts = make_files(folder, args.clients, args.invoices, args.payments)
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"files: {counts}, {size / 1e6:.0f} MB, written in {time.monotonic() - made:.1f} s")
        data_dir = args.keep or Path(temporary) / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        config = Config(data_dir=data_dir)
        result = asyncio.run(run_import(config, folder, audited=not args.without_audit))
        checked = time.monotonic()
        from app.integrity.service import run_checks
        breaks = [] if args.skip_check else [b for b in run_checks(config.database_path)
                                             if not (args.without_audit and b.where == "audit trail")]   # its triggers were dropped here
        check_s = time.monotonic() - checked
    rows = result["rows"]
    peak = result["peak_mb"]
    print(f"audit trail: {'off (triggers dropped)' if args.without_audit else 'on (every row recorded and sealed)'}")
    print(f"rows: {rows:,}; preview {result['preview_s']:.1f} s; apply {result['apply_s']:.1f} s "
          f"(the preview's plan {'written as checked' if result['plan_of_preview'] else 'made again'}: "
          f"{result['read_in_apply_s']:.1f} s, writing {result['writing_s']:.1f} s, "
          f"sealing the audit trail at commit {result['sealing_s']:.1f} s); "
          f"total {result['total_s']:.1f} s = {rows / result['total_s']:,.0f} rows/s")
    print(f"CPU time of the import (preview and apply): {result['cpu_import_s']:.1f} s; of the whole process "
          f"(with generating the files and opening the database): {result['cpu_s']:.1f} s. The machine's load "
          f"stretches the wall time: load average at start {' '.join(f'{x:.2f}' for x in load_at_start)}, at end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    print(f"peak RSS of the import: {peak:.0f} MB (with the check: {peak_mb():.0f} MB); counterfoil check: {'holds' if not breaks else f'{len(breaks)} breaks'} "
          f"({check_s:.1f} s)")
    print(f"goal: under {GOAL_S:.0f} s and {GOAL_MB:.0f} MB: "
          f"{'met' if result['total_s'] < GOAL_S and peak < GOAL_MB else 'NOT met'}")
    for item in breaks[:5]:
        print(f"BREAK {item}")
    results = Results("bench_import")
    for name in ("total_s", "preview_s", "apply_s", "writing_s", "sealing_s", "cpu_import_s", "cpu_s"):
        results.add(name.removesuffix("_s").replace("_", " ") + " (s)", result[name], "s")
    results.add("peak RSS of the import (MB)", peak, "MB")
    results.add("rows per second (wall)", rows / result["total_s"], "rows/s", higher_is_better=True)
    results.add("rows per CPU second", rows / result["cpu_import_s"], "rows/s", higher_is_better=True)
    if not args.skip_check:
        results.add("counterfoil check (s)", check_s, "s")
    results.write(args.json)
    return 0 if not breaks else 1


if __name__ == "__main__":
    logging_level = __import__("logging")
    logging_level.basicConfig(level=logging_level.WARNING)
    sys.exit(main())
