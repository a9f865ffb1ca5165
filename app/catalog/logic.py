"""Catalogue items: validation and exact prices. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from app.common.logic import Form, fold_text
from app.money import decimal_places
from app.taxes.logic import TAX_CATEGORIES

KINDS = ("service", "product")
PRICE_PLACES = 4
PRICE_SCALE = Decimal(10) ** PRICE_PLACES
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
TAX_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,19}$")


def price_to_e4(price: Decimal) -> int:
    """Exact price -> integer of 1/10,000 (the stored form)."""
    scaled = price * PRICE_SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{price} has more than {PRICE_PLACES} decimal places")
    return int(scaled)


def e4_to_price(value: int) -> Decimal:
    """Stored integer -> Decimal with at least 2 and at most 4 decimals, e.g. 120.00, 0.0125."""
    price = Decimal(int(value)) / PRICE_SCALE
    two = price.quantize(Decimal("0.01"))
    return two if two == price else price.normalize() if decimal_places(price) > 2 else two


def parse_tax_codes(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        parts = re.split(r"[\s,;]+", raw)
    else:
        parts = [str(part) for part in raw]
    seen: list[str] = []
    for part in parts:
        code = part.strip().upper()
        if code and code not in seen:
            seen.append(code)
    return seen


def clean_item(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    form = Form(data, partial=partial)
    form.text("code", required=True, max_length=40)
    if form.values.get("code") and not CODE_RE.match(form.values["code"]):
        form.values.pop("code")
        form.error("code", "Code may use letters, digits, '.', '_' and '-' (at most 40)")
    form.text("name", required=True, max_length=200)
    form.choice("kind", KINDS, default="service")
    form.text("description", max_length=2000)
    form.text("unit", max_length=30)
    form.decimal("unit_price", minimum=Decimal(0), max_places=PRICE_PLACES, label="Unit price")
    if not (partial and not form.present("default_taxes")):
        codes = parse_tax_codes(form.raw("default_taxes"))
        bad = [code for code in codes if not TAX_CODE_RE.match(code)]
        if bad:
            form.error("default_taxes", f"Unknown tax code {bad[0]!r}")
        else:
            form.values["default_taxes"] = codes
    form.text("category", max_length=100)
    form.choice("tax_category", TAX_CATEGORIES, default="standard", label="Tax category")
    form.boolean("active", default=True)
    values = form.raise_if_invalid()
    if "unit_price" in values:   # at most 12 digits before the point (Form.decimal): the e4 integer fits 64 bits
        values["unit_price_e4"] = price_to_e4(values.pop("unit_price"))
    if "default_taxes" in values:
        values["default_tax_codes"] = " ".join(values.pop("default_taxes"))
    return values


def item_search_text(code: str, name: str, category: str, description: str = "") -> str:
    return fold_text(" ".join(part for part in (code, name, category, description) if part))
