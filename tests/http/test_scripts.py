"""Names in every script a client may use print in every PDF (issue 14, point 3): Typst falls back
from Inter to the bundled Noto fonts (typst_templates/lib/fonts.typ), and the text comes back out
of the PDF in its logical order, right-to-left names included."""

from __future__ import annotations

import io
import re
import zipfile

import pikepdf
import pypdf
import pytest

from tests.http.support import make_client
from tests.http.test_render import business, new_invoice  # noqa: F401  (business: a fixture)

# Each name, and the bundled font its letters must come from.
NAMES = {
    "Zoë": "Inter",
    "Łukasz": "Inter",
    "Ελένη": "Inter",
    "Дмитрий": "Inter",
    "محمد": "NotoSansArabic",
    "דוד": "NotoSansHebrew",
    "王芳": "NotoSansCJKsc",
    "山田太郎": "NotoSansCJKsc",
    "김민준": "NotoSansCJKsc",
    "☕🚀": "NotoEmoji",
}


def pdf_text(pdf: bytes) -> str:
    """Every page's text as pypdf reads it (the PDF's own ToUnicode maps, in content order)."""
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def embedded_fonts(pdf: bytes) -> set[str]:
    """The fonts a PDF embeds, without the subset tag (`/ABCDEF+NotoSansArabic-Bold` -> NotoSansArabic-Bold)."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return {re.sub(r"^/([A-Z]{6}\+)?", "", str(font.BaseFont)) for page in document.pages
                for font in page.Resources.get("/Font", {}).values()}


def font_families(pdf: bytes) -> set[str]:
    """The families of the embedded fonts (NotoSansArabic-Bold -> NotoSansArabic)."""
    return {name.split("-")[0] for name in embedded_fonts(pdf)}


@pytest.mark.parametrize("name", list(NAMES))
def test_an_invoice_to_a_client_named_in_any_script_prints_the_name(api, business, name):
    client = make_client(name=name, language="en", country="IE", city=name)
    invoice = new_invoice(api, client, lines=1)
    response = api.get(f"/api/v1/invoices/{invoice['id']}/pdf")
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"%PDF-")
    assert name in pdf_text(response.content)
    assert NAMES[name] in font_families(response.content)


def test_mixed_scripts_in_a_name_a_line_and_the_business_print_in_every_kind_of_pdf(api, browser, business):
    """Quote, credit note, statement, business card and the accountant's summary use the same fonts."""
    business_name = "Studio Ελένη 山田 محمد ☕"
    assert api.patch("/api/v1/settings", json={"name": business_name}).status_code == 200
    client = make_client(name="김민준 דוד", language="de", country="DE", code="KMJ")
    words = [*business_name.split(), "김민준", "דוד"]

    def assert_prints(pdf: bytes, what: str, expected: list[str]) -> None:
        text = pdf_text(pdf)
        missing = [word for word in expected if word not in text]
        assert not missing, f"{what}: {missing} not in {text[:400]!r}"

    quote = new_invoice(api, client, path="quotes", lines=1)
    assert_prints(api.get(f"/api/v1/quotes/{quote['id']}/pdf").content, "quote", words)
    invoice = new_invoice(api, client, lines=1, notes="Danke · ありがとう · شكرا · 🙏")
    invoice_pdf = api.get(f"/api/v1/invoices/{invoice['id']}/pdf").content
    assert_prints(invoice_pdf, "invoice", [*words, "ありがとう", "شكرا", "🙏"])
    credit = api.post(f"/api/v1/invoices/{invoice['id']}/credit")
    assert credit.status_code == 201, credit.text
    assert api.post(f"/api/v1/credit-notes/{credit.json()['id']}/issue").status_code == 200
    assert_prints(api.get(f"/api/v1/credit-notes/{credit.json()['id']}/pdf").content, "credit note", words)
    statement = api.get(f"/api/v1/clients/{client.id}/statement.pdf?from=2026-01-01&to=2026-12-31")
    assert statement.status_code == 200, statement.text
    assert_prints(statement.content, "statement", words)
    card = browser.get("/settings/business-card/pdf")
    assert card.status_code == 200
    assert_prints(card.content, "business card", business_name.split())
    package = api.get("/api/v1/exports/accountant?from=2026-01-01&to=2026-12-31")
    assert package.status_code == 200, package.text
    summary = zipfile.ZipFile(io.BytesIO(package.content)).read("summary.pdf")
    assert_prints(summary, "accountant's summary", business_name.split())
    assert {"Inter", "NotoSansArabic", "NotoSansHebrew", "NotoSansCJKsc", "NotoEmoji"} <= font_families(invoice_pdf)


def test_the_semibold_client_name_takes_the_bold_weight_of_a_fallback_font(api, business):
    """The name is set semibold, its address regular: Noto Sans Arabic's Bold and Regular, not one for both."""
    client = make_client(name="شركة محمد", language="en", country="AE", city="دبي")
    invoice = new_invoice(api, client, lines=1)
    fonts = embedded_fonts(api.get(f"/api/v1/invoices/{invoice['id']}/pdf").content)
    assert {"NotoSansArabic-Bold", "NotoSansArabic-Regular"} <= fonts, fonts


def test_the_demo_clients_named_in_four_scripts_have_issued_invoices_that_print_their_names(api, business):
    from app import demo
    from app.taxes import service as taxes_service
    from tests.conftest import run

    run(taxes_service.apply_preset("canada"))   # the demo's taxes: its export rate
    counts: dict[str, int] = {}
    assert run(demo._script_clients(counts)) == len(demo.SCRIPT_CLIENTS) == counts["invoices"] == 4
    invoices = api.get("/api/v1/invoices?status=issued").json()["items"]
    assert len(invoices) == 4
    for invoice in invoices:
        pdf = api.get(f"/api/v1/invoices/{invoice['id']}/pdf")
        assert pdf.status_code == 200, pdf.text
        text = pdf_text(pdf.content)
        client = next(c for c in demo.SCRIPT_CLIENTS if c["name"] == invoice["client_name"])
        for word in [*client["name"].split(), *client["contact_name"].split(), "☕🚀"]:
            assert word in text, (word, text[:300])


def test_custom_templates_copied_before_the_fallback_fonts_still_print_every_script(browser, api, business, config):
    """A user's copy of lib/style.typ from before lib/fonts.typ names only Inter: Typst still falls back to the
    bundled Noto fonts, so an old custom template never fails on a name in another script."""
    assert browser.post("/settings/templates/copy", follow_redirects=False).status_code == 303
    style = config.data_dir / "templates" / "lib" / "style.typ"
    old = style.read_text().replace('#import "fonts.typ": fonts\n', "").replace("font: fonts,", 'font: "Inter",')
    assert 'font: "Inter"' in old and "fonts.typ" not in old
    style.write_text(old)
    assert browser.post("/settings/templates", data={"use_custom_templates": "true"},
                        follow_redirects=False).status_code == 303
    client = make_client(name="王芳 محمد ☕", language="en", country="IE")
    invoice = new_invoice(api, client, lines=1)
    response = api.get(f"/api/v1/invoices/{invoice['id']}/pdf")
    assert response.status_code == 200, response.text
    text = pdf_text(response.content)
    assert all(word in text for word in ("王芳", "محمد", "☕")), text[:300]
    assert {"NotoSansCJKsc", "NotoSansArabic", "NotoEmoji"} <= font_families(response.content)
