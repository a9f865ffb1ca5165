"""The kept sums of broad searches (search_term, search_tally; issue 21): made from the documents, kept by
triggers through every write whatever writes, read by the lists for their count and footer exactly as the
documents give them, bounded in number, and checked by `counterfoil check`."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.common.logic import Page
from app.config import Config
from app.documents import service
from app.integrity.service import run_checks
from tests.conftest import run, sealed_writes
from tests.http.test_documents_search import as_minor, expected
from tests.http.test_documents_search_varied import BOOK_SIZE, STATUSES, book, write_texts  # noqa: F401 (a fixture)
from tests.service.test_broad_search_parts import KEYS, write_keys

SEARCHES = ["host", "logo", "hosting logo"]
TEXTS = st.sampled_from(["hosting", "host", "logo", "hosting logo", "", "h*st [logo]"])


@pytest.fixture
def broad(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every search read as a broad one (the search index names no candidates), as at 100,000 documents."""
    monkeypatch.setattr(service, "SPARSE_LIMIT", 0)


def kept_ids(config: Config) -> dict[str, int]:
    connection = sqlite3.connect(config.database_path)
    try:
        return dict(connection.execute("SELECT words, id FROM search_term").fetchall())
    finally:
        connection.close()


def search_tally_breaks(config: Config) -> list[str]:
    """What `counterfoil check` says of the kept sums (plain SQL that moves money leaves the ledger behind: the
    other checks would say so)."""
    from app.integrity.service import _search_tally_breaks

    connection = sqlite3.connect(config.database_path)
    try:
        return [str(b) for b in _search_tally_breaks(connection)]
    finally:
        connection.close()


def listed(q: str, status: str = "", page: Page = Page(1, 500), **filters: Any) -> tuple[list[int], dict, int]:
    result = run(service.list_documents("invoice", q=q, status=status, page=page, **filters))
    return [row.id for row in result.items], as_minor({t.currency: (t.total, t.balance)
                                                       for t in result.extra["totals"]}), result.total


def assert_lists_as_the_documents(config: Config) -> None:
    for status in ("", "paid", "draft", "open"):
        for q in SEARCHES:
            ids, sums = expected(config, "invoice", q, STATUSES.get(status, "1"))
            got_ids, got_sums, total = listed(q, status)
            assert (got_ids, total) == (ids, len(ids)), (q, status)
            assert got_sums == {c: (s[1], s[2]) for c, s in sums.items()}, (q, status)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(KEYS, min_size=BOOK_SIZE, max_size=BOOK_SIZE),
       before=st.lists(TEXTS, min_size=BOOK_SIZE, max_size=BOOK_SIZE),
       after=st.lists(TEXTS, min_size=BOOK_SIZE, max_size=BOOK_SIZE))
def test_kept_sums_follow_every_write_and_answer_as_the_documents_do(config, book, broad, keys, before, after):
    """Kept before the texts, currencies, statuses and due dates change in plain SQL (the triggers keep them
    whatever writes), the sums a list reads from search_tally are those of the rule over every document, and
    `counterfoil check` finds nothing to say."""
    write_texts(config, book, before)
    for q in SEARCHES:
        run(service.keep_search_sums(service.parse_search(q).words))
    write_keys(config, book, keys)
    write_texts(config, book, after)
    assert search_tally_breaks(config) == []
    assert set(kept_ids(config)) == {"host", "logo", "hosting logo"}
    assert_lists_as_the_documents(config)


def test_kept_sums_follow_the_services_writes_and_deletes(config, book, broad):
    """Payments, issuing, a draft deleted and a new one: each moves the kept sums in its own transaction."""
    from app.payments import service as payments_service

    write_texts(config, book, ["hosting"] * BOOK_SIZE)
    run(service.keep_search_sums(("host",)))
    drafts = [row.id for row in run(service.list_documents("invoice", status="draft", page=Page(1, 500))).items]
    run(service.issue(drafts[0]))
    run(payments_service.record_payment(drafts[0], {"amount": "1.00"}))
    run(service.delete_draft(drafts[1]))
    assert [str(b) for b in run_checks(config.database_path)] == []
    ids, sums = expected(config, "invoice", "host")
    assert listed("host")[0] == ids and listed("host")[1] == {c: (s[1], s[2]) for c, s in sums.items()}


