"""Build a backup as a user of an older Counterfoil holds one: real books, every kind of money movement.

    PYTHONPATH=. .venv/bin/python -m tests.vectors.backup.make_before_squash

The committed `before-squash.counterfoil` was made by this script on commit 91e93ec, the
last one whose database carried the migrations as they were before they were squashed to
one per app (and before the database guarded the books with triggers and CHECK
constraints). It is the witness that such a backup still imports: do not rebuild it with a
newer program, it would stop being one. `before-squash.json` holds what the test compares
after the restore (computed here from the database that went into the bundle).

Besides a small demo business, one client carries the edge cases the guards must accept:
an overpayment kept as client credit, credit applied and refunded, a reversed payment, an
invoice fully credited, a credit note on account, a cancelled invoice, and drafts whose
total is below zero (a deposit deducted), which an editor may hold.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BUNDLE = HERE / "before-squash.counterfoil"
FACTS = HERE / "before-squash.json"
PASSPHRASE = "correct horse battery staple"
EDGE_CLIENT = "Edge Cases Ltd"


def line(description: str, price: str, quantity: str = "1") -> dict[str, Any]:
    return {"description": description, "quantity": quantity, "unit_price": price, "taxes": []}


async def edge_cases() -> None:
    from app.clients import service as clients
    from app.documents import service as documents
    from app.payments import service as payments

    client = await clients.create_client({"name": EDGE_CLIENT, "currency": "CAD"})

    async def invoice(price: str) -> dict[str, Any]:
        draft = await documents.create_document("invoice", {"client_id": client["id"], "lines": [line("Work", price)]})
        return await documents.issue(draft["id"])

    overpaid = await invoice("100.00")
    await payments.record_payment(overpaid["id"], {"amount": "130.00", "keep_excess_as_credit": True})
    partly_from_credit = await invoice("50.00")
    await payments.apply_credit(partly_from_credit["id"], {"amount": "20.00"})
    await payments.refund(client["id"], {"currency": "CAD", "amount": "5.00"})
    reversed_ = await invoice("80.00")
    payment = await payments.record_payment(reversed_["id"], {"amount": "80.00"})
    await payments.reverse_payment(payment["id"], "bounced")
    credited = await invoice("60.00")
    credit_note = await documents.credit_invoice(credited["id"])
    await documents.issue(credit_note["id"])
    on_account = await documents.create_document("credit_note", {"client_id": client["id"],
                                                                 "lines": [line("Goodwill", "15.00")]})
    await documents.issue(on_account["id"])
    cancelled = await invoice("40.00")
    await documents.cancel(cancelled["id"], "Issued twice")
    await documents.create_document("invoice", {"client_id": client["id"], "lines": [
        line("Work", "100.00"), line("Deposit received", "250.00", quantity="-1")]})
    await documents.create_document("credit_note", {"client_id": client["id"], "lines": [
        line("Deposit refunded", "30.00", quantity="-1")]})


def facts_of(database: Path) -> dict[str, Any]:
    """What a restore must bring back, read from the database itself."""
    connection = sqlite3.connect(database)
    try:
        balances = connection.execute(
            "SELECT client.name, ledger_entry.currency, SUM(debit_minor) - SUM(credit_minor) FROM ledger_entry "
            "JOIN client ON client.id = ledger_entry.client GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
        documents = connection.execute(
            "SELECT doc_type, status, number, total_minor, paid_minor, credited_minor FROM document "
            "WHERE client = (SELECT id FROM client WHERE name = ?) ORDER BY id", (EDGE_CLIENT,)).fetchall()
        migrations = connection.execute("SELECT app_name, name FROM migration ORDER BY app_name, name").fetchall()
        return {"ledger_balances": [list(row) for row in balances],
                "edge_client_documents": [list(row) for row in documents],
                "migrations": [list(row) for row in migrations]}
    finally:
        connection.close()


async def build_books(config: Any) -> None:
    from app import demo
    from app.db.lifecycle import open_database

    await open_database(config)
    await demo.fill(config, clients=10, invoices=24)
    await edge_cases()


def main() -> None:
    from app.backup.service import export_bundle
    from app.config import Config

    with tempfile.TemporaryDirectory() as folder:
        config = Config(data_dir=Path(folder) / "data")
        asyncio.run(build_books(config))
        facts = facts_of(config.database_path)
        result = export_bundle(config, BUNDLE, PASSPHRASE, overwrite=True)
    lines = [f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}" for key, value in
             {"passphrase": PASSPHRASE, "made_by_commit": "91e93ec", **facts}.items()]
    FACTS.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    print(f"{BUNDLE}: {result.size} bytes; {FACTS}")


if __name__ == "__main__":
    main()
