from piccolo.columns import BigInt, Boolean, Date, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.audit.tables import audited
from app.clients.tables import Client
from app.db.engine import DB
from app.documents.tables import Document


class Vendor(Table, db=DB, tablename="vendor"):
    """Who the business buys from. A supplier e-invoice is matched to its vendor by tax number."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    name = Varchar(length=200)
    tax_number = Varchar(length=80, default="", index=True)
    country = Varchar(length=2, default="")
    default_category = Varchar(length=40, default="")
    notes = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ExpenseCategory(Table, db=DB, tablename="expense_category"):
    """The chart of expense categories: a preset per country on first use, then the user's own."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    code = Varchar(length=40, unique=True)
    name = Varchar(length=100)
    # Share of the input tax that may be claimed back (meals: 50 in Canada), a whole percent.
    deductible_percent = Integer(default=100)
    active = Boolean(default=True)
    position = Integer(default=0)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Expense(Table, db=DB, tablename="expense"):
    """Money spent. Money is integer minor units of `currency`; taxes_json holds each input tax:
    code, rate, base, amount and the deductible part (by the expense's deductible percent)."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    status = Varchar(length=10, default="recorded", index=True)  # draft (an imported e-invoice to check) | recorded
    expense_date = Date(index=True)
    vendor = ForeignKey(references=Vendor, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    category = Varchar(length=40)  # the first split's category (the only one when not split)
    description = Text(default="")
    currency = Varchar(length=3)
    net_minor = BigInt()
    tax_total_minor = BigInt(default=0)
    deductible_tax_minor = BigInt(default=0)
    total_minor = BigInt()
    deductible_percent = Integer(default=100)
    taxes_json = Text(default="[]")
    tax_amounts_given = Boolean(default=False)  # the taxes were typed as printed on the receipt
    paid_with = Varchar(length=20, default="bank")  # bank | card | cash | owner | unpaid
    paid_on = Date(null=True, default=None)  # the cash basis counts it on this day; none while unpaid
    reference = Varchar(length=200, default="")
    notes = Text(default="")
    billable = Boolean(default=False)
    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    markup_percent = Varchar(length=20, default="0")
    # The invoice it was put on. Deleting that draft sets this back to NULL: the expense is free again.
    billed_document = ForeignKey(references=Document, on_delete=OnDelete.set_null, null=True, default=None,
                                 index=True)
    source = Varchar(length=20, default="manual")  # manual | einvoice
    source_number = Varchar(length=100, default="")  # the supplier's invoice number (an e-invoice's BT-1)
    import_notes = Text(default="")  # what an import found that does not add up
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ExpenseSplit(Table, db=DB, tablename="expense_split"):
    """How the net of an expense divides across categories (one row when it is not split)."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    expense = ForeignKey(references=Expense, on_delete=OnDelete.cascade, index=True)
    position = Integer()
    category = Varchar(length=40, index=True)
    net_minor = BigInt()


class Receipt(Table, db=DB, tablename="expense_receipt"):
    """A receipt file of an expense, kept under attachments/receipts/ by the sha256 of its bytes."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    expense = ForeignKey(references=Expense, on_delete=OnDelete.cascade, index=True)
    position = Integer()
    sha256 = Varchar(length=64, index=True)
    filename = Varchar(length=200, default="")
    media_type = Varchar(length=60)
    size = BigInt()
    created_at = Timestamptz()


class Books(Table, db=DB, tablename="expense_books"):
    """One row (id 1): the books are closed up to this day; expenses dated on or before it are frozen."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    closed_up_to = Date(null=True, default=None)
    updated_at = Timestamptz()


# Every change is recorded in the audit trail, in the writing transaction (app.audit; a hand-written
# migration creates the triggers). Splits and receipts belong to their expense's history.
EXTRA_SQL = {
    **audited(Vendor),
    **audited(ExpenseCategory),
    **audited(Expense),
    **audited(ExpenseSplit, parent=("expense", "expense")),
    **audited(Receipt, parent=("expense", "expense")),
    **audited(Books),
}

# What the database itself refuses (app.db.constraints; a hand-written migration adds them).
CHECKS = {
    "expense": {
        "expense_net_positive": "net_minor > 0",
        "expense_tax_not_negative": "tax_total_minor >= 0",
        "expense_total_is_net_plus_tax": "total_minor = net_minor + tax_total_minor",
        "expense_deductible_within_tax": "deductible_tax_minor >= 0 AND deductible_tax_minor <= tax_total_minor",
    },
    "expense_split": {
        "expense_split_net_positive": "net_minor > 0",
    },
    "expense_receipt": {
        "expense_receipt_size_positive": "size > 0",
    },
}
