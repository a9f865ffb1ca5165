"""The document lists' filters over HTTP (issue 21): bad filters are refused naming the field; a broad
search's page leaves its count and sums to a second request (GET <list>/totals), which answers them
exactly, as the API does in one."""

from __future__ import annotations

import re

import pytest

from app.documents import service
from tests.conftest import run
from tests.http.support import field_errors, make_client, make_invoice


@pytest.fixture
def invoices(config):
    """Twelve issued invoices, two of them paid, for two clients; and a draft."""
    from app.payments import service as payments_service

    clients = [make_client(name="Zoë Tremblay Design"), make_client(name="Birch & Co")]
    made = [make_invoice(clients[n % 2], f"{100 + n}.00") for n in range(12)]
    for invoice in made[:2]:
        run(payments_service.record_payment(invoice.id, {"amount": str(invoice.total), "method": "bank_transfer"}))
    make_invoice(clients[0], "5.00", issue=False)
    return made


@pytest.mark.parametrize(("query", "field"), [
    ({"sort": "colour"}, "sort"),
    ({"status": "lost"}, "status"),
    ({"from": "2026-13-01"}, "from"),
    ({"to": "yesterday"}, "to"),
    ({"from": "2026-05-02", "to": "2026-05-01"}, "to"),
    ({"client_id": "0"}, "client_id"),
    ({"page": "0"}, "page"),
])
def test_a_bad_filter_is_refused_naming_it(api, invoices, query, field):
    for path in ("/api/v1/invoices", "/api/v1/quotes", "/api/v1/credit-notes"):
        response = api.get(path, params=query)
        assert response.status_code in (400, 422), (path, response.text)
        assert field in field_errors(response), (path, response.text)


@pytest.fixture
def every_search_broad(monkeypatch):
    """A folder this small has no broad search: every word is taken as found in most documents (as
    "client" is in 100,000), so the page walks the list and leaves its count and sums out."""
    async def broad(doc_type, query):
        return None, 1.0, list(query.words)

    monkeypatch.setattr(service, "_probe", broad)


def test_a_broad_search_page_loads_its_totals_in_a_second_request(browser, api, invoices, every_search_broad):
    page = browser.get("/invoices", params={"q": "work", "sort": "total", "dir": "asc"})
    assert page.status_code == 200
    assert "Totals loading…" in page.text
    assert 'hx-get="/invoices/totals?q=work"' in page.text
    assert "Page 1 of" not in page.text   # no count yet: the pager says the page alone
    totals = browser.get("/invoices/totals", params={"q": "work"})
    assert totals.status_code == 200
    assert totals.text.lstrip().startswith("<tfoot")
    listed = api.get("/api/v1/invoices", params={"q": "work"}).json()
    assert listed["total"] == 13 and "13 invoices matching" in totals.text   # the draft is counted too
    paid_count = api.get("/api/v1/invoices", params={"q": "work", "status": "paid"}).json()["total"]
    assert paid_count == 2
    assert "2 invoices matching" in browser.get("/invoices/totals", params={"q": "work", "status": "paid"}).text
    # The money: the sum of the twelve issued invoices (the draft is counted, never summed).
    assert [s["count"] for s in listed["sums"]] == [12]
    assert re.search(r"Sum of 12 issued, unpaid or paid in", totals.text), totals.text


def test_a_broad_search_pages_on_without_a_count(browser, invoices, every_search_broad, monkeypatch):
    from app.web.pages import documents as pages

    monkeypatch.setattr(pages, "PER_PAGE", 5)
    first = browser.get("/invoices", params={"q": "work", "sort": "number", "dir": "asc"}).text
    assert "Page 1</span>" in first and 'rel="next"' in first and 'rel="prev"' not in first
    last = browser.get("/invoices", params={"q": "work", "sort": "number", "dir": "asc", "page": 3}).text
    assert "Page 3</span>" in last and 'rel="prev"' in last and 'rel="next"' not in last
    numbers = [re.findall(r'class="row-link mono">([^<]+)<', browser.get(
        "/invoices", params={"q": "work", "sort": "number", "dir": "asc", "page": n}).text) for n in (1, 2, 3)]
    # Twelve numbered invoices in order on the three pages (the draft, unnumbered, on the last).
    listed = [number for page in numbers for number in page]
    assert listed == sorted(set(listed)) and len(listed) == 12


def test_a_narrow_search_and_a_plain_list_count_in_the_page(browser, invoices):
    for params in ({}, {"q": "birch"}, {"status": "paid"}, {"client_id": str(invoices[0].client_id)}):
        page = browser.get("/invoices", params=params)
        assert page.status_code == 200 and "Totals loading…" not in page.text, params
        assert re.search(r"\d+ invoices?( matching)?", page.text), params


def test_the_totals_of_a_list_with_bad_filters_leave_them_out(browser, invoices):
    """The page says what is wrong with its filters; its footer, asked alone, counts without them."""
    response = browser.get("/invoices/totals", params={"from": "2026-13-01", "status": "lost", "client_id": "x"})
    assert response.status_code == 200
    assert "13 invoices<" in response.text or "13 invoices " in response.text, response.text
