"""Issue 14, points 1 and 2 in a real Chromium: a draft holding a character no font can print is refused
at Issue with the line named and nothing issued; corrected, it is issued, and the PDF the browser
downloads is the stored document of record, byte for byte, before and after a payment."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server, Watch, new_page, run_python, sign_in

pytestmark = pytest.mark.browser

YEAR = datetime.now(UTC).year

SEED = """
import asyncio, json
from pathlib import Path
from app.config import Config
from app.db.lifecycle import open_database
from app.clients import service as clients
from app.documents import service as documents

async def main():
    await open_database(Config(data_dir=Path({data_dir!r})))
    client = await clients.create_client({{"name": "Zoë's Bakery", "country": "CA"}}, default_currency="CAD")
    draft = await documents.create_document("invoice", {{"client_id": client.id, "lines": [
        {{"description": "Croissants \\U000f0000", "quantity": "12", "unit_price": "2.50"}}]}})
    print(json.dumps({{"invoice": draft.id}}))

asyncio.run(main())
"""


@pytest.fixture
def bakery(tmp_path: Path) -> Iterator[tuple[Server, dict[str, Any]]]:
    server = Server(data_dir=tmp_path / "data")
    server.owner()
    seed = json.loads(run_python(SEED.format(data_dir=str(server.data_dir))).strip().splitlines()[-1])
    server.start()
    try:
        yield server, seed
    finally:
        server.stop()


def test_an_unprintable_line_is_refused_at_issue_then_the_issued_pdf_never_changes(
        browser: Any, bakery: tuple[Server, dict[str, Any]]) -> None:
    server, seed = bakery
    watch = Watch(server)
    context, page = new_page(browser, server, watch)
    page.on("dialog", lambda dialog: dialog.accept())   # "Issue this invoice, dated today?"
    sign_in(page)
    try:
        page.goto(f"/documents/{seed['invoice']}")
        page.get_by_role("button", name="Issue", exact=True).click()
        problem = page.get_by_role("alert")
        expect(problem).to_contain_text("Line 1")
        expect(problem).to_contain_text("U+F0000")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Draft invoice")

        page.get_by_role("link", name="Edit", exact=True).click()
        page.locator("#f-lines-0-description").fill("Croissants, Zoë's recipe")
        page.get_by_role("button", name="Save draft").first.click()
        expect(page.locator(".flash")).to_contain_text("Draft saved")
        page.get_by_role("button", name="Issue", exact=True).click()
        number = f"INV-{YEAR}-0001"   # the refused attempt took no number
        expect(page.get_by_role("heading", level=1)).to_contain_text(number)
        expect(page.locator("section.card:has(h2:text-is(\"Document of record\"))")).to_contain_text("at issue")

        connection = sqlite3.connect(server.data_dir / "counterfoil.sqlite")
        (sha256,) = connection.execute("SELECT sha256 FROM document_record WHERE document = ?",
                                       (seed["invoice"],)).fetchone()
        connection.close()
        stored = (server.data_dir / "attachments" / "records" / f"{sha256}.pdf").read_bytes()
        before = page.request.get(f"/documents/{seed['invoice']}/pdf?download=1")
        assert before.ok and before.body() == stored and hashlib.sha256(before.body()).hexdigest() == sha256
        expect(page.locator("section.card:has(h2:text-is(\"Document of record\"))")).to_contain_text(sha256)

        page.get_by_role("link", name="Record payment").first.click()
        page.get_by_label(re.compile("^Amount")).fill("30.00")
        page.get_by_role("button", name=re.compile("Record payment")).click()
        expect(page.locator(".flash")).to_be_visible()
        after = page.request.get(f"/documents/{seed['invoice']}/pdf?download=1")
        assert after.ok and after.body() == stored   # a payment never changes the document of record
    finally:
        context.close()
    watch.check()
