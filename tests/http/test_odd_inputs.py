"""Inputs found odd in a review of the routes: each a clear 4xx or a page as for no value, never a 500 and
never a value read as something else (other scripts' digits, an id beyond 64 bits, a year past 9999)."""

from __future__ import annotations

from typing import Any

import pytest

from app.common.logic import MAX_ID, id_of
from app.money import MoneyError, parse_decimal
from tests.http.support import field_errors, make_client
from tests.http.test_recurring_pages import form as recurring_form
from tests.http.test_render import business, new_invoice  # noqa: F401  (business is a fixture)

BEYOND_64_BITS = str(2**63)


@pytest.mark.parametrize("text", ["١٢٣", "۱۲", "１２", "1_000", "²", "12,50", "0x10", "1e", "--1"])
def test_a_number_is_written_with_the_digits_0_to_9(text):
    with pytest.raises(MoneyError, match="not a number"):
        parse_decimal(text)


@pytest.mark.parametrize(("text", "number"), [("12.50", "12.50"), (" 1 234.5 ", "1234.5"), ("-3", "-3"), (".5", "0.5"),
                                              ("1E+2", "1E+2")])
def test_plain_numbers_still_read(text, number):
    assert str(parse_decimal(text)) == number


def test_id_of_takes_ids_from_1_to_64_bits_in_digits_0_to_9():
    assert [id_of(v) for v in ("1", " 42 ", str(MAX_ID), 7)] == [1, 42, MAX_ID, 7]
    assert [id_of(v) for v in ("", "0", "-1", BEYOND_64_BITS, "²", "١", "1.0", None, True, 0, 2**63)] == [None] * 11


def test_a_payment_in_other_digits_is_refused_naming_the_amount(api, business):
    invoice = new_invoice(api, make_client(name="Digits", language="en", country="DE"))
    response = api.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"amount": "١٠"})
    assert response.status_code == 422 and "amount" in field_errors(response), response.text
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["paid"] in ("0", "0.00")


@pytest.mark.parametrize("amount", ["1e999", "1" + "0" * 40])
def test_converting_an_amount_too_large_is_422(api, amount):
    response = api.get("/api/v1/exchange-rates/convert",
                       params={"amount": amount, "from": "EUR", "to": "EUR", "date": "2026-12-01"})
    assert response.status_code == 422 and "amount" in field_errors(response), response.text
    assert "too large" in response.text


@pytest.mark.parametrize("param", ["from", "to"])
def test_the_audit_trail_refuses_a_day_outside_1900_2200(api, param):
    response = api.get("/api/v1/audit", params={param: "9999-12-31"})
    assert response.status_code == 422 and param in field_errors(response), response.text


def test_ids_beyond_64_bits_in_forms_and_queries_are_read_as_none(browser, business):
    client = make_client(name="Big Ids", language="en", country="DE")
    assert browser.get(f"/recurring/new?client_id={BEYOND_64_BITS}").status_code == 200
    assert browser.get(f"/time?project_id={BEYOND_64_BITS}").status_code in (200, 422)
    assert browser.get(f"/invoices?client_id={BEYOND_64_BITS}").status_code in (200, 422)
    for path in ("/recurring/preview", "/recurring/new"):
        response = browser.post(path, data={**recurring_form(client.id), "client_id": BEYOND_64_BITS,
                                            "lines-0-item_id": BEYOND_64_BITS})
        assert response.status_code < 500, (path, response.status_code)
    draft = browser.get("/invoices/new", params={"client_id": str(client.id)})
    assert draft.status_code == 200


def test_adding_expenses_to_an_invoice_without_choosing_one_is_not_a_500(api, browser, business):
    invoice = new_invoice(api, make_client(name="No Expense", language="en", country="DE"), issue=False)
    response = browser.post(f"/documents/{invoice['id']}/unbilled-expenses", data={}, follow_redirects=False)
    assert response.status_code == 303, response.text
    response = browser.post(f"/documents/{invoice['id']}/unbilled-expenses", data={"expense_id": BEYOND_64_BITS},
                            follow_redirects=False)
    assert response.status_code == 303, response.text


def test_a_line_quantity_in_other_digits_is_refused_naming_the_line(api, business):
    client = make_client(name="Digits Lines", language="en", country="DE")
    for quantity in ("١", "1_0"):
        response = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [
            {"description": "x", "quantity": "1", "unit_price": "5.00"},
            {"description": "y", "quantity": quantity, "unit_price": "5.00"}]})
        assert response.status_code == 422 and "lines[1].quantity" in field_errors(response), response.text
    assert api.get("/api/v1/invoices").json()["total"] == 0


def test_a_blank_number_or_date_in_any_query_is_the_default_not_a_400(api, browser):
    """A page's filter form sends its empty fields (`/payments?client_id=&from=`): every route with a query
    parameter typed int or date answers them as left out (it answered 400, "Expected int|null, got str")."""
    from app.web.inputs import _kinds
    from tests.http.test_data_in_out import fill, routes_with

    def typed_query(route: Any, handler: Any) -> bool:
        return any(_kinds(definition.annotation) and name not in route.path
                   for name, definition in handler.parsed_fn_signature.parameters.items())

    checked = 0
    for method, path, handler in routes_with(api.app, typed_query):
        if method != "GET":
            continue
        caller = api if path.startswith("/api/") else browser
        blank = {getattr(definition.kwarg_definition, "name", None) or name: ""
                 for name, definition in handler.parsed_fn_signature.parameters.items()
                 if _kinds(definition.annotation) and f"{{{name}:" not in path}
        plain = caller.get(fill(path))
        response = caller.get(fill(path), params=blank)
        assert response.status_code == plain.status_code, (path, blank, response.status_code, response.text[:200])
        checked += 1
    assert checked >= 15


def test_a_right_to_left_client_name_is_isolated_from_the_numbers_beside_it(api, browser, business):
    """"דוד כהן הפקות · 1,800.00 USD" read "1,800.00 · דוד כהן הפקות USD" without the name isolated (<bdi>)."""
    client = make_client(name="דוד כהן הפקות", language="en", country="IL")
    invoice = new_invoice(api, client)
    for path in (f"/documents/{invoice['id']}", "/invoices", f"/clients/{client.id}/edit"):
        assert "<bdi>דוד כהן הפקות</bdi>" in browser.get(path).text, path
