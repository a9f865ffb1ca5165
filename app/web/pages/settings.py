"""Settings page (owner only), the logo, the business card PDF, and /api/v1/settings."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Request, Response, get, patch, post
from litestar.response import File, Template
from msgspec import UNSET, UnsetType

from app.common.logic import NotFound, ValidationFailed
from app.config import Config
from app.db.engine import write_transaction
from app.documents import service as documents_service
from app.documents.logic import PATTERN_FIELDS
from app.mail import service as mail_service
from app.render import service as render_service
from app.settings import logic, service
from app.taxes import service as taxes_service
from app.web.api import mail_dto as mail_api
from app.web.responses import form_data, iso, page, redirect
from app.web.security import OWNER_ONLY

TEMPLATE_FIELDS = ("use_custom_templates",)   # saved by the Document templates section
LOGO_MEDIA = {"png": "image/png", "jpg": "image/jpeg", "svg": "image/svg+xml"}


class SettingsOut(mail_api.MailSettingsOut):  # the SMTP fields too (API.md); never the password
    name: str
    tagline: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    region: str
    country: str
    email: str
    phone: str
    website: str
    registration_number: str
    tax_number: str
    has_logo: bool
    bank_account_holder: str
    bank_name: str
    bank_iban: str
    bank_bic: str
    default_currency: str
    default_locale: str
    time_zone: str
    payment_terms_days: int
    invoice_footer: str
    facturx_enabled: bool
    use_custom_templates: bool
    invoice_number_pattern: str
    quote_number_pattern: str
    credit_note_number_pattern: str
    quote_validity_days: int
    default_terms: str
    updated_at: str | None


class SettingsIn(mail_api.MailSettingsIn, omit_defaults=True):  # smtp_*, accountant_email too
    name: str | UnsetType = UNSET
    tagline: str | UnsetType = UNSET
    address_line1: str | UnsetType = UNSET
    address_line2: str | UnsetType = UNSET
    postal_code: str | UnsetType = UNSET
    city: str | UnsetType = UNSET
    region: str | UnsetType = UNSET
    country: str | UnsetType = UNSET
    email: str | UnsetType = UNSET
    phone: str | UnsetType = UNSET
    website: str | UnsetType = UNSET
    registration_number: str | UnsetType = UNSET
    tax_number: str | UnsetType = UNSET
    bank_account_holder: str | UnsetType = UNSET
    bank_name: str | UnsetType = UNSET
    bank_iban: str | UnsetType = UNSET
    bank_bic: str | UnsetType = UNSET
    default_currency: str | UnsetType = UNSET
    default_locale: str | UnsetType = UNSET
    time_zone: str | UnsetType = UNSET
    payment_terms_days: int | UnsetType = UNSET
    invoice_footer: str | UnsetType = UNSET
    facturx_enabled: bool | UnsetType = UNSET
    use_custom_templates: bool | UnsetType = UNSET
    invoice_number_pattern: str | UnsetType = UNSET
    quote_number_pattern: str | UnsetType = UNSET
    credit_note_number_pattern: str | UnsetType = UNSET
    quote_validity_days: int | UnsetType = UNSET
    default_terms: str | UnsetType = UNSET


def templates_info(config: Config) -> dict[str, Any]:
    """Where the user's templates live and which are there, for the Document templates section."""
    return {"folder": render_service.custom_templates_dir(config.data_dir),
            "files": render_service.custom_template_files(config.data_dir),
            "defaults": [p.as_posix() for p in render_service.default_template_files()]}


def settings_out(row: dict[str, Any]) -> SettingsOut:
    fields = {f: iso(row[f]) for f in SettingsOut.__struct_fields__ if f in row}
    return SettingsOut(**fields, has_logo=bool(row["logo_filename"]))


