from piccolo.columns import BigInt, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.catalog.tables import Item
from app.clients.tables import Client
from app.db.engine import DB


class Document(Table, db=DB, tablename="document"):
    """A quote, invoice or credit note. Money is integer minor units of `currency`.

    Drafts are recomputed on every save; issuing freezes the lines, the totals, the
    tax breakdown (`taxes_json`) and a snapshot of business and client (`snapshot_json`).
    `paid_minor` and `credited_minor` are kept in the same transaction as the payment
    or credit note that moves them; `counterfoil check` proves they agree.
    """

    doc_type = Varchar(length=20, index=True)  # quote | invoice | credit_note
    number = Varchar(length=60, null=True, default=None, unique=True)
    status = Varchar(length=20, default="draft", index=True)  # stored life; partial/paid/overdue/expired derive
    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, index=True)
    currency = Varchar(length=3)
    issue_date = Date(index=True)
    due_date = Date(null=True, default=None)
    valid_until = Date(null=True, default=None)
    terms_days = Integer(null=True, default=None)
    discount_percent = Varchar(length=20, default="0")
    notes = Text(default="")
    terms = Text(default="")
    footer = Text(default="")
    subtotal_minor = BigInt(default=0)
    tax_total_minor = BigInt(default=0)
    total_minor = BigInt(default=0)
    paid_minor = BigInt(default=0)
    credited_minor = BigInt(default=0)
    taxes_json = Text(default="[]")
    snapshot_json = Text(default="")
    invoice = ForeignKey(references="Document", on_delete=OnDelete.restrict, null=True, default=None)
    source_quote = ForeignKey(references="Document", on_delete=OnDelete.set_null, null=True, default=None)
    converted_invoice = ForeignKey(references="Document", on_delete=OnDelete.set_null, null=True, default=None)
    duplicated_from = ForeignKey(references="Document", on_delete=OnDelete.set_null, null=True, default=None)
    cancel_reason = Text(default="")
    search_text = Text(default="")
    issued_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    created_by = Integer(null=True, default=None)


class DocumentLine(Table, db=DB, tablename="document_line"):
    document = ForeignKey(references=Document, on_delete=OnDelete.cascade, index=True)
    position = Integer()
    item = ForeignKey(references=Item, on_delete=OnDelete.set_null, null=True, default=None)
    description = Text()
    quantity = Varchar(length=40)       # exact decimal text
    unit = Varchar(length=30, default="")
    unit_price = Varchar(length=40)     # exact decimal text, up to 4 places
    discount_percent = Varchar(length=20, default="0")
    tax_codes = Varchar(length=200, default="")
    net_minor = BigInt(default=0)


class NumberSeries(Table, db=DB, tablename="number_series"):
    """The next number of each type and year; advanced only inside the issuing transaction."""

    doc_type = Varchar(length=20)
    year = Integer()
    next_seq = Integer(default=1)
    start_seq = Integer(default=1)  # the first number of the year (users moving from another program)


class DocumentEvent(Table, db=DB, tablename="document_event"):
    """History of a document (created, issued, sent, cancelled...): append-only."""

    document = ForeignKey(references=Document, on_delete=OnDelete.cascade, index=True)
    at = Timestamptz()
    kind = Varchar(length=30)
    detail = Text(default="")
    actor = Integer(null=True, default=None)


# Composite and covering indexes that Piccolo's columns cannot declare; a hand-written
# migration creates them, and tests/unit/test_migrations.py holds the two in step.
EXTRA_INDEXES = {
    "document_type_date": ("document", ("doc_type", "issue_date", "id")),
    "document_type_money": ("document", ("doc_type", "currency", "status", "due_date", "total_minor", "paid_minor",
                                         "credited_minor")),
    "document_type_search": ("document", ("doc_type", "search_text")),
}
