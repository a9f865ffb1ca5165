"""The single executable's build script (build/build-binary): what it keeps of Babel's locale data and
the files it hands to the desktop."""

from __future__ import annotations

import configparser
import fnmatch
import re
from pathlib import Path

import babel

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = (ROOT / "build" / "build-binary").read_text(encoding="utf-8")


def babel_exclusions() -> list[str]:
    loop = re.search(r"for pattern in (.*?); do", SCRIPT, flags=re.DOTALL)
    assert loop, "build-binary no longer lists Babel's exclusions in a for loop"
    return re.findall(r"'([^']+)'", loop.group(1))


def test_babel_keeps_english_french_german_and_root_only():
    """Nuitka drops a data file matching any --noinclude-data-files pattern (fnmatch)."""
    files = sorted(path.name for path in (Path(babel.__file__).parent / "locale-data").glob("*.dat"))
    kept = {name for name in files if not any(fnmatch.fnmatch(name, pattern) for pattern in babel_exclusions())}
    expected = {name for name in files if re.fullmatch(r"(en|fr|de)(_\w+)?\.dat|root\.dat", name)}
    assert kept == expected
    assert {"en.dat", "en_GB.dat", "en_CA.dat", "fr.dat", "fr_CA.dat", "fr_BE.dat", "de.dat", "de_CH.dat",
            "de_AT.dat", "root.dat"} <= kept
    assert not {"es.dat", "ro.dat", "ro_MD.dat", "dsb.dat", "ff.dat", "ee.dat"} & kept


def test_the_desktop_entry_starts_the_program_from_the_path():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str   # keys are case-sensitive in desktop entries
    entry.read(ROOT / "build" / "desktop" / "counterfoil.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"] == "counterfoil"
    assert desktop["Icon"] == "counterfoil"
    assert desktop["Terminal"] == "false"
    assert desktop["Categories"].endswith(";")
    assert (ROOT / "build" / "desktop" / "counterfoil.svg").read_text(encoding="utf-8").startswith("<svg")
    assert (ROOT / "build" / "desktop" / "counterfoil.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
