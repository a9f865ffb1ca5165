"""A broad search's exact sums in two parts of the money index, read beside its page on readers of one
snapshot (app.documents.service._broad_sums_and_page): whatever the split point (any key of the index,
a due date or none), the parts hold each document once, and the page, the count and the sums are those
of the rule (app.common.logic.matches) over every document; a commit between the reads changes none
of them.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.common.logic import Page
from app.config import Config
from app.documents import service
from tests.conftest import run, sealed_writes
from tests.http.test_documents_search import as_minor, expected
from tests.http.test_documents_search_varied import BOOK_SIZE, STATUSES, book, write_texts  # noqa: F401 (a fixture)

KEYS = st.tuples(st.sampled_from(["CAD", "EUR"]), st.sampled_from(["draft", "issued", "sent", "cancelled"]),
                 st.sampled_from(["", "CAD"]), st.sampled_from([None, "2026-01-05", "2026-02-01"]))
# The scans, forced (no candidates named by the index): the matching rows summed, and the rest subtracted.
SCANS = [(0, 2.0), (0, -1.0)]


def write_keys(config: Config, ids: list[int], keys: list[tuple[Any, ...]]) -> None:
    connection = sqlite3.connect(config.database_path)
    try:
        with sealed_writes(connection):
            # A document out of draft has a number (a CHECK): one is made up for a draft moved out of it.
            connection.executemany("UPDATE document SET currency = ?, status = ?, base_currency = ?, due_date = ?, "
                                   "number = coalesce(number, 'T-' || id) WHERE id = ?",
                                   [(*key, id_) for key, id_ in zip(keys, ids, strict=True)])
        connection.commit()
    finally:
        connection.close()


def listed(q: str, status: str = "", page: Page = Page(1, 500)) -> tuple[list[int], dict[str, tuple], int]:
    result = run(service.list_documents("invoice", q=q, status=status, page=page))
    return [row.id for row in result.items], {t.currency: (t.total, t.balance) for t in result.extra["totals"]}, \
        result.total


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(KEYS, min_size=BOOK_SIZE, max_size=BOOK_SIZE),
       texts=st.lists(st.sampled_from(["hosting", "host", "logo", "hosting logo", ""]), min_size=BOOK_SIZE,
                      max_size=BOOK_SIZE),
       point=st.one_of(st.none(), KEYS), per_page=st.sampled_from([2, 5, 500]))
def test_the_parts_of_any_split_hold_every_document_once(config, book, monkeypatch, keys, texts, point, per_page):
    write_keys(config, book, keys)
    write_texts(config, book, texts)

    async def split_at(doc_type: str) -> tuple[Any, ...] | None:
        return point

    monkeypatch.setattr(service, "_split_point", split_at)
    for limit, most in SCANS:
        monkeypatch.setattr(service, "SPARSE_LIMIT", limit)
        monkeypatch.setattr(service, "MOST", most)
        for status in ("", "paid", "draft"):
            for q in ("host", "logo", "hosting logo"):
                ids, sums = expected(config, "invoice", q, STATUSES.get(status, "1"))
                for number in range(1, max(1, -(-len(ids) // per_page)) + 1):
                    got_ids, got_sums, total = listed(q, status, Page(number, per_page))
                    assert total == len(ids), (q, status, keys, point)
                    assert got_ids == ids[(number - 1) * per_page:number * per_page], (q, status, number, keys, point)
                    assert as_minor(got_sums) == {c: (s[1], s[2]) for c, s in sums.items()}, (q, status, keys, point)


def test_a_split_point_is_found_at_the_middle_and_kept_while_the_book_stays_near_its_size(config, book, monkeypatch):
    monkeypatch.setattr(service, "SPLIT_FROM", 0)
    write_texts(config, book, ["hosting"] * BOOK_SIZE)
    point = run(service._split_point("invoice"))
    connection = sqlite3.connect(config.database_path)
    try:
        keys = connection.execute("SELECT currency, status, base_currency, due_date FROM document "
                                  "WHERE doc_type = 'invoice' ORDER BY 1, 2, 3, 4").fetchall()
    finally:
        connection.close()
    assert point is not None
    assert (point[0], point[1], point[2], None if point[3] is None else point[3].isoformat()) == keys[len(keys) // 2]
    monkeypatch.setattr(service, "SPLIT_FROM", 10_000)
    assert run(service._split_point("invoice")) == point   # the same number of documents: kept
    service._split_points.clear()
    assert run(service._split_point("invoice")) is None   # a small book: read whole


@pytest.mark.parametrize("number, per_page", [(1, 500), (1, 2), (4, 2), (6, 2)])
@pytest.mark.parametrize("most", [2.0, -1.0])
def test_a_commit_between_the_sums_and_the_page_changes_neither(config, book, monkeypatch, number, per_page, most):
    """The page is read beside the sums (page 1) or after them (past the middle, from the end): a commit
    in between (a matching document no longer matching) shows in the next answer, never in half of this one."""
    write_texts(config, book, ["hosting"] * BOOK_SIZE)
    monkeypatch.setattr(service, "SPLIT_FROM", 0)
    monkeypatch.setattr(service, "SPARSE_LIMIT", 0)
    monkeypatch.setattr(service, "MOST", most)
    ids, sums = expected(config, "invoice", "hosting")
    page_rows = service._page_rows
    committed: list[int] = []

    async def commit_first(*args: Any, **kwargs: Any) -> Any:
        if not committed:
            committed.append(ids[0])
            connection = sqlite3.connect(config.database_path)
            try:
                with sealed_writes(connection):
                    connection.execute("UPDATE document SET search_text = 'other' WHERE id = ?", (ids[0],))
                connection.commit()
            finally:
                connection.close()
        return await page_rows(*args, **kwargs)

    monkeypatch.setattr(service, "_page_rows", commit_first)
    got_ids, got_sums, total = listed("hosting", page=Page(number, per_page))
    assert committed
    assert (got_ids, total) == (ids[(number - 1) * per_page:number * per_page], len(ids))
    assert as_minor(got_sums) == {c: (s[1], s[2]) for c, s in sums.items()}
    after_ids, _, after_total = listed("hosting")
    assert (after_ids, after_total) == (ids[1:], len(ids) - 1)


@pytest.mark.parametrize("status", ["", "paid"])
@pytest.mark.parametrize("point", [("CAD", "issued", "CAD", "2025-11-28"), ("CAD", "sent", "", None)])
def test_each_part_seeks_its_range_of_the_money_index(config, monkeypatch, status, point):
    """Each part of the sums is a range of the money index that SQLite seeks, not a walk of every entry
    testing which part it belongs to (which would cost each part most of the whole)."""
    from tests.service.test_list_query_plans import plans_of

    async def broad(doc_type: str, query: Any) -> tuple[None, float, list[str]]:
        return None, 0.7, list(query.words)

    async def split_at(doc_type: str) -> tuple[Any, ...]:
        return point

    monkeypatch.setattr(service, "_probe", broad)
    monkeypatch.setattr(service, "_split_point", split_at)
    plans = plans_of(config, monkeypatch, lambda: service.list_documents(
        "invoice", status=status, q="hosting", sort="number", page=Page(page=1, per_page=25)))
    parts = [plan for query, plan in plans if "GROUP BY" in query and "document_tally" not in query and "search_tally" not in query]
    ranges = ["currency<?", "currency=? AND status<?", "currency=? AND status=? AND base_currency<?",
              "currency>?", "currency=? AND status>?"]
    if point[3]:
        ranges += ["currency=? AND status=? AND base_currency>?",
                   "currency=? AND status=? AND base_currency=? AND due_date<?",
                   "currency=? AND status=? AND base_currency=? AND due_date>?",
                   "currency=? AND status=? AND base_currency=? AND due_date=?"]   # IS NULL, as SQLite writes it
    else:
        ranges += ["currency=? AND status=? AND base_currency>?"]   # >=, as SQLite writes it
    assert sorted(line for plan in parts for line in plan if line.startswith("SEARCH")) == sorted(
        f"SEARCH document USING COVERING INDEX document_type_money (doc_type=? AND {r})" for r in ranges), parts
