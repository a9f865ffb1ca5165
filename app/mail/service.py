"""Email: the settings, the outbox, and the background task that delivers it.

Nothing is sent while a request waits. `queue_message` writes the message with its
attachments' bytes to the outbox (status "queued") in one transaction and wakes the
`Worker`, a task the web server starts with the app (`Worker.start`). The worker looks
at the outbox at start (after a short pause), when woken, and when the next retry is due.

One attempt (`deliver_one`) runs in three steps, so the single writer is never held
while the network is slow: a transaction marks the message "sending"; SMTP runs in a
worker thread (smtplib), outside any transaction; a second transaction writes the
outcome (logic.after_attempt), and for a document its history (and an issued invoice
becomes sent). The outcome is "sent" with the server's answer, "failed" on a permanent
refusal (5xx) or after MAX_ATTEMPTS, or "queued" again with the error, the attempts and
an exponential backoff (1 minute, doubling, at most 6 hours). A conversation cut after the
whole message reached the server and before its answer ends "uncertain" ("may have been
sent"): it waits for the user to send it again (`retry` or `resend`, the same message and
Message-ID) or to mark it as sent (`mark_sent`). At start, a message left
"sending" by a crash is queued again and every queued message is due at once
(`recover_at_start`); new mail settings make every queued message due at once too.

The SMTP password is write-only: `get_mail_settings()` never returns it; only
`_smtp_config()` reads it, to log in. It is never logged and never put in an error.
"""

from __future__ import annotations

import asyncio
import json
import logging
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar

from app.audit import service as audit_service
from app.background import stop_task
from app.clients import service as clients_service
from app.clients.records import ClientView
from app.common.i18n import _
from app.common.logic import (
    Conflict,
    FieldError,
    NotFound,
    Page,
    PageOf,
    ValidationFailed,
    control_problem,
    optional_day,
)
from app.db.columns import column_values
from app.db.engine import write_transaction
from app.documents import logic as documents_logic
from app.documents import service as documents_service
from app.documents.records import DocumentView
from app.mail import logic
from app.mail.logic import Attachment
from app.mail.tables import MailSettings, OutboxAttachment, OutboxMessage
from app.receivables import service as receivables_service
from app.render import logic as render_logic
from app.render import service as render_service
from app.settings import service as settings_service

log = logging.getLogger("counterfoil.mail")
SETTINGS_ID = 1
SMTP_TIMEOUT_S = 20
# The worker's first look at the outbox after start, then whenever woken or a retry is due.
FIRST_RUN_DELAY_S = 2.0
IDLE_CHECK_S = 300.0
# Tests switch the automatic worker off and call deliver_due() themselves.
WORKER_AUTOSTART = True
DOCUMENT_KINDS = {documents_logic.INVOICE: "invoice", documents_logic.QUOTE: "quote",
                  documents_logic.CREDIT_NOTE: "credit_note"}


def _now() -> datetime:
    return datetime.now(UTC)


