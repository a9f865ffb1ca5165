"""Document search on varied texts (hypothesis): whichever way the service finds the rows (the trigram
index naming a few, a short word's trigrams read from the index's vocabulary, or a walk and a scan
of the narrow indexes), the page, the count and the sums are those of the rule
app.common.logic.matches applied to every document's search text, read straight from the file.

The texts are written in plain SQL (the index follows through its triggers), so one book of
invoices serves every example: short texts, words at the very end of a text, repeated letters,
accents and spaces.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.clients import service as clients_service
from app.common.logic import Page, matches, parse_search
from app.config import Config
from app.documents import service
from app.integrity.service import run_checks
from app.payments import service as payments_service
from tests.conftest import run, sealed_writes
from tests.http.test_documents_search import as_minor, expected, line

BOOK_SIZE = 12
# A sparse limit of 4000 (the index names the rows), of 0 (every search walks and scans), and a
# short word never taken for common, so that its trigrams are read from the vocabulary.
PATHS = [(4000, 0.5, 0.02), (0, 2.0, 0.02), (0, -1.0, 0.02), (4000, 0.5, 1.0), (2, 0.5, 1.0)]
LETTERS = "abzoe é-1*?["   # with GLOB's own characters: a scan tests each word with GLOB
OWED = "status IN ('issued', 'sent') AND total_minor - paid_minor - credited_minor"
STATUSES = {"draft": "status = 'draft'", "paid": f"{OWED} <= 0", "open": f"{OWED} > 0"}


@pytest.fixture
def book(config: Config) -> list[int]:
    client = run(clients_service.create_client({"name": "Varied", "currency": "CAD"}))
    made = [run(service.create_document("invoice", {"client_id": client.id, "lines": [line(f"Line {n}", f"{n}.00")]}))
            for n in range(1, BOOK_SIZE + 1)]
    for document in made[::2]:
        run(service.issue(document.id))
    for document in made[:6:2]:   # three paid in full, one in part
        run(payments_service.record_payment(document.id, {"amount": str(document.total)}))
    run(payments_service.record_payment(made[6].id, {"amount": "1.00"}))
    return [document.id for document in made]


def write_texts(config: Config, ids: list[int], texts: list[str]) -> None:
    connection = sqlite3.connect(config.database_path)
    try:
        with sealed_writes(connection):
            connection.executemany("UPDATE document SET search_text = ? WHERE id = ?", list(zip(texts, ids, strict=True)))
        connection.commit()
    finally:
        connection.close()


def listed(q: str, **filters: Any) -> tuple[list[int], dict[str, tuple], int]:
    result = run(service.list_documents("invoice", q=q, page=Page(1, 500), **filters))
    return [row.id for row in result.items], {t.currency: (t.total, t.balance) for t in result.extra["totals"]}, \
        result.total


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(LETTERS, max_size=9), min_size=BOOK_SIZE, max_size=BOOK_SIZE),
       queries=st.lists(st.lists(st.text(LETTERS.replace(" ", ""), min_size=1, max_size=4), min_size=1, max_size=2)
                        .map(" ".join), min_size=1, max_size=4))
def test_every_path_finds_what_the_rule_finds_on_any_text(config, book, monkeypatch, texts, queries):
    write_texts(config, book, texts)
    for limit, most, common in PATHS:
        monkeypatch.setattr(service, "SPARSE_LIMIT", limit)
        monkeypatch.setattr(service, "MOST", most)
        monkeypatch.setattr(service, "COMMON", common)
        for q in queries:
            ids, sums = expected(config, "invoice", q)
            got_ids, got_sums, total = listed(q)
            assert (got_ids, total) == (ids, len(ids)), (q, texts, limit, common)
            assert as_minor(got_sums) == {c: (s[1], s[2]) for c, s in sums.items()}, (q, texts)
            for status, status_sql in STATUSES.items():
                ids, sums = expected(config, "invoice", q, status_sql)
                got_ids, got_sums, total = listed(q, status=status)
                assert (got_ids, total) == (ids, len(ids)), (status, q, texts, limit, common)
                assert as_minor(got_sums) == {c: (s[1], s[2]) for c, s in sums.items()}, (status, q, texts)


def test_a_short_word_is_named_by_its_trigrams(config, book, monkeypatch):
    """A word of one or two letters at the very end of a text, or making up all of it, is found through
    the vocabulary of the index (the two spaces after each text make its trigram)."""
    write_texts(config, book, ["zz", "a zo", "zoo", "q", "", "bq", *["nothing"] * (BOOK_SIZE - 6)])
    monkeypatch.setattr(service, "COMMON", 1.0)
    asked: list[str] = []
    terms = service._short_word_terms

    async def spy(doc_type: str, word: str) -> tuple[list[str] | None, float]:
        found = await terms(doc_type, word)
        asked.append(word)
        assert found[0] is not None, word
        return found

    monkeypatch.setattr(service, "_short_word_terms", spy)
    assert set(listed("zo")[0]) == {book[1], book[2]}
    assert set(listed("q")[0]) == {book[3], book[5]}
    assert set(listed("z")[0]) == {book[0], book[1], book[2]}
    assert listed("qq")[0] == []
    assert asked == ["zo", "q", "z", "qq"]


def tampered(config: Config, *statements: str) -> list[str]:
    connection = sqlite3.connect(config.database_path)
    try:
        with sealed_writes(connection):
            for statement in statements:
                connection.execute(statement)
        connection.commit()
    finally:
        connection.close()
    return [str(found) for found in run_checks(config.database_path)]


def test_counterfoil_check_compares_the_search_index_with_the_texts(config, book):
    # A long text's count of trigrams takes two bytes in the index.
    write_texts(config, book, ["zz", "a zo", "zoo", "q", "", "bq", "long text " * 40, *["nothing"] * (BOOK_SIZE - 7)])
    assert run_checks(config.database_path) == []
    # A document taken out of the index: searches no longer find it.
    found = tampered(config, "INSERT INTO document_search (document_search, rowid, search_text) "
                             f"SELECT 'delete', id, search_text || '  ' FROM document WHERE id = {book[2]}")
    assert found == [f"document {book[2]}: is missing from the search index: searches do not find it"], found
    write_texts(config, book[2:3], ["zoo again"])   # the update's trigger puts it back, with its new text
    assert run_checks(config.database_path) == []
    # The index no longer kept by its trigger: a changed text is found by what it no longer says.
    found = tampered(config, "DROP TRIGGER document_search_update",
                     f"UPDATE document SET search_text = 'zzz' WHERE id = {book[2]}")
    assert found == [f"document {book[2]}: has 9 trigrams in the search index for the 3 of its text: searches find "
                     "it by what it no longer says"], found
    # The same number of letters: the trigrams tell.
    found = tampered(config, f"UPDATE document SET search_text = 'zoo again' WHERE id = {book[2]}",
                     f"UPDATE document SET search_text = 'x' WHERE id = {book[3]}")
    assert found == ["search index: trigrams out of step with the documents' texts: 'q  ' 2 times for 1, "
                     "'x  ' 0 times for 1"], found


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(LETTERS, max_size=9), min_size=BOOK_SIZE, max_size=BOOK_SIZE),
       q=st.text(LETTERS.replace(" ", ""), min_size=1, max_size=3))
def test_every_page_of_a_scanned_search_in_each_order_is_the_rules(config, book, monkeypatch, texts, q):
    """A search scanned, not named by the index, with fewer than half the rows matching: the page's walk
    starts at the lowest or highest date or total its sums found (service._sums_and_span). Page after page,
    in each order, the rows are those the rule finds, in that order."""
    write_texts(config, book, texts)
    monkeypatch.setattr(service, "SPARSE_LIMIT", 0)
    monkeypatch.setattr(service, "MOST", 2.0)
    monkeypatch.setattr(service, "COMMON", 0.0)
    connection = sqlite3.connect(config.database_path)
    try:
        rows = connection.execute("SELECT id, search_text, issue_date, total_minor FROM document "
                                  "WHERE doc_type = 'invoice'").fetchall()
    finally:
        connection.close()
    found = [row for row in rows if matches(parse_search(q), row[1])]
    for sort, key in (("date", 2), ("total", 3)):
        for descending in (True, False):
            want = [row[0] for row in sorted(found, key=lambda row: (row[key], row[0]), reverse=descending)]
            got: list[int] = []
            for number in range(1, len(book) // 3 + 2):
                result = run(service.list_documents("invoice", q=q, sort=sort, descending=descending,
                                                    page=Page(number, 3)))
                assert result.total == len(want), (sort, q, texts)
                got += [row.id for row in result.items]
            assert got == want, (sort, descending, q, texts)
