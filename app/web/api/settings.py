"""The JSON API of settings (under /api/v1): its routes and msgspec DTOs."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, patch
from msgspec import UNSET, UnsetType

from app.common.logic import ValidationFailed
from app.db.engine import write_transaction
from app.documents import service as documents_service
from app.documents.logic import PATTERN_FIELDS
from app.mail import service as mail_service
from app.settings import logic, service
from app.web.api import mail_dto as mail_api
from app.web.responses import iso
from app.web.security import OWNER_ONLY


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
    electronic_address_scheme: str
    electronic_address: str
    seller_contact_name: str
    seller_contact_phone: str
    seller_contact_email: str
    payment_means_code: str
    payment_account_id: str
    payment_means_text: str
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
    # Taxes by place of supply: the provinces whose PST the business collects (BC, MB, SK); the PDFs' paper
    # ("letter", "a4", "" = by the business's country) and the paper that gives.
    pst_registrations: list[str] = msgspec.field(default_factory=list)
    paper_size: str = ""
    paper: str = "a4"


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
    # The e-invoice address (EN 16931 BT-34) and its EAS scheme code; given together.
    electronic_address_scheme: str | UnsetType = UNSET
    electronic_address: str | UnsetType = UNSET
    seller_contact_name: str | UnsetType = UNSET
    seller_contact_phone: str | UnsetType = UNSET
    seller_contact_email: str | UnsetType = UNSET
    payment_means_code: str | UnsetType = UNSET
    payment_account_id: str | UnsetType = UNSET
    payment_means_text: str | UnsetType = UNSET
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
    pst_registrations: list[str] | UnsetType = UNSET
    paper_size: str | UnsetType = UNSET


def settings_out(row: dict[str, Any]) -> SettingsOut:
    fields = {f: iso(row[f]) for f in SettingsOut.__struct_fields__ if f in row}
    fields["pst_registrations"] = (row.get("pst_registrations") or "").split()
    return SettingsOut(**fields, has_logo=bool(row["logo_filename"]), paper=logic.paper_size(row))


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


ROUTES = [api_settings, api_settings_update]
