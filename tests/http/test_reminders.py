"""Reminders through HTTP against a real SQLite file, with today pinned by COUNTERFOIL_TEST_TODAY (never by
sleeping): the due list, making, listing, the PDF, cancelling, paying the fee, the dunning settings, every
bad input refused naming its field with nothing written, the pages, and a second reminder with its PDF
received by a real SMTP server."""

from __future__ import annotations

from typing import Any

import pytest

from app.settings.service import TEST_TODAY_ENV
from tests.conftest import run
from tests.http.smtp_support import SmtpServer, configure, deliver
from tests.http.support import count, field_errors, make_client, make_invoice, query, text_of

# Mail and exports are delivered by the test itself (deliver()), not by the background workers; the smtp
# fixture (a local SMTP server) and this one live in tests/http/conftest.py.
pytestmark = pytest.mark.usefixtures("no_background_delivery")


def on(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setenv(TEST_TODAY_ENV, day)


def overdue_invoice(client: Any, total: str = "1000.00") -> Any:
    """Issued 2026-01-02 with 30 days to pay: due 2026-02-01."""
    from datetime import date

    return make_invoice(client, total, issue_date=date(2026, 1, 2), terms_days=30, confirm_date=True,
                        currency="EUR")


def test_due_make_list_show_pdf_cancel(api: Any, config: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(email="ap@maple.example")
    bill = overdue_invoice(client)
    on(monkeypatch, "2026-02-10")
    due = api.get("/api/v1/reminders/due")
    assert due.status_code == 200
    assert [(d["invoice_id"], d["level"], d["days_overdue"], d["open"]) for d in due.json()] == [
        (bill.id, 1, 9, "1000.00")]
    made = api.post("/api/v1/reminders", json={"invoice_ids": [bill.id], "send": False})
    assert made.status_code == 201, made.text
    first, = made.json()
    assert {k: first[k] for k in ("number", "invoice_ids", "level", "fee", "interest", "total_due", "status")} == {
        "number": "REM-2026-0001", "invoice_ids": [bill.id], "level": 1, "fee": "0.00", "interest": "0.00",
        "total_due": "1000.00", "status": "issued"}
    assert api.get("/api/v1/reminders/due").json() == []
    on(monkeypatch, "2026-03-10")                     # level 2, then level 3 with interest two weeks on
    second, = api.post("/api/v1/reminders", json={"all_due": True, "send": False}).json()
    assert (second["level"], second["fee"]) == (2, "5.00")
    on(monkeypatch, "2026-03-24")
    third, = api.post("/api/v1/reminders", json={"all_due": True, "send": False}).json()
    assert (third["level"], third["fee"], third["interest"]) == (3, "10.00", "12.58")  # 51 days at 9 %
    listed = api.get("/api/v1/reminders", params={"invoice_id": bill.id}).json()
    assert listed["total"] == 3 and [r["number"] for r in listed["items"]] == [
        "REM-2026-0003", "REM-2026-0002", "REM-2026-0001"]
    shown = api.get(f"/api/v1/reminders/{third['id']}").json()
    assert shown["total_due"] == "1022.58" and shown["items"][0]["interest_from"] == "2026-02-02"
    pdf = api.get(f"/api/v1/reminders/{third['id']}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "REM-2026-0003" in pdf.headers["content-disposition"]
    text = text_of(pdf.content)
    assert "2nd notice" in text and "REM-2026-0003" in text and "12.58" in text
    # The statement shows the fee as a debit; the balance includes it.
    statement = api.get(f"/api/v1/clients/{client.id}/statement", params={"currency": "EUR"})
    assert statement.status_code == 200
    assert any(e["kind"] == "reminder_charge" for e in statement.json()["entries"])
    cancelled = api.post(f"/api/v1/reminders/{third['id']}/cancel", json={"reason": "Sent in error"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = api.post(f"/api/v1/reminders/{third['id']}/cancel", json={})
    assert again.status_code == 409
    assert api.get("/api/v1/reminders/9999").status_code == 404
    assert api.get("/api/v1/reminders/due").json()[0]["level"] == 3   # the level is free again


@pytest.mark.parametrize(("bank", "printed"), [
    ({"bank_name": "Example Bank", "institution": "004", "transit": "12345", "account_number": "5012345"},
     ["Account holder", "Example Bank", "Transit", "12345", "5012345", "REM-2026-0001"]),
    ({"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"},
     ["Account holder", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX", "REM-2026-0001"]),
], ids=["domestic", "iban"])
def test_a_reminder_says_where_to_pay_as_the_invoice_does(api: Any, monkeypatch: pytest.MonkeyPatch,
                                                          bank: dict[str, str], printed: list[str]) -> None:
    from app.fx import service as fx_service

    run(fx_service.save_bank_account({"holder": "Maple Studio Inc.", "currencies": "EUR",
                                      **bank}))
    bill = overdue_invoice(make_client(email="ap@maple.example"))
    on(monkeypatch, "2026-02-10")
    made, = api.post("/api/v1/reminders", json={"invoice_ids": [bill.id], "send": False}).json()
    text = " ".join(text_of(api.get(f"/api/v1/reminders/{made['id']}/pdf").content).split())
    for words in printed:
        assert words in text, (words, text[:2000])


def test_paying_a_fee_with_money_and_from_credit(api: Any, config: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(email="ap@maple.example")
    bill = overdue_invoice(client, "300.00")
    on(monkeypatch, "2026-02-10")
    api.post("/api/v1/reminders", json={"all_due": True, "send": False})
    on(monkeypatch, "2026-02-24")
    rem, = api.post("/api/v1/reminders", json={"all_due": True, "send": False}).json()
    assert rem["fee"] == "5.00"
    paid = api.post(f"/api/v1/reminders/{rem['id']}/payments", json={"amount": "2.00", "method": "cash"})
    assert paid.status_code == 200 and paid.json()["charges_open"] == "3.00"
    too_much = api.post(f"/api/v1/reminders/{rem['id']}/payments", json={"amount": "3.01"})
    assert too_much.status_code == 422 and "amount" in field_errors(too_much)
    no_credit = api.post(f"/api/v1/reminders/{rem['id']}/payments", json={"from_credit": True, "amount": "1.00"})
    assert no_credit.status_code == 422 and "amount" in field_errors(no_credit)
    # The client overpays the invoice by 3.00 and keeps it as credit: the credit settles the rest of the fee.
    api.post(f"/api/v1/invoices/{bill.id}/payments", json={"amount": "303.00", "keep_excess_as_credit": True})
    settled = api.post(f"/api/v1/reminders/{rem['id']}/payments", json={"from_credit": True})
    assert settled.status_code == 200 and settled.json()["charges_open"] == "0.00"
    balances = api.get(f"/api/v1/clients/{client.id}/ledger").json()
    assert "0.00" in str(balances)
    assert api.post(f"/api/v1/reminders/{rem['id']}/cancel").status_code == 409   # its fee was paid


@pytest.mark.parametrize(("level", "field"), [
    ({"days_after_due": -1}, "levels.0.days_after_due"),
    ({"fee_flat": "-5"}, "levels.0.fee_flat"),
    ({"fee_percent": "-1"}, "levels.0.fee_percent"),
    ({"fee_percent": "100.5"}, "levels.0.fee_percent"),
    ({"interest_rate": "101"}, "levels.0.interest_rate"),
    ({"fee_flat": 5.5}, "levels.0.fee_flat"),
    ({"title": ""}, "levels.0.title"),
    ({"level": 3}, "levels.0.level"),
    ({"texts": {"en": {"subject": "Pay {amout}", "body": "x"}}}, "levels.0.texts.en.subject"),
    ({"texts": {"es": {"subject": "x", "body": "y"}}}, "levels.0.texts.es"),
    ({"colour": "red"}, "levels.0.colour"),
])
def test_bad_levels_are_refused_naming_the_field(api: Any, config: Any, level: dict[str, Any], field: str) -> None:
    good = api.get("/api/v1/settings/dunning").json()
    assert api.put("/api/v1/settings/dunning", json=good).status_code == 200
    before = query(config, "SELECT * FROM dunning_level ORDER BY id")
    body = {**good, "levels": [{**good["levels"][0], **level}, *good["levels"][1:]]}
    response = api.put("/api/v1/settings/dunning", json=body)
    assert response.status_code == 422, response.text
    assert field in field_errors(response)
    assert query(config, "SELECT * FROM dunning_level ORDER BY id") == before


@pytest.mark.parametrize(("change", "field"), [
    ({"levels": [{"level": 1, "days_after_due": 20, "title": "A"}, {"level": 2, "days_after_due": 10, "title": "B"}]},
     "levels.1.days_after_due"),
    ({"levels": [{"level": n, "days_after_due": n, "title": "L"} for n in range(1, 6)]}, "levels"),
    ({"notice_days_before_due": 0}, "notice_days_before_due"),
    ({"pay_within_days": 0}, "pay_within_days"),
    ({"day_count": "30/360"}, "day_count"),
    ({"auto_send": "maybe"}, "auto_send"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_dunning_settings_are_refused(api: Any, config: Any, change: dict[str, Any], field: str) -> None:
    response = api.put("/api/v1/settings/dunning", json={**api.get("/api/v1/settings/dunning").json(), **change})
    assert response.status_code == 422, response.text
    assert field in field_errors(response)
    assert count(config, "dunning_settings") == 0 and count(config, "dunning_level") == 0


def test_dunning_settings_round_trip_and_are_the_owners(api: Any, staff_browser: Any) -> None:
    settings = api.get("/api/v1/settings/dunning").json()
    assert [lv["title"] for lv in settings["levels"]] == ["Payment reminder", "1st notice", "2nd notice",
                                                           "Final notice"]
    settings["levels"] = settings["levels"][:2]
    settings["levels"][1]["fee_percent"] = "1.5"
    settings["auto_send"] = True
    settings["notice_days_before_due"] = 3
    saved = api.put("/api/v1/settings/dunning", json=settings)
    assert saved.status_code == 200, saved.text
    assert api.get("/api/v1/settings/dunning").json() == saved.json()
    assert len(saved.json()["levels"]) == 2 and saved.json()["levels"][1]["fee_percent"] == "1.5"
    assert staff_browser.get("/api/v1/settings/dunning").status_code == 403
    assert staff_browser.get("/settings/dunning").status_code == 403


def test_reminders_for_draft_paid_cancelled_or_unknown_invoices_are_refused(api: Any, config: Any,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from app.documents import service as documents
    from app.payments import service as payments

    client = make_client(email="ap@maple.example")
    draft = make_invoice(client, issue=False)
    paid = overdue_invoice(client)
    cancelled = overdue_invoice(client)
    current = overdue_invoice(client)
    on(monkeypatch, "2026-02-10")
    run(payments.record_payment(paid.id, {"amount": "1000.00"}))
    run(documents.cancel(cancelled.id, "Wrong client"))
    for ids, says in (([draft.id], "draft"), ([paid.id], "is paid"), ([cancelled.id], "is cancelled"),
                      ([99999], "does not exist"), ([current.id, paid.id], "is paid"), ([], "at least one"),
                      (["x"], "")):
        response = api.post("/api/v1/reminders", json={"invoice_ids": ids})
        assert response.status_code in (400, 422), response.text
        if says:
            assert says in field_errors(response)["invoice_ids"]
    assert api.post("/api/v1/reminders", json={}).status_code == 422
    assert api.post("/api/v1/reminders", json={"invoice_ids": [current.id], "all_due": True}).status_code == 422
    assert count(config, "reminder") == 0 and count(config, "reminder_series") == 0
    assert count(config, "ledger_entry", "kind = 'reminder_charge'") == 0
    # A client marked "no reminders" gets none; the flag goes through the API.
    assert api.put(f"/api/v1/clients/{client.id}/reminders", json={"no_reminders": True}).json()["no_reminders"]
    refused = api.post("/api/v1/reminders", json={"invoice_ids": [current.id]})
    assert refused.status_code == 422 and "no reminders" in field_errors(refused)["invoice_ids"]
    assert api.get("/api/v1/reminders/due").json() == []


def test_a_second_reminder_reaches_a_real_smtp_server_with_its_pdf(api: Any, smtp: SmtpServer,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    configure(api, smtp)
    client = make_client(email="ap@maple.example", language="de")
    overdue_invoice(client, "2000.00")
    on(monkeypatch, "2026-02-10")
    first, = api.post("/api/v1/reminders", json={"all_due": True}).json()
    assert first["status"] == "sent"
    on(monkeypatch, "2026-02-24")
    second, = api.post("/api/v1/reminders", json={"all_due": True}).json()
    assert second["status"] == "sent" and second["fee"] == "5.00"
    assert deliver() == 2
    messages = smtp.inbox.messages()
    last = messages[-1]
    assert last["To"] == "ap@maple.example" and last["Subject"].startswith("1. Mahnung")
    attachments = [part for part in last.iter_attachments()]
    assert [part.get_filename() for part in attachments] == ["REM-2026-0002 Maple Bakery.pdf"]
    pdf = attachments[0].get_content()
    assert pdf[:5] == b"%PDF-"
    text = text_of(pdf)
    assert "1. Mahnung" in text and "REM-2026-0002" in text and "Mahngebühr" in text


def test_pages(browser: Any, config: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(email="ap@maple.example", name="A very long client name, Limited Liability Partnership")
    bill = overdue_invoice(client, "123456789.00")
    on(monkeypatch, "2026-02-10")
    empty = browser.get("/reminders")
    assert empty.status_code == 200 and bill.number in empty.text and "Payment reminder" in empty.text
    made = browser.post("/reminders", data={"invoice_ids": str(bill.id)}, follow_redirects=True)
    assert made.status_code == 200 and "1 reminder made" in made.text
    assert "Nothing is due a reminder today" in made.text and "REM-2026-0001" in made.text
    reminder_id = query(config, "SELECT id FROM reminder")[0][0]
    page = browser.get(f"/reminders/{reminder_id}")
    assert page.status_code == 200 and "REM-2026-0001" in page.text and "123,456,789.00" in page.text
    assert browser.get(f"/reminders/{reminder_id}/pdf").headers["content-type"] == "application/pdf"
    invoice_page = browser.get(f"/documents/{bill.id}")
    assert "REM-2026-0001" in invoice_page.text and "Reminders" in invoice_page.text
    cancelled = browser.post(f"/reminders/{reminder_id}/cancel", data={"reason": "oops"}, follow_redirects=True)
    assert cancelled.status_code == 200 and "Cancelled" in cancelled.text
    settings = browser.get("/settings/dunning")
    assert settings.status_code == 200 and "Final notice" in settings.text
    bad = browser.post("/settings/dunning", data={"level_1_on": "on", "level_1_days_after_due": "-3",
                                                  "level_1_title": "Reminder", "pay_within_days": "10",
                                                  "day_count": "actual/365"})
    assert bad.status_code == 422 and "Days after the due date must be at least 0" in bad.text
    saved = browser.post("/settings/dunning", data={"level_1_on": "on", "level_1_days_after_due": "5",
                                                    "level_1_title": "Reminder", "level_1_fee_flat": "2.50",
                                                    "pay_within_days": "14", "day_count": "actual/360",
                                                    "auto_send": "on"}, follow_redirects=True)
    assert saved.status_code == 200 and "Dunning settings saved" in saved.text
    assert query(config, "SELECT level, fee_flat FROM dunning_level") == [(1, "2.50")]
    flagged = browser.post(f"/clients/{client.id}/reminders", data={"no_reminders": "on"}, follow_redirects=True)
    assert flagged.status_code == 200 and "No reminders for this client" in flagged.text
    assert "nav" in browser.get("/").text and 'href="/reminders"' in browser.get("/").text


def test_the_due_invoices_come_a_page_at_a_time(browser: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.web.pages import reminders

    monkeypatch.setattr(reminders, "PER_PAGE", 1)
    client = make_client(email="ap@maple.example")
    first, second = overdue_invoice(client, "100.00"), overdue_invoice(client, "200.00")
    on(monkeypatch, "2026-02-10")
    page_one = browser.get("/reminders")
    assert page_one.status_code == 200 and first.number in page_one.text and second.number not in page_one.text
    assert "Send all 2 due" in page_one.text and "Page 1 of 2" in page_one.text and "due_page=2" in page_one.text
    page_two = browser.get("/reminders?due_page=2&status=sent")
    assert second.number in page_two.text and first.number not in page_two.text and "due_page=1" in page_two.text
    past_the_end = browser.get("/reminders?due_page=3")
    assert past_the_end.status_code == 200 and "No invoice on this page" in past_the_end.text
    assert browser.get("/reminders?due_page=0").status_code == 422
