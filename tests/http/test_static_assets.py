"""Static files: hashed URLs in the pages, a year's cache for a hashed URL, revalidation otherwise; WOFF2 fonts."""

from __future__ import annotations

import hashlib
import re

from app.paths import STATIC_DIR
from app.web.static_assets import cache_control, file_version, static_url

HASHED = re.compile(r'(?:href|src)="(/static/([\w./-]+)\?v=([0-9a-f]{12}))"')


def sha12(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def test_static_url_names_the_file_by_the_hash_of_its_content():
    assert static_url("app.css") == f"/static/app.css?v={sha12('app.css')}"
    assert file_version("../../app/paths.py") is None
    assert file_version("no-such-file.css") is None


def test_every_static_file_a_page_names_carries_its_hash_and_is_cached_for_a_year(browser):
    page = browser.get("/")
    found = HASHED.findall(page.text)
    assert {name for _, name, _ in found} >= {"app.css", "app.js", "htmx.min.js", "favicon.svg"}
    assert not re.findall(r'(?:href|src)="/static/[^"?]+"', page.text), "a static file named without its hash"
    for url, name, version in found:
        assert version == sha12(name)
        response = browser.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_a_static_file_without_its_current_hash_is_revalidated(anonymous):
    for url in ("/static/app.css", "/static/app.css?v=000000000000"):
        response = anonymous.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-cache"
    assert cache_control("/clients", b"") is None


def test_a_missing_static_file_is_a_404_and_never_cached_for_long(anonymous):
    response = anonymous.get("/static/nothing-here.css?v=abcdefabcdef")
    assert response.status_code == 404
    assert "immutable" not in response.headers.get("cache-control", "")


def test_the_stylesheet_names_woff2_fonts_by_their_current_hash(anonymous):
    css = anonymous.get(static_url("app.css")).text
    fonts = re.findall(r'url\("(/static/(fonts/[\w.-]+\.woff2)\?v=([0-9a-f]{12}))"\)', css)
    assert len(fonts) >= 10, "Inter's weights in two parts, the fallbacks"
    assert "Inter-Regular.otf" not in css, "the pages' Inter comes as WOFF2"
    for url, name, version in fonts:
        assert version == sha12(name), f"{name} changed: run build/make_web_fonts.py"
        response = anonymous.get(url)
        assert response.status_code == 200
        assert response.content[:4] == b"wOF2"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "content-encoding" not in response.headers, "WOFF2 is already compressed"


def test_every_page_font_of_every_weight_is_small():
    for path in (STATIC_DIR / "fonts").glob("Inter-*-latin.woff2"):
        assert path.stat().st_size < 40_000, path.name


def test_the_cjk_font_from_the_pdf_fonts_is_named_by_its_hash_too(anonymous):
    css = anonymous.get(static_url("app.css")).text
    url = re.search(r'url\("(/fonts/NotoSansCJKsc-Regular.otf\?v=[0-9a-f]{12})"\)', css)
    assert url, "the CJK fallback keeps its hashed URL"
    response = anonymous.head(url.group(1))
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert anonymous.head("/fonts/NotoSansCJKsc-Regular.otf").headers["cache-control"] == "no-cache"
