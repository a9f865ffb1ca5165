"""Custom templates: the defaults copied into the data folder, edited, used when switched on (per-file
fallback), a broken one reported with Typst's message, file and line, and kept by backups."""

from __future__ import annotations

from app.backup import service as backup_service
from app.config import Config
from app.render import service as render_service
from tests.conftest import run
from tests.http.support import field_errors, make_client
from tests.http.test_render import business, new_invoice, text_of  # noqa: F401  (business is a fixture)

PASSPHRASE = "correct horse battery staple"
ORIGINAL_CALL = "#render(json(bytes(sys.inputs.data)))"


def marked(marker: str) -> str:
    """The invoice template with a marker printed as the invoice's notes."""
    return ("// edited by the user\n#import \"lib/document.typ\": render\n"
            f"#render(json(bytes(sys.inputs.data)) + (notes: \"{marker}\"))\n")


def an_invoice(api, *, issue: bool = True) -> dict:
    """An invoice of two lines; a draft (`issue=False`) renders anew each time, as the templates now are
    (an issued one's PDF is its document of record, made once)."""
    client = make_client(name="Globex GmbH", language="en", country="DE", address_line1="Ring 1",
                         postal_code="50667", city="Köln")
    return new_invoice(api, client, lines=2, issue=issue)


def test_copy_switch_edit_break_and_switch_back(browser, api, business, config: Config):
    folder = config.data_dir / "templates"
    page = browser.get("/settings")
    assert page.status_code == 200 and str(folder) in page.text
    assert "Copy the default templates to edit them" in page.text

    copied = browser.post("/settings/templates/copy", follow_redirects=False)
    assert copied.status_code == 303 and copied.headers["location"] == "/settings#templates"
    for name in ("invoice.typ", "quote.typ", "credit-note.typ", "statement.typ", "lib/style.typ",
                 "lib/document.typ"):
        assert (folder / name).is_file(), name
    assert not (folder / "fonts").exists()   # the fonts stay bundled
    assert ORIGINAL_CALL in (folder / "invoice.typ").read_text()

    # A second copy never overwrites the user's edit.
    (folder / "invoice.typ").write_text(marked("CUSTOM-MARKER-ONE"))
    browser.post("/settings/templates/copy")
    assert "CUSTOM-MARKER-ONE" in (folder / "invoice.typ").read_text()

    invoice = an_invoice(api, issue=False)
    url = f"/api/v1/invoices/{invoice['id']}/pdf"
    default = api.get(url)
    assert default.status_code == 200 and "CUSTOM-MARKER" not in text_of(default.content)   # switch is off

    switched = browser.post("/settings/templates", data={"use_custom_templates": "true"}, follow_redirects=False)
    assert switched.status_code == 303
    assert api.get("/api/v1/settings").json()["use_custom_templates"] is True
    custom = api.get(url)
    assert custom.status_code == 200 and "CUSTOM-MARKER-ONE" in text_of(custom.content)

    # An edit shows in the next PDF.
    (folder / "invoice.typ").write_text(marked("CUSTOM-MARKER-TWO"))
    again = text_of(api.get(url).content)
    assert "CUSTOM-MARKER-TWO" in again and "CUSTOM-MARKER-ONE" not in again

    # A broken template: Typst's message with the file and line, and the way back.
    (folder / "invoice.typ").write_text("#import \"lib/document.typ\": render\n"
                                        "#render(json(bytes(sys.inputs.data))\n")
    broken = api.get(url)
    assert broken.status_code == 422, broken.text
    detail = broken.json()["detail"]
    assert "unclosed delimiter" in detail and f"{folder / 'invoice.typ'}:2:" in detail, detail
    assert "switch back to the default templates in Settings" in detail
    page = browser.get(f"/documents/{invoice['id']}/pdf")
    assert page.status_code == 422 and "text/html" in page.headers["content-type"]
    assert "unclosed delimiter" in page.text and "invoice.typ:2:" in page.text
    assert "switch back to the default templates" in page.text and 'href="/settings#templates"' in page.text
    # The other documents still render (their templates are fine) and the server still answers.
    assert browser.get("/settings").status_code == 200

    # A file missing from the folder falls back to the bundled one.
    (folder / "invoice.typ").unlink()
    assert api.get(url).status_code == 200

    (folder / "invoice.typ").write_text(marked("CUSTOM-MARKER-THREE"))
    assert "CUSTOM-MARKER-THREE" in text_of(api.get(url).content)
    off = api.patch("/api/v1/settings", json={"use_custom_templates": False})
    assert off.status_code == 200 and off.json()["use_custom_templates"] is False
    back = api.get(url)
    assert back.status_code == 200 and "CUSTOM-MARKER" not in text_of(back.content)


