from piccolo.columns import Date, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.audit.tables import audited
from app.clients.tables import Client
from app.db.engine import DB
from app.documents.tables import Document
from app.mail.tables import OutboxMessage


class RecurringProfile(Table, db=DB, tablename="recurring_profile"):
    """An invoice made again on a schedule: its client, currency, lines (as a document's, as JSON:
    the shape app.documents.logic.clean_line reads, placeholders {period}, {month}, {year} in the
    text), notes and terms; the schedule; what each date does (draft, issue, issue_and_send)."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, index=True)
    currency = Varchar(length=3)
    lines_json = Text(default="[]")
    notes = Text(default="")
    terms = Text(default="")
    every = Integer(default=1)
    unit = Varchar(length=10, default="month")            # week | month | quarter | year
    day_of_month = Integer(null=True, default=None)        # 1-31, clamped to the month's end; None: the start's day
    start_date = Date()
    end_date = Date(null=True, default=None)
    period_count = Integer(null=True, default=None)        # how many periods the schedule has, at most ("count")
    action = Varchar(length=20, default="draft")           # draft | issue | issue_and_send
    status = Varchar(length=10, default="active", index=True)  # active | paused
    paused_on = Date(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    created_by = Integer(null=True, default=None)


class RecurringRun(Table, db=DB, tablename="recurring_run"):
    """One period of a profile, done: the document it made (None once a draft made is deleted, or
    for a period skipped while the profile was paused). The unique (profile, period_start) index is
    what makes each period happen exactly once, whatever runs at the same time."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    profile = ForeignKey(references=RecurringProfile, on_delete=OnDelete.restrict)
    period_start = Date()
    period_end = Date()
    # What the period did: draft | issue | issue_and_send (the profile's action then), or skipped (paused).
    outcome = Varchar(length=20, default="draft")
    document = ForeignKey(references=Document, on_delete=OnDelete.set_null, null=True, default=None, index=True)
    problem = Text(default="")          # why an "issue" period was left a draft
    message = ForeignKey(references=OutboxMessage, on_delete=OnDelete.set_null, null=True, default=None)
    send_problem = Text(default="")     # why an issue_and_send period was not queued
    created_at = Timestamptz()


EXTRA_SQL = {
    # Exactly once: a second run, or two processes racing, cannot record the same period twice.
    "recurring_run_once": "CREATE UNIQUE INDEX recurring_run_once ON recurring_run (profile, period_start)",
    # Every change is recorded in the audit trail, in the writing transaction (app.audit; a hand-written
    # migration creates the triggers). A run belongs to its profile's history.
    **audited(RecurringProfile),
    **audited(RecurringRun, parent=("profile", "recurring_profile")),
}
