"""Translation catalogs: extract the marked strings, merge them into each language's catalog, compile,
and check that every language has every message (issue 15).

    python build/i18n.py extract   # app/locale/messages.pot from app/**.py and web/templates/**.html
    python build/i18n.py update    # merge the .pot into app/locale/{en,fr,de}/LC_MESSAGES/messages.po
    python build/i18n.py compile   # messages.mo beside each .po (optional: the program compiles in memory)
    python build/i18n.py check     # exit 1 when a catalog lacks a message, has a fuzzy or an empty one

Run from the repository root. The extraction map is SOURCES below (no babel.cfg: Babel's Python API
takes it directly).
"""

from __future__ import annotations

import copy
import io
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.common.i18n import DOMAIN, LANGUAGES, LOCALE_DIR  # noqa: E402

KEYWORDS = {"_": None, "N_": None, "L_": None, "gettext": None, "ngettext": (1, 2)}
# (folder, pattern, method, options): Babel's extraction map.
SOURCES = (
    ("app", "**.py", "python", {}),
    ("web/templates", "**.html", "jinja2", {"extensions": "jinja2.ext.i18n", "silent": "false"}),
)
POT_PATH = LOCALE_DIR / f"{DOMAIN}.pot"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> Catalog:
    """Every marked message of the code and the templates, with where it is used."""
    template = Catalog(project="Counterfoil", domain=DOMAIN, charset="utf-8")
    for folder, pattern, method, options in SOURCES:
        base = ROOT / folder
        for filename, lineno, message, comments, context in extract_from_dir(
                base, method_map=[(pattern, method)], options_map={pattern: options}, keywords=KEYWORDS,
                comment_tags=("Translators:",), strip_comment_tags=True):
            if "piccolo_migrations" in filename:
                continue
            template.add(message, None, [(f"{folder}/{filename}", lineno)], auto_comments=comments,
                         context=context)
    return template


def write_catalog(catalog: Catalog, path: Path, **options: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=120, sort_output=False, **options)
    path.write_bytes(buffer.getvalue())


def read_catalog(path: Path, language: str) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=language, domain=DOMAIN)


def update(template: Catalog, languages: Iterable[str] = LANGUAGES) -> None:
    """Each language's catalog gets the template's messages: new ones empty (English: the message
    itself), gone ones dropped; a changed message comes in fuzzy with its old translation to review."""
    for language in languages:
        path = po_path(language)
        catalog = read_catalog(path, language) if path.exists() else Catalog(locale=language, domain=DOMAIN)
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=False)   # a copy: catalogs must not share messages
        catalog.obsolete.clear()
        if language == "en":
            # English is the source language: each message is its own translation.
            for message in catalog:
                if message.id and (not _translated(message.string) or "fuzzy" in message.flags):
                    message.string = message.id
                    message.flags.discard("fuzzy")
        write_catalog(catalog, path)


def _translated(string: object) -> bool:
    if isinstance(string, (tuple, list)):
        return all(string)
    return bool(string)


def compile_all(languages: Iterable[str] = LANGUAGES) -> None:
    for language in languages:
        catalog = read_catalog(po_path(language), language)
        with po_path(language).with_suffix(".mo").open("wb") as compiled:
            write_mo(compiled, catalog, use_fuzzy=False)


def problems(template: Catalog, catalogs: dict[str, Catalog]) -> list[str]:
    """What keeps the catalogs from being complete: a message of the template a language lacks, or has
    fuzzy or empty."""
    found = []
    for language, catalog in catalogs.items():
        for message in template:
            if not message.id:
                continue
            have = catalog.get(message.id, context=message.context)
            where = ", ".join(f"{name}:{line}" for name, line in message.locations[:2])
            shown = message.id if isinstance(message.id, str) else message.id[0]
            if have is None:
                found.append(f"{language}: lacks {shown!r} ({where})")
            elif "fuzzy" in have.flags:
                found.append(f"{language}: fuzzy {shown!r} ({where})")
            elif not _translated(have.string):
                found.append(f"{language}: untranslated {shown!r} ({where})")
    return found


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "extract":
        write_catalog(extract(), POT_PATH)
    elif command == "update":
        template = extract()
        write_catalog(template, POT_PATH)
        update(template)
    elif command == "compile":
        compile_all()
    elif command == "check":
        found = problems(extract(), {language: read_catalog(po_path(language), language)
                                     for language in LANGUAGES if po_path(language).exists()})
        missing = [language for language in LANGUAGES if not po_path(language).exists()]
        found += [f"{language}: no catalog at {po_path(language)}" for language in missing]
        for line in found:
            print(line)
        print(f"{len(found)} problem(s)" if found else "catalogs complete")
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
