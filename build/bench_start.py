"""Benchmark the double-click: the start of `counterfoil serve` to its first page, warm (issue 21, point 4).

    .venv/bin/python build/bench_start.py [--rounds 20] [--against OTHER_CHECKOUT] [--program CMD]
                                          [--browser] [--json FILE]

Builds its own data folder (`counterfoil init`), starts one warm-up server, then times --rounds starts. Each
start is timed from the moment the program is started:
- to the first 200 of /health, and to the first page a double-click shows: the launcher opens the browser on
  its one-time launch page, which a Python poller follows as a browser does (the launch link, then the
  dashboard it moves on to); the browser is `true`, which opens nothing (what build/smoke does, with a
  lighter poller than curl);
- with --browser, to the dashboard loaded in headless Chromium (through Playwright, a dev dependency), which
  the launcher starts itself: the browser's own start and the server's overlap, as on a user's machine.
  Chromium's start through Playwright takes most of it.

--against times another checkout of Counterfoil (its own `app` package, this checkout's Python) start by
start with this one, so that a busy machine slows both alike; the medians are compared. --program times a
command instead of `python -m app` (the single executable: build/out/counterfoil).
Prints p25, median and p75 of each; the machine's load average is printed with them (a busy machine is
slower, and that is not a regression).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pages import free_port
from bench_results import Results

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "a-long-bench-password-1"


def get(port: int, path: str, cookie: str = "") -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def wait_for_health(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server stopped at its start (exit {process.returncode})")
        try:
            if get(port, "/health").status == 200:
                return
        except OSError:
            time.sleep(0.002)
    raise SystemExit("no answer from /health within 30 s")


def follow_launch_page(data_dir: Path, port: int, deadline: float) -> None:
    """What a browser does with the launch page: its link (which signs in), then the dashboard."""
    page = data_dir / "open-counterfoil.html"
    while time.monotonic() < deadline:
        try:
            found = re.search(r"url=([^']*)'", page.read_text(encoding="utf-8"))
        except OSError:
            found = None
        if found:
            break
        time.sleep(0.002)
    else:
        raise SystemExit("no launch page within 30 s")
    launch = get(port, found.group(1).replace("&amp;", "&").split(f":{port}", 1)[1])
    cookie = "; ".join(value.split(";")[0] for name, value in launch.getheaders() if name.lower() == "set-cookie")
    dashboard = get(port, "/", cookie)
    if dashboard.status != 200:
        raise SystemExit(f"the dashboard answered {dashboard.status} after the launch link")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def timed_start(command: list[str], cwd: Path, data_dir: Path, *, browser: bool) -> tuple[float, float]:
    """(seconds to /health, seconds to the first page) of one start."""
    port = free_port()
    (data_dir / "open-counterfoil.html").unlink(missing_ok=True)
    stamp = data_dir.parent / "dashboard-loaded"
    stamp.unlink(missing_ok=True)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["BROWSER"] = (f"{shlex.quote(sys.executable)} {shlex.quote(__file__)} --open-in-chromium %s "
                      f"--stamp {shlex.quote(str(stamp))}") if browser else "true"
    started, started_wall = time.monotonic(), time.time()
    process = subprocess.Popen([*command, "serve", "--data-dir", str(data_dir), "--port", str(port)], cwd=cwd,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = started + 30
        wait_for_health(port, process, deadline)
        to_health = time.monotonic() - started
        if browser:
            while not stamp.exists() and time.monotonic() < deadline:
                time.sleep(0.005)
            if not stamp.exists():
                raise SystemExit("Chromium did not load the dashboard within 30 s")
            time.sleep(0.01)   # written, not only made
            return to_health, float(stamp.read_text(encoding="utf-8")) - started_wall
        follow_launch_page(data_dir, port, deadline)
        return to_health, time.monotonic() - started
    finally:
        stop(process)


def open_in_chromium(url: str, stamp: Path) -> None:
    """The browser the launcher starts with --browser: the time the dashboard loaded goes to `stamp`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = chromium.new_page()
        page.goto(url)
        page.wait_for_url(lambda address: address.startswith("http") and "/launch" not in address, timeout=30_000)
        page.wait_for_load_state("load")
        stamp.write_text(repr(time.time()), encoding="utf-8")
        chromium.close()


def quartiles(values: list[float]) -> tuple[float, float, float]:
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--against", type=Path, help="another checkout, timed start by start with this one")
    parser.add_argument("--program", help="a command to time instead of `python -m app`")
    parser.add_argument("--browser", action="store_true", help="to the dashboard loaded in headless Chromium")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--open-in-chromium", help=argparse.SUPPRESS)
    parser.add_argument("--stamp", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.open_in_chromium:
        open_in_chromium(args.open_in_chromium, args.stamp)
        return

    command = shlex.split(args.program) if args.program else [sys.executable, "-m", "app"]
    checkouts = [("this checkout", ROOT)] + ([(f"{args.against}", args.against.resolve())] if args.against else [])
    with tempfile.TemporaryDirectory(prefix="counterfoil-bench-start-") as folder:
        data_dir = Path(folder) / "data"
        password_file = Path(folder) / "password"
        password_file.write_text(PASSWORD + "\n", encoding="utf-8")
        subprocess.run([sys.executable, "-m", "app", "init", "--data-dir", str(data_dir), "--owner-email",
                        "owner@example.com", "--password-file", str(password_file)], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        for _name, cwd in checkouts:   # the first start compiles and keeps what the next ones find
            timed_start(command, cwd, data_dir, browser=False)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name, _ in checkouts}
        for _round in range(args.rounds):
            for name, cwd in checkouts:
                to_health, to_page = timed_start(command, cwd, data_dir, browser=args.browser)
                times[name][0].append(to_health)
                times[name][1].append(to_page)

    page_name = "the dashboard loaded in headless Chromium" if args.browser else "the first page (launch link, dashboard)"
    print(f"warm starts of {' '.join(command[-2:]) if not args.program else args.program}, {args.rounds} rounds; "
          f"load average {load} at the start, {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end, "
          f"{os.cpu_count()} cores")
    print(f"{'':32}{'to /health (p25 / median / p75)':>34}{'to ' + page_name:>52}")
    results = Results("start")
    for name, (health, page) in times.items():
        h, p = quartiles(health), quartiles(page)
        print(f"{name:32}{h[0]:>14.3f} / {h[1]:.3f} / {h[2]:.3f} s{'':18}{p[0]:.3f} / {p[1]:.3f} / {p[2]:.3f} s")
        if name == "this checkout":
            results.add("warm start to /health, median", h[1] * 1000)
            results.add(f"warm start to {'the dashboard in Chromium' if args.browser else 'the first page'}, median",
                        p[1] * 1000)
    if args.against:
        ours, theirs = (statistics.median(times[name][1]) for name, _ in checkouts)
        print(f"this checkout's median first page: {(ours - theirs) * 1000:+.0f} ms against {args.against}")
    results.write(args.json)


if __name__ == "__main__":
    main()
