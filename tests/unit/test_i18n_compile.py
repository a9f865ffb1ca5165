"""app.common.i18n.compile_po (the catalogs of `python -m app`, compiled at first use) makes what Babel's
read_po and write_mo make, on every catalog of the program and on the corners of the .po format."""

from __future__ import annotations

import gettext
import io
import os
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app.common import i18n


def _babel(po_text: bytes, language: str) -> gettext.GNUTranslations:
    compiled = io.BytesIO()
    write_mo(compiled, read_po(io.BytesIO(po_text), locale=language, domain=i18n.DOMAIN), use_fuzzy=False)
    return gettext.GNUTranslations(io.BytesIO(compiled.getvalue()))


def _ours(po_text: bytes) -> gettext.GNUTranslations:
    return gettext.GNUTranslations(io.BytesIO(i18n.compile_po(po_text)))


def _same(ours: gettext.GNUTranslations, babel: gettext.GNUTranslations) -> None:
    # The header ("" key) is Babel's own rewrite of the file's; what is read from it must agree.
    catalog = {key: text for key, text in ours._catalog.items() if key != ""}   # type: ignore[attr-defined]
    expected = {key: text for key, text in babel._catalog.items() if key != ""}   # type: ignore[attr-defined]
    assert catalog == expected
    assert [ours.plural(n) for n in range(200)] == [babel.plural(n) for n in range(200)]   # type: ignore[attr-defined]
    assert ours.info()["language"] == babel.info()["language"]
    assert ours.charset() == babel.charset()


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_catalog_compiles_as_babel_compiles_it(language: str) -> None:
    po_text = (i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").read_bytes()
    _same(_ours(po_text), _babel(po_text, language))


CORNERS = r'''# A comment
#, fuzzy
msgid ""
msgstr ""
"Language: fr\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\n"
"Content-Type: text/plain; charset=utf-8\n"

#: app/x.py:1
#, python-format
msgid "Hello %(name)s"
msgstr "Bonjour %(name)s"

msgid ""
"A long message "
"on two lines"
msgstr ""
"Un long message "
"sur deux lignes"

msgid "Quotes \"here\", a tab\there, a backslash \\ and a new line\n"
msgstr "Guillemets « ici », une tabulation\tici, une barre \\ et une ligne\n"

#, fuzzy
msgid "Guessed"
msgstr "Deviné"

msgid "Not translated yet"
msgstr ""

msgid "%(count)s line"
msgid_plural "%(count)s lines"
msgstr[0] "%(count)s ligne"
msgstr[1] ""

msgctxt "month"
msgid "May"
msgstr "Mai"

msgid "May"
msgstr "Peut"

#~ msgid "Gone"
#~ msgstr "Parti"
'''


def test_the_corners_of_the_po_format_compile_as_babel_compiles_them() -> None:
    po_text = CORNERS.encode()
    ours = _ours(po_text)
    _same(ours, _babel(po_text, "fr"))
    assert ours.gettext("A long message on two lines") == "Un long message sur deux lignes"
    assert ours.gettext("Guessed") == "Guessed"   # fuzzy: left out
    assert ours.gettext("Gone") == "Gone"   # obsolete
    assert ours.ngettext("%(count)s line", "%(count)s lines", 5) == "%(count)s lines"   # untranslated form
    assert ours.pgettext("month", "May") == "Mai" and ours.gettext("May") == "Peut"


def test_the_compiled_catalog_is_kept_beside_the_po_and_compiled_again_when_the_po_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po_path, mo_path = folder / "messages.po", folder / "messages.mo"
    po_path.write_text(CORNERS, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    assert i18n._load("fr").gettext("Hello %(name)s") == "Bonjour %(name)s"
    assert mo_path.read_bytes() == i18n.compile_po(po_path.read_bytes())   # kept for the next start
    mo_path.write_bytes(i18n.compile_po(CORNERS.replace("Bonjour", "Salut").encode()))
    assert i18n._load("fr").gettext("Hello %(name)s") == "Salut %(name)s"   # the kept one is read
    po_path.write_text(CORNERS.replace("Bonjour", "Coucou"), encoding="utf-8")
    os.utime(po_path, (mo_path.stat().st_mtime + 1, mo_path.stat().st_mtime + 1))
    assert i18n._load("fr").gettext("Hello %(name)s") == "Coucou %(name)s"   # the .po is newer
    assert sorted(path.name for path in folder.iterdir()) == ["messages.mo", "messages.po"]   # no leftovers


def test_a_folder_that_cannot_be_written_still_gets_its_catalog(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(CORNERS, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)

    def refuse(*args: object) -> None:
        raise PermissionError("a read-only folder")

    monkeypatch.setattr(os, "replace", refuse)
    assert i18n._load("fr").gettext("Hello %(name)s") == "Bonjour %(name)s"
    assert sorted(path.name for path in folder.iterdir()) == ["messages.po"]
