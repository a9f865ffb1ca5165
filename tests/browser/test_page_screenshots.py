"""A full-page screenshot of every page, empty and full, for a person to look at.

The PNGs land in /tmp/shots (or COUNTERFOIL_SHOTS). Besides taking them, each
test checks what a screenshot would show wrong without anyone looking: the
page answered 200 (or the status we expect), nothing is wider than the window,
and the page did not reach another host or break the CSP (the Watch).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS, Server, Watch, _server, new_page, tiny_png

pytestmark = pytest.mark.browser

LONG_NAME = "Lumière Boréale Architectes Paysagistes et Urbanistes Associés du Québec Inc."


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[Server]:
    """Overrides conftest's: an owner and `counterfoil demo --clients 40`."""
    yield from _server(workdir, "demo", owner=True, demo=40)


def shoot(page: Any, name: str) -> Path:
    """Save a full-page PNG after checking nothing spills sideways out of the window."""
    page.wait_for_load_state("networkidle")
    overflow = page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const wide = [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > width + 1);
        return {scroll: document.documentElement.scrollWidth, width,
                culprits: wide.slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 40))};
    }""")
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert overflow["scroll"] <= overflow["width"], f"{name}: the page is wider than the window: {overflow}"
    return path


def visit(page: Any, path: str, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None and response.status == status, f"{path}: {response and response.status}"


def test_screenshots_of_a_new_installation(browser: Any, fresh_server: Server) -> None:
    watch = Watch(fresh_server)
    context, page = new_page(browser, fresh_server, watch)
    try:
        visit(page, "/setup")
        shoot(page, "01-setup")
        page.locator("#f-business_name").fill("Atelier Zoë")
        page.locator("#f-email").fill("owner@example.com")
        page.locator("#f-password").fill("short")
        page.locator("#f-password_repeat").fill("different")
        page.get_by_role("button", name="Create my Counterfoil").click()
        expect(page.locator(".alert")).to_be_visible()
        shoot(page, "02-setup-errors")
        page.locator("#f-password").fill("correct horse battery")
        page.locator("#f-password_repeat").fill("correct horse battery")
        page.get_by_role("button", name="Create my Counterfoil").click()
        expect(page.get_by_role("heading", name="Getting started")).to_be_visible()
        shoot(page, "04-dashboard-empty")
        for path, name in (("/clients", "06-clients-empty"), ("/catalog", "11-catalog-empty"),
                           ("/settings", "13-settings-empty")):
            visit(page, path)
            shoot(page, name)
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/login"))
        shoot(page, "03-login")
        page.locator("#f-email").fill("owner@example.com")
        page.locator("#f-password").fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".error")).to_be_visible()
        shoot(page, "03-login-error")
    finally:
        context.close()
    watch.check()


def test_screenshots_with_demo_data(owner_page: Any, server: Server) -> None:
    page = owner_page
    # A long name must wrap, not push the table or the heading out of the window.
    visit(page, "/clients/new")
    page.locator("#f-name").fill(LONG_NAME)
    page.locator("#f-contact_name").fill("Hélène Côté-Bouchard")
    page.locator("#f-email").fill("comptabilite@lumiere-boreale-architectes-paysagistes.example")
    page.locator("#f-phone").fill("+1 418 555 0142")
    page.locator("#f-city").fill("Québec")
    page.locator("#f-country").fill("CA")
    page.locator("#f-currency").fill("CAD")
    page.locator("#f-notes").fill("Invoices in French.\nPurchase order number required on every invoice.")
    page.get_by_role("button", name="Save client").click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))

    visit(page, "/clients/new")
    page.locator("#f-name").fill("Zoë Tremblay")
    page.locator("#f-phone").fill("+1 416 555 0199")
    page.locator("#f-email").fill("zoe@tremblay.example")
    page.locator("#f-city").fill("Toronto")
    page.get_by_role("button", name="Save client").click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))

    visit(page, "/settings")
    page.locator("#f-logo").set_input_files(files=[{"name": "logo.png", "mimeType": "image/png",
                                                    "buffer": tiny_png(160, 60)}])
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator(".logo-box img")).to_be_visible()

    visit(page, "/")
    shoot(page, "05-dashboard-demo")
    visit(page, "/clients")
    expect(page.locator("#client-results tbody tr").first).to_be_visible()
    shoot(page, "07-clients")
    visit(page, "/clients?q=zoe")
    expect(page.locator("#client-results")).to_contain_text("Zoë Tremblay")
    shoot(page, "08-clients-search-zoe")
    visit(page, "/clients?q=lumi%C3%A8re")
    shoot(page, "08-clients-search-long-name")
    page.locator("#client-results a.row-link").first.click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    shoot(page, "09-client-detail-long-name")
    visit(page, "/clients?sort=code&dir=asc")
    page.locator("#client-results a.row-link").first.click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    shoot(page, "09-client-detail")
    page.get_by_role("link", name="Edit", exact=True).click()
    shoot(page, "09-client-edit")

    visit(page, "/clients/new")
    page.locator("#f-email").fill("not-an-email")
    page.get_by_role("button", name="Save client").click()
    expect(page.locator(".alert")).to_be_visible()
    shoot(page, "10-client-new-errors")

    visit(page, "/catalog")
    shoot(page, "11-catalog")
    visit(page, "/catalog/new")
    shoot(page, "12-catalog-new")
    page.get_by_role("button", name="Save item").click()
    expect(page.locator(".alert")).to_be_visible()
    shoot(page, "12-catalog-new-errors")
    visit(page, "/settings")
    shoot(page, "13-settings")
    visit(page, "/users")
    shoot(page, "14-users")
    visit(page, "/account")
    shoot(page, "15-account")
    visit(page, "/clients/99999", status=404)
    shoot(page, "16-not-found")
    visit(page, "/audit")
    expect(page.locator(".audit-table tbody tr").first).to_be_visible()
    shoot(page, "17-audit")
    visit(page, "/audit?entity=document&action=issue")
    shoot(page, "17-audit-issued")

    # A laptop screen split in two: the pages must still fit (wide tables scroll inside their card).
    page.set_viewport_size({"width": 760, "height": 900})
    for path, name in (("/", "20-narrow-dashboard"), ("/clients", "21-narrow-clients"),
                       ("/clients/new", "22-narrow-client-new"), ("/catalog", "23-narrow-catalog"),
                       ("/audit", "24-narrow-audit")):
        visit(page, path)
        shoot(page, name)
