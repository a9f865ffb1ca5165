"""Settings through HTTP: the form, the logo in the data folder, the Typst business card, /api/v1/settings."""

from __future__ import annotations

import re
import stat
from datetime import UTC, datetime

import pytest

from tests.http.support import field_errors, make_client, png, query, snapshot

IMAGE_XOBJECT = re.compile(rb"/Subtype\s*/Image\b")
FORM = {
    "name": "Northwind Studio", "tagline": "Design and hosting", "address_line1": "214 Spadina Avenue",
    "address_line2": "", "postal_code": "M5T 2C2", "city": "Toronto", "region": "ON", "country": "CA",
    "email": "billing@northwind.example", "phone": "+1 416 555 0100", "website": "northwind.example",
    "registration_number": "", "tax_number": "123456789 RT0001", "bank_account_holder": "Northwind Studio Inc.",
    "bank_name": "Example Bank", "bank_iban": "DE89 3704 0044 0532 0130 00", "bank_bic": "DEUTDEFF",
    "default_currency": "CAD", "default_locale": "en_CA", "time_zone": "America/Toronto",
    "payment_terms_days": "14", "invoice_footer": "Thank you.",
}


def test_settings_page(browser):
    response = browser.get("/settings")
    assert response.status_code == 200
    assert 'name="bank_iban"' in response.text and 'enctype="multipart/form-data"' in response.text
    assert 'value="Test Studio"' in response.text  # the business name given at setup


def test_save_the_form(browser, config):
    response = browser.post("/settings", data=FORM, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/settings"
    assert query(config, "SELECT name, city, bank_iban, bank_bic, default_currency, time_zone, payment_terms_days "
                         "FROM business_settings") == [
        ("Northwind Studio", "Toronto", "DE89370400440532013000", "DEUTDEFF", "CAD", "America/Toronto", 14)]
    assert 'value="Northwind Studio"' in browser.get("/settings").text


@pytest.mark.parametrize(("field", "value", "message"), [
    ("bank_iban", "DE89 3704 0044 0532 0130 01", "IBAN"),
    ("default_currency", "XYZ", "unknown currency"),
    ("country", "C1", "two-letter"),
    ("email", "billing", "not a valid email"),
    ("name", "", "Business name is required"),
    ("time_zone", "Mars/Olympus", "Unknown time zone"),
    ("payment_terms_days", "-3", "at least 0"),
])
def test_bad_form_is_refused_and_writes_nothing(browser, config, field, value, message):
    before = snapshot(config, "business_settings")
    response = browser.post("/settings", data={**FORM, field: value})
    assert response.status_code == 422
    assert message in response.text
    assert snapshot(config, "business_settings") == before


# -- logo -----------------------------------------------------------------------------

def upload(browser, content: bytes, filename: str = "logo.png", media: str = "image/png"):
    return browser.post("/settings/logo", files={"logo": (filename, content, media)}, follow_redirects=False)


def test_logo_upload_is_stored_privately_and_served(browser, config):
    image = png()
    response = upload(browser, image)
    assert response.status_code == 303
    (filename,), = query(config, "SELECT logo_filename FROM business_settings")
    assert filename.endswith(".png")
    stored = config.attachments_dir / filename
    assert stored.read_bytes() == image
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.attachments_dir.stat().st_mode) == 0o700
    served = browser.get("/settings/logo")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png" and served.content == image


def test_a_new_logo_replaces_the_old_file(browser, config):
    upload(browser, png(2, 2))
    (first,), = query(config, "SELECT logo_filename FROM business_settings")
    upload(browser, png(3, 3))
    (second,), = query(config, "SELECT logo_filename FROM business_settings")
    assert first != second
    assert sorted(path.name for path in config.attachments_dir.iterdir()) == [second]


@pytest.mark.parametrize(("content", "filename", "media", "message"), [
    (b"just some notes\n", "notes.txt", "text/plain", "must be a PNG or JPEG image"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024), "huge.png", "image/png", "larger than 2 MB"),
    (b"", "empty.png", "image/png", "Choose an image"),
])
def test_bad_logo_is_refused_and_nothing_is_stored(browser, config, content, filename, media, message):
    response = upload(browser, content, filename, media)
    assert response.status_code == 422
    assert message in response.text
    assert query(config, "SELECT logo_filename FROM business_settings") == [("",)]
    assert not config.attachments_dir.exists() or list(config.attachments_dir.iterdir()) == []
    assert browser.get("/settings/logo").status_code == 404


def test_remove_logo(browser, config):
    upload(browser, png())
    response = browser.post("/settings/logo/delete", follow_redirects=False)
    assert response.status_code == 303
    assert query(config, "SELECT logo_filename FROM business_settings") == [("",)]
    assert list(config.attachments_dir.iterdir()) == []
    assert browser.get("/settings/logo").status_code == 404


@pytest.mark.parametrize("stored", ["../counterfoil.sqlite", "/etc/passwd", "..\\counterfoil.sqlite",
                                    "logo.png\x00", "link.png"])
