"""The payments, ledger, statement and aging pages, and their forms, through the `browser` client
against the real SQLite file (issue 4). A refused form shows why on the page and writes nothing."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import pytest

from app.clients.records import ClientView
from app.documents.records import DocumentView
from app.payments.records import PaymentView
from tests.conftest import run
from tests.http.support import count, make_client, make_invoice, query, snapshot

TODAY = datetime.now(UTC).date()
WRITE_TABLES = ("payment", "ledger_entry", "document", "document_event", "credit_application", "refund")
ONCE_KEY_RE = re.compile(r'name="once_key" value="([^"]+)"')


def state(config) -> dict[str, list[tuple]]:
    return {table: snapshot(config, table) for table in WRITE_TABLES}


def text_of(response: Any) -> str:
    """The page's visible text, roughly: tags removed, entities decoded, spaces collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", response.text)
    return re.sub(r"\s+", " ", html.unescape(without_tags))


def flash_of(response: Any) -> str:
    return unquote(response.cookies.get("counterfoil_flash", "") or "")


@pytest.fixture
def client(config) -> ClientView:
    return make_client()


def record(invoice_id: int, amount: str, **fields: Any) -> PaymentView:
    from app.payments import service

    return run(service.record_payment(invoice_id, {"amount": amount, **fields}))


def invoice_now(invoice_id: int) -> DocumentView:
    from app.documents import service

    return run(service.get_document(invoice_id, with_lines=False))


def payment_form(browser, invoice_id: int) -> tuple[Any, str]:
    page = browser.get(f"/documents/{invoice_id}/payments/new")
    assert page.status_code == 200, page.text
    return page, ONCE_KEY_RE.search(page.text).group(1)


def submit(browser, invoice_id: int, once_key: str, amount: str, **fields: Any) -> Any:
    form = {"once_key": once_key, "amount": amount, "date": TODAY.isoformat(), "method": "bank_transfer",
            "reference": "", "note": "", **fields}
    return browser.post(f"/documents/{invoice_id}/payments", data=form, follow_redirects=False)


# -- the payment form --------------------------------------------------------------------------

def test_payment_form_renders_with_the_balance_and_a_one_time_key(browser, config, client):
    invoice = make_invoice(client, "250.00")
    record(invoice.id, "50.00")
    page, once_key = payment_form(browser, invoice.id)
    text = text_of(page)
    assert "Record a payment" in text and invoice.number in text and "Maple Bakery" in text
    assert 'name="amount"' in page.text and 'value="200.00"' in page.text  # the balance, ready to accept
    assert f'value="{TODAY.isoformat()}"' in page.text
    for label in ("Bank transfer", "Card", "Cash", "Cheque", "PayPal", "Other"):
        assert f">{label}</option>" in page.text
    assert 'name="keep_excess_as_credit"' in page.text and 'name="csrf_token"' in page.text
    assert len(once_key) >= 16
    assert payment_form(browser, invoice.id)[1] != once_key  # a new key for every form
    assert "Client credit available" not in text  # no credit, no credit form


def test_a_partial_payment_through_the_form(browser, config, client):
    invoice = make_invoice(client, "100.00")
    _, once_key = payment_form(browser, invoice.id)
    response = submit(browser, invoice.id, once_key, "40.00", method="cheque", reference="CHQ 118")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/documents/{invoice.id}"
    assert flash_of(response) == "Payment of 40.00 CAD recorded."
    assert query(config, "SELECT amount_minor, method, reference, idempotency_key, status FROM payment") == [
        (4000, "cheque", "CHQ 118", once_key, "live")]
    doc = invoice_now(invoice.id)
    assert (doc.shown_status, str(doc.balance)) == ("partial", "60.00")
    # the invoice's page shows the payment and the new balance
    page = browser.get(f"/documents/{invoice.id}")
    assert page.status_code == 200
    assert "CHQ 118" in page.text and "60.00" in text_of(page)


