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
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_UNTRANSLATED = gettext_module.NullTranslations()
_translations: ContextVar[gettext_module.NullTranslations | None] = ContextVar(
    "counterfoil_translations", default=None)


def _(message: str, **values: object) -> str:
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


def current_translations() -> gettext_module.NullTranslations:
    return _translations.get() or _UNTRANSLATED


@contextmanager
def using(translations: gettext_module.NullTranslations) -> Iterator[None]:
    """Runs the block with `translations` in force, then restores the previous language."""
    token = _translations.set(translations)
    try:
        yield
    finally:
        _translations.reset(token)
