"""Names in other scripts in a real Chromium against a real server (issue 14, point 3): a client named
in Arabic, Japanese, Korean, Hebrew or emoji is created in the form, invoiced and issued; the page shows
the name in the bundled fallback fonts, and the downloaded PDF opens and holds the name."""

from __future__ import annotations

import io
import re
import subprocess
from typing import Any

import pypdf
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS, Server

pytestmark = pytest.mark.browser

NAMES = ["محمد", "山田太郎", "김민준", "דוד", "☕🚀"]


def issue_an_invoice_to_a_new_client(page: Any, name: str) -> int:
    """Through the pages, as a user does: the client form, "New invoice" on the client, one line, Issue."""
    page.goto("/clients/new")
    page.locator("#f-name").fill(name)
    page.locator("#f-city").fill(name)
    page.get_by_role("button", name="Save client").click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    page.get_by_role("button", name="New invoice").click()
    expect(page).to_have_url(re.compile(r"/documents/\d+/edit$"))
    page.locator("#f-lines-0-description").fill(f"Translation for {name}")
    page.locator("#f-lines-0-unit_price").fill("250")
    expect(page.locator("#net-0")).to_have_text("250.00")
    page.get_by_role("button", name="Save draft").first.click()
    expect(page.locator(".flash")).to_contain_text("Draft saved")
    page.on("dialog", lambda dialog: dialog.accept())  # "Issue…? numbers are final"
    page.get_by_role("button", name="Issue").click()
    expect(page.locator(".flash")).to_contain_text("Issued as")
    match = re.search(r"/documents/(\d+)", page.url)
    assert match, page.url
    return int(match.group(1))


def test_invoices_to_clients_named_in_other_scripts_download_as_pdfs_holding_the_names(
        owner_page: Any, server: Server) -> None:
    page = owner_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    # The families of the web fonts the page has fetched and uses (without the quotes Chromium adds).
    loaded_families = ("async () => { await document.fonts.ready; return [...document.fonts]"
                       ".filter(f => f.status === 'loaded').map(f => f.family.replaceAll('\"', '')); }")
    japanese = 0
    for index, name in enumerate(NAMES):
        document_id = issue_an_invoice_to_a_new_client(page, name)
        expect(page.locator("main")).to_contain_text(name)
        # The page's client name is drawn with a bundled font (no tofu): the browser fetched the fallback font.
        loaded = page.evaluate(loaded_families, name)
        if index == 0:
            assert "Noto Sans Arabic" in loaded, loaded
        if name == "山田太郎":
            japanese = document_id
        page.screenshot(path=str(SHOTS / f"scripts-{index}-document.png"), full_page=True)

        # The PDF as the "PDF" button serves it, downloaded (?download=1) with the signed-in session.
        with page.expect_download() as waiting:
            page.evaluate("(href) => { const a = document.createElement('a'); a.href = href; "
                          "document.body.appendChild(a); a.click(); a.remove(); }",
                          f"/documents/{document_id}/pdf?download=1")
        download = waiting.value
        assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
        saved = SHOTS / f"scripts-{index}.pdf"
        download.save_as(saved)
        pdf = saved.read_bytes()
        reader = pypdf.PdfReader(io.BytesIO(pdf))
        assert len(reader.pages) == 1
        text = reader.pages[0].extract_text()
        assert name in text and f"Translation for {name}" in text, text[:300]
        # It opens: poppler draws its first page.
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(saved),
                        str(SHOTS / f"scripts-{index}-pdf")], check=True)

    # The print view (HTML laid out like the PDF) draws the last Japanese name with the same CJK font.
    page.goto(f"/documents/{japanese}/print")
    expect(page.locator("body")).to_contain_text("山田太郎")
    assert "Noto Sans CJK SC" in page.evaluate(loaded_families, "")
    page.screenshot(path=str(SHOTS / "scripts-print-view.png"), full_page=True)
