"""Quotes, invoices and credit notes through /api/v1 against the real SQLite file (API.md, issue 3)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.clients.records import ClientView
from tests.conftest import run
from tests.http.support import count, field_errors, make_client, make_item, query, snapshot

MONEY_FIELDS = ("subtotal", "tax_total", "total", "paid", "credited", "balance")
WRITE_TABLES = ("document", "document_line", "document_event", "number_series", "ledger_entry")


def today() -> date:
    """The service's today: the settings' time zone, UTC by default."""
    return datetime.now(UTC).date()


YEAR = today().year


@pytest.fixture
def taxes(config):
    from app.taxes import service

    run(service.apply_preset("canada"))  # GST 5, HST 13, HST15, PST 7, QST 9.975


@pytest.fixture
def client(config, taxes) -> ClientView:
    return make_client()


def line(description: str = "Consulting", quantity: str = "1", unit_price: str = "100.00", *taxes: str,
         **fields: Any) -> dict[str, Any]:
    return {"description": description, "quantity": quantity, "unit_price": unit_price, "taxes": list(taxes), **fields}


def create(api, path: str = "invoices", expect: int = 201, **body: Any) -> dict[str, Any]:
    if {"issue_date", "due_date", "valid_until"} & set(body):
        body.setdefault("confirm_date", True)   # a fixed date drifts more than a year from today as time passes
    response = api.post(f"/api/v1/{path}", json=body)
    assert response.status_code == expect, response.text
    return response.json()


def issued(api, client_id: int, *lines: dict[str, Any], path: str = "invoices", **body: Any) -> dict[str, Any]:
    draft = create(api, path, client_id=client_id, lines=list(lines) or [line()], **body)
    # A draft dated in the past is issued back-dated to that date, on purpose (numbers follow dates).
    when = {"issue_date": body["issue_date"], "backdate": True} if "issue_date" in body else None
    response = api.post(f"/api/v1/{path}/{draft['id']}/issue", json=when)
    assert response.status_code == 200, response.text
    return response.json()


def state(config) -> dict[str, list[tuple]]:
    """Every row the documents domain writes, to prove a refused request changed nothing."""
    return {table: snapshot(config, table) for table in WRITE_TABLES}


def check_integrity(config) -> None:
    from app.integrity import service

    assert [str(b) for b in service.run_checks(config.database_path)] == []


def assert_money(document: dict[str, Any], decimals: int = 2) -> None:
    for name in MONEY_FIELDS:
        value = document[name]
        assert isinstance(value, str), (name, value)
        assert Decimal(value).as_tuple().exponent == -decimals, (name, value)
    for item in document["lines"]:
        assert Decimal(item["net"]).as_tuple().exponent == -decimals
    for tax in document["taxes"]:
        assert Decimal(tax["base"]).as_tuple().exponent == -decimals
        assert Decimal(tax["amount"]).as_tuple().exponent == -decimals


# -- create, read, edit -----------------------------------------------------------------

def test_invoice_from_two_catalogue_items_and_a_free_line(api, config, client):
    dev = make_item(code="DEV-H", name="Development", description="Web development", unit="hour",
                    unit_price="125.00", default_taxes="GST PST")
    host = make_item(code="HOST", name="Hosting", unit="month", unit_price="20.00", default_taxes="GST PST")
    invoice = create(api, client_id=client.id, issue_date="2026-03-02", terms_days=14, lines=[
        {"item_id": dev["id"], "quantity": "2"},                         # everything from the item
        {"item_id": host["id"], "quantity": "3", "unit_price": "18.50"},  # the item's price changed on the line
        {"description": "Travel", "quantity": "1", "unit_price": "40"},    # a free line without taxes
    ])
    # nets 250.00 + 55.50 + 40.00 = 345.50; GST 5 % of 305.50 = 15.275 -> 15.28; PST 7 % of 305.50 = 21.385 -> 21.39
    assert invoice["type"] == "invoice" and invoice["status"] == "draft" and invoice["number"] is None
    assert invoice["client_id"] == client.id and invoice["currency"] == "CAD"
    assert (invoice["issue_date"], invoice["due_date"]) == ("2026-03-02", "2026-03-16")
    assert [(l["position"], l["item_id"], l["description"], l["quantity"], l["unit"], l["unit_price"], l["taxes"],
             l["net"]) for l in invoice["lines"]] == [
        (1, dev["id"], "Web development", "2", "hour", "125.00", ["GST", "PST"], "250.00"),
        (2, host["id"], "Hosting", "3", "month", "18.50", ["GST", "PST"], "55.50"),
        (3, None, "Travel", "1", "", "40.00", [], "40.00"),
    ]
    assert all(l["discount_percent"] == "0" for l in invoice["lines"])
    assert [(t["code"], t["rate"], t["base"], t["amount"]) for t in invoice["taxes"]] == [
        ("GST", "5", "305.50", "15.28"), ("PST", "7", "305.50", "21.39")]
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"], invoice["paid"], invoice["balance"]) == \
        ("345.50", "36.67", "382.17", "0.00", "382.17")
    assert invoice["discount_percent"] == "0" and isinstance(invoice["notes"], str) and invoice["terms"]
    assert_money(invoice)
    # what is stored: integers of cents and the exact line text
    assert query(config, "SELECT subtotal_minor, tax_total_minor, total_minor, status, number FROM document") == [
        (34550, 3667, 38217, "draft", None)]
    assert query(config, "SELECT position, quantity, unit_price, net_minor FROM document_line ORDER BY position") == [
        (1, "2", "125.00", 25000), (2, "3", "18.50", 5550), (3, "1", "40.00", 4000)]
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json() == invoice


def test_currency_comes_from_the_client_and_jpy_has_no_decimals(api, config, taxes):
    yen_client = make_client(name="Tanaka KK", currency="JPY")
    invoice = create(api, client_id=yen_client.id, lines=[line("Translation", "1.5", "333", "GST")])
    # 1.5 x 333 = 499.5 -> 500; GST 25.00 -> 25
    assert invoice["currency"] == "JPY"
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == ("500", "25", "525")
    assert_money(invoice, decimals=0)
    euro = create(api, client_id=yen_client.id, currency="eur", lines=[line("Translation", "1", "0.125")])
    assert euro["currency"] == "EUR" and euro["total"] == "0.13"  # half-up at half a cent


def test_patch_a_draft_recomputes_it(api, config, client):
    draft = create(api, client_id=client.id, issue_date="2026-04-01",
                   lines=[line("Design", "2", "100", "HST"), line("Print", "1", "50", "HST")])
    assert draft["total"] == "282.50"  # 250.00 + 13 % = 32.50
    response = api.patch(f"/api/v1/invoices/{draft['id']}", json={"notes": "Thank you", "discount_percent": "10"})
    assert response.status_code == 200, response.text
    patched = response.json()
    # the lines stay; 10 % off each: 180.00 + 45.00 = 225.00, HST 29.25
    assert [l["description"] for l in patched["lines"]] == ["Design", "Print"]
    assert (patched["subtotal"], patched["tax_total"], patched["total"], patched["notes"]) == \
        ("225.00", "29.25", "254.25", "Thank you")
    response = api.patch(f"/api/v1/invoices/{draft['id']}", json={"lines": [line("Design only", "3", "10.00")],
                                                                 "due_date": "2026-04-10"})
    assert response.status_code == 200, response.text
    patched = response.json()
    assert [l["description"] for l in patched["lines"]] == ["Design only"]
    assert (patched["total"], patched["due_date"], patched["discount_percent"]) == ("27.00", "2026-04-10", "10")
    assert count(config, "document_line") == 1
    assert query(config, "SELECT total_minor, notes FROM document") == [(2700, "Thank you")]


def test_unknown_and_mismatched_ids_are_404(api, config, client):
    quote = create(api, "quotes", client_id=client.id, lines=[line()])
    assert api.get("/api/v1/invoices/999").status_code == 404
    assert api.get(f"/api/v1/invoices/{quote['id']}").status_code == 404  # a quote is not an invoice
    assert api.post(f"/api/v1/invoices/{quote['id']}/issue").status_code == 404
    assert api.patch(f"/api/v1/invoices/{quote['id']}", json={"notes": "x"}).status_code == 404
    assert count(config, "document", "number IS NOT NULL") == 0


# -- issuing and numbers -----------------------------------------------------------------

def test_issue_numbers_the_invoice_and_freezes_it(api, config, client):
    first = create(api, client_id=client.id, lines=[line("Design", "1", "100", "HST")])
    second = create(api, client_id=client.id, lines=[line("Hosting", "1", "10", "HST")])
    response = api.post(f"/api/v1/invoices/{first['id']}/issue")
    assert response.status_code == 200, response.text
    one = response.json()
    assert (one["number"], one["status"], one["total"], one["balance"]) == (f"INV-{YEAR}-0001", "issued", "113.00",
                                                                            "113.00")
    assert one["issued_at"]
    assert api.post(f"/api/v1/invoices/{second['id']}/issue").json()["number"] == f"INV-{YEAR}-0002"
    # the snapshot keeps the business and the client as they were
    snap = json.loads(query(config, "SELECT snapshot_json FROM document WHERE id = ?", first["id"])[0][0])
    assert snap["business"]["name"] == "Test Studio" and snap["client"]["name"] == "Maple Bakery"
    assert query(config, "SELECT kind, detail FROM document_event WHERE document = ? ORDER BY id", first["id"]) == [
        ("created", ""), ("issued", f"INV-{YEAR}-0001")]
    # issuing twice is refused and takes no number
    before = state(config)
    again = api.post(f"/api/v1/invoices/{first['id']}/issue")
    assert again.status_code == 409 and "already issued" in again.json()["detail"]
    assert state(config) == before
    check_integrity(config)


def test_a_draft_without_lines_or_for_an_archived_client_is_not_issued(api, config, client):
    empty = create(api, client_id=client.id, lines=[])
    before = state(config)
    response = api.post(f"/api/v1/invoices/{empty['id']}/issue")
    assert response.status_code == 409 and "at least one line" in response.json()["detail"]
    assert state(config) == before
    draft = create(api, client_id=client.id, lines=[line()])
    assert api.delete(f"/api/v1/clients/{client.id}").status_code in (200, 204)
    before = state(config)
    response = api.post(f"/api/v1/invoices/{draft['id']}/issue")
    assert response.status_code == 409 and "archived" in response.json()["detail"]
    assert state(config) == before


def test_issued_invoice_cannot_be_patched_or_deleted(api, config, client):
    invoice = issued(api, client.id, line("Design", "1", "100", "HST"))
    before = state(config)
    for response in (api.patch(f"/api/v1/invoices/{invoice['id']}", json={"notes": "changed"}),
                     api.patch(f"/api/v1/invoices/{invoice['id']}", json={"lines": [line("x", "1", "1")]}),
                     api.delete(f"/api/v1/invoices/{invoice['id']}")):
        assert response.status_code == 409, response.text
        assert "credit note" in response.json()["detail"]
    assert state(config) == before


def test_owner_deletes_a_draft_with_its_lines(api, config, client):
    draft = create(api, client_id=client.id, lines=[line(), line("More")])
    assert api.delete(f"/api/v1/invoices/{draft['id']}").status_code == 204
    assert count(config, "document") == 0 and count(config, "document_line") == 0
    assert api.get(f"/api/v1/invoices/{draft['id']}").status_code == 404


# -- bad input: a 4xx naming the field, and nothing written ----------------------------------------

BAD_LINES = [
    ({"quantity": "abc"}, "lines[0].quantity"),
    ({"unit_price": "-1"}, "lines[0].unit_price"),
    ({"discount_percent": 150}, "lines[0].discount_percent"),
    ({"discount_percent": "150"}, "lines[0].discount_percent"),
    ({"taxes": ["NOPE"]}, "lines[0].taxes"),
    ({"description": ""}, "lines[0].description"),
    ({"description": "   "}, "lines[0].description"),
    ({"quantity": "0"}, "lines[0].quantity"),
    ({"item_id": 999}, "lines[0].item_id"),
]
BAD_HEADERS = [
    ({"client_id": 999}, "client_id"),
    ({"currency": "XYZ"}, "currency"),
    ({"issue_date": "2026-05-10", "due_date": "2026-05-01"}, "due_date"),
    ({"discount_percent": "150"}, "discount_percent"),
    ({"issue_date": "10/05/2026"}, "issue_date"),
]


def _bad_body(client_id: int, change: dict[str, Any], in_line: bool) -> dict[str, Any]:
    good = line("Design", "2", "100.00", "GST")
    if in_line:
        return {"client_id": client_id, "lines": [{**good, **change}]}
    return {"client_id": client_id, "lines": [good], **change}


@pytest.mark.parametrize(("change", "field", "in_line"),
                         [(c, f, True) for c, f in BAD_LINES] + [(c, f, False) for c, f in BAD_HEADERS])
def test_bad_input_names_the_field_and_writes_nothing(api, config, client, change, field, in_line):
    draft = create(api, client_id=client.id, lines=[line("Kept", "1", "10.00", "GST")], notes="as it was")
    before = state(config)
    for response in (api.post("/api/v1/invoices", json=_bad_body(client.id, change, in_line)),
                     api.patch(f"/api/v1/invoices/{draft['id']}", json=_bad_body(client.id, change, in_line)),
                     api.post("/api/v1/quotes", json=_bad_body(client.id, change, in_line))):
        assert response.status_code in (400, 422), response.text
        errors = field_errors(response)
        assert field in errors, errors
    assert state(config) == before
    assert count(config, "document") == 1 and count(config, "document_line") == 1


def test_every_bad_field_is_named_at_once(api, config, client):
    before = state(config)
    response = api.post("/api/v1/invoices", json={
        "client_id": client.id, "currency": "XYZ", "issue_date": "2026-05-10", "due_date": "2026-05-01",
        "lines": [{"description": "", "quantity": "1", "unit_price": "-1", "discount_percent": "150"},
                  {"description": "ok", "quantity": "1", "unit_price": "1", "taxes": ["NOPE"]}]})
    assert response.status_code == 422
    assert {"currency", "due_date", "lines[0].description", "lines[0].unit_price", "lines[0].discount_percent"} \
        <= set(field_errors(response))
    assert state(config) == before


def test_a_float_quantity_is_read_through_its_decimal_text(api, config, client):
    invoice = create(api, client_id=client.id, lines=[{"description": "Hours", "quantity": 1.1, "unit_price": 0.1}])
    assert (invoice["lines"][0]["quantity"], invoice["lines"][0]["unit_price"], invoice["total"]) == ("1.1", "0.10",
                                                                                                    "0.11")


def test_a_line_amount_too_large_is_a_422_not_a_crash(api, config, client):
    before = state(config)
    response = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [
        line("Everything", "999999999", "99999999999")]})
    assert response.status_code == 422
    assert "too large" in field_errors(response)["lines[0].unit_price"]
    assert state(config) == before


# -- sent, bulk ----------------------------------------------------------------------------------

def test_mark_sent_by_hand_and_in_bulk(api, config, client):
    a, b, c = (issued(api, client.id, line(f"Job {n}")) for n in range(3))
    draft = create(api, client_id=client.id, lines=[line()])
    response = api.post(f"/api/v1/invoices/{a['id']}/mark-sent")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "sent" and response.json()["sent_at"]
    # a draft in the batch: refused, and nothing in the batch changes
    before = state(config)
    refused = api.post("/api/v1/invoices/bulk/mark-sent", json={"ids": [b["id"], draft["id"]]})
    assert refused.status_code == 409 and "Issue the draft" in refused.json()["detail"]
    assert state(config) == before
    assert api.post("/api/v1/invoices/bulk/mark-sent", json={"ids": [b["id"], 999]}).status_code == 404
    assert state(config) == before
    response = api.post("/api/v1/invoices/bulk/mark-sent", json={"ids": [a["id"], b["id"], c["id"]]})
    assert response.status_code == 200, response.text
    assert sorted(response.json()["changed"]) == sorted([b["id"], c["id"]])  # a was sent already
    assert {api.get(f"/api/v1/invoices/{d['id']}").json()["status"] for d in (a, b, c)} == {"sent"}
    assert api.get(f"/api/v1/invoices/{draft['id']}").json()["status"] == "draft"


# -- cancel and credit notes -----------------------------------------------------------------------

def test_cancel_needs_a_reason_and_issues_a_full_credit_note(api, config, client):
    invoice = issued(api, client.id, line("Design", "2", "100", "GST", "PST"))  # 200 + 10 + 14 = 224.00
    draft = create(api, client_id=client.id, lines=[line()])
    before = state(config)
    for body in ({}, {"reason": "   "}, None):
        response = api.post(f"/api/v1/invoices/{invoice['id']}/cancel", json=body) if body is not None else \
            api.post(f"/api/v1/invoices/{invoice['id']}/cancel")
        assert response.status_code == 422, response.text
        assert "reason" in field_errors(response)
    drafted = api.post(f"/api/v1/invoices/{draft['id']}/cancel", json={"reason": "not needed"})
    assert drafted.status_code == 409 and "delete it" in drafted.json()["detail"]
    assert state(config) == before

    response = api.post(f"/api/v1/invoices/{invoice['id']}/cancel", json={"reason": "Client went bankrupt"})
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert (cancelled["status"], cancelled["balance"], cancelled["credited"], cancelled["cancel_reason"]) == \
        ("cancelled", "0.00", "224.00", "Client went bankrupt")
    notes = api.get("/api/v1/credit-notes").json()
    assert notes["total"] == 1
    credit = api.get(f"/api/v1/credit-notes/{notes['items'][0]['id']}").json()
    assert (credit["number"], credit["status"], credit["invoice_id"], credit["total"]) == \
        (f"CN-{YEAR}-0001", "issued", invoice["id"], "224.00")
    assert credit["taxes"] == cancelled["taxes"]
    assert [(l["description"], l["net"]) for l in credit["lines"]] == [("Design", "200.00")]
    assert "Client went bankrupt" in credit["notes"]
    again = api.post(f"/api/v1/invoices/{invoice['id']}/cancel", json={"reason": "twice"})
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]
    check_integrity(config)


def test_cancel_credits_what_was_invoiced_even_after_a_rate_change(api, config, client):
    # a deposit line (negative) and a tax whose rate changes after issuing
    invoice = issued(api, client.id, line("Renovation", "1", "1000", "HST"), line("Deposit received", "-1", "300"))
    assert invoice["total"] == "830.00"  # 700.00 + HST 130.00
    assert api.patch("/api/v1/taxes/HST", json={"rate": "15"}).status_code == 200
    response = api.post(f"/api/v1/invoices/{invoice['id']}/cancel", json={"reason": "Duplicate"})
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["balance"]) == ("cancelled", "0.00")
    credit_id = api.get("/api/v1/credit-notes").json()["items"][0]["id"]
    credit = api.get(f"/api/v1/credit-notes/{credit_id}").json()
    assert (credit["subtotal"], credit["tax_total"], credit["total"]) == ("700.00", "130.00", "830.00")
    assert [(t["code"], t["rate"], t["amount"]) for t in credit["taxes"]] == [("HST", "13", "130.00")]
    check_integrity(config)


def test_credit_note_against_an_invoice_lowers_its_balance(api, config, client):
    invoice = issued(api, client.id, line("Design", "1", "100", "HST"))  # 113.00
    credit = create(api, "credit-notes", client_id=client.id, invoice_id=invoice["id"],
                    lines=[line("Design, partly refunded", "1", "20", "HST")])  # 22.60
    assert (credit["type"], credit["number"], credit["invoice_id"], credit["total"]) == \
        ("credit_note", None, invoice["id"], "22.60")
    response = api.post(f"/api/v1/credit-notes/{credit['id']}/issue")
    assert response.status_code == 200, response.text
    assert response.json()["number"] == f"CN-{YEAR}-0001"
    after = api.get(f"/api/v1/invoices/{invoice['id']}").json()
    assert (after["status"], after["credited"], after["balance"]) == ("partial", "22.60", "90.40")
    assert [i["id"] for i in api.get("/api/v1/invoices?status=partial").json()["items"]] == [invoice["id"]]
    check_integrity(config)


def test_credit_note_larger_than_the_open_balance_is_refused_and_writes_nothing(api, config, client):
    invoice = issued(api, client.id, line("Design", "1", "100", "HST"))  # 113.00
    first = create(api, "credit-notes", client_id=client.id, invoice_id=invoice["id"],
                   lines=[line("Part", "1", "80")])
    assert api.post(f"/api/v1/credit-notes/{first['id']}/issue").status_code == 200  # open: 33.00
    too_much = create(api, "credit-notes", client_id=client.id, invoice_id=invoice["id"],
                      lines=[line("Rest", "1", "33.01")])
    before = state(config)
    response = api.post(f"/api/v1/credit-notes/{too_much['id']}/issue")
    assert response.status_code == 409
    assert "more than the open balance" in response.json()["detail"]
    assert state(config) == before
    assert api.get(f"/api/v1/credit-notes/{too_much['id']}").json()["number"] is None
    exact = api.patch(f"/api/v1/credit-notes/{too_much['id']}", json={"lines": [line("Rest", "1", "33.00")]})
    assert exact.status_code == 200, exact.text
    assert api.post(f"/api/v1/credit-notes/{too_much['id']}/issue").json()["number"] == f"CN-{YEAR}-0002"
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "paid"  # fully credited
    check_integrity(config)


def test_credit_note_refuses_a_draft_or_another_clients_invoice(api, config, client):
    other = make_client(name="Birch Studio")
    draft = create(api, client_id=client.id, lines=[line()])
    theirs = issued(api, other.id, line())
    before = state(config)
    for invoice_id in (draft["id"], theirs["id"], 999):
        response = api.post("/api/v1/credit-notes", json={"client_id": client.id, "invoice_id": invoice_id,
                                                          "lines": [line()]})
        assert response.status_code == 422 and "invoice_id" in field_errors(response)
    assert state(config) == before


def test_credit_note_on_the_clients_account(api, config, client):
    credit = issued(api, client.id, line("Goodwill", "1", "25"), path="credit-notes")
    assert (credit["number"], credit["invoice_id"], credit["total"]) == (f"CN-{YEAR}-0001", None, "25.00")
    assert api.get(f"/api/v1/clients/{client.id}/credit").json() == [{"currency": "CAD", "available": "25.00"}]
    # a credit note that credits nothing is not issued
    nothing = create(api, "credit-notes", client_id=client.id, lines=[line("Plus", "1", "10"),
                                                                        line("Minus", "-1", "10")])
    before = state(config)
    response = api.post(f"/api/v1/credit-notes/{nothing['id']}/issue")
    assert response.status_code == 409 and "above zero" in response.json()["detail"]
    assert state(config) == before
    check_integrity(config)


# -- quotes ---------------------------------------------------------------------------------------------

def test_quote_issue_accept_and_convert(api, config, client):
    quote = create(api, "quotes", client_id=client.id, issue_date=today().isoformat(), discount_percent="5",
                   notes="Valid for a month", lines=[line("Design", "10", "80", "HST"), line("Logo", "1", "500", "HST")])
    assert quote["type"] == "quote" and quote["valid_until"] == (today() + timedelta(days=30)).isoformat()
    response = api.post(f"/api/v1/quotes/{quote['id']}/issue")
    assert response.status_code == 200 and response.json()["number"] == f"QUO-{YEAR}-0001"
    accepted = api.post(f"/api/v1/quotes/{quote['id']}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    converted = api.post(f"/api/v1/quotes/{quote['id']}/convert")
    assert converted.status_code == 201, converted.text
    invoice = converted.json()
    assert (invoice["type"], invoice["status"], invoice["number"], invoice["source_quote_id"]) == \
        ("invoice", "draft", None, quote["id"])
    keys = ("description", "quantity", "unit_price", "discount_percent", "taxes", "net")
    assert [{k: l[k] for k in keys} for l in invoice["lines"]] == [{k: l[k] for k in keys} for l in quote["lines"]]
    assert (invoice["subtotal"], invoice["taxes"], invoice["total"], invoice["discount_percent"]) == \
        (quote["subtotal"], quote["taxes"], quote["total"], "5")
    after = api.get(f"/api/v1/quotes/{quote['id']}").json()
    assert (after["status"], after["converted_invoice_id"]) == ("converted", invoice["id"])
    before = state(config)
    twice = api.post(f"/api/v1/quotes/{quote['id']}/convert")
    assert twice.status_code == 409 and "cannot be converted" in twice.json()["detail"]
    assert state(config) == before
    # the invoice it became is an ordinary draft: it issues into the invoice series
    assert api.post(f"/api/v1/invoices/{invoice['id']}/issue").json()["number"] == f"INV-{YEAR}-0001"


def test_quote_decline_and_what_a_draft_or_declined_quote_cannot_do(api, config, client):
    draft = create(api, "quotes", client_id=client.id, lines=[line()])
    before = state(config)
    for action in ("accept", "decline", "convert"):
        assert api.post(f"/api/v1/quotes/{draft['id']}/{action}").status_code == 409
    assert state(config) == before
    quote = issued(api, client.id, line(), path="quotes")
    declined = api.post(f"/api/v1/quotes/{quote['id']}/decline")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    for action in ("accept", "convert"):
        response = api.post(f"/api/v1/quotes/{quote['id']}/{action}")
        assert response.status_code == 409 and "declined" in response.json()["detail"]
    assert api.patch(f"/api/v1/quotes/{quote['id']}", json={"notes": "x"}).status_code == 409


def test_quote_past_its_validity_is_expired(api, config, client):
    past = today() - timedelta(days=40)
    quote = issued(api, client.id, line(), path="quotes", issue_date=past.isoformat(),
                   valid_until=(today() - timedelta(days=1)).isoformat())
    fresh = issued(api, client.id, line(), path="quotes", valid_until=today().isoformat())
    assert quote["status"] == "expired" and fresh["status"] == "issued"  # valid through its last day
    assert [q["id"] for q in api.get("/api/v1/quotes?status=expired").json()["items"]] == [quote["id"]]
    assert [q["id"] for q in api.get("/api/v1/quotes?status=issued").json()["items"]] == [fresh["id"]]
    response = api.post(f"/api/v1/quotes/{quote['id']}/accept")
    assert response.status_code == 409 and "expired" in response.json()["detail"]
    invoices_before = api.get("/api/v1/invoices").json()["total"]
    response = api.post(f"/api/v1/quotes/{quote['id']}/convert")   # as for accepting it: too late
    assert response.status_code == 409 and "expired" in response.json()["detail"]
    assert api.get("/api/v1/invoices").json()["total"] == invoices_before
    assert api.get(f"/api/v1/quotes/{quote['id']}").json()["status"] == "expired"


def test_duplicate_makes_a_new_draft(api, config, client):
    invoice = issued(api, client.id, line("Design", "2", "100", "HST"), line("Print", "1", "5"),
                     issue_date=(today() - timedelta(days=3)).isoformat())
    response = api.post(f"/api/v1/invoices/{invoice['id']}/duplicate")
    assert response.status_code == 201, response.text
    copy = response.json()
    assert copy["id"] != invoice["id"]
    assert (copy["status"], copy["number"], copy["issue_date"], copy["total"]) == ("draft", None,
                                                                                   today().isoformat(),
                                                                                   invoice["total"])
    assert [(l["description"], l["quantity"], l["unit_price"], l["taxes"]) for l in copy["lines"]] == \
        [(l["description"], l["quantity"], l["unit_price"], l["taxes"]) for l in invoice["lines"]]
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json() == invoice  # the original is untouched
    quote_copy = api.post(f"/api/v1/quotes/{issued(api, client.id, line(), path='quotes')['id']}/duplicate")
    assert quote_copy.status_code == 201 and quote_copy.json()["type"] == "quote"


# -- lists, filters, sums, statistics ----------------------------------------------------------------

@pytest.fixture
def book(api, config, client) -> dict[str, dict[str, Any]]:
    """Invoices in every state, for two clients, on known dates."""
    birch = make_client(name="Birch Studio")
    day = today()
    docs = {
        "overdue": issued(api, client.id, line("Logo design", "1", "100"),
                          issue_date=(day - timedelta(days=40)).isoformat(),
                          due_date=(day - timedelta(days=10)).isoformat()),
        "partial": issued(api, client.id, line("Website hosting", "1", "50"),
                          issue_date=(day - timedelta(days=5)).isoformat()),
        "sent": issued(api, birch.id, line("Logo refresh", "1", "200"),
                       issue_date=(day - timedelta(days=3)).isoformat()),
        "draft": create(api, client_id=birch.id, lines=[line("Consulting", "1", "80")]),
        "cancelled": issued(api, birch.id, line("Workshop", "1", "30"),
                            issue_date=(day - timedelta(days=2)).isoformat()),
        "issued": issued(api, client.id, line("Printing", "1", "20")),
    }
    credit = create(api, "credit-notes", client_id=client.id, invoice_id=docs["partial"]["id"],
                    lines=[line("Hosting refund", "1", "10")])
    assert api.post(f"/api/v1/credit-notes/{credit['id']}/issue").status_code == 200
    assert api.post(f"/api/v1/invoices/{docs['sent']['id']}/mark-sent").status_code == 200
    assert api.post(f"/api/v1/invoices/{docs['cancelled']['id']}/cancel", json={"reason": "test"}).status_code == 200
    docs["birch"] = birch
    return docs


def ids(api, query_string: str) -> set[int]:
    response = api.get(f"/api/v1/invoices?{query_string}")
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_list_filters_by_status(api, book):
    for status in ("overdue", "partial", "sent", "draft", "cancelled", "issued"):
        assert ids(api, f"status={status}") == {book[status]["id"]}, status
    assert ids(api, "status=paid") == set()
    assert ids(api, "status=open") == {book[s]["id"] for s in ("overdue", "partial", "sent", "issued")}
    listed = {i["id"]: i["status"] for i in api.get("/api/v1/invoices").json()["items"]}
    assert listed == {book[s]["id"]: s for s in ("overdue", "partial", "sent", "draft", "cancelled", "issued")}
    bad = api.get("/api/v1/invoices?status=bogus")
    assert bad.status_code == 422 and "status" in field_errors(bad)


def test_list_filters_by_client_dates_and_text(api, book):
    day = today()
    birch = book["birch"].id
    assert ids(api, f"client_id={birch}") == {book[s]["id"] for s in ("sent", "draft", "cancelled")}
    assert ids(api, f"from={(day - timedelta(days=6)).isoformat()}&to={(day - timedelta(days=3)).isoformat()}") == \
        {book["partial"]["id"], book["sent"]["id"]}
    assert ids(api, f"from={day.isoformat()}") == {book["draft"]["id"], book["issued"]["id"]}
    number = book["overdue"]["number"]
    assert ids(api, f"q={number}") == {book["overdue"]["id"]}
    assert ids(api, f"q={number.lower()}") == {book["overdue"]["id"]}
    assert ids(api, "q=birch") == {book[s]["id"] for s in ("sent", "draft", "cancelled")}
    assert ids(api, "q=logo") == {book["overdue"]["id"], book["sent"]["id"]}  # line descriptions
    assert ids(api, "q=logo birch") == {book["sent"]["id"]}
    assert ids(api, "q=nothing-like-this") == set()
    assert ids(api, f"q=logo&client_id={birch}&status=sent") == {book["sent"]["id"]}
    bad = api.get(f"/api/v1/invoices?from={day.isoformat()}&to={(day - timedelta(days=1)).isoformat()}")
    assert bad.status_code == 422 and "to" in field_errors(bad)


def test_list_pages_and_sums(api, book):
    everything = api.get("/api/v1/invoices?per_page=500").json()
    assert everything["total"] == 6 and len(everything["items"]) == 6
    first = api.get("/api/v1/invoices?per_page=4&page=1").json()
    second = api.get("/api/v1/invoices?per_page=4&page=2").json()
    assert (first["total"], first["page"], first["per_page"], len(first["items"])) == (6, 1, 4, 4)
    assert (second["total"], second["page"], len(second["items"])) == (6, 2, 2)
    assert {i["id"] for i in first["items"]} | {i["id"] for i in second["items"]} == \
        {i["id"] for i in everything["items"]}
    for bad_query in ("per_page=501", "per_page=0", "page=0"):
        response = api.get(f"/api/v1/invoices?{bad_query}")
        assert response.status_code == 422, bad_query
        assert bad_query.split("=")[0] in field_errors(response)
    # sums of the filtered set: open = 100 + 50 + 200 + 20 = 370.00, credited 10.00
    sums = api.get("/api/v1/invoices?status=open").json()["sums"]
    assert sums == [{"currency": "CAD", "total": "370.00", "paid": "0.00", "credited": "10.00", "balance": "360.00",
                     "count": 4}]
    # Every invoice: the sums leave out the draft and the cancelled invoice (counted in `total`, never summed).
    by_status = {i["status"]: i for i in everything["items"]}
    sums = everything["sums"]
    assert len(sums) == 1 and sums[0]["count"] == 6 - sum(s in by_status for s in ("draft", "cancelled"))
    summed = sum(Decimal(i["total"]) for i in everything["items"] if i["status"] not in ("draft", "cancelled"))
    assert Decimal(sums[0]["total"]) == summed
    summary = everything["items"][0]
    assert set(summary) >= {"id", "type", "number", "status", "client_id", "client_name", "currency", "issue_date",
                            "due_date", "total", "paid", "balance"}


def test_statistics(api, book):
    # one invoice paid in full by a payment
    paid = issued(api, book["birch"].id, line("Paid job", "1", "40"))
    payment = api.post(f"/api/v1/invoices/{paid['id']}/payments", json={"amount": "40.00", "method": "cash"})
    assert payment.status_code == 201, payment.text
    response = api.get("/api/v1/invoices/statistics")
    assert response.status_code == 200, response.text
    stats = response.json()
    assert stats["counts"] == {"draft": 1, "issued": 1, "sent": 1, "partial": 1, "paid": 1, "overdue": 1,
                               "cancelled": 1}
    # live invoices: 100 + 50 + 200 + 20 + 40 = 410.00, less 10.00 credited = 400.00 revenue;
    # outstanding 410 - 40 paid - 10 credited = 360.00; overdue: the 100.00 invoice
    assert stats["amounts"] == [{"currency": "CAD", "revenue": "400.00", "outstanding": "360.00",
                                 "overdue": "100.00"}]
    assert stats["today"] == today().isoformat()
    # Read from the running sums and the open invoices' index: the same counts as each status's list.
    assert stats["counts"] == {status: api.get(f"/api/v1/invoices?status={status}").json()["total"]
                               for status in stats["counts"]}


# -- numbering settings ------------------------------------------------------------------------------

def test_custom_pattern_and_starting_number(api, config, client):
    from app.common.logic import ValidationFailed
    from app.documents import service

    # Documents checks a pattern, settings stores it (PATCH /api/v1/settings goes the same way).
    run(service.set_number_patterns({"invoice_number_pattern": "F{yy}-{seq:05}"}))
    run(service.set_next_number("invoice", YEAR, "42"))
    assert issued(api, client.id, line())["number"] == f"F{YEAR % 100:02d}-00042"
    assert issued(api, client.id, line())["number"] == f"F{YEAR % 100:02d}-00043"
    # once numbers are issued the series cannot jump (a gap) or go back (a number used twice)
    before = state(config)
    for wanted in ("100", "10"):
        with pytest.raises(ValidationFailed, match="already issued"):
            run(service.set_next_number("invoice", YEAR, wanted))
    assert state(config) == before
    # the other series are their own
    assert issued(api, client.id, line(), path="quotes")["number"] == f"QUO-{YEAR}-0001"
    with pytest.raises(ValidationFailed, match="year"):
        run(service.set_number_patterns({"invoice_number_pattern": "F-{seq}"}))


def test_starting_number_for_a_user_moving_from_another_program(api, config, client):
    from app.documents import service

    run(service.set_next_number("invoice", YEAR, 500))
    run(service.set_next_number("invoice", YEAR, 1001))  # changed their mind before issuing anything
    numbering = {row["doc_type"]: row for row in run(service.numbering(YEAR))}
    assert (numbering["invoice"]["next_seq"], numbering["invoice"]["example"]) == (1001, f"INV-{YEAR}-1001")
    assert issued(api, client.id, line())["number"] == f"INV-{YEAR}-1001"
    assert issued(api, client.id, line())["number"] == f"INV-{YEAR}-1002"
    assert issued(api, client.id, line(), path="credit-notes")["number"] == f"CN-{YEAR}-0001"
    check_integrity(config)


def test_numbers_restart_each_year(api, config, client):
    numbers = [issued(api, client.id, line(), issue_date=d)["number"]
               for d in ("2024-06-01", "2025-01-01", "2024-12-31", "2025-03-01")]
    assert numbers == ["INV-2024-0001", "INV-2025-0001", "INV-2024-0002", "INV-2025-0002"]
    assert query(config, "SELECT doc_type, year, next_seq FROM number_series ORDER BY year") == [
        ("invoice", 2024, 3), ("invoice", 2025, 3)]


def test_a_pattern_colliding_with_old_numbers_is_refused_not_reused(api, config, client):
    from app.documents import service

    run(service.set_number_patterns({"invoice_number_pattern": "INV-{year}-{seq}2"}))
    assert issued(api, client.id, line())["number"] == f"INV-{YEAR}-12"
    run(service.set_number_patterns({"invoice_number_pattern": "INV-{year}-1{seq}"}))
    draft = create(api, client_id=client.id, lines=[line()])
    before = state(config)
    response = api.post(f"/api/v1/invoices/{draft['id']}/issue")  # seq 2 would be INV-YYYY-12 again
    assert response.status_code == 409 and "already taken" in response.json()["detail"]
    assert state(config) == before  # the series did not move: no gap
    run(service.set_number_patterns({"invoice_number_pattern": "INV-{year}-{seq:04}"}))
    assert api.post(f"/api/v1/invoices/{draft['id']}/issue").json()["number"] == f"INV-{YEAR}-0002"


# -- schema and rights --------------------------------------------------------------------------------

def test_openapi_describes_the_document_routes(api):
    response = api.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/invoices", "/api/v1/invoices/{document_id}", "/api/v1/invoices/{document_id}/issue",
                 "/api/v1/invoices/{document_id}/cancel", "/api/v1/invoices/{document_id}/mark-sent",
                 "/api/v1/invoices/bulk/mark-sent", "/api/v1/invoices/statistics",
                 "/api/v1/quotes", "/api/v1/quotes/{document_id}/accept", "/api/v1/quotes/{document_id}/decline",
                 "/api/v1/quotes/{document_id}/convert", "/api/v1/credit-notes",
                 "/api/v1/credit-notes/{document_id}/issue"):
        assert path in paths, path
    assert {"get", "post"} <= set(paths["/api/v1/invoices"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/invoices/{document_id}"])


def test_staff_may_create_and_issue_but_not_delete(staff_browser, config, client):
    response = staff_browser.post("/api/v1/invoices", json={"client_id": client.id, "lines": [line()]})
    assert response.status_code == 201, response.text
    draft = response.json()
    other = staff_browser.post("/api/v1/invoices", json={"client_id": client.id, "lines": [line()]}).json()
    issued_one = staff_browser.post(f"/api/v1/invoices/{draft['id']}/issue")
    assert issued_one.status_code == 200 and issued_one.json()["number"] == f"INV-{YEAR}-0001"
    before = state(config)
    refused = staff_browser.delete(f"/api/v1/invoices/{other['id']}")
    assert refused.status_code == 403
    assert state(config) == before


def test_owner_session_works_like_a_token(browser, config, client):
    response = browser.post("/api/v1/invoices", json={"client_id": client.id, "lines": [line()]})
    assert response.status_code == 201, response.text
    assert browser.post(f"/api/v1/invoices/{response.json()['id']}/issue").json()["number"] == f"INV-{YEAR}-0001"
    draft = browser.post("/api/v1/invoices", json={"client_id": client.id, "lines": [line()]}).json()
    assert browser.delete(f"/api/v1/invoices/{draft['id']}").status_code == 204
    assert count(config, "document") == 1


def test_an_idempotency_key_makes_a_repeated_create_return_the_same_draft(api, config, client):
    body = {"client_id": client.id, "lines": [line()]}
    first = api.post("/api/v1/invoices", json=body, headers={"Idempotency-Key": "order-7781"})
    again = api.post("/api/v1/invoices", json=body, headers={"Idempotency-Key": "order-7781"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert count(config, "document") == 1
    other = api.post("/api/v1/invoices", json=body, headers={"Idempotency-Key": "order-7782"})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert count(config, "document") == 2


def test_an_idempotency_key_of_an_invoice_cannot_make_a_quote(api, config, client):
    body = {"client_id": client.id, "lines": [line()]}
    assert api.post("/api/v1/invoices", json=body, headers={"Idempotency-Key": "k-1"}).status_code == 201
    response = api.post("/api/v1/quotes", json=body, headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 409 and "another kind of document" in response.json()["detail"]
    assert count(config, "document") == 1


def test_an_overlong_idempotency_key_is_refused_and_nothing_is_written(api, config, client):
    response = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [line()]},
                        headers={"Idempotency-Key": "k" * 101})
    assert response.status_code == 422 and "idempotency key" in response.text
    assert count(config, "document") == 0


@pytest.mark.parametrize(("bad_query", "field"), [
    ("sort=colour", "sort"), ("dir=sideways", "dir"), ("status=bogus", "status"), ("from=2021-13-40", "from"),
    ("to=yesterday", "to"), ("client_id=abc", "client_id"), ("client_id=99999999999999999999", "client_id"),
    ("page=x", "page"), ("per_page=-1", "per_page"), (f"q={'w' * 201}", "q"), (f"q={'a ' * 101}", "q"),
])
@pytest.mark.parametrize("path", ["invoices", "quotes", "credit-notes"])
def test_a_list_refuses_a_bad_filter_naming_it(api, book, path, bad_query, field):
    response = api.get(f"/api/v1/{path}?{bad_query}")
    assert response.status_code in (400, 422), (bad_query, response.text)
    assert field in (field_errors(response) if response.status_code == 422 else response.text), (bad_query, response.text)
