"""Issue 15 point 8 in a real Chromium: "Add a new client" from a document's client picker keeps the typed
name and comes back to the document with the client picked, from the new-invoice page and from a draft's
editor."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server, Watch, new_page, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    server = Server(data_dir=tmp_path / "data")
    server.owner()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_add_a_new_client_from_the_picker_and_come_back(browser: Any, server: Server) -> None:
    watch = Watch(server)
    context, page = new_page(browser, server, watch)
    try:
        sign_in(page)
        page.goto("/invoices/new")
        page.locator("#pick-q").fill("Globex Nord")
        add = page.get_by_role("link", name="Add “Globex Nord” as a new client")
        expect(add).to_be_visible()
        add.click()

        # The client form keeps what was typed and says where saving leads.
        expect(page).to_have_url(re.compile(r"/clients/new\?"))
        expect(page.locator("#f-name")).to_have_value("Globex Nord")
        expect(page.locator("#return-note")).to_be_visible()
        # Country and currency are pickers from Babel's lists; the server checks what is sent.
        expect(page.locator("#f-country")).to_have_attribute("list", "country-codes")
        assert page.locator("#country-codes option[value='DE']").get_attribute("label") in (None, "") \
            and page.locator("#country-codes option[value='DE']").inner_text() == "Germany"
        page.locator("#f-country").fill("DE")
        page.locator("#f-currency").fill("EUR")
        page.get_by_role("button", name="Save client").click()

        # Back on a new draft for the new client, picked.
        expect(page).to_have_url(re.compile(r"/documents/\d+/edit$"))
        expect(page.locator(".client-option", has_text="Globex Nord").locator("input")).to_be_checked()
        expect(page.locator("#f-currency")).to_have_value("EUR")
        draft_url = page.url

        # From the draft's editor: find another client, add them, come back to the same draft.
        page.get_by_text("Change client").click()
        page.locator("#f-client_id").fill("Initech Labs")
        add = page.get_by_role("link", name="Add “Initech Labs” as a new client")
        expect(add).to_be_visible()
        add.click()
        expect(page.locator("#f-name")).to_have_value("Initech Labs")
        page.get_by_role("button", name="Save client").click()
        expect(page).to_have_url(draft_url)
        expect(page.locator(".client-option", has_text="Initech Labs").locator("input")).to_be_checked()
    finally:
        context.close()
    watch.check()
