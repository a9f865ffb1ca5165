"""The database guards the books, whatever writes to it: the ledger is append-only (triggers),
money columns hold only what the rules allow (CHECK constraints), and the functions that move
money without a transaction of their own refuse to run outside the single writer.

The raw writes go through a plain sqlite3 connection, as another tool would: the service
layer, which refuses them all earlier with a clear message, is not in the way.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.clients import service as clients_service
from app.common.logic import Conflict
from app.config import Config
from app.db.engine import DB, require_write_transaction, write_transaction
from app.db.lifecycle import open_database
from app.documents import service as documents_service
from app.integrity.service import run_checks
from app.ledger import service as ledger_service
from app.payments import service as payments_service
from tests.conftest import run

APPEND_ONLY = "ledger entries are append-only"


def line(price: str, quantity: str = "1") -> dict[str, Any]:
    return {"description": "Work", "quantity": quantity, "unit_price": price, "taxes": []}


async def _books() -> dict[str, int]:
    """An invoice partly paid, one paid with an excess kept as credit, one credited in part, a refund,
    credit applied, and a draft."""
    client = await clients_service.create_client({"name": "Guarded Ltd", "currency": "CAD"})

    async def invoice(price: str) -> int:
        draft = await documents_service.create_document("invoice", {"client_id": client.id, "lines": [line(price)]})
        return (await documents_service.issue(draft.id)).id

    partly_paid, overpaid, credited, from_credit = [await invoice(p) for p in ("100.00", "50.00", "80.00", "40.00")]
    payment = await payments_service.record_payment(partly_paid, {"amount": "30.00"})
    await payments_service.record_payment(overpaid, {"amount": "70.00", "keep_excess_as_credit": True})
    note = await documents_service.create_document("credit_note", {"client_id": client.id,
                                                                   "invoice_id": credited, "lines": [line("20.00")]})
    await documents_service.issue(note.id)
    await payments_service.apply_credit(from_credit, {"amount": "10.00"})
    await payments_service.refund(client.id, {"currency": "CAD", "amount": "5.00"})
    draft = await documents_service.create_document("invoice", {"client_id": client.id, "lines": [line("10.00")]})
    return {"client": client.id, "partly_paid": partly_paid, "overpaid": overpaid, "credited": credited,
            "from_credit": from_credit, "payment": payment.id, "draft": draft.id}


@pytest.fixture(scope="module")
def guarded_books(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    config = Config(data_dir=tmp_path_factory.mktemp("guards") / "data")
    previous = DB.path
    try:
        run(open_database(config))
        ids = run(_books())
    finally:
        DB.path = previous
    assert run_checks(config.database_path) == []
    return config.database_path, ids


@pytest.fixture
def books(guarded_books: tuple[Path, dict[str, int]], tmp_path: Path) -> tuple[sqlite3.Connection, dict[str, int]]:
    """A plain sqlite3 connection to a private copy of the books (another tool, not Counterfoil)."""
    database, ids = guarded_books
    connection = sqlite3.connect(tmp_path / "counterfoil.sqlite")
    source = sqlite3.connect(database)
    source.backup(connection)   # the committed books, write-ahead log included
    source.close()
    yield connection, ids
    connection.close()


def refused(connection: sqlite3.Connection, sql: str, *args: Any) -> str:
    """The statement fails and leaves nothing behind; returns SQLite's message."""
    before = connection.total_changes
    with pytest.raises(sqlite3.IntegrityError) as error:
        connection.execute(sql, args)
    assert connection.total_changes == before
    return str(error.value)


# -- the ledger is append-only --------------------------------------------------------------------

def test_a_ledger_entry_cannot_be_changed(books):
    connection, _ = books
    entry = connection.execute("SELECT id, debit_minor FROM ledger_entry WHERE kind = 'invoice' LIMIT 1").fetchone()
    assert APPEND_ONLY in refused(connection, "UPDATE ledger_entry SET debit_minor = 1 WHERE id = ?", entry[0])
    assert APPEND_ONLY in refused(connection, "UPDATE ledger_entry SET description = 'tidied up'")
    assert connection.execute("SELECT debit_minor FROM ledger_entry WHERE id = ?", (entry[0],)).fetchone()[0] == \
        entry[1]


