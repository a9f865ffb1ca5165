"""Peppol BIS in the browser, on `counterfoil demo` data: the electronic address in Settings and on a client,
the Peppol UBL download from the invoice page, and the page that says what is missing. Screenshots land
in /tmp/shots (or COUNTERFOIL_SHOTS) for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from playwright.sync_api import expect

from tests.browser.conftest import Server, Watch, _server, new_page, sign_in
from tests.browser.test_page_screenshots import shoot
from tests.unit.test_ubl import X, rule_failures

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[Server]:
    """An owner and `counterfoil demo --clients 6` (the Belgian Peppol participant among them)."""
    yield from _server(workdir, "peppol", owner=True, demo=6)


def test_peppol_from_settings_to_the_downloaded_file(browser: Any, server: Server, tmp_path: Path) -> None:
    watch = Watch(server)
    context, page = new_page(browser, server, watch)
    try:
        sign_in(page)
        page.goto("/settings")
        expect(page.locator("#f-electronic_address")).to_have_value("7540012345674")
        page.locator("#f-electronic_address_scheme").scroll_into_view_if_needed()
        shoot(page, "peppol-01-settings")

        page.goto("/clients?q=Verhaeghe")
        page.get_by_role("link", name="Maison Verhaeghe BV").first.click()
        expect(page.get_by_text("0208:0879464059")).to_be_visible()
        shoot(page, "peppol-02-client")
        page.goto(page.url.split("?")[0] + "/edit")
        page.locator("#f-electronic_address").fill("0879464058")  # a wrong check digit
        page.get_by_role("button", name="Save changes").click()
        expect(page.locator(".field.has-error")).to_contain_text("not a Belgian enterprise number")
        shoot(page, "peppol-03-client-error")

        page.goto("/invoices?q=Verhaeghe")
        page.locator("a.mono").first.click()
        link = page.get_by_role("link", name="Peppol UBL")
        expect(link).to_be_visible()
        shoot(page, "peppol-04-invoice")
        with page.expect_download() as event:
            link.click()
        saved = tmp_path / event.value.suggested_filename
        event.value.save_as(saved)
        assert saved.name.endswith("-peppol-ubl.xml")
        xml = saved.read_bytes()
        assert rule_failures(xml) == []
        assert etree.fromstring(xml).findtext("cac:AccountingCustomerParty/cac:Party/cac:PartyName/cbc:Name",
                                              namespaces=X) == "Maison Verhaeghe BV"

        # Any other client has no electronic address: the page says so and links to where it is set.
        page.goto("/invoices?status=issued")
        rows = page.locator("table a.mono")
        for index in range(rows.count()):
            href = rows.nth(index).get_attribute("href") or ""
            response = page.request.get(href + "/peppol.xml")
            if response.status == 422:
                page.goto(href + "/peppol.xml")
                break
        else:
            pytest.fail("every demo invoice has a Peppol address")
        expect(page.get_by_role("heading", name="No Peppol e-invoice yet")).to_be_visible()
        expect(page.get_by_role("link", name="Edit").first).to_be_visible()
        shoot(page, "peppol-05-refused")
    finally:
        context.close()
    watch.check()
