"""Tax rates: a settings page (owner) and /api/v1/taxes."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from app.common.i18n import _, translated
from app.common.logic import ValidationFailed
from app.taxes import logic, service
from app.web.responses import form_data, page, redirect
from app.web.security import OWNER_ONLY


async def _page(request: Request, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    taxes = await service.list_taxes()
    return page(request, "settings/taxes.html", status_code=status_code, section="settings", title=_("Taxes"),
                taxes=taxes, presets=logic.all_presets(), categories=translated(logic.CATEGORIES),
                values=values, errors=errors, text_languages=logic.TEXT_LANGUAGE_LABELS,
                texts={t["code"]: {"name": logic.texts_of(t.get("names")), "note": logic.texts_of(t.get("notes"))}
                       for t in taxes})


@get("/settings/taxes", opt=OWNER_ONLY)
async def taxes_page(request: Request) -> Template:
    return await _page(request, {"category": "S"}, {})


@post("/settings/taxes", opt=OWNER_ONLY)
async def taxes_create(request: Request) -> Response:
    data = await form_data(request)
    data.setdefault("compound", "off")
    try:
        tax = await service.create_tax(data)
    except ValidationFailed as failed:
        return await _page(request, data, failed.by_field(), status_code=422)
    return redirect("/settings/taxes", flash=_("%(code)s (%(rate)s %%) added.", code=tax['code'], rate=tax['rate']), request=request)


@post("/settings/taxes/preset", opt=OWNER_ONLY)
async def taxes_preset(request: Request) -> Response:
    data = await form_data(request)
    preset = str(data.get("preset", ""))
    added = await service.apply_preset(preset)
    if added:
        message = _("Added %(codes)s.", codes=", ".join(added))
    elif not (logic.preset_of(preset) or ("", []))[1]:
        message = _("No tax by default there: add the sales tax rates you charge below, and pick them on the lines "
                    "where they apply.")
    else:
        message = _("Those rates were already defined.")
    return redirect("/settings/taxes", flash=message, request=request)


@post("/settings/taxes/{code:str}", opt=OWNER_ONLY)
async def taxes_update(request: Request, code: str) -> Response:
    data = await form_data(request)
    data.setdefault("compound", "off")
    data.setdefault("active", "off")
    try:
        tax = await service.update_tax(code, data)
    except ValidationFailed as failed:
        # Named after the row (GST.rate), so the add form below keeps its own fields clean.
        return await _page(request, {"category": "S"}, {f"{code.upper()}.{k}": v for k, v in failed.by_field().items()},
                           status_code=422)
    return redirect("/settings/taxes", flash=_("%(code)s saved. Issued documents keep the rate they had.", code=tax['code']),
                    request=request)


ROUTES = [taxes_page, taxes_create, taxes_preset, taxes_update]
