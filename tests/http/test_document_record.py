"""Issue 14, points 1, 2 and 7 over HTTP: the issued PDF is the document of record (stored once at issue,
served byte for byte by every download, email, ZIP and accountant package, checked by `counterfoil
check`, carried by backups), a document that cannot be printed is not issued (422 naming the field,
nothing written), control characters are refused in every text field, and numbers follow dates."""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from app.config import Config
from tests.conftest import sealed_writes
from tests.http.support import create_via_api, field_errors, make_client, text_of
from tests.http.test_render import IBAN, business, embedded  # noqa: F401  (business is a fixture)

# No font, bundled or fallback, has a glyph for a private-use character of plane 15.
UNPRINTABLE = "\U000f0000"


def cli(*args: str, today: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"COUNTERFOIL_TEST_TODAY": today} if today else {})}
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=180, env=env)


def record_of(config: Config, document_id: int) -> tuple[str, int, str] | None:
    connection = sqlite3.connect(config.database_path)
    try:
        return connection.execute("SELECT sha256, size, origin FROM document_record WHERE document = ?",
                                  (document_id,)).fetchone()
    finally:
        connection.close()


def stored_file(config: Config, sha256: str) -> Path:
    return config.data_dir / "attachments" / "records" / f"{sha256}.pdf"


def draft(api, client, *, path: str = "invoices", description: str = "Consulting", **extra: Any) -> dict[str, Any]:
    body = {"client_id": client.id, "currency": "EUR", **extra,
            "lines": [{"description": description, "quantity": "2", "unit": "h", "unit_price": "95.50",
                       "taxes": ["VAT19"]}]}
    return create_via_api(api, path, body, issue=False)


def books_state(config: Config) -> dict[str, Any]:
    """What issuing writes: numbers, ledger, the trail, records, events; and the files kept."""
    connection = sqlite3.connect(config.database_path)
    try:
        state: dict[str, Any] = {table: connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
                                 for table in ("number_series", "ledger_entry", "audit_entry", "document_record",
                                               "document_event")}
        state["documents"] = connection.execute("SELECT id, number, status, issue_date FROM document").fetchall()
    finally:
        connection.close()
    folder = config.data_dir / "attachments" / "records"
    state["files"] = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    return state


# -- 1. printable forever ------------------------------------------------------------------------

# The outbox worker off before the clients' apps start (a patch in the test comes after their start): this
# test has two apps, each with its own event loop, and the database's one writer is never shared between two.
@pytest.mark.usefixtures("no_background_delivery")
def test_every_way_out_serves_the_stored_bytes_before_and_after_a_payment(api, browser, business, config):
    from tests.http.smtp_support import configure

    client = make_client(name="Globex", language="en", country="IE", email="ap@globex.example")
    invoice = create_via_api(api, "invoices", {"client_id": client.id, "currency": "EUR", "lines": [
        {"description": "Design sprint", "quantity": "3", "unit": "d", "unit_price": "800.00", "taxes": ["VAT19"]}]})
    sha256, size, origin = record_of(config, invoice["id"]) or ("", 0, "")
    stored = stored_file(config, sha256).read_bytes()
    assert origin == "issue" and len(stored) == size and hashlib.sha256(stored).hexdigest() == sha256
    filename = f"{invoice['number']}_Globex.pdf"

    def every_copy() -> list[bytes]:
        copies = [api.get(f"/api/v1/invoices/{invoice['id']}/pdf").content,
                  browser.get(f"/documents/{invoice['id']}/pdf").content]
        archive = zipfile.ZipFile(io.BytesIO(api.get("/api/v1/invoices/export.zip").content))
        copies.append(archive.read(filename))
        today = date.today()
        package = zipfile.ZipFile(io.BytesIO(api.get(
            f"/api/v1/exports/accountant?from={today.year}-01-01&to={today.year}-12-31").content))
        copies += [package.read(name) for name in package.namelist() if name.endswith(filename)]
        queued = api.post(f"/api/v1/invoices/{invoice['id']}/send", json={})
        assert queued.status_code == 202, queued.text
        copies.append(browser.get(f"/outbox/{queued.json()['id']}/attachments/0").content)
        return copies

    configure(api, SimpleNamespace(port=2525))   # queued only: the outbox worker is off
    before = every_copy()
    assert len(before) == 5 and all(copy == stored for copy in before)
    paid = api.post(f"/api/v1/invoices/{invoice['id']}/payments",
                    json={"amount": "1000.00", "date": date.today().isoformat(), "reference": "SEPA 7"})
    assert paid.status_code == 201, paid.text
    after = every_copy()
    assert all(copy == stored for copy in after)
    text = text_of(stored).replace("\xa0", " ")
    assert "Paid" not in text and "Balance due" not in text
    xml = embedded(stored)["files"]["factur-x.xml"]["content"]
    assert b"TotalPrepaidAmount" not in xml   # the XML inside is part of the record: no payment state