def test_a_period_reads_its_whole_months_from_the_kept_sums_and_its_edges_from_the_documents(config, book, broad):
    """A period's list of a kept search (whole months from search_tally, the days around them from the documents)
    is the list read from the documents before the search was kept."""
    write_texts(config, book, ["hosting", "logo"] * (BOOK_SIZE // 2))
    day = date.today()
    periods = [(day - timedelta(days=400), None), (None, day + timedelta(days=40)),
               (day.replace(day=1) - timedelta(days=70), day - timedelta(days=1)), (day, day), (None, None)]
    cases = [(status, first, last) for status in ("", "paid", "draft") for first, last in periods]
    read = [listed("host", status, date_from=first, date_to=last) for status, first, last in cases]
    assert sum(bool(total) for _ids, _sums, total in read) > 6
    run(service.keep_search_sums(("host",)))   # a commit: the cache forgets what it read
    assert [listed("host", status, date_from=first, date_to=last) for status, first, last in cases] == read


def test_a_search_read_twice_from_the_documents_is_kept_and_then_read_from_its_sums(config, book, broad):
    """The second time a broad search's sums are read from the documents, they are kept in the background;
    then its list reads them from search_tally (no document is grouped), and its page is no longer left
    without its count and footer."""
    write_texts(config, book, ["hosting"] * BOOK_SIZE)

    async def ask_twice_and_wait() -> float:
        for n in range(2):
            await service.list_documents("invoice", q="host")
            if n == 0:   # a change in between: the cache keeps no sums across it
                await service.keep_search_sums(("unrelated",))
        asked = time.monotonic()
        await asyncio.sleep(0.1)
        assert "host" not in kept_ids(config)   # not while searches may still be typed
        await asyncio.gather(*service._keeping)
        return time.monotonic() - asked
    assert run(ask_twice_and_wait()) >= service.KEEP_WHEN_QUIET_S
    assert "host" in kept_ids(config)

    seen: list[str] = []
    original = service.Document.raw

    def spy(sql: str, *args: Any) -> Any:
        seen.append(sql)
        return original(sql, *args)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(service.Document, "raw", spy)
        page = run(service.list_documents("invoice", q="host", totals=False))
    assert not any("GROUP BY document.currency" in sql for sql in seen), seen
    assert not page.extra.get("deferred") and page.total == BOOK_SIZE


def test_a_search_read_once_is_not_kept(config, book, broad):
    write_texts(config, book, ["hosting"] * BOOK_SIZE)

    async def ask_once() -> None:
        await service.list_documents("invoice", q="host")
        await asyncio.gather(*service._keeping)
    run(ask_once())
    assert kept_ids(config) == {}


def test_the_oldest_kept_search_gives_way(config, book, broad, monkeypatch):
    monkeypatch.setattr(service, "MAX_SEARCH_TERMS", 2)
    write_texts(config, book, ["hosting logo"] * BOOK_SIZE)
    for words in (("host",), ("logo",), ("hosting",)):
        run(service.keep_search_sums(words))
    assert set(kept_ids(config)) == {"logo", "hosting"}
    assert run(service.keep_search_sums(("logo",))) == kept_ids(config)["logo"]   # kept already: the same one
    connection = sqlite3.connect(config.database_path)
    try:
        terms = {row[0] for row in connection.execute("SELECT DISTINCT term FROM search_tally")}
    finally:
        connection.close()
    assert terms == set(kept_ids(config).values())
    assert listed("host")[2] == BOOK_SIZE   # read from the documents again


def test_nothing_is_kept_for_no_words(config):
    with pytest.raises(ValueError):
        run(service.keep_search_sums(()))


def test_counterfoil_check_finds_kept_sums_that_drifted(config, book, broad):
    write_texts(config, book, ["hosting"] * BOOK_SIZE)
    run(service.keep_search_sums(("host",)))
    connection = sqlite3.connect(config.database_path)
    with sealed_writes(connection):
        connection.execute("UPDATE search_tally SET n = n + 1 WHERE id = (SELECT min(id) FROM search_tally WHERE n > 0)")
    connection.commit()
    connection.close()
    found = [str(b) for b in run_checks(config.database_path)]
    assert len(found) == 1 and found[0].startswith("running sums of the invoice documents holding “host”"), found


def test_an_import_forgets_the_kept_searches_and_its_documents_are_found(config, book, broad):
    """An import writes thousands of documents at once: it drops the kept searches first (each would cost each
    document written), and what it wrote is listed and counted as the rule says."""
    from app.imports import service as imports
    from tests.service.test_import_fast_paths import _preview

    write_texts(config, book, ["hosting"] * BOOK_SIZE)
    run(service.keep_search_sums(("host",)))
    job = _preview(config)
    run(imports.apply(job["id"], data_dir=config.data_dir))
    assert kept_ids(config) == {}
    assert [str(b) for b in run_checks(config.database_path)] == []
    for q in ("host", "old-2025"):   # the book's and the import's
        ids, sums = expected(config, "invoice", q)
        assert listed(q)[0] == ids and listed(q)[2] == len(ids) > 1, q
        assert listed(q)[1] == {c: (s[1], s[2]) for c, s in sums.items()}, q
    assert set(expected(config, "invoice", "host")[0]) - set(book)   # the import's hosting invoice


def test_the_sums_of_a_search_no_longer_kept_are_read_from_the_documents(config, book, broad):
    """The statement that reads a kept search's months tells whether it is kept: one dropped (here in plain SQL,
    as a newer search or an import drops it) reads as not kept, never as a search that finds nothing."""
    write_texts(config, book, ["hosting"] * BOOK_SIZE)
    run(service.keep_search_sums(("host",)))
    day = date.today()
    kept = ("host", service._words_sql(["host"]))
    assert run(service._tally_sums("invoice", "doc_type = 'invoice'", "order", status="", date_from=None,
                                   date_to=None, today_=day, kept=kept))
    connection = sqlite3.connect(config.database_path)
    with sealed_writes(connection):
        connection.execute("DELETE FROM search_tally")
        connection.execute("DELETE FROM search_term")
    connection.commit()
    connection.close()
    assert run(service._tally_sums("invoice", "doc_type = 'invoice'", "order", status="", date_from=None,
                                   date_to=None, today_=day, kept=kept)) is None
    ids, sums = expected(config, "invoice", "host")
    assert listed("host")[1:] == ({c: (s[1], s[2]) for c, s in sums.items()}, len(ids))
