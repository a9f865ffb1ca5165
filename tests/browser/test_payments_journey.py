"""Money in a real Chromium against a real server (issue 4, point 10): a partial payment, an
overpayment kept as client credit, that credit applied to another invoice, a payment reversed
from the payments list, and the statement read back, its closing balance equal to the ledger's.

The client and its invoices are made through the services in another process, so the journey
itself is only what a user does with the money.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server, Watch, new_page, run_python, sign_in

pytestmark = pytest.mark.browser

SEED = """
import asyncio, json
from pathlib import Path
from app.config import Config
from app.db.lifecycle import open_database
from app.clients import service as clients
from app.documents import service as documents

async def main():
    await open_database(Config(data_dir=Path({data_dir!r})))
    client = await clients.create_client({{"name": "Maple Bakery", "city": "Toronto", "country": "CA"}},
                                         default_currency="CAD")
    out = {{"client": client.id}}
    for name, price in (("partial", "100.00"), ("credited", "50.00"), ("overpaid", "80.00")):
        draft = await documents.create_document("invoice", {{"client_id": client.id, "lines": [
            {{"description": "Bread workshop", "quantity": "1", "unit_price": price}}]}})
        issued = await documents.issue(draft.id)
        out[name] = {{"id": issued.id, "number": issued.number}}
    print(json.dumps(out))

asyncio.run(main())
"""


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Server, dict[str, Any]]]:
    server = Server(data_dir=tmp_path / "data")
    server.owner()
    seed = json.loads(run_python(SEED.format(data_dir=str(server.data_dir))).strip().splitlines()[-1])
    server.start()
    try:
        yield server, seed
    finally:
        server.stop()


def flash(page: Any) -> Any:
    return page.locator(".flash")


def test_payments_credit_reversal_and_statement(browser: Any, shop: tuple[Server, dict[str, Any]]):
    server, seed = shop
    watch = Watch(server)
    context, page = new_page(browser, server, watch)
    try:
        sign_in(page)
        partial, credited, overpaid = seed["partial"], seed["credited"], seed["overpaid"]

        # 1. A partial payment, from the invoice's page
        page.goto(f"/documents/{partial['id']}")
        page.locator(".page-head").get_by_role("link", name="Record payment").click()
        page.wait_for_url(re.compile(rf"/documents/{partial['id']}/payments/new$"))
        expect(page.get_by_label("Amount (CAD)")).to_have_value("100.00")  # the balance, ready to accept
        page.get_by_label("Amount (CAD)").fill("40.00")
        page.get_by_label("Method").select_option(label="Cheque")
        page.get_by_label("Reference").fill("CHQ 118")
        page.get_by_role("button", name="Record payment").click()
        page.wait_for_url(re.compile(rf"/documents/{partial['id']}$"))
        expect(flash(page)).to_have_text("Payment of 40.00 CAD recorded.")
        expect(page.locator("h1 .status")).to_have_class(re.compile(r"\bstatus-partial\b"))
        expect(page.locator(".balance-row td")).to_have_text("60.00")
        expect(page.locator(".payments-card")).to_contain_text("CHQ 118")

        # 2. An overpayment: refused until the box is ticked, then the excess is kept as credit
        page.goto(f"/documents/{overpaid['id']}/payments/new")
        page.get_by_label("Amount (CAD)").fill("100.00")
        page.get_by_label("Reference").fill("wire 77")
        page.get_by_role("button", name="Record payment").click()
        expect(page.get_by_role("alert")).to_contain_text("Nothing was saved.")
        expect(page.get_by_role("alert")).to_contain_text(
            "The payment (100.00 CAD) is more than the balance due (80.00 CAD)")
        expect(page.get_by_label("Reference")).to_have_value("wire 77")  # what was typed is kept
        page.get_by_label("Keep any amount above the balance as client credit").check()
        page.get_by_role("button", name="Record payment").click()
        page.wait_for_url(re.compile(rf"/documents/{overpaid['id']}$"))
        expect(flash(page)).to_have_text("Payment of 100.00 CAD recorded. 20.00 CAD kept as client credit.")
        expect(page.locator("h1 .status")).to_have_class(re.compile(r"\bstatus-paid\b"))

        # 3. The credit, applied to another invoice from its payment page
        page.goto(f"/documents/{credited['id']}/payments/new")
        credit_card = page.locator("section.card", has_text="Client credit available")
        expect(credit_card.get_by_role("heading")).to_contain_text("20.00")
        expect(credit_card.get_by_label("Amount to apply")).to_have_value("20.00")
        credit_card.get_by_role("button", name="Apply credit").click()
        page.wait_for_url(re.compile(rf"/documents/{credited['id']}$"))
        expect(flash(page)).to_have_text("Client credit applied; 30.00 CAD left to pay.")
        expect(page.locator(".balance-row td")).to_have_text("30.00")

        # 4. The cheque bounced: reverse it from the payments list
        page.goto("/payments")
        row = page.locator("tbody tr", has_text="CHQ 118")
        expect(row).to_have_count(1)
        row.locator("summary", has_text="Reverse").click()
        row.get_by_label("Reason").fill("cheque bounced")
        row.get_by_role("button", name="Reverse payment").click()
        page.wait_for_url(re.compile(rf"/documents/{partial['id']}$"))
        expect(flash(page)).to_have_text("Payment of 40.00 CAD reversed.")
        expect(page.locator(".balance-row td")).to_have_text("100.00")
        expect(page.locator(".payments-card tr.reversed")).to_contain_text("Reversed")
        page.goto("/payments")
        row = page.locator("tbody tr", has_text="CHQ 118")
        expect(row).to_have_class(re.compile(r"\breversed\b"))
        expect(row).to_contain_text("cheque bounced")
        expect(row.locator("summary", has_text="Reverse")).to_have_count(0)

        # 5. The statement: its closing balance is the ledger's balance
        ledger = page.request.get(f"/api/v1/clients/{seed['client']}/ledger")
        assert ledger.ok, ledger.text()
        (account,) = ledger.json()
        # 230.00 invoiced, 40.00 + 100.00 received, 40.00 reversed; applying credit moves nothing
        assert account["balance"] == "130.00"
        assert [e["kind"] for e in account["entries"]] == ["invoice", "invoice", "invoice", "payment", "payment",
                                                           "credit_applied", "reversal"]
        page.goto(f"/clients/{seed['client']}/ledger")
        page.get_by_role("link", name="Statement").click()
        page.wait_for_url(re.compile(rf"/clients/{seed['client']}/statement"))
        expect(page.get_by_role("heading", name="Statement of account")).to_be_visible()
        closing = page.locator("tr.subtotal", has_text="Closing balance").locator("td.num")
        shown = closing.inner_text()
        assert Decimal(re.sub(r"[^\d.\-]", "", shown)) == Decimal(account["balance"]), shown
        expect(page.locator("tbody tr", has_text="Payment reversed")).to_contain_text("cheque bounced")
        aging = page.locator("table.aging tbody td")
        total_aged = sum(Decimal(re.sub(r"[^\d.\-]", "", aging.nth(i).inner_text())) for i in range(aging.count()))
        assert total_aged == Decimal("130.00")  # 100.00 + 30.00 open, not due yet
    finally:
        context.close()
    watch.check()
