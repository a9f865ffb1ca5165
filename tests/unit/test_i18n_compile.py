"""The catalogs of `python -m app`, compiled by Babel at first use, are kept beside their .po for the next
start (as Python keeps .pyc files) and compiled again when the .po is newer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.common import i18n

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


def test_the_compiled_catalog_is_kept_beside_the_po_and_compiled_again_when_the_po_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po_path, mo_path = folder / "messages.po", folder / "messages.mo"
    po_path.write_text(CORNERS, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    assert i18n._load("fr").gettext("Hello %(name)s") == "Bonjour %(name)s"
    assert mo_path.read_bytes() == i18n.compile_po(po_path.read_bytes(), "fr")   # kept for the next start
    mo_path.write_bytes(i18n.compile_po(CORNERS.replace("Bonjour", "Salut").encode(), "fr"))
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
