from piccolo.columns import BigInt, Date, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.audit.tables import audited
from app.clients.tables import Client
from app.db.engine import DB
from app.documents.tables import Document


class Payment(Table, db=DB, tablename="payment"):
    """Money received. Never deleted: a wrong payment is reversed by a dated reversal.

    amount = applied (to the invoice) + excess (kept as client credit, when the user says so).
    """

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, index=True)
    invoice = ForeignKey(references=Document, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    currency = Varchar(length=3)
    amount_minor = BigInt()
    applied_minor = BigInt()
    excess_minor = BigInt(default=0)
    payment_date = Date(index=True)
    method = Varchar(length=20)
    reference = Varchar(length=200, default="")
    note = Text(default="")
    status = Varchar(length=10, default="live", index=True)  # live | reversed
    reversal_date = Date(null=True, default=None)
    reversal_reason = Text(default="")
    replaced_by = Integer(null=True, default=None)  # an edit is a reversal plus this new payment
    idempotency_key = Varchar(length=100, null=True, default=None, unique=True)
    created_at = Timestamptz()
    created_by = Integer(null=True, default=None)
    reversed_at = Timestamptz(null=True, default=None)
    # Bank charges kept by the banks on the way (app.fx): part of amount_minor (what the payment
    # settles), never received. Received = amount - fee. The fee is a cost of the business.
    fee_minor = BigInt(default=0)
    # The rate of the payment's day (units of `currency` per base unit), frozen when it was recorded;
    # NULL in the base currency or when no rate was known.
    exchange_rate = Varchar(length=40, null=True, default=None)


class CreditApplication(Table, db=DB, tablename="credit_application"):
    """Client credit put towards an open invoice, when the user chose to."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, index=True)
    invoice = ForeignKey(references=Document, on_delete=OnDelete.restrict, index=True)
    currency = Varchar(length=3)
    amount_minor = BigInt()
    applied_date = Date()
    created_at = Timestamptz()
    created_by = Integer(null=True, default=None)


class Refund(Table, db=DB, tablename="refund"):
    """Client credit paid back to the client."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, index=True)
    currency = Varchar(length=3)
    amount_minor = BigInt()
    refund_date = Date()
    method = Varchar(length=20)
    reference = Varchar(length=200, default="")
    note = Text(default="")
    created_at = Timestamptz()
    created_by = Integer(null=True, default=None)


class PaymentTally(Table, db=DB, tablename="payment_tally"):
    """Running count and money of the payments per (method, state, currency, month of the payment date),
    kept by triggers on `payment` (EXTRA_SQL below) in the writing transaction, whatever writes (the
    service, the import, plain SQL). The payments list's count and per-currency footer over a large set
    (no filter, a method, a state, a long period) add up these few hundred rows instead of 95,000
    payments (issue 21). Derived, not audited: `counterfoil check` recomputes it from the payments."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker
    method = Varchar(length=20)
    status = Varchar(length=10)
    currency = Varchar(length=3)
    month = Varchar(length=7)     # YYYY-MM of the payment date
    n = BigInt(default=0)
    amount_minor = BigInt(default=0)


TALLY_KEY = ("method", "status", "currency", "month")
TALLY_SUMS = ("n", "amount_minor")
TALLIED_COLUMNS = ("method", "status", "currency", "payment_date", "amount_minor")


def _tally_row(row: str, sign: str) -> str:
    """An upsert adding (sign "") or taking away (sign "-") one payment, `row` being new or old."""
    values = [f"{row}.method", f"{row}.status", f"{row}.currency", f"substr({row}.payment_date, 1, 7)",
              f"{sign}1", f"{sign}{row}.amount_minor"]
    return (f"INSERT INTO payment_tally ({', '.join((*TALLY_KEY, *TALLY_SUMS))}) VALUES ({', '.join(values)}) "
            f"ON CONFLICT ({', '.join(TALLY_KEY)}) DO UPDATE SET "
            + ", ".join(f"{c} = {c} + excluded.{c}" for c in TALLY_SUMS) + ";")


TALLY_TRIGGERS = {
    "payment_tally_key": f"CREATE UNIQUE INDEX payment_tally_key ON payment_tally ({', '.join(TALLY_KEY)})",
    "payment_tally_insert": f"CREATE TRIGGER payment_tally_insert AFTER INSERT ON payment BEGIN "
                            f"{_tally_row('new', '')} END",
    "payment_tally_delete": f"CREATE TRIGGER payment_tally_delete AFTER DELETE ON payment BEGIN "
                            f"{_tally_row('old', '-')} END",
    "payment_tally_update": f"CREATE TRIGGER payment_tally_update AFTER UPDATE OF {', '.join(TALLIED_COLUMNS)} "
                            f"ON payment WHEN " + " OR ".join(f"old.{c} IS NOT new.{c}" for c in TALLIED_COLUMNS)
                            + f" BEGIN {_tally_row('old', '-')} {_tally_row('new', '')} END",
}


# Every change is recorded in the audit trail, in the writing transaction (app.audit; a hand-written
# migration creates the triggers); an invoice's payments and applied credit belong to its history.
EXTRA_SQL = {
    # The running sums of PaymentTally: each payment counted once under its key, moved when its key or
    # amount changes (a reversal moves it from live to reversed).
    **TALLY_TRIGGERS,
    **audited(Payment, parent=("invoice", "document")),
    **audited(CreditApplication, parent=("invoice", "document")),
    **audited(Refund, parent=("client", "client")),
}

# The payments list's per-currency sums read this narrow covering index instead of every payment's row
# (issue 21); a hand-written migration creates it, tests/unit/test_migrations.py holds the two in step.
EXTRA_INDEXES = {
    "payment_sums": ("payment", ("currency", "status", "amount_minor")),
    # Issue 21: a page of the list (newest first) walks the index of its filter in date order, reading
    # only ids (each index ends with the id): a state, a method, or both, each with or without a period.
    # The whole list and a period alone walk payment_payment_date.
    "payment_status_date": ("payment", ("status", "payment_date")),
    "payment_method_date": ("payment", ("method", "payment_date")),
    "payment_method_status_date": ("payment", ("method", "status", "payment_date")),
}


# What the database itself refuses (app.db.constraints; added by a hand-written migration, held in
# step with it by tests/unit/test_migrations.py). A reversal keeps the payment's amounts and
# changes its status; nothing here is ever below zero.
CHECKS = {
    "payment": {
        "payment_amount_positive": "amount_minor > 0",
        "payment_applied_not_negative": "applied_minor >= 0",
        "payment_excess_not_negative": "excess_minor >= 0",
        "payment_amount_is_applied_plus_excess": "amount_minor = applied_minor + excess_minor",
    },
    "credit_application": {
        "credit_application_amount_positive": "amount_minor > 0",
    },
    "refund": {
        "refund_amount_positive": "amount_minor > 0",
    },
}