class _Redact(logging.Filter):
    """Database drivers log every statement with its values at DEBUG (aiosqlite does); the SMTP
    password is one of those values when it is saved. Any record carrying it is rewritten."""

    secrets: ClassVar[set[str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            try:
                message = record.getMessage()
            except Exception:
                return True
            if any(secret in message for secret in self.secrets):
                for secret in self.secrets:
                    message = message.replace(secret, "[redacted]")
                record.msg, record.args = message, ()
        return True


_REDACT = _Redact()
for _name in ("aiosqlite", "piccolo", "counterfoil", "litestar"):
    logging.getLogger(_name).addFilter(_REDACT)


def _remember_secret(value: str | None) -> None:
    if value and len(value) >= 4:
        _Redact.secrets.add(value)


# -- settings -----------------------------------------------------------------------

async def _row() -> dict[str, Any]:
    row = await MailSettings.select().where(MailSettings.id == SETTINGS_ID).first()
    if row is None:
        async with write_transaction():
            row = await MailSettings.select().where(MailSettings.id == SETTINGS_ID).first()
            if row is None:
                await MailSettings.insert(MailSettings(id=SETTINGS_ID, updated_at=_now()))
                row = await MailSettings.select().where(MailSettings.id == SETTINGS_ID).first()
    assert row is not None, "the mail settings row was read or inserted above"
    _remember_secret(row.get("smtp_password"))
    return row


def _public(row: Mapping[str, Any], business_language: str) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "smtp_password"}
    out["smtp_password_set"] = bool(row.get("smtp_password"))
    saved = logic.saved_by_language(json.loads(row.get("templates_json") or "{}"), business_language)
    out["saved_templates"] = saved
    merged = logic.merged_templates(saved)
    out["email_templates_by_language"] = merged
    # The API's `email_templates` (before messages had a language) is the English set.
    out["email_templates"] = merged["en"]
    out["business_language"] = business_language
    out["configured_problem"] = logic.is_configured(row)
    return out


async def _business_language() -> str:
    return render_logic.language_of(None, (await settings_service.get_settings()).get("default_locale"))


async def get_mail_settings() -> dict[str, Any]:
    """The mail settings without the password (`smtp_password_set` says whether one is saved);
    `email_templates_by_language` holds every template in every language, defaults filled in."""
    return _public(await _row(), await _business_language())


async def update_mail_settings(data: Mapping[str, Any], *, actor_id: int | None = None) -> dict[str, Any]:
    """Save the given fields (a partial update), all or nothing; `email_templates` may come too.

    Queued messages become due at once: new settings are worth a new try."""
    current = await _row()
    values = logic.clean_settings({k: v for k, v in data.items() if k in logic.SETTINGS_FIELDS}, current)
    _remember_secret(values.get("smtp_password"))
    changed: dict[str, dict[str, dict[str, str]]] = {}
    if "email_templates" in data and data["email_templates"] is not None:
        templates = data["email_templates"]
        if not isinstance(templates, Mapping):
            raise ValidationFailed([FieldError("email_templates", "Give {kind: {subject, body}}")])
        changed["en"] = logic.clean_templates(templates)
    if "email_templates_by_language" in data and data["email_templates_by_language"] is not None:
        by_language = data["email_templates_by_language"]
        if not isinstance(by_language, Mapping):
            raise ValidationFailed([FieldError("email_templates_by_language",
                                               "Give {language: {kind: {subject, body}}}")])
        for language, templates in logic.clean_templates_by_language(by_language).items():
            changed.setdefault(language, {}).update(templates)
    if changed:
        saved = logic.saved_by_language(json.loads(current.get("templates_json") or "{}"),
                                        await _business_language())
        for language, templates in changed.items():
            saved.setdefault(language, {}).update(templates)
        values["templates_json"] = json.dumps(saved, ensure_ascii=False, sort_keys=True)
    for name in ("accountant_schedule", "accountant_day"):
        if name in data:
            values.update(logic_schedule({name: data[name]}))
    async with write_transaction():
        values["updated_at"] = _now()
        values["updated_by"] = actor_id
        await MailSettings.update(column_values(values)).where(MailSettings.id == SETTINGS_ID)
        await OutboxMessage.update({OutboxMessage.next_attempt_at: _now()}).where(OutboxMessage.status == "queued")
    wake()
    return await get_mail_settings()


def logic_schedule(data: Mapping[str, Any]) -> dict[str, Any]:
    errors = []
    out: dict[str, Any] = {}
    if "accountant_schedule" in data:
        value = str(data["accountant_schedule"] or "off").strip()
        if value not in ("off", "monthly"):
            errors.append(FieldError("accountant_schedule", _("Schedule must be off or monthly")))
        else:
            out["accountant_schedule"] = value
    if "accountant_day" in data:
        try:
            day = int(str(data["accountant_day"]).strip())
            if not 1 <= day <= 28:
                raise ValueError
            out["accountant_day"] = day
        except ValueError:
            errors.append(FieldError("accountant_day", _("Day of the month must be a whole number from 1 to 28")))
    if errors:
        raise ValidationFailed(errors)
    return out


async def set_accountant_last_period(period: str) -> None:
    async with write_transaction():
        await MailSettings.update({MailSettings.accountant_last_period: period}).where(MailSettings.id == SETTINGS_ID)


# -- SMTP (runs in a worker thread) ------------------------------------------------------

@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str
    username: str
    password: str = field(repr=False)
    timeout: float = SMTP_TIMEOUT_S
    allow_unencrypted_password: bool = False


class SmtpFailure(Exception):
    """One failed attempt: the server's answer (or the network's), and whether trying again can help.
    `uncertain`: the whole message had gone to the server when the conversation was cut, so it may
    have been delivered."""

    def __init__(self, message: str, *, code: int | None = None, permanent: bool = False, uncertain: bool = False):
        super().__init__(message)
        self.message, self.code, self.permanent, self.uncertain = message, code, permanent, uncertain


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _answer(code: int, message: Any) -> str:
    return f"{code} {_text(message)}".strip()


def _failure(error: BaseException, cfg: SmtpConfig, step: str) -> SmtpFailure:
    """Words for what went wrong, without the password (never part of any of these)."""
    where = f"{cfg.host}:{cfg.port}"
    if isinstance(error, SmtpFailure):
        return error
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        parts = [f"{address}: {_answer(code, message)}" for address, (code, message) in error.recipients.items()]
        codes = [code for code, _ in error.recipients.values()]
        return SmtpFailure("The server refused every recipient: " + "; ".join(parts), code=codes[0] if codes else None,
                           permanent=all(logic.smtp_error_is_permanent(c) for c in codes))
    if isinstance(error, smtplib.SMTPResponseException):
        answer = _answer(error.smtp_code, error.smtp_error)
        return SmtpFailure(f"{step}: the server answered {answer}", code=error.smtp_code,
                           permanent=logic.smtp_error_is_permanent(error.smtp_code) and step != "Sign-in")
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return SmtpFailure(f"{step}: the server at {where} does not support it ({error})")
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return SmtpFailure(f"{step}: the server at {where} closed the connection ({error or 'no answer'})")
    if isinstance(error, ssl.SSLError):
        return SmtpFailure(f"{step}: TLS with {where} failed: {error.reason or error}")
    if isinstance(error, socket.gaierror):
        return SmtpFailure(f"Cannot find the server {cfg.host}: {error.strerror or error} (offline?)")
    if isinstance(error, (socket.timeout, TimeoutError)):
        return SmtpFailure(f"{step}: no answer from {where} within {int(cfg.timeout)} s")
    if isinstance(error, ConnectionRefusedError):
        return SmtpFailure(f"Cannot connect to {where}: connection refused (is the server down, or the port wrong?)")
    if isinstance(error, OSError):
        return SmtpFailure(f"Cannot reach {where}: {error.strerror or error}")
    return SmtpFailure(f"{step}: {type(error).__name__}: {error}")


UNANSWERED_DATA = "Answer to the message"


class _Session:
    """One SMTP conversation that keeps every answer of the server (for the test message)."""

    def __init__(self, cfg: SmtpConfig):
        self.cfg = cfg
        self.transcript: list[str] = []
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> _Session:
        cfg = self.cfg
        step = "Connect"
        refused = logic.plain_password_problem({"smtp_security": cfg.security, "smtp_username": cfg.username,
                                                "smtp_password": cfg.password,
                                                "smtp_allow_unencrypted_password": cfg.allow_unencrypted_password})
        if refused:   # before connecting: the password never leaves unencrypted unless the user said so
            raise SmtpFailure(refused)
        try:
            if cfg.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(timeout=cfg.timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(timeout=cfg.timeout)
            self.smtp = smtp
            code, banner = smtp.connect(cfg.host, cfg.port)
            self.transcript.append(f"Connected to {cfg.host}:{cfg.port}: {_answer(code, banner)}")
            if code != 220:
                raise smtplib.SMTPConnectError(code, banner)
            step = "Greeting (EHLO)"
            code, message = smtp.ehlo()
            self.transcript.append(f"EHLO: {code} {_text(message).splitlines()[0] if message else ''}".strip())
            if cfg.security == "starttls":
                step = "STARTTLS"
                code, message = smtp.starttls(context=ssl.create_default_context())
                self.transcript.append(f"STARTTLS: {_answer(code, message)}")
                smtp.ehlo()
            if cfg.username:
                step = "Sign-in"
                code, message = smtp.login(cfg.username, cfg.password)
                self.transcript.append(f"Sign-in as {cfg.username}: {_answer(code, message)}")
        except BaseException as error:
            self.close()
            raise _failure(error, cfg, step) from None
        return self

    def send(self, message: EmailMessage, from_address: str, recipients: Sequence[str]) -> str:
        """MAIL, RCPT, DATA; returns the server's answer to the data (e.g. "250 2.0.0 Ok: queued as 4F2A")."""
        assert self.smtp is not None
        smtp, cfg = self.smtp, self.cfg
        step = "Sender (MAIL FROM)"
        try:
            code, answer = smtp.mail(from_address)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, answer, from_address)
            step = "Recipients (RCPT TO)"
            refused = {}
            for recipient in recipients:
                code, answer = smtp.rcpt(recipient)
                if code not in (250, 251):
                    refused[recipient] = (code, answer)
            if len(refused) == len(recipients):
                smtp.rset()
                raise smtplib.SMTPRecipientsRefused(refused)
            step = "Message (DATA)"
            # smtplib's data() in its three steps, to know which one a lost connection cut: before the
            # final "." is sent the server has no message (safe to try again); after it, it may have one.
            code, answer = smtp.docmd("DATA")
            if code != 354:
                raise smtplib.SMTPDataError(code, answer)
            smtp.send(logic.smtp_data_payload(message.as_bytes()))
            step = UNANSWERED_DATA
            code, answer = smtp.getreply()
            if code != 250:
                raise smtplib.SMTPDataError(code, answer)
        except BaseException as error:
            failure = _failure(error, cfg, step)
            if step == UNANSWERED_DATA and (failure.code is None or failure.code < 200):
                # Not an answer (a 4xx or 5xx is final either way) but silence, a dropped line or a garbled
                # reply after the whole message went out: the server may have taken it.
                failure = SmtpFailure(
                    f"{failure.message}. The whole message had reached the server, which may have sent it on: "
                    "it is not sent again unless you say so.", uncertain=True)
            raise failure from None
        reply = _answer(code, answer)
        if refused:
            reply += "; refused: " + "; ".join(f"{a} ({_answer(c, m)})" for a, (c, m) in refused.items())
        self.transcript.append(f"Message: {reply}")
        return reply

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except Exception:
                try:
                    self.smtp.close()
                except Exception:
                    pass
            self.smtp = None

    def __exit__(self, *exc: Any) -> None:
        self.close()


def smtp_send_sync(cfg: SmtpConfig, message: EmailMessage, from_address: str, recipients: Sequence[str]) -> str:
    with _Session(cfg) as session:
        return session.send(message, from_address, recipients)


def smtp_test_sync(cfg: SmtpConfig, message: EmailMessage, from_address: str, recipients: Sequence[str]
                   ) -> list[str]:
    session = _Session(cfg)
    try:
        session.__enter__()
        session.send(message, from_address, recipients)
    except SmtpFailure as failure:
        session.close()
        session.transcript.append(failure.message)
        raise SmtpFailure("\n".join(session.transcript), code=failure.code) from None
    session.close()
    return session.transcript


async def _smtp_config() -> tuple[SmtpConfig, dict[str, Any]]:
    row = await _row()
    return SmtpConfig(host=row["smtp_host"], port=row["smtp_port"] or logic.DEFAULT_PORTS[row["smtp_security"]],
                      security=row["smtp_security"], username=row["smtp_username"],
                      password=row["smtp_password"],
                      allow_unencrypted_password=bool(row.get("smtp_allow_unencrypted_password"))), row


async def send_test(to: str | None = None) -> dict[str, Any]:
    """Send a short message now (not through the outbox) and report every answer of the server."""
    cfg, row = await _smtp_config()
    problem = logic.is_configured(row)
    if problem:
        raise Conflict(problem)
    recipients = logic.parse_addresses(to or row["smtp_from_email"], "to", required=True, label=_("Send the test to"))
    business = (await settings_service.get_settings()).get("name") or "Counterfoil"
    outgoing = logic.Outgoing(
        from_email=row["smtp_from_email"], from_name=row["smtp_from_name"], to=recipients, cc=(),
        subject=f"Test message from {business}", message_id=logic.new_message_id(row["smtp_from_email"]), date=_now(),
        body="This is a test message sent by Counterfoil to check the email settings.\n"
             "If you can read it, invoices and statements will reach your clients the same way.")
    try:
        transcript = await asyncio.to_thread(smtp_test_sync, cfg, logic.build_message(outgoing),
                                             row["smtp_from_email"], recipients)
    except SmtpFailure as failure:
        lines = failure.message.splitlines()
        log.info("test message to %s failed: %s", ", ".join(recipients), lines[-1] if lines else "")
        return {"ok": False, "to": recipients, "reply": lines[-1] if lines else "", "transcript": lines}
    log.info("test message to %s accepted: %s", ", ".join(recipients), transcript[-1])
    return {"ok": True, "to": recipients, "reply": transcript[-1].removeprefix("Message: "), "transcript": transcript}


# -- composing ------------------------------------------------------------------------

def _language_and_locale(client: ClientView | Mapping[str, Any] | None, settings: Mapping[str, Any]
                         ) -> tuple[str, str]:
    """A client's message is written in the client's language, its amounts and dates in the client's locale:
    the same as its PDF (app.render). Without a client (reports, the accountant): the business's."""
    business = settings.get("default_locale") or "en"
    if client is None:
        language = render_logic.language_of(None, business)
        return language, render_logic.document_locale(language, None, business)
    get = client.get if isinstance(client, Mapping) else lambda name: getattr(client, name, None)
    language = render_logic.language_of(get("language"), business)
    return language, render_logic.document_locale(language, get("country"), business)


def period_text(date_from: date | None, date_to: date | None, locale: str = "en") -> str:
    parts = [render_logic.date_text(d, locale) for d in (date_from, date_to) if d]
    return " – ".join(parts)


async def _document_values(document: DocumentView, client: ClientView) -> tuple[str, str, dict[str, str]]:
    """The message's language, its template (by the document's state) and the placeholders' values."""
    settings = await settings_service.get_settings()
    # An issued document's language is the one frozen with it (its PDF's), whatever the client says today.
    frozen = (document.snapshot or {}).get("client") or {}
    language, locale = _language_and_locale(frozen if frozen.get("language") else client, settings)
    currency = document.currency
    template = logic.choose_template(
        DOCUMENT_KINDS[document.doc_type], total=document.total, paid=document.paid, credited=document.credited,
        balance=document.balance, due_date=document.due_date, today=await settings_service.today())
    amount = logic.message_amount(template, total=document.total, balance=document.balance)
    business = settings.get("name") or ""
    return language, template, {
        "number": document.number or "", "currency": currency,
        "amount": render_logic.money(amount, currency, locale),
        "total": render_logic.money(document.total, currency, locale),
        "paid": render_logic.money(document.paid + document.credited, currency, locale),
        "balance": render_logic.money(document.balance, currency, locale),
        "due_date": render_logic.date_text(document.due_date, locale),
        "valid_until": render_logic.date_text(document.valid_until, locale),
        "issue_date": render_logic.date_text(document.issue_date, locale),
        "business_name": business, "business": business,
        "client_name": client.name or document.client_name, "client": client.name or document.client_name,
        "contact_name": client.contact_name or client.name,
        "document_type": render_logic.labels_for(language)[DOCUMENT_KINDS[document.doc_type]], "period": "",
    }


async def _sendable_document(document_id: int, doc_type: str | None) -> DocumentView:
    document = await documents_service.get_document(document_id, doc_type, with_lines=False)
    label = documents_logic.TYPE_LABELS[document.doc_type].lower()
    if document.status == "draft":
        raise Conflict(_("Issue the draft %(label)s before sending it: a draft has no number yet.", label=label))
    if document.status == "cancelled":
        raise Conflict(_("%(number)s is cancelled; send its credit note instead.", number=document.number))
    return document


async def document_defaults(document_id: int, doc_type: str | None = None) -> dict[str, Any]:
    """What the send form shows first: the client's address and the type's template filled in."""
    document = await _sendable_document(document_id, doc_type)
    client = await clients_service.get_client(document.client_id)
    language, kind, values = await _document_values(document, client)
    template = (await get_mail_settings())["email_templates_by_language"][language][kind]
    return {"document": document, "client": client, "to": client.email, "cc": "", "language": language,
            "template": kind,
            "subject": logic.fill(template["subject"], values), "message": logic.fill(template["body"], values),
            "attachment": render_logic.pdf_filename(document)}


def _clean_request(data: Mapping[str, Any], defaults: Mapping[str, Any]) -> tuple[list[str], list[str], str, str]:
    """to/cc/subject/message from a request; what is missing comes from the defaults. Raises naming the field."""
    errors: list[FieldError] = []
    to: list[str] = []
    cc: list[str] = []
    raw_to = data.get("to")
    if raw_to in (None, "", []):
        raw_to = defaults.get("to") or ""
        if not raw_to:
            errors.append(FieldError("to", _("To: the client has no email address; enter one")))
    try:
        to = logic.parse_addresses(raw_to, "to", required=True, label=_("To")) if raw_to else []
    except ValidationFailed as failed:
        errors.extend(failed.errors)
    try:
        cc = logic.parse_addresses(data.get("cc") or "", "cc", required=False, label=_("Cc"))
    except ValidationFailed as failed:
        errors.extend(failed.errors)
    subject = data.get("subject")
    subject = str(defaults.get("subject") or "" if subject in (None, "") else subject).strip()
    problem = logic.subject_problem(subject)
    if problem:
        errors.append(FieldError("subject", problem))
    message = data.get("message")
    message = str(defaults.get("message") or "" if message is None else message).replace("\r\n", "\n")
    if len(message) > 50_000:
        errors.append(FieldError("message", _("Message is too long")))
    elif problem := control_problem(message, "Message"):
        errors.append(FieldError("message", problem))
    if errors:
        raise ValidationFailed(errors)
    return to, cc, subject, message


async def queue_message(kind: str, *, to: Sequence[str], cc: Sequence[str] = (), subject: str, body: str,
                        attachments: Sequence[Attachment] = (), document_id: int | None = None,
                        client_id: int | None = None, actor: int | None = None, resent_from: int | None = None
                        ) -> dict[str, Any]:
    """Write the message and its attachments in one transaction; the worker sends it."""
    if kind not in logic.KINDS:
        raise ValueError(_("unknown message kind %(kind)s", kind=kind))
    row = await _row()
    now = _now()
    async with write_transaction():
        message = OutboxMessage(
            kind=kind, status="queued", to_addresses=logic.join_addresses(to), cc_addresses=logic.join_addresses(cc),
            subject=subject, body=body, message_id=logic.new_message_id(row["smtp_from_email"]),
            document=document_id, client=client_id, attempts=0, next_attempt_at=now, created_at=now,
            updated_at=now, created_by=actor, resent_from=resent_from)
        await OutboxMessage.insert(message)
        for position, item in enumerate(attachments):
            await OutboxAttachment.insert(OutboxAttachment(
                message=message.id, position=position, filename=logic.safe_filename(item.filename),
                media_type=item.media_type, size=len(item.content), content=item.content))
    log.info("message %s (%s) queued for %s", message.id, kind, logic.join_addresses(to))
    wake()
    return await get_message(message.id)


async def send_document(document_id: int, data: Mapping[str, Any], *, doc_type: str | None = None,
                        actor: int | None = None, data_dir: Path | None = None) -> dict[str, Any]:
    """Queue a quote, invoice or credit note with its PDF. 409 for a draft; 422 naming a bad field."""
    defaults = await document_defaults(document_id, doc_type)
    document = defaults["document"]
    to, cc, subject, body = _clean_request(data, defaults)
    try:
        rendered = await render_service.document_pdf(document_id, doc_type=document.doc_type, data_dir=data_dir)
    except render_service.RenderError as error:
        raise Conflict(_("The PDF could not be made, so nothing was queued: %(error)s", error=error)) from None
    return await queue_message(DOCUMENT_KINDS[document.doc_type], to=to, cc=cc, subject=subject, body=body,
                               attachments=[Attachment(rendered.filename, "application/pdf", rendered.content)],
                               document_id=document_id, client_id=document.client_id, actor=actor)


# -- statements ---------------------------------------------------------------------------

async def statement_defaults(client_id: int, date_from: date | None = None, date_to: date | None = None,
                             currency: str | None = None) -> dict[str, Any]:
    """The statement (app.receivables, as the page and the download show it) and the message's defaults."""
    view = await receivables_service.statement(client_id, date_from, date_to, currency or None)
    client, st = view.client, view.statement
    settings = await settings_service.get_settings()
    language, locale = _language_and_locale(client, settings)
    cur = view.currency or settings.get("default_currency") or "EUR"
    business = settings.get("name") or ""
    balance = render_logic.money(st.closing, cur, locale)
    values = {"business_name": business, "business": business, "client_name": client["name"],
              "client": client["name"], "contact_name": client.get("contact_name") or client["name"],
              "currency": cur, "period": period_text(st.date_from, st.date_to, locale),
              "balance": balance, "amount": balance, "total": balance,
              "document_type": render_logic.labels_for(language)["statement"]}
    template = (await get_mail_settings())["email_templates_by_language"][language]["statement"]
    return {"client": client, "statement": view, "date_from": st.date_from, "date_to": st.date_to,
            "language": language,
            "currency": cur, "to": client.get("email") or "", "cc": "", "subject": logic.fill(template["subject"], values),
            "message": logic.fill(template["body"], values),
            "attachment": logic.safe_filename(f"Statement {client['name']} {st.date_to.isoformat()}") + ".pdf"}


async def send_statement(client_id: int, data: Mapping[str, Any], *, actor: int | None = None,
                         data_dir: Path | None = None) -> dict[str, Any]:
    """Queue the client's statement: the same PDF the download gives (render's statement_view_pdf)."""
    date_from, date_to = optional_day(data.get("date_from"), "date_from"), optional_day(data.get("date_to"), "date_to")
    defaults = await statement_defaults(client_id, date_from, date_to, data.get("currency") or None)
    to, cc, subject, body = _clean_request(data, defaults)
    try:
        rendered = await render_service.statement_view_pdf(defaults["statement"], data_dir=data_dir)
    except render_service.RenderError as error:
        raise Conflict(_("The statement PDF could not be made, so nothing was queued: %(error)s", error=error)) from None
    return await queue_message("statement", to=to, cc=cc, subject=subject, body=body,
                               attachments=[Attachment(defaults["attachment"], "application/pdf", rendered.content)],
                               client_id=client_id, actor=actor)


async def template_for(kind: str, values: Mapping[str, Any]) -> tuple[str, str]:
    """Subject and body of a kind's template in the business's language, filled in (exports and reports
    use it: they go to the business's accountant or to the business itself)."""
    settings = await get_mail_settings()
    template = settings["email_templates_by_language"][settings["business_language"]][kind]
    values = {"business": values.get("business_name", ""), **values}
    return logic.fill(template["subject"], values), logic.fill(template["body"], values)


async def send_with_attachments(kind: str, data: Mapping[str, Any], *, defaults: Mapping[str, Any],
                                attachments: Sequence[Attachment], actor: int | None = None) -> dict[str, Any]:
    """For other domains (the accountant's package, reports): check to/cc/subject/message and queue."""
    to, cc, subject, body = _clean_request(data, defaults)
    return await queue_message(kind, to=to, cc=cc, subject=subject, body=body, attachments=attachments, actor=actor)


# -- the outbox ---------------------------------------------------------------------------

def _decorate(row: dict[str, Any]) -> dict[str, Any]:
    row["to"] = logic.split_addresses(row["to_addresses"])
    row["cc"] = logic.split_addresses(row["cc_addresses"])
    label = logic.KIND_LABELS.get(row["kind"])
    row["kind_label"] = _(label) if label else row["kind"]
    return row


_LIST_COLUMNS = (OutboxMessage.id, OutboxMessage.kind, OutboxMessage.status, OutboxMessage.to_addresses,
                 OutboxMessage.cc_addresses, OutboxMessage.subject, OutboxMessage.document, OutboxMessage.client,
                 OutboxMessage.attempts, OutboxMessage.last_error, OutboxMessage.server_reply,
                 OutboxMessage.next_attempt_at, OutboxMessage.sent_at, OutboxMessage.created_at,
                 OutboxMessage.updated_at, OutboxMessage.message_id, OutboxMessage.resent_from,
                 OutboxMessage.created_by)


async def list_outbox(*, status: str = "", document_id: int | None = None, client_id: int | None = None,
                      page: Page = Page()) -> PageOf:
    if status and status not in logic.STATUSES:
        raise ValidationFailed([FieldError("status", _("status must be one of: %(join)s", join=', '.join(logic.STATUSES)))])
    select = OutboxMessage.select(*_LIST_COLUMNS, OutboxMessage.document.number.as_alias("document_number"),
                                  OutboxMessage.client.name.as_alias("client_name"))
    count = OutboxMessage.count()
    conditions = []
    if status:
        conditions.append(OutboxMessage.status == status)
    if document_id is not None:
        conditions.append(OutboxMessage.document == document_id)
    if client_id is not None:
        conditions.append(OutboxMessage.client == client_id)
    for condition in conditions:
        select, count = select.where(condition), count.where(condition)
    rows = await select.order_by(OutboxMessage.created_at, ascending=False).order_by(OutboxMessage.id, ascending=False) \
        .limit(page.per_page).offset(page.offset)
    counts = {s: 0 for s in logic.STATUSES}
    for row in await OutboxMessage.raw("SELECT status, COUNT(*) AS n FROM outbox_message GROUP BY status"):
        counts[row["status"]] = row["n"]
    return PageOf(items=[_decorate(r) for r in rows], total=await count, page=page, extra={"counts": counts})


async def get_message(message_id: int) -> dict[str, Any]:
    row = await OutboxMessage.select(*OutboxMessage.all_columns(),
                                     OutboxMessage.document.number.as_alias("document_number"),
                                     OutboxMessage.document.doc_type.as_alias("document_type"),
                                     OutboxMessage.client.name.as_alias("client_name")) \
        .where(OutboxMessage.id == message_id).first()
    if row is None:
        raise NotFound(_("Message %(message_id)s", message_id=message_id))
    row["attachments"] = await OutboxAttachment.select(
        OutboxAttachment.position, OutboxAttachment.filename, OutboxAttachment.media_type, OutboxAttachment.size) \
        .where(OutboxAttachment.message == message_id).order_by(OutboxAttachment.position)
    return _decorate(row)


async def get_attachment(message_id: int, position: int) -> dict[str, Any]:
    row = await OutboxAttachment.select().where((OutboxAttachment.message == message_id)
                                                & (OutboxAttachment.position == position)).first()
    if row is None:
        raise NotFound(_("Attachment %(position)s of message %(message_id)s", position=position, message_id=message_id))
    return row


async def messages_for_document(document_id: int) -> list[dict[str, Any]]:
    """The email log of a document (newest first), for its page: when, to whom, status."""
    return (await list_outbox(document_id=document_id, page=Page(1, 100))).items


async def _attachments_of(message_id: int) -> list[Attachment]:
    rows = await OutboxAttachment.select().where(OutboxAttachment.message == message_id) \
        .order_by(OutboxAttachment.position)
    return [Attachment(r["filename"], r["media_type"], bytes(r["content"])) for r in rows]


async def retry(message_id: int) -> dict[str, Any]:
    """A queued, failed or uncertain message: try again now (the same message, the same Message-ID, so a
    recipient whose server did take the first one can recognise the second)."""
    async with write_transaction():
        row = await OutboxMessage.select(OutboxMessage.status).where(OutboxMessage.id == message_id).first()
        if row is None:
            raise NotFound(_("Message %(message_id)s", message_id=message_id))
        if row["status"] not in ("queued", "failed", "uncertain"):
            raise Conflict(_("This message is %(status)s; only a queued, failed or uncertain one can be retried (resend a sent one instead).", status=row['status']))
        await OutboxMessage.update({OutboxMessage.status: "queued", OutboxMessage.next_attempt_at: _now(),
                                    OutboxMessage.updated_at: _now()}).where(OutboxMessage.id == message_id)
    wake()
    return await get_message(message_id)


async def retry_all() -> int:
    async with write_transaction():
        due = await OutboxMessage.count().where(OutboxMessage.status == "queued")
        await OutboxMessage.update({OutboxMessage.next_attempt_at: _now()}).where(OutboxMessage.status == "queued")
    wake()
    return due


async def cancel(message_id: int) -> dict[str, Any]:
    async with write_transaction():
        row = await OutboxMessage.select(OutboxMessage.status).where(OutboxMessage.id == message_id).first()
        if row is None:
            raise NotFound(_("Message %(message_id)s", message_id=message_id))
        if row["status"] not in ("queued", "failed"):
            raise Conflict(_("This message is %(status)s; only a queued or failed one can be cancelled.", status=row['status']))
        await OutboxMessage.update({OutboxMessage.status: "cancelled", OutboxMessage.next_attempt_at: None,
                                    OutboxMessage.updated_at: _now()}).where(OutboxMessage.id == message_id)
    return await get_message(message_id)


async def mark_sent(message_id: int, *, actor: int | None = None) -> dict[str, Any]:
    """The user knows an uncertain message arrived (the client has it, or the Sent folder shows it): it is
    sent, as of the attempt that may have sent it; a document's history says emailed."""
    async with write_transaction():
        row = await OutboxMessage.select(OutboxMessage.status, OutboxMessage.updated_at, OutboxMessage.document,
                                         OutboxMessage.to_addresses, OutboxMessage.created_by) \
            .where(OutboxMessage.id == message_id).first()
        if row is None:
            raise NotFound(_("Message %(message_id)s", message_id=message_id))
        if row["status"] != "uncertain":
            raise Conflict(_("This message is %(status)s; only one that may have been sent can be marked as sent.", status=row['status']))
        await OutboxMessage.update({
            OutboxMessage.status: "sent", OutboxMessage.sent_at: row["updated_at"], OutboxMessage.next_attempt_at: None,
            OutboxMessage.server_reply: "No answer from the server after the message; marked as sent by hand.",
            OutboxMessage.updated_at: _now()}).where(OutboxMessage.id == message_id)
        if row["document"] is not None:
            await documents_service.record_emailed(row["document"], row["to_addresses"],
                                                   actor=actor if actor is not None else row["created_by"])
    return await get_message(message_id)


async def resend(message_id: int, *, actor: int | None = None) -> dict[str, Any]:
    """A copy of a sent, failed or cancelled message, with the same attachments, queued anew. A message that
    may have been sent (uncertain) is queued again as itself instead (`retry`): the same Message-ID lets a
    recipient's mail program drop the second if the first did arrive."""
    original = await get_message(message_id)
    if original["status"] == "uncertain":
        return await retry(message_id)
    if original["status"] in ("queued", "sending"):
        raise Conflict(_("This message is still waiting to go; retry it instead of sending a copy."))
    return await queue_message(original["kind"], to=original["to"], cc=original["cc"], subject=original["subject"],
                               body=original["body"], attachments=await _attachments_of(message_id),
                               document_id=original["document"], client_id=original["client"], actor=actor,
                               resent_from=message_id)


# -- delivery -------------------------------------------------------------------------------

async def deliver_one(message_id: int) -> dict[str, Any] | None:
    """One attempt at one queued message. Returns the message after, or None if it was not queued."""
    now = _now()
    async with write_transaction():
        row = await OutboxMessage.select().where((OutboxMessage.id == message_id)
                                                 & (OutboxMessage.status == "queued")).first()
        if row is None:
            return None
        await OutboxMessage.update({OutboxMessage.status: "sending", OutboxMessage.updated_at: now}).where(
            OutboxMessage.id == message_id)
    attempts = row["attempts"] + 1
    reply = ""
    try:
        cfg, settings = await _smtp_config()
        problem = logic.is_configured(settings)
        if problem:
            raise SmtpFailure(problem)
        to, cc = logic.split_addresses(row["to_addresses"]), logic.split_addresses(row["cc_addresses"])
        outgoing = logic.Outgoing(from_email=settings["smtp_from_email"], from_name=settings["smtp_from_name"], to=to,
                                  cc=cc, subject=row["subject"], body=row["body"], message_id=row["message_id"],
                                  date=now, attachments=await _attachments_of(message_id))
        reply = await asyncio.to_thread(smtp_send_sync, cfg, logic.build_message(outgoing),
                                        settings["smtp_from_email"], outgoing.recipients)
        outcome = logic.after_attempt(attempts=attempts, now=now, reply=reply)
    except SmtpFailure as failure:
        outcome = logic.after_attempt(attempts=attempts, now=now, error=failure.message, permanent=failure.permanent,
                                      uncertain=failure.uncertain)
    except Exception as error:  # a bug must not leave the message "sending" for ever
        log.exception("message %s: unexpected error while sending", message_id)
        outcome = logic.after_attempt(attempts=attempts, now=now, error=f"{type(error).__name__}: {error}")
    async with write_transaction():
        await OutboxMessage.update({
            OutboxMessage.status: outcome.status, OutboxMessage.attempts: attempts,
            OutboxMessage.last_error: outcome.error, OutboxMessage.server_reply: outcome.reply,
            OutboxMessage.next_attempt_at: outcome.next_attempt_at, OutboxMessage.updated_at: _now(),
            OutboxMessage.sent_at: _now() if outcome.status == "sent" else None,
        }).where(OutboxMessage.id == message_id)
        if outcome.status == "sent" and row["document"] is not None:
            # an issued invoice becomes sent; its history says emailed, to whom
            await documents_service.record_emailed(row["document"], row["to_addresses"], actor=row["created_by"])
    if outcome.status == "sent":
        log.info("message %s sent to %s: %s", message_id, row["to_addresses"], outcome.reply)
    else:
        log.warning("message %s to %s not sent (attempt %s, now %s): %s", message_id, row["to_addresses"], attempts,
                    outcome.status, outcome.error)
    return await get_message(message_id)


async def deliver_due(now: datetime | None = None) -> int:
    """Try every queued message whose time has come (oldest first); returns how many were tried."""
    now = now or _now()
    rows = await OutboxMessage.select(OutboxMessage.id).where(
        (OutboxMessage.status == "queued") & (OutboxMessage.next_attempt_at <= now)).order_by(OutboxMessage.id)
    for row in rows:
        await deliver_one(row["id"])
    return len(rows)


async def recover_at_start() -> int:
    """At start: a message left "sending" by a crash is queued again, and every queued one is due now."""
    stuck = await OutboxMessage.count().where(OutboxMessage.status == "sending")
    waiting = await OutboxMessage.count().where(OutboxMessage.status == "queued")
    if stuck or waiting:
        async with write_transaction():
            await OutboxMessage.update({OutboxMessage.status: "queued", OutboxMessage.next_attempt_at: _now()}).where(
                OutboxMessage.status.is_in(["sending", "queued"]))
    return stuck + waiting


async def seconds_until_due() -> float:
    row = await OutboxMessage.select(OutboxMessage.next_attempt_at).where(OutboxMessage.status == "queued") \
        .order_by(OutboxMessage.next_attempt_at).first()
    if row is None or row["next_attempt_at"] is None:
        return IDLE_CHECK_S
    due = row["next_attempt_at"]
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    return max(0.5, min(IDLE_CHECK_S, (due - _now()).total_seconds()))


async def counts() -> dict[str, int]:
    out = {s: 0 for s in logic.STATUSES}
    for row in await OutboxMessage.raw("SELECT status, COUNT(*) AS n FROM outbox_message GROUP BY status"):
        out[row["status"]] = row["n"]
    return out


# -- the background task ----------------------------------------------------------------------

_worker: Worker | None = None


def wake() -> None:
    """Tell the running worker to look at the outbox now (safe from any thread or loop)."""
    worker = _worker
    if worker is not None:
        worker.wake()


class Worker:
    """Delivers the outbox: at start (after a short pause), when woken, and when a retry is due."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.event: asyncio.Event | None = None

    def wake(self) -> None:
        loop, event = self.loop, self.event
        if loop is None or event is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:
            pass

    async def _run(self) -> None:
        assert self.event is not None
        try:
            await asyncio.wait_for(self.event.wait(), timeout=FIRST_RUN_DELAY_S)
        except TimeoutError:
            pass
        try:
            await recover_at_start()
        except Exception:
            log.exception("the outbox could not be recovered at start")
        while True:
            self.event.clear()
            delay = IDLE_CHECK_S
            try:
                await deliver_due()
                delay = await seconds_until_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the outbox worker failed; trying again later")
                delay = 30.0
            try:
                await asyncio.wait_for(self.event.wait(), timeout=delay)
            except TimeoutError:
                pass

    async def start(self) -> None:
        global _worker
        if not WORKER_AUTOSTART or self.task is not None:
            return
        self.loop = asyncio.get_running_loop()
        self.event = asyncio.Event()
        self.task = self.loop.create_task(audit_service.as_system("outbox", self._run()), name="outbox")
        _worker = self

    async def stop(self) -> None:
        global _worker
        if _worker is self:
            _worker = None
        await stop_task(self.task)
        self.task = None
        self.loop = self.event = None



# -- sample data ------------------------------------------------------------------------------

async def demo_outbox(data_dir: Path | None, *, accountant_email: str, from_email: str, from_name: str) -> int:
    """`counterfoil demo`: the accountant's address, a sender, and a few messages in each state of the
    outbox (no SMTP server is set, so nothing really leaves; "sent" ones carry a sample answer)."""
    await update_mail_settings({"accountant_email": accountant_email, "smtp_from_email": from_email,
                                "smtp_from_name": from_name})
    if await OutboxMessage.count():
        return 0
    rows = await documents_service.list_documents(documents_logic.INVOICE, status="open", page=Page(1, 6))
    made = 0
    for index, row in enumerate(rows.items[:4]):
        client = await clients_service.get_client(row.client_id)
        try:
            message = await send_document(row.id, {"to": client.email or "accounts@example.com"},
                                          data_dir=data_dir)
        except (Conflict, ValidationFailed):
            continue
        made += 1
        now = _now()
        async with write_transaction():
            if index == 0:
                await OutboxMessage.update({OutboxMessage.status: "sent", OutboxMessage.attempts: 1,
                                            OutboxMessage.sent_at: now, OutboxMessage.next_attempt_at: None,
                                            OutboxMessage.server_reply: "250 2.0.0 Ok: queued as 4Fz1Kx2DemoQ"}) \
                    .where(OutboxMessage.id == message["id"])
                await documents_service.record_emailed(row.id, message["to_addresses"])
            elif index == 1:
                await OutboxMessage.update({OutboxMessage.status: "failed", OutboxMessage.attempts: 1,
                                            OutboxMessage.next_attempt_at: None,
                                            OutboxMessage.last_error: "The server refused every recipient: "
                                            f"{message['to_addresses']}: 550 5.1.1 <{message['to_addresses']}>: "
                                            "Recipient address rejected: User unknown"}) \
                    .where(OutboxMessage.id == message["id"])
            else:
                await OutboxMessage.update({OutboxMessage.attempts: index - 1,
                                            OutboxMessage.last_error: "Cannot find the server smtp.example.com: "
                                            "Temporary failure in name resolution (offline?)",
                                            OutboxMessage.next_attempt_at:
                                                now + timedelta(seconds=logic.backoff_seconds(max(index - 1, 1)))}) \
                    .where(OutboxMessage.id == message["id"])
    return made