def test_a_changed_or_missing_stored_file_breaks_check_naming_the_document(api, business, config):
    client = make_client(name="Initech", language="en", country="IE")
    invoice = create_via_api(api, "invoices", {"client_id": client.id, "currency": "EUR", "lines": [
        {"description": "Audit", "quantity": "1", "unit_price": "500.00", "taxes": ["VAT19"]}]})
    checked = cli("check", "--data-dir", str(config.data_dir))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    sha256, _, _ = record_of(config, invoice["id"]) or ("", 0, "")
    path = stored_file(config, sha256)
    original = path.read_bytes()
    middle = len(original) // 2
    path.write_bytes(original[:middle] + bytes([original[middle] ^ 1]) + original[middle + 1:])
    checked = cli("check", "--data-dir", str(config.data_dir))
    assert checked.returncode == 1 and invoice["number"] in checked.stdout and "SHA-256" in checked.stdout
    refused = api.get(f"/api/v1/invoices/{invoice['id']}/pdf")   # never silently rendered again
    assert refused.status_code >= 500 and invoice["number"] in refused.text
    path.unlink()
    checked = cli("check", "--data-dir", str(config.data_dir))
    assert checked.returncode == 1 and invoice["number"] in checked.stdout and "missing" in checked.stdout
    path.write_bytes(original)
    assert cli("check", "--data-dir", str(config.data_dir)).returncode == 0


def test_a_backup_carries_the_stored_files_and_restores_them(api, business, config, tmp_path):
    client = make_client(name="Umbrella", language="de", country="DE")
    invoice = create_via_api(api, "invoices", {"client_id": client.id, "currency": "EUR", "lines": [
        {"description": "Wartung", "quantity": "1", "unit_price": "90.00", "taxes": ["VAT19"]}]})
    sha256, _, _ = record_of(config, invoice["id"]) or ("", 0, "")
    original = stored_file(config, sha256).read_bytes()
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("correct horse battery staple backup\n")
    bundle = tmp_path / "books.counterfoil"
    made = cli("backup", "export", str(bundle), "--data-dir", str(config.data_dir), "--passphrase-file", str(passphrase))
    assert made.returncode == 0, made.stderr
    target = Config(data_dir=tmp_path / "restored")
    restored = cli("backup", "import", str(bundle), "--data-dir", str(target.data_dir),
                   "--passphrase-file", str(passphrase))
    assert restored.returncode == 0, restored.stderr
    assert stored_file(target, sha256).read_bytes() == original
    checked = cli("check", "--data-dir", str(target.data_dir))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_document_issued_before_records_were_kept_gets_its_record_on_first_download(api, business, config):
    client = make_client(name="Hooli", language="en", country="US")
    invoice = create_via_api(api, "invoices", {"client_id": client.id, "currency": "EUR", "lines": [
        {"description": "Support", "quantity": "1", "unit_price": "40.00", "taxes": ["VAT19"]}]})
    sha256, _, _ = record_of(config, invoice["id"]) or ("", 0, "")
    # As a database from before this version holds it: the document issued, no record, no file.
    stored_file(config, sha256).unlink()
    connection = sqlite3.connect(config.database_path)
    with sealed_writes(connection):
        connection.execute("DELETE FROM document_record WHERE document = ?", (invoice["id"],))
    connection.commit()
    connection.close()
    first = api.get(f"/api/v1/invoices/{invoice['id']}/pdf")
    assert first.status_code == 200
    sha256, size, origin = record_of(config, invoice["id"]) or ("", 0, "")
    assert origin == "first use" and hashlib.sha256(first.content).hexdigest() == sha256 and size == len(first.content)
    assert api.get(f"/api/v1/invoices/{invoice['id']}/pdf").content == first.content
    assert cli("check", "--data-dir", str(config.data_dir)).returncode == 0


