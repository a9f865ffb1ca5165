"""Issue 21 point 1, without timing: every query a list makes, for every combination of its filters
and sorts, is answered through an index, as SQLite's EXPLAIN QUERY PLAN says. A full SCAN of the
documents (or of lines, clients, payments) reads all 100,000 of them; a plan that walks an index in
the wrong order reads as many. The plans do not depend on the data: the database keeps no statistics
(no sqlite_stat1), so an empty test database is planned as a large one is.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest

from app.common.logic import Page
from app.config import Config
from app.db.engine import CounterfoilEngine, on_connect_statements
from app.documents import logic as documents_logic
from app.documents import service as documents_service
from tests.conftest import run

BIG_TABLES = ("document", "document_line", "client", "payment", "ledger_entry", "expense")
# Words for the search: a rare one (the trigram index names the few rows), a short one (one or two
# letters, looked up in the narrow index), and two words.
SEARCHES = ("", "hosting", "zo", "client 4217")
PERIODS = ((None, None), (date(2021, 1, 1), date(2021, 12, 31)), (date(2021, 1, 1), None))


@pytest.fixture(autouse=True)
def a_large_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every list holds 100,000 documents, as in the benchmark's folder: its pages are read (an empty
    list reads none) and a page past the middle is read from the end."""
    monkeypatch.setattr(documents_service, "_count", lambda sums: 100_000)


def reads_running_sums(query: str) -> bool:
    """A read of the running sums (document_tally, a kept search's search_tally), not of the documents."""
    return "document_tally" in query or "search_tally" in query


