"""The payments list at 95,000 payments (issue 21): its count and footer from the running sums of the
payments (payment_tally, kept by triggers on every write), its page's ids walked from either end.
Each is compared with the plain reading of the payments themselves (the list as it was made before:
every matching row ordered, counted and summed), over varied books, and `counterfoil check` finds
running sums that drifted from the payments."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.common.logic import Page
from app.integrity.service import run_checks
from app.money import from_minor
from app.payments import logic, service
from tests.conftest import run, sealed_writes

METHODS = list(logic.METHODS)
CURRENCIES = ("CAD", "EUR", "JPY")
FIRST_DAY = date(2024, 11, 20)
DAYS = 140   # the books span five months, parts of months at both ends


def make_clients(count: int) -> list[int]:
    from app.clients import service as clients_service

    return [run(clients_service.create_client({"name": f"Payer {n:02d}"}, default_currency="CAD")).id
            for n in range(count)]


Row = tuple[int, str, int, int, str, str]   # client index, currency, amount_minor, day offset, method, status


def write_payments(database: Path, clients: list[int], rows: list[Row], *, replace: bool = True) -> None:
    """Payments written in plain SQL, as the import or a restore might (the triggers keep the sums)."""
    connection = sqlite3.connect(database)
    with sealed_writes(connection):
        if replace:
            connection.execute("DELETE FROM payment")
        for client, currency, amount, offset, method, status in rows:
            day = FIRST_DAY + timedelta(days=offset)
            connection.execute(
                "INSERT INTO payment (client, currency, amount_minor, applied_minor, excess_minor, payment_date, "
                "method, status, reversal_date, created_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
                (clients[client % len(clients)], currency, amount, amount, day.isoformat(), method, status,
                 day.isoformat() if status == "reversed" else None, "2025-01-01T00:00:00+00:00"))
    connection.commit()
    connection.close()


def plain(database: Path, *, client_id: int | None = None, method: str = "", state: str = "",
          date_from: date | None = None, date_to: date | None = None, page: Page = Page()
          ) -> tuple[list[int], int, list[tuple[str, Decimal, Decimal]]]:
    """The list read the plain way: every matching payment ordered, counted and summed."""
    conditions, args = ["1 = 1"], []
    for condition, value in (("client = ?", client_id), ("method = ?", method or None), ("status = ?", state or None),
                             ("payment_date >= ?", date_from and date_from.isoformat()),
                             ("payment_date <= ?", date_to and date_to.isoformat())):
        if value is not None:
            conditions.append(condition)
            args.append(value)
    where = " AND ".join(conditions)
    connection = sqlite3.connect(database)
    try:
        ids = [row[0] for row in connection.execute(
            f"SELECT id FROM payment NOT INDEXED WHERE {where} ORDER BY payment_date DESC, id DESC LIMIT ? OFFSET ?",
            [*args, page.per_page, page.offset])]
        count = connection.execute(f"SELECT count(*) FROM payment NOT INDEXED WHERE {where}", args).fetchone()[0]
        sums: dict[str, dict[str, Decimal]] = {}
        for currency, status, amount in connection.execute(
                f"SELECT currency, status, sum(amount_minor) FROM payment NOT INDEXED WHERE {where} "
                "GROUP BY currency, status", args):
            entry = sums.setdefault(currency, {"live": from_minor(0, currency), "reversed": from_minor(0, currency)})
            entry[status] = from_minor(amount, currency)
    finally:
        connection.close()
    return ids, count, [(c, v["live"], v["reversed"]) for c, v in sorted(sums.items())]


def listed(**filters: Any) -> tuple[list[int], int, list[tuple[str, Decimal, Decimal]]]:
    result = run(service.list_payments(**filters))
    return ([p.id for p in result.items], result.total,
            [(t.currency, t.live, t.reversed) for t in result.extra["totals"]])


def tally_drift(database: Path) -> list[tuple]:
    """Keys where payment_tally and the sums made afresh from the payments differ (none, when kept)."""
    connection = sqlite3.connect(database)
    try:
        return connection.execute(
            "SELECT * FROM (SELECT method, status, currency, month, n, amount_minor FROM payment_tally WHERE n != 0 "
            "EXCEPT SELECT method, status, currency, substr(payment_date, 1, 7), count(*), sum(amount_minor) "
            "FROM payment GROUP BY 1, 2, 3, 4) UNION ALL SELECT * FROM (SELECT method, status, currency, "
            "substr(payment_date, 1, 7), count(*), sum(amount_minor) FROM payment GROUP BY 1, 2, 3, 4 EXCEPT "
            "SELECT method, status, currency, month, n, amount_minor FROM payment_tally)").fetchall()
    finally:
        connection.close()


PERIODS = [(None, None), (date(2024, 12, 1), None), (None, date(2025, 1, 31)), (date(2024, 12, 5), None),
           (None, date(2025, 2, 14)), (date(2024, 12, 5), date(2025, 2, 14)), (date(2025, 1, 3), date(2025, 1, 9)),
           (date(2025, 1, 1), date(2025, 1, 31)), (date(2025, 2, 10), date(2025, 2, 10)),
           (date(2024, 11, 20), date(2025, 4, 8)), (date(2023, 1, 1), date(2023, 12, 31))]


@pytest.fixture
def books(config):
    """Four clients, 300 payments in three currencies, every method, some reversed, over five months."""
    clients = make_clients(4)
    rows = [(n % 4, CURRENCIES[n % 3], 100 + (n * 7919) % 90_000, (n * 37) % DAYS, METHODS[n % len(METHODS)],
             "reversed" if n % 11 == 0 else "live") for n in range(300)]
    write_payments(config.database_path, clients, rows)
    return config, clients


def test_every_filter_answers_as_the_plain_reading_does(books):
    """Each method x state x period (whole months, parts of months, open ends, one day, none), without and
    with a client: the same rows in the same order on the first, a middle, the last and a page past the
    end, the same count and the same footer."""
    config, clients = books
    compared = 0
    for method in ("", "card", "cash"):
        for state in ("", "live", "reversed"):
            for date_from, date_to in PERIODS:
                for client_id in (None, clients[1]):
                    filters = {"client_id": client_id, "method": method, "state": state, "date_from": date_from,
                               "date_to": date_to}
                    count = plain(config.database_path, **filters)[1]
                    pages = {1, max(1, (count // 7 + 1) // 2), count // 7 + 1, count // 7 + 2}
                    for number in pages:
                        page = Page(page=number, per_page=7)
                        assert listed(**filters, page=page) == plain(config.database_path, **filters, page=page), \
                            (filters, number)
                    compared += count > 0
    assert compared > 100   # most combinations hold payments


def test_the_pages_put_together_are_the_whole_list_once(books):
    config, _clients = books
    for state in ("", "live"):
        whole = plain(config.database_path, state=state, page=Page(page=1, per_page=500))[0]
        paged: list[int] = []
        for number in range(1, len(whole) // 13 + 2):
            paged += listed(state=state, page=Page(page=number, per_page=13))[0]
        assert paged == whole and len(whole) > 250


payment_rows = st.lists(st.tuples(st.integers(0, 2), st.sampled_from(CURRENCIES), st.integers(1, 10**12),
                                  st.integers(0, DAYS), st.sampled_from(METHODS[:3]),
                                  st.sampled_from(("live", "live", "reversed"))), max_size=40)
days = st.none() | st.integers(-5, DAYS + 5).map(lambda offset: FIRST_DAY + timedelta(days=offset))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=payment_rows, method=st.sampled_from(["", *METHODS[:3]]), state=st.sampled_from(["", "live", "reversed"]),
       date_from=days, date_to=days, with_client=st.booleans(), number=st.integers(1, 8), per_page=st.integers(1, 9))
def test_any_book_and_any_filter_answer_as_the_plain_reading(config, rows, method, state, date_from, date_to,
                                                             with_client, number, per_page):
    """Hypothesis: whatever the payments (amounts up to 10 digits, any day, any mix of methods, states and
    currencies) and whatever the filters and page, the list is the plain reading's; the running sums
    stay the payments' sums as payments come and go."""
    clients = getattr(test_any_book_and_any_filter_answer_as_the_plain_reading, "clients", None)
    if clients is None or not run(_clients_exist(clients)):
        clients = make_clients(3)
        test_any_book_and_any_filter_answer_as_the_plain_reading.clients = clients  # type: ignore[attr-defined]
    write_payments(config.database_path, clients, rows)
    assert tally_drift(config.database_path) == []
    if date_from and date_to and date_to < date_from:
        date_from, date_to = date_to, date_from
    filters = {"client_id": clients[1] if with_client else None, "method": method, "state": state,
               "date_from": date_from, "date_to": date_to}
    page = Page(page=number, per_page=per_page)
    assert listed(**filters, page=page) == plain(config.database_path, **filters, page=page)


