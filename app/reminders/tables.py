from piccolo.columns import BigInt, Boolean, Date, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.audit.tables import audited
from app.clients.tables import Client
from app.db.engine import DB
from app.documents.tables import Document


class DunningSettings(Table, db=DB, tablename="dunning_settings"):
    """One row (id 1): what runs the reminders beside the levels (app.reminders.logic.DEFAULT_SETTINGS)."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    auto_send = Boolean(default=False)
    # A friendly notice this many days before the due date (None: none), and one on the due date itself.
    notice_days_before_due = Integer(null=True, default=None)
    notice_on_due_date = Boolean(default=False)
    # {"en": {"subject": ..., "body": ...}, ...}: the notices' text; a missing language uses English.
    notice_texts_json = Text(default="{}")
    pay_within_days = Integer(default=10)   # a reminder's new due date: its date plus this
    day_count = Varchar(length=12, default="actual/365")   # how interest counts days: actual/365 | actual/360
    updated_at = Timestamptz(null=True, default=None)
    updated_by = Integer(null=True, default=None)


class DunningLevel(Table, db=DB, tablename="dunning_level"):
    """One level of reminders (1 to 4): when it is due, what it says and what it charges."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    level = Integer(unique=True)
    days_after_due = Integer()
    title = Varchar(length=100)
    texts_json = Text(default="{}")        # {"en": {"subject", "body"}, "fr": ..., "de": ...}
    fee_flat = Varchar(length=20, default="0")        # exact decimal text, in the invoice's currency
    fee_percent = Varchar(length=20, default="0")     # of the open amount
    interest_rate = Varchar(length=20, default="0")   # annual, percent, on the open amount


class ReminderSeries(Table, db=DB, tablename="reminder_series"):
    """The next reminder number of each year (REM-{year}-{seq:04}); advanced only inside the making transaction."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    year = Integer(unique=True)
    next_seq = Integer(default=1)


class Reminder(Table, db=DB, tablename="reminder"):
    """A reminder (or a friendly notice) to one client about one or more open invoices in one currency.

    Its fee and interest (`charges_minor`) are one debit on the client's ledger, never a change of the
    invoices; `charges_paid_minor` is what was paid of them. Cancelling writes the reversing entry.
    level: -1 a notice before the due date, 0 a notice on the due date, 1 to 4 the dunning levels.
    """

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    number = Varchar(length=30, unique=True)
    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, index=True)
    currency = Varchar(length=3)
    level = Integer()
    title = Varchar(length=100)
    issue_date = Date(index=True)
    new_due_date = Date()
    language = Varchar(length=5, default="en")
    subject = Text(default="")
    body = Text(default="")
    open_minor = BigInt(default=0)       # what was open on the invoices when it was made
    fee_minor = BigInt(default=0)
    interest_minor = BigInt(default=0)
    charges_paid_minor = BigInt(default=0)
    status = Varchar(length=10, default="issued", index=True)   # issued | sent | cancelled
    sent_to = Varchar(length=500, default="")
    message_id = Integer(null=True, default=None)   # the outbox message that carries it
    cancel_reason = Text(default="")
    cancelled_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    created_by = Integer(null=True, default=None)


class ReminderItem(Table, db=DB, tablename="reminder_item"):
    """One invoice of a reminder: what was open and paid on it then, and the interest charged on it.

    A live item claims its (invoice, level): a unique index refuses the level a second time;
    a cancelled reminder's items give their claim up."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    reminder = ForeignKey(references=Reminder, on_delete=OnDelete.restrict, index=True)
    invoice = ForeignKey(references=Document, on_delete=OnDelete.restrict, index=True)
    level = Integer()
    total_minor = BigInt(default=0)
    paid_minor = BigInt(default=0)     # paid and credited by then
    open_minor = BigInt(default=0)
    interest_from = Date(null=True, default=None)   # the days interest was charged for: from, to (inclusive of to)
    interest_to = Date(null=True, default=None)
    interest_minor = BigInt(default=0)
    fee_minor = BigInt(default=0)      # its part of the percentage fee
    cancelled = Boolean(default=False)


class ReminderPayment(Table, db=DB, tablename="reminder_payment"):
    """Money towards a reminder's fee and interest: received (a ledger credit) or the client's credit used."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    reminder = ForeignKey(references=Reminder, on_delete=OnDelete.restrict, index=True)
    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, index=True)
    currency = Varchar(length=3)
    amount_minor = BigInt()
    payment_date = Date()
    source = Varchar(length=10)     # money | credit
    method = Varchar(length=20, default="")
    reference = Varchar(length=200, default="")
    created_at = Timestamptz()
    created_by = Integer(null=True, default=None)


class ClientDunning(Table, db=DB, tablename="client_dunning"):
    """A client marked "no reminders" (its own table, so the busy client table keeps its columns)."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    client = ForeignKey(references=Client, on_delete=OnDelete.cascade, unique=True)
    no_reminders = Boolean(default=False)
    updated_at = Timestamptz()


# A level is applied to an invoice once: the live items' (invoice, level) is unique. Created by a
# hand-written migration; tests/unit/test_migrations.py holds the two in step.
UNIQUE_LEVEL = ("CREATE UNIQUE INDEX reminder_item_invoice_level ON reminder_item (invoice, level) "
                "WHERE cancelled = 0")
EXTRA_SQL = {
    "reminder_item_invoice_level": UNIQUE_LEVEL,
    # Every change is recorded in the audit trail (app.audit; a hand-written migration creates these).
    **audited(DunningSettings),
    **audited(DunningLevel),
    **audited(ReminderSeries),
    **audited(Reminder, parent=("client", "client")),
    **audited(ReminderItem, parent=("invoice", "document")),
    **audited(ReminderPayment, parent=("reminder", "reminder")),
    **audited(ClientDunning, parent=("client", "client")),
}

CHECKS = {
    "reminder": {
        "reminder_fee_not_negative": "fee_minor >= 0",
        "reminder_interest_not_negative": "interest_minor >= 0",
        "reminder_paid_within_charges": "charges_paid_minor >= 0 AND charges_paid_minor <= fee_minor + interest_minor",
    },
    "reminder_payment": {
        "reminder_payment_amount_positive": "amount_minor > 0",
    },
    "dunning_level": {
        "dunning_level_level_1_to_4": "level BETWEEN 1 AND 4",
        "dunning_level_days_not_negative": "days_after_due >= 0",
    },
}
