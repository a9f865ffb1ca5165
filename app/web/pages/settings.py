"""Settings page (owner only), the logo, the business card PDF, and /api/v1/settings."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import File, Template

from app.common.i18n import _, translated
from app.common.logic import NotFound, ValidationFailed
from app.config import Config
from app.documents import service as documents_service
from app.documents.logic import PATTERN_FIELDS
from app.render import service as render_service
from app.settings import logic, service
from app.taxes import service as taxes_service
from app.web.responses import download, form_data, page, redirect
from app.web.security import OWNER_ONLY

TEMPLATE_FIELDS = ("use_custom_templates",)   # saved by the Document templates section


def templates_info(config: Config) -> dict[str, Any]:
    """Where the user's templates live and which are there, for the Document templates section."""
    return {"folder": render_service.custom_templates_dir(config.data_dir),
            "files": render_service.custom_template_files(config.data_dir),
            "defaults": [p.as_posix() for p in render_service.default_template_files()]}


async def _page(request: Request, config: Config, settings: dict[str, Any], values: dict[str, Any],
                errors: dict[str, str], status_code: int = 200, numbering_values: dict[str, Any] | None = None,
                logo_message: str = "") -> Template:
    year = (await service.today()).year
    numbering = await documents_service.numbering(year)
    return page(request, "settings/settings.html", status_code=status_code, section="settings", title=_("Settings"),
                settings=settings, values=values, errors=errors, locales=logic.LOCALES, year=year,
                payment_means=translated(logic.PAYMENT_MEANS), logo_message=logo_message,
                pst_provinces=logic.PST_PROVINCES,
                paper_sizes=[(key, _(label)) for key, label in logic.PAPER_SIZES.items()],
                templates=templates_info(config),
                numbering=numbering, taxes=await taxes_service.list_taxes(),
                numbering_values=numbering_values or {
                    **{PATTERN_FIELDS[row["doc_type"]]: row["pattern"] for row in numbering},
                    **{f"{row['doc_type']}_next": row["next_seq"] for row in numbering}})


@get("/settings", opt=OWNER_ONLY)
async def settings_page(request: Request, config: Config) -> Template:
    settings = await service.get_settings()
    return await _page(request, config, settings, settings, {})


@post("/settings", opt=OWNER_ONLY)
async def settings_submit(request: Request, config: Config) -> Response:
    data = await form_data(request)
    current = await service.get_settings()
    for name in TEMPLATE_FIELDS:  # saved by its own section, not by this form (the patterns by Numbering)
        data.setdefault(name, current[name])
    try:
        await service.update_settings(data, actor_id=request.scope["user"].user_id, partial=False)
    except ValidationFailed as failed:
        return await _page(request, config, await service.get_settings(), data, failed.by_field(), status_code=422)
    return redirect("/settings", flash=_("Settings saved."), request=request)


@post("/settings/numbering", opt=OWNER_ONLY)
async def settings_numbering(request: Request, config: Config) -> Response:
    """Number patterns and the next number of each series this year (users moving from another program)."""
    data = await form_data(request)
    year = (await service.today()).year
    try:
        await documents_service.save_numbering(year, data, actor=request.scope["user"].user_id)
    except ValidationFailed as failed:
        settings = await service.get_settings()
        return await _page(request, config, settings, settings, failed.by_field(), status_code=422,
                           numbering_values=data)
    return redirect("/settings#numbering", flash=_("Numbering saved. It applies to the next document you issue."),
                    request=request)


@post("/settings/logo", opt=OWNER_ONLY)
async def settings_logo_upload(request: Request, config: Config) -> Response | Template:
    form = await request.form()
    upload = form.get("logo")
    content = await upload.read() if isinstance(upload, UploadFile) else b""
    try:
        await service.save_logo(config.attachments_dir, content, actor_id=request.scope["user"].user_id)
    except ValidationFailed as failed:
        settings = await service.get_settings()
        return await _page(request, config, settings, settings, failed.by_field(), status_code=422)
    return await _logo_done(request, config, _("Logo saved."))


@post("/settings/logo/delete", opt=OWNER_ONLY)
async def settings_logo_delete(request: Request, config: Config) -> Response | Template:
    await service.remove_logo(config.attachments_dir, actor_id=request.scope["user"].user_id)
    return await _logo_done(request, config, _("Logo removed."))


async def _logo_done(request: Request, config: Config, flash: str) -> Response | Template:
    """The logo card's forms post through htmx, which swaps only that card in: answer it with the page
    itself (not a redirect, which would reload it and drop what the user typed in the other settings)."""
    if request.headers.get("hx-request") == "true":
        settings = await service.get_settings()
        return await _page(request, config, settings, settings, {}, logo_message=flash)
    return redirect("/settings", flash=flash, request=request)


@post("/settings/templates", opt=OWNER_ONLY)
async def settings_templates(request: Request, config: Config) -> Response:
    """The Document templates switch: the bundled templates, or the user's copies in the data folder."""
    data = await form_data(request)
    use = str(data.get("use_custom_templates") or "").lower() in ("1", "true", "on", "yes")
    folder = render_service.custom_templates_dir(config.data_dir)
    if use and not render_service.custom_template_files(config.data_dir):
        flash = (_("There are no templates in %(folder)s yet: copy the defaults first. PDFs use the default templates meanwhile.", folder=folder))
    elif use:
        flash = _("PDFs now use your templates from %(folder)s (the default for any file missing there).", folder=folder)
    else:
        flash = _("PDFs use the default templates again. Your copies stay in the data folder.")
    await service.update_settings({"use_custom_templates": use}, actor_id=request.scope["user"].user_id)
    return redirect("/settings#templates", flash=flash, request=request)


@post("/settings/templates/copy", opt=OWNER_ONLY)
async def settings_templates_copy(request: Request, config: Config) -> Response:
    """Copy the bundled templates into the data folder to edit them; an existing file is never overwritten."""
    copied, kept = await asyncio.to_thread(render_service.copy_default_templates, config.data_dir)
    folder = render_service.custom_templates_dir(config.data_dir)
    flash = _("Copied %(count)s template file(s) into %(folder)s.", count=len(copied), folder=folder)
    if kept:
        flash += _(" %(count)s file(s) already there were left as they are.", count=len(kept))
    if not (await service.get_settings()).get("use_custom_templates"):
        flash += _(" Turn on \u201cUse my templates\u201d once you have edited them.")
    return redirect("/settings#templates", flash=flash, request=request)


@get("/settings/logo")
async def settings_logo(config: Config) -> File:
    settings = await service.get_settings()
    path = service.logo_path(config.attachments_dir, settings)
    media_type = service.logo_media_type(path) if path is not None else None
    if path is None or media_type is None:
        raise NotFound(_("Logo"))
    return File(path=path, media_type=media_type, content_disposition_type="inline")


@get("/settings/business-card/pdf")
async def business_card(config: Config) -> Response:
    """A one-page PDF of the business identity, rendered by Typst."""
    settings = await service.get_settings()
    pdf = await render_service.business_card_pdf(settings, service.logo_path(config.attachments_dir, settings),
                                                 config.data_dir)
    return download(pdf, "business-card.pdf", "application/pdf", inline=True)


ROUTES = [settings_page, settings_submit, settings_numbering, settings_logo_upload, settings_logo_delete,
    settings_logo, settings_templates, settings_templates_copy, business_card]
