"""Benchmark: export and import of a large data folder, as the user runs them (the CLI, a real process).

    .venv/bin/python build/bench_backup.py [--clients 10000] [--invoices 100000] [--attachments-mb 50] [--keep DIR]

Builds its own data set: a demo business without clients or invoices (`counterfoil demo --clients 0`,
so the schema, settings, taxes and catalogue are the real ones), then 10,000 clients and 100,000
invoices with three lines each and their payments imported with `counterfoil import`
(build/bench_import.py's build_book, cached by a key), and 50 MB of incompressible attachments. Prints the wall time and the peak memory (max RSS of the
child process) of `counterfoil backup export` and of `counterfoil backup import` into an empty
folder. Budget (DESIGN.md): 10 s each.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_results import Results  # noqa: E402  (build/ is this script's folder)

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


def build(data_dir: Path, clients: int, invoices: int, attachments_mb: int) -> None:
    """The data set: a ten-year book imported with `counterfoil import` (build/bench_import.py's build_book,
    cached by a key), and `attachments_mb` of incompressible attachments."""
    started = time.perf_counter()
    spec = importlib.util.spec_from_file_location("bench_import", ROOT / "build" / "bench_import.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    module.build_book(data_dir, clients, invoices)
    rng = random.Random(2026)
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