def test_a_ledger_entry_cannot_be_deleted(books):
    connection, _ = books
    count = connection.execute("SELECT COUNT(*) FROM ledger_entry").fetchone()[0]
    assert APPEND_ONLY in refused(connection, "DELETE FROM ledger_entry WHERE kind = 'payment'")
    assert APPEND_ONLY in refused(connection, "DELETE FROM ledger_entry")
    assert connection.execute("SELECT COUNT(*) FROM ledger_entry").fetchone()[0] == count


def test_a_ledger_entry_can_still_be_appended(books):
    connection, ids = books
    connection.execute("INSERT INTO ledger_entry (client, currency, entry_date, kind, debit_minor, at) "
                       "VALUES (?, 'CAD', '2026-01-01', 'invoice', 100, '2026-01-01 00:00:00+00:00')", (ids["client"],))


# -- CHECK constraints: each fires ------------------------------------------------------------------

def test_more_paid_than_the_total_is_refused(books):
    connection, ids = books
    assert "document_paid_and_credited_within_total" in refused(
        connection, "UPDATE document SET paid_minor = total_minor + 1 WHERE id = ?", ids["partly_paid"])
    # Paid and credited together count: the credited invoice cannot be paid in full on top.
    assert "document_paid_and_credited_within_total" in refused(
        connection, "UPDATE document SET paid_minor = total_minor WHERE id = ?", ids["credited"])
    assert "document_paid_and_credited_within_total" in refused(
        connection, "UPDATE document SET credited_minor = total_minor + 1 WHERE id = ?", ids["partly_paid"])
    # Up to the total is what the books allow.
    connection.execute("UPDATE document SET paid_minor = total_minor WHERE id = ?", (ids["partly_paid"],))


def test_an_issued_document_without_a_number_is_refused(books):
    connection, ids = books
    assert "document_issued_has_number" in refused(
        connection, "UPDATE document SET number = NULL WHERE id = ?", ids["partly_paid"])
    assert "document_issued_has_number" in refused(
        connection, "INSERT INTO document (doc_type, status, client, currency, issue_date, created_at, updated_at) "
                    "VALUES ('invoice', 'issued', ?, 'CAD', '2026-01-01', '2026-01-01', '2026-01-01')", ids["client"])
    assert "document_issued_has_number" in refused(
        connection, "UPDATE document SET status = 'sent' WHERE id = ?", ids["draft"])


@pytest.mark.parametrize(("table", "column", "value", "constraint"), [
    ("document", "paid_minor", -1, "document_paid_not_negative"),
    ("document", "credited_minor", -1, "document_credited_not_negative"),
    ("payment", "amount_minor", 0, "payment_amount_positive"),
    ("payment", "applied_minor", -1, "payment_applied_not_negative"),
    ("payment", "excess_minor", -1, "payment_excess_not_negative"),
    ("credit_application", "amount_minor", 0, "credit_application_amount_positive"),
    ("refund", "amount_minor", -500, "refund_amount_positive"),
])
def test_a_negative_amount_is_refused(books, table, column, value, constraint):
    connection, _ = books
    assert f"CHECK constraint failed: {constraint}" in refused(
        connection, f"UPDATE {table} SET {column} = ? WHERE id = (SELECT MIN(id) FROM {table})", value)


def test_an_issued_invoice_below_zero_is_refused_and_a_draft_may_be(books):
    connection, ids = books
    assert "document_issued_total_not_negative" in refused(
        connection, "UPDATE document SET total_minor = -100, subtotal_minor = -100 WHERE doc_type = 'credit_note'")
    # A draft holding a deposit larger than the rest is below zero while it is edited.
    connection.execute("UPDATE document SET total_minor = -100, subtotal_minor = -100 WHERE id = ?", (ids["draft"],))


