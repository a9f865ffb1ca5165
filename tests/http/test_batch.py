"""Batch print and ZIP of a filtered document list: the list's actions, the background job and
its progress panel, the ZIP and the combined PDF, cancel, ownership, bad filters, empty lists,
a broken template, and the files' removal (after download, after an hour, at start)."""

from __future__ import annotations

import html
import io
import re
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from app.config import Config
from app.render import service as render_service
from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD, STAFF_EMAIL, STAFF_PASSWORD
from tests.http.conftest import _client
from tests.http.support import make_client
from tests.http.test_render import business, new_invoice, text_of  # noqa: F401  (business is a fixture)

STATE = re.compile(r'data-state="([a-z]+)"')
ENDED = ("done", "failed", "cancelled")


def exports(config: Config) -> Path:
    return config.data_dir / "cache" / "exports"


def files_in(config: Config) -> list[Path]:
    folder = exports(config)
    return sorted(folder.iterdir()) if folder.is_dir() else []


def start(client: Any, path: str = "invoices", **form: str) -> str:
    """Press one of the list's batch buttons; returns the job's id from the redirect to its page."""
    response = client.post(f"/{path}/batch", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/batch/[A-Za-z0-9_-]{16}", location), location
    return location.rsplit("/", 1)[1]


def state_of(panel: str) -> str:
    match = STATE.search(panel)
    assert match, panel
    return match.group(1)


def wait_for(client: Any, job: str, states: tuple[str, ...] = ENDED, timeout: float = 90) -> str:
    """Poll the panel the way the page does until the job reaches one of `states`; returns the panel."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/batch/{job}/panel", headers={"HX-Request": "true"})
        assert response.status_code == 200, response.text
        if state_of(response.text) in states:
            return html.unescape(response.text)
        assert time.monotonic() < deadline, f"the batch stayed {state_of(response.text)}: {response.text}"
        time.sleep(0.05)


def pages_of(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def two_clients(api: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    return (make_client(name="Globex", language="de", country="DE"),
            make_client(name="Initech", language="en", country="IE"))


# -- the ZIP ------------------------------------------------------------------------------

def test_zip_of_a_filtered_list_from_the_list_page(browser, api, business, config: Config):
    globex, initech = two_clients(api)
    first = new_invoice(api, globex)
    second = new_invoice(api, globex, issue_date="2026-04-15")
    new_invoice(api, initech, issue_date="2026-04-20")
    new_invoice(api, globex, issue=False)   # a draft: left out unless drafts are asked for

    listing = browser.get(f"/invoices?client_id={globex.id}")
    assert listing.status_code == 200
    assert f'hx-get="/invoices/batch/actions?client_id={globex.id}"' in listing.text
    actions = browser.get(f"/invoices/batch/actions?client_id={globex.id}")
    assert actions.status_code == 200
    assert "PDFs of the <strong>2 invoices</strong> in this list" in actions.text and "1 draft left out" in actions.text
    assert 'name="kind" value="zip"' in actions.text and 'name="kind" value="print"' in actions.text
    assert f'name="client_id" value="{globex.id}"' in actions.text and 'name="csrf_token"' in actions.text

    job = start(browser, kind="zip", client_id=str(globex.id))
    page = browser.get(f"/batch/{job}")
    assert page.status_code == 200
    assert "Invoices as PDFs (ZIP)" in page.text and "Client: Globex" in page.text and 'id="batch-panel"' in page.text
    panel = wait_for(browser, job)
    assert state_of(panel) == "done", panel
    assert "2 PDFs ready" in panel and f'href="/batch/{job}/file"' in panel and "invoices_Globex.zip" in panel
    assert "every 500ms" not in panel and 'hx-trigger="every 2s"' in panel   # ready: it checks now and then
    [made] = files_in(config)

    response = browser.get(f"/batch/{job}/file")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == 'attachment; filename="invoices_Globex.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == [f"{first['number']}_Globex.pdf", f"{second['number']}_Globex.pdf"]
    for name in archive.namelist():
        member = archive.read(name)
        assert member.startswith(b"%PDF-") and pages_of(member) == 1
    assert first["number"] in text_of(archive.read(archive.namelist()[0]))

    # Sent once, then removed from the data folder.
    assert not made.exists() and files_in(config) == []
    again = browser.get(f"/batch/{job}/file")
    assert again.status_code == 409 and "already downloaded" in again.text
    after = wait_for(browser, job, states=("downloaded",))
    assert "was downloaded, and removed" in after and "Make it again" in after and "hx-trigger" not in after

    # "Make it again" starts a new batch with the same filters.
    remade = start(browser, kind="zip", client_id=str(globex.id))
    assert remade != job and state_of(wait_for(browser, remade)) == "done"


def test_the_batch_zip_holds_what_the_api_zip_holds(browser, api, business):
    globex, initech = two_clients(api)
    for client, day in ((globex, "2026-03-02"), (initech, "2026-04-20"), (globex, "2026-05-05")):
        new_invoice(api, client, issue_date=day)
    query = {"from": "2026-03-01", "to": "2026-04-30"}
    from_api = zipfile.ZipFile(io.BytesIO(api.get("/api/v1/invoices/export.zip", params=query).content))
    job = start(browser, kind="zip", **query)
    assert state_of(wait_for(browser, job)) == "done"
    response = browser.get(f"/batch/{job}/file")
    assert 'filename="invoices_2026-03-01_to_2026-04-30.zip"' in response.headers["content-disposition"]
    from_batch = zipfile.ZipFile(io.BytesIO(response.content))
    assert from_batch.namelist() == from_api.namelist() and len(from_batch.namelist()) == 2
    for name in from_api.namelist():
        assert from_batch.read(name) == from_api.read(name)   # the same cached PDFs


# -- Print all ----------------------------------------------------------------------------

def test_print_all_is_one_pdf_with_every_page(browser, api, business, config: Config):
    globex, _ = two_clients(api)
    documents = [new_invoice(api, globex, lines=lines) for lines in (2, 70, 5)]
    singles = [api.get(f"/api/v1/invoices/{d['id']}/pdf").content for d in documents]
    counts = [pages_of(pdf) for pdf in singles]
    assert counts[1] >= 2, "the long invoice should run over more than one page"

    job = start(browser, kind="print")
    assert "Print all invoices" in browser.get(f"/batch/{job}").text
    panel = wait_for(browser, job)
    assert state_of(panel) == "done", panel
    assert "3 invoices ready to print" in panel and f"{sum(counts)} pages" in panel
    assert "Open the PDF to print" in panel and 'target="_blank"' in panel

    response = browser.get(f"/batch/{job}/file")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'inline; filename="invoices_all_print.pdf"'
    with pikepdf.open(io.BytesIO(response.content)) as combined:
        assert len(combined.pages) == sum(counts)
        with combined.open_outline() as outline:
            titles = [item.title for item in outline.root]
        assert titles == [f"{d['number']} \u00b7 Globex" for d in documents]   # a bookmark per document
    text = text_of(response.content)
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) == sum(counts)
    assert documents[0]["number"] in pages[0] and documents[2]["number"] in pages[-1]
    assert files_in(config) == []


# -- cancel ---------------------------------------------------------------------------------

def test_cancel_stops_the_batch_and_keeps_nothing(browser, api, business, config: Config, monkeypatch):
    globex, _ = two_clients(api)
    for _ in range(3):
        new_invoice(api, globex, lines=1)
    entered, gate = threading.Event(), threading.Event()
    real = render_service.build_and_render_sync

    def slow(inputs: Any) -> bytes:
        entered.set()
        gate.wait(30)
        return real(inputs)

    monkeypatch.setattr(render_service, "build_and_render_sync", slow)
    try:
        job = start(browser, kind="zip")
        assert entered.wait(30)
        panel = wait_for(browser, job, states=("running",))
        assert "Rendering 0 of 3 PDFs" in panel and "<progress" in panel and 'max="3" value="0"' in panel
        assert 'hx-trigger="every 500ms"' in panel and "Elapsed" in panel and "Time left" in panel
        assert f'hx-post="/batch/{job}/cancel"' in panel and 'name="csrf_token"' in panel
        assert len(files_in(config)) == 1   # the ZIP being written

        cancelled = browser.post(f"/batch/{job}/cancel", headers={"HX-Request": "true"})
        assert cancelled.status_code == 200
        assert state_of(cancelled.text) == "cancelled" and "every 500ms" not in cancelled.text
        assert "nothing was kept" in cancelled.text and "Start again" in cancelled.text
    finally:
        gate.set()
    deadline = time.monotonic() + 30
    while files_in(config) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert files_in(config) == []
    time.sleep(0.3)   # the renders that were under way come back: the batch stays cancelled
    assert state_of(browser.get(f"/batch/{job}/panel").text) == "cancelled"
    assert browser.get(f"/batch/{job}/file").status_code == 409
    # Without htmx, cancel answers with the job's page; cancelling an ended batch changes nothing.
    plain = browser.post(f"/batch/{job}/cancel", follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == f"/batch/{job}"


def test_a_double_click_starts_one_batch(browser, api, business, monkeypatch):
    globex, _ = two_clients(api)
    new_invoice(api, globex, lines=1)
    gate = threading.Event()
    real = render_service.build_and_render_sync
    monkeypatch.setattr(render_service, "build_and_render_sync", lambda inputs: (gate.wait(30), real(inputs))[1])
    try:
        first = start(browser, kind="print")
        second = start(browser, kind="print")
        other = start(browser, kind="zip")
        assert first == second and other != first
    finally:
        gate.set()
    assert state_of(wait_for(browser, first)) == "done" and state_of(wait_for(browser, other)) == "done"


def test_two_starts_at_once_make_one_batch(config: Config, api, business):
    """The checks and adding the job are apart by database reads: two requests together still make one."""
    import asyncio

    from app.batch.logic import Filters
    from app.batch.service import Batches
    from tests.conftest import run

    globex, _ = two_clients(api)
    new_invoice(api, globex, lines=1)

    async def twice() -> list[Any]:
        batches = Batches(config)
        try:
            jobs = await asyncio.gather(*(batches.start_job(1, "invoice", "zip", Filters()) for _ in range(2)))
            # Let it finish: a database read still under way when this loop closes would kill the
            # shared connection's worker thread (aiosqlite cannot hand the result back).
            await asyncio.wait_for(asyncio.gather(*(job.task for job in jobs)), timeout=60)
            return jobs
        finally:
            await batches.stop()
    first, second = run(twice())
    assert first is second


@pytest.mark.parametrize("kind", ["zip", "print"])
def test_a_document_deleted_while_the_batch_runs_is_left_out_and_counted_out(browser, api, business, monkeypatch,
                                                                            kind):
    from app.documents import service as documents_service

    globex, _ = two_clients(api)
    drafts = [new_invoice(api, globex, issue=False, lines=1) for _ in range(3)]
    listed = render_service.document_ids

    async def then_one_is_deleted(*args: Any, **kwargs: Any) -> list[int]:
        ids = await listed(*args, **kwargs)
        await documents_service.delete_draft(drafts[1]["id"])   # between the list and the rendering
        return ids
    monkeypatch.setattr(render_service, "document_ids", then_one_is_deleted)
    job = start(browser, kind=kind, status="draft")
    panel = wait_for(browser, job)
    assert state_of(panel) == "done", panel
    assert ("2 PDFs ready" if kind == "zip" else "2 invoices ready to print") in panel
    content = browser.get(f"/batch/{job}/file").content
    if kind == "zip":
        assert len(zipfile.ZipFile(io.BytesIO(content)).namelist()) == 2
    else:
        assert len(pikepdf.open(io.BytesIO(content)).pages) == 2


# -- who may see a batch ------------------------------------------------------------------------

def test_another_users_batch_is_not_found(browser, staff, api, business):
    globex, _ = two_clients(api)
    new_invoice(api, globex)
    job = start(browser, kind="zip")
    assert state_of(wait_for(browser, job)) == "done"

    # The same server, now signed in as the staff member.
    assert browser.post("/logout", follow_redirects=False).status_code in (302, 303)
    browser.sign_in(STAFF_EMAIL, STAFF_PASSWORD)
    for url in (f"/batch/{job}", f"/batch/{job}/file"):
        assert browser.get(url).status_code == 404, url
    gone = browser.get(f"/batch/{job}/panel", headers={"HX-Request": "true"})
    assert gone.status_code == 404 and "no longer here" in gone.text and "every 500ms" not in gone.text
    assert browser.post(f"/batch/{job}/cancel").status_code == 404
    # Staff may make their own batch (it only reads).
    own = start(browser, kind="print")
    assert state_of(wait_for(browser, own)) == "done"
    assert browser.get(f"/batch/{own}/file").status_code == 200

    # The owner's batch is untouched.
    browser.post("/logout")
    browser.sign_in(OWNER_EMAIL, OWNER_PASSWORD)
    assert browser.get(f"/batch/{own}").status_code == 404
    response = browser.get(f"/batch/{job}/file")
    assert response.status_code == 200 and response.content.startswith(b"PK")


def test_signed_out_visitors_are_sent_to_sign_in(anonymous, owner):
    for url in ("/batch/abcdefghijklmnop", "/invoices/batch/actions", "/batch/abcdefghijklmnop/file"):
        response = anonymous.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), url
    refused = anonymous.post("/invoices/batch", data={"kind": "zip"}, follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login")
    assert anonymous.app.state.batches.jobs == {}


# -- bad input, empty lists, failures ----------------------------------------------------------------

@pytest.mark.parametrize(("form", "message"), [
    ({"kind": "zip", "from": "2026-13-45"}, "From: \u201c2026-13-45\u201d is not a date; use YYYY-MM-DD."),
    ({"kind": "zip", "to": "yesterday"}, "To: \u201cyesterday\u201d is not a date"),
    ({"kind": "zip", "from": "2026-05-01", "to": "2026-04-01"}, "To: the period ends (2026-04-01) before it starts"),
    ({"kind": "zip", "status": "nonsense"}, "Status: \u201cnonsense\u201d is not a status of invoices"),
    ({"kind": "print", "client_id": "abc"}, "Client: \u201cabc\u201d is not a client number."),
    ({"kind": "print", "client_id": "9999"}, "Client: there is no client number 9999."),
    ({"kind": "fax"}, "Choose \u201cDownload PDFs (ZIP)\u201d or \u201cPrint all\u201d."),
    ({}, "Choose \u201cDownload PDFs (ZIP)\u201d or \u201cPrint all\u201d."),
])
def test_bad_filters_are_refused_with_a_clear_message(browser, config: Config, form, message):
    response = browser.post("/invoices/batch", data=form, follow_redirects=False)
    assert response.status_code == 422, response.text
    assert message in html.unescape(response.text)
    assert browser.app.state.batches.jobs == {} and files_in(config) == []


def test_the_list_actions_explain_bad_filters(browser):
    response = browser.get("/invoices/batch/actions?from=2026-02-30")
    assert response.status_code == 200
    text = html.unescape(response.text)
    assert "From: \u201c2026-02-30\u201d is not a date" in text and 'name="kind"' not in text


def test_an_empty_list_says_so_instead_of_an_empty_zip(browser, api, business, config: Config):
    globex, _ = two_clients(api)
    new_invoice(api, globex, issue=False)   # only a draft

    response = browser.post("/invoices/batch", data={"kind": "zip", "from": "2030-01-01"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/invoices?from=2030-01-01"
    assert "No invoices match these filters." in browser.get(response.headers["location"]).text

    drafts = browser.post("/invoices/batch", data={"kind": "print"}, follow_redirects=False)
    assert drafts.status_code == 303 and drafts.headers["location"] == "/invoices"
    page = html.unescape(browser.get("/invoices").text)
    assert "No invoices match these filters: the 1 invoice in this list is a draft" in page
    actions = html.unescape(browser.get("/invoices/batch/actions").text)
    assert "drafts are left out" in actions and 'name="kind"' not in actions
    assert "No quotes match these filters." in browser.get("/quotes/batch/actions").text
    assert browser.app.state.batches.jobs == {} and files_in(config) == []

    # Asked for by their status, drafts are printed (watermarked) like the API's ZIP does.
    job = start(browser, kind="zip", status="draft")
    assert state_of(wait_for(browser, job)) == "done"
    names = zipfile.ZipFile(io.BytesIO(browser.get(f"/batch/{job}/file").content)).namelist()
    assert len(names) == 1 and "draft" in names[0]


def test_a_broken_template_is_a_message_on_the_panel(browser, api, business, config: Config):
    globex, _ = two_clients(api)
    # A draft: it renders anew with the templates of the day (an issued invoice is its stored PDF).
    new_invoice(api, globex, lines=1, issue=False)
    folder = config.data_dir / "templates"
    assert browser.post("/settings/templates/copy", follow_redirects=False).status_code == 303
    (folder / "invoice.typ").write_text("#import \"lib/document.typ\": render\n#render(json(bytes(sys.inputs.data))\n")
    assert browser.post("/settings/templates", data={"use_custom_templates": "true"},
                        follow_redirects=False).status_code == 303

    for kind in ("zip", "print"):
        job = start(browser, kind=kind, status="draft")
        page = browser.get(f"/batch/{job}")
        assert page.status_code == 200
        panel = wait_for(browser, job)
        assert state_of(panel) == "failed", panel
        assert "The PDFs could not be made" in panel and "Nothing was made." in panel
        assert "unclosed delimiter" in panel and f"{folder / 'invoice.typ'}:2:" in panel
        assert 'href="/settings#templates"' in panel and "Try again" in panel
        assert browser.get(f"/batch/{job}/file").status_code == 409
        assert files_in(config) == []


# -- the other lists ----------------------------------------------------------------------------------

def test_quotes_and_credit_notes_have_the_same_actions(browser, api, business):
    globex, _ = two_clients(api)
    quote = new_invoice(api, globex, path="quotes")
    credit = new_invoice(api, globex, path="credit-notes", lines=1)
    for path, document in (("quotes", quote), ("credit-notes", credit)):
        listing = browser.get(f"/{path}")
        assert f'hx-get="/{path}/batch/actions?"' in listing.text, path
        actions = browser.get(f"/{path}/batch/actions")
        assert 'name="kind" value="zip"' in actions.text and f'action="/{path}/batch"' in actions.text
        job = start(browser, path=path, kind="zip")
        assert state_of(wait_for(browser, job)) == "done"
        response = browser.get(f"/batch/{job}/file")
        assert f'filename="{path}_all.zip"' in response.headers["content-disposition"]
        assert zipfile.ZipFile(io.BytesIO(response.content)).namelist() == [f"{document['number']}_Globex.pdf"]


# -- the files' life ------------------------------------------------------------------------------------

def test_files_expire_after_an_hour_and_stale_files_go_at_start(browser, api, business, config: Config):
    globex, _ = two_clients(api)
    new_invoice(api, globex, lines=1)
    job = start(browser, kind="zip")
    assert state_of(wait_for(browser, job)) == "done"
    batches = browser.app.state.batches
    [made] = files_in(config)

    batches.sweep(now=batches.now() + 3500)
    assert made.exists() and state_of(browser.get(f"/batch/{job}/panel").text) == "done"
    batches.sweep(now=batches.now() + 3601)
    assert not made.exists()
    panel = browser.get(f"/batch/{job}/panel").text
    assert state_of(panel) == "expired" and "removed an hour after it was made" in panel
    assert "removed after an hour" in browser.get(f"/batch/{job}/file").text
    batches.sweep(now=batches.now() + 3 * 3600)
    assert browser.get(f"/batch/{job}").status_code == 404

    # Files left behind by a server that stopped are removed when the next one starts.
    exports(config).mkdir(parents=True, exist_ok=True)
    stale = [exports(config) / "invoice-abc123.zip", exports(config) / "batch-xyz.pdf"]
    for path in stale:
        path.write_bytes(b"left over")
    with _client(config) as restarted:
        assert restarted.get("/health").status_code == 200
    assert not any(path.exists() for path in stale)