def test_a_stored_pdf_is_served_as_a_file_with_its_etag_and_304_when_the_browser_has_it(api, browser, business,
                                                                                          config, monkeypatch):
    """Issue 21 point 3: an issued document's PDF comes from its stored file, named by its hash, after one
    indexed read: no render, no read of the document and its lines."""
    from app.documents import service as documents_service
    from app.render import service as render_service

    client = make_client(name="Vandelay Industries", language="en", country="IE")
    invoice = create_via_api(api, "invoices", {"client_id": client.id, "currency": "EUR", "lines": [
        {"description": "Import and export", "quantity": "1", "unit_price": "250.00", "taxes": ["VAT19"]}]})
    sha256, _, _ = record_of(config, invoice["id"]) or ("", 0, "")
    stored = stored_file(config, sha256).read_bytes()

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a stored PDF is served without rendering or reading the document")

    monkeypatch.setattr(render_service, "render_job_sync", never)
    monkeypatch.setattr(documents_service, "get_document", never)
    for asker, url in ((api, f"/api/v1/invoices/{invoice['id']}/pdf"), (browser, f"/documents/{invoice['id']}/pdf")):
        first = asker.get(url)
        assert first.status_code == 200 and first.content == stored
        assert first.headers["etag"] == f'"{sha256}"' and first.headers["cache-control"] == "private, no-cache"
        assert first.headers["content-type"] == "application/pdf"
        assert f"{invoice['number']}_Vandelay-Industries.pdf" in first.headers["content-disposition"]
        for tag in (f'"{sha256}"', f'W/"{sha256}"', f'"other", "{sha256}"', "*"):
            again = asker.get(url, headers={"If-None-Match": tag})
            assert again.status_code == 304 and again.content == b"", tag
            assert again.headers["etag"] == f'"{sha256}"'
        changed = asker.get(url, headers={"If-None-Match": '"an-older-file"'})
        assert changed.status_code == 200 and changed.content == stored
    downloaded = browser.get(f"/documents/{invoice['id']}/pdf?download=1")
    assert downloaded.headers["content-disposition"].startswith("attachment")
    # Another type's route does not serve it, stored or not (it goes the long way, which says 404).
    monkeypatch.undo()
    assert api.get(f"/api/v1/quotes/{invoice['id']}/pdf").status_code == 404
    # A stored file that changed is refused, never served, even with the tag the browser holds.
    path = stored_file(config, sha256)
    path.write_bytes(stored[:-1] + bytes([stored[-1] ^ 1]))
    refused = api.get(f"/api/v1/invoices/{invoice['id']}/pdf")
    assert refused.status_code >= 500 and invoice["number"] in refused.text
    path.write_bytes(stored)


def test_a_draft_pdf_has_no_etag_and_is_never_kept(api, business, config):
    client = make_client(name="Kramerica", language="en", country="IE")
    unissued = draft(api, client)
    response = api.get(f"/api/v1/invoices/{unissued['id']}/pdf", headers={"If-None-Match": "*"})
    assert response.status_code == 200 and "etag" not in response.headers
    assert response.headers["cache-control"] == "private, no-cache"


