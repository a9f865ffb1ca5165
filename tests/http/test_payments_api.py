"""Payments, client credit, refunds, reversals, the ledger, statements and aging through /api/v1,
against the real SQLite file (issue 4). A refused request must leave no trace."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.clients.records import ClientView
from tests.conftest import run
from tests.http.live_server import PASSWORD, Server, start_server
from tests.http.support import count, field_errors, make_client, make_invoice, query, snapshot

REPO = Path(__file__).resolve().parents[2]
WRITE_TABLES = ("payment", "ledger_entry", "document", "document_event", "credit_application", "refund")


def today() -> date:
    """The service's today: the settings' time zone, UTC by default."""
    return datetime.now(UTC).date()


TODAY = today()


def state(config) -> dict[str, list[tuple]]:
    """Every row the money moves write, to prove a refused request changed nothing."""
    return {table: snapshot(config, table) for table in WRITE_TABLES}


def check_integrity(config) -> None:
    from app.integrity import service

    assert [str(b) for b in service.run_checks(config.database_path)] == []


@pytest.fixture
def client(config) -> ClientView:
    return make_client()


def pay(api, invoice_id: int, amount: str, expect: int = 201, headers: dict[str, str] | None = None,
        **fields: Any) -> dict[str, Any]:
    response = api.post(f"/api/v1/invoices/{invoice_id}/payments", json={"amount": amount, **fields},
                        headers=headers or {})
    assert response.status_code == expect, response.text
    return response.json()


def invoice_of(api, invoice_id: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/invoices/{invoice_id}")
    assert response.status_code == 200, response.text
    return response.json()


def credit_of(api, client_id: int) -> dict[str, str]:
    response = api.get(f"/api/v1/clients/{client_id}/credit")
    assert response.status_code == 200, response.text
    return {row["currency"]: row["available"] for row in response.json()}


def ledger_of(api, client_id: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/clients/{client_id}/ledger")
    assert response.status_code == 200, response.text
    ledgers = response.json()
    assert len(ledgers) == 1, ledgers
    return ledgers[0]


def reverse(api, payment_id: int, reason: str = "cheque bounced", expect: int = 200, **fields: Any) -> Any:
    response = api.post(f"/api/v1/payments/{payment_id}/reverse", json={"reason": reason, **fields})
    assert response.status_code == expect, response.text
    return response.json()


def refused(api, config, method: str, path: str, expect: int, **kwargs: Any) -> dict[str, Any]:
    """Send a request that must be refused; prove nothing was written."""
    before = state(config)
    response = api.request(method, path, **kwargs)
    assert response.status_code == expect, response.text
    assert state(config) == before
    body = response.json()
    assert body["detail"], body
    return body


# -- recording ------------------------------------------------------------------------------

def test_a_partial_then_a_full_payment(api, config, client):
    invoice = make_invoice(client, "100.00")
    assert invoice_of(api, invoice.id)["status"] == "issued"
    payment = pay(api, invoice.id, "40.00", method="card", reference="VISA 4242", note="first half")
    assert payment["id"] > 0
    assert {k: payment[k] for k in ("client_id", "client_name", "invoice_id", "invoice_number", "currency", "amount",
                                    "applied", "excess", "date", "method", "reference", "note", "status",
                                    "reversal_date", "reversal_reason", "replaced_by")} == {
        "client_id": client.id, "client_name": "Maple Bakery", "invoice_id": invoice.id,
        "invoice_number": invoice.number, "currency": "CAD", "amount": "40.00", "applied": "40.00",
        "excess": "0.00", "date": TODAY.isoformat(), "method": "card", "reference": "VISA 4242",
        "note": "first half", "status": "live", "reversal_date": None, "reversal_reason": "", "replaced_by": None}
    doc = invoice_of(api, invoice.id)
    assert (doc["status"], doc["paid"], doc["balance"]) == ("partial", "40.00", "60.00")
    assert api.get(f"/api/v1/payments/{payment['id']}").json() == payment

    second = pay(api, invoice.id, "60.00", method="bank_transfer")
    doc = invoice_of(api, invoice.id)
    assert (doc["status"], doc["paid"], doc["balance"]) == ("paid", "100.00", "0.00")
    assert query(config, "SELECT paid_minor, total_minor FROM document WHERE id = ?", invoice.id) == [(10000, 10000)]
    listed = api.get(f"/api/v1/invoices/{invoice.id}/payments").json()
    assert sorted(p["id"] for p in listed) == [payment["id"], second["id"]]
    # each payment wrote one credit entry in the client's ledger, in the same transaction
    assert query(config, "SELECT kind, credit_minor, debit_minor, payment_id, number FROM ledger_entry "
                         "WHERE kind = 'payment' ORDER BY id") == [
        ("payment", 4000, 0, payment["id"], invoice.number), ("payment", 6000, 0, second["id"], invoice.number)]
    ledger = ledger_of(api, client.id)
    assert (ledger["balance"], ledger["standing"]) == ("0.00", "settled")
    # nothing left to pay: another payment is a conflict, not an overpayment
    refused(api, config, "POST", f"/api/v1/invoices/{invoice.id}/payments", 409,
            json={"amount": "1.00", "keep_excess_as_credit": True})
    check_integrity(config)


def test_the_invoice_history_records_the_payment(api, config, client):
    invoice = make_invoice(client)
    pay(api, invoice.id, "25.00", method="cash")
    events = query(config, "SELECT kind, detail FROM document_event WHERE document = ? ORDER BY id", invoice.id)
    assert ("payment", "25.00 CAD by Cash") in events


def test_an_overpayment_is_refused_naming_the_amounts_and_nothing_is_written(api, config, client):
    invoice = make_invoice(client, "100.00")
    pay(api, invoice.id, "30.00")
    body = refused(api, config, "POST", f"/api/v1/invoices/{invoice.id}/payments", 422,
                   json={"amount": "70.01", "method": "cash"})
    message = {e["field"]: e["message"] for e in body["errors"]}["amount"]
    assert "70.01 CAD" in message and "70.00 CAD" in message and "client credit" in message
    assert credit_of(api, client.id) == {}
    check_integrity(config)


def test_an_overpayment_kept_as_credit_pays_the_invoice_and_credits_the_client(api, config, client):
    invoice = make_invoice(client, "100.00")
    payment = pay(api, invoice.id, "130.00", keep_excess_as_credit=True, reference="wire 77")
    assert (payment["amount"], payment["applied"], payment["excess"]) == ("130.00", "100.00", "30.00")
    doc = invoice_of(api, invoice.id)
    assert (doc["status"], doc["paid"], doc["balance"]) == ("paid", "100.00", "0.00")
    assert credit_of(api, client.id) == {"CAD": "30.00"}
    ledger = ledger_of(api, client.id)
    assert (ledger["balance"], ledger["standing"]) == ("-30.00", "credit")
    assert ledger["entries"][-1]["credit"] == "130.00"
    assert "30.00 CAD kept as credit" in ledger["entries"][-1]["description"]
    check_integrity(config)


def test_keep_excess_without_an_excess_keeps_nothing(api, config, client):
    invoice = make_invoice(client, "100.00")
    payment = pay(api, invoice.id, "100.00", keep_excess_as_credit=True)
    assert payment["excess"] == "0.00"
    assert credit_of(api, client.id) == {}


@pytest.mark.parametrize("amount, status, message", [
    ("0", 422, "The amount must be above zero"), ("-5", 422, "Amount cannot be negative"),
    ("10.005", 422, "CAD amounts have at most 2 decimals"), ("1e30", 422, "Amount is too large (at most 13 digits before the decimal point)"),
    ("abc", 400, None)])
def test_bad_amounts_are_refused(api, config, client, amount, status, message):
    invoice = make_invoice(client)
    body = refused(api, config, "POST", f"/api/v1/invoices/{invoice.id}/payments", status,
                   json={"amount": amount})
    if message:
        assert {e["field"]: e["message"] for e in body["errors"]} == {"amount": message}


def test_bad_method_and_future_date_are_named(api, config, client):
    invoice = make_invoice(client)
    body = refused(api, config, "POST", f"/api/v1/invoices/{invoice.id}/payments", 422,
                   json={"amount": "10.00", "method": "barter", "date": (TODAY + timedelta(days=1)).isoformat()})
    errors = {e["field"]: e["message"] for e in body["errors"]}
    assert set(errors) == {"method", "date"}
    assert "future" in errors["date"]


def test_a_payment_on_a_draft_or_a_cancelled_invoice_is_a_conflict(api, config, client):
    draft = make_invoice(client, issue=False)
    body = refused(api, config, "POST", f"/api/v1/invoices/{draft.id}/payments", 409, json={"amount": "10.00"})
    assert "Issue the invoice" in body["detail"]
    cancelled = make_invoice(client)
    response = api.post(f"/api/v1/invoices/{cancelled.id}/cancel", json={"reason": "wrong client"})
    assert response.status_code == 200, response.text
    body = refused(api, config, "POST", f"/api/v1/invoices/{cancelled.id}/payments", 409,
                   json={"amount": "10.00"})
    assert "cancelled" in body["detail"]
    check_integrity(config)


def test_a_payment_on_something_that_is_not_an_invoice_is_not_found(api, config, client):
    from app.documents import service

    quote = run(service.create_document("quote", {"client_id": client.id, "lines": [
        {"description": "Work", "quantity": "1", "unit_price": "10"}]}))
    refused(api, config, "POST", f"/api/v1/invoices/{quote.id}/payments", 404, json={"amount": "10.00"})
    refused(api, config, "POST", "/api/v1/invoices/99999/payments", 404, json={"amount": "10.00"})


def test_a_payment_dated_before_the_invoice_is_refused(api, config, client):
    invoice = make_invoice(client, issue_date=TODAY - timedelta(days=10))
    body = refused(api, config, "POST", f"/api/v1/invoices/{invoice.id}/payments", 422,
                   json={"amount": "10.00", "date": (TODAY - timedelta(days=11)).isoformat()})
    assert "before the invoice" in {e["field"]: e["message"] for e in body["errors"]}["date"]
    # on the issue day itself it is fine
    assert pay(api, invoice.id, "10.00", date=(TODAY - timedelta(days=10)).isoformat())["date"] == \
        (TODAY - timedelta(days=10)).isoformat()


def test_jpy_payments_have_no_decimals(api, config):
    yen = make_client(name="Tanaka KK", currency="JPY")
    invoice = make_invoice(yen, "5000")
    refused(api, config, "POST", f"/api/v1/invoices/{invoice.id}/payments", 422, json={"amount": "100.50"})
    payment = pay(api, invoice.id, "1500")
    assert (payment["amount"], payment["currency"]) == ("1500", "JPY")
    assert invoice_of(api, invoice.id)["balance"] == "3500"


def test_staff_can_record_and_reverse_payments(staff_browser, config, client, staff):
    invoice = make_invoice(client)
    response = staff_browser.post(f"/api/v1/invoices/{invoice.id}/payments",
                                  json={"amount": "20.00", "method": "cash"})
    assert response.status_code == 201, response.text
    payment = response.json()
    assert query(config, "SELECT created_by FROM payment WHERE id = ?", payment["id"]) == [(staff["id"],)]
    assert query(config, "SELECT actor FROM ledger_entry WHERE payment_id = ?", payment["id"]) == [(staff["id"],)]
    response = staff_browser.post(f"/api/v1/payments/{payment['id']}/reverse", json={"reason": "typo"})
    assert response.status_code == 200, response.text
    check_integrity(config)


# -- idempotency ----------------------------------------------------------------------------

def test_the_same_idempotency_key_twice_records_one_payment(api, config, client):
    invoice = make_invoice(client, "100.00")
    first = pay(api, invoice.id, "40.00", headers={"Idempotency-Key": "order-1234"})
    again = pay(api, invoice.id, "40.00", headers={"Idempotency-Key": "order-1234"})
    assert again == first
    assert count(config, "payment") == 1
    assert count(config, "ledger_entry", "kind = 'payment'") == 1
    assert invoice_of(api, invoice.id)["paid"] == "40.00"
    # the key of a payment does not record another one, nor answers as if it had
    for changed in ({"amount": "10.00"}, {"amount": "40.00", "method": "cash"}, {"amount": "40.00", "reference": "X"}):
        body = refused(api, config, "POST", f"/api/v1/invoices/{invoice.id}/payments", 409, json=changed,
                       headers={"Idempotency-Key": "order-1234"})
        assert "a new payment needs a new key" in body["detail"]
    # a new key is a new payment
    pay(api, invoice.id, "40.00", headers={"Idempotency-Key": "order-1235"})
    assert invoice_of(api, invoice.id)["paid"] == "80.00"
    # the key cannot be reused for another invoice
    other = make_invoice(client, "50.00")
    body = refused(api, config, "POST", f"/api/v1/invoices/{other.id}/payments", 409,
                   json={"amount": "10.00"}, headers={"Idempotency-Key": "order-1234"})
    assert "another invoice" in body["detail"]
    refused(api, config, "POST", f"/api/v1/invoices/{other.id}/payments", 422, json={"amount": "10.00"},
            headers={"Idempotency-Key": "k" * 101})
    check_integrity(config)


def test_a_refused_payment_does_not_burn_its_idempotency_key(api, config, client):
    invoice = make_invoice(client, "100.00")
    refused(api, config, "POST", f"/api/v1/invoices/{invoice.id}/payments", 422, json={"amount": "500.00"},
            headers={"Idempotency-Key": "retry-me"})
    payment = pay(api, invoice.id, "50.00", headers={"Idempotency-Key": "retry-me"})
    assert payment["amount"] == "50.00"


# -- client credit: apply and refund ------------------------------------------------------------

@pytest.fixture
def in_credit(api, config, client) -> dict[str, Any]:
    """The client overpaid one invoice by 30.00 and has two open invoices."""
    paid = make_invoice(client, "100.00")
    payment = pay(api, paid.id, "130.00", keep_excess_as_credit=True)
    return {"paid": paid, "payment": payment, "small": make_invoice(client, "20.00"),
            "large": make_invoice(client, "50.00")}


def test_apply_all_the_credit_that_fits(api, config, client, in_credit):
    small = in_credit["small"]
    response = api.post(f"/api/v1/invoices/{small.id}/apply-credit", json={})
    assert response.status_code == 200, response.text
    assert response.json() == {"id": small.id, "paid": "20.00", "balance": "0.00", "status": "paid",
                               "currency": "CAD"}
    assert credit_of(api, client.id) == {"CAD": "10.00"}
    # the allocation is in the ledger, shown but moving nothing
    entry = ledger_of(api, client.id)["entries"][-1]
    assert (entry["kind"], entry["debit"], entry["credit"], entry["amount"], entry["number"]) == \
        ("credit_applied", "0.00", "0.00", "20.00", small.number)
    assert entry["balance"] == ledger_of(api, client.id)["entries"][-2]["balance"]
    # the rest goes to the large invoice, which stays partly open
    response = api.post(f"/api/v1/invoices/{in_credit['large'].id}/apply-credit", json={"amount": None})
    assert response.json()["balance"] == "40.00" and response.json()["status"] == "partial"
    assert credit_of(api, client.id) == {}
    # nothing left to apply
    refused(api, config, "POST", f"/api/v1/invoices/{in_credit['large'].id}/apply-credit", 422, json={})
    check_integrity(config)


def test_apply_a_given_amount_of_credit(api, config, client, in_credit):
    large = in_credit["large"]
    response = api.post(f"/api/v1/invoices/{large.id}/apply-credit", json={"amount": "12.50"})
    assert response.status_code == 200, response.text
    assert (response.json()["paid"], response.json()["balance"]) == ("12.50", "37.50")
    assert credit_of(api, client.id) == {"CAD": "17.50"}
    assert query(config, "SELECT invoice, amount_minor, applied_date FROM credit_application") == [
        (large.id, 1250, TODAY.isoformat())]
    check_integrity(config)


def test_more_credit_than_available_or_than_the_invoice_needs_is_refused(api, config, client, in_credit):
    body = refused(api, config, "POST", f"/api/v1/invoices/{in_credit['large'].id}/apply-credit", 422,
                   json={"amount": "30.01"})
    assert "only 30.00 of credit" in body["errors"][0]["message"]
    body = refused(api, config, "POST", f"/api/v1/invoices/{in_credit['small'].id}/apply-credit", 422,
                   json={"amount": "25.00"})
    assert "only 20.00 left to pay" in body["errors"][0]["message"]
    refused(api, config, "POST", f"/api/v1/invoices/{in_credit['small'].id}/apply-credit", 422,
            json={"amount": "0"})
    refused(api, config, "POST", f"/api/v1/invoices/{in_credit['small'].id}/apply-credit", 422,
            json={"amount": "1e30"})
    # a paid invoice takes no more credit
    refused(api, config, "POST", f"/api/v1/invoices/{in_credit['paid'].id}/apply-credit", 422,
            json={"amount": "1.00"})


def test_a_client_without_credit_has_none_to_apply(api, config, client):
    invoice = make_invoice(client)
    assert credit_of(api, client.id) == {}
    refused(api, config, "POST", f"/api/v1/invoices/{invoice.id}/apply-credit", 422, json={"amount": "1.00"})
    assert api.get("/api/v1/clients/99999/credit").status_code == 404


def test_refund_client_credit(api, config, client, in_credit):
    response = api.post(f"/api/v1/clients/{client.id}/refunds",
                        json={"amount": "10.00", "currency": "CAD", "method": "cheque", "reference": "CHQ 7",
                              "date": TODAY.isoformat()})
    assert response.status_code == 201, response.text
    refund = response.json()
    assert {k: refund[k] for k in ("client_id", "currency", "amount", "date", "method", "reference")} == {
        "client_id": client.id, "currency": "CAD", "amount": "10.00", "date": TODAY.isoformat(),
        "method": "cheque", "reference": "CHQ 7"}
    assert credit_of(api, client.id) == {"CAD": "20.00"}
    ledger = ledger_of(api, client.id)
    entry = ledger["entries"][-1]
    assert (entry["kind"], entry["date"], entry["debit"], entry["credit"]) == ("refund", TODAY.isoformat(), "10.00",
                                                                             "0.00")
    assert "CHQ 7" in entry["description"]
    assert ledger["balance"] == "50.00"  # 170.00 invoiced, 130.00 paid, 10.00 paid back
    check_integrity(config)


def test_refunds_beyond_the_credit_or_in_a_strange_currency_are_refused(api, config, client, in_credit):
    path = f"/api/v1/clients/{client.id}/refunds"
    body = refused(api, config, "POST", path, 422, json={"amount": "30.01", "currency": "CAD"})
    assert "only 30.00 of credit" in body["errors"][0]["message"]
    refused(api, config, "POST", path, 422, json={"amount": "5.00", "currency": "EUR"})
    refused(api, config, "POST", path, 422, json={"amount": "5.00", "currency": "CAD", "method": "barter"})
    refused(api, config, "POST", path, 422, json={"amount": "5.001", "currency": "CAD"})
    body = refused(api, config, "POST", path, 422, json={"amount": "5.00", "currency": "CAD",
                                                        "date": (TODAY + timedelta(days=1)).isoformat()})
    assert "cannot be dated in the future" in body["errors"][0]["message"]
    refused(api, config, "POST", "/api/v1/clients/99999/refunds", 404, json={"amount": "5.00", "currency": "CAD"})
    # the whole credit can be refunded, once
    assert api.post(path, json={"amount": "30.00", "currency": "CAD"}).status_code == 201
    refused(api, config, "POST", path, 422, json={"amount": "0.01", "currency": "CAD"})
    check_integrity(config)


# -- reversals and edits ----------------------------------------------------------------------

def test_reversing_a_payment_keeps_it_listed_and_reopens_the_invoice(api, config, client):
    invoice = make_invoice(client, "100.00")
    first = pay(api, invoice.id, "40.00", method="cheque", reference="CHQ 1")
    second = pay(api, invoice.id, "60.00")
    assert invoice_of(api, invoice.id)["status"] == "paid"
    reversed_ = reverse(api, second["id"], "  bank returned it  ")
    assert (reversed_["status"], reversed_["reversal_reason"], reversed_["reversal_date"]) == \
        ("reversed", "bank returned it", TODAY.isoformat())
    doc = invoice_of(api, invoice.id)
    assert (doc["status"], doc["paid"], doc["balance"]) == ("partial", "40.00", "60.00")
    reverse(api, first["id"], "cheque bounced")
    doc = invoice_of(api, invoice.id)
    assert (doc["status"], doc["paid"], doc["balance"]) == ("issued", "0.00", "100.00")
    # still in every list, marked reversed
    listed = {p["id"]: p["status"] for p in api.get(f"/api/v1/invoices/{invoice.id}/payments").json()}
    assert listed == {first["id"]: "reversed", second["id"]: "reversed"}
    assert {p["id"] for p in api.get("/api/v1/payments").json()["items"]} == {first["id"], second["id"]}
    assert count(config, "payment") == 2
    # the ledger has a dated reversal entry per payment; the payment entries are untouched
    entries = ledger_of(api, client.id)["entries"]
    assert [(e["kind"], e["debit"], e["credit"]) for e in entries] == [
        ("invoice", "100.00", "0.00"), ("payment", "0.00", "40.00"), ("payment", "0.00", "60.00"),
        ("reversal", "60.00", "0.00"), ("reversal", "40.00", "0.00")]
    assert entries[-1]["date"] == TODAY.isoformat() and "cheque bounced" in entries[-1]["description"]
    assert entries[-1]["balance"] == "100.00"
    check_integrity(config)


def test_a_reversal_can_be_dated(api, config, client):
    invoice = make_invoice(client, issue_date=TODAY - timedelta(days=20))
    payment = pay(api, invoice.id, "10.00", date=(TODAY - timedelta(days=15)).isoformat())
    when = (TODAY - timedelta(days=5)).isoformat()
    assert reverse(api, payment["id"], "bounced", date=when)["reversal_date"] == when
    assert query(config, "SELECT entry_date FROM ledger_entry WHERE kind = 'reversal'") == [(when,)]


def test_a_reversal_needs_a_reason_and_happens_once(api, config, client):
    invoice = make_invoice(client)
    payment = pay(api, invoice.id, "10.00")
    body = refused(api, config, "POST", f"/api/v1/payments/{payment['id']}/reverse", 422, json={"reason": "  "})
    assert "reason" in {e["field"] for e in body["errors"]}
    refused(api, config, "POST", f"/api/v1/payments/{payment['id']}/reverse", 422, json={})
    body = refused(api, config, "POST", f"/api/v1/payments/{payment['id']}/reverse", 422,
                   json={"reason": "x", "date": (TODAY + timedelta(days=1)).isoformat()})
    assert "cannot be dated in the future" in body["errors"][0]["message"]
    # dated before the payment
    refused(api, config, "POST", f"/api/v1/payments/{payment['id']}/reverse", 422,
            json={"reason": "x", "date": (TODAY - timedelta(days=1)).isoformat()})
    reverse(api, payment["id"], "typo")
    body = refused(api, config, "POST", f"/api/v1/payments/{payment['id']}/reverse", 409, json={"reason": "again"})
    assert "already reversed" in body["detail"]
    refused(api, config, "POST", "/api/v1/payments/99999/reverse", 404, json={"reason": "x"})
    check_integrity(config)


def test_a_payment_whose_excess_credit_was_used_cannot_be_reversed(api, config, client, in_credit):
    api.post(f"/api/v1/invoices/{in_credit['small'].id}/apply-credit", json={"amount": "5.00"})
    body = refused(api, config, "POST", f"/api/v1/payments/{in_credit['payment']['id']}/reverse", 409,
                   json={"reason": "wrong client"})
    assert "negative credit" in body["detail"]
    check_integrity(config)


def test_a_payment_whose_excess_credit_was_refunded_cannot_be_reversed(api, config, client, in_credit):
    assert api.post(f"/api/v1/clients/{client.id}/refunds",
                    json={"amount": "30.00", "currency": "CAD"}).status_code == 201
    refused(api, config, "POST", f"/api/v1/payments/{in_credit['payment']['id']}/reverse", 409,
            json={"reason": "wrong client"})


def test_reversing_an_overpayment_takes_its_credit_back(api, config, client, in_credit):
    reverse(api, in_credit["payment"]["id"], "wrong client")
    assert credit_of(api, client.id) == {}
    assert invoice_of(api, in_credit["paid"].id)["balance"] == "100.00"
    assert ledger_of(api, client.id)["balance"] == "170.00"  # 100 + 20 + 50 invoiced, nothing paid
    check_integrity(config)


def test_replacing_a_payment_is_a_reversal_plus_a_new_payment(api, config, client):
    invoice = make_invoice(client, "100.00")
    old = pay(api, invoice.id, "40.00", method="cash")
    response = api.post(f"/api/v1/payments/{old['id']}/replace", json={"amount": "45.00", "method": "card",
                                                                       "reference": "fixed"})
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["id"] != old["id"]
    assert (new["amount"], new["method"], new["reference"], new["status"]) == ("45.00", "card", "fixed", "live")
    old_now = api.get(f"/api/v1/payments/{old['id']}").json()
    assert (old_now["status"], old_now["replaced_by"], old_now["reversal_reason"]) == ("reversed", new["id"],
                                                                                      "corrected")
    assert invoice_of(api, invoice.id)["paid"] == "45.00"
    assert [(e["kind"], e["debit"], e["credit"]) for e in ledger_of(api, client.id)["entries"]][1:] == [
        ("payment", "0.00", "40.00"), ("reversal", "40.00", "0.00"), ("payment", "0.00", "45.00")]
    check_integrity(config)


def test_a_refused_replacement_leaves_the_old_payment_live(api, config, client):
    """One transaction: when the new payment is refused, the reversal is rolled back too."""
    invoice = make_invoice(client, "100.00")
    old = pay(api, invoice.id, "40.00")
    refused(api, config, "POST", f"/api/v1/payments/{old['id']}/replace", 422, json={"amount": "100.01"})
    refused(api, config, "POST", f"/api/v1/payments/{old['id']}/replace", 422,
            json={"amount": "10.00", "method": "barter"})
    assert api.get(f"/api/v1/payments/{old['id']}").json()["status"] == "live"
    reverse(api, old["id"], "typo")
    refused(api, config, "POST", f"/api/v1/payments/{old['id']}/replace", 409, json={"amount": "10.00"})
    check_integrity(config)


# -- the payments list --------------------------------------------------------------------------

def test_payments_list_filters_and_sums(api, config, client):
    other = make_client(name="Granite Works")
    a = make_invoice(client, "500.00", issue_date=TODAY - timedelta(days=40))
    b = make_invoice(other, "500.00", issue_date=TODAY - timedelta(days=40))
    early = pay(api, a.id, "10.00", method="cash", date=(TODAY - timedelta(days=30)).isoformat())
    mid = pay(api, a.id, "20.00", method="card", date=(TODAY - timedelta(days=20)).isoformat())
    late = pay(api, b.id, "40.00", method="cash", date=(TODAY - timedelta(days=10)).isoformat())
    gone = pay(api, b.id, "80.00", method="cheque", date=(TODAY - timedelta(days=5)).isoformat())
    reverse(api, gone["id"], "bounced")

    def listed(**params: Any) -> tuple[list[int], list[dict[str, str]], int]:
        response = api.get("/api/v1/payments", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        return [p["id"] for p in body["items"]], body["sums"], body["total"]

    ids, sums, total = listed()
    assert ids == [gone["id"], late["id"], mid["id"], early["id"]]  # newest first
    assert total == 4
    assert sums == [{"currency": "CAD", "live": "70.00", "reversed": "80.00"}]
    assert listed(method="cash")[:2] == ([late["id"], early["id"]], [{"currency": "CAD", "live": "50.00",
                                                                      "reversed": "0.00"}])
    assert listed(client_id=other.id)[0] == [gone["id"], late["id"]]
    assert listed(state="reversed")[:2] == ([gone["id"]], [{"currency": "CAD", "live": "0.00", "reversed": "80.00"}])
    assert listed(state="live")[0] == [late["id"], mid["id"], early["id"]]
    window = {"from": (TODAY - timedelta(days=20)).isoformat(), "to": (TODAY - timedelta(days=10)).isoformat()}
    assert listed(**window)[0] == [late["id"], mid["id"]]  # both ends included
    assert listed(**window, method="card", client_id=client.id)[0] == [mid["id"]]
    ids, sums, total = listed(method="paypal")
    assert (ids, sums, total) == ([], [], 0)
    # paging keeps the total and the sums of the whole selection
    body = api.get("/api/v1/payments", params={"per_page": 2, "page": 2}).json()
    assert [p["id"] for p in body["items"]] == [mid["id"], early["id"]]
    assert (body["total"], body["page"], body["per_page"]) == (4, 2, 2)
    assert body["sums"] == [{"currency": "CAD", "live": "70.00", "reversed": "80.00"}]


@pytest.mark.parametrize("params, field", [({"method": "barter"}, "method"), ({"state": "deleted"}, "state"),
                                           ({"from": "2026-02-01", "to": "2026-01-01"}, "to")])
def test_payments_list_refuses_bad_filters(api, config, params, field):
    response = api.get("/api/v1/payments", params=params)
    assert response.status_code == 422, response.text
    assert field in field_errors(response)


def test_payments_list_refuses_a_malformed_date(api, config):
    assert api.get("/api/v1/payments", params={"from": "yesterday"}).status_code == 400


# -- ledger, statement, aging ------------------------------------------------------------------

def test_ledger_entries_carry_a_running_balance_and_standing(api, config, client):
    first = make_invoice(client, "100.00")
    pay(api, first.id, "100.00")
    ledger = ledger_of(api, client.id)
    assert (ledger["client_id"], ledger["currency"], ledger["balance"], ledger["standing"]) == \
        (client.id, "CAD", "0.00", "settled")
    second = make_invoice(client, "50.00")
    ledger = ledger_of(api, client.id)
    assert (ledger["balance"], ledger["standing"]) == ("50.00", "owes")
    assert [(e["kind"], e["number"], e["debit"], e["credit"], e["balance"], e["document_id"])
            for e in ledger["entries"]] == [
        ("invoice", first.number, "100.00", "0.00", "100.00", first.id),
        ("payment", first.number, "0.00", "100.00", "0.00", first.id),
        ("invoice", second.number, "50.00", "0.00", "50.00", second.id)]
    assert all(e["date"] == TODAY.isoformat() for e in ledger["entries"])
    # the client list's balance agrees with the ledger
    assert query(config, "SELECT SUM(debit_minor) - SUM(credit_minor) FROM ledger_entry WHERE client = ?",
                 client.id) == [(5000,)]
    assert api.get("/api/v1/clients/99999/ledger").status_code == 404


def test_a_client_without_entries_has_no_ledger(api, config, client):
    assert api.get(f"/api/v1/clients/{client.id}/ledger").json() == []


def test_credit_notes_and_cancellations_are_in_the_ledger(api, config, client):
    invoice = make_invoice(client, "100.00")
    response = api.post("/api/v1/credit-notes", json={"client_id": client.id, "invoice_id": invoice.id,
                                                      "lines": [{"description": "Refund part", "quantity": "1",
                                                                 "unit_price": "30.00"}]})
    assert response.status_code == 201, response.text
    assert api.post(f"/api/v1/credit-notes/{response.json()['id']}/issue").status_code == 200
    assert invoice_of(api, invoice.id)["balance"] == "70.00"
    cancelled = make_invoice(client, "40.00")
    assert api.post(f"/api/v1/invoices/{cancelled.id}/cancel", json={"reason": "duplicate"}).status_code == 200
    ledger = ledger_of(api, client.id)
    assert [(e["kind"], e["debit"], e["credit"]) for e in ledger["entries"]] == [
        ("invoice", "100.00", "0.00"), ("credit_note", "0.00", "30.00"), ("invoice", "40.00", "0.00"),
        ("cancellation", "0.00", "40.00")]
    assert ledger["balance"] == "70.00"
    check_integrity(config)


@pytest.fixture
def history(api, config, client) -> dict[str, Any]:
    """An invoice 40 days ago, paid in part 35 days ago; another 10 days ago, paid in part today."""
    old = make_invoice(client, "100.00", issue_date=TODAY - timedelta(days=40), terms_days=30)
    pay(api, old.id, "40.00", date=(TODAY - timedelta(days=35)).isoformat())
    new = make_invoice(client, "50.00", issue_date=TODAY - timedelta(days=10), terms_days=30)
    pay(api, new.id, "20.00", method="cash")
    return {"old": old, "new": new}


def test_statement_for_a_period(api, config, client, history):
    start = TODAY - timedelta(days=30)
    response = api.get(f"/api/v1/clients/{client.id}/statement",
                       params={"from": start.isoformat(), "to": TODAY.isoformat()})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["client_id"], body["client_name"], body["currency"], body["date_from"], body["date_to"]) == \
        (client.id, "Maple Bakery", "CAD", start.isoformat(), TODAY.isoformat())
    assert body["opening_balance"] == "60.00"
    assert [(e["date"], e["kind"], e["debit"], e["credit"], e["balance"]) for e in body["entries"]] == [
        ((TODAY - timedelta(days=10)).isoformat(), "invoice", "50.00", "0.00", "110.00"),
        (TODAY.isoformat(), "payment", "0.00", "20.00", "90.00")]
    assert body["closing_balance"] == "90.00"
    # the old invoice fell due 10 days ago; the new one is not due yet
    assert body["aging"] == {"current": "30.00", "1-30": "60.00", "31-60": "0.00", "61-90": "0.00",
                             "over 90": "0.00"}
    assert sum(Decimal(v) for v in body["aging"].values()) == Decimal(body["closing_balance"])
    assert body["closing_balance"] == ledger_of(api, client.id)["balance"]


def test_statement_periods_chain(api, config, client, history):
    def statement(start: date, end: date) -> dict[str, Any]:
        return api.get(f"/api/v1/clients/{client.id}/statement",
                       params={"from": start.isoformat(), "to": end.isoformat()}).json()

    earlier = statement(TODAY - timedelta(days=60), TODAY - timedelta(days=31))
    later = statement(TODAY - timedelta(days=30), TODAY)
    assert (earlier["opening_balance"], earlier["closing_balance"]) == ("0.00", "60.00")
    assert later["opening_balance"] == earlier["closing_balance"]
    empty = statement(TODAY - timedelta(days=34), TODAY - timedelta(days=11))
    assert (empty["opening_balance"], empty["entries"], empty["closing_balance"]) == ("60.00", [], "60.00")


def test_statement_defaults_to_the_year_to_date(api, config, client, history):
    body = api.get(f"/api/v1/clients/{client.id}/statement").json()
    assert (body["date_from"], body["date_to"]) == (date(TODAY.year, 1, 1).isoformat(), TODAY.isoformat())
    assert body["closing_balance"] == "90.00"


def test_statement_refuses_a_period_that_ends_before_it_starts(api, config, client, history):
    response = api.get(f"/api/v1/clients/{client.id}/statement",
                       params={"from": TODAY.isoformat(), "to": (TODAY - timedelta(days=1)).isoformat()})
    assert response.status_code == 422, response.text
    assert "before its start" in field_errors(response)["to"]
    assert api.get(f"/api/v1/clients/{client.id}/statement", params={"from": "soon"}).status_code == 400
    assert api.get("/api/v1/clients/99999/statement").status_code == 404


def test_statement_refuses_a_currency_the_client_has_no_account_in(api, config, client, history):
    for currency in ("XXX", "JPY"):
        response = api.get(f"/api/v1/clients/{client.id}/statement", params={"currency": currency})
        assert response.status_code == 422 and "no account in" in field_errors(response)["currency"], response.text
        response = api.post(f"/api/v1/clients/{client.id}/statement/send", json={"currency": currency})
        assert response.status_code == 422, response.text
    assert count(config, "outbox_message") == 0


def test_a_statement_is_in_the_clients_own_currency_by_default(api, config):
    """A client billed in EUR after an invoice in CAD (the business's own): its statement opens in EUR."""
    euro = make_client(name="Kranich GmbH", currency="EUR")
    make_invoice(euro, "10.00", currency="CAD", issue_date=TODAY - timedelta(days=3))
    make_invoice(euro, "20.00", currency="EUR", issue_date=TODAY - timedelta(days=2))
    body = api.get(f"/api/v1/clients/{euro.id}/statement").json()
    assert body["currency"] == "EUR" and body["closing_balance"] == "20.00"
    assert api.get(f"/api/v1/clients/{euro.id}/statement", params={"currency": "CAD"}).json()["closing_balance"] == "10.00"


def test_aging_report_across_clients(api, config, client):
    other = make_client(name="Granite Works")
    # due 91, 61, 31, 1 and 0 days ago (terms 0: due on the issue day), issued in date order (numbers
    # follow dates), one of the other client's among them
    for days, total in ((91, "16.00"), (61, "8.00"), (31, "4.00")):
        make_invoice(client, total, issue_date=TODAY - timedelta(days=days), terms_days=0)
    partly = make_invoice(other, "100.00", issue_date=TODAY - timedelta(days=30), terms_days=15)
    for days, total in ((1, "2.00"), (0, "1.00")):
        make_invoice(client, total, issue_date=TODAY - timedelta(days=days), terms_days=0)
    pay(api, partly.id, "25.00")
    make_invoice(other, "10.00", issue=False)  # a draft is not owed
    settled = make_invoice(other, "10.00")
    pay(api, settled.id, "10.00")
    response = api.get("/api/v1/reports/aging", params={"as_of": TODAY.isoformat()})
    assert response.status_code == 200, response.text
    rows = response.json()
    assert rows == [
        {"client_id": other.id, "client_name": "Granite Works", "currency": "CAD",
         "buckets": {"current": "0.00", "1-30": "75.00", "31-60": "0.00", "61-90": "0.00", "over 90": "0.00"},
         "total": "75.00"},
        {"client_id": client.id, "client_name": "Maple Bakery", "currency": "CAD",
         "buckets": {"current": "1.00", "1-30": "2.00", "31-60": "4.00", "61-90": "8.00", "over 90": "16.00"},
         "total": "31.00"}]
    # a month later everything has aged
    later = api.get("/api/v1/reports/aging", params={"as_of": (TODAY + timedelta(days=30)).isoformat()}).json()
    assert later[1]["buckets"] == {"current": "0.00", "1-30": "1.00", "31-60": "2.00", "61-90": "4.00",
                                   "over 90": "24.00"}
    assert api.get("/api/v1/reports/aging").json() == rows


# -- counterfoil check -----------------------------------------------------------------------------

def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=180)


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "data"
    result = cli("demo", "--data-dir", str(folder), "--clients", "10", "--invoices", "30")
    assert result.returncode == 0, result.stdout + result.stderr
    return folder


