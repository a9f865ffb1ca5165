"""The bundled fonts: the templates' font list names fonts that are in the folder, each under its
licence, and the fallback fonts cover what build/make_fonts.py says they cover."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from fontTools.ttLib import TTFont

from app.paths import FONTS_DIR, TYPST_DIR

FONT_SUFFIXES = (".otf", ".ttf")


@cache
def families() -> dict[str, list[TTFont]]:
    found: dict[str, list[TTFont]] = {}
    for path in sorted(FONTS_DIR.iterdir()):
        if path.suffix in FONT_SUFFIXES:
            font = TTFont(path, lazy=True)
            names = font["name"]
            # The typographic family (Inter Medium and Inter SemiBold are "Inter" to Typst too).
            found.setdefault(names.getDebugName(16) or names.getDebugName(1), []).append(font)
    return found


def template_font_list() -> list[str]:
    source = (TYPST_DIR / "lib" / "fonts.typ").read_text()
    listed = re.search(r"^#let fonts = \((.*)\)$", source, re.MULTILINE)
    assert listed, "lib/fonts.typ must define `#let fonts = (...)`"
    return re.findall(r'"([^"]+)"', listed.group(1))


def covered(family: str) -> set[int]:
    return set().union(*(set(font.getBestCmap()) for font in families()[family]))


def test_every_font_the_templates_name_is_bundled_and_every_bundled_font_is_named():
    assert template_font_list()[0] == "Inter"
    assert set(template_font_list()) == set(families())


def test_the_templates_use_the_font_list_and_name_no_font_of_their_own():
    for path in TYPST_DIR.rglob("*.typ"):
        source = path.read_text()
        assert not re.search(r'font:\s*"', source), f"{path.name} names a font: use lib/fonts.typ's list"
    for template in ("lib/style.typ", "business-card.typ", "accountant-summary.typ"):
        assert "font: fonts" in (TYPST_DIR / template).read_text(), template


def test_every_font_is_beside_its_licence():
    licences = {path.name: path.read_text() for path in FONTS_DIR.glob("LICENSE-*.txt")}
    noto = licences["LICENSE-Noto.txt"]
    assert "SIL OPEN FONT LICENSE Version 1.1" in noto
    for path in FONTS_DIR.iterdir():
        if path.name.startswith("Noto"):
            assert f"{path.name}: " in noto, path.name
        elif path.suffix in FONT_SUFFIXES:
            assert path.name.startswith("Inter-") and "LICENSE-Inter.txt" in licences


def test_the_cjk_font_covers_the_ideographs_kana_and_hangul_that_names_are_written_with():
    cjk = covered("Noto Sans CJK SC")
    # Every ideograph of the basic block up to Unicode 12 (the font predates the 16 added since),
    # every modern Hangul syllable, the kana, and the compatibility ideographs of Japanese names (﨑).
    wanted = [*range(0x4E00, 0x9FF0), *range(0xAC00, 0xD7A4), *range(0x3041, 0x3097), *range(0x30A1, 0x30FB),
              0xFA11, 0x3005, 0x3001, 0x3002, 0xFF08, 0xFF09]
    missing = [hex(cp) for cp in wanted if cp not in cjk]
    assert not missing, missing[:20]


def test_each_script_has_its_font_and_bold_where_the_templates_use_bold():
    samples = {"Noto Sans Arabic": "محمد شركة ،", "Noto Sans Hebrew": "דוד שָׁלוֹם", "Noto Emoji": "☕🚀👍🏽❤",
               "Noto Sans": "ǅǈ ӜӞ ẞ ℮", "Inter": "Zoë Łukasz Ελένη Дмитрий"}
    for family, text in samples.items():
        letters = {ord(ch) for ch in text if not ch.isspace() and unicodedata.category(ch)[0] != "M"}
        assert letters <= covered(family), (family, [chr(cp) for cp in letters - covered(family)])
    for family in ("Noto Sans", "Noto Sans Arabic", "Noto Sans Hebrew"):
        weights = {font["OS/2"].usWeightClass for font in families()[family]}
        assert {400, 700} <= weights, family


def test_the_pages_web_fonts_are_the_bundled_files_each_fetched_only_for_its_characters():
    from app.paths import STATIC_DIR

    for sheet in ("app.css", "print.css"):
        css = (STATIC_DIR / sheet).read_text()
        faces = re.findall(r"@font-face \{[^}]*\}", css)
        fallbacks = [face for face in faces if "Noto" in face]
        assert {re.search(r'font-family: "([^"]+)"', face).group(1) for face in fallbacks} == set(families()) - {"Inter"}
        for face in fallbacks:
            # The PDFs' font itself (/fonts), or its WOFF2 copy made by build/make_web_fonts.py (/static/fonts).
            served = re.search(r'url\("/fonts/([^"?]+)(?:\?v=\w+)?"\)', face)
            woff2 = re.search(r'url\("/static/fonts/([^"?]+)\.woff2\?v=\w+"\)', face)
            assert (served and (FONTS_DIR / served.group(1)).is_file()) or (
                woff2 and (STATIC_DIR / "fonts" / f"{woff2.group(1)}.woff2").is_file()
                and any(FONTS_DIR.glob(f"{woff2.group(1)}.*"))), face
            assert "unicode-range:" in face, face   # never downloaded for a page that does not need it
        stack = re.search(r'font-family: "Inter(?: PDF)?",[^;]*;', css.split("@font-face")[-1])
        assert stack and all(f'"{family}"' in stack.group(0) for family in template_font_list()[1:]), sheet
