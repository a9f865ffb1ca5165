"""Quote, invoice and credit note pages: lists, the new-document flow, the editor and the document page.

Every rule lives in the service and `logic`; these handlers read forms, call the service and
choose what to render. A Conflict from the service (issuing twice, cancelling a paid invoice...)
is shown on the document's page with status 409, never as a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Template

from app.auth import service as auth_service
from app.clients import service as clients_service
from app.clients.records import ClientView
from app.common.i18n import L_, _, lazy, ngettext, translated
from app.common.logic import Conflict, FieldError, NotFound, ValidationFailed, id_of, optional_day
from app.common.numbers import input_text
from app.documents import logic, service
from app.documents.logic import CREDIT_NOTE, INVOICE, QUOTE, STATUS_LABELS, TYPE_LABELS, TYPE_PATHS
from app.documents.records import DocumentSummary, DocumentView
from app.mail import service as mail_service
from app.mail.logic import STATUS_LABELS as MAIL_STATUS_LABELS
from app.payments import service as payments_service
from app.recurring import service as recurring_service
from app.reminders import service as reminders_service
from app.render import logic as render_logic
from app.render import service as render_service
from app.taxes import service as taxes_service
from app.web.line_editor import line_errors, line_table_preview
from app.web.responses import actor_id, form_data, page, page_params, redirect
from app.web.security import OWNER_ONLY

PER_PAGE = 25
SECTIONS = {QUOTE: "quotes", INVOICE: "invoices", CREDIT_NOTE: "credit_notes"}
PLURALS = {QUOTE: L_("Quotes"), INVOICE: L_("Invoices"), CREDIT_NOTE: L_("Credit notes")}
# The status filter of each list, in the order a user thinks of them.
STATUS_FILTERS = {
    INVOICE: ["draft", "open", "issued", "sent", "partial", "overdue", "paid", "cancelled"],
    QUOTE: ["draft", "issued", "accepted", "declined", "expired", "converted"],
    CREDIT_NOTE: ["draft", "issued"],
}
EVENT_LABELS = {
    "created": L_("Created"), "issued": L_("Issued"), "sent": L_("Sent"), "credited": L_("Credited"), "credit note": L_("Credit note issued"),
    "cancelled": L_("Cancelled"), "converted": L_("Converted to an invoice"), "accepted": L_("Accepted by the client"),
    "declined": L_("Declined by the client"), "duplicated": L_("Duplicated"), "payment": L_("Payment recorded"),
    "payment reversed": L_("Payment reversed"), "credit applied": L_("Client credit applied"), "emailed": L_("Emailed"),
}
HEADER_FIELDS = ("client_id", "currency", "issue_date", "due_date", "terms_days", "valid_until", "discount_percent",
                 "notes", "terms", "footer", "invoice_id")


def _is_owner(request: Request) -> bool:
    identity = request.scope.get("user")
    return bool(identity and identity.is_owner)


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


def _ids(value: Any) -> list[int]:
    values = value if isinstance(value, list) else [value]
    return [i for v in values if (i := id_of(v)) is not None]


# -- lists ----------------------------------------------------------------------

def _searchable(q: str) -> str:
    """The search of a list shown after its filters were refused: none when it was itself refused (too long)."""
    return q if len(" ".join(q.split())) <= service.MAX_SEARCH else ""


async def _list(request: Request, doc_type: str, params: dict[str, str], *, status_code: int = 200,
                problem: str = "") -> Template:
    date_from, date_to = _parse_day(params["from"]), _parse_day(params["to"])
    status = params["status"] if params["status"] in STATUS_FILTERS[doc_type] else ""
    client_id = id_of(params["client_id"])
    sort = params["sort"] if params["sort"] in service.SORTS else "date"
    try:
        page_number = max(1, int(params["page"] or 1))
    except ValueError:
        page_number = 1
    try:
        # A broad search's count and sums come in a second request (_totals_route): the page stays quick.
        result = await service.list_documents(doc_type, status=status, client_id=client_id, date_from=date_from,
                                              date_to=date_to, q=params["q"], sort=sort,
                                              descending=params["dir"] != "asc", page=page_params(page_number, PER_PAGE),
                                              totals=False)
    except ValidationFailed as failed:
        problem = problem or "; ".join(e.message for e in failed.errors)
        result = await service.list_documents(doc_type, status=status, client_id=client_id, q=_searchable(params["q"]),
                                              sort=sort, descending=params["dir"] != "asc", page=page_params(1, PER_PAGE))
    client = None
    if client_id is not None:
        try:
            client = await clients_service.get_client(client_id)
        except NotFound:
            client = None
    filtered = bool(status or client_id or date_from or date_to or params["q"])
    template = "documents/_rows.html" if request.headers.get("hx-target") == "doc-results" else "documents/list.html"
    return page(request, template, status_code=status_code, section=SECTIONS[doc_type], title=PLURALS[doc_type],
                doc_type=doc_type, base=f"/{TYPE_PATHS[doc_type]}", result=result, params=params,
                statuses=[(s, lazy(STATUS_LABELS[s])) for s in STATUS_FILTERS[doc_type]], status_labels=translated(STATUS_LABELS),
                client=client, filtered=filtered, problem=problem, type_label=lazy(TYPE_LABELS[doc_type]),
                plural=PLURALS[doc_type], max_search=service.MAX_SEARCH)


def _list_route(doc_type: str) -> Any:
    @get(f"/{TYPE_PATHS[doc_type]}", name=f"{doc_type}-list-page")
    async def handler(request: Request, status: str = "", client_id: str = "", q: str = "",
                      date_from: str = QueryParameter(name="from", default=""),
                      date_to: str = QueryParameter(name="to", default=""), sort: str = "date", dir: str = "desc",
                      page_number: str = QueryParameter(name="page", default="1")) -> Template:
        params = {"status": status, "client_id": client_id, "q": q, "from": date_from, "to": date_to, "sort": sort,
                  "dir": dir, "page": page_number}
        return await _list(request, doc_type, params)
    return handler


def _totals_route(doc_type: str) -> Any:
    @get(f"/{TYPE_PATHS[doc_type]}/totals", name=f"{doc_type}-list-totals")
    async def handler(request: Request, status: str = "", client_id: str = "", q: str = "",
                      date_from: str = QueryParameter(name="from", default=""),
                      date_to: str = QueryParameter(name="to", default="")) -> Template:
        """htmx: the footer of a list whose count and sums were left out of its page (a broad search)."""
        day_from, day_to = _parse_day(date_from), _parse_day(date_to)
        status = status if status in STATUS_FILTERS[doc_type] else ""
        client = id_of(client_id)
        try:
            result = await service.list_documents(doc_type, status=status, client_id=client, date_from=day_from,
                                                  date_to=day_to, q=q, page=page_params(1, 1))
        except ValidationFailed:   # the page said what is wrong with its filters; the footer counts without them
            result = await service.list_documents(doc_type, status=status, client_id=client, q=_searchable(q),
                                                  page=page_params(1, 1))
        filtered = bool(status or client is not None or day_from or day_to or q)
        return page(request, "documents/_footer.html", doc_type=doc_type, result=result, filtered=filtered,
                    type_label=lazy(TYPE_LABELS[doc_type]), plural=PLURALS[doc_type])
    return handler


@post("/invoices/mark-sent")
async def invoices_mark_sent(request: Request) -> Response:
    """The list's bulk action: the ticked invoices are marked as sent."""
    data = await form_data(request)
    back = str(data.get("back") or "")
    back = back if back.startswith("/invoices") and "//" not in back else "/invoices"
    ids = _ids(data.get("ids"))
    if not ids:
        return redirect(back, flash=_("Tick the invoices to mark as sent first."), request=request)
    try:
        changed = await service.mark_sent(ids, actor=actor_id(request))
    except (Conflict, NotFound) as error:
        params = {"status": "", "client_id": "", "q": "", "from": "", "to": "", "sort": "date", "dir": "desc", "page": "1"}
        return await _list(request, INVOICE, params, status_code=409 if isinstance(error, Conflict) else 404,
                           problem=_("Nothing was marked: %(detail)s", detail=error.detail))
    count = len(changed)
    message = (ngettext("%(num)s invoice marked as sent.", "%(num)s invoices marked as sent.", count) % {"num": count} if count
               else _("Those invoices were already sent; the date is updated."))
    return redirect(back, flash=message, request=request)


