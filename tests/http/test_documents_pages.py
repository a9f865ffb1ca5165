"""The quote, invoice and credit note pages, the editor's htmx preview, and the taxes and numbering settings,
through HTTP against the real SQLite file (issue 3, "Pages")."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from app.clients.records import ClientView
from app.documents import service as documents_service
from app.documents.records import DocumentView
from tests.conftest import run
from tests.http.support import count, make_client, make_item, query, snapshot

YEAR = datetime.now(UTC).year
WRITE_TABLES = ("document", "document_line", "document_event", "number_series")


def state(config) -> dict[str, list[tuple]]:
    return {table: snapshot(config, table) for table in WRITE_TABLES}


@pytest.fixture
def taxes(config) -> None:
    from app.taxes import service

    run(service.apply_preset("canada"))  # GST 5, HST 13, HST15 15, PST 7, QST 9.975


@pytest.fixture
def client(config, taxes) -> ClientView:
    return make_client(name="Maple Bakery", address_line1="12 King St", city="Toronto")


@pytest.fixture
def items(config, taxes) -> dict[str, dict[str, Any]]:
    return {"dev": make_item(code="DEV-H", name="Development", unit="hour", unit_price="125.00", default_taxes="HST"),
            "host": make_item(code="HOST-M", name="Managed hosting", unit="month", unit_price="120.00",
                              default_taxes="HST", description="Hosting, backups and monitoring.")}


def draft(doc_type: str, client: ClientView, *lines: dict[str, Any], **fields: Any) -> DocumentView:
    from app.documents import service

    return run(service.create_document(doc_type, {"client_id": client.id, "lines": list(lines), "confirm_date": True,
                                                  **fields}))


def issued(doc_type: str, client: ClientView, *lines: dict[str, Any], **fields: Any) -> DocumentView:
    from app.documents import service

    return run(service.issue(draft(doc_type, client, *lines, **fields).id))


def line(description: str = "Consulting", quantity: str = "1", unit_price: str = "100.00", *taxes: str) -> dict[str, Any]:
    return {"description": description, "quantity": quantity, "unit_price": unit_price, "taxes": list(taxes)}


def form_line(index: int, description: str = "", quantity: str = "1", unit_price: str = "", *taxes: str,
              discount: str = "", unit: str = "", item: str = "", item_id: str = "") -> dict[str, Any]:
    fields: dict[str, Any] = {f"lines-{index}-description": description, f"lines-{index}-quantity": quantity,
                              f"lines-{index}-unit_price": unit_price, f"lines-{index}-discount_percent": discount,
                              f"lines-{index}-unit": unit, f"lines-{index}-item": item,
                              f"lines-{index}-item_id": item_id}
    if taxes:
        fields[f"lines-{index}-taxes"] = list(taxes)
    return fields


def editor_form(document: DocumentView, *lines: dict[str, Any], **header: Any) -> dict[str, Any]:
    base = {"client_id": str(document.client_id), "currency": document.currency,
            "issue_date": document.issue_date.isoformat(), "terms_days": "30",
            "due_date": document.due_date.isoformat() if document.due_date else "",
            "due_date_was": document.due_date.isoformat() if document.due_date else "",
            "discount_percent": "", "notes": "", "terms": "", "footer": ""}
    for fields in lines:
        base.update(fields)
    base.update(header)
    return base


def totals_text(html: str) -> str:
    match = re.search(r'<div id="doc-totals".*?</table>', html, re.S)
    assert match, html[:2000]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


# -- every page renders --------------------------------------------------------------

def test_every_document_page_renders(browser, client, items) -> None:
    invoice = issued("invoice", client, line("Website", "2", "500.00", "HST"))
    quote = issued("quote", client, line("Redesign", "1", "900.00", "GST"))
    credit = draft("credit_note", client, line("Goodwill", "1", "10.00"), invoice_id=invoice.id)
    invoice_draft = draft("invoice", client)
    paths = ["/invoices", "/quotes", "/credit-notes", "/invoices/new", "/quotes/new", "/credit-notes/new",
             "/invoices?status=overdue", "/invoices?status=open&q=website", f"/invoices?client_id={client.id}",
             "/quotes?status=issued&sort=total&dir=asc", "/credit-notes?from=2020-01-01&to=2099-12-31",
             f"/documents/{invoice.id}", f"/documents/{quote.id}", f"/documents/{credit.id}",
             f"/documents/{invoice_draft.id}", f"/documents/{invoice_draft.id}/edit",
             f"/documents/{credit.id}/edit", f"/clients/{client.id}", "/", "/settings", "/settings/taxes"]
    for path in paths:
        response = browser.get(path)
        assert response.status_code == 200, (path, response.text[:1000])
    assert invoice.number in browser.get("/invoices").text
    assert "INV-" in browser.get(f"/clients/{client.id}").text


def test_empty_lists_say_what_to_do(browser, client) -> None:
    for path, words in (("/invoices", "No invoices yet"), ("/quotes", "No quotes yet"),
                        ("/credit-notes", "No credit notes yet")):
        text = browser.get(path).text
        assert words in text and "/new" in text
    text = browser.get("/invoices?q=nothing-like-this").text
    assert "No invoices match" in text


def test_issued_document_cannot_be_edited(browser, client) -> None:
    invoice = issued("invoice", client, line())
    response = browser.get(f"/documents/{invoice.id}/edit")
    assert response.status_code == 409
    assert "credit note" in response.text
    assert browser.post(f"/documents/{invoice.id}/preview", data={}).status_code == 409


# -- lists ------------------------------------------------------------------------------

def test_list_filters_search_and_totals_per_currency(browser, client, items) -> None:
    euro = make_client(name="Nordlicht GmbH", currency="EUR")
    issued("invoice", client, line("Logo design", "1", "1000.00", "HST"))
    issued("invoice", euro, line("Übersetzung", "2", "50.00"))
    draft("invoice", client, line("Draft work", "1", "10.00"))
    cancelled = issued("invoice", client, line("Called off", "1", "5000.00"))
    run(documents_service.cancel(cancelled.id, "Ordered by mistake"))
    text = browser.get("/invoices").text
    assert "1,130.00" in text and "100.00" in text  # CAD total with HST; the EUR invoice
    # The footer sums issued, unpaid or paid invoices only, per currency, and says so: the draft
    # (10.00) and the cancelled invoice (5,000.00) are counted in the list, never added up.
    footer = text[text.index("<tfoot>"):text.index("</tfoot>")]
    assert "4 invoices" in footer
    assert "Sum of 1 issued, unpaid or paid in CAD" in footer and "Sum of 1 issued, unpaid or paid in EUR" in footer
    assert "1,130.00" in footer and "1,140.00" not in footer and "6,130.00" not in footer
    assert "Sums leave out drafts and cancelled documents." in footer
    drafts_only = browser.get("/invoices?status=draft").text
    footer = drafts_only[drafts_only.index("<tfoot>"):drafts_only.index("</tfoot>")]
    assert "1 invoice" in footer and "Nothing summed" in footer and "10.00" not in footer
    found = browser.get("/invoices?q=ubersetzung", headers={"HX-Request": "true", "HX-Target": "doc-results"})
    assert found.status_code == 200
    assert "Nordlicht GmbH" in found.text and "Maple Bakery" not in found.text
    assert "<html" not in found.text  # the htmx answer is the results only
    drafts = browser.get("/invoices?status=draft").text
    assert "Draft #" in drafts and "INV-" not in drafts
    # A bad period is explained, not a crash.
    bad = browser.get("/invoices?from=2026-05-01&to=2026-01-01")
    assert bad.status_code == 200 and "before its start" in bad.text


def test_list_pages_and_sorts(browser, client) -> None:
    for index in range(30):
        draft("invoice", client, line(f"Item {index}", "1", f"{index + 1}.00"))
    first = browser.get("/invoices?sort=total&dir=desc").text
    assert "Page 1 of 2" in first
    assert first.index("30.00") < first.index("29.00")
    second = browser.get("/invoices?sort=total&dir=desc&page=2").text
    assert "Page 2 of 2" in second and "5.00" in second


def test_bulk_mark_as_sent(browser, config, client) -> None:
    one = issued("invoice", client, line())
    two = issued("invoice", client, line())
    response = browser.post("/invoices/mark-sent", data={"ids": [str(one.id), str(two.id)], "back": "/invoices"},
                            follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/invoices"
    assert query(config, "SELECT status FROM document WHERE id IN (?, ?)", one.id, two.id) == [("sent",), ("sent",)]
    # A draft in the selection: refused with the reason, nothing changes.
    three = issued("invoice", client, line())
    pending = draft("invoice", client, line())
    before = state(config)
    response = browser.post("/invoices/mark-sent", data={"ids": [str(three.id), str(pending.id)]})
    assert response.status_code == 409 and "Issue the draft" in response.text
    assert state(config) == before


# -- a new document ------------------------------------------------------------------------

def test_new_invoice_chooses_a_client_then_opens_the_editor(browser, config, client) -> None:
    other = make_client(name="Zoë Tremblay Design")
    search = browser.get("/invoices/new?q=zoe", headers={"HX-Request": "true", "HX-Target": "client-pick"})
    assert "Zoë Tremblay Design" in search.text and "Maple Bakery" not in search.text
    response = browser.post("/invoices/new", data={"client_id": str(other.id)}, follow_redirects=False)
    assert response.status_code == 303
    document_id = int(re.search(r"/documents/(\d+)/edit", response.headers["location"]).group(1))
    assert query(config, "SELECT doc_type, status, client FROM document WHERE id = ?", document_id) == [
        ("invoice", "draft", other.id)]
    unknown = browser.post("/quotes/new", data={"client_id": "99999"})
    assert unknown.status_code == 422 and "Unknown client" in unknown.text


def test_new_document_from_the_client_page(browser, config, client) -> None:
    page = browser.get(f"/clients/{client.id}").text
    assert f'action="/clients/{client.id}/new/invoices"' in page
    response = browser.post(f"/clients/{client.id}/new/quotes", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("/edit")
    assert count(config, "document", "doc_type = 'quote' AND client = ?", client.id) == 1


# -- the editor ------------------------------------------------------------------------------

def test_preview_computes_totals_without_saving(browser, config, client) -> None:
    document = draft("invoice", client)
    before = state(config)
    form = editor_form(document, form_line(0, "Design", "3", "100", "HST"), form_line(1, "Hosting", "1", "50.505"),
                       discount_percent="10")
    response = browser.post(f"/documents/{document.id}/preview", data=form,
                            headers={"HX-Request": "true", "HX-Target": "doc-totals"})
    assert response.status_code == 200
    # 3 x 100 less 10 % = 270.00; 50.505 less 10 % = 45.4545 -> 45.45; HST 13 % of 270.00 = 35.10
    text = totals_text(response.text)
    assert "315.45" in text and "35.10" in text and "350.55" in text, text
    assert 'id="net-0" hx-swap-oob="true">270.00' in response.text
    assert 'id="net-1" hx-swap-oob="true">45.45' in response.text
    assert state(config) == before


def test_preview_reports_a_bad_line_and_leaves_it_out(browser, client) -> None:
    document = draft("invoice", client)
    form = editor_form(document, form_line(0, "Good", "2", "10"), form_line(1, "Bad", "abc", "10"),
                       form_line(2, "", "1", ""))  # a line still being typed: no complaint
    response = browser.post(f"/documents/{document.id}/preview", data=form)
    assert "20.00" in totals_text(response.text)
    assert "&#39;abc&#39; is not a number" in response.text or "'abc' is not a number" in response.text
    assert "Line 3" not in response.text
    assert "left out of the totals" in response.text


def test_preview_adds_removes_and_moves_lines(browser, client) -> None:
    document = draft("invoice", client)
    lines = (form_line(0, "First", "1", "1"), form_line(1, "Second", "1", "2"))
    added = browser.post(f"/documents/{document.id}/preview", data={**editor_form(document, *lines), "op": "add"})
    assert added.headers["HX-Retarget"] == "#doc-lines"
    assert 'name="lines-2-description"' in added.text
    assert re.search(r'id="f-lines-2-description"[^>]*autofocus', added.text, re.S)  # no catalogue: the description
    assert 'id="doc-totals" class="totals" hx-swap-oob="true"' in added.text
    moved = browser.post(f"/documents/{document.id}/preview", data={**editor_form(document, *lines), "op": "up:1"})
    assert moved.text.index(">Second</textarea>") < moved.text.index(">First</textarea>")
    removed = browser.post(f"/documents/{document.id}/preview", data={**editor_form(document, *lines),
                                                                         "op": "remove:0"})
    assert ">First</textarea>" not in removed.text and 'name="lines-0-description"' in removed.text


def test_picking_an_item_fills_the_line(browser, client, items) -> None:
    document = draft("invoice", client)
    form = editor_form(document, form_line(0, quantity="3", item="host-m"))
    response = browser.post(f"/documents/{document.id}/preview", data=form)
    assert response.headers["HX-Retarget"] == "#doc-lines"
    assert "Hosting, backups and monitoring.</textarea>" in response.text
    assert 'value="120.00"' in response.text and f'value="{items["host"]["id"]}"' in response.text
    assert 'value="HST" checked' in response.text
    assert re.search(r'id="f-lines-0-quantity"[^>]*value="3"[^>]*autofocus', response.text, re.S)
    assert "406.80" in totals_text(response.text)  # 360.00 + HST 46.80


def test_save_draft_writes_the_lines_in_order(browser, config, client, items) -> None:
    document = draft("invoice", client)
    form = editor_form(document,
                       form_line(0, "Development", "10", "125.00", "HST", unit="hour", item="DEV-H — Development",
                                 item_id=str(items["dev"]["id"])),
                       form_line(1, "", "1", ""),  # an untouched line is ignored
                       form_line(2, "Rush delivery", "1", "150", discount="10"),
                       notes="Project Aurora", terms_days="15")
    response = browser.post(f"/documents/{document.id}/edit", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text[:2000]
    assert response.headers["location"] == f"/documents/{document.id}"
    rows = query(config, "SELECT position, description, quantity, unit_price, discount_percent, tax_codes, net_minor, "
                         "item FROM document_line WHERE document = ? ORDER BY position", document.id)
    assert rows == [(1, "Development", "10", "125.00", "0", "HST", 125000, items["dev"]["id"]),
                    (2, "Rush delivery", "1", "150.00", "10", "", 13500, None)]
    assert query(config, "SELECT total_minor, notes, terms_days FROM document WHERE id = ?", document.id) == [
        (125000 + 16250 + 13500, "Project Aurora", 15)]


@pytest.mark.parametrize(("fields", "name", "words"), [
    ({"lines-0-quantity": "abc"}, "lines-0-quantity", "not a number"),
    ({"lines-0-unit_price": "-1"}, "lines-0-unit_price", "cannot be negative"),
    ({"lines-0-discount_percent": "150"}, "lines-0-discount_percent", "between 0 and 100"),
    ({"lines-0-description": ""}, "lines-0-description", "description is required"),
    ({"lines-0-taxes": ["NOPE"]}, "lines-0-taxes", "unknown tax code"),
    ({"lines-0-item": "no such thing"}, "lines-0-item", "no catalogue item matches"),
    ({"currency": "XYZ"}, "currency", "unknown currency"),
    ({"due_date": "2020-01-01"}, "due_date", "before the issue date"),
    ({"discount_percent": "101"}, "discount_percent", "between 0 and 100"),
])
def test_save_with_bad_input_is_refused_and_writes_nothing(browser, config, client, fields, name, words) -> None:
    document = draft("invoice", client, line("Kept as it was", "2", "40.00"))
    before = state(config)
    form = editor_form(document, form_line(0, "Changed", "1", "10.00"), **fields)
    response = browser.post(f"/documents/{document.id}/edit", data=form)
    assert response.status_code == 422, response.text[:1500]
    assert "Nothing was saved" in response.text
    assert words in response.text.lower() or words in response.text
    assert f'href="#f-{name}"' in response.text  # the summary links to the field
    if name.startswith("lines-"):
        assert re.search(rf'id="f-{name}"[^>]*aria-invalid="true"', response.text, re.S) or name.endswith("taxes")
    assert state(config) == before


def test_save_keeps_what_was_typed_when_refused(browser, client) -> None:
    document = draft("invoice", client)
    form = editor_form(document, form_line(0, "Workshop", "two", "1450"), form_line(1, "Travel", "120", "0.68"))
    response = browser.post(f"/documents/{document.id}/edit", data=form)
    assert response.status_code == 422
    assert 'value="two"' in response.text and ">Travel</textarea>" in response.text
    assert "81.60" in totals_text(response.text)  # the good line still counts in the shown totals


def test_due_date_follows_the_terms_unless_changed(browser, config, client) -> None:
    document = draft("invoice", client, line(), issue_date="2026-03-01", terms_days=30)
    from app.documents import service

    form = editor_form(document, form_line(0, "Consulting", "1", "100"), terms_days="14")
    assert browser.post(f"/documents/{document.id}/edit", data=form, follow_redirects=False).status_code == 303
    assert query(config, "SELECT due_date FROM document WHERE id = ?", document.id) == [("2026-03-15",)]
    document = run(service.get_document(document.id))
    form = editor_form(document, form_line(0, "Consulting", "1", "100"), terms_days="14", due_date="2026-04-30")
    assert browser.post(f"/documents/{document.id}/edit", data=form, follow_redirects=False).status_code == 303
    assert query(config, "SELECT due_date FROM document WHERE id = ?", document.id) == [("2026-04-30",)]


def test_client_options_for_the_editor(browser, client) -> None:
    make_client(name="Harbour Architects")
    response = browser.get(f"/documents/client-options?client_q=harb&client_id={client.id}")
    assert "Harbour Architects" in response.text
    assert re.search(rf'value="{client.id}" checked', response.text)


# -- the document page and its actions --------------------------------------------------------

def test_issue_via_the_page(browser, config, client) -> None:
    document = draft("invoice", client, line("Website", "1", "1000.00", "HST"))
    page = browser.get(f"/documents/{document.id}").text
    assert f'action="/documents/{document.id}/issue"' in page and "numbers are final" in page
    response = browser.post(f"/documents/{document.id}/issue", follow_redirects=False)
    assert response.status_code == 303
    number = f"INV-{YEAR}-0001"
    assert query(config, "SELECT number, status FROM document WHERE id = ?", document.id) == [(number, "issued")]
    page = browser.get(f"/documents/{document.id}").text
    assert number in page and "Issued" in page and "1,130.00" in page
    assert f'action="/documents/{document.id}/issue"' not in page
    # Issuing twice: a clear 409 on the page, no second number.
    before = state(config)
    again = browser.post(f"/documents/{document.id}/issue")
    assert again.status_code == 409 and "already issued" in again.text and number in again.text
    assert state(config) == before


def test_issue_an_empty_draft_is_explained(browser, config, client) -> None:
    document = draft("invoice", client)
    response = browser.post(f"/documents/{document.id}/issue")
    assert response.status_code == 409 and "at least one line" in response.text
    assert query(config, "SELECT status FROM document WHERE id = ?", document.id) == [("draft",)]


def test_cancel_needs_a_reason(browser, config, client) -> None:
    invoice = issued("invoice", client, line("Website", "1", "500.00", "GST"))
    before = state(config)
    response = browser.post(f"/documents/{invoice.id}/cancel", data={"reason": "  "})
    assert response.status_code == 422 and "Say why" in response.text
    assert state(config) == before
    response = browser.post(f"/documents/{invoice.id}/cancel", data={"reason": "Wrong client"}, follow_redirects=False)
    assert response.status_code == 303
    assert query(config, "SELECT status, cancel_reason FROM document WHERE id = ?", invoice.id) == [
        ("cancelled", "Wrong client")]
    credit = query(config, "SELECT number, total_minor, status FROM document WHERE doc_type = 'credit_note'")
    assert credit == [(f"CN-{YEAR}-0001", 52500, "issued")]
    page = browser.get(f"/documents/{invoice.id}").text
    assert "Wrong client" in page and f"CN-{YEAR}-0001" in page
    # Cancelling again is a conflict shown on the page.
    again = browser.post(f"/documents/{invoice.id}/cancel", data={"reason": "Again"})
    assert again.status_code == 409 and "already cancelled" in again.text


def test_staff_cannot_delete_a_draft(staff_browser, config, client) -> None:
    document = draft("invoice", client, line())
    page = staff_browser.get(f"/documents/{document.id}").text
    assert f'action="/documents/{document.id}/delete"' not in page
    response = staff_browser.post(f"/documents/{document.id}/delete")
    assert response.status_code == 403
    assert count(config, "document", "id = ?", document.id) == 1


def test_owner_deletes_a_draft_but_not_an_issued_invoice(browser, config, client) -> None:
    document = draft("invoice", client, line())
    response = browser.post(f"/documents/{document.id}/delete", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/invoices"
    assert count(config, "document", "id = ?", document.id) == 0
    invoice = issued("invoice", client, line())
    before = state(config)
    response = browser.post(f"/documents/{invoice.id}/delete")
    assert response.status_code == 409 and "credit note" in response.text
    assert state(config) == before


def test_mark_sent_duplicate_and_credit(browser, config, client) -> None:
    invoice = issued("invoice", client, line("Website", "2", "100.00", "GST"))
    assert browser.post(f"/documents/{invoice.id}/mark-sent", follow_redirects=False).status_code == 303
    assert query(config, "SELECT status FROM document WHERE id = ?", invoice.id) == [("sent",)]
    assert "Sent" in browser.get(f"/documents/{invoice.id}").text
    copy = browser.post(f"/documents/{invoice.id}/duplicate", follow_redirects=False)
    assert copy.status_code == 303 and copy.headers["location"].endswith("/edit")
    credit = browser.post(f"/documents/{invoice.id}/credit", follow_redirects=False)
    credit_id = int(re.search(r"/documents/(\d+)/edit", credit.headers["location"]).group(1))
    editor = browser.get(f"/documents/{credit_id}/edit").text
    assert f"{invoice.number}" in editor and 'selected>' in editor  # the invoice it credits is chosen
    # Keep one of the two units, issue: the invoice's balance drops.
    from app.documents import service
    credit_doc = run(service.get_document(credit_id))
    form = editor_form(credit_doc, form_line(0, "Website", "1", "100.00", "GST"), invoice_id=str(invoice.id))
    assert browser.post(f"/documents/{credit_id}/edit", data=form, follow_redirects=False).status_code == 303
    assert browser.post(f"/documents/{credit_id}/issue", follow_redirects=False).status_code == 303
    assert query(config, "SELECT total_minor - paid_minor - credited_minor FROM document WHERE id = ?",
                 invoice.id) == [(10500,)]
    page = browser.get(f"/documents/{invoice.id}").text
    assert f"CN-{YEAR}-0001" in page and "105.00" in page


def test_quote_accept_convert_and_decline(browser, config, client) -> None:
    quote = issued("quote", client, line("Redesign", "1", "900.00", "GST"))
    page = browser.get(f"/documents/{quote.id}").text
    assert "/accept" in page and "/decline" in page and "/convert" in page
    assert browser.post(f"/documents/{quote.id}/accept", follow_redirects=False).status_code == 303
    response = browser.post(f"/documents/{quote.id}/convert", follow_redirects=False)
    invoice_id = int(re.search(r"/documents/(\d+)/edit", response.headers["location"]).group(1))
    assert query(config, "SELECT status, converted_invoice FROM document WHERE id = ?", quote.id) == [
        ("converted", invoice_id)]
    assert f"/documents/{invoice_id}" in browser.get(f"/documents/{quote.id}").text
    assert quote.number in browser.get(f"/documents/{invoice_id}").text
    # A converted quote cannot be declined: the page says why.
    response = browser.post(f"/documents/{quote.id}/decline")
    assert response.status_code == 409 and "quote cannot be declined" in response.text


def test_history_lists_what_happened(browser, client) -> None:
    invoice = issued("invoice", client, line())
    browser.post(f"/documents/{invoice.id}/mark-sent")
    page = browser.get(f"/documents/{invoice.id}").text
    history = page[page.index("History"):]
    assert history.index("Created") < history.index("Issued") < history.index("Sent")
    assert "Olivia Owner" in history  # the page's action records who did it


# -- settings: taxes and numbering --------------------------------------------------------------

def test_taxes_page_presets_add_and_edit(browser, config) -> None:
    page = browser.get("/settings/taxes").text
    assert "No taxes yet" in page and 'value="CA"' in page and 'value="US"' in page
    assert browser.post("/settings/taxes/preset", data={"preset": "germany"}, follow_redirects=False).status_code == 303
    assert query(config, "SELECT code FROM tax ORDER BY code") == [
        ("DE-EXPORT",), ("DE0",), ("RC",), ("VAT0",), ("VAT19",), ("VAT7",)]
    response = browser.post("/settings/taxes", data={"code": "qst", "name": "QST", "rate": "9.975", "compound": "on",
                                                     "category": "S"}, follow_redirects=False)
    assert response.status_code == 303
    assert query(config, "SELECT rate, compound FROM tax WHERE code = 'QST'") == [("9.975", 1)]
    bad = browser.post("/settings/taxes", data={"code": "X", "name": "X", "rate": "150"})
    assert bad.status_code == 422 and "between 0 and 100" in bad.text
    edit = browser.post("/settings/taxes/VAT7", data={"name": "USt. 7 %", "rate": "7", "category": "S", "note": "",
                                                      "active": "on"}, follow_redirects=False)
    assert edit.status_code == 303
    assert query(config, "SELECT compound, active FROM tax WHERE code = 'VAT7'") == [(0, 1)]
    off = browser.post("/settings/taxes/VAT7", data={"name": "USt. 7 %", "rate": "7", "category": "S"},
                       follow_redirects=False)
    assert off.status_code == 303 and query(config, "SELECT active FROM tax WHERE code = 'VAT7'") == [(0,)]
    wrong = browser.post("/settings/taxes/VAT19", data={"name": "", "rate": "19", "category": "S", "active": "on"})
    assert wrong.status_code == 422 and "VAT19" in wrong.text
    page = browser.get("/settings").text
    assert "/settings/taxes" in page and "VAT19 19 %" in page


def test_taxes_page_is_for_the_owner(staff_browser) -> None:
    assert staff_browser.get("/settings/taxes").status_code == 403
    assert staff_browser.post("/settings/numbering", data={"invoice_next": "100"}).status_code == 403


def test_numbering_starts_a_series_further_on(browser, config, client) -> None:
    page = browser.get("/settings").text
    assert f"INV-{YEAR}-0001" in page and 'name="invoice_number_pattern"' in page
    response = browser.post("/settings/numbering", data={
        "invoice_number_pattern": "F{yy}-{seq:05}", "invoice_next": "1500",
        "quote_number_pattern": "QUO-{year}-{seq:04}", "quote_next": "1",
        "credit_note_number_pattern": "CN-{year}-{seq:04}", "credit_note_next": "1"}, follow_redirects=False)
    assert response.status_code == 303
    invoice = draft("invoice", client, line())
    browser.post(f"/documents/{invoice.id}/issue")
    assert query(config, "SELECT number FROM document WHERE id = ?", invoice.id) == [(f"F{YEAR % 100:02d}-01500",)]
    # The main settings form does not reset the patterns it does not show.
    from app.settings import service

    settings = run(service.get_settings())
    form = {key: ("" if settings[key] is None else str(settings[key])) for key in (
        "name", "default_currency", "default_locale", "time_zone", "payment_terms_days", "quote_validity_days")}
    assert browser.post("/settings", data=form, follow_redirects=False).status_code == 303
    assert query(config, "SELECT invoice_number_pattern FROM business_settings") == [("F{yy}-{seq:05}",)]


def test_numbering_refuses_bad_input_and_writes_nothing(browser, config, client) -> None:
    issued("invoice", client, line())
    before = (snapshot(config, "number_series"), snapshot(config, "business_settings"))
    response = browser.post("/settings/numbering", data={
        "invoice_number_pattern": "INV-{seq:04}", "invoice_next": "7",
        "quote_number_pattern": "QUO-{year}-{seq:04}", "quote_next": "50",
        "credit_note_number_pattern": "CN-{year}-{seq:04}", "credit_note_next": "1"})
    assert response.status_code == 422
    assert "{year}" in response.text and "already" in response.text  # pattern and series both explained
    assert (snapshot(config, "number_series"), snapshot(config, "business_settings")) == before


def test_dashboard_shows_invoice_statistics(browser, client) -> None:
    issued("invoice", client, line("Website", "1", "1000.00", "HST"), issue_date="2020-01-01", terms_days=30)
    page = browser.get("/").text
    assert "Outstanding" in page and "Overdue" in page and "1,130.00" in page
    assert 'href="/invoices/new"' in page and 'href="/quotes/new"' in page


def test_a_search_too_long_is_explained_not_run(browser, client) -> None:
    """A pasted page of text in the search box: the list says what is wrong and shows its rows unsearched
    (each word would be a lookup of the index), the footer's second request too."""
    long = "hosting " * 30
    page = browser.get("/invoices", params={"q": long})
    assert page.status_code == 200 and "Search: at most 200 characters." in page.text
    assert 'maxlength="200"' in page.text
    rows = browser.get("/invoices", params={"q": long}, headers={"HX-Request": "true", "HX-Target": "doc-results"})
    assert rows.status_code == 200 and "Search: at most 200 characters." in rows.text
    footer = browser.get("/invoices/totals", params={"q": long})
    assert footer.status_code == 200
    assert browser.get("/invoices", params={"q": "w" * 200}).status_code == 200
    from app.batch import logic as batch_logic
    from app.documents import service as documents_service

    assert documents_service.MAX_SEARCH == batch_logic.MAX_SEARCH   # the list and its PDFs take the same searches
