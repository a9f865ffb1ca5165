"""Make the pages' web fonts (web/static/fonts/*.woff2) from the PDFs' fonts in typst_templates/fonts.

    .venv/bin/python build/make_web_fonts.py

The PDFs need the whole OpenType fonts (Typst reads no WOFF2); a page needs far less. Each
Inter weight is cut in two, the way font services do it: "latin" (Western European text,
punctuation, currency signs, the arrows and ticks the pages draw), fetched by every page,
and "ext" (the rest of Latin, Greek, Cyrillic), fetched only by a page holding one of its
characters (the @font-face rules' unicode-range). The fallback fonts for other scripts
(Noto Sans, Arabic, Hebrew, Emoji) are converted whole; Noto Sans CJK stays the PDFs'
.otf at /fonts (5 MB compressed; fetched once, only by a page showing a CJK name, and then
kept by the browser: its URL carries its hash too).

WOFF2 compresses with Brotli: needs fontTools and brotli (the dev extra). The output is
committed; the @font-face block of web/static/app.css between the FONT-FACE markers is
rewritten with each file's content hash in its URL, so a browser may keep them for a year
(tests/http/test_static_assets.py checks the hashes match the files).
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "typst_templates" / "fonts"
OUT = ROOT / "web" / "static" / "fonts"
CSS = ROOT / "web" / "static" / "app.css"
BEGIN, END = "/* FONT-FACE: begin (build/make_web_fonts.py writes this block) */", "/* FONT-FACE: end */"

LATIN = ("U+0000-00FF, U+0131, U+0152-0153, U+02BB-02BC, U+02C6, U+02DA, U+02DC, U+0304, U+0308, U+0329, "
         "U+2000-206F, U+20A0-20CF, U+2113, U+2116, U+2122, U+2190-2199, U+2212, U+2215, U+2248, U+2260, "
         "U+2264-2265, U+25B2, U+25B6, U+25BC, U+25C0, U+2713, U+2715, U+FEFF, U+FFFD")
EXT = ("U+0100-0130, U+0132-0151, U+0154-024F, U+0259, U+0300-0303, U+0305-0307, U+0309-0328, U+032A-036F, "
       "U+0370-03FF, U+0400-052F, U+1C80-1C8F, U+1D00-1DBF, U+1E00-1FFF, U+2C60-2C7F, U+2DE0-2DFF, "
       "U+A640-A69F, U+A720-A7FF")
INTER = {  # file -> (weight, style)
    "Inter-Regular.otf": (400, "normal"),
    "Inter-Italic.otf": (400, "italic"),
    "Inter-Medium.otf": (500, "normal"),
    "Inter-SemiBold.otf": (600, "normal"),
    "Inter-Bold.otf": (700, "normal"),
}
# The PDFs' fallback fonts (typst_templates/lib/fonts.typ): file -> (family, weight, unicode-range)
FALLBACKS = {
    "NotoSans-Regular.ttf": ("Noto Sans", 400, "U+0100-052F, U+1C80-1C8F, U+1D00-1FFF, U+2C60-2C7F, U+A640-A69F, U+A720-A7FF"),
    "NotoSans-Bold.ttf": ("Noto Sans", 700, "U+0100-052F, U+1C80-1C8F, U+1D00-1FFF, U+2C60-2C7F, U+A640-A69F, U+A720-A7FF"),
    "NotoSansArabic-Regular.ttf": ("Noto Sans Arabic", 400, "U+0600-06FF, U+0750-077F, U+0870-08FF, U+FB50-FDFF, U+FE70-FEFF"),
    "NotoSansArabic-Bold.ttf": ("Noto Sans Arabic", 700, "U+0600-06FF, U+0750-077F, U+0870-08FF, U+FB50-FDFF, U+FE70-FEFF"),
    "NotoSansHebrew-Regular.ttf": ("Noto Sans Hebrew", 400, "U+0590-05FF, U+FB1D-FB4F"),
    "NotoSansHebrew-Bold.ttf": ("Noto Sans Hebrew", 700, "U+0590-05FF, U+FB1D-FB4F"),
    "NotoEmoji-Regular.ttf": ("Noto Emoji", 400, "U+00A9, U+00AE, U+200D, U+203C-2B55, U+3030, U+303D, U+3297, U+3299, U+FE0F, U+1F000-1FAFF"),
}
CJK = ('@font-face {{ font-family: "Noto Sans CJK SC"; font-weight: 400; font-display: swap; '
       'src: url("/fonts/NotoSansCJKsc-Regular.otf?v={version}") format("opentype"); '
       "unicode-range: U+1100-11FF, U+3000-33FF, U+4E00-9FFF, U+AC00-D7A3, U+F900-FAFF, U+FF00-FFEF; }}")


def codepoints(ranges: str) -> list[int]:
    points: list[int] = []
    for part in ranges.split(","):
        part = part.strip().removeprefix("U+")
        low, _, high = part.partition("-")
        points.extend(range(int(low, 16), int(high or low, 16) + 1))
    return points


def cut(source: Path, target: Path, ranges: str | None) -> None:
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = [*options.layout_features, "tnum"]  # the defaults (kerning, ligatures...) and tabular figures
    options.hinting = False               # screens draw Inter well without its hints; a third of the bytes
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.desubroutinize = True         # compresses better under Brotli
    font = TTFont(source, recalcTimestamp=False)   # the same bytes at every run: the hashes in app.css hold
    subsetter = subset.Subsetter(options)
    unicodes = codepoints(ranges) if ranges else list(font.getBestCmap())
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    font.flavor = "woff2"
    font.save(target)


def version(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def face(family: str, weight: int, style: str, file: str, ranges: str) -> str:
    url = f"/static/fonts/{file}?v={version(OUT / file)}"
    return (f'@font-face {{ font-family: "{family}"; font-style: {style}; font-weight: {weight}; font-display: swap; '
            f'src: url("{url}") format("woff2"); unicode-range: {ranges}; }}')


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    rules: list[str] = []
    for source, (weight, style) in INTER.items():
        stem = source.removesuffix(".otf")
        for part, ranges in (("latin", LATIN), ("ext", EXT)):
            name = f"{stem}-{part}.woff2"
            cut(SOURCE / source, OUT / name, ranges)
            rules.append(face("Inter", weight, style, name, ranges))
    for source, (family, weight, ranges) in FALLBACKS.items():
        name = source.rsplit(".", 1)[0] + ".woff2"
        cut(SOURCE / source, OUT / name, None)
        rules.append(face(family, weight, "normal", name, ranges))
    rules.append(CJK.format(version=version(SOURCE / 'NotoSansCJKsc-Regular.otf')))
    css = CSS.read_text()
    block = "\n".join([BEGIN, *rules, END])
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pattern.search(css):
        print(f"{CSS}: the FONT-FACE markers are missing", file=sys.stderr)
        return 1
    CSS.write_text(pattern.sub(lambda _: block, css))
    for path in sorted(OUT.glob("*.woff2")):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
