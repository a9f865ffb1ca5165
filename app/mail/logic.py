"""Email, pure: settings checks, the message templates and their placeholders, the retry
schedule, and building the MIME message. No I/O here; app/mail/service.py talks to the
database and the SMTP server."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from app.common.i18n import N_, _
from app.common.logic import EMAIL_RE, FieldError, Form, ValidationFailed, control_problem, line_problem

SECURITY = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
# uncertain: the connection was lost after the whole message went to the server and before its answer;
# the server may have taken it, so it is not tried again until the user says (send again, or mark as sent).
STATUSES = ("queued", "sending", "sent", "failed", "uncertain", "cancelled")
KINDS = ("invoice", "quote", "credit_note", "statement", "accountant", "report", "test", "reminder")
KIND_LABELS = {"invoice": "Invoice", "quote": "Quote", "credit_note": "Credit note", "statement": "Statement",
               "accountant": "Accountant's package", "report": "Report", "test": "Test message",
               "reminder": "Reminder"}
# The kinds whose subject and body the user can change in Settings, Email.
TEMPLATE_KINDS = ("invoice", "quote", "credit_note", "statement", "accountant", "report")
PLACEHOLDERS = ("number", "total", "balance", "due_date", "valid_until", "issue_date", "currency",
                "business_name", "client_name", "contact_name", "document_type", "period")
PLACEHOLDER_HELP = {
    "number": "the document's number", "total": "its total with currency", "balance": "the balance due",
    "due_date": "the due date", "valid_until": "a quote's expiry", "issue_date": "the issue date",
    "currency": "the currency code", "business_name": "your business name", "client_name": "the client's name",
    "contact_name": "the client's contact (or name)", "document_type": "Invoice, Quote, Credit note",
    "period": "a statement's, report's or package's period",
}
DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    "invoice": {
        "subject": "Invoice {number} from {business_name}",
        "body": "Hello {contact_name},\n\nPlease find attached invoice {number} for {total}, due on {due_date}.\n\n"
                "Thank you for your business.\n\n{business_name}",
    },
    "quote": {
        "subject": "Quote {number} from {business_name}",
        "body": "Hello {contact_name},\n\nPlease find attached our quote {number} for {total}, valid until "
                "{valid_until}.\n\nWe look forward to working with you.\n\n{business_name}",
    },
    "credit_note": {
        "subject": "Credit note {number} from {business_name}",
        "body": "Hello {contact_name},\n\nPlease find attached credit note {number} for {total}.\n\n{business_name}",
    },
    "statement": {
        "subject": "Statement of account from {business_name}",
        "body": "Hello {contact_name},\n\nPlease find attached your statement of account for {period}. "
                "The balance is {balance}.\n\n{business_name}",
    },
    "accountant": {
        "subject": "Bookkeeping package {period}, {business_name}",
        "body": "Hello,\n\nAttached is the bookkeeping package of {business_name} for {period}: CSV files, "
                "the PDFs of the invoices and credit notes issued, their e-invoice XML and a summary.\n"
                "README.txt in the ZIP describes every column.\n\n{business_name}",
    },
    "report": {
        "subject": "Revenue report {period}, {business_name}",
        "body": "Hello,\n\nAttached is the revenue report of {business_name} for {period}.\n\n{business_name}",
    },
}
MAX_ATTEMPTS = 100  # transient errors: about three weeks of tries at the 6-hour cap; then "failed", retry by hand
BACKOFF_BASE_S = 60
BACKOFF_CAP_S = 6 * 3600
MAX_RECIPIENTS = 20
_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


# -- settings -------------------------------------------------------------------

SETTINGS_FIELDS = ("smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_password", "smtp_from_email",
                   "smtp_from_name", "accountant_email", "smtp_allow_unencrypted_password")
PLAIN_PASSWORD_REFUSED = (
    "Security \u201cNone\u201d would send your password unencrypted: anyone on the network between you and the "
    "server could read it. Choose STARTTLS or SSL/TLS, or tick \u201cSend my password unencrypted\u201d "
    "(smtp_allow_unencrypted_password) if the server is on this computer or on a network you trust.")


def plain_password_problem(settings: Mapping[str, Any]) -> str | None:
    """Signing in over an unencrypted connection shows the password to the network: refused unless the
    user said so. Checked when the settings are saved and again before every sign-in (settings saved by
    an older version, or restored from a bundle, may hold it)."""
    if (settings.get("smtp_security") == "none" and settings.get("smtp_username") and settings.get("smtp_password")
            and not settings.get("smtp_allow_unencrypted_password")):
        return PLAIN_PASSWORD_REFUSED
    return None


def clean_settings(data: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """Check a partial update of the mail settings; only the given fields come back.

    `smtp_password`: absent keeps the saved one, "" forgets it, any other text replaces it.
    """
    form = Form(data, partial=True)
    form.text("smtp_host", max_length=255, label=_("SMTP server"))
    host = form.values.get("smtp_host")
    if host and (any(ch.isspace() for ch in host) or "/" in host or ":" in host.strip("[]")):
        form.values.pop("smtp_host")
        form.error("smtp_host", _("SMTP server: a host name such as smtp.example.com, without port or scheme"))
    form.choice("smtp_security", SECURITY, default="starttls", label=_("Security"))
    if form.present("smtp_port"):
        form.integer("smtp_port", minimum=1, maximum=65535, label=_("SMTP port"),
                     default=DEFAULT_PORTS[form.values.get("smtp_security") or current.get("smtp_security") or "starttls"])
    form.text("smtp_username", max_length=255, label=_("User name"), one_line=True)
    if form.present("smtp_password"):
        password = data.get("smtp_password")
        password = "" if password is None else str(password)
        if len(password) > 1000:
            form.error("smtp_password", _("Password is too long"))
        else:
            form.values["smtp_password"] = password
    form.email("smtp_from_email", label=_("From address"))
    form.text("smtp_from_name", max_length=200, label=_("From name"), one_line=True)
    form.email("accountant_email", label=_("Accountant's email"))
    form.boolean("smtp_allow_unencrypted_password")
    if not form.errors:
        problem = plain_password_problem({**current, **form.values})
        if problem:
            form.error("smtp_security", problem)
    return form.raise_if_invalid()


def clean_templates(data: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """{kind: {subject, body}} from the form or the API; unknown placeholders are refused."""
    errors: list[FieldError] = []
    out: dict[str, dict[str, str]] = {}
    for kind in TEMPLATE_KINDS:
        entry = data.get(kind)
        if entry is None:
            continue
        if not isinstance(entry, Mapping):
            errors.append(FieldError(f"email_templates.{kind}", _("Give a subject and a body")))
            continue
        cleaned = {}
        for part in entry:
            if part not in ("subject", "body"):
                errors.append(FieldError(f"email_templates.{kind}.{part}",
                                         f"Unknown field {part!r} in the {KIND_LABELS[kind].lower()} template; "
                                         "give a subject and a body"))
        for part in ("subject", "body"):
            text = str(entry.get(part) or "").replace("\r\n", "\n").strip()
            name = f"{kind}_{part}"
            problem = line_problem(text, f"{KIND_LABELS[kind]} subject") if part == "subject" else \
                control_problem(text, f"{KIND_LABELS[kind]} body")
            if problem:
                errors.append(FieldError(name, problem))
                continue
            if len(text) > (300 if part == "subject" else 10000):
                errors.append(FieldError(name, _("%(KIND_LABELS)s %(part)s is too long", KIND_LABELS=KIND_LABELS[kind], part=part)))
                continue
            unknown = [p for p in placeholders_in(text) if p not in PLACEHOLDERS]
            if unknown:
                errors.append(FieldError(name, _("%(KIND_LABELS)s %(part)s: unknown placeholder {%(unknown)s}; use %(join)s", KIND_LABELS=KIND_LABELS[kind], part=part, unknown=unknown[0], join=', '.join(f'{{{p}}}' for p in PLACEHOLDERS))))
                continue
            cleaned[part] = text
        out[kind] = cleaned
    for kind in data:
        if kind not in TEMPLATE_KINDS:
            errors.append(FieldError(f"email_templates.{kind}", f"Unknown template {kind!r}; one of: "
                                                                f"{', '.join(TEMPLATE_KINDS)}"))
    if errors:
        raise ValidationFailed(errors)
    return out


MAX_SUBJECT_LENGTH = 300


def subject_problem(subject: str) -> str | None:
    """Why an email's subject cannot be sent, or None: it is required, one line (a line break or a Unicode
    line separator would start a header of its own), and at most 300 characters. A subject filled from a
    template with a name is checked here too, whatever the name held."""
    if not subject:
        return _("Subject is required")
    problem = line_problem(subject, "Subject")
    if problem:
        return problem
    if len(subject) > MAX_SUBJECT_LENGTH:
        return _("Subject is too long (at most %(MAX_SUBJECT_LENGTH)s characters)", MAX_SUBJECT_LENGTH=MAX_SUBJECT_LENGTH)
    return None


def merged_templates(saved: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The saved templates over the defaults: an empty subject or body means the default."""
    out = {}
    for kind in TEMPLATE_KINDS:
        mine = saved.get(kind) or {}
        out[kind] = {part: (mine.get(part) or DEFAULT_TEMPLATES[kind][part]) for part in ("subject", "body")}
    return out


