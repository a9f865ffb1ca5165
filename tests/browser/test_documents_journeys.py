"""Billing in a real Chromium against a real server (issue 3): an invoice from catalogue items and a free
line with the totals worked out by the server as the user types, a quote accepted and converted, and part
of an invoice credited.

Each test starts its own server on its own data folder, seeded through the services (taxes, items, a
client), so numbers start at 0001 whatever runs before it.
"""

from __future__ import annotations

import json
import re
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
from app.catalog import service as catalog
from app.clients import service as clients
from app.documents import service as documents
from app.taxes import service as taxes

async def main():
    await open_database(Config(data_dir=Path({data_dir!r})))
    await taxes.apply_preset("canada")
    await catalog.create_item({{"code": "DEV-H", "name": "Software development", "unit": "hour",
                                "unit_price": "125.00", "default_taxes": "HST",
                                "description": "Design, implementation and testing of software features."}})
    await catalog.create_item({{"code": "HOST-M", "name": "Managed hosting", "unit": "month",
                                "unit_price": "120.00", "default_taxes": "HST",
                                "description": "Hosting, backups and monitoring."}})
    client = await clients.create_client({{"name": "Maple Bakery", "address_line1": "12 King Street West",
                                           "city": "Toronto", "region": "ON", "country": "CA"}},
                                         default_currency="CAD")
    out = {{"client": client.id}}
    if {with_invoice!r}:
        invoice = await documents.create_document("invoice", {{"client_id": client.id, "lines": [
            {{"description": "Software development", "quantity": "10", "unit_price": "125.00", "taxes": ["HST"]}},
            {{"description": "Managed hosting", "quantity": "3", "unit_price": "120.00", "taxes": ["HST"]}}]}})
        out["invoice"] = (await documents.issue(invoice.id)).id
    print(json.dumps(out))

asyncio.run(main())
"""


def seeded_server(folder: Path, *, with_invoice: bool = False) -> Iterator[tuple[Server, dict[str, Any]]]:
    server = Server(data_dir=folder / "data")
    server.owner()
    seed = json.loads(run_python(SEED.format(data_dir=str(server.data_dir), with_invoice=with_invoice)).strip()
                      .splitlines()[-1])
    server.start()
    try:
        yield server, seed
    finally:
        server.stop()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Server, dict[str, Any]]]:
    yield from seeded_server(tmp_path)


@pytest.fixture
def shop_with_invoice(tmp_path: Path) -> Iterator[tuple[Server, dict[str, Any]]]:
    yield from seeded_server(tmp_path, with_invoice=True)


def signed_in(browser: Any, server: Server) -> tuple[Any, Any, Watch]:
    watch = Watch(server)
    context, page = new_page(browser, server, watch)
    page.on("dialog", lambda dialog: dialog.accept())  # "Issue…? numbers are final"
    sign_in(page)
    return context, page, watch


def pick_item(page: Any, index: int, text: str, description: str) -> None:
    """Type an item into a line's picker; the server fills the line and puts the cursor on the quantity."""
    page.locator(f"#f-lines-{index}-item").fill(text)
    expect(page.locator(f"#f-lines-{index}-description")).to_have_value(description)
    expect(page.locator(f"#f-lines-{index}-quantity")).to_be_focused()


def test_invoice_from_two_items_and_a_free_line_then_issue(browser: Any, shop: tuple[Server, dict[str, Any]]) -> None:
    server, _ = shop
    context, page, watch = signed_in(browser, server)
    try:
        page.locator(".sidebar").get_by_role("link", name="Invoices", exact=True).click()
        expect(page.get_by_role("heading", name="No invoices yet")).to_be_visible()
        page.get_by_role("link", name="New invoice").first.click()
        page.locator("#pick-q").fill("maple")
        page.get_by_role("button", name=re.compile("Maple Bakery")).click()
        expect(page).to_have_url(re.compile(r"/documents/\d+/edit$"))
        expect(page.locator("#f-lines-0-item")).to_be_focused()

        # Line 1 from the catalogue: typing the code fills it; the quantity replaces the 1.
        pick_item(page, 0, "DEV-H", "Design, implementation and testing of software features.")
        expect(page.locator("#f-lines-0-unit_price")).to_have_value("125.00")
        page.keyboard.type("10")
        expect(page.locator("#net-0")).to_have_text("1,250.00")
        expect(page.locator("#doc-totals")).to_contain_text("1,412.50")  # + HST 13 %

        # Enter in the line's last field adds line 2 (and does not submit the form).
        page.locator("#f-lines-0-discount_percent").press("Enter")
        expect(page.locator("tr.line")).to_have_count(2)
        expect(page.locator("#f-lines-1-item")).to_be_focused()
        page.keyboard.type("HOST-M — Managed hosting")
        expect(page.locator("#f-lines-1-description")).to_have_value("Hosting, backups and monitoring.")
        page.keyboard.type("3")
        expect(page.locator("#net-1")).to_have_text("360.00")
        expect(page.locator("#doc-totals")).to_contain_text("1,819.30")
        expect(page).to_have_url(re.compile(r"/edit$"))  # still in the editor: nothing was submitted

        # A free line, without tax.
        page.get_by_role("button", name="+ Add line").click()
        expect(page.locator("tr.line")).to_have_count(3)
        # htmx focuses the new line's item field when the swap settles (20 ms after it lands): a fill made
        # before then went into the item field ("no catalogue item matches"). Wait for it, as a user sees it.
        expect(page.locator("#f-lines-2-item")).to_be_focused()
        page.locator("#f-lines-2-description").fill("Rush delivery surcharge")
        page.locator("#f-lines-2-unit_price").fill("abc")
        expect(page.locator("#lerr-2")).to_contain_text("not a number")
        page.locator("#f-lines-2-unit_price").fill("150")
        expect(page.locator("#net-2")).to_have_text("150.00")
        expect(page.locator("#lerr-2")).to_be_empty()
        totals = page.locator("#doc-totals")
        expect(totals).to_contain_text("1,760.00")              # subtotal
        expect(totals).to_contain_text("13 % on 1,610.00")      # HST only on the two catalogue lines
        expect(totals).to_contain_text("209.30")
        expect(totals).to_contain_text("1,969.30")              # total

        page.get_by_role("button", name="Save draft").first.click()
        expect(page.locator(".flash")).to_contain_text("Draft saved")
        expect(page.locator(".doc-lines tbody tr")).to_have_count(3)
        page.get_by_role("button", name="Issue").click()
        number = f"INV-{YEAR}-0001"
        expect(page.get_by_role("heading", level=1)).to_contain_text(number)
        expect(page.locator(".flash")).to_contain_text(f"Issued as {number}")
        expect(page.locator(".totals-table")).to_contain_text("1,969.30")
        expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)

        page.locator(".sidebar").get_by_role("link", name="Invoices", exact=True).click()
        expect(page.locator(".doc-table")).to_contain_text(number)
        expect(page.locator(".doc-table tfoot")).to_contain_text("1,969.30")
    finally:
        context.close()
    watch.check()


