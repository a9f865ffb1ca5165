"""Benchmark: what the audit trail costs a write, and how it reads and verifies at a million entries.

    .venv/bin/python build/bench_audit.py [--writes 300] [--invoices 100000] [--requests 50] [--json FILE]

1. Cost per write: the same service calls (a client changed, an invoice created with three
   lines, issued, a payment recorded: each one transaction of one to five entries) on two fresh
   databases, one with the trail (triggers and the seal before COMMIT) and one without (its audit
   triggers dropped, the engine's hooks off). Prints the medians of each, CPU time (the process's,
   both its threads: what a shared machine disturbs least) and wall time, and the differences.
   Budget (issue 13): recording adds under 1 ms to a write.
2. A million entries: the lives of 100,000 invoices (created with three lines, issued, an event,
   ledger entries, paid) written with SQL through the real triggers, sealed as the program seals
   them, then verified: the chain alone (budget: under 10 s) and with the books replayed against it.
3. Reading them: the audit page's queries (filters, a record's history, a deep page) and the page
   itself through HTTP, p50 and p99. Budget: p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_results import Results  # noqa: E402  (build/ is this script's folder)

from app.audit import logic, trail  # noqa: E402
from app.audit import service as audit_service  # noqa: E402
from app.config import Config  # noqa: E402
from app.db import engine  # noqa: E402
from app.db.lifecycle import open_database  # noqa: E402

WRITE_BUDGET_MS = 1.0
VERIFY_BUDGET_S = 10.0
PAGE_BUDGET_MS = 50.0
# Each is one write (one transaction); how many entries it records.
WRITES = {"client changed": 1, "invoice created (3 lines)": 5, "invoice issued": 5, "payment recorded": 3}
LINES = [{"description": "Design", "quantity": "3", "unit_price": "95.00"},
         {"description": "Hosting", "quantity": "1", "unit_price": "20.00"},
         {"description": "Support", "quantity": "2", "unit_price": "45.50"}]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# -- 1. the cost per write ----------------------------------------------------------------------------

async def _prepare(config: Config, audited: bool) -> None:
    from app.auth import service as auth_service
    from app.clients import service as clients_service

    await open_database(config)
    await auth_service.setup_owner({"business_name": "Bench", "email": "owner@example.com",
                                    "password": "bench password 1", "password_repeat": "bench password 1"})
    await clients_service.create_client({"name": "Bench Ltd", "currency": "EUR"})
    await engine.DB.close_connections()
    if not audited:
        connection = sqlite3.connect(config.database_path)
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit_%'"
                                          " AND tbl_name != 'audit_entry'").fetchall():
            connection.execute(f"DROP TRIGGER {name}")
        connection.commit()
        connection.close()


async def _burst(writes: int, times: dict[str, list[tuple[float, float]]]) -> None:
    """One user's writes, `writes` times over: a client changed, an invoice created, issued, paid."""
    from app.clients import service as clients_service
    from app.documents import service as documents_service
    from app.payments import service as payments_service

    clocks = (time.perf_counter, time.process_time)   # wall, and CPU of the whole process (both threads)
    for n in range(writes + 1):
        start = [clock() for clock in clocks]
        await clients_service.update_client(1, {"name": "Bench Ltd", "currency": "EUR", "notes": f"{time.time()}"})
        middle = [clock() for clock in clocks]
        draft = await documents_service.create_document("invoice", {"client_id": 1, "lines": LINES})
        created = [clock() for clock in clocks]
        invoice = await documents_service.issue(draft.id)
        issued = [clock() for clock in clocks]
        await payments_service.record_payment(invoice.id, {"amount": "10.00"})
        paid = [clock() for clock in clocks]
        if n == 0:
            continue   # the first after switching databases opens its connections
        for name, (before, after) in zip(WRITES, ((start, middle), (middle, created), (created, issued),
                                                   (issued, paid)), strict=True):
            times[name].append((after[0] - before[0], after[1] - before[1]))


async def _alternating(folders: dict[bool, Config], writes: int, rounds: int
                       ) -> dict[bool, dict[str, list[tuple[float, float]]]]:
    times: dict[bool, dict[str, list[tuple[float, float]]]] = {
        audited: {name: [] for name in WRITES} for audited in folders}
    for _ in range(rounds):
        for audited, config in folders.items():
            engine.configure(config.database_path)
            engine.install_transaction_hooks(audit_service.HOOKS if audited else None)
            await _burst(writes, times[audited])
    engine.install_transaction_hooks(audit_service.HOOKS)
    await engine.DB.close_connections()
    return times