async def _page(request: Request, config: Config, settings: dict[str, Any], values: dict[str, Any],
                errors: dict[str, str], status_code: int = 200, numbering_values: dict[str, Any] | None = None) -> Template:
    year = (await service.today()).year
    numbering = await documents_service.numbering(year)
    return page(request, "settings/settings.html", status_code=status_code, section="settings", title="Settings",
                settings=settings, values=values, errors=errors, locales=logic.LOCALES, year=year,
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
    return redirect("/settings", flash="Settings saved.", request=request)


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
    return redirect("/settings#numbering", flash="Numbering saved. It applies to the next document you issue.",
                    request=request)


@post("/settings/logo", opt=OWNER_ONLY)
async def settings_logo_upload(request: Request, config: Config) -> Response:
    form = await request.form()
    upload = form.get("logo")
    content = await upload.read() if hasattr(upload, "read") else b""
    try:
        await service.save_logo(config.attachments_dir, content, actor_id=request.scope["user"].user_id)
    except ValidationFailed as failed:
        settings = await service.get_settings()
        return await _page(request, config, settings, settings, failed.by_field(), status_code=422)
    return redirect("/settings", flash="Logo saved.", request=request)


@post("/settings/logo/delete", opt=OWNER_ONLY)
async def settings_logo_delete(request: Request, config: Config) -> Response:
    await service.remove_logo(config.attachments_dir, actor_id=request.scope["user"].user_id)
    return redirect("/settings", flash="Logo removed.", request=request)


@post("/settings/templates", opt=OWNER_ONLY)
async def settings_templates(request: Request, config: Config) -> Response:
    """The Document templates switch: the bundled templates, or the user's copies in the data folder."""
    data = await form_data(request)
    use = str(data.get("use_custom_templates") or "").lower() in ("1", "true", "on", "yes")
    folder = render_service.custom_templates_dir(config.data_dir)
    if use and not render_service.custom_template_files(config.data_dir):
        flash = (f"There are no templates in {folder} yet: copy the defaults first. "
                 "PDFs use the default templates meanwhile.")
    elif use:
        flash = f"PDFs now use your templates from {folder} (the default for any file missing there)."
    else:
        flash = "PDFs use the default templates again. Your copies stay in the data folder."
    await service.update_settings({"use_custom_templates": use}, actor_id=request.scope["user"].user_id)
    return redirect("/settings#templates", flash=flash, request=request)


@post("/settings/templates/copy", opt=OWNER_ONLY)
async def settings_templates_copy(request: Request, config: Config) -> Response:
    """Copy the bundled templates into the data folder to edit them; an existing file is never overwritten."""
    copied, kept = await asyncio.to_thread(render_service.copy_default_templates, config.data_dir)
    folder = render_service.custom_templates_dir(config.data_dir)
    flash = f"Copied {len(copied)} template file(s) into {folder}."
    if kept:
        flash += f" {len(kept)} file(s) already there were left as they are."
    if not (await service.get_settings()).get("use_custom_templates"):
        flash += " Turn on \u201cUse my templates\u201d once you have edited them."
    return redirect("/settings#templates", flash=flash, request=request)


@get("/settings/logo")
async def settings_logo(config: Config) -> File:
    settings = await service.get_settings()
    path = service.logo_path(config.attachments_dir, settings)
    if path is None:
        raise NotFound("Logo")
    return File(path=path, media_type=LOGO_MEDIA[path.suffix.lstrip(".")], content_disposition_type="inline")


@get("/settings/business-card/pdf")
async def business_card(config: Config) -> Response:
    """A one-page PDF of the business identity, rendered by Typst."""
    settings = await service.get_settings()
    pdf = await render_service.business_card_pdf(settings, service.logo_path(config.attachments_dir, settings),
                                                 config.data_dir)
    return Response(content=pdf, media_type="application/pdf",
                    headers={"Content-Disposition": 'inline; filename="business-card.pdf"'})


@get("/api/v1/settings", tags=["settings"], opt=OWNER_ONLY)
async def api_settings() -> SettingsOut:
    out = settings_out(await service.get_settings())
    return msgspec.structs.replace(out, **mail_api.mail_fields(await mail_service.get_mail_settings()))


@patch("/api/v1/settings", tags=["settings"], opt=OWNER_ONLY)
async def api_settings_update(request: Request, data: SettingsIn) -> SettingsOut:
    given = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    mail = {k: given.pop(k) for k in mail_api.MAIL_FIELDS if k in given}
    patterns = {k: given.pop(k) for k in PATTERN_FIELDS.values() if k in given}
    actor = request.scope["user"].user_id
    async with write_transaction():  # all parts or none
        if mail:
            await mail_service.update_mail_settings(mail, actor_id=actor)
        errors = []   # a bad pattern and a bad business field are reported together
        try:
            await documents_service.set_number_patterns(patterns, actor=actor)
        except ValidationFailed as failed:
            errors.extend(failed.errors)
        try:
            row = await service.update_settings(given, actor_id=actor)
        except ValidationFailed as failed:
            errors.extend(failed.errors)
        if errors:
            raise ValidationFailed(errors)
    out = settings_out(row)
    return msgspec.structs.replace(out, **mail_api.mail_fields(await mail_service.get_mail_settings()))


ROUTES = [settings_page, settings_submit, settings_numbering, settings_logo_upload, settings_logo_delete, settings_logo,
          settings_templates, settings_templates_copy, business_card,
          api_settings, api_settings_update]
