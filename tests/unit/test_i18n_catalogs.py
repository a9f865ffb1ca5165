"""Every user-visible string is marked, and every language has every message (issue 15).

The extraction runs here, in memory (build/i18n.py's, the one `python build/i18n.py update` runs), so a
string added to a template or a page without a translation in each catalog fails this test. The fix:
`python build/i18n.py update`, translate the new entries in app/locale/{fr,de}/LC_MESSAGES/messages.po,
then `python build/i18n.py check`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from app.common import i18n
from tests.unit.template_text import unmarked

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "web" / "templates").rglob("*.html"))


def _build_i18n():
    spec = importlib.util.spec_from_file_location("build_i18n", ROOT / "build" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_i18n"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT / "web" / "templates")))
def test_template_marks_every_visible_string(path: Path) -> None:
    found = unmarked(path.read_text(encoding="utf-8"))
    assert not found, "\n".join(f"{path.name}:{problem.line}: {problem.where} {problem.text!r} is not marked "
                                f"for translation (wrap it in {{{{ _(\"...\") }}}})" for problem in found)


def test_the_scanner_finds_what_is_not_marked() -> None:
    source = ('<p>Hello {{ name }}</p><input placeholder="Search" aria-label="{{ _(\'Find\') }}">'
              '<input type="submit" value="Go"><button name="kind" value="zip">{{ "Save changes" if x else _("Save") }}</button>'
              '{% trans %}Fine {{ x }}{% endtrans %}<a title="{{ url }}">{{ _("Ok") }}</a>'
              '<script>var a = "Not text";</script>&nbsp;&rarr;')
    assert [(problem.where, problem.text) for problem in unmarked(source)] == [
        ("text", "Hello"), ("attribute placeholder", "Search"), ("attribute value", "Go"),
        ("literal", '"Save changes"')]


def test_every_catalog_has_every_message() -> None:
    build = _build_i18n()
    template = build.extract()
    catalogs = {language: build.read_catalog(build.po_path(language), language) for language in i18n.LANGUAGES}
    problems = build.problems(template, catalogs)
    assert not problems, f"{len(problems)} catalog problem(s); run build/i18n.py update and translate:\n" + \
        "\n".join(problems[:40])


def test_catalogs_compile_and_translate() -> None:
    for language, word in (("fr", "Facture"), ("de", "Rechnung"), ("en", "Invoice")):
        with i18n.using(i18n.translations_for(language)):
            assert i18n._("Invoice") == word
    with i18n.using_locale("de_AT"):
        assert i18n._("Credit note") == "Gutschrift"
        assert i18n.current_locale() == "de_AT"
    assert i18n.current_locale() == i18n.DEFAULT_LOCALE


@pytest.mark.parametrize(("header", "expected"), [
    ("de-DE,de;q=0.9,en;q=0.8", "de"), ("fr-CA", "fr"), ("es, fr;q=0.5", "fr"), ("en-US", "en"),
    ("es", None), ("", None), (None, None), ("de;q=0, fr;q=0.1", "fr"), ("de;q=abc", None)])
def test_accept_language_negotiation(header: str | None, expected: str | None) -> None:
    assert i18n.negotiate(header) == expected


@pytest.mark.parametrize(("locale", "language", "written"), [
    ("en", "en", "en_CA"), ("en_GB", "en", "en_GB"), ("de", "de", "de"), ("de_CH", "de", "de_CH"),
    ("fr_CA", "fr", "fr_CA"), ("es", "en", "es"), ("xx_YY", "en", "en_CA"), (None, "en", "en_CA")])
def test_locale_to_language_and_writing(locale: str | None, language: str, written: str) -> None:
    assert i18n.language_of(locale) == language
    assert i18n.formatting_locale(locale) == written
