"""Jinja filters shared by every page: money, dates, labels."""

from __future__ import annotations

import functools
import hashlib
import sys
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from babel import Locale
from babel.dates import format_date, format_time, get_date_format
from babel.numbers import format_currency, format_decimal
from jinja2 import Environment, FileSystemBytecodeCache
from jinja2.ext import InternationalizationExtension
from litestar.contrib.jinja import JinjaTemplateEngine

from app.common.addressing.logic import scheme_choices
from app.common.choices import logic as choices
from app.common.i18n import DEFAULT_LOCALE, current_locale, current_time_zone, gettext, ngettext
from app.common.numbers import input_text
from app.common.units.logic import unit_here
from app.paths import ensure_private_dir, user_cache_dir
from app.render import logic as render_logic
from app.web.client_text import client_text
from app.web.static_assets import static_url

# Numbers, money and dates are written in the locale of the request (app.common.i18n: the user's, else the
# business's); en_CA until one is set.


@functools.lru_cache(maxsize=64)
def _babel(locale: str) -> Locale:
    """A locale's name parsed once: Babel parses it again at every call otherwise, and a list page writes
    hundreds of amounts and dates (issue 21)."""
    return Locale.parse(locale)


def money(amount: Any, currency: str = "", locale: str | None = None) -> str:
    if amount is None or amount == "":
        return ""
    value = Decimal(str(amount))
    if currency:
        return format_currency(value, currency, locale=_babel(locale or current_locale()))
    return format_decimal(value, format="#,##0.00##", locale=_babel(locale or current_locale()))


def amount(value: Any, currency: str = "", locale: str | None = None) -> str:
    """An amount for tables and totals: grouped digits with the currency's decimals (JPY 0, KWD 3),
    no symbol (the currency code stands beside it or in the heading)."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value))
    if currency:
        return format_currency(number, currency, format="#,##0.00", locale=_babel(locale or current_locale()),
                               currency_digits=True)
    return format_decimal(number, format="#,##0.00##", locale=_babel(locale or current_locale()))


def number(value: Any, locale: str | None = None) -> str:
    """A quantity or rate as the locale writes it, exact, grouped: 1,234.5 / 1.234,5."""
    if value is None or value == "":
        return ""
    return format_decimal(Decimal(str(value)), format="#,##0.##########", locale=_babel(locale or current_locale()))


def plain_number(value: Any) -> str:
    """An exact decimal without needless zeros: 13 -> '13', 9.975 -> '9.975' ('9,975' for a German reader),
    0.50 -> '0.5'."""
    if value is None or value == "":
        return ""
    text = format(Decimal(str(value)).normalize(), "f")
    return "0" if text == "-0" else input_text(Decimal(text))   # the locale's decimal symbol: 9,975 in German


def day(value: Any, locale: str | None = None) -> str:
    """A date as the locale writes it, numerically and with the full year: 2026-12-05 (en_CA), 05.12.2026
    (de), 05/12/2026 (fr). A time of day (stored in UTC) is shown in the business's time zone."""
    written = locale or current_locale()
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        local = moment.astimezone(_zone(current_time_zone()))
        if written == DEFAULT_LOCALE:
            return local.strftime("%Y-%m-%d %H:%M")   # the program's own writing, kept for en_CA
        return f"{_date_text(local.date(), written)} {format_time(local.time(), 'short', locale=written)}"
    if isinstance(value, date):
        return _date_text(value, written)
    if isinstance(value, str) and len(value) == 10:   # an ISO day kept as text (an import's preview)
        try:
            return _date_text(date.fromisoformat(value), written)
        except ValueError:
            return value
    return value or ""


def local_moment(value: Any) -> datetime | None:
    """A moment stored in UTC (a datetime, or ISO text as the audit trail keeps it) in the business's time
    zone: a business in Toronto sees 14:00 UTC as 09:00 (10:00 in summer)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return moment.astimezone(_zone(current_time_zone()))


def clock(value: Any, seconds: bool = False, locale: str | None = None) -> str:
    """The time of day of a stored moment in the business's time zone, as the locale writes it (14:05,
    2:05 PM); the program's own 24-hour writing for en_CA."""
    local = local_moment(value)
    if local is None:
        return ""
    written = locale or current_locale()
    if written == DEFAULT_LOCALE:
        return local.strftime("%H:%M:%S" if seconds else "%H:%M")
    return format_time(local.time(), "medium" if seconds else "short", locale=written)


def weekday(value: date, width: str = "abbreviated", locale: str | None = None) -> str:
    """A day's name in the reader's language: Mon / lun. / Mo. (abbreviated) or Monday / lundi / Montag (wide)."""
    return format_date(value, "EEEE" if width == "wide" else "EEE", locale=locale or current_locale())