def test_quotes_and_credit_notes_are_kept_too_and_a_draft_never(api, business, config):
    client = make_client(name="Soylent", language="de", country="AT", tax_number="ATU12345678")
    quote = create_via_api(api, "quotes", {"client_id": client.id, "currency": "EUR", "lines": [
        {"description": "Angebot", "quantity": "1", "unit_price": "300.00", "taxes": ["VAT19"]}]})
    sha256, _, _ = record_of(config, quote["id"]) or ("", 0, "")
    assert api.get(f"/api/v1/quotes/{quote['id']}/pdf").content == stored_file(config, sha256).read_bytes()
    invoice = create_via_api(api, "invoices", {"client_id": client.id, "currency": "EUR", "lines": [
        {"description": "Leistung", "quantity": "1", "unit_price": "300.00", "taxes": ["VAT19"]}]})
    before = api.get(f"/api/v1/invoices/{invoice['id']}/pdf").content
    assert api.post(f"/api/v1/invoices/{invoice['id']}/cancel", json={"reason": "Falscher Kunde"}).status_code == 200
    assert api.get(f"/api/v1/invoices/{invoice['id']}/pdf").content == before
    credit = api.get(f"/api/v1/credit-notes?client_id={client.id}").json()["items"][0]
    assert record_of(config, credit["id"]) is not None
    unissued = draft(api, client)
    assert api.get(f"/api/v1/invoices/{unissued['id']}/pdf").status_code == 200 and record_of(config, unissued["id"]) is None


# -- 2. preflight at issue ------------------------------------------------------------------------

@pytest.mark.parametrize(("where", "field"), [
    ("client", "client.name"), ("line", "lines[0].description"), ("notes", "notes")])
def test_an_unprintable_character_refuses_the_issue_naming_the_field_and_writes_nothing(
        api, business, config, where, field):
    client = make_client(name=f"Ex{UNPRINTABLE}ample" if where == "client" else "Example", language="en", country="IE")
    document = draft(api, client, description=f"Work {UNPRINTABLE}" if where == "line" else "Work",
                     notes=f"Thanks {UNPRINTABLE}" if where == "notes" else "")
    before = books_state(config)
    response = api.post(f"/api/v1/invoices/{document['id']}/issue")
    assert response.status_code == 422, response.text
    errors = field_errors(response)
    assert list(errors) == [field] and UNPRINTABLE in errors[field] and "U+F0000" in errors[field]
    assert books_state(config) == before   # no number, no ledger entry, no trail entry, no file
    fixed = {"client": None, "line": {"lines": [{"description": "Work", "quantity": "1", "unit_price": "10"}]},
             "notes": {"notes": "Thanks"}}[where]
    if fixed is None:
        assert api.patch(f"/api/v1/clients/{client.id}", json={"name": "Example"}).status_code == 200
    else:
        assert api.patch(f"/api/v1/invoices/{document['id']}", json=fixed).status_code == 200
    issued = api.post(f"/api/v1/invoices/{document['id']}/issue")
    assert issued.status_code == 200 and issued.json()["number"].endswith("0001")   # the number was not consumed


def test_the_issue_page_shows_the_refusal(browser, api, business, config):
    client = make_client(name="Example", language="en", country="IE")
    document = draft(api, client, description=f"Work {UNPRINTABLE}")
    response = browser.post(f"/documents/{document['id']}/issue", data={})
    assert response.status_code == 422 and "Line 1" in response.text and "U+F0000" in response.text
    assert api.get(f"/api/v1/invoices/{document['id']}").json()["status"] == "draft"


def test_a_broken_custom_template_refuses_the_issue(api, business, config):
    folder = config.data_dir / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "invoice.typ").write_text("#let broken = (\n", encoding="utf-8")
    assert api.patch("/api/v1/settings", json={"use_custom_templates": True}).status_code == 200
    client = make_client(name="Example", language="en", country="IE")
    document = draft(api, client)
    before = books_state(config)
    response = api.post(f"/api/v1/invoices/{document['id']}/issue")
    assert response.status_code == 422 and "template" in field_errors(response)
    assert books_state(config) == before


CONTROLS = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9f", "\u2028", "\u2029"]