def is_configured(settings: Mapping[str, Any]) -> str | None:
    """None when mail can be sent, else what is missing (in words)."""
    if not settings.get("smtp_host"):
        return "Email is not set up: enter the SMTP server in Settings, Email"
    if not settings.get("smtp_from_email"):
        return "Email is not set up: enter the From address in Settings, Email"
    return None


# -- templates ------------------------------------------------------------------

def placeholders_in(template: str) -> list[str]:
    return _PLACEHOLDER_RE.findall(template or "")


def fill(template: str, values: Mapping[str, Any]) -> str:
    """Replace {name} with its value; a placeholder without a value stays as typed (so it is seen)."""
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        return match.group(0) if value is None else str(value)
    return _PLACEHOLDER_RE.sub(one, template or "")


# -- addresses ------------------------------------------------------------------

def parse_addresses(text: Any, field_name: str, *, required: bool, label: str) -> list[str]:
    """A comma- or semicolon-separated list of plain addresses; raises naming the field."""
    if isinstance(text, (list, tuple)):
        parts = [str(p) for p in text]
    else:
        parts = re.split(r"[,;\n]", str(text or ""))
    addresses = [p.strip() for p in parts if p and p.strip()]
    if required and not addresses:
        raise ValidationFailed([FieldError(field_name, _("%(label)s: enter at least one email address", label=label))])
    if len(addresses) > MAX_RECIPIENTS:
        raise ValidationFailed([FieldError(field_name, _("%(label)s: at most %(MAX_RECIPIENTS)s addresses", label=label, MAX_RECIPIENTS=MAX_RECIPIENTS))])
    for address in addresses:
        if not EMAIL_RE.match(address) or any(ch in address for ch in "<>\"'()[]\\") or not address.isascii():
            raise ValidationFailed([FieldError(field_name, f"{label}: {address!r} is not a valid email address")])
    return list(dict.fromkeys(addresses))