def test_the_same_form_submitted_twice_records_one_payment(browser, config, client):
    invoice = make_invoice(client, "100.00")
    _, once_key = payment_form(browser, invoice.id)
    first = submit(browser, invoice.id, once_key, "30.00")
    second = submit(browser, invoice.id, once_key, "30.00")
    assert first.status_code == second.status_code == 303
    assert count(config, "payment") == 1
    assert count(config, "ledger_entry", "kind = 'payment'") == 1
    assert str(invoice_now(invoice.id).paid) == "30.00"


def test_an_overpayment_shows_the_error_on_the_form_and_writes_nothing(browser, config, client):
    invoice = make_invoice(client, "100.00")
    _, once_key = payment_form(browser, invoice.id)
    before = state(config)
    response = submit(browser, invoice.id, once_key, "150.00", reference="wire 9")
    assert response.status_code == 422, response.text
    assert state(config) == before
    text = text_of(response)
    assert "Nothing was saved." in text
    assert "The payment (150.00 CAD) is more than the balance due (100.00 CAD)" in text
    assert "tick “Keep any amount above the balance as client credit”" in text   # the box's own words
    # the form keeps what the user typed, and the same one-time key
    assert 'value="150.00"' in response.text and 'value="wire 9"' in response.text
    assert ONCE_KEY_RE.search(response.text).group(1) == once_key
    assert 'aria-invalid="true"' in response.text
    # ticking the box then records it, with the same key
    response = submit(browser, invoice.id, once_key, "150.00", keep_excess_as_credit="on")
    assert response.status_code == 303, response.text
    assert flash_of(response) == "Payment of 150.00 CAD recorded. 50.00 CAD kept as client credit."
    assert query(config, "SELECT amount_minor, applied_minor, excess_minor FROM payment") == [(15000, 10000, 5000)]


@pytest.mark.parametrize("fields, message", [
    ({"amount": "0"}, "The amount must be above zero"),
    ({"amount": "abc"}, "'abc' is not a number"),
    ({"amount": "10.005"}, "CAD amounts have at most 2 decimals"),
    ({"amount": "10", "method": "barter"}, "Method must be one of"),
    ({"amount": "10", "date": (TODAY + timedelta(days=2)).isoformat()}, "cannot be dated in the future"),
])
def test_bad_input_is_shown_on_the_form(browser, config, client, fields, message):
    invoice = make_invoice(client)
    _, once_key = payment_form(browser, invoice.id)
    before = state(config)
    response = submit(browser, invoice.id, once_key, **fields)
    assert response.status_code == 422, response.text
    assert message in text_of(response)
    assert state(config) == before


def test_a_payment_on_a_draft_is_refused_on_the_form(browser, config, client):
    draft = make_invoice(client, issue=False)
    before = state(config)
    response = submit(browser, draft.id, "k-draft", "10.00")
    assert response.status_code == 409, response.text
    assert "Issue the invoice before recording a payment." in text_of(response)
    assert state(config) == before


def test_the_form_without_a_csrf_token_is_refused(browser, config, client):
    invoice = make_invoice(client)
    before = state(config)
    response = browser.post(f"/documents/{invoice.id}/payments", data={"amount": "10.00"},
                            headers={"X-CSRF-Token": "forged"}, follow_redirects=False)
    assert response.status_code == 403
    assert state(config) == before


# -- client credit through the pages ---------------------------------------------------------

@pytest.fixture
def in_credit(config, client) -> dict[str, Any]:
    paid = make_invoice(client, "100.00")
    payment = record(paid.id, "130.00", keep_excess_as_credit=True)
    return {"paid": paid, "payment": payment, "open": make_invoice(client, "50.00")}