async def _clients_exist(ids: list[int]) -> bool:
    from app.clients.tables import Client

    return await Client.count().where(Client.id.is_in(ids)) == len(ids)


def test_a_reversal_moves_the_payment_from_live_to_reversed(books):
    """A payment's status changed (here in plain SQL, as a reversal changes it): the running sums follow
    in the same write."""
    config, _clients = books
    before = listed(state="reversed")
    live = run(service.list_payments(state="live", method="cheque", page=Page(page=1, per_page=1))).items[0]
    connection = sqlite3.connect(config.database_path)
    with sealed_writes(connection):
        connection.execute("UPDATE payment SET status = 'reversed', reversal_date = payment_date WHERE id = ?",
                           (live.id,))
    connection.commit()
    connection.close()
    after = listed(state="reversed")
    assert after[1] == before[1] + 1
    assert listed(state="reversed") == plain(config.database_path, state="reversed")
    assert tally_drift(config.database_path) == []


def test_a_payment_recorded_and_reversed_through_the_service_is_counted(config):
    """Through the services (an issued invoice paid, then the payment reversed): the count and footer move."""
    from app import demo

    run(demo.fill(config, clients=4, invoices=12))
    before = listed()
    assert before == plain(config.database_path)
    invoice = next(i for i in run(_open_invoices()) if i.open > 0)
    paid = run(service.record_payment(invoice.id, {"amount": "1.00", "method": "cash"}))
    assert listed()[1] == before[1] + 1
    run(service.reverse_payment(paid.id, "wrong invoice"))
    assert listed(state="reversed") == plain(config.database_path, state="reversed")
    assert listed() == plain(config.database_path)
    assert [str(b) for b in run_checks(config.database_path)] == []


async def _open_invoices() -> list[Any]:
    from app.receivables import service as receivables_service

    return await receivables_service.open_invoices()


def test_counterfoil_check_finds_running_sums_that_drifted(config):
    """(The demo's books: payments in plain SQL would have no ledger entries, which the check names too.)"""
    from app import demo

    run(demo.fill(config, clients=4, invoices=12))
    assert [str(b) for b in run_checks(config.database_path)] == []
    connection = sqlite3.connect(config.database_path)
    with sealed_writes(connection):
        connection.execute("UPDATE payment_tally SET n = n + 1, amount_minor = amount_minor + 100 WHERE id = "
                           "(SELECT min(id) FROM payment_tally WHERE n > 0)")
    connection.commit()
    connection.close()
    found = [str(b) for b in run_checks(config.database_path)]
    assert len(found) == 1 and found[0].startswith("running sums of the payments"), found
    assert "the payments list would show a wrong count and footer" in found[0]
