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
- every filter of every list as the first view after a change (issue 21: p99 < 30 ms): the document
  lists' statuses x a client, a year, an open-ended period, a broad and a narrow search, each taking a
  sort, a direction and the first, middle or last page in turn, the whole list in every sort at every
  page position, and the filters of clients, items, payments, expenses, time entries, recurring
  profiles, reminders, the outbox, vendors, projects and the audit trail; pages and API. Each URL's
  p50/p99 (wall) and server CPU per request, then how many URLs miss 30 ms (wall p99, and server
  CPU: the machine may be shared);
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


# Every filter of every list (issue 21 point 1), each URL asked as the first view after a change
# (nothing cached), over HTTP, page and API alike. The document lists: every status x a narrowing
# (none, a client, a year, an open-ended period starting mid-month, a broad search, a narrow one, a
# short word), each combination taking a sort, a direction and a page (first, middle, last) in turn,
# and the whole list in every sort at every page position.
DOCUMENT_STATUSES = {"invoices": ("", "draft", "issued", "sent", "partial", "paid", "overdue", "cancelled", "open"),
                     "quotes": ("", "draft", "issued", "accepted", "declined", "expired", "converted"),
                     "credit-notes": ("", "draft", "issued")}
NARROWING = ("", "client_id=42", "from=2021-01-01&to=2021-12-31", "from=2021-03-05", "q=hosting", "q=b-2021-0542",
             "q=zo")
SORTS = ("date", "total", "due", "client", "number")
POSITIONS = ("first", "middle", "last")
PER_PAGE = 25   # the pages' size (app/web/pages/documents.py); the API is asked with the same