# -- a new document ------------------------------------------------------------------

async def _client_choices(q: str) -> tuple[list[ClientView], int]:
    if q.strip():
        result = await clients_service.list_clients(q=q, status="active", page=page_params(1, 12))
        return result.items, result.total
    result = await clients_service.list_clients(status="active", page=page_params(1, 1))
    return await clients_service.recent_clients(limit=8), result.total


def _new_route(doc_type: str) -> Any:
    @get(f"/{TYPE_PATHS[doc_type]}/new", name=f"{doc_type}-new-page")
    async def new_page(request: Request, q: str = "") -> Template:
        clients, total = await _client_choices(q)
        template = "documents/_client_pick.html" if request.headers.get("hx-target") == "client-pick" else "documents/new.html"
        return page(request, template, section=SECTIONS[doc_type], title=_("New %(lower)s", lower=_(TYPE_LABELS[doc_type]).lower()),
                    doc_type=doc_type, base=f"/{TYPE_PATHS[doc_type]}", clients=clients, total=total, q=q,
                    type_label=lazy(TYPE_LABELS[doc_type]), plural=PLURALS[doc_type], problem="")
    return new_page


def _create_route(doc_type: str) -> Any:
    @post(f"/{TYPE_PATHS[doc_type]}/new", name=f"{doc_type}-new-form")
    async def create(request: Request) -> Response:
        data = await form_data(request)
        try:
            document = await service.create_document(doc_type, {"client_id": data.get("client_id")},
                                                     actor=actor_id(request))
        except ValidationFailed as failed:
            clients, total = await _client_choices("")
            return page(request, "documents/new.html", status_code=422, section=SECTIONS[doc_type],
                        title=_("New %(lower)s", lower=_(TYPE_LABELS[doc_type]).lower()), doc_type=doc_type,
                        base=f"/{TYPE_PATHS[doc_type]}", clients=clients, total=total, q="",
                        type_label=lazy(TYPE_LABELS[doc_type]), plural=PLURALS[doc_type],
                        problem="; ".join(e.message for e in failed.errors))
        return redirect(f"/documents/{document.id}/edit", request=request)
    return create


