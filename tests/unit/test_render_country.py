"""Labels, paper and address order by country on the PDFs (issue 16, point 5). Pure."""

from __future__ import annotations

import pytest

from app.render import logic
from app.settings import logic as settings_logic


@pytest.mark.parametrize(("country", "number", "lang", "label"), [
    ("CA", "123456789 RT0001", "en", "GST/HST No."),
    ("CA", "123456789 RT0001", "fr", "N° TPS/TVH"),
    ("CA", "1234567890 TQ0001", "fr", "N° TVQ"),
    ("CA", "1234567890 TQ0001", "en", "QST No."),
    ("CA", "123456789 RT0001, 1234567890 TQ0001", "en", "GST/HST and QST Nos."),
    ("CA", "123456789 RT0001", "de", "GST/HST No."),   # never USt-IdNr. on a Canadian business's document
    ("DE", "DE123456789", "en", "USt-IdNr."),
    ("DE", "30/123/45678", "de", "Steuernummer"),
    ("FR", "FR40303265045", "en", "N° TVA"),
    ("AT", "ATU12345678", "de", "UID-Nr."),
    ("US", "12-3456789", "en", "EIN"),
    ("JP", "T1234567890123", "en", "VAT no."),         # no label of its own: the document language's
])
def test_a_tax_number_is_labelled_as_its_country_writes_it(country, number, lang, label):
    assert logic.tax_number_label(country, number, lang, "VAT no.") == label


@pytest.mark.parametrize(("settings", "paper"), [
    ({"country": "CA"}, "us-letter"), ({"country": "US"}, "us-letter"), ({"country": "DE"}, "a4"),
    ({"country": ""}, "a4"), ({"country": "CA", "paper_size": "a4"}, "a4"),
    ({"country": "FR", "paper_size": "letter"}, "us-letter"),
])
def test_paper_follows_the_business_country_unless_chosen(settings, paper):
    assert logic.paper_of(settings) == paper


@pytest.mark.parametrize(("country", "city_line"), [
    ("CA", "Toronto ON M5V 2T6"), ("US", "Toronto ON M5V 2T6"), ("DE", "M5V 2T6 Toronto"),
    ("FR", "M5V 2T6 Toronto"), ("AT", "M5V 2T6 Toronto"), ("BE", "M5V 2T6 Toronto"), ("NL", "M5V 2T6 Toronto"),
])
def test_addresses_in_their_countrys_order(country, city_line):
    party = {"address_line1": "1 Main", "postal_code": "M5V 2T6", "city": "Toronto", "region": "ON" if country in
             ("CA", "US") else "", "country": country}
    assert logic.address_lines(party)[1] == city_line


def test_settings_read_pst_registrations_and_refuse_unknown_ones():
    values = settings_logic.clean_settings({"pst_registrations": ["sk", "BC"], "paper_size": "A4"})
    assert values["pst_registrations"] == "BC SK" and values["paper_size"] == "a4"
    assert settings_logic.pst_registrations({"pst_registrations": "BC SK"}) == frozenset({"BC", "SK"})
    from app.taxes.logic import PST_PROVINCES

    assert tuple(settings_logic.PST_PROVINCES) == PST_PROVINCES