@pytest.mark.parametrize("control", CONTROLS)
def test_control_characters_are_refused_in_every_text_field_through_the_api(api, business, control):
    response = api.post("/api/v1/clients", json={"name": f"Acme{control}Ltd", "country": "IE"})
    assert response.status_code == 422 and "name" in field_errors(response)
    client = make_client(name="Acme", language="en", country="IE")
    body = {"client_id": client.id, "lines": [{"description": f"Wo{control}rk", "quantity": "1", "unit_price": "5"}]}
    response = api.post("/api/v1/invoices", json=body)
    assert response.status_code == 422 and "lines[0].description" in field_errors(response)
    body = {"client_id": client.id, "notes": f"a{control}b", "lines": [{"description": "Work", "unit_price": "5"}]}
    response = api.post("/api/v1/invoices", json=body)
    assert response.status_code == 422 and "notes" in field_errors(response)
    for name in ("name", "invoice_footer", "default_terms"):
        response = api.patch("/api/v1/settings", json={name: f"x{control}y"})
        assert response.status_code == 422 and name in field_errors(response), (name, response.text)


def test_tabs_and_line_breaks_stay_and_crlf_becomes_lf(api, business):
    client = make_client(name="Acme", language="en", country="IE")
    body = {"client_id": client.id, "notes": "one\r\ntwo\tthree",
            "lines": [{"description": "Work\r\nmore", "unit_price": "5"}]}
    response = api.post("/api/v1/invoices", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["notes"] == "one\ntwo\tthree" and response.json()["lines"][0]["description"] == "Work\nmore"


def test_control_characters_are_refused_on_the_pages(browser, api, business):
    response = browser.post("/clients", data={"name": "Acme\x01", "country": "IE"})
    assert response.status_code == 422 and "U+0001" in response.text
    response = browser.post("/settings", data={"name": "Atelier\u2028Lumière", "default_currency": "EUR"})
    assert response.status_code == 422 and "U+2028" in response.text
    client = make_client(name="Acme", language="en", country="IE")
    document = draft(api, client)
    form = {"client_id": str(client.id), "currency": "EUR", "lines-0-description": "Wo\x1brk",
            "lines-0-quantity": "1", "lines-0-unit_price": "5", "notes": "Thanks\x85again"}
    response = browser.post(f"/documents/{document['id']}/edit", data=form)
    assert response.status_code == 422 and "U+001B" in response.text and "U+0085" in response.text


# -- 7. numbers follow dates --------------------------------------------------------------------------

def test_issuing_dates_the_document_today_and_a_back_date_must_be_asked_for(api, business, config, monkeypatch):
    monkeypatch.setenv("COUNTERFOIL_TEST_TODAY", "2027-01-04")
    client = make_client(name="Example", language="en", country="IE")
    december = draft(api, client, issue_date="2026-12-20", terms_days=30, confirm_date=True)
    issued = api.post(f"/api/v1/invoices/{december['id']}/issue").json()
    assert issued["issue_date"] == "2027-01-04" and issued["number"] == "INV-2027-0001"
    assert issued["due_date"] == "2027-02-03"   # the payment terms follow the date
    second = draft(api, client, issue_date="2026-12-21", confirm_date=True)
    unasked = api.post(f"/api/v1/invoices/{second['id']}/issue", json={"issue_date": "2026-12-21"})
    assert unasked.status_code == 422 and "backdate" in field_errors(unasked)
    ahead = api.post(f"/api/v1/invoices/{second['id']}/issue", json={"issue_date": "2027-01-05", "backdate": True})
    assert ahead.status_code == 422 and "issue_date" in field_errors(ahead)
    backdated = api.post(f"/api/v1/invoices/{second['id']}/issue", json={"issue_date": "2026-12-21", "backdate": True})
    assert backdated.status_code == 200, backdated.text
    assert backdated.json()["number"] == "INV-2026-0001" and backdated.json()["issue_date"] == "2026-12-21"
    third = draft(api, client)
    before = books_state(config)
    refused = api.post(f"/api/v1/invoices/{third['id']}/issue", json={"issue_date": "2026-12-01", "backdate": True})
    assert refused.status_code == 409 and "2026-12-21" in refused.json()["detail"]
    assert books_state(config) == before
    assert api.post(f"/api/v1/invoices/{third['id']}/issue").json()["number"] == "INV-2027-0002"


def test_the_back_date_form_on_the_page(browser, api, business, monkeypatch):
    monkeypatch.setenv("COUNTERFOIL_TEST_TODAY", "2027-01-04")
    client = make_client(name="Example", language="en", country="IE")
    first = draft(api, client, issue_date="2026-12-20", confirm_date=True)
    page = browser.get(f"/documents/{first['id']}")
    assert 'name="backdate"' in page.text and 'name="issue_date"' in page.text and "Back-date" in page.text
    unticked = browser.post(f"/documents/{first['id']}/issue", data={"issue_date": "2026-12-20"})
    assert unticked.status_code == 422 and "back-date" in unticked.text
    done = browser.post(f"/documents/{first['id']}/issue", data={"issue_date": "2026-12-20", "backdate": "1"},
                        follow_redirects=False)
    assert done.status_code == 303
    assert api.get(f"/api/v1/invoices/{first['id']}").json()["issue_date"] == "2026-12-20"
    second = draft(api, client, issue_date="2026-12-10", confirm_date=True)
    refused = browser.post(f"/documents/{second['id']}/issue", data={"issue_date": "2026-12-10", "backdate": "1"})
    assert refused.status_code == 409 and "2026-12-20" in refused.text
    today = browser.post(f"/documents/{second['id']}/issue", data={}, follow_redirects=False)
    assert today.status_code == 303
    assert api.get(f"/api/v1/invoices/{second['id']}").json()["issue_date"] == "2027-01-04"


def test_check_reports_a_series_whose_dates_go_backwards(api, business, config):
    client = make_client(name="Example", language="en", country="IE")
    first = create_via_api(api, "invoices", {"client_id": client.id, "lines": [
        {"description": "Work", "quantity": "1", "unit_price": "5"}]})
    second = create_via_api(api, "invoices", {"client_id": client.id, "lines": [
        {"description": "Work", "quantity": "1", "unit_price": "5"}]})
    assert cli("check", "--data-dir", str(config.data_dir)).returncode == 0
    connection = sqlite3.connect(config.database_path)
    with sealed_writes(connection):
        connection.execute("UPDATE document SET issue_date = date(issue_date, '-1 day') WHERE id = ?",
                           (second["id"],))
    connection.commit()
    connection.close()
    checked = cli("check", "--data-dir", str(config.data_dir))
    assert checked.returncode == 1 and second["number"] in checked.stdout and first["number"] in checked.stdout
    assert "go backwards" in checked.stdout


@pytest.mark.usefixtures("no_background_delivery")
def test_control_characters_are_refused_in_an_email_and_a_reversal_reason(api, business):
    client = make_client(name="Acme", language="en", country="IE", email="ap@acme.example")
    invoice = create_via_api(api, "invoices", {"client_id": client.id, "lines": [
        {"description": "Work", "quantity": "1", "unit_price": "50"}]})
    response = api.post(f"/api/v1/invoices/{invoice['id']}/send", json={"message": "Hello\x00there"})
    assert response.status_code == 422 and "message" in field_errors(response)
    paid = api.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"amount": "50.00"})
    assert paid.status_code == 201, paid.text
    reversed_ = api.post(f"/api/v1/payments/{paid.json()['id']}/reverse", json={"reason": "bounced\x1b"})
    assert reversed_.status_code == 422 and "reason" in field_errors(reversed_)


def test_a_logo_typst_refuses_refuses_the_issue_naming_the_logo(browser, api, business, config):
    from tests.http.support import png

    assert browser.post("/settings/logo", files={"logo": ("logo.png", png(40, 12), "image/png")},
                        follow_redirects=False).status_code == 303
    (logo,) = [p for p in config.attachments_dir.iterdir() if p.is_file()]
    logo.write_bytes(png(40, 12)[:33] + b"\x00" * 64)   # a PNG's header, its image data damaged on disk since
    client = make_client(name="Example", language="en", country="IE")
    document = draft(api, client)
    before = books_state(config)
    response = api.post(f"/api/v1/invoices/{document['id']}/issue")
    assert response.status_code == 422 and "logo" in field_errors(response), response.text
    assert books_state(config) == before
