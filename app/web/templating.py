"""Jinja filters shared by every page: money, dates, labels."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlencode

from babel.numbers import format_currency, format_decimal
from litestar.contrib.jinja import JinjaTemplateEngine

from app.common.addressing.logic import scheme_choices
from app.common.choices import logic as choices
from app.common.i18n import gettext, ngettext
from app.common.units.logic import unit_here
from app.render import logic as render_logic
from app.web.static_assets import static_url

LOCALE = "en_CA"


def money(amount: Any, currency: str = "", locale: str = LOCALE) -> str:
    if amount is None or amount == "":
        return ""
    value = Decimal(str(amount))
    if currency:
        return format_currency(value, currency, locale=locale)
    return format_decimal(value, format="#,##0.00##", locale=locale)


def amount(value: Any, currency: str = "", locale: str = LOCALE) -> str:
    """An amount for tables and totals: grouped digits with the currency's decimals (JPY 0, KWD 3),
    no symbol (the currency code stands beside it or in the heading)."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value))
    if currency:
        return format_currency(number, currency, format="#,##0.00", locale=locale, currency_digits=True)
    return format_decimal(number, format="#,##0.00##", locale=locale)


def plain_number(value: Any) -> str:
    """An exact decimal without needless zeros: 13 -> '13', 9.975 -> '9.975', 0.50 -> '0.5'."""
    if value is None or value == "":
        return ""
    text = format(Decimal(str(value)).normalize(), "f")
    return "0" if text == "-0" else text


def day(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value or ""


def postal_address_lines(party: Any) -> list[str]:
    """The street lines and the city line of a client or the business, as its country writes them."""
    mapping = party.as_mapping() if hasattr(party, "as_mapping") else dict(party)
    return render_logic.address_lines(mapping)


def query(current: dict[str, Any], **changes: Any) -> str:
    """The current list's query string with some parameters changed (paging, sorting)."""
    merged = {**{k: v for k, v in current.items() if v not in (None, "")}, **changes}
    return "?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def configure(engine: JinjaTemplateEngine) -> None:
    # Jinja's i18n extension with the same callables as the Python code (app.common.i18n): `{{ _("...") }}`
    # and `{% trans %}` read the language in force for the request.
    engine.engine.add_extension("jinja2.ext.i18n")
    engine.engine.install_gettext_callables(gettext=gettext, ngettext=ngettext, newstyle=True)  # type: ignore[attr-defined]
    engine.engine.filters["money"] = money
    engine.engine.filters["day"] = day
    engine.engine.filters["amount"] = amount
    engine.engine.filters["plain_number"] = plain_number
    engine.engine.filters["unquote"] = unquote
    engine.engine.filters["unit_name"] = unit_here   # a standard unit in the reader's language (app.common.units.logic)
    engine.engine.globals["query"] = query
    engine.engine.globals["static_url"] = static_url   # /static/NAME?v=HASH, cached for a year
    engine.engine.globals["eas_scheme_choices"] = scheme_choices  # the electronic address's scheme select
    # A postal address in its country's order (Toronto ON M5V 2T6, 10115 Berlin), as the PDFs print it.
    engine.engine.filters["address_lines"] = postal_address_lines
    engine.engine.globals["picker_choices"] = choices  # country, currency, locale and time zone pickers (_pickers.html)
    engine.engine.autoescape = True