# -- the editor ----------------------------------------------------------------------

def _percent_field(value: Decimal) -> str:
    """A discount as the editor shows it: empty for none, else its exact text ("2.5")."""
    text = logic.decimal_text(value)
    return "" if text == "0" else input_text(Decimal(text))


def _header_from_document(doc: DocumentView) -> dict[str, Any]:
    def text(value: Any) -> str:
        return "" if value is None else value.isoformat() if isinstance(value, date) else str(value)
    values = {
        "client_id": str(doc.client_id), "currency": doc.currency, "issue_date": text(doc.issue_date),
        "due_date": text(doc.due_date), "terms_days": text(doc.terms_days), "valid_until": text(doc.valid_until),
        "discount_percent": _percent_field(doc.discount_percent), "notes": doc.notes, "terms": doc.terms,
        "footer": doc.footer, "invoice_id": text(doc.invoice_id),
    }
    values["due_date_was"], values["valid_until_was"] = values["due_date"], values["valid_until"]
    return values


async def _new_line(values: Mapping[str, Any]) -> dict[str, Any]:
    """A blank line, with the taxes the rules give a typed line for the draft's client."""
    return {**logic.blank_line(), "taxes": list((await service.tax_advice(values.get("client_id"))).defaults().codes)}


def _lines_from_document(doc: DocumentView, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The document's lines as the editor's form fields (exact text, the item's label)."""
    labels = {item["id"]: item["label"] for item in items}
    return [{"item": labels.get(line.item_id, "") if line.item_id else "", "item_id": str(line.item_id or ""),
             "name": line.name, "description": line.description, "quantity": input_text(line.quantity), "unit": line.unit,
             "unit_price": input_text(line.unit_price), "discount_percent": _percent_field(line.discount_percent),
             "taxes": list(line.taxes)} for line in doc.lines]


def _header_from_form(data: Mapping[str, Any]) -> dict[str, Any]:
    values = {}
    for name in (*HEADER_FIELDS, "due_date_was", "valid_until_was", "confirm_date"):
        value = data.get(name, "")
        values[name] = (value[0] if value else "") if isinstance(value, list) else str(value or "")
    return values


async def _editor_context(doc: DocumentView, values: dict[str, Any], lines: list[dict[str, Any]],
                          items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    if items is None:
        items = await service.picker_items(_ids([line.get("item_id") for line in lines]))
    taxes = await taxes_service.list_taxes()
    used = {code for line in lines for code in line["taxes"]}
    preview = await service.preview(doc.doc_type, {**values, "lines": lines})
    client = None
    if id_of(values["client_id"]) is not None:
        try:
            client = await clients_service.get_client(int(values["client_id"]))
        except NotFound:
            client = None
    targets: list[DocumentSummary] = []
    if doc.doc_type == CREDIT_NOTE and client is not None:
        targets = await service.credit_targets(client.id, preview["currency"])
        if id_of(values["invoice_id"]) is not None and int(values["invoice_id"]) not in {t.id for t in targets}:
            try:
                linked = await service.get_document(int(values["invoice_id"]), INVOICE, with_lines=False)
                targets.insert(0, linked)
            except NotFound:
                pass
    einvoice = await service.einvoice_warnings(client, sorted(used))
    advice = await service.tax_advice(values["client_id"])
    tax_hints = logic.line_tax_hints(lines, {str(item["id"]): item for item in items}, advice)
    return {"doc": doc, "values": values, "lines": lines, "items": [i for i in items if i["active"]],
            "tax_hints": tax_hints,
            "tax_rates": [t for t in taxes if t["active"] or t["code"] in used], "preview": preview,
            "client": client, "credit_targets": targets, "einvoice": einvoice, "type_label": lazy(TYPE_LABELS[doc.doc_type]),
            "base": f"/{TYPE_PATHS[doc.doc_type]}", "plural": PLURALS[doc.doc_type]}


def _editor_page(request: Request, context: dict[str, Any], errors: dict[str, str], *, status_code: int = 200,
                 focus: int | None = None) -> Template:
    doc = context["doc"]
    return page(request, "documents/editor.html", status_code=status_code, section=SECTIONS[doc.doc_type],
                title=_("Edit draft %(lower)s", lower=context['type_label'].lower()), errors=errors, line_errors=line_errors(errors),
                focus=focus, focus_field="item", **context)


async def _draft(document_id: int) -> DocumentView:
    """The draft to edit; an issued document raises _Locked with the reason (shown as a 409 page)."""
    doc = await service.get_document(document_id)
    try:
        logic.check_editable(doc.doc_type, doc.status)
    except Conflict as error:
        raise _Locked(doc, error.detail) from None
    return doc


class _Locked(Exception):
    def __init__(self, doc: DocumentView, detail: str):
        self.doc, self.detail = doc, detail


def _locked_page(request: Request, locked: _Locked) -> Template:
    doc = locked.doc
    return page(request, "documents/locked.html", status_code=409, section=SECTIONS[doc.doc_type],
                title=_("This document is issued"), doc=doc, detail=locked.detail, type_label=lazy(TYPE_LABELS[doc.doc_type]),
                base=f"/{TYPE_PATHS[doc.doc_type]}", plural=PLURALS[doc.doc_type])


@get("/documents/{document_id:int}/edit")
async def editor_page(request: Request, document_id: int) -> Template:
    try:
        doc = await _draft(document_id)
    except _Locked as locked:
        return _locked_page(request, locked)
    items = await service.picker_items([line.item_id for line in doc.lines if line.item_id])
    values = _header_from_document(doc)
    lines = _lines_from_document(doc, items) or [await _new_line(values)]
    context = await _editor_context(doc, values, lines, items)
    return _editor_page(request, context, {}, focus=0 if not doc.lines else None)


@post("/documents/{document_id:int}/preview")
async def editor_preview(request: Request, document_id: int) -> Response:
    """htmx, while the user types: the line nets and totals (and, after a structural change or an
    item pick, the whole line table) computed by the server from the form as it stands."""
    try:
        doc = await _draft(document_id)
    except _Locked as locked:
        return Response(content=locked.detail, status_code=409, headers={"HX-Reswap": "none"})
    data = await form_data(request)
    values = _header_from_form(data)

    async def new_line() -> dict[str, Any]:
        return await _new_line(values)

    async def context(lines: list[dict[str, Any]]) -> dict[str, Any]:
        return await _editor_context(doc, values, lines)

    return await line_table_preview(request, data, client_id=values["client_id"], new_line=new_line,
                                    context=context, currency=values["currency"] or None,
                                    day=values["issue_date"] or None)


@post("/documents/{document_id:int}/edit")
async def editor_save(request: Request, document_id: int) -> Response:
    """Save draft; or, asked by the editor's autosave (X-Autosave: 1) a moment after each change, the
    same save answered with 204 (saved) or 422 and the first problem as text, and no page."""
    autosave = request.headers.get("x-autosave") == "1"
    try:
        doc = await _draft(document_id)
    except _Locked as locked:
        return _locked_page(request, locked)
    data = await form_data(request)
    values = _header_from_form(data)
    lines, _picked, unknown_items = await service.apply_item_picks(logic.lines_from_form(data),
                                                             advice=await service.tax_advice(values["client_id"]),
                                                             currency=values["currency"] or None,
                                                             day=values["issue_date"] or None)
    kept = [index for index, line in enumerate(lines) if not logic.line_is_blank(line)]
    body: dict[str, Any] = {name: values[name] for name in ("client_id", "currency", "issue_date", "discount_percent",
                                                            "notes", "terms", "footer", "confirm_date")}
    if doc.doc_type == INVOICE:
        body["terms_days"] = values["terms_days"]
        # A due date the user did not touch follows the issue date and the terms.
        if values["due_date"] and values["due_date"] != values["due_date_was"]:
            body["due_date"] = values["due_date"]
    elif doc.doc_type == QUOTE:
        if values["valid_until"] and values["valid_until"] != values["valid_until_was"]:
            body["valid_until"] = values["valid_until"]
    else:
        body["invoice_id"] = values["invoice_id"]
    body["lines"] = [{"item_id": lines[i]["item_id"] or None, "name": lines[i]["name"], "description": lines[i]["description"],
                      "quantity": lines[i]["quantity"], "unit": lines[i]["unit"], "unit_price": lines[i]["unit_price"],
                      "discount_percent": lines[i]["discount_percent"], "taxes": lines[i]["taxes"]} for i in kept]
    errors: dict[str, str] = {f"lines-{index}-item": message for index, message in unknown_items.items()}
    if not kept:
        errors["lines"] = _("Add at least one line: pick an item or type a description and a price.")
    try:
        if errors:
            try:
                logic.clean_document(body, doc.doc_type, partial=True)
            except ValidationFailed as failed:
                raise ValidationFailed([*failed.errors, *(FieldError(k, v) for k, v in errors.items())]) from None
            raise ValidationFailed([FieldError(k, v) for k, v in errors.items()])
        await service.update_draft(document_id, body, actor=actor_id(request))
    except ValidationFailed as failed:
        mapped: dict[str, str] = {}
        for error in failed.errors:
            mapped.setdefault(logic.form_error_field(error.field, kept), error.message)
        if autosave:
            return Response(content=_("Not saved: %(problem)s", problem=next(iter(mapped.values()), "")),
                            media_type="text/plain", status_code=422)
        context = await _editor_context(doc, values, lines or [logic.blank_line()])
        context["ask_confirm_date"] = logic.asks_date_confirmation(failed.errors)
        return _editor_page(request, context, mapped, status_code=422)
    if autosave:
        return Response(content=None, status_code=204)
    return redirect(f"/documents/{document_id}", flash=_("Draft saved."), request=request)


@get("/documents/client-options")
async def client_options(request: Request, client_q: str = "", client_id: str = "", document_id: str = "") -> Template:
    """htmx: the editor's client chooser, the chosen client first, then those matching what was typed, and
    a link to add what was typed as a new client and come back to this draft (`document_id`)."""
    chosen = None
    if id_of(client_id) is not None:
        try:
            chosen = await clients_service.get_client(int(client_id))
        except NotFound:
            chosen = None
    matches = []
    if client_q.strip():
        matches = (await clients_service.list_clients(q=client_q, status="active", page=page_params(1, 8))).items
    options = ([chosen] if chosen else []) + [c for c in matches if not chosen or c.id != chosen.id]
    return page(request, "documents/_client_options.html", options=options, chosen=chosen, client_q=client_q,
                document_id=id_of(document_id))


# -- the document page -------------------------------------------------------------

async def _view(request: Request, document_id: int, *, status_code: int = 200, problem: str = "",
                errors: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> Template:
    doc = await service.get_document(document_id)
    doc_type = doc.doc_type
    client: ClientView | Mapping[str, Any] | None = None
    if doc.snapshot:
        client = doc.snapshot["client"]
    else:
        try:
            client = await clients_service.get_client(doc.client_id)
        except NotFound:
            client = None
    events = await service.history(document_id)
    users = {user["id"]: user["name"] for user in await auth_service.list_users()}
    related = await service.related(document_id) if doc_type == INVOICE else []
    payments = []
    if doc_type == INVOICE and doc.status != "draft":
        payments = (await payments_service.list_payments(invoice_id=document_id, page=page_params(1, 100))).items
    mail_log = await mail_service.messages_for_document(document_id) if doc.status != "draft" else []
    record = await service.document_record(document_id) if doc.status != "draft" else None
    reminders = await reminders_service.reminders_for_invoice(document_id) \
        if doc_type == INVOICE and doc.status != "draft" else []
    einvoice = None
    if doc.status == "draft":  # a draft has no snapshot: its client is today's
        einvoice = await service.einvoice_warnings(client if isinstance(client, ClientView) else None,
                                                   doc.tax_codes())
    recurring = await recurring_service.link_of(document_id) if doc_type == INVOICE else None
    einvoice_status, einvoice_ahead = None, None
    if doc_type in (INVOICE, CREDIT_NOTE) and doc.status != "draft":
        einvoice_status = await render_service.einvoice_status(document_id)
    elif doc_type in (INVOICE, CREDIT_NOTE) and doc.lines:   # said before issuing, not only after
        einvoice_ahead = render_logic.einvoice_content_problem(doc)
    actions = logic.available_actions(doc_type, doc.status, doc.shown_status, paid=doc.paid,
                                      credited=doc.credited, balance_due=doc.balance, is_owner=_is_owner(request))
    return page(request, "documents/view.html", status_code=status_code, section=SECTIONS[doc_type],
                title=f"{_(TYPE_LABELS[doc_type])} {doc.number or _('(draft)')}", doc=doc, client=client,
                events=events, users=users, related=related, payments=payments, actions=actions,
                status_labels=translated(STATUS_LABELS), event_labels=EVENT_LABELS, type_label=lazy(TYPE_LABELS[doc_type]),
                base=f"/{TYPE_PATHS[doc_type]}", plural=PLURALS[doc_type], problem=problem, errors=errors or {},
                values=values or {}, mail_log=mail_log, mail_status_labels=translated(MAIL_STATUS_LABELS), einvoice=einvoice,
                record=record, recurring=recurring, einvoice_status=einvoice_status, einvoice_ahead=einvoice_ahead,
                reminders=reminders)


@get("/documents/{document_id:int}")
async def document_page(request: Request, document_id: int) -> Template:
    return await _view(request, document_id)


async def _act(request: Request, document_id: int, action: Any, done: str, *, to: str | None = None) -> Response:
    """Run one action; its Conflict (409) or refusal is shown on the document's page, not as a crash.

    `done` (the flash) and `to` (where to go) may name the document the action returns: `{doc.number}`."""
    try:
        result = await action()
    except Conflict as conflict:
        return await _view(request, document_id, status_code=409, problem=conflict.detail)
    except ValidationFailed as failed:
        return await _view(request, document_id, status_code=422,
                           problem="; ".join(e.message for e in failed.errors))
    target = to.format(doc=result) if to and result is not None else to or f"/documents/{document_id}"
    message = done.format(doc=result) if result is not None else done
    return redirect(target, flash=message, request=request)


@post("/documents/{document_id:int}/issue")
async def issue_form(request: Request, document_id: int) -> Response:
    """Issue, dated today; or, from the "Back-date…" form, with an earlier date the user ticks on purpose."""
    data = await form_data(request)
    backdating = "issue_date" in data
    try:
        issue_date = optional_day(data.get("issue_date"), "issue_date") if backdating else None
        backdate = str(data.get("backdate") or "") in ("1", "on", "true")
        doc = await service.issue(document_id, actor=actor_id(request), issue_date=issue_date, backdate=backdate)
    except (Conflict, ValidationFailed) as refused:
        values = {"issue_date": str(data.get("issue_date") or ""), "backdate": str(data.get("backdate") or "")}
        if isinstance(refused, Conflict):
            return await _view(request, document_id, status_code=409, problem=refused.detail,
                               errors={"issue_date": refused.detail} if backdating else {}, values=values)
        # The date fields are the back-date form's own (shown beside them); any other field (a line, the
        # client, the template: what could not be printed) is named in the message at the top.
        return await _view(request, document_id, status_code=422,
                           problem="; ".join(e.message for e in refused.errors),
                           errors={e.field: e.message for e in refused.errors if e.field in ("issue_date", "backdate")},
                           values=values)
    return redirect(f"/documents/{document_id}", request=request,
                    flash=_("Issued as %(number)s, dated %(isoformat)s. The number is final; correct it with a credit note if needed.", number=doc.number, isoformat=doc.issue_date.isoformat()))


@post("/documents/{document_id:int}/delete", opt=OWNER_ONLY)
async def delete_form(request: Request, document_id: int) -> Response:
    doc = await service.get_document(document_id, with_lines=False)

    async def remove() -> None:
        await service.delete_draft(document_id)
    return await _act(request, document_id, remove, _("The draft %(lower)s is deleted.", lower=_(TYPE_LABELS[doc.doc_type]).lower()),
                      to=f"/{TYPE_PATHS[doc.doc_type]}")


@post("/documents/{document_id:int}/mark-sent")
async def mark_sent_form(request: Request, document_id: int) -> Response:
    async def mark() -> DocumentView:
        await service.mark_sent([document_id], actor=actor_id(request))
        return await service.get_document(document_id, with_lines=False)
    return await _act(request, document_id, mark, "{doc.number} is marked as sent.")


@post("/documents/{document_id:int}/duplicate")
async def duplicate_form(request: Request, document_id: int) -> Response:
    return await _act(request, document_id, lambda: service.duplicate(document_id, actor=actor_id(request)),
                      _("A new draft copy; change what you need and issue it."), to="/documents/{doc.id}/edit")


@post("/documents/{document_id:int}/convert")
async def convert_form(request: Request, document_id: int) -> Response:
    await service.get_document(document_id, QUOTE, with_lines=False)
    return await _act(request, document_id, lambda: service.convert_quote(document_id, actor=actor_id(request)),
                      _("The quote is now a draft invoice; check it and issue it."), to="/documents/{doc.id}/edit")


def _decide_route(action: str, message: str) -> Any:
    @post(f"/documents/{{document_id:int}}/{action}", name=f"document-{action}")
    async def handler(request: Request, document_id: int) -> Response:
        await service.get_document(document_id, QUOTE, with_lines=False)
        return await _act(request, document_id,
                          lambda: service.decide_quote(document_id, action, actor=actor_id(request)), message)
    return handler


@post("/documents/{document_id:int}/cancel")
async def cancel_form(request: Request, document_id: int) -> Response:
    data = await form_data(request)
    reason = str(data.get("reason") or "")
    try:
        await service.get_document(document_id, INVOICE, with_lines=False)
        doc = await service.cancel(document_id, reason, actor=actor_id(request))
    except ValidationFailed as failed:
        return await _view(request, document_id, status_code=422, errors=failed.by_field(), values={"reason": reason})
    except Conflict as conflict:
        return await _view(request, document_id, status_code=409, problem=conflict.detail)
    return redirect(f"/documents/{document_id}", flash=_("%(number)s is cancelled; a credit note for its full amount was issued.", number=doc.number), request=request)


@post("/documents/{document_id:int}/credit")
async def credit_form(request: Request, document_id: int) -> Response:
    await service.get_document(document_id, INVOICE, with_lines=False)
    return await _act(request, document_id, lambda: service.credit_invoice(document_id, actor=actor_id(request)),
                      _("A draft credit note with the invoice's lines: keep what you credit, then issue it."),
                      to="/documents/{doc.id}/edit")


@post("/clients/{client_id:int}/new/{doc_kind:str}")
async def client_new_document(request: Request, client_id: int, doc_kind: str) -> Response:
    """The client page's New invoice / New quote buttons: the draft is made at once."""
    doc_type = {path: t for t, path in TYPE_PATHS.items()}.get(doc_kind)
    if doc_type is None:
        raise NotFound(_("Document type %(doc_kind)s", doc_kind=doc_kind))
    document = await service.create_document(doc_type, {"client_id": client_id}, actor=actor_id(request))
    return redirect(f"/documents/{document.id}/edit", request=request)


ROUTES = [
    *(_list_route(t) for t in (QUOTE, INVOICE, CREDIT_NOTE)),
    *(_totals_route(t) for t in (QUOTE, INVOICE, CREDIT_NOTE)),
    *(_new_route(t) for t in (QUOTE, INVOICE, CREDIT_NOTE)),
    *(_create_route(t) for t in (QUOTE, INVOICE, CREDIT_NOTE)),
    invoices_mark_sent, editor_page, editor_preview, editor_save, client_options, document_page,
    issue_form, delete_form, mark_sent_form, duplicate_form, convert_form,
    _decide_route("accept", L_("The quote is accepted. Convert it into an invoice when the work is done.")),
    _decide_route("decline", L_("The quote is marked as declined.")),
    cancel_form, credit_form, client_new_document,
]
