"""Business settings: IBAN (ISO 13616 mod-97), BIC, defaults, logo types."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.common.logic import ValidationFailed
from app.settings.logic import clean_settings, iban_is_valid, local_date, logo_kind, logo_problem

# Published example IBANs (the check digits are correct).
VALID_IBANS = ["DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606",
               "CH9300762011623852957", "NL91ABNA0417164300"]


@pytest.mark.parametrize("iban", VALID_IBANS)
def test_valid_ibans(iban):
    assert iban_is_valid(iban)


@pytest.mark.parametrize("iban", [
    "DE89370400440532013001",   # last digit changed
    "DE98370400440532013000",   # check digits swapped
    "GB82WEST12345698765433",
    "DE8937040044",             # too short
    "de89370400440532013000",   # not compacted
    "",
])
def test_invalid_ibans(iban):
    assert not iban_is_valid(iban)


def errors_of(data, **kwargs) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failed:
        clean_settings(data, **kwargs)
    return failed.value.by_field()


def test_iban_and_bic_are_compacted_and_upper_cased():
    values = clean_settings({"bank_iban": "de89 3704 0044 0532 0130 00", "bank_bic": "deut de ff"})
    assert values == {"bank_iban": "DE89370400440532013000", "bank_bic": "DEUTDEFF"}


def test_clearing_bank_details_is_allowed():
    assert clean_settings({"bank_iban": "", "bank_bic": "  "}) == {"bank_iban": "", "bank_bic": ""}


@pytest.mark.parametrize(("field", "value"), [
    ("bank_iban", "DE89 3704 0044 0532 0130 01"),
    ("bank_bic", "DEUT"), ("bank_bic", "DEUTDEFF5"),
    ("default_currency", "XYZ"), ("country", "Germany"), ("email", "billing@"),
    ("time_zone", "Mars/Olympus"), ("default_locale", "xx_YY"),
    ("payment_terms_days", "-1"), ("payment_terms_days", "366"), ("payment_terms_days", "thirty"),
    ("payment_terms_days", 1.5), ("name", ""),
])
def test_bad_field_is_named(field, value):
    assert list(errors_of({field: value})) == [field]


def test_bad_iban_message_says_to_check_the_digits():
    assert "not valid" in errors_of({"bank_iban": "DE89370400440532013001"})["bank_iban"]


def test_partial_update_returns_only_what_is_given():
    assert clean_settings({"city": " Berlin "}) == {"city": "Berlin"}
    assert clean_settings({"time_zone": "Europe/Berlin", "payment_terms_days": "14"}) == {
        "time_zone": "Europe/Berlin", "payment_terms_days": 14}


def test_full_form_requires_name_and_currency():
    assert set(errors_of({}, partial=False)) >= {"name", "default_currency"}
    values = clean_settings({"name": "Studio", "default_currency": "eur"}, partial=False)
    assert values["default_currency"] == "EUR"
    assert values["payment_terms_days"] == 30
    assert values["time_zone"] == "UTC"


@pytest.mark.parametrize(("content", "kind"), [
    (b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR" + b"\0" * 20, "png"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, None),   # the signature without its header chunk
    (b"\xff\xd8\xff\xe0" + b"\0" * 20, "jpg"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", None),
    (b"  <?xml version='1.0'?>\n<svg></svg>", None),
    (b"hello, I am a text file", None),
    (b"GIF89a", None),
    (b"", None),
])
def test_a_logo_is_told_by_its_first_bytes(content, kind):
    assert logo_kind(content) == kind


@pytest.mark.parametrize(("content", "words"), [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><image href='file:///etc/passwd'/></svg>", "SVG logos are not accepted"),
    (b"\xef\xbb\xbf<?xml version='1.0'?>\n<!DOCTYPE svg>\n<svg></svg>", "SVG logos are not accepted"),
    (b"<!-- made by hand -->\n<svg></svg>", "SVG logos are not accepted"),
    (b"GIF89a....", "must be a PNG or JPEG"), (b"", "Choose an image"),
    (b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024), "larger than 2 MB"),
])
def test_anything_but_a_png_or_jpeg_is_refused_with_its_reason(content, words):
    assert words in logo_problem(content)


def test_a_png_or_jpeg_is_a_logo():
    assert logo_problem(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR" + b"\0" * 20) is None
    assert logo_problem(b"\xff\xd8\xff\xe0" + b"\0" * 20) is None


# -- the business's today ----------------------------------------------------------

@pytest.mark.parametrize(("zone", "now", "day"), [
    # 02:30 UTC on 1 March is still the evening of 28 February in Toronto (EST, UTC-5)
    ("America/Toronto", datetime(2026, 3, 1, 2, 30, tzinfo=UTC), date(2026, 2, 28)),
    # noon UTC is already past midnight in Auckland (NZDT, UTC+13)
    ("Pacific/Auckland", datetime(2026, 3, 1, 12, 0, tzinfo=UTC), date(2026, 3, 2)),
    ("Pacific/Kiritimati", datetime(2026, 12, 31, 10, 0, tzinfo=UTC), date(2027, 1, 1)),   # a new year first
    ("UTC", datetime(2026, 3, 1, 23, 59, tzinfo=UTC), date(2026, 3, 1)),
    ("", datetime(2026, 3, 1, 23, 59, tzinfo=UTC), date(2026, 3, 1)),
    # the moment may come in any offset: the day is the zone's
    ("Europe/Berlin", datetime(2026, 6, 30, 20, 0, tzinfo=timezone(timedelta(hours=-4))), date(2026, 7, 1)),
])
def test_local_date_is_the_day_in_the_business_time_zone(zone, now, day):
    assert local_date(zone, now) == day


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../etc/passwd", "America"])
def test_local_date_counts_an_unknown_zone_as_utc(zone):
    assert local_date(zone, datetime(2026, 3, 1, 23, 30, tzinfo=UTC)) == date(2026, 3, 1)