def test_saving_the_main_settings_form_keeps_the_switch(browser, api, config: Config):
    api.patch("/api/v1/settings", json={"name": "Atelier", "use_custom_templates": True})
    form = {"name": "Atelier Two", "default_currency": "EUR", "default_locale": "en", "time_zone": "UTC",
            "payment_terms_days": "30", "quote_validity_days": "30", "facturx_enabled": "True"}
    response = browser.post("/settings", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    settings = api.get("/api/v1/settings").json()
    assert settings["name"] == "Atelier Two" and settings["use_custom_templates"] is True


def test_a_backup_keeps_the_templates_and_leaves_the_cache_out(api, business, config: Config, tmp_path):
    render_service.copy_default_templates(config.data_dir)
    edited = marked("BACKED-UP-MARKER")
    (config.data_dir / "templates" / "invoice.typ").write_text(edited)
    api.patch("/api/v1/settings", json={"use_custom_templates": True})
    invoice = an_invoice(api)
    assert api.get(f"/api/v1/invoices/{invoice['id']}/pdf").status_code == 200
    kept = list((config.data_dir / "attachments" / "records").glob("*.pdf"))   # its document of record
    assert len(kept) == 1 and "BACKED-UP-MARKER" in text_of(kept[0].read_bytes())
    assert api.get(f"/api/v1/invoices/{an_invoice(api, issue=False)['id']}/pdf").status_code == 200
    assert (config.data_dir / "cache" / "typst").is_dir()   # a render root: a cache, never backed up

    result = backup_service.export_bundle(config, tmp_path / "backup.counterfoil", PASSPHRASE)
    paths = [entry["path"] for entry in result.manifest["files"]]
    assert "templates/invoice.typ" in paths and "templates/lib/style.typ" in paths
    assert not any(path.startswith("cache/") for path in paths)
    assert f"attachments/records/{kept[0].name}" in paths

    target = Config(data_dir=tmp_path / "restored")
    staged = backup_service.stage_bundle(target, result.path, PASSPHRASE)
    run(backup_service.apply_staged(target, staged))
    assert (target.data_dir / "templates" / "invoice.typ").read_text() == edited
    assert (target.data_dir / "templates" / "lib" / "document.typ").is_file()
    assert not (target.data_dir / "cache").exists()
    assert (target.data_dir / "attachments" / "records" / kept[0].name).read_bytes() == kept[0].read_bytes()

    # Restored over a folder with other templates: the backup's come in, the old ones are kept beside.
    (target.data_dir / "templates" / "invoice.typ").write_text("// newer edit\n")
    staged = backup_service.stage_bundle(target, result.path, PASSPHRASE)
    outcome = run(backup_service.apply_staged(target, staged))
    assert (target.data_dir / "templates" / "invoice.typ").read_text() == edited
    assert outcome.previous_templates is not None
    assert (outcome.previous_templates / "invoice.typ").read_text() == "// newer edit\n"


def reading(path: str) -> str:
    """An invoice template that prints a file's content into the PDF (what a hostile bundle would ship)."""
    return ("#import \"lib/document.typ\": render\n"
            f"#render(json(bytes(sys.inputs.data)) + (notes: read(\"{path}\")))\n")


SECRET = "SECRET-OUTSIDE-THE-TEMPLATES"


def test_a_template_reads_nothing_outside_its_own_folder(api, business, config: Config):
    """Typst's root is the render's own folder: the database, the data folder and the system stay out
    of reach, with a message that says why, never a PDF holding them."""
    render_service.copy_default_templates(config.data_dir)
    folder = config.data_dir / "templates"
    (config.data_dir / "secret.txt").write_text(SECRET)
    (config.attachments_dir / "secret.txt").write_text(SECRET)
    (folder / "note.txt").write_text("A NOTE OF MY OWN")
    api.patch("/api/v1/settings", json={"use_custom_templates": True})
    invoice = an_invoice(api, issue=False)
    url = f"/api/v1/invoices/{invoice['id']}/pdf"
    for path in ("/etc/passwd", "../counterfoil.sqlite", "../secret.txt", "../../secret.txt",
                 "../../../secret.txt", "../../../../secret.txt", "/../../../../secret.txt",
                 "../../../../attachments/secret.txt", str(config.database_path)):
        (folder / "invoice.typ").write_text(reading(path))
        refused = api.get(url)
        assert refused.status_code == 422, (path, refused.status_code)
        detail = refused.json()["detail"]
        assert render_service.OUTSIDE_ROOT_HINT in detail, detail
        assert f"{folder / 'invoice.typ'}:2:" in detail, detail   # the user's file, not the render's copy
        assert "--root" not in detail and SECRET not in detail and "root:x:0" not in detail
    # A file of the templates folder itself stays readable.
    (folder / "invoice.typ").write_text(reading("note.txt"))
    own = api.get(url)
    assert own.status_code == 200 and "A NOTE OF MY OWN" in text_of(own.content)


def test_a_link_in_the_templates_folder_is_refused(api, business, config: Config):
    import os

    render_service.copy_default_templates(config.data_dir)
    folder = config.data_dir / "templates"
    os.symlink(config.database_path, folder / "data.txt")
    api.patch("/api/v1/settings", json={"use_custom_templates": True})
    draft = an_invoice(api, issue=False)
    refused = api.get(f"/api/v1/invoices/{draft['id']}/pdf")
    assert refused.status_code == 422 and "holds a link (data.txt)" in refused.json()["detail"]
    # Nor is a document issued that could not be printed.
    not_issued = api.post(f"/api/v1/invoices/{draft['id']}/issue")
    assert not_issued.status_code == 422 and "holds a link (data.txt)" in field_errors(not_issued)["template"]


def test_the_render_root_holds_the_templates_and_the_logo_only(api, business, browser, config: Config):
    from tests.http.support import png

    browser.post("/settings/logo", files={"logo": ("logo.png", png(8, 8), "image/png")})
    assert api.get(f"/api/v1/invoices/{an_invoice(api)['id']}/pdf").status_code == 200
    roots = [p for p in render_service.roots_dir_of(config.data_dir).iterdir()]
    assert len(roots) == 1
    inside = sorted(p.relative_to(roots[0]).as_posix() for p in roots[0].rglob("*") if p.is_file())
    assert all(p.startswith("default/") or p.startswith("assets/") for p in inside), inside
    assert "default/invoice.typ" in inside and not any(p.endswith((".otf", ".sqlite")) for p in inside)
    (logo,) = [p for p in inside if p.startswith("assets/")]
    assert (roots[0] / logo).read_bytes() == png(8, 8)
