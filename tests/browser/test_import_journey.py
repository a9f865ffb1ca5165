"""The import in a real Chromium against a real server (issue 20): from the navigation to the Import page,
upload an Invoice Ninja export with a total that differs from its lines, see the preview (format, reading,
mapping, first rows, the problem to accept), accept and apply, then find the invoices in the list; and a
full-page screenshot of the preview for a person to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS, Server, Watch, new_page, run_python, sign_in

pytestmark = pytest.mark.browser
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"

SEED = """
import asyncio
from pathlib import Path
from app.config import Config
from app.db.lifecycle import open_database
from app.settings import service as settings
from app.taxes import service as taxes

async def main():
    await open_database(Config(data_dir=Path({data_dir!r})))
    await settings.update_settings({{"name": "Maple Studio", "country": "CA", "default_currency": "CAD"}})
    await taxes.apply_preset("canada")

asyncio.run(main())
"""


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[tuple[Server, list[str]]]:
    server = Server(data_dir=tmp_path / "data")
    server.owner()
    run_python(SEED.format(data_dir=str(server.data_dir)))
    invoices = tmp_path / "invoiceninja_invoices.csv"
    invoices.write_text((FIXTURES / "invoiceninja_invoices.csv").read_text(encoding="utf-8")
                        .replace("CAD,420.00", "CAD,421.50"), encoding="utf-8")
    server.start()
    try:
        yield server, [str(FIXTURES / "invoiceninja_clients.csv"), str(invoices)]
    finally:
        server.stop()


def test_upload_preview_accept_and_apply(browser: Any, studio: tuple[Server, list[str]]):
    server, files = studio
    watch = Watch(server)
    context, page = new_page(browser, server, watch)
    try:
        sign_in(page)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
        page.wait_for_url(re.compile(r"/imports$"))
        expect(page.locator("#history")).to_contain_text("Nothing imported yet")
        page.locator("#f-file").set_input_files(files)
        page.get_by_role("button", name="Show the preview").click()
        page.wait_for_url(re.compile(r"/imports/\d+$"))
        expect(page.get_by_role("heading", name="Import preview")).to_be_visible()
        expect(page.locator("#rows-documents")).to_contain_text("0043")
        expect(page.locator("#problems")).to_contain_text("differs from the lines")
        expect(page.locator("#reading")).to_contain_text("Invoice Ninja v5")
        page.wait_for_load_state("networkidle")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "import-preview.png"), full_page=True)
        page.get_by_label(re.compile("Keep the source's total")).check()
        page.get_by_role("button", name="Import everything").click()
        expect(page.locator("#applied")).to_contain_text("2 invoices")
        page.goto("/invoices")
        expect(page.locator("main")).to_contain_text("0042")
        watch.check()
    finally:
        context.close()


@pytest.mark.parametrize(("language", "button", "amount"), [("fr", "Afficher l'aperçu", "421,50"),
                                                            ("de", "Vorschau anzeigen", "421,50")])
def test_the_preview_in_french_and_german_on_a_phone_and_a_laptop(browser: Any, studio: tuple[Server, list[str]],
                                                                   language: str, button: str, amount: str):
    """The preview's amounts as the reader's locale writes them, its choice lists in their language, and a
    page that fits a phone; screenshots at 390 and 1280 px for a person to look at."""
    server, files = studio
    watch = Watch(server)
    context, page = new_page(browser, server, watch)
    try:
        sign_in(page)
        page.goto("/account")
        page.locator("#f-language").select_option(language)
        page.get_by_role("button", name="Save language").click()
        page.goto("/imports")
        page.locator("#f-file").set_input_files(files)
        page.get_by_role("button", name=button).click()
        page.wait_for_url(re.compile(r"/imports/\d+$"))
        expect(page.locator("#rows-documents")).to_contain_text(amount)
        expect(page.locator("#reading")).not_to_contain_text("comma")
        page.wait_for_load_state("networkidle")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"import-preview-{language}-1280.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(200)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SHOTS / f"import-preview-{language}-390.png"), full_page=True)
        watch.check()
    finally:
        context.close()
