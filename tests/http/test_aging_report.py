"""The receivables aging report at scale: a page of clients at a time, the most overdue first,
totals of every client on every page, and the complete list in the API and the CSV."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.clients.records import ClientView
from app.receivables import logic
from tests.conftest import run
from tests.http.support import backdated, make_client

TODAY = datetime.now(UTC).date()


def invoice(client: ClientView, total: str, days_past_due: int, *, currency: str = "CAD",
            issue: bool = True) -> dict[str, Any]:
    from app.documents import service

    draft = run(service.create_document("invoice", {
        "client_id": client.id, "currency": currency, "terms_days": 0,
        "issue_date": (TODAY - timedelta(days=days_past_due)).isoformat(),
        "lines": [{"description": "Work", "quantity": "1", "unit_price": total, "taxes": []}]}))
    return run(service.issue(draft.id, **backdated(draft.issue_date))) if issue else draft


@pytest.fixture
def owing(config) -> dict[str, dict[str, Any]]:
    """Eight clients, one who owes nothing (paid in full) and a draft that is not owed."""
    from app.payments import service as payments_service

    clients = {name: make_client(name=name, currency="EUR" if name == "Gamma" else "CAD")
               for name in ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta")}
    # Issued oldest first: numbers follow dates.
    invoice(clients["Alpha"], "100.00", 120)                                            # over 90: 100
    paid = invoice(clients["Theta"], "40.00", 100)
    invoice(clients["Beta"], "50.00", 95)
    invoice(clients["Gamma"], "70.00", 91, currency="EUR")                              # over 90: 70 EUR
    invoice(clients["Delta"], "10.00", 75)                                              # 61-90: 10
    invoice(clients["Epsilon"], "1000.00", 10)                                          # 1-30: 1000
    invoice(clients["Beta"], "500.00", 0)                                               # over 90: 50, total 550
    invoice(clients["Zeta"], "2000.00", 0)                                              # current: 2000
    invoice(clients["Eta"], "5.00", 0)                                                  # current: 5
    invoice(clients["Eta"], "9.00", 200, issue=False)                                   # a draft: not owed
    run(payments_service.record_payment(paid.id, {"amount": "40.00"}))               # paid: not listed
    return clients


def rows_of(page_html: str) -> list[tuple[str, list[str]]]:
    body = re.search(r"<tbody>(.*?)</tbody>", page_html, re.S).group(1)
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        name = re.search(r'/ledger">(.*?)</a>', row).group(1)
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                 for c in re.findall(r'<td class="num[^"]*">(.*?)</td>', row, re.S)]
        rows.append((html.unescape(re.sub(r"<[^>]+>", "", name)), cells))
    return rows


def totals_of(page_html: str) -> list[list[str]]:
    foot = re.search(r"<tfoot>(.*?)</tfoot>", page_html, re.S).group(1)
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", foot, re.S)]


def test_pages_of_clients_most_overdue_first_with_the_totals_of_all(browser, owing, monkeypatch):
    monkeypatch.setattr(logic, "AGING_PAGE", 3)
    pages = [browser.get(f"/reports/aging?page={n}") for n in (1, 2, 3)]
    assert all(page.status_code == 200 for page in pages)
    names = [[name for name, _ in rows_of(page.text)] for page in pages]
    assert names == [["Alpha", "Gamma", "Beta"], ["Delta", "Epsilon", "Zeta"], ["Eta"]]
    assert rows_of(pages[0].text)[2] == ("Beta", ["500.00", "", "", "", "50.00", "550.00"])
    # Every page carries the same totals: those of all seven clients, per currency.
    assert {str(totals_of(page.text)) for page in pages} == {str(totals_of(pages[0].text))}
    cad, eur = totals_of(pages[0].text)
    assert cad[:2] == ["Total, all 7 clients", "CAD"]  # the count as "{:,}" formats it
    assert [Decimal(re.sub(r"[^\d.]", "", c)) for c in cad[2:]] == [Decimal(v) for v in (
        "2505.00", "1000.00", "0.00", "10.00", "150.00", "3665.00")]
    assert eur[1] == "EUR" and Decimal(re.sub(r"[^\d.]", "", eur[-1])) == Decimal("70.00")
    assert "7 clients owe you" in pages[0].text and 'rel="next"' in pages[0].text and "Page 1 of 3" in pages[0].text
    beyond = browser.get("/reports/aging?page=9")
    assert beyond.status_code == 200 and "No page 9" in beyond.text


def test_as_of_is_kept_across_pages_and_everything_ages(browser, owing, monkeypatch):
    monkeypatch.setattr(logic, "AGING_PAGE", 3)
    later = (TODAY + timedelta(days=100)).isoformat()
    page = browser.get(f"/reports/aging?as_of={later}")
    assert f"as_of={later}" in re.search(r'<nav class="pager".*?</nav>', page.text, re.S).group(0)
    # 100 days on, every open invoice is over 90 days past due: the largest first.
    assert [name for name, _ in rows_of(page.text)] == ["Zeta", "Epsilon", "Beta"]


def test_the_api_and_the_csv_list_every_client(api, owing, monkeypatch):
    monkeypatch.setattr(logic, "AGING_PAGE", 3)
    rows = api.get("/api/v1/reports/aging").json()
    assert [r["client_name"] for r in rows] == ["Zeta", "Epsilon", "Beta", "Alpha", "Gamma", "Delta", "Eta"]
    response = api.get("/api/v1/exports/aging.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["client_name"] for r in table] == [r["client_name"] for r in rows]
    assert {r["client_name"]: r["total"] for r in table} == {r["client_name"]: r["total"] for r in rows}
    assert next(r for r in table if r["client_name"] == "Beta")["days_over_90"] == "50.00"
