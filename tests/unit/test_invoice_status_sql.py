"""The rules SQLite is asked to apply are the rules Python applies (DESIGN.md: a rule is written once).

Random invoices go into a real in-memory SQLite table shaped as `document` is (money in minor units,
dates as ISO text); on random days, every status filter of invoice_status_sql finds exactly the
invoices to which invoice_status gives that status, open_amount_sql computes balance(), and the aging
buckets of aging_bucket_sql are aging_bucket's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.documents.logic import (
    INVOICE_STATUSES,
    OPEN_FILTER,
    OWED_STATUSES,
    InvoiceColumns,
    balance,
    invoice_status,
    invoice_status_sql,
    open_amount_sql,
    open_invoice_terms_sql,
    owed_invoice_sql,
)
from app.receivables.logic import AGING_BUCKETS, aging_bucket, aging_bucket_sql

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31))


@dataclass(frozen=True)
class Invoice:
    status: str
    total: int
    paid: int
    credited: int
    issue_date: date
    due_date: date | None

    def shown(self, today: date) -> str:
        return invoice_status(self.status, total=Decimal(self.total), paid=Decimal(self.paid),
                              credited=Decimal(self.credited), due_date=self.due_date, today=today)


@st.composite
def invoices(draw: st.DrawFn) -> Invoice:
    """Totals, payments and credits in minor units, with the edges weighted in: nothing paid, paid exactly,
    paid too much, due today; a cancellation credits what was open, as the app does."""
    status = draw(st.sampled_from(["draft", "issued", "sent", "cancelled"]))
    total = draw(st.one_of(st.just(0), st.integers(min_value=1, max_value=100_000)))
    credited = draw(st.one_of(st.just(0), st.integers(min_value=0, max_value=total), st.just(total)))
    paid = draw(st.one_of(st.just(0), st.just(total - credited), st.integers(min_value=-50, max_value=total + 50)))
    if status == "cancelled":
        credited, paid = total, 0
    issue_date = draw(days)
    due_date = draw(st.one_of(st.none(), st.just(issue_date),
                              st.integers(min_value=0, max_value=120).map(lambda n: issue_date + timedelta(days=n))))
    return Invoice(status, total, paid, credited, issue_date, due_date)


@contextmanager
def table_of(rows: list[Invoice]) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE TABLE document (id INTEGER PRIMARY KEY, doc_type TEXT NOT NULL, status TEXT NOT NULL, "
                           "total_minor INTEGER NOT NULL, paid_minor INTEGER NOT NULL, credited_minor INTEGER NOT NULL, "
                           "issue_date TEXT NOT NULL, due_date TEXT)")
        connection.executemany(
            "INSERT INTO document (id, doc_type, status, total_minor, paid_minor, credited_minor, issue_date, due_date) "
            "VALUES (?, 'invoice', ?, ?, ?, ?, ?, ?)",
            [(i, row.status, row.total, row.paid, row.credited, row.issue_date.isoformat(),
              row.due_date.isoformat() if row.due_date else None) for i, row in enumerate(rows)])
        yield connection
    finally:
        connection.close()


def ids(connection: sqlite3.Connection, sql: str) -> set[int]:
    return {row[0] for row in connection.execute(sql)}


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(invoices(), min_size=1, max_size=30), today=days)
def test_every_status_filter_finds_the_invoices_python_gives_that_status(rows, today):
    with table_of(rows) as connection:
        for status in INVOICE_STATUSES:
            expected = {i for i, row in enumerate(rows) if row.shown(today) == status}
            assert ids(connection, f"SELECT id FROM document WHERE {invoice_status_sql(status, today)}") == expected, status
            qualified = invoice_status_sql(status, today, InvoiceColumns.of("d"))
            assert ids(connection, f"SELECT d.id FROM document d WHERE {qualified}") == expected, status
        owed = {i for i, row in enumerate(rows) if row.shown(today) in OWED_STATUSES}
        assert ids(connection, f"SELECT id FROM document WHERE {invoice_status_sql(OPEN_FILTER, today)}") == owed
        assert ids(connection, f"SELECT id FROM document WHERE {owed_invoice_sql()}") == owed
        # Every invoice has exactly one status: the filters split the table.
        assert sum(len(ids(connection, f"SELECT id FROM document WHERE {invoice_status_sql(status, today)}"))
                   for status in INVOICE_STATUSES) == len(rows)


@given(rows=st.lists(invoices(), min_size=1, max_size=30))
def test_the_open_amount_in_sql_is_the_balance(rows):
    with table_of(rows) as connection:
        found = dict(connection.execute(f"SELECT id, {open_amount_sql()} FROM document"))
    assert found == {i: balance(Decimal(row.total), Decimal(row.paid), Decimal(row.credited))
                     for i, row in enumerate(rows)}


@given(rows=st.lists(invoices(), min_size=1, max_size=30), as_of=days)
def test_the_aging_buckets_in_sql_are_aging_bucket(rows, as_of):
    with table_of(rows) as connection:
        for bucket in AGING_BUCKETS:
            expected = {i for i, row in enumerate(rows) if aging_bucket(row.due_date, as_of) == bucket}
            assert ids(connection, f"SELECT id FROM document WHERE {aging_bucket_sql(bucket, as_of)}") == expected


def test_the_open_filter_is_written_as_the_partial_index_of_open_invoices():
    """The aging report reads `document INDEXED BY document_open_invoice`: SQLite uses a partial index only
    when the query's WHERE has each term of the index's WHERE, so owed_invoice_sql must keep its shape."""
    from app.documents.tables import EXTRA_SQL

    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE TABLE document (id INTEGER PRIMARY KEY, doc_type TEXT, status TEXT, client INTEGER, "
                           "currency TEXT, total_minor INTEGER, paid_minor INTEGER, credited_minor INTEGER, "
                           "issue_date TEXT, due_date TEXT, base_currency TEXT, total_base_minor INTEGER, number TEXT, "
                           "search_text TEXT)")
        connection.execute(EXTRA_SQL["document_open_invoice"])
        connection.execute(f"SELECT id FROM document INDEXED BY document_open_invoice WHERE doc_type = 'invoice' "
                           f"AND {owed_invoice_sql()}").fetchall()
        # The lists' own terms (the open invoices' lists read that index alone).
        connection.execute(f"SELECT id FROM document INDEXED BY document_open_invoice "
                           f"WHERE {open_invoice_terms_sql()}").fetchall()
        with pytest.raises(sqlite3.OperationalError, match="no query solution"):
            connection.execute("SELECT id FROM document INDEXED BY document_open_invoice WHERE doc_type = 'invoice'")
    finally:
        connection.close()


def test_an_unknown_status_and_a_timestamp_are_refused():
    from datetime import datetime

    with pytest.raises(ValueError, match="unknown invoice status"):
        invoice_status_sql("lost", date(2026, 1, 1))
    with pytest.raises(TypeError):
        invoice_status_sql("overdue", datetime(2026, 1, 1, 12, 0))
