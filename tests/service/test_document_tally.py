"""The running sums of the documents (document_tally, issue 21): kept by triggers on every write, the
lists' counts and footers read from them equal the same sums read from the documents, and
`counterfoil check` finds running sums that drifted from the documents."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest

from app.common.logic import Page
from app.documents import logic, service
from app.integrity.service import run_checks
from app.settings.service import today
from tests.conftest import run, sealed_writes


def periods(day: date) -> list[tuple[date | None, date | None]]:
    """Whole months, parts of months and open ends, around the demo's year before `day`."""
    first = day.replace(day=1)
    return [(None, None), (first - timedelta(days=200), None), (None, first - timedelta(days=1)),
            (day - timedelta(days=290), day - timedelta(days=75)), (day - timedelta(days=40), day - timedelta(days=31)),
            ((first - timedelta(days=95)).replace(day=1), first - timedelta(days=1)), (day - timedelta(days=3), None)]


@pytest.fixture
def books(config):
    """The demo's books: clients, invoices issued, paid, partly paid, credited and cancelled, quotes and
    credit notes, written through the services."""
    from app import demo

    run(demo.fill(config, clients=8, invoices=40))
    return config


def tallied_filters():
    for doc_type in logic.TYPES:
        for status in ("", *logic.STATUSES[doc_type], *(["open"] if doc_type == logic.INVOICE else [])):
            if logic.tally_condition(doc_type, status) is not None:
                yield doc_type, status


def test_the_running_sums_answer_as_the_documents_do(books):
    """For every filter the running sums answer and every period (whole months, parts of months, open
    ends), the sums from document_tally are those read from the documents themselves."""
    assert [str(b) for b in run_checks(books.database_path)] == []
    day = run(today())
    compared = 0
    for doc_type, status in tallied_filters():
        lead = logic.list_lead(doc_type, status, client=False)
        for date_from, date_to in periods(day):
            filters = service._filters(doc_type, lead, status=status, client_id=None, date_from=date_from,
                                       date_to=date_to, today_=day)
            from_documents = run(service._sums(doc_type, filters))
            from_tally = run(service._tally_sums(doc_type, logic.tally_condition(doc_type, status) or "", lead,
                                                 status=status, date_from=date_from, date_to=date_to, today_=day))
            assert from_tally == from_documents, (doc_type, status, date_from, date_to)
            compared += bool(from_documents)
    assert compared > 10   # the demo's books are not empty under most filters


def test_a_list_counts_what_it_shows(books):
    """The count a list says is the number of rows its pages hold, whichever way its sums were made."""
    for doc_type, status in [("invoice", ""), ("invoice", "paid"), ("invoice", "open"), ("invoice", "overdue"),
                             ("quote", "accepted"), ("credit_note", "issued")]:
        listed = run(service.list_documents(doc_type, status=status, page=Page(page=1, per_page=500)))
        assert listed.total == len(listed.items), (doc_type, status)
        assert all(item.shown_status == status for item in listed.items) or status in ("", "open")


def test_every_page_holds_the_rows_in_order_from_either_end(books):
    """A page past the middle is read from the end in the other order: the pages, put together, are
    the whole list in its order, each row once."""
    for sort in service.SORTS:
        for descending in (True, False):
            whole = [item.id for item in run(service.list_documents(
                "invoice", sort=sort, descending=descending, page=Page(page=1, per_page=500))).items]
            paged = []
            for number in range(1, len(whole) // 7 + 2):
                paged += [item.id for item in run(service.list_documents(
                    "invoice", sort=sort, descending=descending, page=Page(page=number, per_page=7))).items]
            assert paged == whole, (sort, descending)


def test_a_document_written_in_plain_sql_is_counted(books):
    """The triggers keep the sums whatever writes: here plain SQL, as a restore or a bulk import might."""
    before = run(service.list_documents("invoice", status="paid")).total
    connection = sqlite3.connect(books.database_path)
    with sealed_writes(connection):
        connection.execute("UPDATE document SET paid_minor = total_minor - credited_minor WHERE id = ("
                           "SELECT min(id) FROM document WHERE doc_type = 'invoice' AND status IN ('issued', 'sent') "
                           "AND total_minor - paid_minor - credited_minor > 0 AND credited_minor = 0)")
    connection.commit()
    connection.close()
    assert run(service.list_documents("invoice", status="paid")).total == before + 1


def test_counterfoil_check_finds_running_sums_that_drifted(books):
    connection = sqlite3.connect(books.database_path)
    with sealed_writes(connection):
        connection.execute("UPDATE document_tally SET n = n + 1, total_minor = total_minor + 100 WHERE id = ("
                           "SELECT min(id) FROM document_tally WHERE doc_type = 'invoice' AND n > 0)")
    connection.commit()
    connection.close()
    found = [str(b) for b in run_checks(books.database_path)]
    assert len(found) == 1 and found[0].startswith("running sums of the invoice documents"), found
    assert "lists would show wrong counts and footers" in found[0]


def test_every_client_page_holds_the_clients_in_order_from_either_end(books):
    """The clients' pages past the middle are read from the end: put together, the whole list in order."""
    from app.clients import service as clients_service

    for sort in clients_service.SORTS:
        for descending in (False, True):
            whole = [c.id for c in run(clients_service.list_clients(status="all", sort=sort, descending=descending,
                                                                    page=Page(page=1, per_page=500))).items]
            paged = []
            for number in range(1, len(whole) // 3 + 2):
                paged += [c.id for c in run(clients_service.list_clients(
                    status="all", sort=sort, descending=descending, page=Page(page=number, per_page=3))).items]
            assert paged == whole and len(whole) > 3, (sort, descending)
