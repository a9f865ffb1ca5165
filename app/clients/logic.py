"""Clients: validation, automatic codes and the search keys. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from app.common.addressing.logic import clean_electronic_address
from app.common.i18n import _
from app.common.logic import Form, digits_only, fold_text

STATUSES = ("active", "archived")
LANGUAGES = {"en": "English", "fr": "Français", "de": "Deutsch"}
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
AUTO_CODE_RE = re.compile(r"^C(\d+)$", re.IGNORECASE)  # codes are unique regardless of case

EDITABLE_FIELDS = (
    "code", "name", "contact_name", "email", "phone", "address_line1", "address_line2",
    "postal_code", "city", "region", "country", "currency", "language", "tax_number", "buyer_reference",
    "notes", "electronic_address_scheme", "electronic_address",
)
BUYER_REFERENCE_MAX = 100
# A Leitweg-ID (KoSIT, Formatspezifikation Leitweg-ID 2.0): the coarse address (2-12 digits), an optional
# fine address (up to 30 letters and digits) and two check digits (ISO 7064 MOD 97-10), joined by hyphens.
LEITWEG_RE = re.compile(r"^(\d{2,12})(?:-([A-Za-z0-9]{1,30}))?-(\d{2})$")
# Line breaks, tabs and the other characters XML 1.0 cannot carry have no place in a one-line reference.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")


def next_client_code(existing_codes: Iterable[str]) -> str:
    """C0001, C0002, ...: one above the highest automatic code, never reusing a gap."""
    highest = 0
    for code in existing_codes:
        match = AUTO_CODE_RE.match(code or "")
        if match:
            highest = max(highest, int(match.group(1)))
    return f"C{highest + 1:04d}"


def clean_client(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate a client form or JSON body; raises ValidationFailed naming each field."""
    form = Form(data, partial=partial)
    form.text("code", max_length=20)
    if form.values.get("code") and not CODE_RE.match(form.values["code"]):
        form.values.pop("code")
        form.error("code", _("Code may use letters, digits, '.', '_' and '-' (at most 20)"))
    form.text("name", required=True, max_length=200, one_line=True)
    form.text("contact_name", max_length=200, label=_("Contact person"), one_line=True)
    form.email("email")
    form.text("phone", max_length=60)
    if form.values.get("phone") and not re.fullmatch(r"[0-9+()./\- ]+(?:\s*(?:x|ext\.?)\s*\d+)?", form.values["phone"], re.I):
        form.values.pop("phone")
        form.error("phone", _("Phone may only hold digits, spaces and + ( ) - . /"))
    form.postal_address()
    form.currency("currency")
    form.choice("language", LANGUAGES, default="en")
    form.text("tax_number", max_length=80, label=_("Tax number"))
    form.text("buyer_reference", max_length=BUYER_REFERENCE_MAX, label=_("Buyer reference"))
    if form.values.get("buyer_reference") and CONTROL_RE.search(form.values["buyer_reference"]):
        form.values.pop("buyer_reference")
        form.error("buyer_reference", _("Buyer reference must be one line of text (no line breaks or tabs)"))
    form.text("notes", max_length=5000)
    address, problems = clean_electronic_address(data, partial=partial)
    form.values.update(address)
    form.errors.extend(problems)
    return form.raise_if_invalid()


def _mod97_ok(match: re.Match[str]) -> bool:
    digits = "".join(str(int(ch, 36)) for ch in "".join(part for part in match.groups() if part).upper())
    return int(digits) % 97 == 1


def is_leitweg_id(reference: str) -> bool:
    """True for a well-formed Leitweg-ID whose check digits match (`04011000-1234512345-06`, `991-33333TEST-33`)."""
    match = LEITWEG_RE.match((reference or "").strip())
    return match is not None and _mod97_ok(match)


def leitweg_id_problem(reference: str) -> str | None:
    """A warning when the buyer reference is written like a Leitweg-ID but its check digits do not match.

    Only a warning: a buyer reference is free text in most countries (an order or cost-centre number
    such as `2024-05` has the same shape as a short Leitweg-ID), so only the three-part form is checked
    and nothing is refused on this ground.
    """
    match = LEITWEG_RE.match((reference or "").strip())
    if not match or not match.group(2) or _mod97_ok(match):
        return None
    return (_("%(strip)s looks like a Leitweg-ID, but its check digits (the last two) do not match; copy it again from the authority's order, or XRechnung portals will reject the invoice.", strip=reference.strip()))


def search_keys(name: str, code: str, email: str, phone: str, contact_name: str = "") -> tuple[str, str]:
    """What the search compares against: folded text and the phone's digits."""
    text = fold_text(" ".join(part for part in (name, code, email, contact_name, phone) if part))
    return text, digits_only(phone)
