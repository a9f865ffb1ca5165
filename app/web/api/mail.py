"""The JSON API of mail (under /api/v1): its routes and msgspec DTOs."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Request, get, patch, post
from litestar.params import QueryParameter
from msgspec import UNSET

from app.config import Config
from app.documents.logic import CREDIT_NOTE, INVOICE, QUOTE, TYPE_PATHS
from app.mail import service
from app.web.api.base import Body
from app.web.api.mail_dto import MailSettingsIn, MailSettingsOut, given_mail_fields, mail_out
from app.web.responses import actor_id, iso, list_json, page_params
from app.web.security import OWNER_ONLY


class TestIn(Body, omit_defaults=True):
    to: str | None = None


class TestOut(msgspec.Struct):
    ok: bool
    to: list[str]
    reply: str
    transcript: list[str]


class SendIn(Body, omit_defaults=True, kw_only=True):
    """Every field is optional: `to` defaults to the client's email, the rest to the type's template."""

    to: str | list[str] | None = None
    cc: str | list[str] | None = None
    subject: str | None = None
    message: str | None = None


class StatementSendIn(SendIn, kw_only=True):
    date_from: date | None = None
    date_to: date | None = None
    currency: str | None = None


class AttachmentOut(msgspec.Struct):
    position: int
    filename: str
    media_type: str
    size: int


class OutboxOut(msgspec.Struct):
    id: int
    kind: str
    status: str
    to: list[str]
    cc: list[str]
    subject: str
    document_id: int | None
    document_number: str | None
    client_id: int | None
    client_name: str | None
    attempts: int
    last_error: str
    server_reply: str
    next_attempt_at: str | None
    sent_at: str | None
    created_at: str
    message_id: str
    resent_from: int | None
    body: str | None = None
    attachments: list[AttachmentOut] | None = None


class OutboxList(msgspec.Struct):
    items: list[OutboxOut]
    total: int
    page: int
    per_page: int
    counts: dict[str, int]


def outbox_out(row: dict[str, Any], *, full: bool = False) -> OutboxOut:
    return OutboxOut(
        id=row["id"], kind=row["kind"], status=row["status"], to=row["to"], cc=row["cc"], subject=row["subject"],
        document_id=row["document"], document_number=row.get("document_number"), client_id=row["client"],
        client_name=row.get("client_name"), attempts=row["attempts"], last_error=row["last_error"],
        server_reply=row["server_reply"], next_attempt_at=iso(row["next_attempt_at"]), sent_at=iso(row["sent_at"]),
        created_at=iso(row["created_at"]), message_id=row["message_id"], resent_from=row["resent_from"],
        body=row["body"] if full else None,
        attachments=[AttachmentOut(**a) for a in row["attachments"]] if full and "attachments" in row else None)


def _given(data: msgspec.Struct) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None and v is not UNSET}


@get("/api/v1/settings/mail", tags=["settings"], opt=OWNER_ONLY)
async def api_mail_settings() -> MailSettingsOut:
    """SMTP, the accountant's address, the message templates. The password is never returned."""
    return mail_out(await service.get_mail_settings())


@patch("/api/v1/settings/mail", tags=["settings"], opt=OWNER_ONLY)
async def api_mail_settings_update(request: Request, data: MailSettingsIn) -> MailSettingsOut:
    """`smtp_password`: absent keeps the saved one, "" or null forgets it."""
    return mail_out(await service.update_mail_settings(given_mail_fields(data), actor_id=actor_id(request)))


@post("/api/v1/settings/mail/test", tags=["settings"], opt=OWNER_ONLY, status_code=200)
async def api_mail_test(data: TestIn | None = None) -> TestOut:
    """Send a test message now with the saved settings; `reply` is the server's exact answer."""
    result = await service.send_test((data.to if data else None) or None)
    return TestOut(**result)