def test_convert_an_accepted_quote_into_an_invoice(browser: Any, shop: tuple[Server, dict[str, Any]]) -> None:
    server, seed = shop
    context, page, watch = signed_in(browser, server)
    try:
        page.goto(f"/clients/{seed['client']}")
        page.get_by_role("button", name="New quote").click()
        expect(page).to_have_url(re.compile(r"/documents/\d+/edit$"))
        pick_item(page, 0, "Software development", "Design, implementation and testing of software features.")
        page.keyboard.type("24")
        expect(page.locator("#doc-totals")).to_contain_text("3,390.00")  # 3,000.00 + HST 390.00
        page.get_by_role("button", name="Save draft").first.click()
        page.get_by_role("button", name="Issue").click()
        quote_number = f"QUO-{YEAR}-0001"
        expect(page.get_by_role("heading", level=1)).to_contain_text(quote_number)

        page.get_by_role("button", name="Accept").click()
        expect(page.locator("h1 .status")).to_have_text("Accepted")
        page.get_by_role("button", name="Convert to invoice").click()
        expect(page).to_have_url(re.compile(r"/documents/\d+/edit$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Draft invoice")
        expect(page.locator("#f-lines-0-quantity")).to_have_value("24")
        expect(page.locator("#doc-totals")).to_contain_text("3,390.00")
        page.get_by_role("button", name="Save draft").first.click()
        expect(page.locator(".card", has_text="Related")).to_contain_text(f"Converted from quote {quote_number}")
        page.get_by_role("button", name="Issue").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"INV-{YEAR}-0001")

        page.get_by_role("link", name=quote_number).click()
        expect(page.locator("h1 .status")).to_have_text("Converted")
        expect(page.locator(".card", has_text="Related")).to_contain_text(f"Became invoice INV-{YEAR}-0001")
        expect(page.get_by_role("button", name="Convert to invoice")).to_have_count(0)
    finally:
        context.close()
    watch.check()


def test_credit_part_of_an_invoice(browser: Any, shop_with_invoice: tuple[Server, dict[str, Any]]) -> None:
    server, seed = shop_with_invoice
    context, page, watch = signed_in(browser, server)
    try:
        page.goto(f"/documents/{seed['invoice']}")
        number = f"INV-{YEAR}-0001"
        expect(page.get_by_role("heading", level=1)).to_contain_text(number)
        balance = page.locator(".balance-row")
        expect(balance).to_contain_text("1,819.30")  # 1,610.00 + HST 209.30

        page.get_by_role("button", name="Credit…").click()
        expect(page).to_have_url(re.compile(r"/documents/\d+/edit$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Draft credit note")
        expect(page.locator("#f-invoice_id")).to_have_value(str(seed["invoice"]))
        expect(page.locator("tr.line")).to_have_count(2)
        expect(page.locator("#doc-totals")).to_contain_text("1,819.30")  # prefilled with the whole invoice

        # Credit two of the ten hours, and none of the hosting.
        page.locator("#f-lines-0-quantity").fill("2")
        expect(page.locator("#net-0")).to_have_text("250.00")
        page.get_by_role("button", name="Remove line 2").click()
        expect(page.locator("tr.line")).to_have_count(1)
        expect(page.locator("#doc-totals")).to_contain_text("282.50")  # 250.00 + HST 32.50
        page.get_by_role("button", name="Save draft").first.click()
        expect(page.locator(".flash")).to_contain_text("Draft saved")
        page.get_by_role("button", name="Issue").click()
        credit_number = f"CN-{YEAR}-0001"
        expect(page.get_by_role("heading", level=1)).to_contain_text(credit_number)
        expect(page.locator(".doc-facts")).to_contain_text(number)

        page.get_by_role("link", name=number).first.click()
        expect(page.locator(".balance-row")).to_contain_text("1,536.80")  # 1,819.30 - 282.50
        expect(page.locator(".totals-table")).to_contain_text("Credited")
        expect(page.locator("h1 .status")).to_have_text("Partly credited")  # a credit note is not a payment
        expect(page.locator(".card", has_text="Related")).to_contain_text(credit_number)
    finally:
        context.close()
    watch.check()
