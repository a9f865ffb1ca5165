"""Download names (app.web.responses.content_disposition, app.common.logic.filename_part): letters kept in
`filename*`, an ASCII look-alike in `filename`, nothing of the name able to break the header."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.common.logic import filename_part
from app.web.responses import content_disposition

APP = Path(__file__).resolve().parents[2] / "app"


@pytest.mark.parametrize(("name", "header"), [
    ("invoices.csv", 'attachment; filename="invoices.csv"'),
    ("INV-1_Søren.pdf", "attachment; filename=\"INV-1_Soren.pdf\"; filename*=UTF-8''INV-1_S%C3%B8ren.pdf"),
    ("東京.zip", "attachment; filename=\"Dong Jing.zip\"; filename*=UTF-8''%E6%9D%B1%E4%BA%AC.zip"),
    ('a"b\r\nSet-Cookie: x.pdf', "attachment; filename=\"a_bSet-Cookie_ x.pdf\"; "
                                  "filename*=UTF-8''a%22bSet-Cookie%3A%20x.pdf"),
    ("../../etc/passwd", "attachment; filename=\"-..-etc-passwd\"; filename*=UTF-8''..-..-etc-passwd"),
    ("", 'attachment; filename="download"'),
])
def test_the_header_keeps_letters_and_nothing_that_breaks_it(name, header):
    assert content_disposition(name) == header


def test_inline_opens_in_the_browser():
    assert content_disposition("business-card.pdf", inline=True) == 'inline; filename="business-card.pdf"'


@given(st.text())
def test_any_name_gives_one_safe_header_line_that_reads_back(name):
    header = content_disposition(name)
    assert header.isascii() and not any(ch in header for ch in "\r\n\x00")
    fallback = re.match(r'attachment; filename="([^"\\]*)"(?:; filename\*=UTF-8\'\'(\S+))?$', header)
    assert fallback is not None, header
    if fallback.group(2):
        back = unquote(fallback.group(2))
        assert "/" not in back and "\\" not in back
        assert not any(unicodedata.category(ch).startswith("C") for ch in back)


@pytest.mark.parametrize(("text", "part"), [("Søren Hansen", "Søren-Hansen"), ("Globex S.à r.l. / Paris", "Globex-S.à-r.l.-Paris"),
                                            ("東京 株式会社", "東京-株式会社"), ('"; rm -rf /', "rm-rf"), ("...", ""),
                                            ("A\u2028B\tC", "A-B-C")])
def test_a_file_name_part_keeps_letters_of_any_script(text, part):
    assert filename_part(text) == part


def test_every_download_is_named_by_the_one_helper():
    """No route writes its own Content-Disposition or hands File a name: app.web.responses does it."""
    offenders = []
    for path in (APP / "web").rglob("*.py"):
        if path.name == "responses.py":
            continue
        source = path.read_text(encoding="utf-8")
        if re.search(r"content-disposition|File\([^)]*filename=", source, re.I | re.S):
            offenders.append(path.relative_to(APP).as_posix())
    assert offenders == []
