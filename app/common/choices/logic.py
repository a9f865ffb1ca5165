"""The choices behind the country, currency, locale and time zone pickers, from Babel's CLDR data and the
system's time zone database, and the checks that an entered value is one of them. Pure.

The pickers are `<input list>` with a `<datalist>`: the browser searches the codes and the names as
the user types; the server still checks every value here, whatever the browser sent.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from zoneinfo import available_timezones

from babel import Locale, UnknownLocaleError
from babel.localedata import locale_identifiers
from babel.numbers import get_territory_currencies

# The languages the program speaks; a locale of any of them that Babel knows is accepted (de_DE, fr_BE, en_AU).
SUPPORTED_LANGUAGES = ("en", "fr", "de")
# Territory codes of CLDR that are not countries: unknown, the EU, the eurozone, the UN, outlying
# Oceania and the pseudo-locales' regions.
NOT_COUNTRIES = frozenset({"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"})
# Time zone database entries that are not places a business is in: aliases kept for old systems.
_ZONE_AREAS = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/", "Australia/", "Europe/",
               "Indian/", "Pacific/")


def _display(display: str) -> Locale:
    try:
        return Locale.parse(display.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale("en")


@lru_cache(maxsize=8)
def countries(display: str = "en") -> tuple[tuple[str, str], ...]:
    """(ISO 3166 code, name in the display language), sorted by name."""
    names = _display(display).territories
    return tuple(sorted(((code, name) for code, name in names.items()
                         if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES),
                        key=lambda pair: pair[1].casefold()))


@lru_cache(maxsize=1)
def _country_codes() -> frozenset[str]:
    return frozenset(code for code, _ in countries("en"))


def is_country(code: str) -> bool:
    return code in _country_codes()


@lru_cache(maxsize=8)
def currencies(display: str = "en", today: date | None = None) -> tuple[tuple[str, str], ...]:
    """(ISO 4217 code, name) of the currencies some country uses as legal tender today, sorted by code."""
    day = today or date.today()
    codes: set[str] = set()
    for code in _country_codes():
        codes.update(get_territory_currencies(code, day, tender=True))
    names = _display(display).currencies
    return tuple((code, names.get(code, code)) for code in sorted(codes))


@lru_cache(maxsize=1)
def _locale_ids() -> frozenset[str]:
    return frozenset(locale_identifiers())


def normal_locale(text: str) -> str:
    """`de-de`, `DE_de`, ` fr_be ` -> `de_DE`, `fr_BE`: how Babel spells a language and region."""
    language, _, region = (text or "").strip().replace("-", "_").partition("_")
    return f"{language.lower()}_{region.upper()}" if region else language.lower()


def is_supported_locale(text: str) -> bool:
    """A language the program speaks, alone or with a region Babel knows for it (de, de_DE, fr_BE, en_AU);
    not a script or variant (en_Shaw), nor a region that is not a country (en_001)."""
    code = normal_locale(text)
    language, _, region = code.partition("_")
    if language not in SUPPORTED_LANGUAGES:
        return False
    return not region or (code in _locale_ids() and len(region) == 2 and region.isalpha())


@lru_cache(maxsize=8)
def locales(display: str = "en") -> tuple[tuple[str, str], ...]:
    """(locale, name in the display language) for every supported locale, the bare languages first."""
    shown = _display(display)
    ids = sorted(code for code in _locale_ids() if is_supported_locale(code) and code == normal_locale(code))
    named = [(code, Locale.parse(code).get_display_name(shown) or code) for code in ids]
    return tuple(sorted(named, key=lambda pair: ("_" in pair[0], pair[1].casefold())))


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """The time zones of places (Europe/Berlin, America/Toronto), sorted, and UTC."""
    return ("UTC", *sorted(zone for zone in available_timezones() if zone.startswith(_ZONE_AREAS)))


def is_time_zone(name: str) -> bool:
    return name == "UTC" or name in available_timezones()