def plans_of(config: Config, monkeypatch: pytest.MonkeyPatch, call: Callable[[], Awaitable[Any]]) -> list[tuple[str, list[str]]]:
    """Each read `call` makes with its query plan's lines (the reads outside a transaction go through
    CounterfoilEngine._run_in_new_connection)."""
    seen: list[tuple[str, list[Any]]] = []
    original = CounterfoilEngine._run_in_new_connection

    async def spy(self, query, args=None, query_type="generic", table=None):  # type: ignore[no-untyped-def]
        seen.append((query, list(args or [])))
        return await original(self, query, args, query_type, table)

    monkeypatch.setattr(CounterfoilEngine, "_run_in_new_connection", spy)
    try:
        run(call())
    finally:
        monkeypatch.setattr(CounterfoilEngine, "_run_in_new_connection", original)
    connection = sqlite3.connect(config.database_path)
    for statement in on_connect_statements():   # the search index's vocabulary, as on the engine's connections
        connection.execute(statement)
    try:
        return [(query, [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {query}", args)])
                for query, args in seen if query.lstrip().upper().startswith("SELECT")]
    finally:
        connection.close()


def whole_table_reads(plan: list[str]) -> list[str]:
    """The lines of a plan that read a big table whole: a SCAN without an index, or a SCAN of the
    documents through any index but the partial one of open invoices (a few percent of them)."""
    out = []
    for line in plan:
        found = re.match(r"SCAN (\w+)(?: AS \w+)?(.*)", line)
        if found is None or found.group(1) not in BIG_TABLES:
            continue
        rest = found.group(2)
        if "USING" not in rest or (found.group(1) == "document" and "document_open_invoice" not in rest):
            out.append(line)
    return out


@pytest.mark.parametrize("doc_type", documents_logic.TYPES)
def test_every_document_list_query_reads_through_an_index(config, monkeypatch, doc_type):
    statuses = ["", *documents_logic.STATUSES[doc_type], *(["open"] if doc_type == "invoice" else [])]
    problems: dict[str, list[str]] = {}
    sorts = list(documents_service.SORTS)
    combinations = [(*filters, sorts[n % len(sorts)], (1, 20)[n % 2]) for n, filters in enumerate(
        itertools.product(statuses, (None, 42), PERIODS, SEARCHES))]   # each sort and page taken in turn
    combinations += [("", None, (None, None), "", sort, page) for sort in sorts for page in (1, 20)]
    for status, client_id, (date_from, date_to), q, sort, page in combinations:
        def listing(status=status, client_id=client_id, date_from=date_from, date_to=date_to, q=q, sort=sort,
                    page=page) -> Awaitable[Any]:
            return documents_service.list_documents(doc_type, status=status, client_id=client_id, date_from=date_from,
                                                    date_to=date_to, q=q, sort=sort, page=Page(page=page, per_page=25))
        for query, plan in plans_of(config, monkeypatch, listing):
            if "document" in query and whole_table_reads(plan):
                problems.setdefault(" ".join(query.split())[:400], whole_table_reads(plan))
    assert problems == {}


@pytest.mark.parametrize(("doc_type", "status", "client_id", "index"), [
    ("invoice", "", 42, "document_client"),
    ("invoice", "overdue", 42, "document_client"),
    ("invoice", "draft", None, "document_status_type"),
    ("invoice", "cancelled", None, "document_status_type"),
    ("quote", "accepted", None, "document_status_type"),
    ("credit_note", "issued", None, "document_status_type"),   # not among 90,000 issued invoices
    ("invoice", "overdue", None, "document_open_invoice"),
    ("invoice", "open", None, "document_open_invoice"),
    ("invoice", "partial", None, "document_open_invoice"),
])
def test_the_most_selective_filter_leads(config, monkeypatch, doc_type, status, client_id, index):
    """The page of a client's documents, of the drafts or of the open invoices reads those rows, not the
    date index from its start (which is what SQLite, knowing nothing of the data, would choose)."""
    plans = plans_of(config, monkeypatch, lambda: documents_service.list_documents(
        doc_type, status=status, client_id=client_id, page=Page(page=20, per_page=25)))
    page_plan = next(plan for query, plan in plans if "LIMIT" in query and "document" in query)
    assert any(index in line for line in page_plan), page_plan


SORT_INDEXES = {"date": "document_type_date", "total": "document_type_total", "due": "document_type_due",
                "number": "document_type_number", "client": "client_name"}


@pytest.mark.parametrize("status", ["", "paid"])
@pytest.mark.parametrize("period", [(None, None), (date(2021, 3, 5), None)])
@pytest.mark.parametrize("page", [1, 2000, 3999])
@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("sort", list(SORT_INDEXES))
def test_a_whole_list_is_sorted_by_walking_an_index(config, monkeypatch, sort, descending, page, period, status):
    """Every sort of the whole list, of the paid invoices and of a long period, on the first, a middle
    and the last page, in either direction: the page's ids are read walking the sort's index (the client
    names' index, then each client's documents), no sort of 100,000 rows and no read of their rows."""
    plans = plans_of(config, monkeypatch, lambda: documents_service.list_documents(
        "invoice", status=status, date_from=period[0], date_to=period[1], sort=sort, descending=descending,
        page=Page(page=page, per_page=25)))
    page_plan = next(plan for query, plan in plans if "LIMIT" in query and "document" in query)
    assert any(SORT_INDEXES[sort] in line for line in page_plan), page_plan
    assert not any("TEMP B-TREE FOR ORDER BY" in line for line in page_plan), page_plan
    assert all("COVERING" in line for line in page_plan if line.startswith(("SCAN document", "SEARCH document"))
               and "INTEGER PRIMARY KEY" not in line), page_plan


@pytest.mark.parametrize("status", ["open", "overdue", "partial", "issued", "sent"])
def test_the_open_invoices_lists_read_their_partial_index_alone(config, monkeypatch, status):
    """A list of open invoices (a few percent of them) reads the partial index of open invoices, which
    carries every column it filters, sums and sorts by: never a document's row."""
    for sort in documents_service.SORTS:
        plans = plans_of(config, monkeypatch, lambda sort=sort: documents_service.list_documents(
            "invoice", status=status, sort=sort, page=Page(page=20, per_page=25)))
        for query, plan in plans:
            if "document" in query and not reads_running_sums(query) and "json_each" not in query \
                    and not query.lstrip().startswith('SELECT ALL "document"."id" AS "id", "document"."doc_type"'):
                reads = [line for line in plan if line.startswith(("SCAN document", "SEARCH document"))]
                assert reads and all("COVERING INDEX document_open_invoice" in line for line in reads), (sort, plan)


@pytest.mark.parametrize("client_id", [42, None])
def test_a_clients_open_invoices_are_read_by_the_client(config, monkeypatch, client_id):
    """The ledger page's open invoices of one client, ordered by due date: the client's rows (or the partial
    index of open invoices for all of them), never an index of every invoice walked in due order."""
    from app.receivables import service as receivables_service

    plans = plans_of(config, monkeypatch, lambda: receivables_service.open_invoices(client_id))
    plan = next(plan for query, plan in plans if "document" in query)
    if client_id:   # the client's rows: through the client index, or the open invoices' (which leads by client)
        assert any("client=?" in line and ("document_client" in line or "document_open_invoice" in line)
                   for line in plan), plan
    else:
        assert any("document_open_invoice" in line for line in plan), plan


def test_other_lists_read_through_an_index(config, monkeypatch):
    from app.clients import service as clients_service
    from app.payments import service as payments_service

    calls: list[Callable[[], Awaitable[Any]]] = [
        *(lambda q=q, page=page: clients_service.list_clients(q=q, page=Page(page=page, per_page=25))
          for q, page in itertools.product(("", "client 42", "555 0199"), (1, 150))),
        *(lambda client_id=client_id, date_from=date_from, date_to=date_to, page=page: payments_service.list_payments(
            client_id=client_id, date_from=date_from, date_to=date_to, page=Page(page=page, per_page=25))
          for client_id, (date_from, date_to), page in itertools.product((None, 42), PERIODS, (1, 20))),
    ]
    problems = {}
    for call in calls:
        for query, plan in plans_of(config, monkeypatch, call):
            if whole_table_reads(plan):
                problems[" ".join(query.split())[:300]] = whole_table_reads(plan)
    assert problems == {}


def test_the_newest_clients_are_read_walking_an_index(config, monkeypatch):
    """The dashboard's newest clients: the index of a status' clients in order of creation, walked from its
    end, not every active client sorted (10,000 clients: 3.7 ms at each first view after a change)."""
    from app.clients import service as clients_service

    ((_query, plan),) = plans_of(config, monkeypatch, clients_service.recent_clients)
    assert not any("TEMP B-TREE" in line for line in plan), plan
    assert any("client_status_created" in line for line in plan), plan


PAYMENT_PERIODS = (*PERIODS, (date(2021, 3, 5), None), (date(2021, 3, 5), date(2022, 7, 9)))


@pytest.mark.parametrize("client_id", [None, 42])
def test_every_payments_list_query_reads_through_an_index(config, monkeypatch, client_id):
    """The payments list (issue 21), every method x state x period, a client's or the whole book's: its
    sums read payment_tally and the days around whole months through an index; a page of a list of
    100,000 payments, first, middle or last, reads its ids walking the index of its filters in date
    order (no sort of the rows, none read whole); a client's few payments are found by the client."""
    from app.payments import logic as payments_logic
    from app.payments import service as payments_service

    async def many(*args: Any, **kwargs: Any) -> dict[tuple[str, str], tuple[int, int]]:
        return {("CAD", "live"): (100_000, 1)}

    async def uncached(key: Any, compute: Callable[[], Awaitable[Any]]) -> Any:
        return await compute()

    monkeypatch.setattr(payments_service, "cached", uncached)

    problems: dict[str, list[str]] = {}
    for method, state, (date_from, date_to) in itertools.product(("", "card"), ("", "live", "reversed"),
                                                                 PAYMENT_PERIODS):
        def listing(page: int = 1, method=method, state=state, date_from=date_from, date_to=date_to
                    ) -> Awaitable[Any]:
            return payments_service.list_payments(client_id=client_id, method=method, state=state,
                                                  date_from=date_from, date_to=date_to,
                                                  page=Page(page=page, per_page=50))
        for query, plan in plans_of(config, monkeypatch, listing):
            if whole_table_reads(plan):
                problems[" ".join(query.split())[:300]] = whole_table_reads(plan)
        index = payments_logic.list_index(client=client_id is not None, invoice=False, method=bool(method),
                                          state=bool(state))
        for page in (1, 1000, 1999):
            with monkeypatch.context() as patched:
                patched.setattr(payments_service, "_sums", many)
                patched.setattr(payments_service, "_tally_sums", many)
                plans = plans_of(config, patched, lambda page=page, listing=listing: listing(page))
            page_plan = next(plan for query, plan in plans if "LIMIT" in query and "payment" in query)
            assert any(f"USING COVERING INDEX {index}" in line or f"USING INDEX {index}" in line
                       for line in page_plan), (method, state, date_from, date_to, page_plan)
            if client_id is None:
                assert not any("TEMP B-TREE" in line for line in page_plan), page_plan
                assert all("COVERING" in line for line in page_plan if line.startswith(("SCAN", "SEARCH"))), page_plan
    assert problems == {}


def test_a_clients_credit_is_summed_from_the_clients_own_rows(config, monkeypatch):
    """The client page and the ledger page sum a client's credit: the client's payments and credit notes,
    never every live payment or every issued credit note of the currency."""
    from app.payments import service as payments_service

    plans = plans_of(config, monkeypatch, lambda: payments_service.available_credit(42, "CAD"))
    (plan,) = [plan for query, plan in plans]
    searches = [line for line in plan if line.lstrip("|`- ").startswith(("SEARCH", "SCAN"))]
    assert any("payment USING INDEX payment_client (client=?)" in line for line in plan), plan
    assert any("document USING INDEX document_client_type (client=? AND doc_type=?)" in line for line in plan), plan
    assert all("client=?" in line for line in searches if "CONSTANT ROW" not in line), plan


def document_reads(plan: list[str]) -> list[str]:
    """The lines of a plan that read the documents, but for the rows of a page fetched by their ids."""
    return [line for line in plan if line.startswith(("SCAN document", "SEARCH document"))
            and "INTEGER PRIMARY KEY" not in line]


@pytest.mark.parametrize("status", ["", "paid", "draft", "cancelled", "overdue", "open"])
@pytest.mark.parametrize("sort", list(SORT_INDEXES))
def test_a_broad_search_is_read_from_the_indexes_alone(config, monkeypatch, sort, status):
    """A word in most documents ("hosting"), on a deep page, with its count and sums (the API) and without
    them (the page): every read of the documents is an index carrying the search text (the sort's, the
    status', the open invoices', the narrow money index), never their rows, which are a page read each."""
    async def broad(doc_type: str, query: Any) -> tuple[None, float, list[str]]:
        return None, 0.7, list(query.words)

    monkeypatch.setattr(documents_service, "_probe", broad)
    for totals in (False, True):
        plans = plans_of(config, monkeypatch, lambda totals=totals: documents_service.list_documents(
            "invoice", status=status, q="hosting", sort=sort, page=Page(page=1405, per_page=25), totals=totals))
        for query, plan in plans:
            if "document" in query and not reads_running_sums(query):
                assert all("COVERING INDEX" in line for line in document_reads(plan)), (totals, query, plan)
            if "GROUP BY" in query and not reads_running_sums(query):   # the sums: the money index's own columns
                assert not any("SUBQUERY" in line for line in plan), (query, plan)


@pytest.mark.parametrize("status", ["", "paid"])
@pytest.mark.parametrize("page", [1, 2000, 3999])
@pytest.mark.parametrize("sort", ["date", "total"])
def test_a_search_of_fewer_than_half_seeks_its_span_in_the_sorts_index(config, monkeypatch, sort, page, status):
    """A broad search that fewer than half the documents match ("b-2021", a year of ten): its sums are read
    from the money index with the lowest and highest date (or total) found, and the page walks the sort's
    index from there (a range of it, never from its start), in either direction."""
    async def broad(doc_type: str, query: Any) -> tuple[None, float, list[str]]:
        return None, 0.1, list(query.words)

    async def spanned(*args: Any, **kwargs: Any) -> Any:
        sums, _span = await span(*args, **kwargs)
        return sums, ("2021-01-01", "2021-12-31") if sort == "date" else (100, 100_000)

    span = documents_service._sums_and_span
    monkeypatch.setattr(documents_service, "_probe", broad)
    monkeypatch.setattr(documents_service, "_sums_and_span", spanned)
    for descending in (True, False):
        plans = plans_of(config, monkeypatch, lambda descending=descending: documents_service.list_documents(
            "invoice", status=status, q="b-2021", sort=sort, descending=descending, page=Page(page=page, per_page=25)))
        page_plan = next(plan for query, plan in plans if "LIMIT" in query and "document" in query)
        column = documents_service.SORTS[sort]
        assert any(f"COVERING INDEX {SORT_INDEXES[sort]} (doc_type=? AND {column}>? AND {column}<?)" in line
                   for line in page_plan), page_plan
        assert not any("TEMP B-TREE" in line for line in page_plan), page_plan
        if descending:   # then kept until the data changes
            sums_plan = next(plan for query, plan in plans if "GROUP BY" in query and not reads_running_sums(query))
            assert any("COVERING INDEX document_type_money" in line for line in sums_plan), sums_plan


@pytest.mark.parametrize("status", ["", "paid", "draft"])
@pytest.mark.parametrize("sort", ["total", "due", "number"])
def test_a_periods_page_is_sorted_from_the_date_index(config, monkeypatch, sort, status):
    """A year of 100,000 documents (9,000 of them, here): its rows are read from the date index, which
    carries every sort's column, and sorted; no walk of another sort's index from its start."""
    monkeypatch.setattr(documents_service, "_count", lambda sums: 9000)
    plans = plans_of(config, monkeypatch, lambda: documents_service.list_documents(
        "invoice", status=status, date_from=date(2021, 1, 1), date_to=date(2021, 12, 31), sort=sort,
        page=Page(page=188, per_page=25)))
    page_plan = next(plan for query, plan in plans if "LIMIT" in query and "document" in query)
    index = "document_status_type" if status == "draft" else "document_type_date"
    assert any(f"COVERING INDEX {index}" in line for line in page_plan), page_plan
    assert all("COVERING INDEX" in line for line in document_reads(page_plan)), page_plan


@pytest.mark.parametrize("q", ["", "hosting"])
@pytest.mark.parametrize("sort", list(SORT_INDEXES))
@pytest.mark.parametrize(("doc_type", "status"), [("invoice", "draft"), ("invoice", "cancelled"), ("quote", "accepted"),
                                                  ("quote", "expired"), ("quote", "issued"), ("credit_note", "issued")])
def test_a_stored_status_is_read_sorted_and_summed_from_its_index(config, monkeypatch, doc_type, status, sort, q):
    """The drafts (a few hundred of 100,000) in any order, searched or not: their page and sums are read
    from the status index, which carries what they sort, sum and search by."""
    async def broad(doc_type: str, query: Any) -> tuple[None, float, list[str]]:
        return None, 0.3, list(query.words)

    monkeypatch.setattr(documents_service, "_probe", broad)
    monkeypatch.setattr(documents_service, "_count", lambda sums: 500)
    plans = plans_of(config, monkeypatch, lambda: documents_service.list_documents(
        doc_type, status=status, q=q, sort=sort, page=Page(page=11, per_page=25)))
    for query, plan in plans:
        if "document" in query and not reads_running_sums(query):
            reads = document_reads(plan)
            assert all("COVERING INDEX document_status_type" in line for line in reads), (query, plan)
