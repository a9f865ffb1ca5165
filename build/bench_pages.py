"""Benchmark: pages and API lists at 10,000 clients and 100,000 invoices, through a real server.

    .venv/bin/python build/bench_pages.py [--clients 10000] [--invoices 100000] [--requests 60] [--keep DIR]

Builds its own data set through the import (build/bench_import.py's build_book), starts `counterfoil serve`
on it, and times each URL sequentially over HTTP, as one user clicking and typing. Prints p50
and p99 per URL (wall time, and the server's CPU time per request, since the machine may be
shared) and the start-to-first-200 of the server. Budgets (DESIGN.md): any page or API list
p99 < 50 ms; search as you type < 30 ms; double-click to a page served < 1.5 s.

A URL asked again and again is answered from the server's read cache after the first time
(sums and counts are kept until the data changes). So two more cases ask what a user meets:
- typing: each keystroke of a few searches is a new query (nothing cached for it), in rounds
  that each start after a change to the data (the list opened again first, as a user would);
- the aging report as first seen after a change (its sums computed afresh);
- every filter of every document list and of the payments (status x client, period or neither, each
  sort, pages 1 and 20; pages and API) as the first view after a change (issue 21: p99 < 30 ms);
- an issued invoice's stored PDF, and the same with its ETag (304) (issue 21: < 2 ms).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench_results import Results

TYPED = ["b-2021-0542", "client 4217", "hosting", "zoe"]  # an invoice number, a client, a line, a name
TYPING_SURFACES = [("/api/v1/invoices", {}), ("/invoices", {"HX-Request": "true", "HX-Target": "doc-results"})]

ROOT = Path(__file__).resolve().parents[1]
PAGE_BUDGET_MS = 50.0
OWNER_EMAIL, OWNER_PASSWORD = "bench@example.com", "benchmark password"
SEARCH_BUDGET_MS = 30.0
LIST_BUDGET_MS = 30.0    # issue 21: every list, every filter, any page, first view after a change
PDF_BUDGET_MS = 2.0      # issue 21: an issued document's stored PDF over HTTP


def build_folder(data: Path, clients: int, invoices: int) -> None:
    """The data set: a ten-year book imported with `counterfoil import` (build/bench_import.py's build_book,
    cached by a key, so a second run copies the folder the first one built)."""
    spec = importlib.util.spec_from_file_location("bench_import", ROOT / "build" / "bench_import.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    module.build_book(data, clients, invoices)


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


# Every filter of every document list (issue 21 point 1), each URL asked as the first view after a
# change (nothing cached): statuses x a client, a period or neither x the sorts, on page 1 and 20.
DOCUMENT_STATUSES = {"invoices": ("", "draft", "issued", "sent", "partial", "paid", "overdue", "cancelled", "open"),
                     "quotes": ("", "draft", "issued", "accepted", "declined", "expired", "converted"),
                     "credit-notes": ("", "draft", "issued")}
NARROWING = ("", "client_id=42", "from=2021-01-01&to=2021-12-31")
SORTS = ("date", "total", "due", "client", "number")


def filtered_urls(kind: str) -> list[str]:
    urls = []
    for n, (status, narrowing) in enumerate((s, w) for s in DOCUMENT_STATUSES[kind] for w in NARROWING):
        for prefix in (f"/api/v1/{kind}", f"/{kind}"):
            sort = SORTS[n % len(SORTS)]
            params = "&".join(p for p in (f"status={status}" if status else "", narrowing, f"sort={sort}",
                                          f"page={1 + 19 * (n % 2)}") if p)
            urls.append(f"{prefix}?{params}")
    return urls


PAYMENT_URLS = [f"{prefix}?{params}" for prefix in ("/api/v1/payments", "/payments")
                for params in ("page=1", "page=20", "client_id=42", "state=live", "state=reversed",
                               "from=2021-01-01&to=2021-12-31", "method=bank_transfer")]


def issued_invoice(client: httpx.Client) -> int:
    """An invoice made and issued through the API (its document of record stored at issue)."""
    made = client.post("/api/v1/invoices", json={"client_id": 42, "currency": "CAD", "lines": [
        {"description": f"Consulting, week {n}", "quantity": "8", "unit": "h", "unit_price": "125.00"}
        for n in range(1, 21)]})
    if made.status_code != 201:
        raise SystemExit(f"POST /api/v1/invoices: {made.status_code} {made.text[:200]}")
    issued = client.post(f"/api/v1/invoices/{made.json()['id']}/issue", json={})
    if issued.status_code != 200:
        raise SystemExit(f"POST /api/v1/invoices/{made.json()['id']}/issue: {issued.status_code} {issued.text[:200]}")
    return int(made.json()["id"])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), 0.0 where that is not available."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def signed_in(base: str) -> httpx.Client:
    """A browser's session: the owner signs in through the login form (CSRF token, Origin), as build/smoke does."""
    pages = httpx.Client(base_url=base, timeout=30, headers={"Origin": base})
    form = pages.get("/login").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', form)
    if found is None:
        raise SystemExit("GET /login: no CSRF token in the form")
    response = pages.post("/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "next": "/",
                                          "csrf_token": found.group(1)})
    if response.status_code != 303:
        raise SystemExit(f"POST /login: {response.status_code} (was the folder made by another run, with another owner?)")
    return pages