@pytest.fixture
def books(demo_folder: Path, tmp_path: Path) -> Path:
    """A private copy of the demo data folder, to break."""
    folder = tmp_path / "books"
    shutil.copytree(demo_folder, folder)
    return folder


def corrupt(folder: Path, *statements: str) -> None:
    connection = sqlite3.connect(folder / "counterfoil.sqlite")
    try:
        for sql in statements:
            assert connection.execute(sql).rowcount >= 1, sql
        connection.commit()
    finally:
        connection.close()


def corrupt_ledger(folder: Path, sql: str) -> None:
    """Delete ledger entries as a tool would that first drops the ledger's append-only guard (the database
    refuses it otherwise: tests/service/test_books_guards.py); `counterfoil check` must still see it."""
    connection = sqlite3.connect(folder / "counterfoil.sqlite")
    try:
        connection.execute("DROP TRIGGER ledger_entry_no_delete")
        assert connection.execute(sql).rowcount >= 1, sql
        connection.commit()
    finally:
        connection.close()


def one(folder: Path, sql: str) -> Any:
    connection = sqlite3.connect(folder / "counterfoil.sqlite")
    try:
        row = connection.execute(sql).fetchone()
        assert row is not None, sql
        return row if len(row) > 1 else row[0]
    finally:
        connection.close()