def write_cost(folder: Path, writes: int, rounds: int = 10) -> dict[str, Any]:
    """Medians of short bursts that alternate between the two databases, `rounds` times: the machine
    may be shared, and what else runs meanwhile then weighs on both alike."""
    folders = {audited: Config(data_dir=folder / f"writes-{'with' if audited else 'without'}-trail")
               for audited in (False, True)}
    for audited, config in folders.items():
        asyncio.run(_prepare(config, audited))
    runs = asyncio.run(_alternating(folders, max(1, writes // rounds), rounds))
    results: dict[str, Any] = {}
    for what, entries in WRITES.items():
        row: dict[str, Any] = {"entries": entries}
        for index, clock in ((0, "wall"), (1, "cpu")):
            on = [t[index] * 1000 for t in runs[True][what]]
            off = [t[index] * 1000 for t in runs[False][what]]
            row[f"{clock}_with_trail_median_ms"] = round(statistics.median(on), 3)
            row[f"{clock}_without_median_ms"] = round(statistics.median(off), 3)
            row[f"{clock}_added_median_ms"] = round(statistics.median(on) - statistics.median(off), 3)
        results[what] = row
        print(f"  {what:28} ({entries} entr{'y' if entries == 1 else 'ies'}): CPU {row['cpu_without_median_ms']:6.3f}"
              f" -> {row['cpu_with_trail_median_ms']:6.3f} ms ({row['cpu_added_median_ms']:+.3f}); wall "
              f"{row['wall_without_median_ms']:6.3f} -> {row['wall_with_trail_median_ms']:6.3f} ms "
              f"({row['wall_added_median_ms']:+.3f}) (medians)")
    return results


# -- 2. a million entries ---------------------------------------------------------------------------

NOW = "2026-06-01 09:00:00+00:00"


def _step(connection: sqlite3.Connection, label: str, sql: str, timings: dict[str, float]) -> None:
    start = time.perf_counter()
    connection.execute("BEGIN")
    before = trail.start(connection)
    assert before is not None
    connection.execute(sql)
    written = time.perf_counter()
    trail.seal(connection, before, logic.Actor.system("benchmark", origin="system"))
    connection.execute("COMMIT")
    timings[label] = round(time.perf_counter() - start, 2)
    timings["sealing_s"] = round(timings.get("sealing_s", 0) + time.perf_counter() - written, 2)


def build_trail(config: Config, invoices: int) -> dict[str, Any]:
    """The lives of `invoices` invoices through the real triggers: about ten entries each."""
    asyncio.run(open_database(config))
    asyncio.run(engine.DB.close_connections())
    connection = sqlite3.connect(config.database_path, isolation_level=None)
    connection.execute("PRAGMA synchronous = OFF")
    timings: dict[str, float] = {}
    numbers = f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {invoices})"
    clients = max(1, invoices // 100)
    _step(connection, "clients", f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {clients}) "
          "INSERT INTO client (code, name, status, currency, language, search_text, created_at, updated_at) "
          f"SELECT printf('B%06d', i), 'Client ' || i, 'active', 'CAD', 'en', 'client ' || i, '{NOW}', '{NOW}' "
          "FROM n", timings)
    _step(connection, "drafts", f"{numbers} INSERT INTO document (doc_type, status, client, currency, issue_date, "
          "due_date, discount_percent, notes, terms, footer, subtotal_minor, tax_total_minor, total_minor, "
          "paid_minor, credited_minor, taxes_json, snapshot_json, cancel_reason, search_text, created_at, "
          f"updated_at) SELECT 'invoice', 'draft', 1 + i % {clients}, 'CAD', '2026-05-15', '2026-06-14', '0', "
          "'Thank you!', 'Payment due within 30 days.', '', 40600, 5278, 45878, 0, 0, '[]', '', '', "
          f"'invoice ' || i, '{NOW}', '{NOW}' FROM n", timings)
    _step(connection, "lines", "INSERT INTO document_line (document, position, description, quantity, unit, "
          "unit_price, discount_percent, tax_codes, net_minor) SELECT d.id, p.position, p.description, '1', 'hour', "
          "'95.00', '0', 'HST', p.net FROM document AS d, (SELECT 1 AS position, 'Design' AS description, 28500 AS net "
          "UNION ALL SELECT 2, 'Hosting', 2000 UNION ALL SELECT 3, 'Support', 10100) AS p ORDER BY d.id, p.position",
          timings)
    snapshot = json.dumps({"business": {"name": "Northwind Studio", "city": "Toronto"},
                           "client": {"name": "Client", "city": "Toronto"}})
    taxes = json.dumps([{"code": "HST", "rate": "13", "base": "406.00", "amount": "52.78"}])
    _step(connection, "issued", f"UPDATE document SET status = 'issued', number = printf('B-2026-%06d', id), "
          f"taxes_json = '{taxes}', snapshot_json = '{snapshot}', issued_at = '{NOW}', updated_at = '{NOW}'", timings)
    _step(connection, "events", "INSERT INTO document_event (document, at, kind, detail) "
          f"SELECT id, '{NOW}', 'issued', number FROM document", timings)
    _step(connection, "ledger (invoices)", "INSERT INTO ledger_entry (client, currency, entry_date, kind, document_id, "
          "number, description, debit_minor, credit_minor, amount_minor, at) SELECT client, currency, issue_date, "
          f"'invoice', id, number, 'Invoice ' || number, total_minor, 0, 0, '{NOW}' FROM document", timings)
    _step(connection, "payments", "INSERT INTO payment (client, invoice, currency, amount_minor, applied_minor, "
          "excess_minor, payment_date, method, reference, note, status, created_at) SELECT client, id, currency, "
          f"total_minor, total_minor, 0, '2026-06-01', 'bank_transfer', 'TR ' || id, '', 'live', '{NOW}' FROM document",
          timings)
    _step(connection, "paid", f"UPDATE document SET paid_minor = total_minor, updated_at = '{NOW}'", timings)
    _step(connection, "ledger (payments)", "INSERT INTO ledger_entry (client, currency, entry_date, kind, document_id, "
          "payment_id, number, description, debit_minor, credit_minor, amount_minor, at) SELECT p.client, p.currency, "
          "p.payment_date, 'payment', p.invoice, p.id, d.number, 'Payment', 0, p.amount_minor, 0, "
          f"'{NOW}' FROM payment AS p JOIN document AS d ON d.id = p.invoice", timings)
    count = connection.execute("SELECT count(*) FROM audit_entry").fetchone()[0]
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    print(f"trail: {count:,} entries written through the triggers and sealed; sealing took {timings['sealing_s']} s "
          f"({timings['sealing_s'] / count * 1e6:.1f} µs an entry)")
    return {"entries": count, "build_s": timings}


def verify(config: Config) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for books in (False, True):
        start = time.perf_counter()
        verification = audit_service.verify_database(config.database_path, books=books)
        elapsed = time.perf_counter() - start
        assert verification.ok, verification.problems()[:5]
        key = "verify_chain_s" if not books else "verify_chain_and_books_s"
        results[key] = round(elapsed, 2)
        print(f"verify {verification.entries:,} entries{' and the books against them' if books else ''}: "
              f"{elapsed:.2f} s {'(budget 10 s)' if not books else ''}")
    return results


# -- 3. reading them ------------------------------------------------------------------------------------

async def _query_times(config: Config, requests: int) -> dict[str, dict[str, float]]:
    await open_database(config)
    middle = (await audit_service.current_head()).seq // 2   # type: ignore[union-attr]
    document = 50_000
    cases: dict[str, Callable[[], Awaitable[Any]]] = {
        "newest": lambda: audit_service.list_entries(logic.AuditFilter()),
        "entity=document": lambda: audit_service.list_entries(logic.AuditFilter(entity="document")),
        "entity=payment": lambda: audit_service.list_entries(logic.AuditFilter(entity="payment")),
        "action=issue": lambda: audit_service.list_entries(logic.AuditFilter(action="issue")),
        "action=balance, deep": lambda: audit_service.list_entries(logic.AuditFilter(action="balance",
                                                                                       before=middle)),
        "one document's entries": lambda: audit_service.list_entries(logic.AuditFilter(entity="document",
                                                                                         entity_id=document)),
        "a document's history": lambda: audit_service.history("document", document),
        "user with no entries": lambda: audit_service.list_entries(logic.AuditFilter(user_id=1)),
        "actor=system:benchmark": lambda: audit_service.list_entries(logic.AuditFilter(actor="system:benchmark")),
        "period (one day)": lambda: audit_service.list_entries(logic.AuditFilter(
            date_from=date.today(), date_to=date.today())),
        "deep page": lambda: audit_service.list_entries(logic.AuditFilter(before=middle)),
        "entity=payment, action=issue (none)": lambda: audit_service.list_entries(
            logic.AuditFilter(entity="payment", action="issue")),
    }
    results = {}
    for name, case in cases.items():
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            await case()
            times.append((time.perf_counter() - start) * 1000)
        results[name] = {"p50_ms": round(statistics.median(times), 2), "p99_ms": round(percentile(times, 99), 2)}
        print(f"  {name:40} p50 {results[name]['p50_ms']:6.2f} ms   p99 {results[name]['p99_ms']:6.2f} ms")
    await engine.DB.close_connections()
    return results


def page_times(config: Config, requests: int) -> dict[str, dict[str, float]]:
    from litestar.testing import TestClient

    from app.web.security import SESSION_COOKIE
    from app.web.server import create_app

    token, session = asyncio.run(_owner_token(config))
    asyncio.run(engine.DB.close_connections())
    results = {}
    with TestClient(create_app(config), base_url=f"http://127.0.0.1:{config.port}") as client:
        client.cookies.set(SESSION_COOKIE, session)
        for name, url in [("page /audit", "/audit"), ("page /audit?entity=document", "/audit?entity=document"),
                          ("page /audit?action=payment&from=today", f"/audit?action=payment&from={date.today()}"),
                          ("page /audit/history/document/50000", "/audit/history/document/50000")]:
            times = []
            client.get(url)   # warm: the template compiled, the connections open
            for _ in range(requests):
                start = time.perf_counter()
                response = client.get(url, headers={"HX-Request": "true"} if "history" in url else {})
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.text
            results[name] = {"p50_ms": round(statistics.median(times), 2), "p99_ms": round(percentile(times, 99), 2)}
            print(f"  {name:58} p50 {results[name]['p50_ms']:6.2f} ms   p99 {results[name]['p99_ms']:6.2f} ms")
        client.cookies.clear()
        client.headers["Authorization"] = f"Bearer {token}"
        for name, url in [("GET /api/v1/audit", "/api/v1/audit"),
                          ("GET /api/v1/audit?entity=document", "/api/v1/audit?entity=document"),
                          ("GET /api/v1/audit?action=payment", "/api/v1/audit?action=payment"),
                          ("GET /api/v1/audit?entity=document&entity_id=50000",
                           "/api/v1/audit?entity=document&entity_id=50000")]:
            times = []
            client.get(url)
            for _ in range(requests):
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.text
            results[name] = {"p50_ms": round(statistics.median(times), 2), "p99_ms": round(percentile(times, 99), 2)}
            print(f"  {name:58} p50 {results[name]['p50_ms']:6.2f} ms   p99 {results[name]['p99_ms']:6.2f} ms")
    return results


async def _owner_token(config: Config) -> tuple[str, str]:
    """An owner's API token and browser session (the pages are for sessions)."""
    from app.auth import service as auth_service

    await open_database(config)
    owner = await auth_service.setup_owner({"business_name": "Bench", "email": "owner@example.com",
                                            "password": "bench password 1", "password_repeat": "bench password 1"})
    session, _ = await auth_service.start_session(owner["id"], lifetime_s=3600)
    return await auth_service.create_api_token_for_owner("bench"), session


def page_times_apart(config: Config, requests: int) -> dict[str, dict[str, float]]:
    """page_times in a process of its own, as a server would be: this one holds what building a
    million entries left in memory, and its garbage collector would time that, not the pages."""
    result = subprocess.run([sys.executable, __file__, "--http-only", str(config.data_dir), str(requests)],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    print(result.stdout.rstrip())
    return json.loads(result.stderr.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--http-only":
        logging.getLogger("httpx").setLevel(logging.WARNING)
        timings = page_times(Config(data_dir=Path(sys.argv[2])), int(sys.argv[3]))
        print(json.dumps(timings), file=sys.stderr)
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="counterfoil-bench-audit-") as folder:
        print(f"1. cost per write ({args.writes} of each, with and without the trail, in alternating bursts):")
        results["writes"] = write_cost(Path(folder), args.writes)
        config = Config(data_dir=Path(folder) / "million")
        print(f"2. the lives of {args.invoices:,} invoices:")
        results["trail"] = build_trail(config, args.invoices)
        results["trail"].update(verify(config))
        print(f"3. reading the trail ({args.requests} times each):")
        results["queries"] = asyncio.run(_query_times(config, args.requests))
        results["http"] = page_times_apart(config, args.requests)
    worst = max(v["p99_ms"] for part in ("queries", "http") for v in results[part].values())
    added = max(v["cpu_added_median_ms"] for v in results["writes"].values())
    print(f"budgets: recording adds at most {added:.3f} ms of CPU to a write (< {WRITE_BUDGET_MS} ms); verifying "
          f"{results['trail']['verify_chain_s']} s (< {VERIFY_BUDGET_S} s); worst p99 {worst:.1f} ms "
          f"(< {PAGE_BUDGET_MS} ms)")
    flat = Results("bench_audit")
    for name, write in results["writes"].items():
        flat.add(f"write {name}: CPU added (median)", write["cpu_added_median_ms"])
    flat.add("verify the chain", results["trail"]["verify_chain_s"], "s")
    for part in ("queries", "http"):
        for name, timing in results[part].items():
            flat.add(f"{name} p99", timing["p99_ms"])
    flat.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
