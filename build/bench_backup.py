"""Benchmark: export and import of a large data folder, as the user runs them (the CLI, a real process).

    .venv/bin/python build/bench_backup.py [--clients 10000] [--invoices 100000] [--attachments-mb 50] [--keep DIR]

Builds its own data set: a migrated database (`counterfoil demo --clients 0`, so the schema,
settings, taxes and catalogue are the real ones), then 10,000 clients, 100,000 invoices with
three lines each and a frozen snapshot (inserted with sqlite3 executemany, which is fast), and
50 MB of incompressible attachments. Prints the wall time and the peak memory (max RSS of the
child process) of `counterfoil backup export` and of `counterfoil backup import` into an empty
folder. Budget (DESIGN.md): 10 s each.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_results import Results  # noqa: E402  (build/ is this script's folder)

from app.documents.logic import search_text_of  # noqa: E402  (the search text the app writes)

PASSPHRASE = "benchmark passphrase, not a secret"
BUDGET_S = 10.0


def run_cli(*args: str) -> tuple[float, int, str, float]:
    """Wall time (s), peak RSS (KiB), stdout and CPU time (user + system, s) of one `python -m app ...` process."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "app", *args], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    out, err = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
    if process.returncode != 0:
        raise SystemExit(f"counterfoil {' '.join(args)} failed ({process.returncode}):\n{out}\n{err}")
    return elapsed, usage.ru_maxrss, out.strip(), usage.ru_utime + usage.ru_stime


def columns(connection: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]


def insert(connection: sqlite3.Connection, table: str, rows: list[dict]) -> None:
    names = list(rows[0])
    missing = set(names) - set(columns(connection, table))
    if missing:
        raise SystemExit(f"{table} has no column(s) {missing}: update the benchmark")
    sql = f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({", ".join("?" for _ in names)})'
    connection.executemany(sql, [tuple(row[n] for n in names) for row in rows])


