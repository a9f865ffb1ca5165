"""Client pages and /api/v1/clients over the same service functions."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Template

from app.clients import logic, service
from app.clients.records import ClientView
from app.common.i18n import _
from app.common.logic import Conflict, NotFound, ValidationFailed
from app.documents import logic as documents_logic
from app.documents import service as documents_service
from app.ledger import logic as ledger_logic
from app.ledger import service as ledger_service
from app.payments import service as payments_service
from app.receivables import logic as receivables_logic
from app.receivables import service as receivables_service
from app.reminders import service as reminders_service
from app.settings import service as settings_service
from app.web.api.clients import default_currency
from app.web.responses import actor_id, form_data, page, page_params, redirect
from app.web.security import OWNER_ONLY

PER_PAGE = 25


@get("/clients")
async def clients_page(request: Request, q: str = "", status: str = "active", sort: str = "name",
                       dir: str = "asc", page_number: int = QueryParameter(name="page", default=1)) -> Template:
    result = await service.list_clients(q=q, status=status, sort=sort, descending=dir == "desc",
                                        page=page_params(page_number, PER_PAGE))
    counts = await service.count_clients()
    balances = await ledger_service.balances([client.id for client in result.items])
    template = "clients/_rows.html" if request.headers.get("hx-target") == "client-results" else "clients/list.html"
    return page(request, template, section="clients", title=_("Clients"), result=result, q=q, status=status,
                sort=sort, dir=dir, counts=counts, balances=balances, standing=ledger_logic.standing)


@get("/clients/new")
async def client_new_page(request: Request, name: str = "", return_to: str = "") -> Template:
    """A new client; from a document's client picker, `name` is what was typed there and `return_to`
    the document (or the new-document page) to come back to with the client picked."""
    back = documents_logic.client_return_target(return_to)
    return page(request, "clients/form.html", section="clients", title=_("New client"), client=None,
                values={"currency": await default_currency(), "language": "en", "name": name.strip()[:200]}, errors={},
                languages=logic.LANGUAGES, return_to=back.path if back else "")


@post("/clients")
async def client_create_form(request: Request) -> Response:
    data = await form_data(request)
    back = documents_logic.client_return_target(str(data.get("return_to") or ""))
    try:
        client = await service.create_client(data, default_currency=await default_currency())
    except ValidationFailed as failed:
        return page(request, "clients/form.html", status_code=422, section="clients", title=_("New client"),
                    client=None, values=data, errors=failed.by_field(), languages=logic.LANGUAGES,
                    return_to=back.path if back else "")
    saved = _("%(name)s is saved as %(code)s.", name=client.name, code=client.code)
    if back is not None:
        return await _back_to_document(request, back, client, saved)
    return redirect(f"/clients/{client.id}", flash=saved, request=request)


async def _back_to_document(request: Request, back: documents_logic.ClientReturn, client: ClientView,
                            saved: str) -> Response:
    """Back where the client picker was, with the new client picked: a new draft for them, or the draft
    being edited now billing them. A draft that can no longer take them (issued meanwhile, deleted)
    leaves the client saved and says why."""
    try:
        if back.document_id is None:
            document = await documents_service.create_document(back.doc_type, {"client_id": client.id},
                                                               actor=actor_id(request))
        else:
            document = await documents_service.update_draft(back.document_id, {"client_id": client.id},
                                                            actor=actor_id(request))
    except (Conflict, NotFound, ValidationFailed) as problem:
        return redirect(f"/clients/{client.id}", flash=f"{saved} {problem}", request=request)
    return redirect(f"/documents/{document.id}/edit", flash=_("%(saved)s It is picked on this draft.", saved=saved),
                    request=request)


@get("/clients/{client_id:int}")
async def client_page(request: Request, client_id: int) -> Template:
    client = await service.get_client(client_id)
    today = await settings_service.today()
    # The account per currency: the ledger's balance, the open and overdue invoices behind it, and the
    # credit not yet applied (app.receivables.logic.account_lines).
    accounts = receivables_logic.account_lines(
        (await ledger_service.balances([client_id])).get(client_id, []), await payments_service.credits_of(client_id),
        await receivables_service.open_invoices(client_id), today)
    return page(request, "clients/detail.html", section="clients", title=client.name, client=client,
                languages=logic.LANGUAGES, documents=await documents_service.client_documents(client_id),
                reference_warning=logic.leitweg_id_problem(client.buyer_reference),
                no_reminders=await reminders_service.client_no_reminders(client_id),
                accounts=accounts, standing=ledger_logic.standing,
                statement_from=today.replace(month=1, day=1), statement_to=today)


@get("/clients/{client_id:int}/edit")
async def client_edit_page(request: Request, client_id: int) -> Template:
    client = await service.get_client(client_id)
    return page(request, "clients/form.html", section="clients", title=_("Edit %(name)s", name=client.name), client=client,
                values=client.form_values(), errors={}, languages=logic.LANGUAGES)


@post("/clients/{client_id:int}/edit")
async def client_edit_form(request: Request, client_id: int) -> Response:
    client = await service.get_client(client_id)
    data = await form_data(request)
    try:
        client = await service.update_client(client_id, data)
    except ValidationFailed as failed:
        return page(request, "clients/form.html", status_code=422, section="clients", title=_("Edit %(name)s", name=client.name),
                    client=client, values=data, errors=failed.by_field(), languages=logic.LANGUAGES)
    return redirect(f"/clients/{client_id}", flash=_("%(name)s is updated.", name=client.name), request=request)


@post("/clients/{client_id:int}/archive", opt=OWNER_ONLY)
async def client_archive_form(request: Request, client_id: int) -> Response:
    client = await service.set_status(client_id, "archived")
    return redirect(f"/clients/{client_id}", flash=_("%(name)s is archived; find it under Archived.", name=client.name),
                    request=request)


@post("/clients/{client_id:int}/restore", opt=OWNER_ONLY)
async def client_restore_form(request: Request, client_id: int) -> Response:
    client = await service.set_status(client_id, "active")
    return redirect(f"/clients/{client_id}", flash=_("%(name)s is active again.", name=client.name), request=request)


ROUTES = [clients_page, client_new_page, client_create_form, client_page, client_edit_page, client_edit_form,
    client_archive_form, client_restore_form]
