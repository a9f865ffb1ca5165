"""The numbers the later features ask for are typed as the reader writes them (issue 15 with issue 16).

A German reader types an exchange rate as 0,6712 and a catalogue item's prices in other currencies as
"EUR 1100,50, USD 900"; both are stored as plain decimals and shown back the German way, and the
ambiguous 1.175 is refused naming the field with nothing stored.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from tests.conftest import run
from tests.http.support import count, query

YESTERDAY = date.today() - timedelta(days=1)


@pytest.fixture
def german_reader(browser, config):
    from app.fx import service

    run(service.set_base_currency("CAD"))
    assert browser.post("/account/language", data={"language": "de_DE"}, follow_redirects=False).status_code == 303
    return browser


def test_a_german_reader_types_an_exchange_rate_with_a_decimal_comma(german_reader, config) -> None:
    done = german_reader.post("/settings/exchange-rates", data={"date": YESTERDAY.isoformat(), "currency": "EUR",
                                                                "rate": "0,6712"}, follow_redirects=False)
    assert done.status_code == 303, done.text[:2000]
    assert query(config, "SELECT currency, rate FROM exchange_rate") == [("EUR", "0.6712")]
    page = german_reader.get("/settings/exchange-rates").text
    assert "0,6712" in page and "Kurs gespeichert" in page


def test_an_ambiguous_german_rate_is_refused_and_nothing_is_stored(german_reader, config) -> None:
    refused = german_reader.post("/settings/exchange-rates", data={"date": YESTERDAY.isoformat(), "currency": "USD",
                                                                   "rate": "1.175"})
    assert refused.status_code == 422
    assert "1175" in refused.text and "1,175" in refused.text, "both readings are shown"
    assert 'value="1.175"' in refused.text, "the form keeps what was typed"
    assert count(config, "exchange_rate") == 0


def test_a_german_reader_types_prices_in_other_currencies(german_reader, config) -> None:
    form = {"code": "WEB", "name": "Website", "kind": "service", "unit": "", "unit_price": "1000,00",
            "prices": "EUR 1100,50, USD 900", "default_taxes": "", "active": "on", "description": ""}
    response = german_reader.post("/catalog", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text[:2000]
    (item_id, unit_price_e4, prices), = query(config, "SELECT id, unit_price_e4, prices_json FROM catalog_item")
    assert unit_price_e4 == 10_000_000 and json.loads(prices) == {"EUR": "1100.50", "USD": "900.00"}
    assert "EUR 1100,50, USD 900,00" in german_reader.get(f"/catalog/{item_id}/edit").text


def test_a_bad_price_in_another_currency_names_the_field_in_german(german_reader, config) -> None:
    form = {"code": "WEB", "name": "Website", "kind": "service", "unit_price": "10", "prices": "EUR 1.100",
            "active": "on"}
    refused = german_reader.post("/catalog", data=form)
    assert refused.status_code == 422 and "zweifach" in refused.text
    assert count(config, "catalog_item") == 0
