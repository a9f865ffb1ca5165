"""Expenses through HTTP against the real SQLite file: vendors, categories, expenses, receipts, the
closed period, supplier e-invoices in, billing onto invoices, and the P&L and tax-return reports."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from app.config import Config
from tests.conftest import run
from tests.http.support import count, field_errors, make_client, png, query, snapshot

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64


def canada() -> None:
    from app.settings import service as settings_service
    from app.taxes import service as taxes_service

    run(settings_service.update_settings({"name": "Maple Studio", "country": "CA", "default_currency": "CAD"}))
    run(taxes_service.apply_preset("canada"))


def expense_body(**fields: Any) -> dict[str, Any]:
    return {"date": "2026-03-10", "category": "office", "net": "100.00", "currency": "CAD", "taxes": ["GST", "QST"],
            "description": "Printer paper", **fields}


@pytest.fixture
def ca(config: Config, owner: dict[str, Any]) -> None:
    canada()


# -- vendors and categories ---------------------------------------------------------------------------

def test_vendor_crud_through_the_api(api, ca, config):
    response = api.post("/api/v1/vendors", json={"name": "Staples", "tax_number": "123456789 RT0001", "country": "CA",
                                                 "default_category": "office"})
    assert response.status_code == 201, response.text
    vendor = response.json()
    assert api.get(f"/api/v1/vendors/{vendor['id']}").json()["name"] == "Staples"
    assert api.patch(f"/api/v1/vendors/{vendor['id']}", json={"notes": "Near the office"}).json()["notes"] == \
        "Near the office"
    assert api.get("/api/v1/vendors?q=stap").json()["total"] == 1
    assert api.delete(f"/api/v1/vendors/{vendor['id']}").status_code == 204
    assert count(config, "vendor") == 0


def test_vendor_bad_input(api, ca, config):
    assert field_errors(api.post("/api/v1/vendors", json={"name": ""}))["name"] == "Name is required"
    assert "country" in field_errors(api.post("/api/v1/vendors", json={"name": "X", "country": "Canada"}))
    assert "default_category" in field_errors(api.post("/api/v1/vendors", json={"name": "X",
                                                                                "default_category": "nope"}))
    assert count(config, "vendor") == 0


def test_the_chart_is_the_countrys_preset_and_editable(api, ca):
    chart = api.get("/api/v1/expense-categories").json()
    meals = next(c for c in chart if c["code"] == "meals")
    assert meals["deductible_percent"] == 50 and len(chart) >= 10
    created = api.post("/api/v1/expense-categories", json={"code": "coworking", "name": "Coworking"})
    assert created.status_code == 201 and created.json()["deductible_percent"] == 100
    renamed = api.patch("/api/v1/expense-categories/coworking", json={"name": "Coworking space", "active": False})
    assert renamed.json() == {"code": "coworking", "name": "Coworking space", "deductible_percent": 100,
                              "active": False}
    assert "code" in field_errors(api.post("/api/v1/expense-categories", json={"code": "coworking", "name": "Again"}))


# -- expenses --------------------------------------------------------------------------------------------

def test_an_expense_computes_its_taxes_like_a_document_line(api, ca, config):
    response = api.post("/api/v1/expenses", json=expense_body())
    assert response.status_code == 201, response.text
    expense = response.json()
    assert (expense["net"], expense["tax_total"], expense["total"], expense["taxes"]) == \
        ("100.00", "14.98", "114.98", ["GST", "QST"])
    assert expense["deductible_tax"] == "14.98" and expense["paid_on"] == "2026-03-10"
    assert query(config, "SELECT net_minor, tax_total_minor, total_minor FROM expense") == [(10000, 1498, 11498)]


def test_meals_claim_half_their_input_tax(api, ca):
    expense = api.post("/api/v1/expenses", json=expense_body(category="meals", taxes=["GST"])).json()
    assert (expense["tax_total"], expense["deductible_tax"], expense["deductible_percent"]) == ("5.00", "2.50", 50)


def test_taxes_as_printed_on_the_receipt(api, ca):
    expense = api.post("/api/v1/expenses", json=expense_body(tax_amounts={"GST": "5.01", "QST": "9.97"})).json()
    assert (expense["tax_total"], expense["total"]) == ("14.98", "114.98")
    assert [t["amount"] for t in expense["tax_lines"]] == ["5.01", "9.97"]


def test_an_expense_split_across_categories(api, ca, config):
    body = body_without(expense_body(splits=[{"category": "office", "net": "60.00"},
                                             {"category": "software", "net": "40.50"}]), "net", "category")
    expense = api.post("/api/v1/expenses", json=body).json()
    assert expense["net"] == "100.50" and [s["category"] for s in expense["splits"]] == ["office", "software"]
    assert query(config, "SELECT category, net_minor FROM expense_split ORDER BY position") == [
        ("office", 6000), ("software", 4050)]
    assert api.get("/api/v1/expenses?category=software").json()["total"] == 1


def test_patch_and_delete(api, ca, config):
    expense = api.post("/api/v1/expenses", json=expense_body()).json()
    changed = api.patch(f"/api/v1/expenses/{expense['id']}", json={"net": "200.00"}).json()
    assert (changed["net"], changed["total"], changed["description"]) == ("200.00", "229.95", "Printer paper")
    assert api.delete(f"/api/v1/expenses/{expense['id']}").status_code == 204
    assert count(config, "expense") == 0 and count(config, "expense_split") == 0


def body_without(body: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in names}


@pytest.mark.parametrize(("body", "field", "words"), [
    (expense_body(net="-5.00"), "net", "above zero"),
    (expense_body(net="0"), "net", "above zero"),
    (expense_body(net="1.234"), "net", "more decimals"),
    (expense_body(tax_amounts={"GST": "150.00"}, taxes=["GST"]), "tax_amounts", "larger than the net"),
    (expense_body(taxes=["NOPE"]), "taxes", "Unknown tax code"),
    (expense_body(category="nope"), "category", "Unknown category"),
    (expense_body(date="2026-02-30"), "date", "YYYY-MM-DD"),
    (expense_body(currency="XXY"), "currency", "unknown currency"),
    (expense_body(vendor_id=999), "vendor_id", "does not exist"),
    (expense_body(billable=True), "client_id", "needs the client"),
    (expense_body(markup_percent="-1"), "markup_percent", "negative"),
    (expense_body(paid_with="barter"), "paid_with", "must be one of"),
    (body_without(expense_body(), "category"), "category", "required"),
    (body_without(expense_body(), "date"), "date", "required"),
])
def test_bad_expenses_are_refused_naming_the_field_and_nothing_is_written(api, ca, config, body, field, words):
    response = api.post("/api/v1/expenses", json=body)
    assert response.status_code == 422, response.text
    errors = field_errors(response)
    assert field in errors and words in errors[field], errors
    assert count(config, "expense") == 0 and count(config, "expense_split") == 0


def test_an_unknown_field_is_refused(api, ca):
    assert api.post("/api/v1/expenses", json=expense_body(amount="5")).status_code == 422


# -- closing the books ---------------------------------------------------------------------------------

def test_a_closed_period_freezes_its_expenses(api, ca, config):
    inside = api.post("/api/v1/expenses", json=expense_body(date="2026-01-15")).json()
    assert api.put("/api/v1/books", json={"closed_up_to": "2026-01-31"}).json() == {"closed_up_to": "2026-01-31"}
    before = snapshot(config, "expense")
    refused = api.post("/api/v1/expenses", json=expense_body(date="2026-01-20"))
    assert refused.status_code == 422 and "closed up to 2026-01-31" in field_errors(refused)["date"]
    assert api.patch(f"/api/v1/expenses/{inside['id']}", json={"net": "1.00"}).status_code == 409
    assert api.delete(f"/api/v1/expenses/{inside['id']}").status_code == 409
    assert api.post(f"/api/v1/expenses/{inside['id']}/receipts", files={"file": ("r.png", png(), "image/png")}
                    ).status_code == 409
    moved = api.post("/api/v1/expenses", json=expense_body(date="2026-02-01")).json()
    assert api.patch(f"/api/v1/expenses/{moved['id']}", json={"date": "2026-01-02"}).status_code == 422
    # Paid inside the closed period: the closed months' cash-basis profit and loss would change.
    count = len(snapshot(config, "expense"))
    refused = api.post("/api/v1/expenses", json=expense_body(date="2026-02-02", paid_with="card", paid_on="2026-01-20"))
    assert refused.status_code == 422 and "closed up to 2026-01-31" in field_errors(refused)["paid_on"]
    refused = api.patch(f"/api/v1/expenses/{moved['id']}", json={"paid_with": "card", "paid_on": "2026-01-20"})
    assert refused.status_code == 422 and "paid_on" in field_errors(refused)
    assert len(snapshot(config, "expense")) == count
    assert snapshot(config, "expense")[:1] == before
    assert api.put("/api/v1/books", json={"closed_up_to": None}).json() == {"closed_up_to": None}
    assert api.patch(f"/api/v1/expenses/{inside['id']}", json={"net": "1.00"}).status_code == 200


# -- receipts ---------------------------------------------------------------------------------------------

def test_receipts_are_kept_by_sha256_and_served_back(api, ca, config):
    expense = api.post("/api/v1/expenses", json=expense_body()).json()
    image = png(4, 4)
    response = api.post(f"/api/v1/expenses/{expense['id']}/receipts", files={"file": ("till slip.png", image,
                                                                                      "image/png")})
    assert response.status_code == 201, response.text
    receipt = response.json()["receipts"][0]
    import hashlib
    sha = hashlib.sha256(image).hexdigest()
    assert receipt["sha256"] == sha and receipt["media_type"] == "image/png" and receipt["filename"] == "till slip.png"
    assert (config.attachments_dir / "receipts" / f"{sha}.png").read_bytes() == image
    served = api.get(receipt["url"])
    assert served.status_code == 200 and served.content == image and served.headers["content-type"] == "image/png"
    api.post(f"/api/v1/expenses/{expense['id']}/receipts", files={"file": ("bill.pdf", PDF, "application/pdf")})
    assert [r["media_type"] for r in api.get(f"/api/v1/expenses/{expense['id']}").json()["receipts"]] == [
        "image/png", "application/pdf"]
    assert api.delete(f"/api/v1/expenses/{expense['id']}/receipts/1").status_code == 200
    assert not (config.attachments_dir / "receipts" / f"{sha}.png").exists()
    assert api.get(f"/api/v1/expenses/{expense['id']}/receipts/2").status_code == 404


@pytest.mark.parametrize(("content", "words"), [
    (HEIC, "HEIC"),
    (b"GIF89a" + b"\x00" * 20, "PDF, PNG or JPEG"),
    (b"", "empty"),
    (b"%PDF-" + b"\x00" * (20 * 1024 * 1024), "at most 20 MB"),
])
def test_bad_receipts_are_refused_and_not_kept(api, ca, config, content, words):
    expense = api.post("/api/v1/expenses", json=expense_body()).json()
    response = api.post(f"/api/v1/expenses/{expense['id']}/receipts", files={"file": ("x.bin", content)})
    assert response.status_code == 422, response.text
    assert words in field_errors(response)["file"]
    assert count(config, "expense_receipt") == 0
    folder = config.attachments_dir / "receipts"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_receipt_without_a_file_field_is_refused(api, ca):
    expense = api.post("/api/v1/expenses", json=expense_body()).json()
    response = api.post(f"/api/v1/expenses/{expense['id']}/receipts", files={"other": ("x.png", png())})
    assert response.status_code == 422 and "file" in field_errors(response)


def test_receipts_travel_in_backups(api, ca, config, tmp_path):
    from app.backup import service as backup_service
    from tests.unit.backup_reader import read_bundle

    expense = api.post("/api/v1/expenses", json=expense_body()).json()
    image = png(3, 3)
    api.post(f"/api/v1/expenses/{expense['id']}/receipts", files={"file": ("r.png", image, "image/png")})
    target = tmp_path / "backup.counterfoil"
    backup_service.export_bundle(config, target, "a long enough passphrase")
    members = read_bundle(target.read_bytes(), "a long enough passphrase")
    import hashlib
    assert members[f"attachments/receipts/{hashlib.sha256(image).hexdigest()}.png"] == image


# -- supplier e-invoices and billing through HTTP ----------------------------------------------------------

def test_import_a_supplier_e_invoice_through_the_api(api, config):
    from tests.service.test_expenses_service import own_facturx_pdf

    pdf = run(own_facturx_pdf(config))
    response = api.post("/api/v1/expenses/import", files={"file": ("INV.pdf", pdf, "application/pdf")})
    assert response.status_code == 201, response.text
    draft = response.json()
    assert (draft["status"], draft["total"], draft["vendor_name"]) == ("draft", "378.40", "Müller Design GmbH")
    assert api.get(draft["receipts"][0]["url"]).content == pdf
    recorded = api.post(f"/api/v1/expenses/{draft['id']}/record")
    assert recorded.status_code == 200 and recorded.json()["status"] == "recorded"
    again = api.post("/api/v1/expenses/import", files={"file": ("INV.pdf", pdf, "application/pdf")})
    assert again.status_code == 409


def test_a_malformed_e_invoice_is_refused_through_the_api(api, ca, config):
    response = api.post("/api/v1/expenses/import", files={"file": ("x.xml", b"<Invoice>", "application/xml")})
    assert response.status_code == 422 and "malformed" in field_errors(response)["file"]
    assert count(config, "expense") == 0


def test_bill_an_expense_to_a_client_through_the_api(api, ca, config):
    client = make_client(currency="CAD")
    expense = api.post("/api/v1/expenses", json=expense_body(billable=True, client_id=client.id, category="travel",
                                                             markup_percent="15")).json()
    assert [e["id"] for e in api.get(f"/api/v1/clients/{client.id}/unbilled-expenses").json()] == [expense["id"]]
    draft = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": []}).json()
    added = api.post(f"/api/v1/documents/{draft['id']}/expenses", json={"expense_ids": [expense["id"]]})
    assert added.status_code == 200, added.text
    assert api.get(f"/api/v1/expenses/{expense['id']}").json()["billed_state"] == "on_draft"
    issued = api.post(f"/api/v1/invoices/{draft['id']}/issue").json()
    assert issued["lines"][0]["unit_price"] == "115.00"
    billed = api.get(f"/api/v1/expenses/{expense['id']}").json()
    assert (billed["billed_state"], billed["billed_number"]) == ("billed", issued["number"])
    assert api.get("/api/v1/expenses?billed=true").json()["total"] == 1
    assert api.get("/api/v1/expenses?billable=true&billed=false").json()["total"] == 0


# -- reports ------------------------------------------------------------------------------------------------

def test_profit_and_loss_and_tax_reports(api, ca, config):
    client = make_client(currency="CAD")
    invoice = api.post("/api/v1/invoices", json={"client_id": client.id, "issue_date": "2026-02-01", "lines": [
        {"description": "Work", "quantity": "1", "unit_price": "1000.00", "taxes": ["GST", "QST"]}]}).json()
    issued = api.post(f"/api/v1/invoices/{invoice['id']}/issue", json={"issue_date": "2026-02-01", "backdate": True})
    assert issued.status_code == 200, issued.text
    api.post("/api/v1/expenses", json=expense_body(date="2026-02-10"))
    pnl = api.get("/api/v1/reports/profit-loss?from=2026-01-01&to=2026-03-31").json()
    assert (pnl["revenue"], pnl["expenses"], pnl["profit"], pnl["currency"]) == ("1000.00", "100.00", "900.00", "CAD")
    assert [m["month"] for m in pnl["months"]] == ["2026-01", "2026-02", "2026-03"]
    assert pnl["categories"] == [{"code": "office", "name": "Office supplies", "amount": "100.00", "count": 1}]
    tax = api.get("/api/v1/reports/tax?form=ca-gst34&from=2026-01-01&to=2026-03-31&sources=true").json()
    assert (tax["lines"]["101"], tax["lines"]["103"], tax["lines"]["106"], tax["lines"]["109"]) == (
        "1000.00", "50.00", "5.00", "45.00")
    assert (tax["lines"]["205"], tax["lines"]["208"], tax["lines"]["209"]) == ("99.75", "9.98", "89.77")
    assert tax["sources"]["103"] == [{"kind": "document", "id": invoice["id"], "label": "INV-2026-0001",
                                      "amount": "50.00"}]
    csv = api.get("/api/v1/reports/tax.csv?form=ca-gst34&from=2026-01-01&to=2026-03-31")
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    assert "109" in csv.content.decode("utf-8-sig")
    pdf = api.get("/api/v1/reports/profit-loss.pdf?from=2026-01-01&to=2026-03-31")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert api.get("/api/v1/reports/profit-loss.csv").status_code == 200
    assert api.get("/api/v1/reports/tax.pdf?form=generic").content.startswith(b"%PDF-")


@pytest.mark.parametrize(("url", "field"), [
    ("/api/v1/reports/profit-loss?basis=magic", "basis"),
    ("/api/v1/reports/profit-loss?from=2026-05-01&to=2026-01-01", "to"),
    ("/api/v1/reports/tax?form=us-1040", "form"),
    ("/api/v1/reports/tax?currency=XYZ", "currency"),
    ("/api/v1/reports/profit-loss?from=1800-01-01", "from"),
])
def test_bad_report_requests_name_the_parameter(api, ca, url, field):
    response = api.get(url)
    assert response.status_code in (400, 422), response.text
    assert field in field_errors(response)


def test_the_accountants_package_carries_expenses_receipts_and_both_reports(api, ca, config):
    import io
    import zipfile

    expense = api.post("/api/v1/expenses", json=expense_body(date="2026-02-10")).json()
    api.post(f"/api/v1/expenses/{expense['id']}/receipts", files={"file": ("paper receipt.png", png(2, 2),
                                                                          "image/png")})
    response = api.get("/api/v1/exports/accountant?from=2026-02-01&to=2026-02-28")
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert {"expenses.csv", "profit-loss.pdf", "profit-loss.csv", "tax-return.pdf", "tax-return.csv"} <= set(names)
    assert f"receipts/{expense['id']}-1-paper-receipt.png" in names
    rows = archive.read("expenses.csv").decode("utf-8-sig").splitlines()
    assert len(rows) == 2 and "Printer paper" in rows[1] and f"{expense['id']}-1-paper-receipt.png" in rows[1]
    assert "expenses.csv (1 rows)" in archive.read("README.txt").decode()


# -- pages -----------------------------------------------------------------------------------------------------

def test_the_pages_show_expenses_end_to_end(browser, ca, config):
    empty = browser.get("/expenses")
    assert empty.status_code == 200 and "No expenses yet" in empty.text and 'name="file"' in empty.text
    assert browser.get("/expenses/new").status_code == 200
    vendor = browser.post("/vendors", data={"name": "Bureau en Gros", "tax_number": "123", "country": "CA",
                                            "default_category": "office"}, follow_redirects=False)
    assert vendor.status_code == 303
    (vendor_id,) = query(config, "SELECT id FROM vendor")[0]
    form = {"date": "2026-03-03", "vendor_id": str(vendor_id), "description": "Toner", "category": "office",
            "net": "80.00", "currency": "CAD", "taxes": ["GST", "QST"], "paid_with": "card", "markup_percent": "0"}
    created = browser.post("/expenses", data=form, follow_redirects=False)
    assert created.status_code == 303, created.text
    (expense_id,) = query(config, "SELECT id FROM expense")[0]
    detail = browser.get(f"/expenses/{expense_id}")
    assert detail.status_code == 200 and "Toner" in detail.text and "91.98" in detail.text
    upload = browser.post(f"/expenses/{expense_id}/receipts", files={"file": ("t.png", png(), "image/png")},
                          follow_redirects=False)
    assert upload.status_code == 303
    assert f'src="/expenses/{expense_id}/receipts/1"' in browser.get(f"/expenses/{expense_id}").text
    assert browser.get(f"/expenses/{expense_id}/receipts/1").content == png()
    listing = browser.get("/expenses")
    assert "Toner" in listing.text and "Bureau en Gros" in listing.text
    assert browser.get(f"/expenses/{expense_id}/edit").status_code == 200
    edited = browser.post(f"/expenses/{expense_id}/edit", data={**form, "net": "90.00"}, follow_redirects=False)
    assert edited.status_code == 303 and query(config, "SELECT net_minor FROM expense") == [(9000,)]
    for path in ("/vendors", f"/vendors/{vendor_id}/edit", "/expenses/categories", "/reports", "/reports/profit-loss",
                 "/reports/profit-loss?basis=cash", "/reports/tax", "/reports/tax?form=de-ustva",
                 "/reports/tax?form=fr-ca3", "/reports/tax?form=generic&line=deductible"):
        page = browser.get(path)
        assert page.status_code == 200, path
    assert "<svg" in browser.get("/reports/profit-loss").text


def test_the_expense_form_refuses_bad_input_naming_the_field(browser, ca, config):
    response = browser.post("/expenses", data={"date": "2026-03-03", "category": "office", "net": "-3",
                                               "currency": "CAD"})
    assert response.status_code == 422 and "above zero" in response.text
    assert count(config, "expense") == 0
    response = browser.post("/expenses/categories", data={"code": "Bad Code", "name": "X"})
    assert response.status_code == 422 and "small letters" in response.text


def test_closing_the_books_from_the_page(browser, ca, config):
    assert browser.post("/expenses/closing", data={"closed_up_to": "2026-01-31"},
                        follow_redirects=False).status_code == 303
    assert query(config, "SELECT closed_up_to FROM expense_books") == [("2026-01-31",)]


def test_staff_cannot_close_the_books(staff_browser, ca, config):
    assert staff_browser.post("/expenses/closing", data={"closed_up_to": "2026-01-31"}).status_code == 403


def test_the_invoice_editor_offers_unbilled_expenses(browser, ca, config):
    client = make_client(currency="CAD")
    from app.expenses import service as expenses_service

    expense = run(expenses_service.create_expense({"date": "2026-03-02", "category": "travel", "net": "42.00",
                                                   "currency": "CAD", "description": "Taxi", "billable": True,
                                                   "client_id": client.id}))
    from app.documents import service as documents_service

    draft = run(documents_service.create_document("invoice", {"client_id": client.id, "lines": []}))
    assert f'hx-get="/documents/{draft.id}/unbilled-expenses"' in browser.get(f"/documents/{draft.id}/edit").text
    panel = browser.get(f"/documents/{draft.id}/unbilled-expenses")
    assert "Taxi" in panel.text and "Unbilled expenses" in panel.text
    added = browser.post(f"/documents/{draft.id}/unbilled-expenses", data={"expense_id": str(expense["id"])},
                         follow_redirects=False)
    assert added.status_code == 303
    assert query(config, "SELECT billed_document FROM expense") == [(draft.id,)]
    assert query(config, "SELECT description FROM document_line WHERE document = ?", draft.id) == [
        ("Taxi (2026-03-02)",)]


def test_staff_record_expenses_but_only_the_owner_deletes_them(staff_browser, ca, config):
    from app.expenses import service as expenses_service

    expense = run(expenses_service.create_expense(expense_body()))
    page = staff_browser.get(f"/expenses/{expense['id']}")
    assert page.status_code == 200 and f'action="/expenses/{expense["id"]}/delete"' not in page.text
    assert staff_browser.post(f"/expenses/{expense['id']}/delete").status_code == 403
    assert count(config, "expense") == 1


def test_a_pdf_receipt_opens_in_the_browsers_viewer(browser, ca, config):
    from app.expenses import service as expenses_service

    expense = run(expenses_service.create_expense(expense_body()))
    run(expenses_service.add_receipt(config.attachments_dir, expense["id"], PDF, "bill.pdf"))
    page = browser.get(f"/expenses/{expense['id']}")
    assert f'href="/expenses/{expense["id"]}/receipts/1" target="_blank"' in page.text and "<object" not in page.text
    served = browser.get(f"/expenses/{expense['id']}/receipts/1")
    assert served.content == PDF and served.headers["content-disposition"].startswith("inline")


def test_the_expense_form_finds_its_client_on_demand(browser, ca, config):
    """The form holds no list of clients: its chosen one, and the matches of what is typed loaded by the invoice
    editor's picker (/documents/client-options); the chosen client is what is saved, "No client" clears it."""
    maple = make_client(name="Maple Bakery", email="ap@maple.example")
    make_client(name="Birch Joinery", email="ap@birch.example")
    new = browser.get("/expenses/new")
    assert new.status_code == 200 and "Maple Bakery" not in new.text and "Birch Joinery" not in new.text
    assert 'hx-get="/documents/client-options"' in new.text and 'name="client_id" value="" checked' in new.text
    found = browser.get("/documents/client-options", params={"client_q": "maple"}, headers={"HX-Request": "true"})
    assert found.status_code == 200 and f'value="{maple.id}"' in found.text and "Birch" not in found.text
    form = {"date": "2026-03-03", "description": "Flour", "category": "office", "net": "80.00", "currency": "CAD",
            "paid_with": "card", "markup_percent": "10", "billable": "on", "client_id": str(maple.id),
            "client_q": "maple"}
    created = browser.post("/expenses", data=form, follow_redirects=False)
    assert created.status_code == 303, created.text
    (expense_id, client_id), = query(config, "SELECT id, client FROM expense")
    assert client_id == maple.id
    edit = browser.get(f"/expenses/{expense_id}/edit")
    assert f'name="client_id" value="{maple.id}" checked' in edit.text and "Birch Joinery" not in edit.text
    cleared = browser.post(f"/expenses/{expense_id}/edit", data={**form, "billable": "", "client_id": ""},
                           follow_redirects=False)
    assert cleared.status_code == 303 and query(config, "SELECT client FROM expense") == [(None,)]
    assert "Maple Bakery" not in browser.get("/vendors").text


def test_an_expense_cannot_be_paid_in_the_future(api, ca, config):
    refused = api.post("/api/v1/expenses", json=expense_body(paid_with="card", paid_on="2199-01-01"))
    assert refused.status_code == 422 and "in the future" in field_errors(refused)["paid_on"]
    assert snapshot(config, "expense") == []


def test_the_books_are_closed_up_to_yesterday_at_the_latest(api, ca, config):
    from app.settings import service as settings_service

    today = run(settings_service.today())
    for day in (today, today + timedelta(days=1), date(2199, 1, 1)):
        refused = api.put("/api/v1/books", json={"closed_up_to": day.isoformat()})
        assert refused.status_code == 422 and "yesterday" in field_errors(refused)["closed_up_to"], refused.text
    assert api.get("/api/v1/books").json() == {"closed_up_to": None}
    yesterday = (today - timedelta(days=1)).isoformat()
    assert api.put("/api/v1/books", json={"closed_up_to": yesterday}).json() == {"closed_up_to": yesterday}
