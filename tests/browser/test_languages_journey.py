"""The document editor and the invoice page in French and German, in a real Chromium (issue 15): the user
picks a language on their account page, reads the invoice in it with its numbers written the local way,
and types a price as their locale writes it (1.200,50 / 1 200,50), which the server reads exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS, Server
from tests.browser.test_documents_journeys import seeded_server, signed_in

pytestmark = pytest.mark.browser

NNBSP = "\u202f"
CASES = {
    # language: what the pages say and how they write 1819.30 and 2401.00, and the price typed in the editor
    "de": {"bill_to": "Rechnung an", "total": "1.819,30", "typed": "1.200,50", "net": "2.401,00",
           "new": "Neue Rechnung", "save": "Entwurf speichern", "saved": "Entwurf gespeichert.",
           "language_button": "Sprache speichern", "too_short": "Zu kurz: mindestens 10 Zeichen.",
           "strong": "Stärke: hoch."},
    "fr": {"bill_to": "Facturer à", "total": f"1{NNBSP}819,30", "typed": "1 200,50", "net": f"2{NNBSP}401,00",
           "new": "Nouvelle facture", "save": "Enregistrer le brouillon", "saved": "Brouillon enregistré.",
           "language_button": "Enregistrer la langue", "too_short": "Trop court : au moins 10 caractères.",
           "strong": "Robustesse : élevée."},
}


@pytest.fixture
def shop_with_invoice(tmp_path: Path) -> Iterator[tuple[Server, dict[str, Any]]]:
    yield from seeded_server(tmp_path, with_invoice=True)


@pytest.mark.parametrize("language", sorted(CASES))
def test_invoice_page_and_editor_in_the_users_language(browser: Any, shop_with_invoice: tuple[Server, dict[str, Any]],
                                                        language: str) -> None:
    server, seed = shop_with_invoice
    case = CASES[language]
    context, page, watch = signed_in(browser, server)
    try:
        page.goto("/account")
        page.locator("#f-language").select_option(language)
        page.get_by_role("button", name="Save language").click()
        expect(page.locator(".flash")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.get_by_role("button", name=case["language_button"])).to_be_visible()

        # What app.js writes itself (the passphrase's strength) reads in the language too.
        page.goto("/backup")
        page.locator("#f-passphrase").first.press_sequentially("abc")
        expect(page.locator("#strength-export")).to_have_text(case["too_short"])
        page.locator("#f-passphrase").first.fill("Maple-bakery-7")
        expect(page.locator("#strength-export")).to_have_text(case["strong"])

        page.goto(f"/documents/{seed['invoice']}")
        expect(page.locator("body")).to_contain_text(case["bill_to"])
        expect(page.locator(".totals-table")).to_contain_text(case["total"])
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"i18n-invoice-{language}.png"), full_page=True)

        page.locator(".sidebar").get_by_role("link", name=re.compile(r"^(Rechnungen|Factures)$")).click()
        page.locator("a.button.primary[href='/invoices/new']").click()
        page.locator("#pick-q").fill("maple")
        page.get_by_role("button", name=re.compile("Maple Bakery")).click()
        expect(page).to_have_url(re.compile(r"/documents/\d+/edit$"))
        page.locator("#f-lines-0-description").fill("Beratung / conseil")
        page.locator("#f-lines-0-quantity").fill("2")
        page.locator("#f-lines-0-unit_price").fill(case["typed"])
        expect(page.locator("#net-0")).to_have_text(case["net"])
        page.screenshot(path=str(SHOTS / f"i18n-editor-{language}.png"), full_page=True)
        page.get_by_role("button", name=case["save"]).first.click()
        expect(page.locator(".flash")).to_contain_text(case["saved"])
        expect(page.locator(".doc-lines")).to_contain_text(case["net"])
        expect(page.locator(".doc-lines")).to_contain_text(case["typed"].replace(" ", NNBSP))
    finally:
        context.close()
    watch.check()
