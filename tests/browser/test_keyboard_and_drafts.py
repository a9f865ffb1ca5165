"""Any keyboard, nothing lost (issue 15 points 5 and 6), in a real Chromium against a real server.

- A new client and a two-line invoice, issued and emailed with the keyboard only: the test counts
  every key and click (and prints the counts: a new user once needed 22 clicks and 86 keys).
- The shortcuts: the skip link, `/` to search, `n` for a new one, Escape and a click outside close
  the tax picker.
- The document editor saves its draft as the user types (a reload shows what was typed); a change it
  cannot save makes leaving ask. The client and item forms ask before leaving with changes; the
  logo upload keeps what was typed in the settings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server, Watch, new_page, sign_in, tiny_png
from tests.browser.test_documents_journeys import YEAR, seeded_server

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Server, dict[str, Any]]]:
    yield from seeded_server(tmp_path)


class Keyboard:
    """The page's keyboard, counting every key pressed (a typed character is one key)."""

    def __init__(self, page: Any):
        self.page = page
        self.keys = 0
        self.clicks = 0

    def type(self, text: str) -> None:
        self.page.keyboard.type(text, delay=15)
        self.keys += len(text)

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)
            self.keys += 1


def signed_in(browser: Any, server: Server) -> tuple[Any, Any, Watch]:
    watch = Watch(server)
    context, page = new_page(browser, server, watch)
    sign_in(page)
    return context, page, watch


