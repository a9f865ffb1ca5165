"""Reminders against a real SQLite file: levels in order and once each, fees and interest on the ledger
(never on the invoice), paid from money or client credit, cancelled by a reversing entry, and
`counterfoil check` content with all of it."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from app.config import Config
from app.settings.service import TEST_TODAY_ENV
from tests.conftest import run

D = Decimal


@pytest.fixture
def client(config: Config) -> Any:
    from app.clients import service

    return run(service.create_client({"name": "Maple Bakery", "email": "ap@maple.example"}, default_currency="EUR"))


def invoice(client: Any, total: str = "1000.00", *, issued: str = "2026-01-02", terms: int = 30) -> Any:
    """Issued on 2026-01-02 with 30 days to pay: due 2026-02-01."""
    from app.documents import service

    draft = run(service.create_document("invoice", {
        "client_id": client.id, "currency": "EUR", "issue_date": issued, "terms_days": terms, "confirm_date": True,
        "lines": [{"description": "Bread", "quantity": "1", "unit_price": total, "taxes": []}]}))
    return run(service.issue(draft.id, issue_date=date.fromisoformat(issued), backdate=True))   # on purpose


def on(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setenv(TEST_TODAY_ENV, day)


def check(config: Config) -> list[str]:
    from app.integrity.service import run_checks

    return [str(b) for b in run_checks(config.database_path)]


def test_levels_come_in_order_once_each_and_charge_on_the_ledger(config: Config, client: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from app.ledger import service as ledger
    from app.reminders import service

    bill = invoice(client)
    on(monkeypatch, "2026-02-05")
    assert run(service.due_invoices()) == []            # 4 days overdue: level 1 comes after 7
    on(monkeypatch, "2026-02-08")
    due = run(service.due_invoices())
    assert [(d.number, d.level, d.fee, d.interest) for d in due] == [(bill.number, 1, D("0.00"), D("0.00"))]
    first, = run(service.make_reminders({"invoice_ids": [bill.id], "send": False}))
    assert first.number == "REM-2026-0001" and first.level == 1 and first.status == "issued"
    assert run(service.due_invoices()) == []            # the level is applied; level 2 waits its days
    on(monkeypatch, "2026-03-08")                       # 35 days overdue: level 3 is due, but level 2 comes first
    due = run(service.due_invoices())
    assert [d.level for d in due] == [2]
    second, = run(service.make_reminders({"all_due": True, "send": False}))
    assert second.fee == D("5.00") and second.interest == D("0.00")
    on(monkeypatch, "2026-03-22")                       # level 3 two weeks after level 2: fee and 9 % interest
    third, = run(service.make_reminders({"all_due": True, "send": False}))
    # 1000.00 open, 9 % a year, 2026-02-02 to 2026-03-22 = 49 days: 100000 * 0.09 * 49 / 365 = 1208.2 -> 12.08
    assert (third.level, third.fee, third.interest, third.total_due) == (3, D("10.00"), D("12.08"), D("1022.08"))
    assert third.items[0].interest_from == date(2026, 2, 2) and third.items[0].interest_to == date(2026, 3, 22)
    on(monkeypatch, "2026-04-05")
    fourth, = run(service.make_reminders({"all_due": True, "send": False}))
    # Interest only for the days not charged yet: 2026-03-23 to 2026-04-05, 14 days -> 3.45
    assert (fourth.level, fourth.interest) == (4, D("3.45"))
    entries = run(ledger.entries(client.id, "EUR"))
    assert [(e.kind, e.debit) for e in entries if e.kind == "reminder_charge"] == [
        ("reminder_charge", D("5.00")), ("reminder_charge", D("22.08")), ("reminder_charge", D("18.45"))]
    from app.documents import service as documents

    assert run(documents.get_document(bill.id)).total == D("1000.00")     # the invoice never changes
    assert check(config) == []


def test_a_level_is_never_applied_twice(config: Config, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.common.logic import ValidationFailed
    from app.reminders import service

    bill = invoice(client)
    on(monkeypatch, "2026-02-10")
    run(service.make_reminders({"invoice_ids": [bill.id], "send": False}))
    with pytest.raises(ValidationFailed) as refused:
        run(service.make_reminders({"invoice_ids": [bill.id], "send": False}))
    assert refused.value.by_field()["invoice_ids"].endswith("is not due a reminder today")
    connection = sqlite3.connect(config.database_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            connection.execute("INSERT INTO reminder_item (reminder, invoice, level, total_minor, paid_minor, "
                               "open_minor, interest_minor, fee_minor, cancelled) VALUES (1, ?, 1, 0, 0, 0, 0, 0, 0)",
                               (bill.id,))
    finally:
        connection.close()


def test_payment_closing_the_invoice_stops_its_reminders(config: Config, client: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from app.payments import service as payments
    from app.reminders import service

    bill = invoice(client)
    on(monkeypatch, "2026-02-10")
    run(service.make_reminders({"invoice_ids": [bill.id], "send": False}))
    run(payments.record_payment(bill.id, {"amount": "1000.00", "date": "2026-02-10"}))
    on(monkeypatch, "2026-04-10")
    assert run(service.due_invoices()) == []


def test_fee_paid_from_a_payments_excess_and_cancel(config: Config, client: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from app.common.logic import Conflict, ValidationFailed
    from app.ledger import service as ledger
    from app.payments import service as payments
    from app.reminders import service

    bill = invoice(client)
    other = invoice(client, "200.00")
    on(monkeypatch, "2026-02-10")
    run(service.make_reminders({"invoice_ids": [bill.id, other.id], "send": False}))
    on(monkeypatch, "2026-02-24")
    rem, = run(service.make_reminders({"all_due": True, "send": False}))
    assert rem.level == 2 and rem.invoice_ids == [bill.id, other.id] and rem.fee == D("5.00")
    # The client pays the invoice and 5.00 more, kept as credit; the credit settles the fee.
    run(payments.record_payment(bill.id, {"amount": "1005.00", "keep_excess_as_credit": True}))
    assert run(payments.available_credit(client.id, "EUR")) == D("5.00")
    paid = run(service.pay_charges(rem.id, {"from_credit": True}))
    assert paid.charges_paid == D("5.00") and paid.charges_open == D("0.00")
    assert run(payments.available_credit(client.id, "EUR")) == D("0.00")
    with pytest.raises(ValidationFailed):
        run(service.pay_charges(rem.id, {"amount": "1.00"}))
    with pytest.raises(Conflict):
        run(service.cancel_reminder(rem.id, "paid already"))
    balance, = run(ledger.balances([client.id]))[client.id]
    assert balance.amount == D("200.00")       # only the other invoice is owed
    assert check(config) == []


def test_cancel_reverses_the_charges_and_frees_the_level(config: Config, client: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from app.ledger import service as ledger
    from app.reminders import service

    bill = invoice(client)
    on(monkeypatch, "2026-02-10")
    run(service.make_reminders({"invoice_ids": [bill.id], "send": False}))
    on(monkeypatch, "2026-02-24")
    rem, = run(service.make_reminders({"all_due": True, "send": False}))
    cancelled = run(service.cancel_reminder(rem.id, "Sent too early"))
    assert cancelled.status == "cancelled" and cancelled.charges_open == D("0")
    balance, = run(ledger.balances([client.id]))[client.id]
    assert balance.amount == D("1000.00")
    assert [d.level for d in run(service.due_invoices())] == [2]
    again, = run(service.make_reminders({"all_due": True, "send": False}))
    assert again.number == "REM-2026-0003"
    assert check(config) == []


def test_notices_before_and_on_the_due_date_charge_nothing(config: Config, client: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from app.reminders import logic, service

    settings = logic.dunning_as_data(logic.default_dunning())
    run(service.save_dunning({**settings, "notice_days_before_due": 3, "notice_on_due_date": True}))
    bill = invoice(client)
    on(monkeypatch, "2026-01-28")
    assert run(service.due_invoices()) == []
    on(monkeypatch, "2026-01-29")
    notice, = run(service.make_reminders({"all_due": True, "send": False}))
    assert (notice.level, notice.charges, notice.new_due_date) == (-1, D("0.00"), date(2026, 2, 1))
    on(monkeypatch, "2026-02-01")
    on_due, = run(service.make_reminders({"all_due": True, "send": False}))
    assert on_due.level == 0 and on_due.title == "Payment notice"
    assert bill.id in on_due.invoice_ids


def test_no_reminders_client(config: Config, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.common.logic import ValidationFailed
    from app.reminders import service

    bill = invoice(client)
    run(service.set_no_reminders(client.id, True))
    on(monkeypatch, "2026-02-10")
    assert run(service.due_invoices()) == []
    with pytest.raises(ValidationFailed, match="no reminders"):
        run(service.make_reminders({"invoice_ids": [bill.id]}))


def test_two_runs_at_once_make_each_reminder_once(config: Config, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from app.reminders import service

    bills = [invoice(client, "100.00") for _ in range(3)]
    on(monkeypatch, "2026-02-10")

    async def both() -> list[Any]:
        return list(await asyncio.gather(service.make_reminders({"all_due": True, "send": False}),
                                         service.make_reminders({"all_due": True, "send": False})))
    first, second = run(both())
    made = first + second
    assert len(made) == 1 and sorted(made[0].invoice_ids) == sorted(b.id for b in bills)
    assert check(config) == []


def test_the_automatic_run_acts_as_system_and_only_when_turned_on(config: Config, client: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from app.reminders import logic, service

    invoice(client)
    on(monkeypatch, "2026-02-10")
    scheduler = service.Scheduler(config)
    run(scheduler.periodic.check())
    connection = sqlite3.connect(config.database_path)
    try:
        assert connection.execute("SELECT COUNT(*) FROM reminder").fetchone()[0] == 0   # off by default
        run(service.save_dunning({**logic.dunning_as_data(logic.default_dunning()), "auto_send": True}))
        run(scheduler.periodic.check())
        number, status = connection.execute("SELECT number, status FROM reminder").fetchone()
        # No SMTP server is configured: the reminder is made; its message waits in the outbox.
        assert number == "REM-2026-0001" and status == "sent"
        actors = {row[0] for row in connection.execute(
            "SELECT actor FROM audit_entry WHERE entity = 'reminder'").fetchall()}
        assert actors == {"system:reminders"}
        run(scheduler.periodic.check())               # again: nothing more is due
        assert connection.execute("SELECT COUNT(*) FROM reminder").fetchone()[0] == 1
    finally:
        connection.close()
    assert check(config) == []


def test_check_finds_a_fee_off_the_ledger_and_a_level_applied_twice(config: Config, client: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from app.reminders import service
    from tests.conftest import sealed_writes

    bill = invoice(client)
    on(monkeypatch, "2026-02-10")
    first, = run(service.make_reminders({"invoice_ids": [bill.id], "send": False}))
    on(monkeypatch, "2026-02-24")
    second, = run(service.make_reminders({"all_due": True, "send": False}))
    assert check(config) == []
    connection = sqlite3.connect(config.database_path)
    try:
        with sealed_writes(connection):
            # A fee raised after the fact, without its ledger entry.
            connection.execute("UPDATE reminder SET fee_minor = 900 WHERE id = ?", (second.id,))
            # The index dropped and the first level written again (what the unique index otherwise refuses).
            connection.execute("DROP INDEX reminder_item_invoice_level")
            connection.execute("INSERT INTO reminder_item (reminder, invoice, level, total_minor, paid_minor, "
                               "open_minor, interest_minor, fee_minor, cancelled) VALUES (?, ?, 1, 0, 0, 0, 0, 0, 0)",
                               (second.id, bill.id))
        connection.commit()
    finally:
        connection.close()
    problems = "\n".join(check(config))
    assert f"{second.number}: level 1 applied twice to invoice {bill.id} (also {first.number})" in problems
    assert f"{second.number}: 1 reminder_charge ledger entry of 500 minor units, expected 1 of 900" in problems
    assert "ledger balance 1005.00 differs from the documents and payments (1009.00)" in problems


def test_the_due_list_a_page_at_a_time_is_the_whole_list_cut(config: Config, client: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """due_page() reads only the open invoices that may be due and charges only its page: its pages, put end to
    end, are due_invoices() exactly (order, levels, charges), and its count is theirs. A notice window, a level
    already sent, a paid invoice, a client without reminders and invoices not yet due are all in the folder."""
    from app.clients import service as clients
    from app.common.logic import Page
    from app.payments import service as payments
    from app.reminders import logic, service

    settings = logic.dunning_as_data(logic.default_dunning())
    run(service.save_dunning({**settings, "notice_days_before_due": 3}))
    quiet = run(clients.create_client({"name": "Quiet Mill", "email": "q@mill.example"}, default_currency="EUR"))
    run(service.set_no_reminders(quiet.id, True))
    bills = [invoice(client, f"{100 + n}.00", issued=f"2026-01-{n + 1:02d}") for n in range(10)]  # due 01-31 .. 02-09
    invoice(quiet, issued="2026-01-10", terms=20)                # due 01-30: due but for its client's flag
    on(monkeypatch, "2026-02-08")
    reminded = bills[0]
    run(service.make_reminders({"invoice_ids": [reminded.id], "send": False}))
    run(payments.record_payment(bills[1].id, {"amount": "101.00", "date": "2026-02-08", "method": "bank_transfer"}))
    late = invoice(client, issued="2026-02-07", terms=3)        # due 02-10: in the notice window on 02-08 (with bills[9])
    notices = run(service.due_page(Page(1, 50)))
    assert [(d.id, d.level) for d in notices.items] == [(bills[9].id, -1), (late.id, -1)] == [
        (d.id, d.level) for d in run(service.due_invoices())]
    on(monkeypatch, "2026-02-15")              # bills[2..8] are 7 to 13 days overdue, bills[9] and late not yet
    whole = run(service.due_invoices())
    # The paid one, the reminded one (its level 2 waits its days) and the quiet client's are left out.
    assert [(d.id, d.level) for d in whole] == [(b.id, 1) for b in bills[2:9]]
    pages = [run(service.due_page(Page(n, 3))) for n in (1, 2, 3, 4)]
    assert [p.total for p in pages] == [7, 7, 7, 7] and pages[3].items == []
    assert [d for p in pages for d in p.items] == whole
    # The levels read a due date at a time (issue 21) are those each invoice's own view gives, on any day:
    # in the notice window, on a due date, one level or the next, with or without a level already sent.
    from app.receivables import service as receivables

    for day in ("2026-01-28", "2026-01-31", "2026-02-08", "2026-02-10", "2026-02-15", "2026-03-20", "2026-05-01"):
        on(monkeypatch, day)
        as_of, dunning = date.fromisoformat(day), run(service.get_dunning())
        every = [i.id for i in sorted(run(receivables.open_invoices()), key=lambda i: (i.due_date, i.id))
                 if i.due_date is not None]
        assert run(service._due_levels(as_of, dunning)) == [
            (d.id, d.level) for d in run(service._due_views(every, as_of, dunning))], day