def check_fails(folder: Path) -> list[str]:
    result = cli("check", "--data-dir", str(folder))
    assert result.returncode == 1, result.stdout + result.stderr
    breaks = [line.removeprefix("BREAK ") for line in result.stdout.splitlines() if line.startswith("BREAK ")]
    assert breaks, result.stdout
    assert f"{len(breaks)} problem(s)" in result.stderr
    return breaks


def test_check_holds_on_demo_data(books: Path):
    assert one(books, "SELECT COUNT(*) FROM payment") > 0  # the demo really has payments to check
    result = cli("check", "--data-dir", str(books))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All checks hold" in result.stdout and "BREAK" not in result.stdout


def test_check_names_an_invoice_whose_paid_amount_was_changed(books: Path):
    # An open invoice: paying more than its total is refused by the database itself.
    number, doc_id = one(books, "SELECT number, id FROM document WHERE doc_type = 'invoice' AND status != 'draft' "
                                "AND status != 'cancelled' AND total_minor - paid_minor - credited_minor > 0 "
                                "ORDER BY id LIMIT 1")
    corrupt(books, f"UPDATE document SET paid_minor = paid_minor + 1 WHERE id = {doc_id}")
    breaks = check_fails(books)
    assert any(b.startswith(f"{number}: paid is") for b in breaks), breaks