def test_a_payment_is_its_applied_part_plus_its_excess(books):
    connection, ids = books
    assert "payment_amount_is_applied_plus_excess" in refused(
        connection, "UPDATE payment SET amount_minor = amount_minor + 1 WHERE id = ?", ids["payment"])


@pytest.mark.parametrize("column", ["debit_minor", "credit_minor", "amount_minor"])
def test_a_negative_ledger_amount_is_refused(books, column):
    connection, ids = books
    assert f"ledger_entry_{column.removesuffix('_minor')}_not_negative" in refused(
        connection, f"INSERT INTO ledger_entry (client, currency, entry_date, kind, {column}, at) "
                    "VALUES (?, 'CAD', '2026-01-01', 'invoice', -1, '2026-01-01 00:00:00+00:00')", ids["client"])


# -- money moves only inside the single writer ---------------------------------------------------

@pytest.fixture
def issued(config: Config) -> dict[str, Any]:
    client = run(clients_service.create_client({"name": "Writer Ltd", "currency": "CAD"}))
    draft = run(documents_service.create_document("invoice", {"client_id": client.id, "lines": [line("100.00")]}))
    return run(documents_service.issue(draft.id))


def test_add_paid_outside_the_write_transaction_is_refused(issued):
    with pytest.raises(RuntimeError, match=r"add_paid runs only inside write_transaction\(\)"):
        run(documents_service.add_paid(issued.id, 100))

    async def in_a_transaction_of_its_own():
        async with DB.transaction():   # a transaction, but not the writer's: no lock, no BEGIN IMMEDIATE
            await documents_service.add_paid(issued.id, 100)

    with pytest.raises(RuntimeError, match="add_paid runs only inside write_transaction"):
        run(in_a_transaction_of_its_own())
    assert run(documents_service.get_document(issued.id)).paid == 0


def test_add_paid_inside_the_write_transaction_moves_the_money(issued):
    async def pay():
        async with write_transaction():
            await documents_service.add_paid(issued.id, 100)

    run(pay())
    assert run(documents_service.get_document(issued.id)).paid == Decimal("1.00")


def test_a_ledger_entry_outside_the_write_transaction_is_refused(issued):
    with pytest.raises(RuntimeError, match="a ledger entry runs only inside write_transaction"):
        run(ledger_service.append(client_id=issued.client_id, currency="CAD", entry_date=issued.issue_date,
                                  kind="invoice", debit_minor=100))


def test_issuing_outside_the_write_transaction_is_refused(config):
    client = run(clients_service.create_client({"name": "Issuer Ltd", "currency": "CAD"}))
    draft = run(documents_service.create_document("invoice", {"client_id": client.id, "lines": [line("10.00")]}))
    with pytest.raises(RuntimeError, match="issuing a document runs only inside write_transaction"):
        run(documents_service._issue_in_transaction(draft.id, None))
    assert run(documents_service.get_document(draft.id)).status == "draft"


def test_require_write_transaction_outside_any_transaction():
    with pytest.raises(RuntimeError, match="moving money runs only inside write_transaction"):
        require_write_transaction("moving money")


# -- an invoice below zero -------------------------------------------------------------------------

def test_an_invoice_below_zero_stays_a_draft_and_is_no_break(config):
    """A deducted deposit larger than the work: the draft may say so, issuing it is refused with a
    reason (it used to fail with a 500: the ledger refused a negative debit)."""
    client = run(clients_service.create_client({"name": "Deposit Ltd", "currency": "CAD"}))
    draft = run(documents_service.create_document("invoice", {"client_id": client.id, "lines": [
        line("100.00"), {**line("250.00", quantity="-1"), "description": "Deposit received"}]}))
    assert draft.total == Decimal("-150.00")
    with pytest.raises(Conflict, match="an invoice cannot be below zero"):
        run(documents_service.issue(draft.id))
    assert run(documents_service.get_document(draft.id)).status == "draft"
    assert run_checks(config.database_path) == []
