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

from app.common.addressing.logic import clean_electronic_address
from app.common.choices import logic as choices
from app.common.i18n import N_, _
from app.common.logic import FieldError, Form

LOCALES = {"en": "English", "en_CA": "English (Canada)", "en_GB": "English (UK)", "en_US": "English (US)",
           "fr": "Français", "fr_CA": "Français (Canada)", "de": "Deutsch", "de_AT": "Deutsch (Österreich)",
           "de_CH": "Deutsch (Schweiz)"}
IBAN_RE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
BIC_RE = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")
# A logo is a picture and nothing else: PNG or JPEG, told by its content, never by its name. An SVG is
# refused (no rasteriser is installed, and an SVG can point at other files and carry scripts).
LOGO_MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg"}
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_HEAD_BYTES = 16   # enough of a file to tell its kind
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_START = b"\xff\xd8\xff"   # start of image, then the first marker
# How an invoice is paid when the business has no IBAN (UNTDID 4461 codes, EN 16931 BT-81). With an
# IBAN every e-invoice says SEPA credit transfer (58) whatever is chosen here. Card (48, 54, 55) and
# direct debit (59) are left out: XRechnung then needs card or mandate data no invoice here carries.
PAYMENT_MEANS = {
    "": N_("None chosen"),
    "30": N_("Credit transfer to the account given here"),
    "42": N_("Payment to a bank account (given here)"),
    "10": N_("Cash"),
    "20": N_("Cheque"),
    "68": N_("Online payment service"),
    "ZZZ": N_("Other (described in the payment text)"),
}
# The provinces with a sales tax of their own beside the GST (app.taxes.logic.PST_PROVINCES says the same;
# settings sits below taxes and cannot import it): the business says which it is registered for.
PST_PROVINCES = {"BC": "British Columbia (PST)", "MB": "Manitoba (RST)", "SK": "Saskatchewan (PST)"}
# The paper the PDFs are printed on: "" follows the business's country.
PAPER_SIZES = {"": N_("By country (Letter in Canada and the US, A4 elsewhere)"), "letter": N_("US Letter"), "a4": "A4"}
LETTER_COUNTRIES = {"CA", "US"}
# BR-DE-27: the contact telephone has at least three digits.
PHONE_DIGITS_RE = re.compile(r"(?:\D*\d){3,}")


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
    form.text("name", required=True, max_length=200, label=_("Business name"), one_line=True)
    form.text("tagline", max_length=200)
    form.postal_address()
    form.email("email")
    form.text("phone", max_length=60)
    form.text("website", max_length=200)
    form.text("registration_number", max_length=80, label=_("Registration number"))
    form.text("tax_number", max_length=80, label=_("Tax number"))
    form.text("bank_account_holder", max_length=200, label=_("Account holder"))
    form.text("bank_name", max_length=200, label=_("Bank"))
    if not (partial and not form.present("bank_iban")):
        iban = compact(form.raw("bank_iban") or "")
        if iban and not iban_is_valid(iban):
            form.error("bank_iban", _("IBAN %(iban)s is not valid (check the digits)", iban=iban))
        else:
            form.values["bank_iban"] = iban
    if not (partial and not form.present("bank_bic")):
        bic = compact(form.raw("bank_bic") or "")
        if bic and not BIC_RE.match(bic):
            form.error("bank_bic", _("BIC %(bic)s is not valid (8 or 11 letters and digits)", bic=bic))
        else:
            form.values["bank_bic"] = bic
    form.text("seller_contact_name", max_length=200, label=_("Contact (person or department)"), one_line=True)
    form.text("seller_contact_phone", max_length=60, label=_("Contact phone"), one_line=True)
    phone = form.values.get("seller_contact_phone")
    if phone and not PHONE_DIGITS_RE.match(phone):
        form.error("seller_contact_phone", _("The contact phone needs at least three digits (e.g. +49 30 1234567)"))
    form.email("seller_contact_email", label=_("Contact email"))
    if not (partial and not form.present("payment_means_code")):
        code = str(form.raw("payment_means_code") or "").strip().upper()
        if code in PAYMENT_MEANS:
            form.values["payment_means_code"] = code
        else:
            form.error("payment_means_code", _("Unknown payment means %(code)s: use one of %(codes)s, or leave it empty", code=repr(code),
                         codes=", ".join(c for c in PAYMENT_MEANS if c)))
    form.text("payment_account_id", max_length=200, label=_("Account (without an IBAN)"), one_line=True)
    form.text("payment_means_text", max_length=500, label=_("Payment text"), one_line=True)
    form.currency("default_currency", required=not partial or form.present("default_currency"))   # never blank
    if not (partial and not form.present("default_locale")):
        # Any locale Babel knows for a language the program speaks (de_DE, fr_BE, en_AU), not only a list.
        wanted = str(form.raw("default_locale") or "en")
        if choices.is_supported_locale(wanted):
            form.values["default_locale"] = choices.normal_locale(wanted)
        else:
            form.error("default_locale", _("Unknown locale %(locale)s: a language the program speaks "
                                           "(%(languages)s), alone or with a region (de_DE, fr_BE, en_AU)",
                                           locale=repr(wanted.strip()),
                                           languages=", ".join(choices.SUPPORTED_LANGUAGES)))
    if not (partial and not form.present("time_zone")):
        zone = (form.raw("time_zone") or "UTC").strip()
        if zone not in available_timezones() and zone != "UTC":
            form.error("time_zone", _("Unknown time zone %(zone)s (e.g. Europe/Berlin, America/Toronto)", zone=repr(zone)))
        else:
            form.values["time_zone"] = zone
    form.integer("payment_terms_days", minimum=0, maximum=365, label=_("Payment terms"), default=30)
    form.text("invoice_footer", max_length=2000, label=_("Invoice footer"))
    form.text("default_terms", max_length=2000, label=_("Default terms"))
    form.integer("quote_validity_days", minimum=1, maximum=365, label=_("Quote validity"), default=30)
    form.boolean("facturx_enabled", default=True)
    form.boolean("use_custom_templates", default=False)
    if not (partial and not form.present("pst_registrations")):
        raw = form.raw("pst_registrations")
        given = raw if isinstance(raw, list) else re.split(r"[\s,;]+", str(raw or ""))
        codes = [str(code).strip().upper() for code in given if str(code or "").strip()]
        unknown = [code for code in codes if code not in PST_PROVINCES]
        if unknown:
            form.error("pst_registrations", _("Unknown province %(code)s for PST: use %(codes)s", code=repr(unknown[0]),
                                                 codes=", ".join(PST_PROVINCES)))
        else:
            form.values["pst_registrations"] = " ".join(code for code in PST_PROVINCES if code in codes)
    if not (partial and not form.present("paper_size")):
        paper = str(form.raw("paper_size") or "").strip().lower()
        if paper not in PAPER_SIZES:
            form.error("paper_size", _("Paper size must be letter, a4, or empty (by the business's country)"))
        else:
            form.values["paper_size"] = paper
    address, problems = clean_electronic_address(data, partial=partial)
    form.values.update(address)
    form.errors.extend(problems)
    return form.raise_if_invalid()


