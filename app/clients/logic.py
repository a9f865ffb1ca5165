"""Clients: validation, automatic codes and the search keys. Pure functions."""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from app.common.logic import Form, digits_only, fold_text

STATUSES = ("active", "archived")
LANGUAGES = {"en": "English", "fr": "Français", "de": "Deutsch"}
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
AUTO_CODE_RE = re.compile(r"^C(\d+)$", re.IGNORECASE)  # codes are unique regardless of case

EDITABLE_FIELDS = (
    "code", "name", "contact_name", "email", "phone", "address_line1", "address_line2",
    "postal_code", "city", "region", "country", "currency", "language", "tax_number", "notes",
)


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
        form.error("code", "Code may use letters, digits, '.', '_' and '-' (at most 20)")
    form.text("name", required=True, max_length=200)
    form.text("contact_name", max_length=200, label="Contact person")
    form.email("email")
    form.text("phone", max_length=60)
    if form.values.get("phone") and not re.fullmatch(r"[0-9+()./\- ]+(?:\s*(?:x|ext\.?)\s*\d+)?", form.values["phone"], re.I):
        form.values.pop("phone")
        form.error("phone", "Phone may only hold digits, spaces and + ( ) - . /")
    form.text("address_line1", max_length=200, label="Address")
    form.text("address_line2", max_length=200, label="Address (line 2)")
    form.text("postal_code", max_length=40, label="Postal code")
    form.text("city", max_length=120)
    form.text("region", max_length=120, label="Province / state")
    form.country("country")
    form.currency("currency")
    form.choice("language", LANGUAGES, default="en")
    form.text("tax_number", max_length=80, label="Tax number")
    form.text("notes", max_length=5000)
    return form.raise_if_invalid()


def search_keys(name: str, code: str, email: str, phone: str, contact_name: str = "") -> tuple[str, str]:
    """What the search compares against: folded text and the phone's digits."""
    text = fold_text(" ".join(part for part in (name, code, email, contact_name, phone) if part))
    return text, digits_only(phone)