def test_check_names_a_client_whose_ledger_lost_an_entry(books: Path):
    entry_id, client_name = one(books, "SELECT ledger_entry.id, client.name FROM ledger_entry JOIN client "
                                       "ON client.id = ledger_entry.client WHERE kind = 'payment' LIMIT 1")
    corrupt_ledger(books, f"DELETE FROM ledger_entry WHERE id = {entry_id}")
    breaks = check_fails(books)
    assert any(b.startswith(f"client {client_name} (") and "ledger balance" in b for b in breaks), breaks


def test_check_names_a_lost_invoice_entry(books: Path):
    number, doc_id = one(books, "SELECT number, id FROM document WHERE doc_type = 'invoice' AND number IS NOT NULL "
                                "ORDER BY id LIMIT 1")
    corrupt_ledger(books, f"DELETE FROM ledger_entry WHERE kind = 'invoice' AND document_id = {doc_id}")
    breaks = check_fails(books)
    assert f"{number}: 0 ledger entries instead of 1" in breaks


def test_check_names_an_invoice_whose_credit_applied_entry_was_deleted(books: Path):
    """An allocation moves no balance: only the per-event check can see its entry is gone."""
    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from app.config import Config\n"
        "from app.db.lifecycle import open_database\n"
        "from app.clients import service as clients\n"
        "from app.documents import service as documents\n"
        "from app.payments import service as payments\n"
        "async def main():\n"
        "    await open_database(Config(data_dir=Path(sys.argv[1])))\n"
        "    c = await clients.create_client({'name': 'Credit Co', 'currency': 'CAD'})\n"
        "    ids = []\n"
        "    for price in ('100.00', '50.00'):\n"
        "        d = await documents.create_document('invoice', {'client_id': c.id, 'lines': [\n"
        "            {'description': 'x', 'quantity': '1', 'unit_price': price}]})\n"
        "        ids.append((await documents.issue(d.id)).id)\n"
        "    await payments.record_payment(ids[0], {'amount': '130.00', 'keep_excess_as_credit': True})\n"
        "    print((await payments.apply_credit(ids[1], {})).number)\n"
        "asyncio.run(main())\n")
    result = subprocess.run([sys.executable, "-c", code, str(books)], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    number = result.stdout.strip().splitlines()[-1]
    assert cli("check", "--data-dir", str(books)).returncode == 0
    corrupt_ledger(books, "DELETE FROM ledger_entry WHERE kind = 'credit_applied'")
    breaks = check_fails(books)
    assert any(b.startswith(f"{number}: 0 credit_applied ledger entries") for b in breaks), breaks


def test_check_names_a_gap_in_the_numbering(books: Path):
    # The series moved on without a document holding the number (an issued one without a number is
    # refused by the database itself).
    year = one(books, "SELECT substr(issue_date, 1, 4) FROM document WHERE doc_type = 'invoice' "
                      "AND number IS NOT NULL ORDER BY number LIMIT 1 OFFSET 2")
    corrupt(books, f"UPDATE number_series SET next_seq = next_seq + 1 WHERE doc_type = 'invoice' AND year = {year}")
    breaks = check_fails(books)
    assert any(b.startswith(f"Invoice numbers {year}:") and "a number is missing" in b for b in breaks), breaks


def test_check_names_a_payment_whose_amount_was_changed(books: Path):
    payment_id = one(books, "SELECT id FROM payment WHERE status = 'live' ORDER BY id LIMIT 1")
    corrupt(books, f"UPDATE payment SET amount_minor = amount_minor + 100, excess_minor = excess_minor + 100 "
                   f"WHERE id = {payment_id}")
    breaks = check_fails(books)
    assert any(b.startswith(f"payment {payment_id}: ") for b in breaks), breaks


# -- double submits against the real server: four at once record one payment ------------------------

@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start_server(tmp_path_factory.mktemp("payments-server"))


def open_invoice(server: Server, total: str) -> tuple[int, int]:
    with server.client() as api:
        response = api.post("/api/v1/clients", json={"name": "Concurrent Co", "currency": "CAD"})
        assert response.status_code == 201, response.text
        client_id = response.json()["id"]
        response = api.post("/api/v1/invoices", json={"client_id": client_id, "lines": [
            {"description": "Work", "quantity": "1", "unit_price": total}]})
        assert response.status_code == 201, response.text
        invoice_id = response.json()["id"]
        assert api.post(f"/api/v1/invoices/{invoice_id}/issue").status_code == 200
    return client_id, invoice_id


def at_once(clients: list[httpx.Client], send) -> list[Any]:
    """One thread and one connection per request, released together by a barrier."""
    go = threading.Barrier(len(clients))
    results: list[Any] = [None] * len(clients)

    def worker(index: int, http: httpx.Client) -> None:
        http.get("/health")  # connect first, so the requests themselves leave together
        go.wait(timeout=60)
        try:
            results[index] = send(index, http)
        except Exception as error:  # reported by the caller
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def assert_books_hold(server: Server) -> None:
    assert "database is locked" not in server.log().lower()
    assert "Traceback" not in server.log()
    result = cli("check", "--data-dir", str(server.data_dir))
    assert result.returncode == 0, result.stdout + result.stderr


def test_four_concurrent_identical_api_submits_record_one_payment(real_server: Server):
    _, invoice_id = open_invoice(real_server, "100.00")
    clients = [real_server.client() for _ in range(4)]
    try:
        responses = at_once(clients, lambda i, http: http.post(
            f"/api/v1/invoices/{invoice_id}/payments", json={"amount": "60.00", "method": "card"},
            headers={"Idempotency-Key": f"double-click-{invoice_id}"}))
    finally:
        for http in clients:
            http.close()
    for response in responses:
        assert isinstance(response, httpx.Response), response
        assert response.status_code == 201, response.text
    assert len({r.json()["id"] for r in responses}) == 1
    assert real_server.rows(f"SELECT COUNT(*), SUM(amount_minor) FROM payment WHERE invoice = {invoice_id}") == \
        [(1, 6000)]
    assert real_server.rows(f"SELECT paid_minor FROM document WHERE id = {invoice_id}") == [(6000,)]
    assert real_server.rows(f"SELECT COUNT(*) FROM ledger_entry WHERE kind = 'payment' AND "
                            f"document_id = {invoice_id}") == [(1,)]
    assert_books_hold(real_server)


def test_concurrent_different_payments_never_overpay(real_server: Server):
    """Four different 30.00 payments on 100.00 at once: three fit, the fourth is refused as an overpayment."""
    _, invoice_id = open_invoice(real_server, "100.00")
    clients = [real_server.client() for _ in range(4)]
    try:
        responses = at_once(clients, lambda i, http: http.post(
            f"/api/v1/invoices/{invoice_id}/payments", json={"amount": "30.00"},
            headers={"Idempotency-Key": f"different-{invoice_id}-{i}"}))
    finally:
        for http in clients:
            http.close()
    assert sorted(r.status_code for r in responses) == [201, 201, 201, 422], [r.text for r in responses]
    assert real_server.rows(f"SELECT paid_minor FROM document WHERE id = {invoice_id}") == [(9000,)]
    assert_books_hold(real_server)


def signed_in_session(server: Server) -> dict[str, str]:
    """Sign in through the login form like a browser; returns the session's cookies."""
    csrf_re = re.compile(r'name="csrf_token" value="([^"]+)"')
    with httpx.Client(base_url=server.base_url, timeout=60) as http:
        csrf = csrf_re.search(http.get("/login").text).group(1)
        response = http.post("/login", data={"email": "owner@example.com", "password": PASSWORD,
                                             "next": "/", "csrf_token": csrf},
                             headers={"Origin": server.base_url})
        assert response.status_code == 303, response.text
        return dict(http.cookies)


def test_four_concurrent_form_submits_with_one_once_key_record_one_payment(real_server: Server):
    _, invoice_id = open_invoice(real_server, "100.00")
    cookies = signed_in_session(real_server)
    with httpx.Client(base_url=real_server.base_url, cookies=cookies, timeout=60) as http:
        form_page = http.get(f"/documents/{invoice_id}/payments/new")
        assert form_page.status_code == 200, form_page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form_page.text).group(1)
    once_key = re.search(r'name="once_key" value="([^"]+)"', form_page.text).group(1)
    form = {"csrf_token": csrf, "once_key": once_key, "amount": "25.00", "date": TODAY.isoformat(),
            "method": "cash", "reference": "till", "note": ""}
    clients = [httpx.Client(base_url=real_server.base_url, cookies=cookies, timeout=60) for _ in range(4)]
    try:
        responses = at_once(clients, lambda i, http: http.post(
            f"/documents/{invoice_id}/payments", data=form, headers={"Origin": real_server.base_url}))
    finally:
        for http in clients:
            http.close()
    for response in responses:
        assert isinstance(response, httpx.Response), response
        assert response.status_code == 303, response.text
        assert response.headers["location"].startswith(f"/documents/{invoice_id}")
    assert real_server.rows(f"SELECT COUNT(*), SUM(amount_minor), MIN(idempotency_key) FROM payment "
                            f"WHERE invoice = {invoice_id}") == [(1, 2500, once_key)]
    assert real_server.rows(f"SELECT paid_minor FROM document WHERE id = {invoice_id}") == [(2500,)]
    assert_books_hold(real_server)


