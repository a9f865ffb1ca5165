"""The journey of issue 15's closing note, done the shortest way a mouse user would: a new client, a
two-line invoice for them, issued, emailed. The test counts each click and key press it makes and prints
them (a new user once needed 22 clicks and 86 keys, 9 of the clicks to put the cursor in a field).

What keeps it short: the first field of every form has the cursor, an item code fills the line and moves
to its quantity, Enter in the last line adds the next one, the client's page starts an invoice for them
with the cursor in its first line, and the issued invoice's email is written and addressed already.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server, Watch, new_page, sign_in
from tests.browser.test_documents_journeys import YEAR, seeded_server

pytestmark = pytest.mark.browser

NAME, EMAIL = "Harbour Lights Café", "ap@harbour.example"


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Server, dict[str, Any]]]:
    yield from seeded_server(tmp_path)


class Counted:
    """The user's hands: every click and every key (a typed character is one key) is counted."""

    def __init__(self, page: Any):
        self.page, self.clicks, self.keys, self.focusing_clicks = page, 0, 0, 0

    def click(self, locator: Any, *, to_focus: bool = False) -> None:
        locator.click()
        self.clicks += 1
        self.focusing_clicks += to_focus

    def type(self, text: str) -> None:
        self.page.keyboard.type(text, delay=15)
        self.keys += len(text)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.keys += 1


def test_new_client_to_emailed_invoice_the_shortest_way(browser: Any, shop: tuple[Server, dict[str, Any]]) -> None:
    server, _ = shop
    watch = Watch(server)
    context, page = new_page(browser, server, watch)
    sign_in(page)
    hands = Counted(page)

    def answer(dialog: Any) -> None:   # "Issue this invoice? Numbers are final": one click on OK
        hands.clicks += 1
        dialog.accept()
    page.on("dialog", answer)
    try:
        page.goto("/")
        hands.click(page.locator(".sidebar").get_by_role("link", name="Clients", exact=True))
        hands.click(page.locator("main .page-head").get_by_role("link", name=re.compile("New client")))
        expect(page.locator("#f-name")).to_be_focused()          # no click to start typing
        hands.type(NAME)
        hands.click(page.locator("#f-email"), to_focus=True)
        hands.type(EMAIL)
        hands.click(page.get_by_role("button", name="Save client"))
        expect(page.get_by_role("heading", level=1)).to_contain_text(NAME)

        hands.click(page.get_by_role("button", name="New invoice"))
        expect(page.locator("#f-lines-0-item")).to_be_focused()  # the client is picked, the cursor in line 1
        hands.type("DEV-H")
        expect(page.locator("#f-lines-0-quantity")).to_be_focused()
        hands.type("10")
        hands.press("Enter")                                      # the next line
        expect(page.locator("#f-lines-1-item")).to_be_focused()
        hands.type("HOST-M")
        expect(page.locator("#f-lines-1-quantity")).to_be_focused()
        hands.type("3")
        expect(page.locator("#doc-totals")).to_contain_text("1,819.30")
        hands.click(page.get_by_role("button", name="Save draft").first)
        expect(page.locator(".flash")).to_contain_text("Draft saved")

        hands.click(page.get_by_role("button", name="Issue", exact=True))
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"INV-{YEAR}-0001")
        hands.click(page.get_by_role("link", name="Send by email"))
        expect(page.locator("#f-to")).to_have_value(EMAIL)         # addressed and written already
        hands.click(page.get_by_role("button", name="Send", exact=True))
        expect(page.locator(".flash")).to_contain_text(f"Queued for {EMAIL}")

        typed = len(NAME) + len(EMAIL) + len("DEV-H10HOST-M3")
        print(f"\nnew client -> two-line invoice -> issued -> emailed: {hands.clicks} clicks "
              f"({hands.focusing_clicks} to put the cursor in a field), {hands.keys} keys ({typed} of them typed text)")
        assert hands.clicks <= 11 and hands.focusing_clicks <= 1 and hands.keys <= typed + 1
    finally:
        context.close()
    watch.check()
