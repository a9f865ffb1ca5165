"""Exchange rates, bank accounts and totals in the base currency in a real browser, on the demo (issue 16):
screenshots to look at (in /tmp/shots), and the pages checked for what a person would see wrong."""

from __future__ import annotations

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
    """Overrides conftest's: an owner and `counterfoil demo --clients 40`."""
    yield from _server(workdir, "demo", owner=True, demo=40)


def test_rates_accounts_and_base_totals(owner_page: Any, server: Server) -> None:
    page = owner_page
    visit(page, "/")
    card = page.locator("#base-total")
    expect(card).to_be_visible()
    expect(card).to_contain_text("at issue-date rates")
    expect(card).to_contain_text("EUR")
    card.screenshot(path=str(shoot(page, "fx-01-dashboard").with_name("fx-01b-dashboard-card.png")))

    visit(page, "/settings/exchange-rates")
    expect(page.get_by_role("heading", name="Latest rates")).to_be_visible()
    shoot(page, "fx-02-rates")
    page.locator("#f-currency").fill("JPY")
    page.locator("#f-rate").fill("-3")
    page.get_by_role("button", name="Save rate").click()
    expect(page.locator(".alert")).to_contain_text("above zero")
    shoot(page, "fx-03-rates-refused")
    page.locator("#f-rate").fill("110.45")
    page.get_by_role("button", name="Save rate").click()
    expect(page.locator("body")).to_contain_text("Rate saved: 1 CAD = 110.45 JPY")

    visit(page, "/settings/bank-accounts")
    expect(page.locator("body")).to_contain_text("BE71096123456769")
    shoot(page, "fx-04-bank-accounts")

    visit(page, "/reports/revenue")
    expect(page.locator("#revenue-base-total")).to_contain_text("at issue-date rates")
    shoot(page, "fx-05-revenue")
    visit(page, "/reports/aging")
    shoot(page, "fx-06-aging")
    visit(page, "/reports/profit-loss")
    expect(page.locator("#pnl-bank-fees")).to_be_visible()
    shoot(page, "fx-07-pnl")
