"""Email, outbox, exports and reports in a real browser against `counterfoil demo` data:
each page answers, fits the window, breaks no CSP rule; the send form queues a message."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server, _server
from tests.browser.test_page_screenshots import shoot, visit

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[Server]:
    yield from _server(workdir, "mail-demo", owner=True, demo=12)


def test_outbox_exports_and_reports_pages(owner_page: Any, server: Server) -> None:
    page = owner_page
    visit(page, "/outbox")
    expect(page.locator("table.outbox tbody tr").first).to_be_visible()
    expect(page.locator("body")).to_contain_text("Failed")
    shoot(page, "40-outbox")
    page.locator("table.outbox tbody a[href^='/outbox/']").first.click()
    expect(page).to_have_url(re.compile(r"/outbox/\d+$"))
    shoot(page, "41-outbox-message")

    visit(page, "/settings/email")
    page.locator("#f-smtp_host").fill("127.0.0.1")
    page.locator("#f-smtp_port").fill("1")
    page.locator("#f-smtp_security").select_option("none")
    page.locator("#f-smtp_password").fill("a-secret-password")
    page.locator("#f-smtp_allow_unencrypted_password").check()   # the test server has no TLS
    page.get_by_role("button", name="Save email settings").click()
    expect(page.locator(".flash")).to_contain_text("Email settings saved")
    expect(page.locator("#f-smtp_password")).to_have_value("")
    expect(page.locator("body")).to_contain_text("Saved; it is never shown again")
    assert "a-secret-password" not in page.content()
    page.get_by_role("button", name="Send a test message").click()
    expect(page.locator(".test-result")).to_contain_text("connection refused")
    shoot(page, "42-settings-email-test")

    visit(page, "/invoices?status=open")
    page.locator("a.button", has_text="CSV").wait_for()
    href = page.locator("a.button", has_text="CSV").get_attribute("href")
    assert href.startswith("/api/v1/exports/invoices.csv") and "status=open" in href
    page.locator("tbody a[href^='/documents/']").first.click()
    expect(page).to_have_url(re.compile(r"/documents/\d+$"))
    document_url = page.url
    visit(page, document_url.replace(server.base_url, "") + "/send")
    page.locator("#f-to").fill("someone@example.com")
    page.locator("#f-subject").fill("Your invoice")
    shoot(page, "43-send-invoice")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Queued for someone@example.com")

    visit(page, "/exports")
    shoot(page, "44-exports")
    visit(page, "/reports")
    shoot(page, "45-reports")
    visit(page, "/reports/revenue?period=month")
    # One chart per currency: the demo invoices in CAD, and in EUR to the German authority.
    expect(page.locator("svg.chart[aria-label^='CAD:']")).to_be_visible()
    expect(page.locator("svg.chart[aria-label^='EUR:']")).to_be_visible()
    shoot(page, "46-revenue-month")
    visit(page, "/reports/revenue?period=quarter&from=2020-01-01")
    shoot(page, "47-revenue-quarter")
