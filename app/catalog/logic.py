"""Catalogue items: validation and exact prices. Pure functions."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from app.common.i18n import _, typed_locale
from app.common.logic import Form, fold_text
from app.common.numbers import NumberNotRead, as_typed, read_decimal
from app.money import MoneyError, check_currency, decimal_places
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
        raise ValueError(_("%(price)s has more than %(PRICE_PLACES)s decimal places", price=price, PRICE_PLACES=PRICE_PLACES))
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


def parse_prices(raw: Any) -> tuple[dict[str, str], str | None]:
    """Prices in other currencies: a mapping {"EUR": "1100.00"} (API) or text, one per line or comma
    ("EUR 1100.00, USD 900"), from the form. Returns the prices (exact decimal text by currency code)
    and the first problem, or None."""
    if raw in (None, ""):
        return {}, None
    pairs: list[tuple[Any, Any]]
    if isinstance(raw, Mapping):
        pairs = list(raw.items())
    elif isinstance(raw, str):
        pairs = []
        # A comma separates two prices only before the next currency code: in a German or French reader's
        # "EUR 1100,00, USD 900" the first comma is the decimal mark.
        for part in re.split(r"[\n;]+|,(?=\s*[A-Za-z])", raw):
            if part.strip():
                bits = part.replace("=", " ").replace(":", " ").split(maxsplit=1)   # 1 100,50: spaced groups
                if len(bits) != 2:
                    return {}, _("write each price as a currency code and an amount, e.g. EUR %(example)s (not %(part)s)",
                                 example=as_typed("1100.00"), part=repr(part.strip()))
                pairs.append((bits[0], bits[1]))
    else:
        return {}, 'give the prices as an object, e.g. {"EUR": "1100.00"}'
    prices: dict[str, str] = {}
    for code, amount in pairs:
        try:
            currency = check_currency(str(code))
        except MoneyError as problem:
            return {}, str(problem)
        if isinstance(amount, (bool, float)) or not isinstance(amount, (str, int, Decimal)):
            return {}, f'{currency}: give the price as text, e.g. "1100.00"'
        locale = typed_locale()
        try:
            # Typed on a page: as the reader writes numbers (1100,50 for a German reader); else a plain decimal.
            value = read_decimal(amount, locale) if locale is not None and isinstance(amount, str) \
                else Decimal(str(amount).strip())
        except NumberNotRead as refused:
            return {}, f"{currency}: {refused}"
        except InvalidOperation:
            return {}, _("%(currency)s: %(amount)s is not a number", currency=currency, amount=repr(amount))
        if not value.is_finite() or value < 0:
            return {}, _("%(currency)s: the price must be a number of zero or more", currency=currency)
        if decimal_places(value) > PRICE_PLACES or value >= Decimal(10) ** 12:
            return {}, _("%(currency)s: at most 12 digits and %(places)s decimal places", currency=currency,
                         places=PRICE_PLACES)
        prices[currency] = str(e4_to_price(price_to_e4(value)))
    return dict(sorted(prices.items())), None


def prices_of(item: Mapping[str, Any]) -> dict[str, Decimal]:
    """An item's prices in other currencies, from its stored JSON."""
    return {code: Decimal(text) for code, text in json.loads(item.get("prices_json") or "{}").items()}


def prices_text(item: Mapping[str, Any]) -> str:
    """The form's text of an item's prices: "EUR 1100.00, USD 900.00" (1100,00 for a reader who writes a decimal comma)."""
    return ", ".join(f"{code} {as_typed(str(price))}" for code, price in prices_of(item).items())


def clean_item(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    form = Form(data, partial=partial)
    form.text("code", required=True, max_length=40)
    if form.values.get("code") and not CODE_RE.match(form.values["code"]):
        form.values.pop("code")
        form.error("code", _("Code may use letters, digits, '.', '_' and '-' (at most 40)"))
    form.text("name", required=True, max_length=200)
    form.choice("kind", KINDS, default="service")
    form.text("description", max_length=2000)
    form.text("unit", max_length=30)
    form.decimal("unit_price", minimum=Decimal(0), max_places=PRICE_PLACES, label=_("Unit price"))
    if not (partial and not form.present("default_taxes")):
        codes = parse_tax_codes(form.raw("default_taxes"))
        bad = [code for code in codes if not TAX_CODE_RE.match(code)]
        if bad:
            form.error("default_taxes", f"Unknown tax code {bad[0]!r}")
        else:
            form.values["default_taxes"] = codes
    form.text("category", max_length=100)
    form.choice("tax_category", TAX_CATEGORIES, default="standard", label=_("Tax category"))
    form.boolean("active", default=True)
    if form.present("prices"):
        prices, problem = parse_prices(form.raw("prices"))
        if problem:
            form.error("prices", problem)
        else:
            form.values["prices_json"] = json.dumps(prices, sort_keys=True)
    values = form.raise_if_invalid()
    if "unit_price" in values:   # at most 12 digits before the point (Form.decimal): the e4 integer fits 64 bits
        values["unit_price_e4"] = price_to_e4(values.pop("unit_price"))
    if "default_taxes" in values:
        values["default_tax_codes"] = " ".join(values.pop("default_taxes"))
    return values


def item_search_text(code: str, name: str, category: str, description: str = "") -> str:
    return fold_text(" ".join(part for part in (code, name, category, description) if part))