def document_combinations(kind: str) -> list[tuple[str, str]]:
    """(query without the page, page position) for every status x narrowing, and every sort of the whole list."""
    out = []
    for n, (status, narrowing) in enumerate((s, w) for s in DOCUMENT_STATUSES[kind] for w in NARROWING):
        direction = ("desc", "asc")[(n // len(SORTS)) % 2]
        params = "&".join(p for p in (f"status={status}" if status else "", narrowing, f"sort={SORTS[n % len(SORTS)]}",
                                      f"dir={direction}") if p)
        out.append((params, POSITIONS[n % len(POSITIONS)]))
    out += [(f"sort={sort}&dir={direction}", position) for sort in SORTS for position in POSITIONS
            for direction in ("desc", "asc")]
    return out


# The other lists, each filter of theirs (API and page). Pages the bench cannot page by number are asked as they are.
OTHER_URLS = [
    *(f"/api/v1/clients?{p}" for p in ("", "page=200", "page=400", "status=archived", "status=all&sort=city",
                                       "sort=code&dir=desc&page=150", "sort=created", "sort=email&page=399",
                                       "q=client%209876", "q=555%200199", "q=client", "q=bakery&page=40")),
    *(f"/clients?{p}" for p in ("", "page=200", "status=all&sort=city", "sort=email&dir=desc&page=399",
                                "q=client%2042", "q=bakery&page=40")),
    *(f"/api/v1/items?{p}" for p in ("", "active=true", "active=false", "q=hosting", "sort=price&dir=desc",
                                     "sort=code", "sort=category", "category=Services")),
    *(f"/catalog?{p}" for p in ("", "show=all", "show=inactive", "q=design", "sort=price&dir=desc")),
    *(f"{prefix}?{params}" for prefix in ("/api/v1/payments", "/payments")
      for params in ("page=1", "page=20", "page=2000", "client_id=42", "state=live", "state=reversed",
                     "from=2021-01-01&to=2021-12-31", "from=2021-03-05", "method=bank_transfer",
                     "method=card&from=2020-01-01&to=2020-06-30", "client_id=42&state=live")),
    *(f"/api/v1/expenses?{p}" for p in ("", "from=2026-01-01&to=2026-12-31", "billable=true", "billed=false",
                                        "status=draft", "q=train", "client_id=42", "category=travel")),
    *(f"/expenses?{p}" for p in ("", "from=2026-01-01&to=2026-12-31", "show=billable", "q=train")),
    *(f"/api/v1/time-entries?{p}" for p in ("", "client_id=42", "from=2026-01-01&to=2026-12-31", "billable=true",
                                            "billed=false")),
    "/time", "/time?from=2026-01-01&to=2026-12-31",
    *(f"/api/v1/recurring?{p}" for p in ("", "status=active", "status=paused", "client_id=42")),
    "/recurring", "/recurring?status=paused",
    *(f"/api/v1/reminders?{p}" for p in ("", "status=issued", "status=cancelled", "client_id=42")),
    "/reminders", "/reminders?status=sent",
    *(f"/api/v1/outbox?{p}" for p in ("", "status=failed", "client_id=42")), "/outbox", "/outbox?status=sent",
    "/api/v1/vendors", "/api/v1/vendors?q=air", "/vendors", "/vendors?q=air",
    "/api/v1/projects", "/api/v1/projects?status=active", "/projects",
    "/api/v1/audit?limit=50", "/api/v1/audit?entity=client&limit=50", "/audit",
]

# The payments helper's additions (issue 21): the payments list's middle and last pages of the whole
# book and of a filter, every pair of its filters, a client's payments in a period or of one method, a
# client beyond the first 500 by name (offered in the filter's select all the same); the client page,
# its ledger, the dashboard and the reminders' due invoices past their first page, as first views.
OTHER_URLS += [
    *(f"{prefix}?{params}" for prefix in ("/api/v1/payments", "/payments")
      for params in ("page=1000", "page=1899", "state=live&page=1800", "method=cheque&page=600",
                     "method=card&state=live", "method=cash&state=reversed", "state=live&from=2021-03-05",
                     "method=bank_transfer&state=live&from=2021-03-05&to=2022-07-09&page=30", "to=2019-06-30",
                     "from=2021-03-05&to=2022-07-09&page=200", "client_id=42&from=2021-01-01&to=2021-12-31",
                     "client_id=42&method=card", "client_id=9999")),
    "/clients/42", "/clients/42/ledger", "/clients/9999", "/clients/9999/ledger", "/", "/reminders?due_page=20",
    "/projects?status=active", "/audit?entity=payment",
]


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
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="time only the URLs containing TEXT, or =URL exactly (repeatable; the typing, the PDF and the aging's "
                             "first view only when TEXT is in their label)")
    args = parser.parse_args()

    def wanted(url: str) -> bool:
        return not args.only or any(url == text[1:] if text.startswith("=") else text in url for text in args.only)
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
        # As on a user's machine, the server keeps its compiled modules (.pyc): where the environment says not
        # to write them, every start would compile the whole program from source first.
        server_env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
        server = subprocess.Popen([sys.executable, "-m", "app", "serve", "--data-dir", str(data), "--port", str(port),
                                   "--no-browser"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=server_env)
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

            for url, is_search in [] if args.pdf_only else [(u, s) for u, s in URLS if wanted(u)]:
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
            for surface, headers in [] if args.pdf_only else [(u, h) for u, h in TYPING_SURFACES if wanted(u + "?q=")]:
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

            print(f"every filter of every list, first view after a change ({args.rounds} rounds each; "
                  f"p50/p99 wall, server CPU per request):")
            first_views: list[float] = []
            first_cpu = 0.0
            misses: list[str] = []
            cpu_misses: list[str] = []

            refused: list[str] = []

            def first_view(url: str) -> None:
                nonlocal first_cpu
                times, cpu_used = [], 0.0
                for n in range(args.rounds):
                    change(1000 + n)
                    cpu = cpu_seconds(server.pid)
                    try:
                        times.append(timed(url))
                    except SystemExit as answer:   # a filter this folder refuses: said, not timed
                        refused.append(f"{url}: {answer}")
                        print(f"  {url:78s} refused: {str(answer)[:120]}")
                        return
                    cpu_used += cpu_seconds(server.pid) - cpu
                first_cpu += cpu_used
                first_views.extend(times)
                p50, p99 = percentiles(times)
                results.add(f"first view {url} p99", p99)
                if p99 > LIST_BUDGET_MS:
                    misses.append(url)
                if cpu_used * 1000 / len(times) > LIST_BUDGET_MS:
                    cpu_misses.append(url)
                print(f"  {url:78s} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  CPU {cpu_used * 1000 / len(times):5.1f} ms"
                      f"{'  OVER' if p99 > LIST_BUDGET_MS else ''}")

            for kind in [] if args.pdf_only else DOCUMENT_STATUSES:
                for params, position in document_combinations(kind):
                    if not any(wanted(f"{prefix}?{params}") for prefix in (f"/api/v1/{kind}", f"/{kind}")):
                        continue
                    found = client.get(f"/api/v1/{kind}?{params}&per_page={PER_PAGE}")
                    if found.status_code != 200:
                        raise SystemExit(f"/api/v1/{kind}?{params}: {found.status_code} {found.text[:200]}")
                    page_count = max(1, -(-found.json()["total"] // PER_PAGE))
                    number = {"first": 1, "middle": (page_count + 1) // 2, "last": page_count}[position]
                    for prefix in (f"/api/v1/{kind}", f"/{kind}"):
                        if not wanted(f"{prefix}?{params}"):
                            continue
                        size = f"&per_page={PER_PAGE}" if prefix.startswith("/api/") else ""
                        first_view(f"{prefix}?{params}&page={number}{size}")
            for url in [] if args.pdf_only else [u for u in OTHER_URLS if wanted(u)]:
                first_view(url)
            if first_views:
                report("every list filter, first view after a change", first_views, first_cpu, LIST_BUDGET_MS)
                asked = len(first_views) // args.rounds
                print(f"URLs over {LIST_BUDGET_MS:.0f} ms (p99 wall): {len(misses)} of {asked}; over "
                      f"{LIST_BUDGET_MS:.0f} ms of server CPU per request: {len(cpu_misses)} of {asked}")
                results.add("list URLs over budget (p99 wall)", len(misses), "count")
                results.add("list URLs over budget (server CPU)", len(cpu_misses), "count")
                for url in cpu_misses:
                    print(f"  CPU over budget: {url}")
            if refused:
                print(f"{len(refused)} URLs refused (not timed):")
                failures += 1

            pdf_url = f"/api/v1/invoices/{issued_invoice(client)}/pdf" if wanted("/pdf") else ""
            etag = client.get(pdf_url).headers.get("etag", "") if pdf_url else ""
            for label, headers in ((f"{pdf_url} (stored PDF)", None),
                                   (f"{pdf_url} (If-None-Match: 304)", {"If-None-Match": etag})) if pdf_url else ():
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
            for n in range(0 if args.pdf_only or not wanted("/reports/aging") else args.rounds * 4):
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
