"""Reminders in the browser, on `counterfoil demo`: the due list, sending one, the reminder's page, the
invoice's reminder history and the dunning settings, each page fitting the window with no CSP breach."""

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
    yield from _server(workdir, "reminders", owner=True, demo=40)


def test_send_a_reminder_and_follow_it(owner_page: Any) -> None:
    page = owner_page
    visit(page, "/reminders")
    expect(page.get_by_role("heading", name="Reminders", level=1)).to_be_visible()
    shoot(page, "30-reminders")
    first = page.locator("input[name=invoice_ids]").first
    number = page.locator("#due-form tbody tr").first.locator("a.mono").inner_text()
    first.check()
    page.get_by_role("button", name="Send selected").click()
    expect(page.locator("body")).to_contain_text("1 reminder made")
    page.locator("table").last.locator("a.mono").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("REM-")
    expect(page.locator("body")).to_contain_text(number)
    shoot(page, "31-reminder")
    page.get_by_role("link", name=number).first.click()
    expect(page.locator(".reminders-card")).to_contain_text("REM-")
    shoot(page, "32-invoice-with-reminders")
    visit(page, "/settings/dunning")
    page.locator("#f-level_2_fee_flat").fill("7.50")
    page.get_by_role("button", name="Save dunning settings").click()
    expect(page.locator("body")).to_contain_text("Dunning settings saved")
    expect(page.locator("#f-level_2_fee_flat")).to_have_value("7.50")
    shoot(page, "33-dunning-settings")
    page.set_viewport_size({"width": 760, "height": 900})
    visit(page, "/reminders")
    shoot(page, "34-narrow-reminders")
