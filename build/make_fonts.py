"""Make the fallback fonts in typst_templates/fonts from their published packages.

    .venv/bin/python build/make_fonts.py [--sources FOLDER] [--out typst_templates/fonts]

Inter prints Latin, Greek and Cyrillic; these fonts print what a client's name may hold
beyond it (Typst picks the first font of the templates' list that has a character):

- Noto Sans (Regular, Bold): the rest of Latin, Greek and Cyrillic (extended letters,
  combining marks); Noto Sans Arabic and Noto Sans Hebrew (Regular, Bold), from Debian's
  fonts-noto-core, unchanged but for their TrueType hinting (instructions for screens at
  small sizes, of no use in a PDF; a third of the bytes).
- Noto Sans CJK SC (Regular), from Debian's fonts-noto-cjk, cut to what names are written
  with (CJK_RANGES): every CJK Unified Ideograph of the basic block (20,992: more than the
  union of GB 2312, Big5, JIS X 0213's kanji and KS X 1001's hanja, the national
  character sets names are registered in), the compatibility ideographs (山﨑), kana,
  every modern Hangul syllable (11,172) and jamo, CJK punctuation and full-width forms.
  The rare extension blocks (B onward, and A) are left out: the whole font is 16 MB a
  weight, this cut 6.6 MB. One face serves the three languages: each face of Noto Sans
  CJK holds every glyph, and the faces differ only in a few regional shapes of shared
  ideographs (the SC face draws them the mainland Chinese way). Regular only: bold CJK
  text prints in the regular weight (Typst does not embolden), which saves 6.6 MB more.
- Noto Emoji (Regular), the monochrome outline emoji font, from npm's
  @expo-google-fonts/noto-emoji: Typst writes outlines into the PDF (colour bitmap emoji
  would be images, not text), and PDF/A accepts them.

Without --sources it fetches the packages with `apt-get download` and `npm pack` into a
temporary folder (the versions are pinned below). Needs fontTools (the dev extra).
The licence of every Noto font is the SIL Open Font License 1.1: LICENSE-Noto.txt, written
beside the fonts, holds it with each font's copyright line and where each came from.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parent.parent
DEBIAN_PACKAGES = {"fonts-noto-core": "20201225-1", "fonts-noto-cjk": "1:20220127+repack1-1"}
NPM_PACKAGE = "@expo-google-fonts/noto-emoji@0.4.7"
NOTO_DIR = Path("usr/share/fonts/truetype/noto")
CJK_DIR = Path("usr/share/fonts/opentype/noto")
CJK_FACE = "Noto Sans CJK SC"

# Copied whole (hinting removed): output name -> file in fonts-noto-core.
WHOLE = {
    "NotoSans-Regular.ttf": "NotoSans-Regular.ttf",
    "NotoSans-Bold.ttf": "NotoSans-Bold.ttf",
    "NotoSansArabic-Regular.ttf": "NotoSansArabic-Regular.ttf",
    "NotoSansArabic-Bold.ttf": "NotoSansArabic-Bold.ttf",
    "NotoSansHebrew-Regular.ttf": "NotoSansHebrew-Regular.ttf",
    "NotoSansHebrew-Bold.ttf": "NotoSansHebrew-Bold.ttf",
}
CJK_OUTPUT = "NotoSansCJKsc-Regular.otf"
EMOJI_OUTPUT = "NotoEmoji-Regular.ttf"
EMOJI_SOURCE = Path("package/400Regular/NotoEmoji_400Regular.ttf")

CJK_RANGES = (
    (0x1100, 0x11FF),   # Hangul jamo
    (0x3000, 0x303F),   # CJK symbols and punctuation
    (0x3040, 0x30FF),   # hiragana, katakana
    (0x3130, 0x318F),   # Hangul compatibility jamo
    (0x31F0, 0x31FF),   # katakana phonetic extensions
    (0x3200, 0x33FF),   # enclosed CJK letters, CJK compatibility (㈱, ㎡)
    (0x4E00, 0x9FFF),   # CJK Unified Ideographs
    (0xAC00, 0xD7A3),   # Hangul syllables
    (0xF900, 0xFAFF),   # CJK compatibility ideographs
    (0xFF00, 0xFFEF),   # half-width and full-width forms
)
# The layout features CJK text needs set horizontally; `locl` (regional shapes chosen by
# the text's language) is left out with the other faces' glyphs it would pull in.
CJK_FEATURES = ["ccmp", "liga", "kern", "palt", "halt", "fwid", "hwid", "pwid", "ljmo", "vjmo", "tjmo"]


def fetch(sources: Path) -> None:
    for package, version in DEBIAN_PACKAGES.items():
        subprocess.run(["apt-get", "download", f"{package}={version}"], cwd=sources, check=True)
        deb = next(sources.glob(f"{package}_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(sources / package)], check=True)
    subprocess.run(["npm", "pack", "--silent", NPM_PACKAGE], cwd=sources, check=True, stdout=subprocess.DEVNULL)
    tarball = next(sources.glob("expo-google-fonts-noto-emoji-*.tgz"))
    (sources / "noto-emoji").mkdir(exist_ok=True)
    subprocess.run(["tar", "xzf", str(tarball), "-C", str(sources / "noto-emoji")], check=True)


def _options(*, features: list[str] | None = None) -> subset.Options:
    options = subset.Options()
    options.name_IDs = ["*"]            # keep the copyright and licence records
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.glyph_names = False
    options.layout_features = features if features is not None else ["*"]
    return options


def _save(font: TTFont, target: Path) -> None:
    font.recalcTimestamp = False    # the same sources make the same bytes
    font.save(target)


def unhinted(source: Path, target: Path) -> None:
    font = TTFont(source)
    subsetter = subset.Subsetter(_options())
    subsetter.populate(unicodes=font.getBestCmap().keys())
    subsetter.subset(font)
    _save(font, target)


def cjk_subset(collection: Path, target: Path) -> None:
    faces = TTCollection(collection).fonts
    font = next(f for f in faces if f["name"].getDebugName(1) == CJK_FACE)
    unicodes = {cp for low, high in CJK_RANGES for cp in range(low, high + 1)}
    subsetter = subset.Subsetter(_options(features=CJK_FEATURES))
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    _save(font, target)


def licence(out: Path, sources: Path) -> None:
    ofl = (sources / "noto-emoji" / "package" / "LICENSE_FONT").read_text()
    ofl = ofl[ofl.index("-" * 20):]     # the licence itself, after the emoji font's own copyright line
    lines = [
        "The Noto fonts in this folder are licensed under the SIL Open Font License, Version 1.1 (below).",
        "Noto is a trademark of Google LLC. They were made by build/make_fonts.py from",
        "Debian's " + ", ".join(f"{name} {version}" for name, version in DEBIAN_PACKAGES.items())
        + f" and npm's {NPM_PACKAGE};",
        "all but Noto Emoji are Modified Versions in the licence's sense: hinting removed, and",
        "Noto Sans CJK SC cut to the characters listed in build/make_fonts.py (CJK_RANGES).",
        "None uses a Reserved Font Name.", "",
        "Their copyright notices, as each font states it:", ""]
    for path in sorted(out.glob("Noto*")):
        lines.append(f"{path.name}: {TTFont(path)['name'].getDebugName(0)}")
    (out / "LICENSE-Noto.txt").write_text("\n".join(lines) + "\n\n" + ofl)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=Path, help="a folder holding the packages already unpacked, as the fetch leaves them: "
                        "fonts-noto-core/ and fonts-noto-cjk/ (dpkg-deb -x) and noto-emoji/ (the npm tarball)")
    parser.add_argument("--out", type=Path, default=ROOT / "typst_templates" / "fonts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        sources = args.sources or Path(temporary)
        if args.sources is None:
            fetch(sources)
        args.out.mkdir(parents=True, exist_ok=True)
        for target, source in WHOLE.items():
            unhinted(sources / "fonts-noto-core" / NOTO_DIR / source, args.out / target)
        cjk_subset(sources / "fonts-noto-cjk" / CJK_DIR / "NotoSansCJK-Regular.ttc", args.out / CJK_OUTPUT)
        shutil.copyfile(sources / "noto-emoji" / EMOJI_SOURCE, args.out / EMOJI_OUTPUT)
        licence(args.out, sources)
    total = 0
    for path in sorted(args.out.glob("Noto*")):
        total += path.stat().st_size
        print(f"{path.stat().st_size:>10,}  {path.name}")
    print(f"{total:>10,}  the Noto fonts together")


if __name__ == "__main__":
    sys.exit(main())