def test_the_payment_form_offers_the_clients_credit(browser, config, client, in_credit):
    page, _ = payment_form(browser, in_credit["open"].id)
    assert "Client credit available:" in text_of(page) and "30.00" in text_of(page)
    assert f'action="/documents/{in_credit["open"].id}/apply-credit"' in page.text
    assert 'name="amount" inputmode="decimal" value="30.00"' in page.text


def test_apply_credit_through_the_form(browser, config, client, in_credit):
    invoice = in_credit["open"]
    response = browser.post(f"/documents/{invoice.id}/apply-credit", data={"amount": "12.00"},
                            follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/documents/{invoice.id}"
    assert flash_of(response) == "Client credit applied; 38.00 CAD left to pay."
    assert query(config, "SELECT invoice, amount_minor FROM credit_application") == [(invoice.id, 1200)]
    # an empty amount applies all that fits
    response = browser.post(f"/documents/{invoice.id}/apply-credit", data={"amount": ""}, follow_redirects=False)
    assert response.status_code == 303
    assert flash_of(response) == "Client credit applied; 20.00 CAD left to pay."


def test_applying_too_much_credit_shows_why_and_writes_nothing(browser, config, client, in_credit):
    before = state(config)
    response = browser.post(f"/documents/{in_credit['open'].id}/apply-credit", data={"amount": "31.00"})
    assert response.status_code == 422
    assert "The client has only 30.00 of credit" in text_of(response)
    assert state(config) == before


def test_refund_through_the_ledger_page(browser, config, client, in_credit):
    ledger = browser.get(f"/clients/{client.id}/ledger")
    assert f'action="/clients/{client.id}/refunds"' in ledger.text
    before = state(config)
    response = browser.post(f"/clients/{client.id}/refunds", data={"currency": "CAD", "amount": "40.00",
                                                                     "method": "cheque", "date": "", "reference": ""})
    assert response.status_code == 422
    assert "The client has only 30.00 of credit" in text_of(response)
    assert state(config) == before
    response = browser.post(f"/clients/{client.id}/refunds", data={"currency": "CAD", "amount": "30.00",
                                                                     "method": "cheque", "date": "",
                                                                     "reference": "CHQ 5"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/clients/{client.id}/ledger"
    assert flash_of(response) == "Refund of 30.00 CAD recorded."
    assert query(config, "SELECT amount_minor, method, reference, refund_date FROM refund") == [
        (3000, "cheque", "CHQ 5", TODAY.isoformat())]
    assert f'action="/clients/{client.id}/refunds"' not in browser.get(f"/clients/{client.id}/ledger").text


# -- reversing from the payments list ---------------------------------------------------------

def test_reverse_from_the_payments_page(browser, config, client):
    invoice = make_invoice(client, "100.00")
    payment = record(invoice.id, "40.00", method="cheque", reference="CHQ 9")
    page = browser.get("/payments")
    assert f'action="/payments/{payment.id}/reverse"' in page.text
    before = state(config)
    response = browser.post(f"/payments/{payment.id}/reverse", data={"reason": "  "})
    assert response.status_code == 422
    assert "Say why the payment is reversed" in text_of(response)
    assert state(config) == before
    response = browser.post(f"/payments/{payment.id}/reverse", data={"reason": "cheque bounced"},
                            follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/documents/{invoice.id}"
    assert flash_of(response) == "Payment of 40.00 CAD reversed."
    assert str(invoice_now(invoice.id).paid) == "0.00"
    # still listed, marked reversed with its reason, and no second Reverse button
    page = browser.get("/payments")
    text = text_of(page)
    assert "CHQ 9" in text and f"Reversed {TODAY.isoformat()}" in text and "cheque bounced" in text
    assert f'action="/payments/{payment.id}/reverse"' not in page.text
    assert 'class="reversed"' in page.text
    before = state(config)
    response = browser.post(f"/payments/{payment.id}/reverse", data={"reason": "again"})
    assert response.status_code == 409
    assert "already reversed" in text_of(response)
    assert state(config) == before


# -- the payments list -----------------------------------------------------------------------------

def test_payments_list_with_filters_and_totals(browser, config, client):
    other = make_client(name="Granite Works")
    a = make_invoice(client, "500.00", issue_date=TODAY - timedelta(days=30))
    b = make_invoice(other, "500.00", issue_date=TODAY - timedelta(days=30))
    record(a.id, "11.00", method="cash", reference="REF-A", date=(TODAY - timedelta(days=20)).isoformat())
    record(a.id, "22.00", method="card", reference="REF-B", date=(TODAY - timedelta(days=10)).isoformat())
    gone = record(b.id, "44.00", method="cash", reference="REF-C")
    from app.payments import service

    run(service.reverse_payment(gone.id, "bounced"))

    def refs(response: Any) -> list[str]:
        assert response.status_code == 200, response.text
        return re.findall(r"REF-[A-Z]", response.text)

    page = browser.get("/payments")
    assert refs(page) == ["REF-C", "REF-B", "REF-A"]
    text = text_of(page)
    assert "Total CAD (live; $44.00 reversed)" in text and "$33.00" in text
    assert "3 payments" in text
    assert refs(browser.get("/payments?method=cash")) == ["REF-C", "REF-A"]
    assert refs(browser.get(f"/payments?client_id={client.id}")) == ["REF-B", "REF-A"]
    assert refs(browser.get("/payments?state=reversed")) == ["REF-C"]
    assert refs(browser.get("/payments?state=live")) == ["REF-B", "REF-A"]
    window = f"from={(TODAY - timedelta(days=15)).isoformat()}&to={(TODAY - timedelta(days=5)).isoformat()}"
    page = browser.get(f"/payments?{window}")
    assert refs(page) == ["REF-B"]
    assert f'value="{(TODAY - timedelta(days=15)).isoformat()}"' in page.text  # the filter keeps its values
    page = browser.get("/payments?method=paypal")
    assert refs(page) == [] and "No payments match these filters" in text_of(page)
    # the filter form offers the clients and methods; the selected ones stay selected
    page = browser.get(f"/payments?method=card&client_id={other.id}")
    assert '<option value="card" selected>' in page.text
    assert f'<option value="{other.id}" selected>' in page.text


def test_payments_list_refuses_bad_filters_on_the_page(browser, config):
    response = browser.get("/payments?method=barter")
    assert response.status_code == 422
    assert "method must be one of" in text_of(response)
    response = browser.get("/payments?from=2026-02-01&to=2026-01-01")
    assert response.status_code == 422
    assert "The end of the period is before its start" in text_of(response)


def test_payments_list_when_there_is_none(browser, config):
    page = browser.get("/payments")
    assert page.status_code == 200
    assert "No payments yet" in text_of(page)


# -- ledger, statement, aging, client list ---------------------------------------------------------------

def test_ledger_page_shows_entries_balances_and_standing(browser, config, client):
    invoice = make_invoice(client, "100.00")
    record(invoice.id, "30.00", reference="first")
    page = browser.get(f"/clients/{client.id}/ledger")
    assert page.status_code == 200
    text = text_of(page)
    assert "CAD account" in text and "Owes $70.00" in text
    assert 'class="balance owes"' in page.text
    assert invoice.number in text and "Payment, Bank transfer (first)" in text
    assert f'href="/documents/{invoice.id}/payments/new"' in page.text  # the open invoice, ready to be paid
    record(invoice.id, "90.00", keep_excess_as_credit=True)
    page = browser.get(f"/clients/{client.id}/ledger")
    assert "In credit $20.00" in text_of(page) and 'class="balance credit"' in page.text
    assert "Client credit available: $20.00" in text_of(page)
    assert browser.get("/clients/99999/ledger").status_code == 404


def test_ledger_page_of_a_client_without_entries(browser, config, client):
    page = browser.get(f"/clients/{client.id}/ledger")
    assert page.status_code == 200 and "Nothing on this account yet" in text_of(page)


def test_client_list_colours_balances(browser, config, client):
    owes = make_client(name="Owing Ltd")
    make_invoice(owes, "80.00")
    credit = make_client(name="Credit Ltd")
    record(make_invoice(credit, "10.00").id, "15.00", keep_excess_as_credit=True)
    settled = make_client(name="Settled Ltd")
    record(make_invoice(settled, "10.00").id, "10.00")
    page = browser.get("/clients")
    assert page.status_code == 200
    for who, standing, amount in ((owes, "owes", "$80.00"), (credit, "credit", "-$5.00"), (settled, "settled",
                                                                                            "$0.00")):
        link = re.search(rf'<a href="/clients/{who.id}/ledger" class="balance-text {standing}"[^>]*>([^<]+)</a>',
                         page.text)
        assert link, (who.name, standing)
        assert html.unescape(link.group(1)).replace("\u00a0", "") in (amount, amount.replace("-$", "$-"))


def test_statement_page_for_a_period(browser, config, client):
    old = make_invoice(client, "100.00", issue_date=TODAY - timedelta(days=40), terms_days=30)
    record(old.id, "40.00", date=(TODAY - timedelta(days=35)).isoformat())
    new = make_invoice(client, "50.00", issue_date=TODAY - timedelta(days=10), terms_days=30)
    record(new.id, "20.00")
    start = TODAY - timedelta(days=30)
    page = browser.get(f"/clients/{client.id}/statement?from={start.isoformat()}&to={TODAY.isoformat()}")
    assert page.status_code == 200, page.text
    text = text_of(page)
    assert "Statement of account" in text and f"{start.isoformat()} to {TODAY.isoformat()}" in text
    assert re.search(r"Opening balance \$?60\.00", text), text
    assert re.search(r"Closing balance \$90\.00", text), text
    assert new.number in text and old.number not in text  # the old invoice is before the period
    assert "Aging of open invoices" in text and "60.00" in text and "30.00" in text
    assert f'href="/api/v1/clients/{client.id}/statement.pdf?from={start.isoformat()}' in page.text
    # an empty period
    page = browser.get(f"/clients/{client.id}/statement?from={(TODAY - timedelta(days=30)).isoformat()}"
                       f"&to={(TODAY - timedelta(days=20)).isoformat()}")
    assert "No entries in this period." in text_of(page)
    assert re.search(r"Closing balance \$60\.00", text_of(page))


def test_statement_page_refuses_a_period_ending_before_it_starts(browser, config, client):
    response = browser.get(f"/clients/{client.id}/statement?from={TODAY.isoformat()}"
                           f"&to={(TODAY - timedelta(days=1)).isoformat()}")
    assert response.status_code == 422
    assert "The end of the period is before its start" in text_of(response)


def test_aging_page(browser, config, client):
    page = browser.get("/reports/aging")
    assert page.status_code == 200 and "Nothing is owed to you" in text_of(page)
    make_invoice(client, "70.00", issue_date=TODAY - timedelta(days=45), terms_days=0)
    make_invoice(client, "5.00")
    page = browser.get(f"/reports/aging?as_of={TODAY.isoformat()}")
    assert page.status_code == 200
    text = text_of(page)
    assert "Receivables aging" in text and "Maple Bakery" in text
    row = re.search(r"<tr><td><a href=\"/clients/%d/ledger\"><bdi>Maple Bakery</bdi></a>.*?</tr>" % client.id, page.text,
                    re.S).group(0)
    cells = [html.unescape(c).strip() for c in re.findall(r'<td class="num[^"]*">(.*?)</td>', row, re.S)]
    assert cells[:5] == ["5.00", "", "70.00", "", ""]
    assert "75.00" in cells[5]
    assert browser.get("/reports/aging?as_of=someday").status_code == 400