def paper_size(settings: Mapping[str, Any]) -> str:
    """The PDFs' paper, "letter" or "a4": the one chosen in settings, else the business country's."""
    chosen = settings.get("paper_size") or ""
    if chosen in ("letter", "a4"):
        return chosen
    return "letter" if (settings.get("country") or "").upper() in LETTER_COUNTRIES else "a4"


def pst_registrations(settings: Mapping[str, Any]) -> frozenset[str]:
    return frozenset((settings.get("pst_registrations") or "").split())


def payment_means_problems(settings: Mapping[str, Any]) -> list[FieldError]:
    """What the chosen payment means lacks, read on the settings as they will be stored: a transfer
    without an IBAN needs the account (BT-84, XRechnung BR-DE-23), "other" needs its text (BT-82)."""
    code = settings.get("payment_means_code") or ""
    problems = []
    if code in ("30", "42") and not (settings.get("bank_iban") or settings.get("payment_account_id")):
        problems.append(FieldError("payment_account_id", _("A transfer needs the account it goes to: give the IBAN, "
                                   "or the account (e.g. transit, institution and account number) here")))
    if code == "ZZZ" and not (settings.get("payment_means_text") or "").strip():
        problems.append(FieldError("payment_means_text", _("Say how the buyer pays: “Other” needs a payment text")))
    return problems


def logo_kind(content: bytes) -> str | None:
    """"png" or "jpg" from a file's first bytes (a PNG's signature and its IHDR chunk first, a JPEG's start of
    image), else None: whatever its name says."""
    if content.startswith(PNG_SIGNATURE) and content[12:16] == b"IHDR":
        return "png"
    if content.startswith(JPEG_START):
        return "jpg"
    return None


def looks_like_svg(content: bytes) -> bool:
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<svg") or (head.startswith((b"<?xml", b"<!doctype", b"<!--")) and b"<svg" in head)


def logo_problem(content: bytes) -> str | None:
    """Why an upload cannot be the logo, or None."""
    if not content:
        return _("Choose an image file to upload")
    if len(content) > LOGO_MAX_BYTES:
        return _("The logo is larger than 2 MB; use a smaller image")
    if logo_kind(content):
        return None
    if looks_like_svg(content):
        return (_("SVG logos are not accepted: an SVG can load other files and run scripts. Export the logo as "
                "PNG (or JPEG) and upload that."))
    return _("The logo must be a PNG or JPEG image (its content is checked, not its name)")
