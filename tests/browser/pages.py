"""Every page of a Counterfoil with demo data, and what the browser tests measure on each.

The browser tests (tests/browser/test_screens.py) and a person comparing two versions use the
same functions:

    python -m tests.browser.pages http://127.0.0.1:8000 [owner-email] [password]

prints, for every page, its axe-core violations by impact and its cold transfer size (an
empty cache, everything the page fetches), then the totals.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "build" / "node" / "node_modules" / "axe-core" / "axe.min.js"

# Pages reached without knowing any id.
FIXED_PAGES = [
    "/", "/clients", "/clients/new", "/catalog", "/catalog/new", "/quotes", "/quotes/new", "/invoices",
    "/invoices/new", "/credit-notes", "/credit-notes/new", "/payments", "/recurring", "/recurring/new", "/reminders",
    "/projects", "/projects/new", "/projects/report", "/projects/bill", "/time", "/timesheet", "/expenses",
    "/expenses/new", "/expenses/categories", "/vendors", "/vendors/new", "/reports", "/reports/aging",
    "/reports/profit-loss", "/reports/revenue", "/reports/tax", "/exports", "/outbox", "/settings",
    "/settings/taxes", "/settings/email", "/settings/dunning", "/backup", "/audit", "/audit/verify", "/users",
    "/account",
]
# Pages of one record: the first link matching the pattern on the list page, then the suffixes.
RECORD_PAGES = [
    ("/clients", r"^/clients/\d+$", ["", "/edit", "/ledger", "/statement"]),
    ("/invoices?status=paid", r"^/documents/\d+$", ["", "/send", "/print"]),
    ("/invoices?status=overdue", r"^/documents/\d+$", ["", "/payments/new"]),
    ("/invoices?status=draft", r"^/documents/\d+$", ["/edit"]),
    ("/quotes", r"^/documents/\d+$", [""]),
    ("/credit-notes", r"^/documents/\d+$", [""]),
    ("/catalog", r"^/catalog/\d+/edit$", [""]),
    ("/recurring", r"^/recurring/\d+$", ["", "/edit"]),
    ("/reminders", r"^/reminders/\d+$", [""]),
    ("/projects", r"^/projects/\d+$", ["", "/edit"]),
    ("/time", r"^/time/\d+/edit$", [""]),
    ("/expenses", r"^/expenses/\d+$", ["", "/edit"]),
    ("/vendors", r"^/vendors/\d+/edit$", [""]),
    ("/outbox", r"^/outbox/\d+$", [""]),
]
# The pages a person looks at most: screenshots at both sizes are named after them.
KEY_PAGES = {"/": "dashboard", "/clients": "clients", "/settings": "settings", "/invoices": "invoices"}


def sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/(\?.*)?$"))


def every_page(page: Any) -> list[str]:
    """FIXED_PAGES and the record pages of the first record of each list (the page must be signed in)."""
    paths = list(FIXED_PAGES)
    for list_path, pattern, suffixes in RECORD_PAGES:
        page.goto(list_path)
        hrefs = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.getAttribute('href'))")
        found = next((href.split("?")[0] for href in hrefs if re.match(pattern, href.split("?")[0])), None)
        if found is None:
            raise AssertionError(f"{list_path} links to no record matching {pattern}: is the demo data there?")
        paths.extend(found + suffix for suffix in suffixes if found + suffix not in paths)
    return paths


def page_name(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "dashboard"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is. Injected through the DevTools protocol (Playwright's
    evaluate), which the page's Content-Security-Policy does not govern: the CSP stays as in production."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        if not AXE.exists():
            raise AssertionError(f"{AXE} is missing: build/test.sh installs axe-core from npm")
        page.evaluate(AXE.read_text())
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations'],
                                           runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                        nodes: v.nodes.map(n => n.target.join(' ') + ' | ' + (n.failureSummary || '').split('\\n').slice(1, 2).join(''))}));
    }""")
    return list(result)


def impact_counts(violations: list[dict[str, Any]]) -> Counter[str]:
    """Nodes in violation by impact (critical, serious, moderate, minor)."""
    counts: Counter[str] = Counter()
    for violation in violations:
        counts[violation["impact"] or "minor"] += len(violation["nodes"])
    return counts


def overflow(page: Any) -> dict[str, Any]:
    """How much wider than the window the page is, and the first few elements sticking out."""
    return dict(page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const wide = [...document.querySelectorAll('body *')].filter(e => {
            const box = e.getBoundingClientRect();
            return box.width > 0 && box.right > width + 1 && getComputedStyle(e).position !== 'fixed';
        });
        return {scroll: document.documentElement.scrollWidth, width,
                culprits: wide.slice(-6).map(e => e.tagName + '.' + String(e.className).slice(0, 40) + ' ' +
                                          Math.round(e.getBoundingClientRect().right) + ': ' + (e.textContent || '').trim().slice(0, 30))};
    }"""))


def cold_weight(page: Any, path: str) -> tuple[int, list[tuple[str, int]]]:
    """Bytes the page transfers with an empty cache (the HTML, and every file it fetches, headers included)."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.clearBrowserCache")
    page.goto(path)
    page.wait_for_load_state("networkidle")
    entries = page.evaluate("""() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
                               .map(e => [e.name.replace(location.origin, ''), e.transferSize])""")
    session.detach()
    return sum(size for _, size in entries), [(name, size) for name, size in entries]


def narrow(base: str, email: str, password: str, shots: Path) -> int:
    """Every page at 390x844: print the ones wider than the window, and screenshot each."""
    from playwright.sync_api import sync_playwright

    shots.mkdir(parents=True, exist_ok=True)
    wide = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        context = browser.new_context(base_url=base, viewport={"width": 390, "height": 844})
        page = context.new_page()
        sign_in(page, email, password)
        for path in every_page(page):
            page.goto(path)
            page.wait_for_load_state("networkidle")
            found = overflow(page)
            page.screenshot(path=str(shots / f"390-{page_name(path)}.png"), full_page=True)
            if found["scroll"] > found["width"]:
                wide += 1
                print(f"{path}: {found}")
        browser.close()
    print(f"{wide} pages wider than 390 px")
    return 0


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    if argv[1] == "--narrow":
        return narrow(argv[2], "owner@example.com", "correct horse battery", Path(argv[3]))

    base = argv[1]
    email = argv[2] if len(argv) > 2 else "owner@example.com"
    password = argv[3] if len(argv) > 3 else "correct horse battery"
    total: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    examples: dict[str, str] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        sign_in(page, email, password)
        paths = every_page(page)
        for path in paths:
            page.goto(path)
            violations = axe_violations(page)
            counts = impact_counts(violations)
            for violation in violations:
                rules[f"{violation['impact']} {violation['id']}"] += len(violation["nodes"])
                examples.setdefault(violation["id"], f"{path}: {violation['nodes'][0]}")
            total.update(counts)
            print(f"{path:40} critical {counts['critical']:3} serious {counts['serious']:3} "
                  f"moderate {counts['moderate']:3} minor {counts['minor']:3}")
        for path in ("/", "/invoices", "/settings", "/catalog", "/reports"):
            size, entries = cold_weight(page, path)
            print(f"cold {path}: {size:,} bytes: " + ", ".join(f"{name} {s:,}" for name, s in entries))
        browser.close()
    for rule, count in rules.most_common():
        print(f"{count:5} {rule}  e.g. {examples[rule.split()[1]]}")
    print(f"{len(paths)} pages: " + ", ".join(f"{impact} {total[impact]}" for impact in
                                             ("critical", "serious", "moderate", "minor")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