def build(data_dir: Path, clients: int, invoices: int, attachments_mb: int) -> None:
    started = time.perf_counter()
    run_cli("demo", "--data-dir", str(data_dir), "--clients", "0", "--invoices", "0")
    rng = random.Random(2026)
    connection = sqlite3.connect(data_dir / "counterfoil.sqlite")
    connection.execute("PRAGMA synchronous = OFF")
    now = "2026-06-01 09:00:00+00:00"
    cities = ["Toronto", "Montréal", "Berlin", "Lyon", "Vancouver", "München", "Halifax", "Seattle"]
    base = connection.execute("SELECT COALESCE(MAX(id), 0) FROM client").fetchone()[0]
    insert(connection, "client", [{
        "code": f"B{i:06d}", "name": f"Client {i} {rng.choice(['Bakery', 'Architects', 'Consulting', 'Café'])}",
        "status": "active", "contact_name": f"Contact {i}", "email": f"accounts{i}@example.com",
        "phone": f"+1 416 555 {i % 10000:04d}", "address_line1": f"{i} King Street West", "address_line2": "",
        "postal_code": "M5V 2T6", "city": rng.choice(cities), "region": "ON", "country": "CA", "currency": "CAD",
        "language": "en", "tax_number": "", "notes": "", "search_text": f"client {i} accounts{i}@example.com",
        "search_digits": f"1416555{i % 10000:04d}", "created_at": now, "updated_at": now, "archived_at": None,
    } for i in range(base + 1, base + clients + 1)])
    client_names = dict(connection.execute("SELECT id, name FROM client"))
    client_ids = list(client_names)
    descriptions = ["Software development", "UI/UX design", "Managed hosting"]
    lines_of: list[list[str]] = []
    snapshot = json.dumps({"business": {"name": "Northwind Studio", "address_line1": "214 Spadina Avenue, Suite 5",
                                        "city": "Toronto", "country": "CA", "email": "billing@northwind.example"},
                           "client": {"name": "Client", "address_line1": "1 King Street West", "city": "Toronto"}})
    taxes = json.dumps([{"code": "HST", "rate": "13", "base": "1000.00", "amount": "130.00"}])
    batch = 10_000
    first_document = connection.execute("SELECT coalesce(max(id), 0) + 1 FROM document").fetchone()[0]
    for start in range(0, invoices, batch):
        rows = []
        for n in range(start, min(start + batch, invoices)):
            year = 2016 + n * 10 // invoices
            client = rng.choice(client_ids)
            lines_of.append([rng.choice(descriptions) for _ in range(3)])
            # A book as it ages: most invoices paid, a few percent open (older ones overdue), some
            # partly paid, a few drafts and cancelled ones (the list filters' shares matter to their speed).
            kind = rng.random()
            status, paid, number = rng.choice(["issued", "sent"]), 113000, f"B-{year}-{n:06d}"
            if kind < 0.005:
                status, paid, number = "draft", 0, None
            elif kind < 0.01:
                status, paid = "cancelled", 0
            elif kind < 0.05:
                paid = 0
            elif kind < 0.06:
                paid = 50000
            rows.append({
                "doc_type": "invoice", "number": number, "status": status,
                "client": client, "currency": "CAD", "issue_date": f"{year}-{1 + n % 12:02d}-15",
                "due_date": f"{year}-{1 + n % 12:02d}-28", "terms_days": 14, "discount_percent": "0",
                "notes": "Thank you!", "terms": "Payment due within 14 days.", "footer": "Interac e-Transfer.",
                "subtotal_minor": 100000, "tax_total_minor": 13000, "total_minor": 113000, "paid_minor": paid,
                "credited_minor": 0, "taxes_json": taxes, "snapshot_json": snapshot if number else "",
                "cancel_reason": "", "search_text": search_text_of(number or "", client_names[client], lines_of[-1]),
                "issued_at": now if number else None, "created_at": now, "updated_at": now,
            })
        insert(connection, "document", rows)
    for start in range(0, invoices, batch):
        rows = []
        for n in range(start, min(start + batch, invoices)):
            for position, description in enumerate(lines_of[n], start=1):
                rows.append({"document": first_document + n, "position": position, "description": description,
                             "quantity": str(rng.randint(1, 40)), "unit": "hour", "unit_price": "125.00",
                             "discount_percent": "0", "tax_codes": "HST", "net_minor": 33333})
        insert(connection, "document_line", rows)
    connection.commit()
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    attachments = data_dir / "attachments"
    receipts = attachments / "receipts"
    receipts.mkdir(parents=True, exist_ok=True)
    size = 512 * 1024
    for n in range(attachments_mb * 1024 * 1024 // size):
        (receipts / f"receipt-{n:04d}.pdf").write_bytes(b"%PDF-1.7\n" + rng.randbytes(size - 9))
    (attachments / "logo-bench.png").write_bytes(b"\x89PNG\r\n\x1a\n" + rng.randbytes(20_000))
    database_mb = (data_dir / "counterfoil.sqlite").stat().st_size / 1e6
    print(f"data set: {clients} clients, {invoices} invoices ({3 * invoices} lines), database {database_mb:.0f} MB, "
          f"attachments {attachments_mb} MB; built in {time.perf_counter() - started:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--attachments-mb", type=int, default=50)
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    parser.add_argument("--json", type=Path, help="also write the numbers here (build/bench_compare.py)")
    args = parser.parse_args()
    results = Results("bench_backup")
    work = args.keep or Path(tempfile.mkdtemp(prefix="counterfoil-bench-"))
    try:
        source, target = work / "source", work / "target"
        build(source, args.clients, args.invoices, args.attachments_mb)
        secret = work / "passphrase"
        secret.write_text(PASSPHRASE + "\n")
        bundle = work / "bench.counterfoil"
        export_s, export_kib, _, export_cpu = run_cli("backup", "export", str(bundle), "--data-dir", str(source),
                                          "--passphrase-file", str(secret), "--force")
        size_mb = bundle.stat().st_size / 1e6
        import_s, import_kib, _, import_cpu = run_cli("backup", "import", str(bundle), "--data-dir", str(target),
                                          "--passphrase-file", str(secret))
        start_s, start_kib, _, start_cpu = run_cli("--version")
        load = os.getloadavg()[0]
        print(f"bundle: {size_mb:.0f} MB")
        for label, seconds, kib, cpu in (("export", export_s, export_kib, export_cpu),
                                         ("import", import_s, import_kib, import_cpu)):
            verdict = "within" if seconds <= BUDGET_S else "OVER"
            print(f"{label}: {seconds:.2f} s wall (budget {BUDGET_S:.0f} s: {verdict}), {cpu:.2f} s CPU, "
                  f"peak RSS {kib / 1024:.0f} MB")
        print(f"(a bare `python -m app --version` takes {start_s:.2f} s wall, {start_cpu:.2f} s CPU, "
              f"{start_kib / 1024:.0f} MB; Argon2id alone holds 64 MiB while it runs; load average {load:.1f} "
              f"on {os.cpu_count()} CPUs)")
        for label, seconds, kib in (("export", export_s, export_kib), ("import", import_s, import_kib)):
            results.add(f"{label} wall", seconds, "s")
            results.add(f"{label} peak RSS", kib / 1024, "MB")
        results.add("bundle size", size_mb, "MB")
        results.write(args.json)
        return 0 if export_s <= BUDGET_S and import_s <= BUDGET_S else 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