@post("/api/v1/clients/{client_id:int}/statement/send", tags=["ledger"], status_code=202)
async def api_statement_send(request: Request, config: Config, client_id: int,
                             query_from: date | None = QueryParameter(name="from", default=None),
                             query_to: date | None = QueryParameter(name="to", default=None),
                             data: StatementSendIn | None = None) -> OutboxOut:
    """Queue the client's statement (PDF) for `date_from`..`date_to` in the body, or `?from=&to=` as the
    statement itself takes (default: this year to today)."""
    given = {"date_from": query_from, "date_to": query_to, **(_given(data) if data else {})}
    row = await service.send_statement(client_id, given, actor=actor_id(request), data_dir=config.data_dir)
    return outbox_out(row, full=True)


@get("/api/v1/outbox", tags=["outbox"])
async def api_outbox(status: str = "", document_id: int | None = None, client_id: int | None = None,
                     page_number: int = QueryParameter(name="page", default=1), per_page: int = 50) -> OutboxList:
    """Queued, sent, failed, uncertain (may have been sent) and cancelled messages, newest first, with their
    errors and attempts."""
    result = await service.list_outbox(status=status, document_id=document_id, client_id=client_id,
                                       page=page_params(page_number, per_page))
    return OutboxList(**list_json(result, [outbox_out(r) for r in result.items]), counts=result.extra["counts"])


@get("/api/v1/outbox/{message_id:int}", tags=["outbox"])
async def api_outbox_message(message_id: int) -> OutboxOut:
    return outbox_out(await service.get_message(message_id), full=True)


@post("/api/v1/outbox/{message_id:int}/retry", tags=["outbox"], status_code=200)
async def api_outbox_retry(message_id: int) -> OutboxOut:
    """Try a queued or failed message again now."""
    return outbox_out(await service.retry(message_id), full=True)


@post("/api/v1/outbox/{message_id:int}/cancel", tags=["outbox"], status_code=200)
async def api_outbox_cancel(message_id: int) -> OutboxOut:
    return outbox_out(await service.cancel(message_id), full=True)


@post("/api/v1/outbox/{message_id:int}/resend", tags=["outbox"], status_code=202)
async def api_outbox_resend(request: Request, message_id: int) -> OutboxOut:
    """Queue a copy (same recipients, text and attachments) of a sent, failed or cancelled message. A message
    that may have been sent (`uncertain`) is queued again as itself, with its Message-ID."""
    return outbox_out(await service.resend(message_id, actor=actor_id(request)), full=True)


@post("/api/v1/outbox/{message_id:int}/mark-sent", tags=["outbox"], status_code=200)
async def api_outbox_mark_sent(request: Request, message_id: int) -> OutboxOut:
    """A message that may have been sent (`uncertain`) did arrive: it becomes sent (409 for any other)."""
    return outbox_out(await service.mark_sent(message_id, actor=actor_id(request)), full=True)


def _send_route(doc_type: str) -> Any:
    path = TYPE_PATHS[doc_type]

    @post(f"/api/v1/{path}/{{document_id:int}}/send", tags=[path], name=f"{doc_type}-send", status_code=202)
    async def send(request: Request, config: Config, document_id: int, data: SendIn | None = None) -> OutboxOut:
        """Queue the email with the PDF attached (202). `to` defaults to the client's email, `subject` and
        `message` to the template in Settings, Email. A draft answers 409; a bad address 422 naming the field.
        An issued invoice becomes `sent` once the server accepts the message."""
        row = await service.send_document(document_id, _given(data) if data else {}, doc_type=doc_type,
                                          actor=actor_id(request), data_dir=config.data_dir)
        return outbox_out(row, full=True)
    return send


ROUTES = [
    *[_send_route(t) for t in (INVOICE, QUOTE, CREDIT_NOTE)], api_mail_settings, api_mail_settings_update, api_mail_test,
    api_statement_send, api_outbox, api_outbox_message, api_outbox_retry, api_outbox_cancel, api_outbox_resend, api_outbox_mark_sent]
