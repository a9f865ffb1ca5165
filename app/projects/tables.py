from piccolo.columns import BigInt, Boolean, Date, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.audit.tables import audited
from app.auth.tables import User
from app.clients.tables import Client
from app.db.engine import DB
from app.documents.tables import Document
from app.expenses.tables import Expense


class Project(Table, db=DB, tablename="project"):
    """Work for one client. Rates and money are exact decimals stored as integers of 1/10,000 in the
    client's currency (the business's default when the client has none); None means "not set"."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker
    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=200)
    code = Varchar(length=20, unique=True)
    status = Varchar(length=10, default="active", index=True)  # active | on_hold | done
    hourly_rate_e4 = BigInt(null=True, default=None)   # None: the client's default, then the business's
    budget_minutes = Integer(null=True, default=None)
    budget_amount_e4 = BigInt(null=True, default=None)
    fixed_price_e4 = BigInt(null=True, default=None)   # set: the project bills this price, not its hours
    rounding_minutes = Integer(default=0)   # 0, 6, 15 or 30: each entry rounded up when billed
    tax_codes = Varchar(length=200, default="")   # taxes on the lines billed (space-separated tax codes)
    notes = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ProjectTask(Table, db=DB, tablename="project_task"):
    id: Serial  # the primary key Piccolo adds; declared for the type checker
    project = ForeignKey(references=Project, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    hourly_rate_e4 = BigInt(null=True, default=None)   # None: the project's rate
    active = Boolean(default=True)


class DefaultRate(Table, db=DB, tablename="default_hourly_rate"):
    """The hourly rate a project without its own falls back to: the client's row, else the business's
    (the row without a client)."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker
    client = ForeignKey(references=Client, on_delete=OnDelete.cascade, null=True, default=None, unique=True)
    hourly_rate_e4 = BigInt()


class TimeEntry(Table, db=DB, tablename="time_entry"):
    """Time someone worked. `minutes` is what was worked, never rounded (rounding happens when billing).
    `billed_document` is the invoice it is on: a draft's deletion frees it (SET NULL), an issued
    invoice freezes it."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, index=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, index=True)
    task = ForeignKey(references=ProjectTask, on_delete=OnDelete.restrict, null=True, default=None)
    description = Text(default="")
    entry_date = Date(index=True)
    started_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    minutes = Integer()
    billable = Boolean(default=True)
    billed_document = ForeignKey(references=Document, on_delete=OnDelete.set_null, null=True, default=None,
                                 index=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class RunningTimer(Table, db=DB, tablename="running_timer"):
    """The one timer of a user, a row on the server: it survives a closed tab, a restart, a second browser."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, unique=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.cascade)
    task = ForeignKey(references=ProjectTask, on_delete=OnDelete.set_null, null=True, default=None)
    description = Text(default="")
    billable = Boolean(default=True)
    started_at = Timestamptz()
    kept_long = Boolean(default=False)   # the user answered "keep" to the forgotten-timer question


class ProjectInvoice(Table, db=DB, tablename="project_invoice"):
    """An invoice made from a project (its hours or its fixed price): what it billed, for the project's
    money billed. Deleting the draft deletes this row."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, index=True)
    document = ForeignKey(references=Document, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=10, default="hours")   # hours | fixed
    minutes = Integer(default=0)
    amount_e4 = BigInt(default=0)   # net billed, before taxes
    created_at = Timestamptz()


class ProjectExpense(Table, db=DB, tablename="project_expense"):
    """An expense spent on a project (at most one project per expense). The link lives here, not as a
    column of `expense`: projects know expenses, expenses know nothing of projects."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker
    project = ForeignKey(references=Project, on_delete=OnDelete.cascade, index=True)
    expense = ForeignKey(references=Expense, on_delete=OnDelete.cascade, unique=True)
    created_at = Timestamptz()


# Every change is recorded in the audit trail, in the writing transaction (app.audit; a hand-written
# migration creates the triggers). Tasks, entries, timers and invoices belong to their project's history.
EXTRA_SQL = {
    **audited(Project),
    **audited(ProjectTask, parent=("project", "project")),
    **audited(DefaultRate),
    **audited(TimeEntry, parent=("project", "project")),
    **audited(RunningTimer, parent=("project", "project")),
    **audited(ProjectInvoice, parent=("project", "project")),
    **audited(ProjectExpense, parent=("project", "project")),
}
