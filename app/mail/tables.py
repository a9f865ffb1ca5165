from piccolo.columns import Boolean, Bytea, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.audit.tables import audited
from app.clients.tables import Client
from app.db.engine import DB
from app.documents.tables import Document


class MailSettings(Table, db=DB, tablename="mail_settings"):
    """One row (id 1): how to reach the SMTP server, who the mail is from, the accountant,
    the message templates. The password is write-only: read only to log in to the server."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    smtp_host = Varchar(length=255, default="")
    smtp_port = Integer(default=587)
    smtp_security = Varchar(length=10, default="starttls")  # none | starttls | ssl
    smtp_username = Varchar(length=255, default="")
    smtp_password = Text(default="")
    # Security "none" with a password sends it readable by anyone on the way: only when the user ticked
    # "send my password unencrypted" (app.mail.logic.plain_password_problem).
    smtp_allow_unencrypted_password = Boolean(default=False)
    smtp_from_email = Varchar(length=254, default="")
    smtp_from_name = Varchar(length=200, default="")
    accountant_email = Varchar(length=254, default="")
    # {"invoice": {"subject": "...", "body": "..."}, ...}; a missing or empty one uses the default.
    templates_json = Text(default="{}")
    # The accountant's package by email: "off" or "monthly" (on `accountant_day`, for the month before).
    accountant_schedule = Varchar(length=10, default="off")
    accountant_day = Integer(default=1)
    accountant_last_period = Varchar(length=7, default="")  # "YYYY-MM" of the last package sent on schedule
    updated_at = Timestamptz(null=True, default=None)
    updated_by = Integer(null=True, default=None)


class OutboxMessage(Table, db=DB, tablename="outbox_message"):
    """Every email, written here first and sent by the background task; the record of what was sent."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    kind = Varchar(length=20, index=True)  # invoice | quote | credit_note | statement | accountant | report | test
    status = Varchar(length=10, default="queued", index=True)  # queued | sending | sent | failed | cancelled
    to_addresses = Text()
    cc_addresses = Text(default="")
    subject = Text()
    body = Text(default="")
    message_id = Varchar(length=250)
    document = ForeignKey(references=Document, on_delete=OnDelete.set_null, null=True, default=None, index=True)
    client = ForeignKey(references=Client, on_delete=OnDelete.set_null, null=True, default=None, index=True)
    attempts = Integer(default=0)
    last_error = Text(default="")
    server_reply = Text(default="")
    next_attempt_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    created_by = Integer(null=True, default=None)
    resent_from = Integer(null=True, default=None)


class OutboxAttachment(Table, db=DB, tablename="outbox_attachment"):
    """The exact bytes attached to a message, kept so a retry or a resend sends the same file."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    message = ForeignKey(references=OutboxMessage, on_delete=OnDelete.cascade, index=True)
    position = Integer(default=0)
    filename = Varchar(length=255)
    media_type = Varchar(length=100, default="application/octet-stream")
    size = Integer(default=0)
    content = Bytea()


# Every change is recorded in the audit trail, in the writing transaction (app.audit; a hand-written
# migration creates the triggers). The SMTP password is written as "changed" only; an attachment's
# bytes are not recorded (its name, type and size are).
EXTRA_SQL = {
    **audited(MailSettings),
    **audited(OutboxMessage, parent=("document", "document")),
    **audited(OutboxAttachment, ignored={"content"}, parent=("message", "outbox_message")),
}