def test_new_client_to_issued_and_emailed_invoice_with_the_keyboard_only(
        browser: Any, shop: tuple[Server, dict[str, Any]]) -> None:
    server, _ = shop
    context, page, watch = signed_in(browser, server)
    keyboard = Keyboard(page)
    # "Issue…? numbers are final": Enter accepts the browser's question (one key).
    def answer(dialog: Any) -> None:
        keyboard.keys += 1
        dialog.accept()
    page.on("dialog", answer)
    try:
        page.goto("/")
        # The skip link is the first stop of Tab, and leads into the page.
        keyboard.press("Tab")
        expect(page.locator(".skip-link")).to_be_focused()
        expect(page.locator(".skip-link")).to_be_visible()
        keyboard.press("Shift+Tab")  # back out: the journey starts from the page itself
        # n: a new client; its first field has the cursor.
        keyboard.press("n")
        expect(page).to_have_url(re.compile(r"/clients/new$"))
        expect(page.locator("#f-name")).to_be_focused()
        keyboard.type("Harbour Lights Café")
        keyboard.press("Tab", 3)
        expect(page.locator("#f-email")).to_be_focused()
        keyboard.type("ap@harbour.example")
        keyboard.press("Control+Enter")
        expect(page).to_have_url(re.compile(r"/clients/\d+$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Harbour Lights Café")

        # n on the client's page: a new invoice for them, the cursor in its first line.
        keyboard.press("n")
        expect(page).to_have_url(re.compile(r"/documents/\d+/edit$"))
        expect(page.locator("#f-lines-0-item")).to_be_focused()
        keyboard.type("DEV-H")
        expect(page.locator("#f-lines-0-quantity")).to_be_focused()
        keyboard.type("10")
        expect(page.locator("#net-0")).to_have_text("1,250.00")
        keyboard.press("Enter")                      # the next line
        expect(page.locator("#f-lines-1-item")).to_be_focused()
        keyboard.type("HOST-M")
        expect(page.locator("#f-lines-1-quantity")).to_be_focused()
        keyboard.type("3")
        expect(page.locator("#doc-totals")).to_contain_text("1,819.30")
        keyboard.press("Control+Enter")              # Save draft
        expect(page.locator(".flash")).to_contain_text("Draft saved")

        # The draft's page puts the cursor on Issue; Enter, and Enter again for the question.
        expect(page.get_by_role("button", name="Issue", exact=True)).to_be_focused()
        keyboard.press("Enter")
        number = f"INV-{YEAR}-0001"
        expect(page.get_by_role("heading", level=1)).to_contain_text(number)
        # Issued: the cursor waits on "Send by email"; the message is written, Ctrl+Enter sends it.
        expect(page.get_by_role("link", name="Send by email")).to_be_focused()
        keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/send$"))
        expect(page.locator("#f-to")).to_have_value("ap@harbour.example")
        keyboard.press("Control+Enter")
        expect(page.locator(".flash")).to_contain_text("Queued for ap@harbour.example")
        print(f"\nnew client -> issued invoice -> emailed: {keyboard.clicks} clicks, {keyboard.keys} keys "
              f"(typing {len('Harbour Lights Café') + len('ap@harbour.example') + len('DEV-H10HOST-M3')} of them)")
        assert keyboard.clicks == 0
        assert keyboard.keys <= 70
    finally:
        context.close()
    watch.check()


def test_slash_searches_n_starts_a_new_one_and_escape_or_a_click_outside_closes_the_tax_picker(
        browser: Any, shop: tuple[Server, dict[str, Any]]) -> None:
    server, seed = shop
    context, page, watch = signed_in(browser, server)
    try:
        page.goto("/clients")
        page.locator("main").click(position={"x": 5, "y": 5})   # nothing focused: the shortcuts work
        page.keyboard.press("/")
        expect(page.locator("main input[type=search]").first).to_be_focused()
        page.keyboard.type("n")                                  # typed into the search, not a shortcut
        expect(page).to_have_url(re.compile(r"/clients(\?.*)?$"))
        # A form the page does not show as it opens gets no cursor: the page would scroll away from the top.
        page.set_viewport_size({"width": 390, "height": 600})
        page.goto("/settings/taxes")
        assert page.evaluate("window.scrollY") == 0
        expect(page.locator("main form input:not([type=hidden])").first).not_to_be_focused()
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto("/catalog")
        page.keyboard.press("n")
        expect(page).to_have_url(re.compile(r"/catalog/new$"))
        expect(page.locator("main form input:not([type=hidden])").first).to_be_focused()

        page.goto(f"/clients/{seed['client']}")
        page.keyboard.press("n")
        expect(page).to_have_url(re.compile(r"/documents/\d+/edit$"))
        picker = page.locator("details.taxpick").first
        picker.locator("summary").click()
        expect(picker).to_have_attribute("open", "")
        picker.locator("input[type=checkbox]").first.focus()
        page.keyboard.press("Escape")
        expect(picker).not_to_have_attribute("open", "")
        expect(picker.locator("summary")).to_be_focused()
        picker.locator("summary").click()
        expect(picker).to_have_attribute("open", "")
        page.locator("h1").click()
        expect(picker).not_to_have_attribute("open", "")
        # The label of the picker holds its visible text (WCAG 2.5.3).
        summary_name = picker.locator("summary").evaluate("s => s.textContent.replace(/\\s+/g, ' ').trim()")
        assert summary_name.startswith("Line 1 taxes:") and summary_name.endswith(
            picker.locator("summary span[id^=taxsum]").inner_text())
    finally:
        context.close()
    watch.check()


def test_the_editor_saves_the_draft_as_the_user_types_and_a_reload_shows_it(
        browser: Any, shop: tuple[Server, dict[str, Any]]) -> None:
    server, seed = shop
    context, page, watch = signed_in(browser, server)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    try:
        page.goto(f"/clients/{seed['client']}")
        page.get_by_role("button", name="New invoice").click()
        expect(page).to_have_url(re.compile(r"/documents/\d+/edit$"))
        editor_url = page.url
        mark = page.locator("[data-save-state]")
        page.locator("#f-lines-0-description").fill("Kitchen audit, two visits")
        page.locator("#f-lines-0-quantity").fill("2")
        page.locator("#f-lines-0-unit_price").fill("480")
        page.locator("#f-notes").fill("Visits on Tuesday and Friday.")
        expect(mark).to_have_text("All changes saved")
        page.reload()
        expect(page.locator("#f-lines-0-description")).to_have_value("Kitchen audit, two visits")
        expect(page.locator("#f-lines-0-quantity")).to_have_value("2")
        expect(page.locator("#f-lines-0-unit_price")).to_have_value("480.00")
        expect(page.locator("#f-notes")).to_have_value("Visits on Tuesday and Friday.")
        expect(page.locator("#doc-totals")).to_contain_text("960.00")

        # A change the server cannot save: the mark says so, and leaving asks first.
        page.locator("#f-lines-0-unit_price").press_sequentially("x")
        expect(mark).to_contain_text("Not saved yet")
        page.get_by_role("link", name="Cancel").first.click()
        expect(page).to_have_url(re.compile(r"/documents/\d+$"))
        assert dialogs == ["beforeunload"], dialogs
        page.goto(editor_url)
        expect(page.locator("#f-lines-0-unit_price")).to_have_value("480.00")   # the last saved state
    finally:
        context.close()
    watch.check()


@pytest.mark.parametrize("path", ["/clients/new", "/catalog/new"])
def test_the_client_and_item_forms_ask_before_leaving_with_changes(
        browser: Any, shop: tuple[Server, dict[str, Any]], path: str) -> None:
    server, _ = shop
    context, page, watch = signed_in(browser, server)
    dialogs: list[str] = []
    try:
        page.goto(path)
        page.locator("#f-name").press_sequentially("Half typed")
        page.once("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
        page.locator(".sidebar").get_by_role("link", name="Dashboard").click()
        page.wait_for_timeout(300)
        assert dialogs == ["beforeunload"], dialogs
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))     # stayed: nothing lost
        expect(page.locator("#f-name")).to_have_value("Half typed")
        # Saving is leaving on purpose: no question.
        page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
        if path == "/catalog/new":
            page.locator("#f-unit_price").fill("12")
        page.locator("#f-name").press("Control+Enter")
        expect(page).not_to_have_url(re.compile(re.escape(path) + "$"))
        assert dialogs == ["beforeunload"], dialogs
    finally:
        context.close()
    watch.check()


def test_uploading_the_logo_keeps_what_was_typed_in_the_settings(
        browser: Any, shop: tuple[Server, dict[str, Any]]) -> None:
    server, _ = shop
    context, page, watch = signed_in(browser, server)
    try:
        page.goto("/settings")
        page.locator("#f-name").fill("Harbour Studio (typed, not saved)")
        page.locator("#f-logo").set_input_files(files=[{"name": "logo.png", "mimeType": "image/png",
                                                        "buffer": tiny_png(160, 60)}])
        page.get_by_role("button", name="Upload", exact=True).click()
        expect(page.locator(".logo-box img")).to_be_visible()
        expect(page.locator("#f-name")).to_have_value("Harbour Studio (typed, not saved)")
        page.get_by_role("button", name="Remove", exact=True).click()
        expect(page.locator(".logo-box img")).to_have_count(0)
        expect(page.locator("#f-name")).to_have_value("Harbour Studio (typed, not saved)")
    finally:
        context.close()
    watch.check()
