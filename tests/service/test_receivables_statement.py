"""A client's statement through app.receivables against a real SQLite file: its aging is what was open at
the end of the period (issue 11), whatever was paid, reversed, credited or cancelled after it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from app.config import Config
from app.receivables import logic
from tests.conftest import run

D = Decimal
NOTHING = {name: D("0.00") for name in logic.AGING_BUCKETS}


def aged(bucket: str, amount: str) -> dict[str, Decimal]:
    return {**NOTHING, bucket: D(amount)}


@pytest.fixture
def client(config: Config) -> dict[str, Any]:
    from app.clients import service

    return run(service.create_client({"name": "Maple Bakery"}, default_currency="EUR"))


def invoice(client: dict[str, Any], total: str = "100.00", *, issued: str = "2025-01-10") -> dict[str, Any]:
    """Issued on `issued` with 30 days to pay: 2025-01-10 falls due on 2025-02-09."""
    from app.documents import service

    draft = run(service.create_document("invoice", {
        "client_id": client.id, "currency": "EUR", "issue_date": issued, "terms_days": 30, "confirm_date": True,
        "lines": [{"description": "Bread", "quantity": "1", "unit_price": total, "taxes": []}]}))
    return run(service.issue(draft.id, issue_date=date.fromisoformat(issued), backdate=True))


def statement(client: dict[str, Any], date_to: str, date_from: str = "2025-01-01") -> logic.StatementView:
    from app.receivables import service

    return run(service.statement(client.id, date.fromisoformat(date_from), date.fromisoformat(date_to)))


def test_an_invoice_paid_after_the_end_of_the_period_is_aged_as_open(client):
    from app.payments import service as payments

    sold = invoice(client)
    run(payments.record_payment(sold.id, {"amount": "100.00", "date": "2025-04-15"}))
    march = statement(client, "2025-03-31")
    # 2025-03-31 is 50 days after the due date; the payment of 2025-04-15 must not reduce it.
    assert march.statement.aging == aged("31-60", "100.00")
    assert march.statement.closing == D("100.00")
    assert march.statement_date == date(2025, 3, 31)
    april = statement(client, "2025-04-30", "2025-04-01")
    assert april.statement.aging == NOTHING and april.statement.closing == D("0.00")


def test_a_part_payment_before_the_end_counts_and_one_after_it_does_not(client):
    from app.payments import service as payments

    sold = invoice(client)
    run(payments.record_payment(sold.id, {"amount": "30.00", "date": "2025-02-01"}))
    run(payments.record_payment(sold.id, {"amount": "70.00", "date": "2025-05-02"}))
    assert statement(client, "2025-02-28").statement.aging == aged("1-30", "70.00")


def test_a_payment_reversed_after_the_end_still_counted_then(client):
    from app.payments import service as payments

    sold = invoice(client)
    paid = run(payments.record_payment(sold.id, {"amount": "100.00", "date": "2025-02-01"}))
    run(payments.reverse_payment(paid.id, "bounced", reversal_date="2025-04-10"))
    assert statement(client, "2025-03-31").statement.aging == NOTHING
    assert statement(client, "2025-04-30").statement.aging == aged("61-90", "100.00")


def test_a_credit_note_or_a_cancellation_after_the_end_does_not_reduce_it(client):
    from app.documents import service as documents

    credited = invoice(client, "80.00")
    note = run(documents.create_document("credit_note", {
        "client_id": client.id, "currency": "EUR", "invoice_id": credited.id, "issue_date": "2025-06-01",
        "confirm_date": True,
        "lines": [{"description": "Stale bread", "quantity": "1", "unit_price": "80.00", "taxes": []}]}))
    run(documents.issue(note.id, issue_date=date(2025, 6, 1), backdate=True))
    cancelled = invoice(client, "20.00", issued="2025-03-20")
    run(documents.cancel(cancelled.id, "sent twice"))   # cancelled today, long after 2025-03-31
    march = statement(client, "2025-03-31")
    assert march.statement.aging == {**NOTHING, "current": D("20.00"), "31-60": D("80.00")}
    assert march.statement.closing == D("100.00")
    # Today both are settled: the statement to today ages nothing, as the open invoices say.
    from app.receivables import service

    assert run(service.open_invoices(client.id)) == []
    assert run(service.statement(client.id, date(2025, 1, 1))).statement.aging == NOTHING


def test_an_invoice_issued_after_the_end_is_not_aged(client):
    invoice(client, "40.00", issued="2025-04-02")
    assert statement(client, "2025-03-31").statement.aging == NOTHING
