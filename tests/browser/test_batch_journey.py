"""Batch PDFs in a real Chromium against a real server: the invoices list, filtered, then
"Download PDFs (ZIP)", the progress panel polled by htmx, and the download link's ZIP."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS, Server, _server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[Server]:
    """This module's server: an owner and the demo data (120 invoices of 12 clients)."""
    yield from _server(workdir, "data", owner=True, demo=12)


def test_filter_the_invoices_then_download_their_pdfs(owner_page: Any, tmp_path: Path):
    page = owner_page
    page.goto("/invoices")
    bar = page.locator("#batch-actions")
    expect(bar).to_contain_text(re.compile(r"PDFs of the \d+ invoices in this list"))
    expect(bar.get_by_role("button", name="Download PDFs (ZIP)")).to_be_visible()
    expect(bar.get_by_role("button", name="Print all")).to_be_visible()

    # Filter: the bar follows the list (htmx swaps the rows, the bar asks for its count again).
    page.get_by_label("Status", exact=True).select_option("paid")
    expect(page).to_have_url(re.compile(r"status=paid"))
    expect(bar).to_contain_text(re.compile(r"PDFs of the \d+ invoices? in this list"))
    expect(bar.locator('input[name="status"]')).to_have_value("paid")
    count = int(re.search(r"PDFs of the (\d+) invoice", bar.inner_text()).group(1))
    assert count > 0
    listed = page.locator(".doc-table tfoot td").first.inner_text()
    assert listed.startswith(f"{count} invoice"), listed   # the bar counts what the list shows

    bar.get_by_role("button", name="Download PDFs (ZIP)").click()
    expect(page).to_have_url(re.compile(r"/batch/[A-Za-z0-9_-]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoices as PDFs (ZIP)")
    expect(page.locator(".batch-filters")).to_contain_text("Status: Paid")
    panel = page.locator("#batch-panel")
    link = page.locator("#batch-file")
    expect(link).to_be_visible(timeout=120_000)   # htmx polled the panel until the ZIP was ready
    expect(panel).to_have_attribute("data-state", "done")
    expect(panel.get_by_role("heading")).to_have_text(f"{count} PDF{'s' if count != 1 else ''} ready")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "batch-zip-ready.png"))

    with page.expect_download() as waiting:
        link.click()
    download = waiting.value
    assert download.suggested_filename == "invoices_paid.zip"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    archive = zipfile.ZipFile(io.BytesIO(saved.read_bytes()))
    names = archive.namelist()
    assert len(names) == count and all(re.fullmatch(r"INV-\d{4}-\d{4}_[\w.-]+\.pdf", n) for n in names), names
    assert all(archive.read(name).startswith(b"%PDF-") for name in names)
    assert any(not name.isascii() for name in names), names   # a client's letters (Zoë, Lumière...) stay in the names

    # The panel notices the download and says the file is gone from the cache.
    expect(panel).to_have_attribute("data-state", "downloaded")
    expect(panel).to_contain_text("was downloaded, and removed")
    page.get_by_role("link", name="← Back to the invoices").click()
    expect(page).to_have_url(re.compile(r"/invoices\?status=paid$"))