def month_name(value: date, locale: str | None = None) -> str:
    """A day's month, short, in the reader's language: Dec / déc. / Dez."""
    return format_date(value, "LLL", locale=locale or current_locale())


def _date_text(value: date, locale: str) -> str:
    return format_date(value, _date_width(locale), locale=_babel(locale))


@functools.lru_cache(maxsize=64)
def _date_width(locale: str) -> str:
    # The locale's short date unless it cuts the year to two digits (de 05.12.26, en_US 12/5/26): then
    # its medium one (05.12.2026, Dec 5, 2026).
    pattern = get_date_format("short", locale=_babel(locale)).pattern
    return "medium" if "yyyy" not in pattern and pattern.count("y") == 2 else "short"


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def input_number(value: Any) -> str:
    """A number for a form field, to be typed back: the locale's decimal symbol, no grouping (1234,5);
    text as typed stays as it is."""
    return input_text(value)


def page_language() -> str:
    """The BCP 47 tag of the request's locale (`de-AT`, `en-CA`), for <html lang>."""
    return current_locale().replace("_", "-")
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
    # and `{% trans %}` read the language in force for the request. The class, not its dotted name: the
    # single executable holds only the modules an import reaches (a name string left jinja2.ext out).
    engine.engine.add_extension(InternationalizationExtension)
    engine.engine.install_gettext_callables(gettext=gettext, ngettext=ngettext, newstyle=True)  # type: ignore[attr-defined]
    engine.engine.filters["money"] = money
    engine.engine.filters["day"] = day
    engine.engine.filters["local_moment"] = local_moment   # a stored UTC moment in the business's time zone
    engine.engine.filters["clock"] = clock                 # its time of day: 09:00
    engine.engine.filters["weekday"] = weekday
    engine.engine.filters["month_name"] = month_name
    engine.engine.filters["amount"] = amount
    engine.engine.filters["plain_number"] = plain_number
    engine.engine.filters["number"] = number
    engine.engine.filters["input_number"] = input_number
    engine.engine.filters["unquote"] = unquote
    engine.engine.filters["unit_name"] = unit_here   # a standard unit in the reader's language (app.common.units.logic)
    engine.engine.globals["query"] = query
    engine.engine.globals["page_language"] = page_language   # <html lang>: the language the page is written in
    engine.engine.globals["client_text"] = client_text   # app.js's sentences translated (app/web/client_text.py)
    engine.engine.globals["static_url"] = static_url   # /static/NAME?v=HASH, cached for a year
    engine.engine.globals["eas_scheme_choices"] = scheme_choices  # the electronic address's scheme select
    # A postal address in its country's order (Toronto ON M5V 2T6, 10115 Berlin), as the PDFs print it.
    engine.engine.filters["address_lines"] = postal_address_lines
    engine.engine.globals["picker_choices"] = choices  # country, currency, locale and time zone pickers (_pickers.html)
    engine.engine.autoescape = True
    # Compiled templates kept between starts, as Python keeps .pyc files: the first page after a start reads
    # its templates' code instead of compiling them (base.html, the macros, the dashboard: ~50 ms of the
    # double-click). Jinja checks each template's source against the checksum kept beside its code.
    folder = template_cache_folder(engine.engine)
    if folder is not None:
        engine.engine.bytecode_cache = FileSystemBytecodeCache(str(folder))


def environment_signature(environment: Environment) -> str:
    """What a compiled template depends on besides its source: Jinja and Python's versions and the
    environment's settings that change the generated code (extensions, autoescaping, finalize, syntax).
    Jinja's own cache checks the source and its version only; a change of these settings changes the
    folder the compiled templates are kept in."""
    autoescape = environment.autoescape
    settings = (jinja2.__version__, sys.implementation.cache_tag, sorted(environment.extensions),
                autoescape if isinstance(autoescape, bool) else getattr(autoescape, "__qualname__", repr(autoescape)),
                environment.finalize is not None, environment.optimized, environment.is_async,
                environment.trim_blocks, environment.lstrip_blocks, environment.keep_trailing_newline,
                environment.newline_sequence, environment.block_start_string, environment.block_end_string,
                environment.variable_start_string, environment.variable_end_string,
                environment.comment_start_string, environment.comment_end_string,
                environment.line_statement_prefix, environment.line_comment_prefix,
                getattr(environment, "newstyle_gettext", None))
    return hashlib.sha256(repr(settings).encode()).hexdigest()[:16]


def template_cache_folder(environment: Environment) -> Path | None:
    """The private folder of the user's cache that keeps this environment's compiled templates; None when it
    cannot be made (a read-only home): the templates are then compiled at each start, as before."""
    try:
        return ensure_private_dir(ensure_private_dir(user_cache_dir() / "templates") / environment_signature(environment))
    except OSError:
        return None
