"""Email: the settings page section (owner), sending documents and statements (page and API),
the outbox (page and API)."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Template

from app.common.i18n import _, ngettext, translated
from app.common.logic import Conflict, ValidationFailed
from app.config import Config
from app.documents import logic as documents_logic
from app.documents.logic import CREDIT_NOTE, INVOICE, QUOTE, TYPE_PATHS
from app.mail import logic, service
from app.web.responses import actor_id, download, form_data, page, page_params, redirect
from app.web.security import OWNER_ONLY

PER_PAGE = 50


STATUS_LABELS = translated(logic.STATUS_LABELS)


async def _settings_page(request: Request, *, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                         status_code: int = 200, test: dict[str, Any] | None = None,
                         template_values: dict[str, Any] | None = None, template_language: str | None = None
                         ) -> Template:
    mail = await service.get_mail_settings()
    language = template_language if template_language in logic.LANGUAGES else \
        request.query_params.get("templates") or mail["business_language"]
    if language not in logic.LANGUAGES:
        language = "en"
    templates = mail["email_templates_by_language"][language]
    return page(request, "mail/settings.html", status_code=status_code, section="settings", title=_("Email settings"),
                mail=mail, values=values or mail, errors=errors or {}, test=test, kinds=logic.TEMPLATE_KINDS,
                kind_labels=translated(logic.TEMPLATE_LABELS), placeholders=translated(logic.PLACEHOLDER_HELP),
                template_language=language, languages=translated(logic.LANGUAGE_LABELS),
                template_values=template_values or {f"{language}_{k}_{p}": templates[k][p]
                                                    for k in templates for p in templates[k]},
                security=[("starttls", _("STARTTLS (usually port 587)")), ("ssl", _("SSL/TLS (usually port 465)")),
                          ("none", _("None (local relays only)"))])


@get("/settings/email", opt=OWNER_ONLY)
async def mail_settings_page(request: Request) -> Template:
    return await _settings_page(request)


@post("/settings/email", opt=OWNER_ONLY)
async def mail_settings_submit(request: Request) -> Response:
    data = await form_data(request)
    given = {k: v for k, v in data.items() if k in logic.SETTINGS_FIELDS}
    if not str(given.get("smtp_password") or ""):
        given.pop("smtp_password", None)  # left empty: keep the saved one
    if data.get("forget_password"):
        given["smtp_password"] = ""
    # A checkbox left unticked is not sent: the form always says what it shows.
    given["smtp_allow_unencrypted_password"] = bool(data.get("smtp_allow_unencrypted_password"))
    try:
        await service.update_mail_settings(given, actor_id=actor_id(request))
    except ValidationFailed as failed:
        values = {**data, "smtp_password": ""}
        return await _settings_page(request, values=values, errors=failed.by_field(), status_code=422)
    return redirect("/settings/email", flash=_("Email settings saved."), request=request)


@post("/settings/email/templates", opt=OWNER_ONLY)
async def mail_templates_submit(request: Request) -> Response:
    data = await form_data(request)
    language = str(data.get("template_language") or "")
    if language not in logic.LANGUAGES:
        return await _settings_page(request, errors={"template_language": _("Choose English, French or German")},
                                    status_code=422)
    templates = {kind: {"subject": str(data.get(f"{language}_{kind}_subject") or ""),
                        "body": str(data.get(f"{language}_{kind}_body") or "")}
                 for kind in logic.TEMPLATE_KINDS
                 if f"{language}_{kind}_subject" in data or f"{language}_{kind}_body" in data}
    try:
        await service.update_mail_settings({"email_templates_by_language": {language: templates}},
                                           actor_id=actor_id(request))
    except ValidationFailed as failed:
        return await _settings_page(request, errors=failed.by_field(), status_code=422, template_values=data,
                                    template_language=language)
    return redirect(f"/settings/email?templates={language}#templates", flash=_("Message templates saved."),
                    request=request)


@post("/settings/email/test", opt=OWNER_ONLY)
async def mail_test_submit(request: Request) -> Template:
    data = await form_data(request)
    try:
        result = await service.send_test(str(data.get("test_to") or "").strip() or None)
    except ValidationFailed as failed:
        return await _settings_page(request, errors=failed.by_field(), status_code=422,
                                    test={"ok": False, "reply": "; ".join(e.message for e in failed.errors),
                                          "transcript": []})
    except Conflict as conflict:
        return await _settings_page(request, status_code=409,
                                    test={"ok": False, "reply": conflict.detail, "transcript": []})
    return await _settings_page(request, test=result)


@get("/outbox")
async def outbox_page(request: Request, status: str = "", page_number: str = QueryParameter(name="page", default="1")
                      ) -> Template:
    status = status if status in logic.STATUSES else ""
    try:
        number = max(1, int(page_number or 1))
    except ValueError:
        number = 1
    result = await service.list_outbox(status=status, page=page_params(number, PER_PAGE))
    mail = await service.get_mail_settings()
    return page(request, "mail/outbox.html", section="outbox", title=_("Outbox"), result=result, status=status,
                params={"status": status}, status_labels=STATUS_LABELS, counts=result.extra["counts"],
                problem=mail["configured_problem"])


@get("/outbox/{message_id:int}")
async def outbox_message_page(request: Request, message_id: int) -> Template:
    message = await service.get_message(message_id)
    return page(request, "mail/message.html", section="outbox", title=message["subject"], message=message,
                status_labels=STATUS_LABELS)


@get("/outbox/{message_id:int}/attachments/{position:int}")
async def outbox_attachment(message_id: int, position: int) -> Response:
    row = await service.get_attachment(message_id, position)
    inline = row["media_type"] in ("application/pdf", "text/plain", "text/csv")
    return download(bytes(row["content"]), row["filename"], row["media_type"], inline=inline)


async def _outbox_action(request: Request, message_id: int, action: Any, done: str) -> Response:
    data = await form_data(request)
    back = str(data.get("back") or "")
    back = back if back.startswith("/") and not back.startswith("//") else "/outbox"
    try:
        await action()
    except Conflict as conflict:
        return redirect(back, flash=_("Not done: %(detail)s", detail=conflict.detail), request=request)
    return redirect(back, flash=done, request=request)


@post("/outbox/{message_id:int}/retry")
async def outbox_retry(request: Request, message_id: int) -> Response:
    return await _outbox_action(request, message_id, lambda: service.retry(message_id),
                                _("Trying again now; the outbox shows the result."))


@post("/outbox/{message_id:int}/cancel")
async def outbox_cancel(request: Request, message_id: int) -> Response:
    return await _outbox_action(request, message_id, lambda: service.cancel(message_id), _("The message is cancelled."))


@post("/outbox/{message_id:int}/resend")
async def outbox_resend(request: Request, message_id: int) -> Response:
    message = await service.get_message(message_id)
    done = _("Queued to go again, as the same message.") if message["status"] == "uncertain" else _("A copy is queued.")
    return await _outbox_action(request, message_id, lambda: service.resend(message_id, actor=actor_id(request)), done)


@post("/outbox/{message_id:int}/mark-sent")
async def outbox_mark_sent(request: Request, message_id: int) -> Response:
    return await _outbox_action(request, message_id, lambda: service.mark_sent(message_id, actor=actor_id(request)),
                                _("Marked as sent; it will not be sent again."))


@post("/outbox/retry-all")
async def outbox_retry_all(request: Request) -> Response:
    count = await service.retry_all()
    return redirect("/outbox", flash=ngettext("Trying %(num)s queued message now.", "Trying %(num)s queued messages now.", count) % {"num": count} if count
                    else _("Nothing is waiting."), request=request)


async def _document_form(request: Request, document_id: int, *, values: dict[str, Any] | None = None,
                         errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    defaults = await service.document_defaults(document_id)
    document = defaults["document"]
    doc_type = document.doc_type
    log = await service.messages_for_document(document_id)
    mail = await service.get_mail_settings()
    return page(request, "mail/send.html", status_code=status_code,
                section={INVOICE: "invoices", QUOTE: "quotes", CREDIT_NOTE: "credit_notes"}[doc_type],
                title=_("Email %(lower)s %(number)s", lower=_(documents_logic.TYPE_LABELS[doc_type]).lower(), number=document.number),
                heading=f"{_(documents_logic.TYPE_LABELS[doc_type])} {document.number}",
                crumbs=[(f"/{TYPE_PATHS[doc_type]}", {INVOICE: _("Invoices"), QUOTE: _("Quotes"), CREDIT_NOTE: _("Credit notes")}[doc_type]),
                        (f"/documents/{document_id}", document.number)],
                action=f"/documents/{document_id}/send", back=f"/documents/{document_id}",
                preview=f"/documents/{document_id}/pdf", attachment=defaults["attachment"],
                recipient=defaults["client"], values=values or defaults, errors=errors or {}, mail_log=log,
                status_labels=STATUS_LABELS, problem=mail["configured_problem"],
                written_in=_written_in(defaults["language"], defaults["template"]),
                note=_("An issued invoice is marked as sent once the mail server accepts the message.")
                if doc_type == INVOICE and document.status == "issued" else "")


def _written_in(language: str, template: str) -> str:
    """Which language and which template the message starts from (both set in Settings, Email)."""
    return _("In %(language)s, the client's language, from the template “%(template)s” (Settings, Email).",
             language=_(logic.LANGUAGE_LABELS[language]), template=_(logic.TEMPLATE_LABELS[template]))


@get("/documents/{document_id:int}/send")
async def document_send_page(request: Request, document_id: int) -> Response | Template:
    try:
        return await _document_form(request, document_id)
    except Conflict as conflict:
        return redirect(f"/documents/{document_id}", flash=_("Not sent: %(detail)s", detail=conflict.detail), request=request)


@post("/documents/{document_id:int}/send")
async def document_send_submit(request: Request, config: Config, document_id: int) -> Response | Template:
    data = await form_data(request)
    wanted = {k: str(data.get(k) or "") for k in ("to", "cc", "subject", "message")}
    try:
        row = await service.send_document(document_id, wanted, actor=actor_id(request), data_dir=config.data_dir)
    except ValidationFailed as failed:
        return await _document_form(request, document_id, values=wanted, errors=failed.by_field(), status_code=422)
    except Conflict as conflict:
        return redirect(f"/documents/{document_id}", flash=_("Not sent: %(detail)s", detail=conflict.detail), request=request)
    return redirect(f"/documents/{document_id}", request=request,
                    flash=_("Queued for %(join)s: it goes out as soon as the mail server answers (see the Outbox).", join=', '.join(row['to'])))


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


async def _statement_form(request: Request, client_id: int, date_from: date | None, date_to: date | None,
                          currency: str, *, values: dict[str, Any] | None = None,
                          errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    defaults = await service.statement_defaults(client_id, date_from, date_to, currency or None)
    client = defaults["client"]
    mail = await service.get_mail_settings()
    query = f"from={defaults['date_from'].isoformat()}&to={defaults['date_to'].isoformat()}&currency={defaults['currency']}"
    return page(request, "mail/send.html", status_code=status_code, section="clients",
                title=_("Email the statement of %(name)s", name=client['name']), heading=_("Statement of %(name)s", name=client['name']),
                crumbs=[("/clients", _("Clients")), (f"/clients/{client_id}", client["name"]),
                        (f"/clients/{client_id}/statement?{query}", _("Statement"))],
                action=f"/clients/{client_id}/statement/send?{query}", back=f"/clients/{client_id}/statement?{query}",
                preview="", attachment=defaults["attachment"], recipient=client, values=values or defaults,
                errors=errors or {}, mail_log=[], status_labels=STATUS_LABELS, problem=mail["configured_problem"],
                written_in=_written_in(defaults["language"], "statement"),
                note=_("Period %(date_from)s to %(date_to)s, %(currency)s.", date_from=defaults['date_from'].isoformat(),
                       date_to=defaults['date_to'].isoformat(), currency=defaults['currency']))


@get("/clients/{client_id:int}/statement/send")
async def statement_send_page(request: Request, client_id: int, currency: str = "",
                              date_from: str = QueryParameter(name="from", default=""),
                              date_to: str = QueryParameter(name="to", default="")) -> Template:
    return await _statement_form(request, client_id, _parse_day(date_from), _parse_day(date_to), currency)


@post("/clients/{client_id:int}/statement/send")
async def statement_send_submit(request: Request, config: Config, client_id: int, currency: str = "",
                                date_from: str = QueryParameter(name="from", default=""),
                                date_to: str = QueryParameter(name="to", default="")) -> Response | Template:
    data = await form_data(request)
    wanted: dict[str, Any] = {k: str(data.get(k) or "") for k in ("to", "cc", "subject", "message")}
    start, end = _parse_day(date_from), _parse_day(date_to)
    try:
        row = await service.send_statement(client_id, {**wanted, "date_from": start, "date_to": end,
                                                       "currency": currency or None},
                                           actor=actor_id(request), data_dir=config.data_dir)
    except ValidationFailed as failed:
        return await _statement_form(request, client_id, start, end, currency, values=wanted,
                                     errors=failed.by_field(), status_code=422)
    return redirect(f"/clients/{client_id}", request=request,
                    flash=_("Statement queued for %(join)s (see the Outbox).", join=', '.join(row['to'])))


ROUTES = [mail_settings_page, mail_settings_submit, mail_templates_submit, mail_test_submit, outbox_page,
    outbox_message_page, outbox_attachment, outbox_retry, outbox_cancel, outbox_resend, outbox_mark_sent,
    outbox_retry_all, document_send_page, document_send_submit, statement_send_page, statement_send_submit]
