"""Business settings: validation of identity, bank details and defaults. Pure.

The numbering patterns live in the settings row too, but their rules are the documents domain's
(app.documents.logic.clean_number_patterns); settings only stores them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from app.common.logic import Form

LOCALES = {"en": "English", "en_CA": "English (Canada)", "en_GB": "English (UK)", "en_US": "English (US)",
           "fr": "Français", "fr_CA": "Français (Canada)", "de": "Deutsch", "de_AT": "Deutsch (Österreich)",
           "de_CH": "Deutsch (Schweiz)"}
IBAN_RE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
BIC_RE = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}
LOGO_MAX_BYTES = 2 * 1024 * 1024


def local_date(time_zone: str, now: datetime) -> date:
    """The business's date at the moment `now` (aware): the calendar day in its time zone.

    Due dates, expiry, default dates and periods all follow this day, not the server's. A zone
    name that no longer exists (an old database, an older tz database) counts as UTC rather
    than breaking every page.
    """
    try:
        zone: tzinfo = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        zone = UTC
    return now.astimezone(zone).date()


def iban_is_valid(iban: str) -> bool:
    """ISO 13616 mod-97 check."""
    if not IBAN_RE.match(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text or "").upper()


def clean_settings(data: Mapping[str, Any], *, partial: bool = True) -> dict[str, Any]:
    form = Form(data, partial=partial)
    form.text("name", required=True, max_length=200, label="Business name", one_line=True)
    form.text("tagline", max_length=200)
    form.text("address_line1", max_length=200, label="Address")
    form.text("address_line2", max_length=200, label="Address (line 2)")
    form.text("postal_code", max_length=40, label="Postal code")
    form.text("city", max_length=120)
    form.text("region", max_length=120, label="Province / state")
    form.country("country")
    form.email("email")
    form.text("phone", max_length=60)
    form.text("website", max_length=200)
    form.text("registration_number", max_length=80, label="Registration number")
    form.text("tax_number", max_length=80, label="Tax number")
    form.text("bank_account_holder", max_length=200, label="Account holder")
    form.text("bank_name", max_length=200, label="Bank")
    if not (partial and not form.present("bank_iban")):
        iban = compact(form.raw("bank_iban") or "")
        if iban and not iban_is_valid(iban):
            form.error("bank_iban", f"IBAN {iban} is not valid (check the digits)")
        else:
            form.values["bank_iban"] = iban
    if not (partial and not form.present("bank_bic")):
        bic = compact(form.raw("bank_bic") or "")
        if bic and not BIC_RE.match(bic):
            form.error("bank_bic", f"BIC {bic} is not valid (8 or 11 letters and digits)")
        else:
            form.values["bank_bic"] = bic
    form.currency("default_currency", required=not partial)
    form.choice("default_locale", LOCALES, default="en", label="Locale")
    if not (partial and not form.present("time_zone")):
        zone = (form.raw("time_zone") or "UTC").strip()
        if zone not in available_timezones() and zone != "UTC":
            form.error("time_zone", f"Unknown time zone {zone!r} (e.g. Europe/Berlin, America/Toronto)")
        else:
            form.values["time_zone"] = zone
    form.integer("payment_terms_days", minimum=0, maximum=365, label="Payment terms", default=30)
    form.text("invoice_footer", max_length=2000, label="Invoice footer")
    form.text("default_terms", max_length=2000, label="Default terms")
    form.integer("quote_validity_days", minimum=1, maximum=365, label="Quote validity", default=30)
    form.boolean("facturx_enabled", default=True)
    form.boolean("use_custom_templates", default=False)
    return form.raise_if_invalid()


def logo_extension(content: bytes) -> str | None:
    """The logo's type from its first bytes (PNG, JPEG, SVG), or None if unsupported."""
    for magic, extension in LOGO_TYPES.items():
        if content.startswith(magic):
            return extension
    head = content[:512].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in content[:2048].lower()):
        return "svg"
    return None
