"""Catalogue pages and /api/v1/items."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Template

from app.catalog import logic, service
from app.common.i18n import _
from app.common.logic import ValidationFailed
from app.taxes.logic import TAX_CATEGORIES
from app.web.responses import form_data, page, page_params, redirect
from app.web.security import OWNER_ONLY

PER_PAGE = 25


def _tax_categories() -> list[tuple[str, str]]:
    return [(key, _(label)) for key, label in TAX_CATEGORIES.items()]


def _form_values(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "unit_price": logic.e4_to_price(row["unit_price_e4"]), "default_taxes": row["default_tax_codes"],
            "prices": logic.prices_text(row)}


@get("/catalog")
async def catalog_page(request: Request, q: str = "", show: str = "active", category: str = "", sort: str = "name",
                       dir: str = "asc", page_number: int = QueryParameter(name="page", default=1)) -> Template:
    active = {"active": True, "inactive": False}.get(show)
    result = await service.list_items(q=q, active=active, category=category, sort=sort, descending=dir == "desc",
                                      page=page_params(page_number, PER_PAGE))
    template = "catalog/_rows.html" if request.headers.get("hx-target") == "item-results" else "catalog/list.html"
    return page(request, template, section="catalog", title=_("Catalogue"), result=result, q=q, show=show,
                category=category, categories=await service.categories(), sort=sort, dir=dir,
                price=logic.e4_to_price)


@get("/catalog/new")
async def item_new_page(request: Request) -> Template:
    return page(request, "catalog/form.html", section="catalog", title=_("New item"), item=None,
                values={"kind": "service", "active": True}, errors={}, kinds=logic.KINDS, tax_categories=_tax_categories(),
                categories=await service.categories())


@post("/catalog")
async def item_create_form(request: Request) -> Response:
    data = await form_data(request)
    data.setdefault("active", "off")
    try:
        item = await service.create_item(data)
    except ValidationFailed as failed:
        return page(request, "catalog/form.html", status_code=422, section="catalog", title=_("New item"), item=None,
                    values=data, errors=failed.by_field(), kinds=logic.KINDS, tax_categories=_tax_categories(), categories=await service.categories())
    return redirect("/catalog", flash=_("%(name)s is in the catalogue.", name=item['name']), request=request)


@get("/catalog/{item_id:int}/edit")
async def item_edit_page(request: Request, item_id: int) -> Template:
    item = await service.get_item(item_id)
    return page(request, "catalog/form.html", section="catalog", title=_("Edit %(name)s", name=item['name']), item=item,
                values=_form_values(item), errors={}, kinds=logic.KINDS, tax_categories=_tax_categories(), categories=await service.categories())


@post("/catalog/{item_id:int}/edit")
async def item_edit_form(request: Request, item_id: int) -> Response:
    item = await service.get_item(item_id)
    data = await form_data(request)
    data.setdefault("active", "off")
    try:
        item = await service.update_item(item_id, data)
    except ValidationFailed as failed:
        return page(request, "catalog/form.html", status_code=422, section="catalog", title=_("Edit %(name)s", name=item['name']),
                    item=item, values=data, errors=failed.by_field(), kinds=logic.KINDS, tax_categories=_tax_categories(),
                    categories=await service.categories())
    return redirect("/catalog", flash=_("%(name)s is updated.", name=item['name']), request=request)


@post("/catalog/{item_id:int}/delete", opt=OWNER_ONLY)
async def item_delete_form(request: Request, item_id: int) -> Response:
    item = await service.get_item(item_id)
    await service.delete_item(item_id)
    return redirect("/catalog", flash=_("%(name)s is deleted.", name=item['name']), request=request)


ROUTES = [catalog_page, item_new_page, item_create_form, item_edit_page, item_edit_form, item_delete_form]
