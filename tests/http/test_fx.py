"""Exchange rates through HTTP against the real SQLite file: /api/v1/exchange-rates (list, add, import,
convert), the rates page, rates frozen on documents at issue (issue 16). A refused request writes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import run
from tests.http.support import count, field_errors, make_client, make_invoice, query, snapshot

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fx"
TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
def cad_base(config) -> str:
    from app.fx import service

    return run(service.set_base_currency("CAD"))


def add(api, expect: int = 201, **body):
    response = api.post("/api/v1/exchange-rates", json=body)
    assert response.status_code == expect, response.text
    return response.json()


def test_add_list_and_replace_a_rate(api, config, cad_base):
    made = add(api, date=YESTERDAY.isoformat(), currency="eur", rate="0.6712")
    assert made == {"date": YESTERDAY.isoformat(), "currency": "EUR", "rate": "0.6712", "base": "CAD",
                    "source": "manual"}
    add(api, date=YESTERDAY.isoformat(), currency="EUR", rate="0.6720")  # same day: replaced, not doubled
    add(api, date=(YESTERDAY - timedelta(days=3)).isoformat(), currency="USD", rate="0.7300")
    listed = api.get("/api/v1/exchange-rates").json()
    assert [(r["currency"], r["rate"]) for r in listed] == [("EUR", "0.672"), ("USD", "0.73")]
    assert [r["currency"] for r in api.get("/api/v1/exchange-rates?currency=USD").json()] == ["USD"]
    assert count(config, "exchange_rate") == 2


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"rate": "0"}, "rate", "above zero"),
    ({"rate": "-0.5"}, "rate", "above zero"),
    ({"rate": "lots"}, "rate", "not a number"),
    ({"rate": 0.67}, "rate", "as text"),
    ({"currency": "XYZ"}, "currency", "unknown currency"),
    ({"currency": "XXX"}, "currency", "no currency"),
    ({"currency": "XAU"}, "currency", "gold, not a currency"),
    ({"currency": "CAD"}, "currency", "base currency"),
    ({"date": (TODAY + timedelta(days=1)).isoformat()}, "date", "in the future"),
    ({"date": "06/12/2026"}, "date", "YYYY-MM-DD"),
])
def test_bad_rates_are_refused_naming_the_field_and_write_nothing(api, config, cad_base, body, field, message):
    before = snapshot(config, "exchange_rate")
    response = api.post("/api/v1/exchange-rates", json={"date": YESTERDAY.isoformat(), "currency": "EUR",
                                                        "rate": "0.67", **body})
    assert response.status_code == 422, response.text
    assert message in field_errors(response)[field]
    assert snapshot(config, "exchange_rate") == before


def test_an_unknown_field_is_refused(api, cad_base):
    response = api.post("/api/v1/exchange-rates", json={"date": YESTERDAY.isoformat(), "currency": "EUR",
                                                        "rate": "0.67", "base": "USD"})
    assert response.status_code in (400, 422) and "base" in response.text


@pytest.mark.parametrize(("name", "layout", "read", "skipped"), [
    ("eurofxref-hist.csv", "ecb", 12, 2), ("boc-fx.csv", "boc", 5, 1), ("plain.csv", "csv", 3, 0),
])
def test_import_each_layout(api, config, cad_base, name, layout, read, skipped):
    response = api.post("/api/v1/exchange-rates/import", files={"file": (name, (FIXTURES / name).read_bytes(),
                                                                         "text/csv")})
    assert response.status_code == 201, response.text
    assert response.json() == {"layout": layout, "read": read, "written": read, "skipped": skipped}
    assert count(config, "exchange_rate") == read
    again = api.post("/api/v1/exchange-rates/import", files={"file": (name, (FIXTURES / name).read_bytes())})
    assert again.json()["written"] == 0 and count(config, "exchange_rate") == read


@pytest.mark.parametrize(("content", "message"), [
    ((FIXTURES / "unknown-layout.csv").read_bytes(), "line 1: not a rate file"),
    ((FIXTURES / "bad-line.csv").read_bytes(), "line 3: rate: the rate must be above zero"),
    (b"date,currency,rate\n2026-11-02,EUR,0.62\n2099-01-01,USD,0.7\n", "line 3: date: 2099-01-01 is in the future"),
    (b"date,currency,rate\n2026-11-02,QQQ,0.62\n", "line 2: currency: unknown currency"),
    (b"\xff\xfe\x00bin", "not UTF-8"),
])
def test_a_bad_rate_file_is_refused_naming_the_line_and_writes_nothing(api, config, cad_base, content, message):
    response = api.post("/api/v1/exchange-rates/import", files={"file": ("rates.csv", content)})
    assert response.status_code == 422, response.text
    assert message in field_errors(response)["file"]
    assert count(config, "exchange_rate") == 0


def test_import_without_a_file(api, cad_base):
    response = api.post("/api/v1/exchange-rates/import", data={"other": "x"})
    assert response.status_code == 422 and "file" in field_errors(response)


def test_convert(api, cad_base):
    add(api, date="2026-11-02", currency="EUR", rate="0.62")
    add(api, date="2026-11-02", currency="JPY", rate="110.45")
    add(api, date="2026-11-02", currency="KWD", rate="0.2225")
    def convert(**params):
        return api.get("/api/v1/exchange-rates/convert", params=params)
    assert convert(amount="100", **{"from": "CAD", "to": "EUR"}, date="2026-11-05").json() == {
        "amount": "62.00", "currency": "EUR", "date": "2026-11-05"}
    assert convert(amount="10", **{"from": "CAD", "to": "JPY"}, date="2026-11-02").json()["amount"] == "1105"
    assert convert(amount="1", **{"from": "CAD", "to": "KWD"}, date="2026-11-02").json()["amount"] == "0.223"
    assert convert(amount="62", **{"from": "EUR", "to": "JPY"}, date="2026-11-02").json()["amount"] == "11045"
    too_early = convert(amount="1", **{"from": "CAD", "to": "EUR"}, date="2026-11-01")
    assert too_early.status_code == 422 and "no EUR rate on or before 2026-11-01" in field_errors(too_early)["to"]
    bad = convert(amount="x", **{"from": "ABC", "to": "EUR"}, date=(TODAY + timedelta(days=2)).isoformat())
    assert bad.status_code == 422 and set(field_errors(bad)) == {"amount", "from", "date"}


def test_staff_cannot_add_rates(config, staff_browser, cad_base):
    response = staff_browser.post("/settings/exchange-rates", data={"date": YESTERDAY.isoformat(),
                                                                    "currency": "EUR", "rate": "0.6"})
    assert response.status_code in (403, 404)
    assert count(config, "exchange_rate") == 0


def test_the_rates_page_adds_imports_and_says_what_is_wrong(browser, config, cad_base):
    empty = browser.get("/settings/exchange-rates")
    assert empty.status_code == 200 and "No rates yet" in empty.text
    assert 'href="/settings/exchange-rates"' in browser.get("/settings").text
    done = browser.post("/settings/exchange-rates", data={"date": YESTERDAY.isoformat(), "currency": "EUR",
                                                         "rate": "0.6712"}, follow_redirects=False)
    assert done.status_code == 303
    page = browser.get("/settings/exchange-rates")
    assert "0.6712 EUR" in page.text and "Rate saved" in page.text
    refused = browser.post("/settings/exchange-rates", data={"date": YESTERDAY.isoformat(), "currency": "EUR",
                                                            "rate": "-2"})
    assert refused.status_code == 422 and "above zero" in refused.text
    imported = browser.post("/settings/exchange-rates/import",
                            files={"file": ("eurofxref-hist.csv", (FIXTURES / "eurofxref-hist.csv").read_bytes())},
                            follow_redirects=False)
    assert imported.status_code == 303
    assert "12 rates read" in browser.get("/settings/exchange-rates").text
    bad = browser.post("/settings/exchange-rates/import",
                       files={"file": ("x.csv", (FIXTURES / "unknown-layout.csv").read_bytes())})
    assert bad.status_code == 422 and "not a rate file" in bad.text
    assert count(config, "exchange_rate") == 13
    base = browser.post("/settings/exchange-rates/base", data={"base_currency": "NOPE"})
    assert base.status_code == 422 and "unknown currency" in base.text


def test_an_invoice_freezes_its_rate_at_issue_and_a_late_rate_fills_it_in(api, config, cad_base):
    client = make_client(currency="EUR", name="Berlin GmbH")
    add(api, date=(YESTERDAY - timedelta(days=1)).isoformat(), currency="EUR", rate="0.6250")
    invoice = make_invoice(client, "100.00", currency="EUR")
    assert invoice.exchange_rate is not None and str(invoice.total_base) == "160.00"
    out = api.get(f"/api/v1/invoices/{invoice.id}").json()
    assert (out["exchange_rate"], out["total_base"], out["base_currency"]) == ("0.625", "160.00", "CAD")
    add(api, date=TODAY.isoformat(), currency="EUR", rate="0.5")   # a later rate changes nothing issued
    assert api.get(f"/api/v1/invoices/{invoice.id}").json()["total_base"] == "160.00"

    usd_client = make_client(currency="USD", name="Austin LLC")
    usd = make_invoice(usd_client, "70.00", currency="USD")
    assert usd.exchange_rate is None and usd.total_base is None and usd.number   # issued all the same
    from app.documents import service as documents_service
    totals = run(documents_service.base_totals(open_only=True))
    assert totals.left_out == 1 and totals.left_out_currencies == ("USD",) and str(totals.total) == "160.00"
    add(api, date=(YESTERDAY - timedelta(days=5)).isoformat(), currency="USD", rate="0.7")
    assert api.get(f"/api/v1/invoices/{usd.id}").json()["total_base"] == "100.00"
    totals = run(documents_service.base_totals(open_only=True))
    assert totals.left_out == 0 and str(totals.total) == "260.00"
    from app.integrity import service as integrity
    assert [str(b) for b in integrity.run_checks(config.database_path)] == []


def test_a_draft_has_no_rate(api, cad_base):
    client = make_client(currency="EUR")
    draft = make_invoice(client, "10.00", currency="EUR", issue=False)
    out = api.get(f"/api/v1/invoices/{draft.id}").json()
    assert out["exchange_rate"] is None and out["total_base"] is None


def test_totals_in_the_base_currency_on_the_dashboard_and_reports(api, browser, config, cad_base):
    add(api, date=(YESTERDAY - timedelta(days=1)).isoformat(), currency="EUR", rate="0.625")
    make_invoice(make_client(name="Toronto Inc."), "40.00")                           # 40 CAD
    make_invoice(make_client(currency="EUR", name="Berlin GmbH"), "100.00", currency="EUR")   # 160 CAD
    make_invoice(make_client(currency="USD", name="Austin LLC"), "70.00", currency="USD")     # no rate: left out
    dashboard = browser.get("/")
    assert dashboard.status_code == 200 and 'id="base-total"' in dashboard.text
    card = dashboard.text.split('id="base-total"')[1].split("</section>")[0]
    assert "200.00" in card and "1 invoice left out: no USD rate" in card

    revenue = api.get("/api/v1/reports/revenue", params={"currency": "base"}).json()
    assert revenue["currencies"] == ["CAD"]
    assert revenue["totals"][0]["invoiced"] == "200.00"
    assert api.get("/api/v1/reports/revenue", params={"currency": "XXX"}).status_code == 422
    page = browser.get("/reports/revenue")
    assert "≈ 200.00 CAD at issue-date rates" in page.text and "Net invoiced" in page.text and "1 invoice without a rate left out" in page.text
    in_base = browser.get("/reports/revenue?currency=base")
    assert in_base.status_code == 200 and "Show each currency" in in_base.text and "≈ 200.00 CAD" in in_base.text

    aging = api.get("/api/v1/reports/aging", params={"currency": "base"}).json()
    assert {(r["client_name"], r["currency"], r["total"]) for r in aging} == {
        ("Toronto Inc.", "CAD", "40.00"), ("Berlin GmbH", "CAD", "160.00")}
    assert api.get("/api/v1/reports/aging", params={"currency": "EUR"}).status_code == 422
    aging_page = browser.get("/reports/aging")
    assert "at issue-date rates" in aging_page.text and "1 invoice without a rate left out" in aging_page.text


def test_list_footers_add_every_currency_up_in_the_base(api, browser, config, cad_base):
    add(api, date=(YESTERDAY - timedelta(days=1)).isoformat(), currency="EUR", rate="0.625")
    make_invoice(make_client(name="Toronto Inc."), "40.00")                           # 40 CAD
    make_invoice(make_client(currency="EUR", name="Berlin GmbH"), "100.00", currency="EUR")   # 160 CAD
    make_invoice(make_client(currency="USD", name="Austin LLC"), "70.00", currency="USD")     # no rate: left out
    listed = api.get("/api/v1/invoices").json()
    assert {s["currency"] for s in listed["sums"]} == {"CAD", "EUR", "USD"}
    assert listed["sums_base"] == {"currency": "CAD", "total": "200.00", "left_out": 1}
    page = browser.get("/invoices")
    footer = page.text.split("<tfoot>")[1].split("</tfoot>")[0]
    assert "All currencies in CAD, at the rates of their issue dates" in footer and "1 left out: no rate yet" in footer
    assert "≈ 200.00" in footer
    # One currency, the base: no line in the base (it would repeat the sum above it).
    only_cad = api.get("/api/v1/invoices", params={"q": "Toronto"}).json()
    assert only_cad["sums_base"] is None
    assert "All currencies in" not in browser.get("/invoices?q=Toronto").text


def test_no_base_total_card_with_one_currency(browser, cad_base):
    make_invoice(make_client(), "40.00")
    assert 'id="base-total"' not in browser.get("/").text


def test_a_foreign_payment_realises_a_gain_and_its_bank_fee_settles_the_invoice(api, browser, config, cad_base):
    before = (YESTERDAY - timedelta(days=3)).isoformat()
    add(api, date=before, currency="EUR", rate="0.67")
    invoice = make_invoice(make_client(currency="EUR", name="Berlin GmbH"), "1000.00", currency="EUR",
                           issue_date=YESTERDAY - timedelta(days=3))
    assert str(invoice.total_base) == "1492.54"
    add(api, date=YESTERDAY.isoformat(), currency="EUR", rate="0.66")
    response = api.post(f"/api/v1/invoices/{invoice.id}/payments",
                        json={"amount": "985.00", "fee": "15.00", "date": YESTERDAY.isoformat()})
    assert response.status_code == 201, response.text
    payment = response.json()
    assert (payment["amount"], payment["fee"], payment["received"], payment["exchange_rate"]) == (
        "1000.00", "15.00", "985.00", "0.66")
    assert api.get(f"/api/v1/invoices/{invoice.id}").json()["status"] == "paid"
    memos = query(config, "SELECT kind, currency, amount_minor, debit_minor, credit_minor FROM ledger_entry "
                          "WHERE kind IN ('fx_gain', 'fx_loss', 'bank_fee') ORDER BY kind")
    # 1000 EUR at 0.66 = 1515.15 CAD against 1492.54 at issue: 22.61 gained; the fee 15 EUR = 22.73 CAD.
    assert memos == [("bank_fee", "CAD", 2273, 0, 0), ("fx_gain", "CAD", 2261, 0, 0)]
    pnl = api.get("/api/v1/reports/profit-loss", params={"currency": "CAD"}).json()
    assert (pnl["fx_result"], pnl["bank_fees"]) == ("22.61", "22.73")
    page = browser.get("/reports/profit-loss")
    assert "Realised exchange gain" in page.text and "Bank fees on payments" in page.text
    # The columns add up: the Total row counts the exchange line in revenue and the fees in expenses. The EUR
    # invoice is revenue in CAD at its rate of issue: 1000 EUR at 0.67 is 1,492.54 CAD.
    total = re.search(r"<tr><td>Total</td>(.*?)</tr>", page.text).group(1)
    assert re.findall(r'class="num">([^<]*)<', total) == ["1,515.15", "22.73", "1,492.42"]
    assert "with the exchange result 22.61 and bank fees 22.73" in page.text
    from app.integrity import service as integrity
    assert [str(b) for b in integrity.run_checks(config.database_path)] == []

    reversed_ = api.post(f"/api/v1/payments/{payment['id']}/reverse", json={"reason": "bounced"})
    assert reversed_.status_code == 200, reversed_.text
    pnl = api.get("/api/v1/reports/profit-loss", params={"currency": "CAD"}).json()
    assert (pnl["fx_result"], pnl["bank_fees"]) == ("0.00", "0.00")
    assert [str(b) for b in integrity.run_checks(config.database_path)] == []


@pytest.mark.parametrize(("fee", "message"), [("-1", "Bank fee"), ("x", "Bank fee"), ("1.234", "at most 2 decimals")])
def test_a_bad_fee_is_refused_and_writes_nothing(api, config, cad_base, fee, message):
    invoice = make_invoice(make_client(), "100.00")
    before = snapshot(config, "payment"), snapshot(config, "ledger_entry")
    response = api.post(f"/api/v1/invoices/{invoice.id}/payments", json={"amount": "90.00", "fee": fee})
    assert response.status_code in (400, 422), response.text
    assert (snapshot(config, "payment"), snapshot(config, "ledger_entry")) == before


@pytest.fixture
def cad_business(config) -> None:
    from app.settings import service as settings_service

    run(settings_service.update_settings({"default_currency": "CAD"}))


def test_without_any_rate_a_line_takes_the_unit_price_as_before(api, config, cad_base):
    item = api.post("/api/v1/items", json={"code": "WEB", "name": "Website", "unit_price": "100.00"}).json()
    client = make_client(currency="JPY", name="Tokyo KK")
    made = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [{"item_id": item["id"]}]})
    assert made.status_code == 201 and made.json()["lines"][0]["unit_price"] == "100.00"


def test_item_prices_per_currency_on_lines(api, config, cad_business, cad_base):
    made = api.post("/api/v1/items", json={"code": "LOGO", "name": "Logo design", "unit_price": "1200.00",
                                           "prices": {"eur": "800", "USD": "880.50"}})
    assert made.status_code == 201, made.text
    item = made.json()
    assert item["prices"] == {"EUR": "800.00", "USD": "880.50"}
    plain = api.post("/api/v1/items", json={"code": "WEB", "name": "Website", "unit_price": "100.00"}).json()
    assert plain["prices"] == {}

    def draft(currency: str, item_id: int):
        client = make_client(currency=currency, name=f"Client {currency} {item_id}")
        return api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [{"item_id": item_id}]})

    eur = draft("EUR", item["id"])
    assert eur.status_code == 201, eur.text
    assert eur.json()["lines"][0]["unit_price"] == "800.00"                   # the item's own EUR price
    cad = draft("CAD", item["id"]).json()
    assert cad["lines"][0]["unit_price"] == "1200.00"                         # the business currency
    add(api, date=YESTERDAY.isoformat(), currency="EUR", rate="0.6712")    # rates in use: a missing one asks
    jpy = draft("JPY", plain["id"])
    assert jpy.status_code == 422 and "no JPY price for this item" in field_errors(jpy)["lines[0].unit_price"]
    add(api, date=YESTERDAY.isoformat(), currency="JPY", rate="110.45")
    converted = draft("JPY", plain["id"])
    assert converted.status_code == 201 and converted.json()["lines"][0]["unit_price"] == "11045.00"


@pytest.mark.parametrize(("prices", "message"), [
    ({"XYZ": "1"}, "unknown currency"), ({"EUR": "-1"}, "zero or more"), ({"EUR": "abc"}, "not a number"),
    ({"EUR": 1.5}, "as text"), ({"EUR": "1.23456"}, "decimal places"),
])
def test_bad_item_prices_are_refused(api, config, prices, message):
    response = api.post("/api/v1/items", json={"code": "X", "name": "X", "unit_price": "1", "prices": prices})
    assert response.status_code == 422 and message in field_errors(response)["prices"]
    assert count(config, "catalog_item") == 0


def test_item_prices_on_the_catalogue_form(browser, config):
    response = browser.post("/catalog", data={"code": "LOGO", "name": "Logo", "kind": "service", "unit_price": "10",
                                              "prices": "EUR 7.50, USD 8", "active": "on"}, follow_redirects=False)
    assert response.status_code == 303
    (item_id, prices), = query(config, "SELECT id, prices_json FROM catalog_item")
    assert prices == '{"EUR": "7.50", "USD": "8.00"}'
    assert 'value="EUR 7.50, USD 8.00"' in browser.get(f"/catalog/{item_id}/edit").text
    bad = browser.post("/catalog", data={"code": "B", "name": "B", "kind": "service", "unit_price": "1",
                                         "prices": "EUR"})
    assert bad.status_code == 422 and "currency code and an amount" in bad.text


def test_the_editor_converts_a_picked_price_and_says_so(api, browser, config, cad_business, cad_base):
    from tests.http.test_documents_pages import editor_form, form_line

    api.post("/api/v1/items", json={"code": "WEB", "name": "Website", "unit_price": "100.00"})
    client = make_client(currency="EUR", name="Berlin GmbH")
    document = make_invoice(client, "1.00", currency="EUR", issue=False)
    add(api, date=YESTERDAY.isoformat(), currency="USD", rate="0.73")
    form = editor_form(document, form_line(0, item="WEB — Website"))
    asked = browser.post(f"/documents/{document.id}/preview", data=form)
    assert asked.status_code == 200 and "no EUR price for this item" in asked.text and "converted at" not in asked.text
    add(api, date=YESTERDAY.isoformat(), currency="EUR", rate="0.6712")
    picked = browser.post(f"/documents/{document.id}/preview", data=form)
    assert picked.status_code == 200
    assert "converted at 1 CAD = 0.6712 EUR" in picked.text and 'value="67.12"' in picked.text


IBAN = "DE89370400440532013000"


@pytest.fixture
def settings_bank(config) -> None:
    from app.settings import service as settings_service

    run(settings_service.update_settings({"default_currency": "CAD", "bank_account_holder": "Maple Studio",
                                          "bank_name": "Deutsche Bank", "bank_iban": IBAN, "bank_bic": "DEUTDEFF"}))


def test_bank_accounts_page_moves_the_settings_account_into_the_first_and_refuses_bad_input(browser, config,
                                                                                            settings_bank):
    page = browser.get("/settings/bank-accounts")
    assert page.status_code == 200 and IBAN in page.text and "From your business details" in page.text
    assert 'href="/settings/bank-accounts"' in browser.get("/settings").text
    for form, field, words in [
        ({"iban": "DE00370400440532013000"}, "iban", "not a valid IBAN"),
        ({"institution": "004", "account_number": "1234567"}, "transit", "institution, transit and account"),
        ({"routing": "12345", "account_number": "99887766"}, "routing", "9 digits"),
        ({"iban": IBAN, "currencies": "EUR ABC"}, "currencies", "unknown currency"),
        ({}, "iban", "give an IBAN"),
    ]:
        refused = browser.post("/settings/bank-accounts", data=form)
        assert refused.status_code == 422 and words in refused.text and f'id="new-{field}"' in refused.text
        assert count(config, "bank_account") == 0
    added = browser.post("/settings/bank-accounts", data={"currencies": "CAD", "holder": "Maple Studio",
                                                          "bank_name": "TD", "institution": "004", "transit": "12345",
                                                          "account_number": "7654321"}, follow_redirects=False)
    assert added.status_code == 303
    rows = query(config, "SELECT position, currencies, iban, transit FROM bank_account ORDER BY position")
    assert rows == [(0, "", IBAN, ""), (1, "CAD", "", "12345")]
    us = browser.post("/settings/bank-accounts", data={"currencies": "usd", "routing": "021000021",
                                                       "account_number": "99887766"}, follow_redirects=False)
    assert us.status_code == 303
    (us_id,), = query(config, "SELECT id FROM bank_account WHERE currencies = 'USD'")
    edited = browser.post(f"/settings/bank-accounts/{us_id}", data={"currencies": "USD", "routing": "bad",
                                                                    "account_number": "99887766"})
    assert edited.status_code == 422 and "9 digits" in edited.text
    assert browser.post(f"/settings/bank-accounts/{us_id}/delete", follow_redirects=False).status_code == 303
    assert count(config, "bank_account") == 2
    from app.integrity import service as integrity
    assert [str(b) for b in integrity.run_checks(config.database_path)] == []


def test_each_document_prints_the_account_for_its_currency_and_the_qr_only_in_euros(config, settings_bank):
    from app.fx import service as fx_service
    from app.render import service as render_service

    run(fx_service.save_bank_account({"currencies": "CAD", "holder": "Maple Studio", "institution": "004",
                                      "transit": "12345", "account_number": "7654321"}))
    run(fx_service.save_bank_account({"currencies": "USD", "routing": "021000021", "account_number": "99887766"}))
    cad = make_invoice(make_client(name="Toronto Inc."), "100.00")
    eur = make_invoice(make_client(currency="EUR", name="Berlin GmbH"), "100.00", currency="EUR")
    usd = make_invoice(make_client(currency="USD", name="Austin LLC"), "100.00", currency="USD")
    assert cad.snapshot["business"]["bank_transit"] == "12345" and cad.snapshot["business"]["bank_iban"] == ""
    assert eur.snapshot["business"]["bank_iban"] == IBAN
    assert usd.snapshot["business"]["bank_routing"] == "021000021"
    data = {doc.currency: run(render_service.document_print_data(doc.id, data_dir=config.data_dir))
            for doc in (cad, eur, usd)}
    cad_rows = dict(map(tuple, data["CAD"]["payment"]["rows"]))
    assert cad_rows["Transit"] == "12345" and "IBAN" not in cad_rows and data["CAD"]["payment"]["qr_payload"] is None
    assert data["EUR"]["payment"]["qr_payload"] and IBAN in data["EUR"]["payment"]["qr_payload"]
    assert dict(map(tuple, data["USD"]["payment"]["rows"]))["Routing (ABA)"] == "021000021"


def test_base_totals_summed_in_sql_are_each_invoice_converted_and_rounded(api, config, cad_base):
    """base_totals() groups the amounts in SQL; its figures are those of converting each invoice on its own
    (rounded to the cent each), as the per-invoice recomputation below does: equal amounts at one rate
    (whose sum converted at once would round differently), a part-paid one, a currency with no rate."""
    from app.documents import service as documents_service
    from app.documents.tables import Document
    from app.fx import service as fx_service

    add(api, date=(YESTERDAY - timedelta(days=1)).isoformat(), currency="EUR", rate="0.6250")
    euro = make_client(currency="EUR", name="Berlin GmbH")
    bills = [make_invoice(euro, "0.01", currency="EUR") for _ in range(3)] + [make_invoice(euro, "33.33",
                                                                                          currency="EUR")]
    make_invoice(make_client(currency="USD", name="Austin LLC"), "70.00", currency="USD")
    make_invoice(make_client(currency="CAD", name="Laval Inc."), "12.34", currency="CAD")
    paid = api.post(f"/api/v1/invoices/{bills[3].id}/payments", json={"amount": "10.00", "date": TODAY.isoformat(),
                                                                "method": "bank_transfer"})
    assert paid.status_code == 201, paid.text

    async def recomputed(open_only: bool) -> object:
        base = await fx_service.base_currency()
        rows = []
        for row in await Document.select().where((Document.doc_type == "invoice")
                                                 & Document.status.is_in(["issued", "sent"])):
            amount = row["total_minor"] - (row["paid_minor"] + row["credited_minor"] if open_only else 0)
            if not open_only or amount > 0:
                rows.append((row["currency"], amount, row["issue_date"],
                             row["exchange_rate"] if row["base_currency"] == base else None))
        return await fx_service.base_total(rows)

    for open_only in (True, False):
        totals = run(documents_service.base_totals(open_only=open_only, date_from=None if open_only else YESTERDAY))
        assert totals == run(recomputed(open_only))
    owed = run(documents_service.base_totals(open_only=True))
    assert str(owed.total) == str(Decimal("12.34") + 3 * Decimal("0.02") + Decimal("37.33"))   # 0.016 -> 0.02 each
    assert owed.left_out == 1 and owed.left_out_currencies == ("USD",)