def join_addresses(addresses: Iterable[str]) -> str:
    return ", ".join(addresses)


def split_addresses(text: str) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


# -- retries --------------------------------------------------------------------

def backoff_seconds(attempts: int) -> int:
    """Wait before the next try after `attempts` failed ones: 1, 2, 4 ... minutes, at most 6 hours."""
    if attempts < 1:
        return 0
    doubling: int = 2 ** min(attempts - 1, 30)  # typeshed types int ** int as Any (a negative power is a float)
    return min(BACKOFF_CAP_S, BACKOFF_BASE_S * doubling)


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt means for the message."""

    status: str                 # sent | queued | failed | uncertain
    error: str = ""
    reply: str = ""
    next_attempt_at: datetime | None = None


def after_attempt(*, attempts: int, now: datetime, error: str = "", reply: str = "", permanent: bool = False,
                  uncertain: bool = False) -> Outcome:
    """`attempts` counts the one just made. A permanent refusal (5xx) or too many tries fails the message.
    An attempt cut after the whole message was handed over and before the server answered (`uncertain`)
    may have delivered it: never tried again by itself, whatever else holds, so no client gets it twice
    unasked."""
    if not error:
        return Outcome("sent", reply=reply)
    if uncertain:
        return Outcome("uncertain", error=error)
    if permanent or attempts >= MAX_ATTEMPTS:
        return Outcome("failed", error=error)
    return Outcome("queued", error=error, next_attempt_at=now + timedelta(seconds=backoff_seconds(attempts)))


def smtp_error_is_permanent(code: int | None) -> bool:
    """5xx answers to the sender, recipients or data are final (a mistyped address); 4xx and network errors are not.
    Authentication refusals (530, 534, 535) are kept for retry: fixing the settings sends them."""
    return code is not None and 500 <= code < 600 and code not in (530, 534, 535)


def smtp_data_payload(message: bytes) -> bytes:
    """What follows the server's 354 to DATA (RFC 5321 4.5.2): lines starting with "." get another one,
    and the end is CRLF "." CRLF. Sending it whole is the moment after which the server may have the message."""
    stuffed = re.sub(rb"(?m)^\.", b"..", message)
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


# -- the MIME message -----------------------------------------------------------

@dataclass(frozen=True)
class Attachment:
    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class Outgoing:
    from_email: str
    from_name: str
    to: Sequence[str]
    cc: Sequence[str]
    subject: str
    body: str
    message_id: str
    date: datetime
    attachments: Sequence[Attachment] = field(default_factory=tuple)

    @property
    def recipients(self) -> list[str]:
        return list(dict.fromkeys([*self.to, *self.cc]))


def new_message_id(from_email: str) -> str:
    domain = from_email.rpartition("@")[2] if "@" in (from_email or "") else "counterfoil.invalid"
    return make_msgid(domain=domain)


def build_message(outgoing: Outgoing) -> EmailMessage:
    """The email as the standard library writes it: text body, attachments, RFC 5322 headers."""
    message = EmailMessage(policy=SMTP)
    if outgoing.from_name:
        message["From"] = Address(display_name=outgoing.from_name, addr_spec=outgoing.from_email)
    else:
        message["From"] = outgoing.from_email
    message["To"] = ", ".join(outgoing.to)
    if outgoing.cc:
        message["Cc"] = ", ".join(outgoing.cc)
    message["Subject"] = outgoing.subject
    message["Date"] = format_datetime(outgoing.date.astimezone(UTC))
    message["Message-ID"] = outgoing.message_id
    message["Reply-To"] = formataddr((outgoing.from_name, outgoing.from_email)) if outgoing.from_name else outgoing.from_email
    message.set_content(outgoing.body or "")
    for item in outgoing.attachments:
        maintype, _, subtype = (item.media_type or "application/octet-stream").partition("/")
        message.add_attachment(item.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=item.filename)
    return message


def safe_filename(name: str, default: str = "attachment") -> str:
    cleaned = re.sub(r"[^\w.\- ]+", "_", name or "", flags=re.UNICODE).strip(" .")
    return cleaned[:150] or default


# How each outbox state reads on a page.
STATUS_LABELS = {"queued": N_("Queued"), "sending": N_("Sending"), "sent": N_("Sent"), "failed": N_("Failed"),
                 "uncertain": N_("May have been sent"), "cancelled": N_("Cancelled")}
