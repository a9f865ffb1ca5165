"""Jinja filters shared by every page: money, dates, labels."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlencode

from babel.numbers import format_currency, format_decimal
from litestar.contrib.jinja import JinjaTemplateEngine

LOCALE = "en_CA"


def money(amount: Any, currency: str = "", locale: str = LOCALE) -> str:
    if amount is None or amount == "":
        return ""
    value = Decimal(str(amount))
    if currency:
        return format_currency(value, currency, locale=locale)
    return format_decimal(value, format="#,##0.00##", locale=locale)


def day(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value or ""


def query(current: dict[str, Any], **changes: Any) -> str:
    """The current list's query string with some parameters changed (paging, sorting)."""
    merged = {**{k: v for k, v in current.items() if v not in (None, "")}, **changes}
    return "?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def configure(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["money"] = money
    engine.engine.filters["day"] = day
    engine.engine.filters["unquote"] = unquote
    engine.engine.globals["query"] = query
    engine.engine.autoescape = True
