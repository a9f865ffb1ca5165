"""Benchmark: pages and API lists at 10,000 clients and 100,000 invoices, through a real server.

    .venv/bin/python build/bench_pages.py [--clients 10000] [--invoices 100000] [--requests 60] [--keep DIR]

Builds its own data set (the same builder as build/bench_backup.py), starts `counterfoil serve`
on it, and times each URL sequentially over HTTP, as one user clicking and typing. Prints p50
and p99 per URL and the start-to-first-200 of the server. Budgets (DESIGN.md): any page or API
list p99 < 50 ms; search as you type < 30 ms; double-click to a page served < 1.5 s.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PAGE_BUDGET_MS = 50.0
SEARCH_BUDGET_MS = 30.0


def _backup_bench():
    spec = importlib.util.spec_from_file_location("bench_backup", ROOT / "build" / "bench_backup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


URLS = [
    ("/api/v1/clients", False), ("/api/v1/clients?page=150", False), ("/api/v1/clients?q=client%209876", True),
    ("/api/v1/clients?q=555%200199", True), ("/api/v1/invoices", False), ("/api/v1/invoices?status=overdue", False),
    ("/api/v1/invoices?q=b-2021", True), ("/api/v1/invoices/statistics", False), ("/api/v1/payments", False),
    ("/", False), ("/clients", False), ("/clients?q=client%2042", True), ("/invoices", False),
    ("/invoices?status=open&page=20", False), ("/quotes", False), ("/catalog", False), ("/reports/aging", False),
    ("/clients/42", False), ("/clients/42/ledger", False),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="counterfoil-pages-"))
    data = work / "data"
    server = None
    try:
        if not (data / "counterfoil.sqlite").exists():
            _backup_bench().build(data, args.clients, args.invoices, 0)
        token = subprocess.run([sys.executable, "-m", "app", "token", "create", "--data-dir", str(data), "--name",
                                "bench"], cwd=ROOT, capture_output=True, text=True)
        if token.returncode != 0:  # no owner yet: make one
            secret = work / "pw"
            secret.write_text("benchmark password\n")
            subprocess.run([sys.executable, "-m", "app", "init", "--data-dir", str(data), "--owner-email",
                            "bench@example.com", "--password-file", str(secret)], cwd=ROOT, check=True,
                           capture_output=True)
            token = subprocess.run([sys.executable, "-m", "app", "token", "create", "--data-dir", str(data),
                                    "--name", "bench"], cwd=ROOT, capture_output=True, text=True, check=True)
        port = free_port()
        started = time.perf_counter()
        server = subprocess.Popen([sys.executable, "-m", "app", "serve", "--data-dir", str(data), "--port", str(port),
                                   "--no-browser"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token.stdout.strip()}"},
                          timeout=30) as client:
            while True:
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.02)
                if time.perf_counter() - started > 30:
                    raise SystemExit("the server did not start")
            start_s = time.perf_counter() - started
            print(f"start to first 200: {start_s:.2f} s (budget 1.5 s)")
            failures = 0
            for url, is_search in URLS:
                for _ in range(3):  # warm
                    response = client.get(url)
                    if response.status_code != 200:
                        raise SystemExit(f"{url}: {response.status_code} {response.text[:200]}")
                times = []
                for _ in range(args.requests):
                    t = time.perf_counter()
                    client.get(url)
                    times.append((time.perf_counter() - t) * 1000)
                times.sort()
                p50 = statistics.median(times)
                p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
                budget = SEARCH_BUDGET_MS if is_search else PAGE_BUDGET_MS
                verdict = "ok" if p99 <= budget else "OVER"
                failures += verdict == "OVER"
                print(f"{url:45s} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  (budget {budget:.0f}: {verdict})")
        return 1 if failures else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
