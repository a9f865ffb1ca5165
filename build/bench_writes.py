"""Benchmark: write latency through a real server, one client and eight at once.

    .venv/bin/python build/bench_writes.py [--rounds 25] [--clients 8]

Starts `counterfoil serve` on a fresh data folder (owner and API token made by the command line),
then each client repeats a round of three writes over its own TCP connection: create a 3-line
invoice, issue it, record a part payment. Prints p50 / p99 / max per kind of write, for one client
alone and for N clients at once. Every write goes through the single writer (BEGIN IMMEDIATE,
synchronous=FULL), so under N clients a write waits for the ones ahead of it: p99 grows with the
queue, bounded by N x the time of one write.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_results import Results  # noqa: E402  (build/ is this script's folder)

from tests.http.live_server import Server, start_server  # noqa: E402

LINES = [{"description": "Design work", "quantity": "6", "unit_price": "85.00"},
         {"description": "Hosting, one month", "quantity": "1", "unit_price": "25.00"},
         {"description": "Domain renewal", "quantity": "1", "unit_price": "14.99"}]


def one_client(server: Server, client_id: int, rounds: int, timings: dict[str, list[float]], lock: threading.Lock,
               start: threading.Barrier) -> None:
    mine: dict[str, list[float]] = {"create": [], "issue": [], "payment": []}
    with server.client() as api:
        api.get("/health")   # open the connection before the clock starts
        start.wait()
        for _ in range(rounds):
            began = time.perf_counter()
            created = api.post("/api/v1/invoices", json={"client_id": client_id, "lines": LINES})
            mine["create"].append(time.perf_counter() - began)
            assert created.status_code == 201, created.text
            document_id = created.json()["id"]
            began = time.perf_counter()
            issued = api.post(f"/api/v1/invoices/{document_id}/issue")
            mine["issue"].append(time.perf_counter() - began)
            assert issued.status_code == 200, issued.text
            began = time.perf_counter()
            paid = api.post(f"/api/v1/invoices/{document_id}/payments", json={"amount": "100.00"})
            mine["payment"].append(time.perf_counter() - began)
            assert paid.status_code == 201, paid.text
    with lock:
        for kind, values in mine.items():
            timings[kind].extend(values)


def run(server: Server, clients: int, rounds: int) -> tuple[dict[str, list[float]], float]:
    with server.client() as api:
        client_id = api.post("/api/v1/clients", json={"name": f"Bench {clients}", "currency": "EUR"}).json()["id"]
    timings: dict[str, list[float]] = {"create": [], "issue": [], "payment": []}
    lock = threading.Lock()
    start = threading.Barrier(clients)
    threads = [threading.Thread(target=one_client, args=(server, client_id, rounds, timings, lock, start))
               for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, time.perf_counter() - began


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(title: str, timings: dict[str, list[float]], elapsed: float, results: Results) -> None:
    every = [value for values in timings.values() for value in values]
    results.add(f"{title}: writes per second", len(every) / elapsed, "/s", higher_is_better=True)
    print(f"\n{title}: {len(every)} writes in {elapsed:.1f} s ({len(every) / elapsed:.0f} writes/s)")
    print(f"  {'write':<10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for kind, values in [*timings.items(), ("all", every)]:
        results.add(f"{title}: {kind} p50", statistics.median(values) * 1000)
        results.add(f"{title}: {kind} p99", percentile(values, 0.99) * 1000)
        print(f"  {kind:<10}{statistics.median(values) * 1000:>9.1f}{percentile(values, 0.99) * 1000:>9.1f}"
              f"{max(values) * 1000:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25, help="rounds of three writes per client")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--json", type=Path, help="also write the numbers here (build/bench_compare.py)")
    args = parser.parse_args()
    results = Results("bench_writes")
    with tempfile.TemporaryDirectory() as folder:
        servers = start_server(Path(folder))
        server = next(servers)
        try:
            report("1 client", *run(server, 1, args.rounds), results)
            report(f"{args.clients} clients at once", *run(server, args.clients, args.rounds), results)
            results.write(args.json)
        finally:
            servers.close()


if __name__ == "__main__":
    main()
