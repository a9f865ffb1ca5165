from piccolo.columns import BigInt, Date, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.audit.tables import audited
from app.clients.tables import Client
from app.db.engine import DB


class LedgerEntry(Table, db=DB, tablename="ledger_entry"):
    """The client's account, append-only: nothing updates or deletes a row.

    debit: the client owes more (invoice issued, payment reversed, refund paid out);
    credit: the client owes less (payment, credit note). Balance = debits - credits:
    above zero the client owes us, below zero the client is in credit. Allocations
    (client credit applied to an invoice) move nothing and carry zero on both sides.
    """

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, index=True)
    currency = Varchar(length=3)
    entry_date = Date(index=True)
    kind = Varchar(length=30)
    document_id = Integer(null=True, default=None, index=True)
    payment_id = Integer(null=True, default=None)
    number = Varchar(length=60, default="")
    description = Text(default="")  # in English, the record; shown worded from kind and refs (logic.line_text)
    refs = Text(default="")  # JSON: the facts the line is worded from; empty for entries written before them
    debit_minor = BigInt(default=0)
    credit_minor = BigInt(default=0)
    amount_minor = BigInt(default=0)  # for allocations: the amount moved, shown but not summed
    at = Timestamptz()
    actor = Integer(null=True, default=None)


# Created by a hand-written migration (see app/documents/tables.py EXTRA_INDEXES).
EXTRA_INDEXES = {
    "ledger_entry_client_order": ("ledger_entry", ("client", "currency", "entry_date", "id")),
}

# The books guard themselves, as django-hordak's do: an entry, once written, is never changed
# or deleted, whatever writes to the file (a correction is a new entry: a reversal, a credit
# note). A restore replaces the whole database and fires no trigger. Added by the same migration.
APPEND_ONLY = ("ledger entries are append-only: a correction is a new entry (a reversal or a credit note), "
               "never a change or a deletion")
EXTRA_SQL = {
    "ledger_entry_no_update": "CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry BEGIN "
                              f"SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
    "ledger_entry_no_delete": "CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_entry BEGIN "
                              f"SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
    # Every entry is recorded in the audit trail too (app.audit; a hand-written migration creates these).
    **audited(LedgerEntry, parent=("document_id", "document")),
}

# Amounts are never below zero: a movement the other way is written on the other side (app.db.constraints).
CHECKS = {
    "ledger_entry": {
        "ledger_entry_debit_not_negative": "debit_minor >= 0",
        "ledger_entry_credit_not_negative": "credit_minor >= 0",
        "ledger_entry_amount_not_negative": "amount_minor >= 0",
    },
}
