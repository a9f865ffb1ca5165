from piccolo.columns import BigInt, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.clients.tables import Client
from app.db.engine import DB


class LedgerEntry(Table, db=DB, tablename="ledger_entry"):
    """The client's account, append-only: nothing updates or deletes a row.

    debit: the client owes more (invoice issued, payment reversed, refund paid out);
    credit: the client owes less (payment, credit note). Balance = debits - credits:
    above zero the client owes us, below zero the client is in credit. Allocations
    (client credit applied to an invoice) move nothing and carry zero on both sides.
    """

    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, index=True)
    currency = Varchar(length=3)
    entry_date = Date(index=True)
    kind = Varchar(length=30)
    document_id = Integer(null=True, default=None, index=True)
    payment_id = Integer(null=True, default=None)
    number = Varchar(length=60, default="")
    description = Text(default="")
    debit_minor = BigInt(default=0)
    credit_minor = BigInt(default=0)
    amount_minor = BigInt(default=0)  # for allocations: the amount moved, shown but not summed
    at = Timestamptz()
    actor = Integer(null=True, default=None)


# Created by a hand-written migration (see app/documents/tables.py EXTRA_INDEXES).
EXTRA_INDEXES = {
    "ledger_entry_client_order": ("ledger_entry", ("client", "currency", "entry_date", "id")),
}
