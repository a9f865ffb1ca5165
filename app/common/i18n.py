"""Translation of user-visible text (issue 15).

Every sentence a person reads goes through `_()` (Python) or `{{ _("...") }}` / `{% trans %}` (Jinja), so
Babel can extract it into the gettext catalogs and each reader sees it in their language. The language
in force is a context variable: the web door sets it per request (the user's choice, else the business
locale), mail and rendering set it for the client they write to. Until a language is chosen the text
stays as written (English).

`N_()` marks a string for extraction where it is defined (a module-level label, a choice list) and is
translated with `_()` where it is shown.
"""

from __future__ import annotations

import gettext as gettext_module
import html
import io
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import TypeVar

from babel import Locale, UnknownLocaleError

# The languages with a catalog in app/locale/<language>/LC_MESSAGES/messages.po.
LANGUAGES = ("en", "fr", "de")
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch"}
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
# How numbers, money and dates are written when nobody chose otherwise: the business locale "en" (no
# country) is written the Canadian way the program always used (2026-12-05, 1,234.50).
DEFAULT_LOCALE = "en_CA"

K = TypeVar("K")
_UNTRANSLATED = gettext_module.NullTranslations()
_translations: ContextVar[gettext_module.NullTranslations | None] = ContextVar(
    "counterfoil_translations", default=None)
_locale: ContextVar[str | None] = ContextVar("counterfoil_locale", default=None)
_time_zone: ContextVar[str | None] = ContextVar("counterfoil_time_zone", default=None)
# The locale typed numbers are read in: set for pages only (a German user's "1.200,50"); the API and
# everything else read plain decimals ("1200.50").
_typed_locale: ContextVar[str | None] = ContextVar("counterfoil_typed_locale", default=None)
_loaded: dict[str, gettext_module.NullTranslations] = {}
_loading = threading.Lock()


def _(message: str, /, **values: object) -> str:
    """The message in the current language; `values` fill its `%(name)s` placeholders."""
    text = current_translations().gettext(message)
    return text % values if values else text


def gettext(message: str) -> str:
    """The message in the current language, placeholders left as they are (Jinja fills them)."""
    return current_translations().gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural message for `count` in the current language, placeholders left as they
    are: `ngettext("%(num)d line", "%(num)d lines", n) % {"num": n}`."""
    return current_translations().ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Marks a message for extraction without translating it here (see the module's note)."""
    return message


class LazyText(str):
    """A label defined at import time (a module-level choice list) that reads in the language in force
    where it is shown: on a page (`{{ label }}`, `__html__`), in `str()`, an f-string or `%`. Compared,
    hashed, sorted and sent as JSON it is the English message, which keeps keys and the API stable."""

    __slots__ = ()

    def __str__(self) -> str:
        return current_translations().gettext(str.__str__(self))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __html__(self) -> str:
        return html.escape(str(self), quote=True)

    def lower(self) -> str:
        # "New invoice" in English and French lowercases the label; German writes its nouns capitalised.
        text = str(self)
        return text if _current_language() == "de" else text.lower()

    def upper(self) -> str:
        return str(self).upper()

    def capitalize(self) -> str:
        return str(self).capitalize()


def _current_language() -> str:
    return language_of(current_locale())


def L_(message: str) -> str:
    """Marks a module-level label for extraction and makes it translate itself where it is shown
    (see LazyText)."""
    return LazyText(message)


def lazy(message: str) -> str:
    """A label defined elsewhere (a core module's `N_()` choice list) that reads in the language in force
    where it is shown; see LazyText."""
    return LazyText(message)


def translated(labels: Mapping[K, str]) -> dict[K, str]:
    """A core module's label mapping (marked with `N_()`) for a page: each label reads in the reader's
    language where it is shown, the keys stay as they are."""
    return {key: LazyText(label) for key, label in labels.items()}


def current_translations() -> gettext_module.NullTranslations:
    return _translations.get() or _UNTRANSLATED


def current_language() -> str:
    """The language text is written in for this request or email (`fr`), from its catalog: words built
    from numbers (an ordinal day: 1st, 1er, 1.) follow it, whatever locale writes the numbers."""
    language = current_translations().info().get("language", "en")
    return language_of(language)


def current_locale() -> str:
    """The locale numbers, money and dates are written in (`de_DE`, `fr`, `en_CA`)."""
    return _locale.get() or DEFAULT_LOCALE


def money_text(amount: object, currency: str) -> str:
    """An amount and its currency code in a message, as the reader's locale groups and writes it:
    "1,000.00 CAD" (en), "1 000,00 CAD" (fr), with the currency's own decimals (JPY 0, KWD 3)."""
    from decimal import Decimal

    from babel.numbers import format_currency

    return format_currency(Decimal(str(amount)), currency, format="#,##0.00 ¤¤", locale=formatting_locale(current_locale()),
                           currency_digits=True)


def current_time_zone() -> str:
    """The time zone times are shown in: the business's (settings), UTC until one is set."""
    return _time_zone.get() or "UTC"