def keystrokes(text: str) -> list[str]:
    return [text[:n] for n in range(1, len(text) + 1) if not text[:n].endswith(" ")]


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of typing and of first views after a change")
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--pdf-only", action="store_true", help="time only the issued invoice's stored PDF")
    parser.add_argument("--json", type=Path, help="also write the numbers here (build/bench_compare.py)")
    args = parser.parse_args()
    results = Results("bench_pages")
    work = args.keep or Path(tempfile.mkdtemp(prefix="counterfoil-pages-"))
    data = work / "data"
    server = None
    try:
        if not (data / "counterfoil.sqlite").exists():
            build_folder(data, args.clients, args.invoices)
        token = subprocess.run([sys.executable, "-m", "app", "token", "create", "--data-dir", str(data), "--name",
                                "bench"], cwd=ROOT, capture_output=True, text=True)
        if token.returncode != 0:  # no owner yet: make one
            secret = work / "pw"
            secret.write_text(OWNER_PASSWORD + "\n")
            subprocess.run([sys.executable, "-m", "app", "init", "--data-dir", str(data), "--owner-email",
                            OWNER_EMAIL, "--password-file", str(secret)], cwd=ROOT, check=True,
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
            pages = signed_in(base)   # API tokens open /api/ only: the pages are asked as a signed-in owner
            results.add("start to first 200", start_s, "s")
            print(f"start to first 200: {start_s:.2f} s (budget 1.5 s); load average at start "
                  f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            failures = 0

            def report(label: str, times: list[float], cpu_s: float, budget: float) -> None:
                nonlocal failures
                p50, p99 = percentiles(times)
                results.add(f"{label} p50", p50)
                results.add(f"{label} p99", p99)
                verdict = "ok" if p99 <= budget else "OVER"
                failures += verdict == "OVER"
                print(f"{label:45s} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  server CPU {cpu_s * 1000 / len(times):5.1f} "
                      f"ms/request  (budget {budget:.0f}: {verdict})")

            def timed(url: str, headers: dict[str, str] | None = None, q: str | None = None) -> float:
                t = time.perf_counter()
                asker = client if url.startswith("/api/") else pages
                response = asker.get(url, headers=headers, params=None if q is None else {"q": q})
                elapsed = (time.perf_counter() - t) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{url}: {response.status_code} {response.text[:200]}")
                return elapsed

            for url, is_search in [] if args.pdf_only else URLS:
                for _ in range(3):  # warm
                    timed(url)
                cpu = cpu_seconds(server.pid)
                times = [timed(url) for _ in range(args.requests)]
                report(url, times, cpu_seconds(server.pid) - cpu, SEARCH_BUDGET_MS if is_search else PAGE_BUDGET_MS)

            def change(n: int) -> None:
                """A small write, so that every cached sum is computed again (as after any real change)."""
                response = client.patch("/api/v1/clients/42", json={"notes": f"benchmark round {n}"})
                if response.status_code != 200:
                    raise SystemExit(f"PATCH /api/v1/clients/42: {response.status_code} {response.text[:200]}")

            print(f"typing, {args.rounds} rounds after a change, each keystroke a new query: {', '.join(TYPED)}")
            for surface, headers in [] if args.pdf_only else TYPING_SURFACES:
                by_text: dict[str, list[float]] = {text: [] for text in TYPED}
                cpu_used = 0.0
                for n in range(args.rounds):
                    change(n)
                    timed(surface, headers)  # the list opened, then typed into
                    for text in TYPED:
                        cpu = cpu_seconds(server.pid)
                        by_text[text] += [timed(surface, headers, q) for q in keystrokes(text)]
                        cpu_used += cpu_seconds(server.pid) - cpu
                for text, times in by_text.items():
                    p50, p99 = percentiles(times)
                    print(f"  {surface}?q={text:{41 - len(surface)}s} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
                          f"({len(times)} keystrokes)")
                report(f"{surface}?q=<typing, all keystrokes>", [t for times in by_text.values() for t in times],
                       cpu_used, SEARCH_BUDGET_MS)

            print(f"every filter of every list, first view after a change ({args.rounds} rounds each):")
            first_views: list[float] = []
            first_cpu = 0.0
            for url in [] if args.pdf_only else [*filtered_urls("invoices"), *filtered_urls("quotes"),
                                                 *filtered_urls("credit-notes"), *PAYMENT_URLS]:
                times = []
                for n in range(args.rounds):
                    change(1000 + n)
                    cpu = cpu_seconds(server.pid)
                    times.append(timed(url))
                    first_cpu += cpu_seconds(server.pid) - cpu
                first_views += times
                p50, p99 = percentiles(times)
                results.add(f"first view {url} p99", p99)
                print(f"  {url:60s} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms")
            if first_views:
                report("every list filter, first view after a change", first_views, first_cpu, LIST_BUDGET_MS)

            pdf_url = f"/api/v1/invoices/{issued_invoice(client)}/pdf"
            etag = client.get(pdf_url).headers.get("etag", "")
            for label, headers in ((f"{pdf_url} (stored PDF)", None),
                                   (f"{pdf_url} (If-None-Match: 304)", {"If-None-Match": etag})):
                cpu = cpu_seconds(server.pid)
                times = []
                for _ in range(args.requests):
                    t = time.perf_counter()
                    response = client.get(pdf_url, headers=headers)
                    times.append((time.perf_counter() - t) * 1000)
                    if response.status_code not in (200, 304):
                        raise SystemExit(f"{pdf_url}: {response.status_code}")
                report(label, times, cpu_seconds(server.pid) - cpu, PDF_BUDGET_MS)

            cpu_used, times = 0.0, []
            for n in range(0 if args.pdf_only else args.rounds * 4):
                change(100 + n)
                cpu = cpu_seconds(server.pid)
                times.append(timed("/reports/aging"))
                cpu_used += cpu_seconds(server.pid) - cpu
            if times:
                report("/reports/aging, first view after a change", times, cpu_used, PAGE_BUDGET_MS)
            print(f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            results.write(args.json)
            pages.close()
        return 1 if failures else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
