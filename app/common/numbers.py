"""Numbers as people write them: read and written in a locale (issue 15).

A German writes 1.234,50, a French person 1 234,50, a Canadian 1,234.50. Pages read typed numbers in the
reader's locale with Babel's strict parser, so a misplaced separator is refused rather than guessed; the
API keeps plain decimals ("1234.50").

What is accepted, for a locale L:
- what Babel's strict parser accepts for L (its group and decimal symbols, groups of three);
- spaces, no-break spaces and apostrophes between groups of three digits, in any locale (1 200,50; 1'200.50);
- a plain decimal as the API and the pages write it (1200.50, 0.0125), unless it could also be L's
  grouping: in German "1.200" is 1200 to a German and 1.2 as a plain decimal, so it is refused with both
  readings, and the reader writes 1200 or 1,2.
Everything else is refused with a message that shows how it was read and what L writes.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.numbers import NumberFormatError, format_decimal, get_decimal_symbol, get_group_symbol
from babel.numbers import parse_decimal as babel_parse_decimal

from app.common.i18n import _, current_locale, typed_locale

SPACES = " \u00a0\u202f\u2009'’"
_PLAIN = re.compile(r"[-+]?[0-9]+(\.[0-9]+)?")
_ONE_GROUP = re.compile(r"[-+]?[0-9]{1,3}\.[0-9]{3}")
_SPACED_GROUPS = re.compile(r"[-+]?[0-9]{1,3}(?:[" + SPACES + r"][0-9]{3})+(?:[.,][0-9]+)?")


class NumberNotRead(ValueError):
    """A typed number the locale does not read, or reads two ways; the message says how it was read."""


def read_decimal(text: str, locale: str) -> Decimal:
    """`text` as typed by someone writing in `locale` (see the module's note), exactly."""
    typed = text.strip()
    if not typed:
        raise NumberNotRead(_("a number is required"))
    if "_" in typed or any(char.isdigit() and not "0" <= char <= "9" for char in typed):
        # Babel, as Decimal(), reads other scripts' digits ("١٠" is 10): numbers are written with 0-9 here.
        raise _not_read(text, locale)
    group, decimal = get_group_symbol(locale), get_decimal_symbol(locale)
    if any(char in SPACES for char in typed):
        if group in SPACES:
            typed = re.sub("[" + SPACES + "]", group, typed)
        elif _SPACED_GROUPS.fullmatch(typed):
            typed = re.sub("[" + SPACES + "]", "", typed)
        else:
            raise _not_read(text, locale)
    if group == "." and _ONE_GROUP.fullmatch(typed):
        grouped = babel_parse_decimal(typed, locale=locale, strict=True)
        plain = _plain_text(Decimal(typed).normalize())
        raise NumberNotRead(_("%(text)s can be read two ways: %(grouped)s (the dot groups thousands) or "
                              "%(plain)s (a decimal point). Write %(grouped)s or %(plain_local)s.",
                              text=repr(text.strip()), grouped=_plain_text(grouped), plain=plain,
                              plain_local=plain.replace(".", decimal)))
    if _PLAIN.fullmatch(typed):
        # 1200, 12.50 or 0.0125: a plain decimal; a dot that could be grouping (1.200) was refused above
        return Decimal(typed)
    try:
        return babel_parse_decimal(typed, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation):
        raise _not_read(text, locale) from None


def _not_read(text: str, locale: str) -> NumberNotRead:
    example = format_decimal(Decimal("1234.56"), locale=locale)
    reading = _one_reading(text, locale)
    if reading is not None:
        return NumberNotRead(_("%(text)s is not a number as %(language)s writes it (%(example)s); did you mean "
                               "%(reading)s?", text=repr(text.strip()), language=_locale_name(locale), example=example,
                               reading=reading))
    return NumberNotRead(_("%(text)s is not a number as %(language)s writes it (%(example)s)",
                           text=repr(text.strip()), language=_locale_name(locale), example=example))


def _one_reading(text: str, locale: str) -> str | None:
    """What the typist probably meant, in their locale's writing: the decimal with the other separator."""
    decimal = get_decimal_symbol(locale)
    other = "," if decimal == "." else "."
    candidate = text.strip()
    if candidate.count(other) == 1 and not any(char in candidate for char in SPACES) and decimal not in candidate:
        whole, _sep, fraction = candidate.partition(other)
        if re.fullmatch(r"[-+]?[0-9]+", whole) and re.fullmatch(r"[0-9]+", fraction):
            return f"{whole}{decimal}{fraction}"
    return None


def _plain_text(number: Decimal) -> str:
    return format(number, "f")


def _locale_name(locale: str) -> str:
    """The locale named in the reader's language: "German (Germany)", "allemand", "Englisch (Kanada)"."""
    try:
        reader = Locale.parse(current_locale())
        return Locale.parse(locale).get_display_name(reader) or locale
    except (ValueError, TypeError):
        return locale


def input_text(value: object, locale: str | None = None) -> str:
    """A number as a form field shows it for typing back: exact digits, the locale's decimal symbol, no
    grouping (1234,5 for a German reader); anything that is not a number (typed text) as it is."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        return "" if value is None else str(value)
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    return text.replace(".", get_decimal_symbol(locale or current_locale()))


def as_typed(text: str) -> str:
    """A plain decimal the program writes into a form (a picked item's price "1.125") as the reader types
    numbers on pages ("1,125" for a German reader), so that sending the form back reads it the same; unchanged
    outside pages (the API) and for anything that is not a plain decimal."""
    locale = typed_locale()
    if locale is None or not _PLAIN.fullmatch(text.strip()):
        return text
    return text.strip().replace(".", get_decimal_symbol(locale))