@pytest.mark.parametrize("query, status, field", [
    ("client_id=abc", 400, "client_id"), ("client_id=0", 422, "client_id"),
    ("client_id=99999999999999999999", 422, "client_id"), ("from=yesterday", 400, "from"),
    ("to=2026-13-01", 400, "to"), ("page=abc", 400, "page"), ("page=0", 422, "page"),
    ("per_page=1000", 422, "per_page"), ("method=barter", 422, "method"), ("state=gone", 422, "state"),
    ("from=2026-02-01&to=2026-01-01", 422, "to")])
def test_every_bad_filter_of_the_payments_list_is_refused_naming_it(api, browser, config, query, status, field):
    """The list's filters (issue 21): a bad value is refused naming the query parameter, on the API and the page."""
    response = api.get(f"/api/v1/payments?{query}")
    assert response.status_code == status, response.text
    assert field in field_errors(response)
    if field != "per_page":   # the page has a fixed size
        assert browser.get(f"/payments?{query}").status_code == status


def test_a_page_past_the_end_of_the_payments_list_keeps_its_count_and_sums(api, config, client):
    invoice = make_invoice(client, "100.00")
    pay(api, invoice.id, "40.00")
    body = api.get("/api/v1/payments", params={"page": 3, "per_page": 1}).json()
    assert (body["items"], body["total"]) == ([], 1)
    assert body["sums"] == [{"currency": "CAD", "live": "40.00", "reversed": "0.00"}]