@contextmanager
def using(translations: gettext_module.NullTranslations) -> Iterator[None]:
    """Runs the block with `translations` in force, then restores the previous language."""
    token = _translations.set(translations)
    try:
        yield
    finally:
        _translations.reset(token)


def typed_locale() -> str | None:
    """The locale typed numbers are read in; None: plain decimals (the API, scripts, the CLI)."""
    return _typed_locale.get()


@contextmanager
def using_locale(locale: str | None, *, time_zone: str | None = None, typed: bool = False) -> Iterator[None]:
    """Runs the block in `locale`'s language (its catalog), its way of writing numbers and dates, and
    `time_zone` for times; `typed`: numbers typed in forms are read the locale's way too. Then restores
    what was in force."""
    written = formatting_locale(locale)
    tokens = (_translations.set(translations_for(language_of(written))), _locale.set(written),
              _time_zone.set(time_zone), _typed_locale.set(written if typed else None))
    try:
        yield
    finally:
        _translations.reset(tokens[0])
        _locale.reset(tokens[1])
        _time_zone.reset(tokens[2])
        _typed_locale.reset(tokens[3])


# The locales a user picks from for their pages (named in their own language); any other locale Babel knows
# for these languages is accepted too (`de_DE`, `fr_BE`, `en_AU`).
PAGE_LOCALES = {"en_CA": "English (Canada)", "en_US": "English (US)", "en_GB": "English (UK)",
                "fr": "Français", "fr_CA": "Français (Canada)", "fr_BE": "Français (Belgique)",
                "fr_CH": "Français (Suisse)", "de": "Deutsch", "de_DE": "Deutsch (Deutschland)",
                "de_AT": "Deutsch (Österreich)", "de_CH": "Deutsch (Schweiz)"}


def known_locale(locale: str) -> bool:
    """Babel knows the locale: `de_DE`, `fr`, `en_CA` (`-` or `_`)."""
    try:
        Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return False
    return True


def formatting_locale(locale: str | None) -> str:
    """A locale Babel knows, for writing numbers and dates: `de` stays `de`, `fr_CA` stays `fr_CA`, the
    bare `en` (and anything unknown) is the program's default, en_CA."""
    if not locale or locale == "en" or not known_locale(locale):
        return DEFAULT_LOCALE
    return locale.replace("-", "_")


def language_of(locale: str | None) -> str:
    """The catalog a locale reads: `de_AT` -> `de`; a language without a catalog -> `en`."""
    language = (locale or "en").replace("-", "_").split("_")[0].lower()
    return language if language in LANGUAGES else "en"


def negotiate(accept_language: str | None) -> str | None:
    """The language of ours an Accept-Language header prefers most (`de-DE,de;q=0.9,en;q=0.8` -> `de`),
    None when it names none of ours (the API then answers in English)."""
    if not accept_language:
        return None
    wanted = []
    for part in accept_language.split(","):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            wanted.append((quality, tag.strip()))
    for _quality, tag in sorted(wanted, key=lambda pair: -pair[0]):
        language = tag.replace("-", "_").split("_")[0].lower()
        if language in LANGUAGES:
            return language
    return None


def translations_for(language: str) -> gettext_module.NullTranslations:
    """The catalog of `language`, loaded once per process. A compiled messages.mo next to the .po is read
    when it is at least as new (a packaged build, or kept by an earlier start); otherwise the .po is
    compiled with Babel (a fresh clone needs no build step; 60-90 ms per language, at the first start
    only) and the .mo kept beside it."""
    if language == "en" and not (LOCALE_DIR / "en" / "LC_MESSAGES" / f"{DOMAIN}.po").exists():
        return _UNTRANSLATED
    cached = _loaded.get(language)
    if cached is not None:
        return cached
    with _loading:
        cached = _loaded.get(language)
        if cached is None:
            cached = _load(language)
            _loaded[language] = cached
    return cached


def _load(language: str) -> gettext_module.NullTranslations:
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    po_path, mo_path = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if not po_path.exists():
        return _UNTRANSLATED
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        with mo_path.open("rb") as compiled:
            return gettext_module.GNUTranslations(compiled)
    catalog = compile_po(po_path.read_bytes(), language)
    _keep_compiled(mo_path, catalog)
    return gettext_module.GNUTranslations(io.BytesIO(catalog))


def _keep_compiled(mo_path: Path, compiled: bytes) -> None:
    """The compiled catalog kept beside its .po, as Python keeps a module's .pyc: the first page of the
    next start reads it instead of compiling again. A folder that cannot be written (an installed copy)
    only means compiling at each start; processes starting together each write whole files."""
    part = mo_path.with_name(f"{mo_path.name}.{os.getpid()}.part")
    try:
        part.write_bytes(compiled)
        os.replace(part, mo_path)
    except OSError:
        with suppress(OSError):
            part.unlink(missing_ok=True)


def compile_po(po_text: bytes, language: str) -> bytes:
    """A .po catalog compiled to .mo bytes by Babel (fuzzy entries left out, as msgfmt does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.BytesIO(po_text), locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    return compiled.getvalue()
