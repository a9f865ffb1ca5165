"""Email against a real SMTP server (aiosmtpd, started here on a free port).

The outbox worker is switched off in these tests; they call the delivery function
themselves, so nothing depends on timers."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from app.mail.logic import PLACEHOLDERS
from tests.conftest import run
from tests.http.smtp_support import (
    AFTER_THE_MESSAGE,
    AT_DATA,
    PASSWORD,
    USERNAME,
    SmtpServer,
    configure,
    deliver,
    issued_invoice,
)
from tests.http.support import count, field_errors, make_client, query, text_of

# Mail and exports are delivered by the test itself (deliver()), not by the background workers; the smtp
# fixture (a local SMTP server) and this one live in tests/http/conftest.py.
pytestmark = pytest.mark.usefixtures("no_background_delivery")


# -- settings ----------------------------------------------------------------------------------

def test_smtp_settings_round_trip_and_the_password_is_write_only(api, smtp):
    body = configure(api, smtp)
    assert body["smtp_host"] == "127.0.0.1" and body["smtp_port"] == smtp.port and body["smtp_security"] == "none"
    assert body["smtp_password_set"] is True and "smtp_password" not in body
    assert body["accountant_email"] == "books@accountant.example"
    for path in ("/api/v1/settings", "/api/v1/settings/mail"):
        got = api.get(path)
        assert got.status_code == 200 and PASSWORD not in got.text and "smtp_password\"" not in got.text
        assert got.json()["smtp_password_set"] is True
    # absent keeps it, "" forgets it
    assert api.patch("/api/v1/settings", json={"smtp_port": 2525}).json()["smtp_password_set"] is True
    assert api.patch("/api/v1/settings/mail", json={"smtp_password": ""}).json()["smtp_password_set"] is False


@pytest.mark.parametrize(("body", "field"), [
    ({"smtp_security": "tls13"}, "smtp_security"),
    ({"smtp_port": 70000}, "smtp_port"),
    ({"smtp_from_email": "not an address"}, "smtp_from_email"),
    ({"accountant_email": "books@"}, "accountant_email"),
    ({"smtp_host": "smtp://mail.example.com"}, "smtp_host"),
    ({"email_templates": {"invoice": {"subject": "Invoice {nmber}", "body": ""}}}, "invoice_subject"),
    ({"email_templates": {"letter": {"subject": "x", "body": "y"}}}, "email_templates.letter"),
])
def test_bad_settings_are_refused_naming_the_field(api, config, body, field):
    before = query(config, "SELECT * FROM mail_settings")
    response = api.patch("/api/v1/settings", json={"name": "Changed", **body})
    assert response.status_code == 422, response.text
    assert field in field_errors(response)
    assert query(config, "SELECT * FROM mail_settings") == before
    assert api.get("/api/v1/settings").json()["name"] != "Changed"  # nothing half-written


def test_staff_cannot_read_or_change_the_mail_settings(staff_browser):
    assert staff_browser.get("/api/v1/settings/mail").status_code == 403
    assert staff_browser.patch("/api/v1/settings/mail", json={"smtp_host": "evil.example"}).status_code == 403
    assert staff_browser.get("/settings/email", follow_redirects=False).status_code == 403
    assert staff_browser.post("/api/v1/settings/mail/test", json={}).status_code == 403


def test_the_test_message_reports_the_servers_exact_answer(api, browser, smtp):
    configure(api, smtp)
    response = api.post("/api/v1/settings/mail/test", json={"to": "me@atelier.example"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ok"] is True and result["reply"] == "250 2.0.0 Ok: queued as TEST1"
    assert any("235" in line for line in result["transcript"])  # the sign-in's answer
    assert smtp.inbox.logins == [(USERNAME, PASSWORD)]
    assert smtp.inbox.messages()[0]["To"] == "me@atelier.example"
    # the page shows it too
    page = browser.post("/settings/email/test", data={"test_to": "me@atelier.example"})
    assert page.status_code == 200 and "250 2.0.0 Ok: queued as TEST2" in page.text
    # a wrong password: the server's refusal, word for word
    api.patch("/api/v1/settings/mail", json={"smtp_password": "wrong"})
    result = api.post("/api/v1/settings/mail/test", json={}).json()
    assert result["ok"] is False and "535" in result["reply"] and "wrong" not in result["reply"]
    smtp.stop()
    result = api.post("/api/v1/settings/mail/test", json={}).json()
    assert result["ok"] is False and "refused" in result["reply"]


def test_the_test_message_needs_settings(api):
    response = api.post("/api/v1/settings/mail/test", json={})
    assert response.status_code == 409 and "SMTP server" in response.json()["detail"]


def test_the_settings_page_never_shows_the_password(api, browser, smtp):
    configure(api, smtp)
    page = browser.get("/settings/email")
    assert page.status_code == 200
    assert PASSWORD not in page.text and "saved, it is never shown again" in page.text.lower().replace(";", ",")
    assert "Enter a new one to change it" in page.text
    # saving the form with the password left empty keeps it
    response = browser.post("/settings/email", data={
        "smtp_host": "127.0.0.1", "smtp_port": str(smtp.port), "smtp_security": "none", "smtp_username": USERNAME,
        "smtp_password": "", "smtp_from_email": "billing@atelier.example", "smtp_from_name": "Atelier",
        "accountant_email": "", "smtp_allow_unencrypted_password": "true"}, follow_redirects=False)
    assert response.status_code == 303
    assert api.get("/api/v1/settings/mail").json()["smtp_password_set"] is True
    bad = browser.post("/settings/email", data={"smtp_host": "127.0.0.1", "smtp_port": "x", "smtp_security": "none",
                                                "smtp_password": PASSWORD + "2", "smtp_from_email": "nope"})
    assert bad.status_code == 422 and PASSWORD not in bad.text and "not a valid email address" in bad.text


# -- sending documents ---------------------------------------------------------------------------

def test_an_invoice_arrives_with_headers_and_its_pdf_and_becomes_sent(api, browser, config, smtp):
    configure(api, smtp)
    client = make_client(email="accounts@maple.example", contact_name="Mia Maple")
    invoice = issued_invoice(api, client)
    response = api.post(f"/api/v1/invoices/{invoice['id']}/send", json={"cc": "boss@maple.example"})
    assert response.status_code == 202, response.text
    queued = response.json()
    assert queued["status"] == "queued" and queued["to"] == ["accounts@maple.example"]
    assert queued["subject"] == f"Invoice {invoice['number']} from Atelier Lumière"
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "issued"  # not yet accepted

    assert deliver() == 1
    [message] = smtp.inbox.messages()
    [envelope] = smtp.inbox.envelopes
    assert envelope.mail_from == "billing@atelier.example"
    assert sorted(envelope.rcpt_tos) == ["accounts@maple.example", "boss@maple.example"]
    assert message["From"] == "Atelier Lumière <billing@atelier.example>"
    assert message["To"] == "accounts@maple.example" and message["Cc"] == "boss@maple.example"
    assert message["Subject"] == f"Invoice {invoice['number']} from Atelier Lumière"
    assert abs(parsedate_to_datetime(message["Date"]) - datetime.now(UTC)) < timedelta(minutes=5)
    assert re.fullmatch(r"<[^@<>]+@atelier\.example>", message["Message-ID"])
    assert message["Message-ID"] == queued["message_id"]
    body = message.get_body(("plain",)).get_content()
    assert "Hello Mia Maple" in body and "1,200.00" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename().endswith(".pdf")
    pdf = attachment.get_content()
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-1024:]

    sent = api.get(f"/api/v1/outbox/{queued['id']}").json()
    assert sent["status"] == "sent" and sent["attempts"] == 1 and sent["server_reply"].startswith("250 2.0.0 Ok")
    assert sent["sent_at"] and sent["last_error"] == ""
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "sent"
    history = query(config, "SELECT kind, detail FROM document_event WHERE document = ? ORDER BY id", invoice["id"])
    assert ("emailed", "to accounts@maple.example") in history
    # the document's email log
    log = api.get(f"/api/v1/outbox?document_id={invoice['id']}").json()
    assert log["total"] == 1 and log["items"][0]["status"] == "sent"


def test_an_emailed_invoice_history_says_it_was_emailed_and_to_whom(api, browser, config, smtp):
    configure(api, smtp)
    client = make_client(email="accounts@maple.example")
    invoice = issued_invoice(api, client)
    assert api.post(f"/api/v1/invoices/{invoice['id']}/send", json={}).status_code == 202
    assert deliver() == 1
    emailed = api.get(f"/api/v1/invoices/{invoice['id']}").json()
    assert emailed["status"] == "sent" and emailed["sent_at"]
    history = query(config, "SELECT kind, detail FROM document_event WHERE document = ? ORDER BY id", invoice["id"])
    assert history == [("created", ""), ("issued", invoice["number"]), ("emailed", "to accounts@maple.example")]
    page = browser.get(f"/documents/{invoice['id']}").text
    assert "Emailed" in page and "to accounts@maple.example" in page and "by hand" not in page
    # emailed again (already sent): the history adds the second email, the status stays
    assert api.post(f"/api/v1/invoices/{invoice['id']}/send", json={"to": "boss@maple.example"}).status_code == 202
    assert deliver() == 1
    history = query(config, "SELECT kind, detail FROM document_event WHERE document = ? ORDER BY id", invoice["id"])
    assert history[2:] == [("emailed", "to accounts@maple.example"), ("emailed", "to boss@maple.example")]
    # marked as sent by hand, the history says so (and only then)
    by_hand = issued_invoice(api, client)
    assert api.post(f"/api/v1/invoices/{by_hand['id']}/mark-sent").status_code == 200
    assert query(config, "SELECT kind, detail FROM document_event WHERE document = ? AND kind = 'sent'",
                 by_hand["id"]) == [("sent", "marked as sent by hand")]


def test_offline_the_message_stays_queued_and_goes_when_the_server_is_back(api, config, smtp):
    configure(api, smtp)
    client = make_client(email="accounts@maple.example")
    invoice = issued_invoice(api, client)
    port = smtp.port
    smtp.stop()  # the network is down
    queued = api.post(f"/api/v1/invoices/{invoice['id']}/send", json={}).json()
    assert deliver() == 1
    waiting = api.get(f"/api/v1/outbox/{queued['id']}").json()
    assert waiting["status"] == "queued" and waiting["attempts"] == 1
    assert "refused" in waiting["last_error"] and f"127.0.0.1:{port}" in waiting["last_error"]
    assert waiting["next_attempt_at"] is not None
    due = datetime.fromisoformat(waiting["next_attempt_at"])
    assert timedelta(seconds=50) < due - datetime.now(UTC) <= timedelta(seconds=61)
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "issued"
    # not due yet: nothing is tried
    from app.mail import service

    assert run(service.deliver_due()) == 0
    # the server comes back; the retry is due (or the app restarts)
    back = SmtpServer(port).start()
    try:
        assert deliver() == 0  # still backing off
        run(service.recover_at_start())  # what a restart does: every queued message is due now
        assert deliver() == 1
        assert len(back.inbox.envelopes) == 1
    finally:
        back.stop()
    done = api.get(f"/api/v1/outbox/{queued['id']}").json()
    assert done["status"] == "sent" and done["attempts"] == 2 and done["last_error"] == ""
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "sent"


# -- a conversation cut short (issue 12, item 7) -------------------------------------------------

def _send_through(api, smtp, hang_up: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """An issued invoice queued for email, one delivery attempt with the server hanging up as told;
    returns the invoice and its outbox message after the attempt."""
    configure(api, smtp)
    invoice = issued_invoice(api, make_client(email="accounts@maple.example"))
    queued = api.post(f"/api/v1/invoices/{invoice['id']}/send", json={}).json()
    smtp.inbox.hang_up = hang_up
    assert deliver() == 1
    smtp.inbox.hang_up = None
    return invoice, api.get(f"/api/v1/outbox/{queued['id']}").json()


def _later(minutes: int) -> int:
    """Deliver what is due `minutes` from now (every retry of a short backoff)."""
    from app.mail import service

    return run(service.deliver_due(datetime.now(UTC) + timedelta(minutes=minutes)))


def test_a_cut_after_the_whole_message_went_may_have_been_sent_and_is_not_tried_again(api, browser, config, smtp):
    invoice, message = _send_through(api, smtp, AFTER_THE_MESSAGE)
    assert smtp.inbox.hung_up == 1 and len(smtp.inbox.envelopes) == 1  # the server has it
    assert message["status"] == "uncertain" and message["attempts"] == 1
    assert message["next_attempt_at"] is None and message["sent_at"] is None
    assert "closed the connection" in message["last_error"] and "may have sent it on" in message["last_error"]
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "issued"  # nobody knows yet
    # Not tried again: not when due, not by "try the queued now", not at the next start.
    from app.mail import service

    assert _later(60 * 24 * 30) == 0
    assert run(service.retry_all()) == 0
    run(service.recover_at_start())
    assert _later(60) == 0
    assert len(smtp.inbox.envelopes) == 1
    assert api.get(f"/api/v1/outbox/{message['id']}").json()["status"] == "uncertain"
    assert api.get("/api/v1/outbox?status=uncertain").json()["total"] == 1
    # The outbox says so, explains, and offers the two choices.
    page = browser.get("/outbox").text
    assert "May have been sent" in page and "1 message may have been sent." in page
    assert "Check with the recipient" in page
    assert f'action="/outbox/{message["id"]}/resend"' in page and f'action="/outbox/{message["id"]}/mark-sent"' in page
    assert "Send again" in page and "Mark as sent" in page
    detail = browser.get(f"/outbox/{message['id']}").text
    assert "This message may have been sent." in detail and "Mark as sent" in detail and "Send again" in detail
    # The user checked: it arrived.
    marked = browser.post(f"/outbox/{message['id']}/mark-sent", data={"back": "/outbox"}, follow_redirects=False)
    assert marked.status_code == 303
    done = api.get(f"/api/v1/outbox/{message['id']}").json()
    assert done["status"] == "sent" and done["sent_at"] and "marked as sent by hand" in done["server_reply"]
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "sent"
    history = query(config, "SELECT kind, detail FROM document_event WHERE document = ? ORDER BY id", invoice["id"])
    assert history[-1] == ("emailed", "to accounts@maple.example")
    assert len(smtp.inbox.envelopes) == 1
    again = api.post(f"/api/v1/outbox/{message['id']}/mark-sent")
    assert again.status_code == 409 and "only one that may have been sent" in again.json()["detail"]


def test_send_again_after_a_cut_sends_the_same_message_once_more(api, smtp):
    invoice, message = _send_through(api, smtp, AFTER_THE_MESSAGE)
    assert message["status"] == "uncertain"
    resent = api.post(f"/api/v1/outbox/{message['id']}/resend")
    assert resent.status_code == 202
    assert (resent.json()["id"], resent.json()["status"]) == (message["id"], "queued")  # itself, not a copy
    assert deliver() == 1
    done = api.get(f"/api/v1/outbox/{message['id']}").json()
    assert done["status"] == "sent" and done["attempts"] == 2 and done["last_error"] == ""
    first, second = smtp.inbox.messages()
    # The same Message-ID: a mail program that has the first may drop the second.
    assert first["Message-ID"] == second["Message-ID"] == message["message_id"]
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "sent"
    assert api.get("/api/v1/outbox").json()["total"] == 1


def test_a_cut_before_the_message_went_is_tried_again_by_itself(api, smtp):
    invoice, message = _send_through(api, smtp, AT_DATA)
    assert smtp.inbox.hung_up == 1 and smtp.inbox.envelopes == []
    assert message["status"] == "queued" and message["attempts"] == 1 and message["next_attempt_at"]
    assert "closed the connection" in message["last_error"] and "may have" not in message["last_error"]
    assert _later(2) == 1  # the backoff's first minute has passed
    done = api.get(f"/api/v1/outbox/{message['id']}").json()
    assert done["status"] == "sent" and done["attempts"] == 2
    assert len(smtp.inbox.envelopes) == 1
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "sent"


def test_an_answer_to_the_message_is_never_uncertain(api, smtp):
    """The server said no to the data, temporarily or for good: it has not taken it, whatever came before."""
    smtp.inbox.answer_to_data = "451 4.3.0 Mailbox busy, try later"
    _, later = _send_through(api, smtp, None)
    assert later["status"] == "queued" and "451 4.3.0" in later["last_error"]
    smtp.inbox.answer_to_data = "554 5.7.1 Rejected as spam"
    assert _later(2) == 1
    refused = api.get(f"/api/v1/outbox/{later['id']}").json()
    assert refused["status"] == "failed" and "554 5.7.1" in refused["last_error"]


def test_no_answer_in_time_after_the_message_is_uncertain_too(smtp):
    """The classic case: the server takes the message and is slower to answer than we wait."""
    from app.mail import logic, service

    smtp.inbox.slow_answer_s = 1.5
    cfg = service.SmtpConfig(host="127.0.0.1", port=smtp.port, security="none", username=USERNAME,
                             password=PASSWORD, timeout=0.5, allow_unencrypted_password=True)
    outgoing = logic.Outgoing(from_email="billing@atelier.example", from_name="", to=["a@maple.example"], cc=(),
                              subject="Slow", body="Hello", message_id="<slow@atelier.example>",
                              date=datetime.now(UTC))
    with pytest.raises(service.SmtpFailure) as cut:
        service.smtp_send_sync(cfg, logic.build_message(outgoing), "billing@atelier.example", ["a@maple.example"])
    assert cut.value.uncertain and not cut.value.permanent
    assert "timed out" in cut.value.message and "may have sent it on" in cut.value.message


@pytest.mark.parametrize("status", ["queued", "failed", "sent", "cancelled"])
def test_only_an_uncertain_message_can_be_marked_as_sent(api, config, status):
    from app.mail import service

    message = run(service.queue_message("test", to=["a@example.com"], subject="Hello", body="Hi"))
    if status != "queued":
        import sqlite3

        connection = sqlite3.connect(config.database_path)
        with connection:
            connection.execute("UPDATE outbox_message SET status = ? WHERE id = ?", (status, message["id"]))
        connection.close()
    response = api.post(f"/api/v1/outbox/{message['id']}/mark-sent")
    assert response.status_code == 409
    assert query(config, "SELECT status FROM outbox_message") == [(status,)]
    assert api.post("/api/v1/outbox/999999/mark-sent").status_code == 404


def test_a_refused_recipient_fails_for_good_and_can_be_resent(api, browser, smtp):
    configure(api, smtp)
    smtp.inbox.refuse.add("gone@maple.example")
    client = make_client(email="gone@maple.example")
    invoice = issued_invoice(api, client)
    queued = api.post(f"/api/v1/invoices/{invoice['id']}/send", json={}).json()
    deliver()
    failed = api.get(f"/api/v1/outbox/{queued['id']}").json()
    assert failed["status"] == "failed" and "550 5.1.1 No such user here" in failed["last_error"]
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "issued"
    # retry puts it back in the queue; cancel takes it out
    assert api.post(f"/api/v1/outbox/{queued['id']}/retry").json()["status"] == "queued"
    assert api.post(f"/api/v1/outbox/{queued['id']}/cancel").json()["status"] == "cancelled"
    assert api.post(f"/api/v1/outbox/{queued['id']}/cancel").status_code == 409
    assert api.post(f"/api/v1/outbox/{queued['id']}/retry").status_code == 409
    smtp.inbox.refuse.clear()
    copy = api.post(f"/api/v1/outbox/{queued['id']}/resend")
    assert copy.status_code == 202 and copy.json()["resent_from"] == queued["id"]
    deliver()
    assert api.get(f"/api/v1/outbox/{copy.json()['id']}").json()["status"] == "sent"
    original_pdf = browser.get(f"/outbox/{queued['id']}/attachments/0")  # a page: for a signed-in browser
    assert original_pdf.status_code == 200 and original_pdf.content.startswith(b"%PDF")
    [message] = smtp.inbox.messages()
    assert next(iter(message.iter_attachments())).get_content() == original_pdf.content  # the same bytes


def test_quotes_and_credit_notes_are_sent_too(api, smtp):
    configure(api, smtp)
    client = make_client(email="accounts@maple.example")
    quote = issued_invoice(api, client, path="quotes")
    response = api.post(f"/api/v1/quotes/{quote['id']}/send", json={"subject": "Our quote", "message": "Hi!"})
    assert response.status_code == 202, response.text
    invoice = issued_invoice(api, client)
    credit = api.post(f"/api/v1/invoices/{invoice['id']}/credit")
    assert credit.status_code == 201, credit.text
    credit_id = credit.json()["id"]
    assert api.post(f"/api/v1/credit-notes/{credit_id}/issue").status_code == 200
    assert api.post(f"/api/v1/credit-notes/{credit_id}/send", json={}).status_code == 202
    assert deliver() == 2
    subjects = sorted(m["Subject"] for m in smtp.inbox.messages())
    assert subjects[0].startswith("Credit note CN-") and subjects[1] == "Our quote"
    # a quote's id is not an invoice's
    assert api.post(f"/api/v1/invoices/{quote['id']}/send", json={}).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"to": "not-an-address"}, "to"),
    ({"to": ["ok@example.com", "bad@@example.com"]}, "to"),
    ({"cc": "x@y"}, "cc"),
    ({"subject": "two\nlines"}, "subject"),
])
def test_bad_input_is_refused_naming_the_field(api, config, body, field):
    client = make_client(email="accounts@maple.example")
    invoice = issued_invoice(api, client)
    response = api.post(f"/api/v1/invoices/{invoice['id']}/send", json=body)
    assert response.status_code == 422, response.text
    assert field in field_errors(response)
    assert count(config, "outbox_message") == 0


def test_no_address_and_drafts_and_unknown_documents(api, config):
    client = make_client()  # no email
    invoice = issued_invoice(api, client)
    response = api.post(f"/api/v1/invoices/{invoice['id']}/send", json={})
    assert response.status_code == 422 and "to" in field_errors(response)
    draft = issued_invoice(api, make_client(name="Drafty", email="d@example.com"), issue=False)
    response = api.post(f"/api/v1/invoices/{draft['id']}/send", json={"to": "d@example.com"})
    assert response.status_code == 409 and "draft" in response.json()["detail"]
    assert api.post("/api/v1/invoices/99999/send", json={}).status_code == 404
    assert api.post(f"/api/v1/invoices/{invoice['id']}/send", content=b"{not json",
                    headers={"content-type": "application/json"}).status_code == 400
    assert count(config, "outbox_message") == 0


def test_queued_without_settings_waits_with_the_reason(api):
    client = make_client(email="accounts@maple.example")
    invoice = issued_invoice(api, client)
    queued = api.post(f"/api/v1/invoices/{invoice['id']}/send", json={}).json()
    deliver()
    waiting = api.get(f"/api/v1/outbox/{queued['id']}").json()
    assert waiting["status"] == "queued" and waiting["attempts"] == 1 and "SMTP server" in waiting["last_error"]


def test_statement_is_sent_with_its_pdf(api, smtp):
    configure(api, smtp)
    client = make_client(email="accounts@maple.example")
    issued_invoice(api, client)
    response = api.post(f"/api/v1/clients/{client.id}/statement/send",
                        json={"date_from": "2026-01-01", "date_to": "2026-12-31"})
    assert response.status_code == 202, response.text
    assert response.json()["subject"] == "Statement of account from Atelier Lumière"
    deliver()
    [message] = smtp.inbox.messages()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content().startswith(b"%PDF")
    by_query = api.post(f"/api/v1/clients/{client.id}/statement/send?from=2026-01-01&to=2026-06-30")
    assert by_query.status_code == 202, by_query.text
    assert api.post("/api/v1/clients/99999/statement/send", json={}).status_code == 404
    backwards = api.post(f"/api/v1/clients/{client.id}/statement/send", json={"date_from": "2026-05-01",
                                                                               "date_to": "2026-01-01"})
    assert backwards.status_code == 422 and "to" in field_errors(backwards)
    bad = api.post(f"/api/v1/clients/{client.id}/statement/send", json={"to": "nope"})
    assert bad.status_code == 422 and "to" in field_errors(bad)


def test_the_emailed_statement_is_the_downloaded_one_dated_the_same(api, smtp):
    """One statement builder (issue 11): the attachment is the PDF the download gives, dated at the end of
    its period, not the day it was emailed."""
    configure(api, smtp)
    client = make_client(email="accounts@maple.example")
    draft = api.post("/api/v1/invoices", json={
        "client_id": client.id, "currency": "CAD", "issue_date": "2025-03-02", "terms_days": 30, "confirm_date": True,
        "lines": [{"description": "Design, March", "quantity": "10", "unit": "h", "unit_price": "120.00"}]}).json()
    assert api.post(f"/api/v1/invoices/{draft['id']}/issue").status_code == 200
    period = "from=2025-01-01&to=2025-03-31"
    assert api.post(f"/api/v1/clients/{client.id}/statement/send?{period}").status_code == 202
    deliver()
    [message] = smtp.inbox.messages()
    [attachment] = list(message.iter_attachments())
    emailed = text_of(attachment.get_content())
    downloaded = text_of(api.get(f"/api/v1/clients/{client.id}/statement.pdf?{period}").content)
    [dated] = [line for line in emailed.splitlines() if "Statement date" in line]
    assert "Mar 31, 2025" in dated   # the end of the period (the mail used to date it the day it was sent)
    assert emailed == downloaded


# -- pages ----------------------------------------------------------------------------------------

def test_the_send_form_and_the_outbox_pages(api, browser, config, smtp):
    configure(api, smtp)
    client = make_client(email="accounts@maple.example")
    invoice = issued_invoice(api, client)
    form = browser.get(f"/documents/{invoice['id']}/send")
    assert form.status_code == 200
    assert "accounts@maple.example" in form.text and f"Invoice {invoice['number']} from Atelier" in form.text
    bad = browser.post(f"/documents/{invoice['id']}/send", data={"to": "nope", "subject": "S", "message": "M"})
    assert bad.status_code == 422 and "not a valid email address" in bad.text
    done = browser.post(f"/documents/{invoice['id']}/send", data={"to": "a@maple.example", "cc": "",
                                                                  "subject": "Your invoice", "message": "Hello"},
                        follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/documents/{invoice['id']}"
    outbox = browser.get("/outbox")
    assert outbox.status_code == 200 and "Your invoice" in outbox.text and "Queued" in outbox.text
    message_id = query(config, "SELECT id FROM outbox_message")[0][0]
    assert browser.get(f"/outbox/{message_id}").status_code == 200
    smtp.stop()
    deliver()
    outbox = browser.get("/outbox?status=queued")
    assert "connection refused" in outbox.text
    assert browser.post(f"/outbox/{message_id}/cancel", data={}, follow_redirects=False).status_code == 303
    assert browser.get("/outbox?status=cancelled").text.count("Your invoice") == 1
    assert browser.post(f"/outbox/{message_id}/resend", data={}, follow_redirects=False).status_code == 303
    assert count(config, "outbox_message") == 2
    assert browser.post("/outbox/retry-all", data={}, follow_redirects=False).status_code == 303
    draft = issued_invoice(api, client, issue=False)
    refused = browser.get(f"/documents/{draft['id']}/send", follow_redirects=False)
    assert refused.status_code == 303  # back to the document, with the reason
    statement = browser.get(f"/clients/{client.id}/statement/send?from=2026-01-01&to=2026-12-31")
    assert statement.status_code == 200 and "Statement of account" in statement.text
    sent = browser.post(f"/clients/{client.id}/statement/send?from=2026-01-01&to=2026-12-31",
                        data={"to": "accounts@maple.example", "subject": "Statement", "message": "Hi"},
                        follow_redirects=False)
    assert sent.status_code == 303


def test_the_templates_form(browser, api):
    response = browser.post("/settings/email/templates", data={
        "template_language": "de", "de_invoice_subject": "Rechnung {number}",
        "de_invoice_body": "Guten Tag {client_name}, {total}."}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/settings/email?templates=de")
    templates = api.get("/api/v1/settings/mail").json()["email_templates_by_language"]
    assert templates["de"]["invoice"] == {"subject": "Rechnung {number}", "body": "Guten Tag {client_name}, {total}."}
    assert templates["de"]["quote"]["subject"] == "Angebot {number} von {business}"  # defaults stay
    assert templates["en"]["invoice"]["subject"] == "Invoice {number} from {business}"  # other languages too
    page = browser.get("/settings/email?templates=de")
    assert 'value="Rechnung {number}"' in page.text and 'name="template_language" value="de"' in page.text
    assert '<a href="/settings/dunning">Settings, Reminders</a>' in page.text
    bad = browser.post("/settings/email/templates", data={"template_language": "fr", "fr_invoice_paid_subject": "{oops}",
                                                          "fr_invoice_paid_body": ""})
    assert bad.status_code == 422 and "unknown placeholder {oops}" in bad.text
    assert "French invoice, paid subject" in bad.text and 'id="f-fr_invoice_paid_subject"' in bad.text
    assert api.get("/api/v1/settings/mail").json()["email_templates_by_language"]["fr"]["invoice_paid"]["subject"] \
        == "Facture {number} – {business} (acquittée)"  # nothing half-written


def test_templates_by_language_through_the_api_name_the_field(api):
    response = api.patch("/api/v1/settings/mail", json={"email_templates_by_language": {
        "fr": {"credit_note": {"subject": "Avoir {numero}", "body": "Bonjour"}},
        "de": {"invoice": {"subject": "Rechnung {number}", "body": "Guten Tag"}}}})
    assert response.status_code == 422
    assert field_errors(response) == {"fr_credit_note_subject": "French credit note subject: unknown placeholder "
                                      "{numero}; use " + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)}
    assert api.get("/api/v1/settings/mail").json()["email_templates_by_language"]["de"]["invoice"]["body"] != "Guten Tag"
    response = api.patch("/api/v1/settings/mail", json={"email_templates_by_language": {"es": {}}})
    assert response.status_code == 422 and list(field_errors(response)) == ["email_templates_by_language.es"]
    response = api.patch("/api/v1/settings/mail", json={"email_templates_by_language": {
        "de": {"invoice": {"subject": "Rechnung {number} an {client}", "body": "Guten Tag {client}: {amount}"}}}})
    assert response.status_code == 200
    assert response.json()["email_templates_by_language"]["de"]["invoice"]["subject"] == "Rechnung {number} an {client}"


# -- the password never leaks -----------------------------------------------------------------------

def test_the_password_never_appears_in_responses_pages_or_logs(api, browser, smtp, caplog):
    caplog.set_level(logging.DEBUG)
    configure(api, smtp)
    client = make_client(email="accounts@maple.example")
    invoice = issued_invoice(api, client)
    seen: list[str] = []
    seen.append(api.post(f"/api/v1/invoices/{invoice['id']}/send", json={}).text)
    deliver()
    api.patch("/api/v1/settings/mail", json={"smtp_password": PASSWORD + "-wrong"})
    seen.append(api.post("/api/v1/settings/mail/test", json={}).text)
    seen.append(api.post(f"/api/v1/invoices/{invoice['id']}/send", json={}).text)
    deliver()  # refused sign-in: stays queued with the server's answer
    smtp.stop()
    deliver()
    api.patch("/api/v1/settings/mail", json={"smtp_password": PASSWORD})
    for path in ("/api/v1/settings", "/api/v1/settings/mail", "/api/v1/outbox", "/api/v1/outbox/1",
                 "/api/v1/outbox/2", "/schema/openapi.json"):
        seen.append(api.get(path).text)
    for path in ("/settings", "/settings/email", "/outbox", "/outbox/1", "/outbox/2",
                 f"/documents/{invoice['id']}/send"):
        page = browser.get(path)
        assert page.status_code == 200, path
        seen.append(page.text)
    seen.append(browser.post("/settings/email/test", data={}).text)
    for text in seen:
        assert PASSWORD not in text
    assert caplog.records, "nothing was logged: the check proves nothing"
    for record in caplog.records:
        assert PASSWORD not in record.getMessage()
    assert PASSWORD not in caplog.text
    # and the wrong-password attempt really did reach the server with the password (so it was in play)
    assert (USERNAME, PASSWORD + "-wrong") in smtp.inbox.logins


def test_the_background_task_started_with_the_app_delivers_and_recovers(config, owner, api_token, smtp,
                                                                         monkeypatch):
    """The real worker (started by the app's lifespan): a message left queued or "sending" by an earlier
    run goes at start, and a new one goes when queued, without anyone calling the delivery function."""
    import sqlite3
    import time

    from app.mail import service
    from tests.http.conftest import PooledClient, _client

    monkeypatch.setattr(service, "WORKER_AUTOSTART", True)
    monkeypatch.setattr(service, "FIRST_RUN_DELAY_S", 0.2)
    # an earlier run: configured, one message stuck "sending" (the app was killed mid-send), far in the future
    client = make_client(email="accounts@maple.example")
    run(service.update_mail_settings({"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none",
                                      "smtp_username": USERNAME, "smtp_password": PASSWORD,
                                      "smtp_allow_unencrypted_password": True,
                                      "smtp_from_email": "billing@atelier.example"}))
    stuck = run(service.queue_message("test", to=["a@example.com"], subject="Left over", body="x"))
    with sqlite3.connect(config.database_path) as connection:
        connection.execute("UPDATE outbox_message SET status = 'sending', next_attempt_at = '2099-01-01 00:00:00+00:00'"
                           " WHERE id = ?", (stuck["id"],))
    with _client(config, PooledClient) as http:
        http.headers["Authorization"] = f"Bearer {api_token}"

        def wait_for(message_id: int) -> dict[str, Any]:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                body = http.get(f"/api/v1/outbox/{message_id}").json()
                if body["status"] not in ("queued", "sending"):
                    return body
                time.sleep(0.2)
            raise AssertionError(f"message {message_id} was not delivered: {body}")

        assert wait_for(stuck["id"])["status"] == "sent"
        invoice = issued_invoice(http, client)
        queued = http.post(f"/api/v1/invoices/{invoice['id']}/send", json={}).json()
        assert wait_for(queued["id"])["status"] == "sent"
        assert http.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "sent"
    assert sorted(m["Subject"] for m in smtp.inbox.messages())[1] == "Left over"