def test_a_stored_logo_name_that_leaves_attachments_is_never_served_or_deleted(browser, config, stored):
    """The name comes from the database, which a restored backup wrote: it is checked on every use."""
    import os
    import sqlite3

    config.attachments_dir.mkdir(exist_ok=True)
    os.symlink(config.database_path, config.attachments_dir / "link.png")
    before = config.database_path.read_bytes()[:100]
    connection = sqlite3.connect(config.database_path)
    connection.execute("UPDATE business_settings SET logo_filename = ?", (stored,))
    connection.commit()
    connection.close()
    assert browser.get("/settings/logo").status_code == 404
    assert browser.get("/settings/business-card/pdf").status_code == 200
    assert browser.post("/settings/logo/delete", follow_redirects=False).status_code == 303
    assert config.database_path.read_bytes()[:100] == before
    assert (config.attachments_dir / "link.png").is_symlink()   # never followed, never deleted
    assert query(config, "SELECT logo_filename FROM business_settings") == [("",)]


def test_business_card_pdf(browser):
    browser.post("/settings", data=FORM)
    response = browser.get("/settings/business-card/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert b"%%EOF" in response.content[-64:]
    assert not IMAGE_XOBJECT.search(response.content)


def test_business_card_pdf_carries_the_logo(browser):
    upload(browser, png(8, 8))
    response = browser.get("/settings/business-card/pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert IMAGE_XOBJECT.search(response.content)  # the logo is embedded as an image


# -- /api/v1/settings -----------------------------------------------------------------

def test_api_get_settings(api):
    response = api.get("/api/v1/settings")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Test Studio" and body["default_currency"] == "EUR"
    assert body["has_logo"] is False and "logo_filename" not in body
    assert {"bank_iban", "bank_bic", "time_zone", "payment_terms_days", "default_locale"} <= set(body)


def test_api_patch_settings(api, config):
    response = api.patch("/api/v1/settings", json={"bank_iban": "gb82 west 1234 5698 7654 32", "city": "London",
                                                   "payment_terms_days": 45})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["bank_iban"], body["city"], body["payment_terms_days"], body["name"]) == \
        ("GB82WEST12345698765432", "London", 45, "Test Studio")
    assert query(config, "SELECT bank_iban, city FROM business_settings") == [("GB82WEST12345698765432", "London")]


@pytest.mark.parametrize(("body", "field"), [
    ({"default_currency": "XYZ"}, "default_currency"),
    ({"default_currency": ""}, "default_currency"),   # blank: every new document's currency would be unknown
    ({"bank_iban": "DE89370400440532013001"}, "bank_iban"),
    ({"bank_bic": "NOPE"}, "bank_bic"),
    ({"country": "Deutschland"}, "country"),
    ({"email": "@"}, "email"),
    ({"payment_terms_days": 400}, "payment_terms_days"),
    ({"name": ""}, "name"),
    ({"default_locale": "tlh"}, "default_locale"),
    ({"city": "Berlin", "time_zone": "Berlin"}, "time_zone"),
])
def test_api_patch_refuses_bad_input_and_writes_nothing(api, config, body, field):
    before = snapshot(config, "business_settings")
    response = api.patch("/api/v1/settings", json=body)
    assert response.status_code == 422
    assert field in field_errors(response)
    assert snapshot(config, "business_settings") == before


def test_api_patch_sets_a_numbering_pattern_checked_by_documents(api, config):
    response = api.patch("/api/v1/settings", json={"invoice_number_pattern": " F{yy}-{seq:05} ", "city": "Oslo"})
    assert response.status_code == 200, response.text
    assert (response.json()["invoice_number_pattern"], response.json()["city"]) == ("F{yy}-{seq:05}", "Oslo")
    assert query(config, "SELECT invoice_number_pattern, quote_number_pattern, city FROM business_settings") == [
        ("F{yy}-{seq:05}", "QUO-{year}-{seq:04}", "Oslo")]


@pytest.mark.parametrize(("body", "errors"), [
    ({"invoice_number_pattern": "F-{seq}"}, {"invoice_number_pattern": "needs {year} or {yy}"}),
    ({"quote_number_pattern": "Q-{year}"}, {"quote_number_pattern": "must contain {seq}"}),
    ({"credit_note_number_pattern": "CN-{year}-{seq", "name": ""},   # both reported, neither written
     {"credit_note_number_pattern": "Unbalanced braces", "name": "Business name is required"}),
])
def test_api_patch_refuses_a_bad_numbering_pattern_and_writes_nothing(api, config, body, errors):
    before = snapshot(config, "business_settings")
    response = api.patch("/api/v1/settings", json=body)
    assert response.status_code == 422
    found = field_errors(response)
    assert set(found) == set(errors)
    for field, message in errors.items():
        assert message in found[field]
    assert snapshot(config, "business_settings") == before


# -- today is the business's date, in its time zone --------------------------------

def test_today_follows_the_business_time_zone_not_utc(api, config):
    """At any moment UTC+14 or UTC-11 is on another day than UTC: the dates the app fills in follow the zone."""
    from app.settings.logic import local_date

    client = make_client()
    seen_another_day = False
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        assert api.patch("/api/v1/settings", json={"time_zone": zone}).status_code == 200
        expected = local_date(zone, datetime.now(UTC))
        draft = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [
            {"description": "Work", "quantity": "1", "unit_price": "10.00", "taxes": []}]})
        assert draft.status_code == 201, draft.text
        statistics = api.get("/api/v1/invoices/statistics").json()
        if local_date(zone, datetime.now(UTC)) != expected:
            continue   # midnight passed there while the test ran
        assert draft.json()["issue_date"] == expected.isoformat()
        assert statistics["today"] == expected.isoformat()
        seen_another_day = seen_another_day or expected != datetime.now(UTC).date()
    assert seen_another_day
