"""app/batch/logic.py: filters, file names, the job's states, progress and time-left math."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.batch import logic
from app.batch.logic import Filters
from app.common.logic import Conflict, ValidationFailed

# -- filters ---------------------------------------------------------------------------------


def test_filters_from_a_form():
    filters = logic.parse_filters("invoice", {"status": "overdue", "client_id": " 12 ", "from": "2026-01-01",
                                              "to": "2026-03-31", "q": "  web   design "})
    assert filters == Filters(status="overdue", client_id=12, date_from=date(2026, 1, 1), date_to=date(2026, 3, 31),
                              q="web design")
    assert filters.query() == {"status": "overdue", "client_id": "12", "from": "2026-01-01", "to": "2026-03-31",
                               "q": "web design"}
    assert logic.parse_filters("invoice", {}) == Filters() and Filters().query() == {}
    assert logic.parse_filters("invoice", {"status": "open"}).status == "open"   # the list's "Open (unpaid)"
    assert logic.parse_filters("quote", {"status": "expired"}).status == "expired"


@pytest.mark.parametrize(("doc_type", "raw", "field", "words"), [
    ("invoice", {"from": "2026-02-30"}, "from", "From: \u201c2026-02-30\u201d is not a date"),
    ("invoice", {"from": "20260201"}, "from", "use YYYY-MM-DD"),
    ("invoice", {"to": "soon"}, "to", "To: \u201csoon\u201d is not a date"),
    ("invoice", {"from": "2026-02-02", "to": "2026-02-01"}, "to", "the period ends (2026-02-01) before it starts"),
    ("invoice", {"status": "accepted"}, "status", "not a status of invoices"),
    ("quote", {"status": "open"}, "status", "not a status of quotes"),
    ("credit_note", {"status": "paid"}, "status", "use one of draft, issued"),
    ("invoice", {"client_id": "-3"}, "client_id", "is not a client number"),
    ("invoice", {"client_id": "1" * 20}, "client_id", "is not a client number"),
    ("invoice", {"q": "x" * 201}, "q", "at most 200 characters"),
])
def test_bad_filters_name_their_field(doc_type, raw, field, words):
    with pytest.raises(ValidationFailed) as failed:
        logic.parse_filters(doc_type, raw)
    assert failed.value.detail == "These filters cannot be used."
    [error] = failed.value.errors
    assert error.field == field and words in error.message


def test_every_bad_field_is_named_at_once():
    with pytest.raises(ValidationFailed) as failed:
        logic.parse_filters("invoice", {"status": "x", "client_id": "y", "from": "z"})
    assert [e.field for e in failed.value.errors] == ["status", "client_id", "from"]


def test_kind():
    assert logic.parse_kind("zip") == "zip" and logic.parse_kind(" print ") == "print"
    for bad in ("", None, "pdf", "ZIP"):
        with pytest.raises(ValidationFailed):
            logic.parse_kind(bad)


def test_filters_in_words():
    assert logic.describe("invoice", Filters()) == ["All invoices"]
    assert logic.describe("credit_note", Filters(status="partial", client_id=4, date_to=date(2026, 1, 31), q="a"),
                          "Globex") == ["Status: Partly paid or credited", "Client: Globex", "Issued until 2026-01-31",
                                        "Search: \u201ca\u201d"]
    assert logic.describe("quote", Filters(client_id=9, date_from=date(2026, 1, 1))) == [
        "Client: #9", "Issued from 2026-01-01"]


# -- names -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "filters", "client", "expected"), [
    ("zip", Filters(), "", "invoices_all.zip"),
    ("print", Filters(), "", "invoices_all_print.pdf"),
    ("zip", Filters(status="overdue", client_id=3, date_from=date(2026, 1, 1), date_to=date(2026, 3, 31)),
     "Café Müller & Söhne", "invoices_overdue_Café-Müller-Söhne_2026-01-01_to_2026-03-31.zip"),
    ("zip", Filters(client_id=3), "東京", "invoices_東京.zip"),
    ("zip", Filters(client_id=3), "&&&", "invoices_client-3.zip"),
    ("zip", Filters(date_from=date(2026, 5, 1)), "", "invoices_from_2026-05-01.zip"),
    # the search's words never reach the name: it came from a query parameter
    ("print", Filters(date_to=date(2026, 5, 1), q='web"; filename="evil.exe'), "",
     "invoices_until_2026-05-01_search_print.pdf"),
])
def test_batch_file_names(kind, filters, client, expected):
    assert logic.batch_filename("invoice", kind, filters, client) == expected


@given(st.text(max_size=80), st.text(max_size=300), st.sampled_from(logic.KINDS),
       st.sampled_from(["invoice", "quote", "credit_note"]))
def test_file_names_are_always_safe(client, q, kind, doc_type):
    name = logic.batch_filename(doc_type, kind, Filters(client_id=1, q=q), client)
    assert name and len(name) < 160
    assert all(ch in "._-" or unicodedata.category(ch)[0] in "LMN" for ch in name), name
    assert name.endswith(".pdf" if kind == logic.PRINT else ".zip") and not name.startswith(("-", "."))


def test_bookmarks():
    assert logic.bookmark_title("INV-2026-0007_Globex-GmbH.pdf") == "INV-2026-0007 \u00b7 Globex GmbH"
    assert logic.bookmark_title("Invoice-draft-12.pdf") == "Invoice-draft-12"


# -- texts --------------------------------------------------------------------------------------------

def test_counts_and_sizes_are_formatted_by_babel():
    assert logic.nouns("invoice", 1) == "1 invoice" and logic.nouns("credit_note", 1000) == "1,000 credit notes"
    assert logic.pdfs(1) == "1 PDF" and logic.pdfs(12345) == "12,345 PDFs"
    assert [logic.size_text(n) for n in (1, 999, 14_200, 12_345_678, 345_000_000, 2_500_000_000)] == [
        "1 byte", "999 bytes", "14.2 kB", "12.3 MB", "345 MB", "2.5 GB"]


def test_empty_lists_say_why():
    assert logic.empty_message("invoice", 0) == "No invoices match these filters."
    assert "the 1 quote in this list is a draft" in logic.empty_message("quote", 1)
    assert "the 3 invoices in this list are drafts" in logic.empty_message("invoice", 3)
    view = logic.actions_view("invoice", 12, 2)
    assert view["count_label"] == "12 invoices" and view["drafts_note"] == "2 drafts left out" and not view["empty_message"]
    assert logic.actions_view("invoice", 0, 0)["empty_message"] == "No invoices match these filters."


@pytest.mark.parametrize(("seconds", "text"), [(0, "0:00"), (7.9, "0:07"), (65, "1:05"), (3599, "59:59"),
                                                (3723, "1:02:03"), (-5, "0:00")])
def test_clock(seconds, text):
    assert logic.clock(seconds) == text


def test_time_left_in_words():
    assert logic.eta_text(None) == "Estimating\u2026"
    assert logic.eta_text(4) == "A few seconds"
    assert logic.eta_text(45) == "About 45 seconds"
    assert logic.eta_text(340) == "About 6 minutes"


# -- the job's states ------------------------------------------------------------------------------------

def run_to(total: int, done: int) -> logic.JobStatus:
    status = logic.counted(logic.started(logic.queued(0.0), 1.0), total)
    return logic.progressed(status, done)


def test_a_batch_from_start_to_download():
    status = logic.queued(10.0)
    assert status.active and logic.headline(status, "invoice", "zip") == "Waiting for another batch to finish\u2026"
    status = logic.started(status, 11.0)
    assert logic.headline(status, "invoice", "zip") == "Finding the invoices\u2026"
    status = logic.counted(status, 1000)
    status = logic.progressed(status, 340)
    assert logic.headline(status, "invoice", "zip") == "Rendering 340 of 1,000 PDFs"
    view = logic.panel(status, 21.0, doc_type="invoice", kind="zip")
    assert view["percent"] == 34 and view["elapsed"] == "0:10" and view["eta"] == "About 19 seconds"
    assert view["known"] and view["active"]
    status = logic.progressed(status, 1000)
    status = logic.combining(status)
    assert logic.headline(status, "invoice", "print") == "Combining 1,000 PDFs into one file\u2026"
    status = logic.finished(status, 40.0, size=5_000_000, pages=1200)
    assert not status.active and logic.headline(status, "invoice", "print") == "1,000 invoices ready to print"
    assert logic.headline(status, "invoice", "zip") == "1,000 PDFs ready"
    view = logic.panel(status, 99.0, doc_type="invoice", kind="print")
    assert view["elapsed"] == "0:29" and view["pages"] == "1,200" and view["size"] == "5 MB" and view["eta"] == ""
    status = logic.downloaded(status)
    assert status.state == "downloaded" and logic.headline(status, "invoice", "zip") == "Downloaded"


def test_wrong_moves_are_refused():
    done = logic.finished(run_to(3, 3), 5.0, size=1)
    for move in (lambda s: logic.started(s, 1.0), lambda s: logic.cancelled(s, 1.0), lambda s: logic.failed(s, 1.0, "x")):
        with pytest.raises(Conflict):
            move(done)
    with pytest.raises(Conflict):
        logic.downloaded(run_to(3, 1))
    with pytest.raises(Conflict):
        logic.progressed(logic.queued(0.0), 1)
    with pytest.raises(Conflict):
        logic.finished(logic.queued(0.0), 1.0, size=0)
    with pytest.raises(ValueError):
        logic.counted(run_to(3, 0), 4)
    cancelled = logic.cancelled(logic.queued(0.0), 2.0)
    with pytest.raises(Conflict):
        logic.expired(cancelled)


MOVES = {
    "start": lambda s: logic.started(s, 1.0),
    "count": lambda s: logic.counted(s, 5),
    "progress": lambda s: logic.progressed(s, 3),
    "combine": logic.combining,
    "finish": lambda s: logic.finished(s, 2.0, size=10),
    "fail": lambda s: logic.failed(s, 2.0, "broken"),
    "cancel": lambda s: logic.cancelled(s, 2.0),
    "download": logic.downloaded,
    "expire": logic.expired,
}


@given(st.lists(st.sampled_from(sorted(MOVES)), max_size=12))
def test_any_sequence_of_moves_keeps_the_rules(moves):
    """Whatever is tried in whatever order: every state reached is allowed from the one before, an
    ended batch never runs again, and a refused move changes nothing."""
    status = logic.queued(0.0)
    for move in moves:
        before = status
        try:
            status = MOVES[move](status)
        except (Conflict, ValueError):
            assert status == before
            continue
        if status.state != before.state:
            assert status.state in logic.TRANSITIONS[before.state]
        if not before.active:
            assert not status.active
        if status.total is not None:
            assert 0 <= status.done <= status.total


@given(st.integers(1, 10**6), st.data())
def test_progress_only_goes_forward_and_never_past_the_total(total, data):
    status = logic.counted(logic.started(logic.queued(0.0), 0.0), total)
    seen = 0
    for done in data.draw(st.lists(st.integers(-5, total + 5), max_size=20)):
        status = logic.progressed(status, done)
        assert seen <= status.done <= total
        seen = status.done
        assert 0 <= logic.percent(status) <= 100


# -- time left ------------------------------------------------------------------------------------------

@given(st.integers(0, 10**6), st.integers(0, 10**6), st.floats(0, 10**6, allow_nan=False))
def test_time_left_is_never_negative_and_none_only_before_anything_was_measured(done, extra, elapsed):
    total = done + extra
    left = logic.eta_seconds(done, total, elapsed)
    if total == 0 or done >= total:
        assert left == 0
    elif done == 0 or elapsed < logic.MIN_ESTIMATE_S:
        assert left is None
    else:
        assert left is not None and left >= 0


@given(st.integers(1, 10**5), st.integers(1, 10**5), st.floats(1, 10**5, allow_nan=False))
def test_time_left_follows_the_pace_so_far(done, extra, elapsed):
    """At a steady pace the whole job takes elapsed / done per PDF: the time left and the elapsed
    add up to that, and one more PDF made in the same time leaves less to wait."""
    total = done + extra
    left = logic.eta_seconds(done, total, elapsed)
    assert left == pytest.approx(elapsed / done * total - elapsed, rel=1e-9)
    later = logic.eta_seconds(done + 1, total, elapsed)
    assert later is not None and later <= left
    twice = logic.eta_seconds(done, total, 2 * elapsed)
    assert twice == pytest.approx(2 * left, rel=1e-9)


def test_the_elapsed_time_stops_when_the_batch_ends():
    status = logic.counted(logic.started(logic.queued(0.0), 100.0), 4)
    assert logic.elapsed(status, 112.5) == 12.5
    ended = logic.finished(status, 130.0, size=1)
    assert logic.elapsed(ended, 500.0) == 30.0 and logic.elapsed(logic.queued(0.0), 50.0) == 0.0


# -- expiry ------------------------------------------------------------------------------------------------

def test_files_expire_after_an_hour_and_jobs_are_forgotten_later():
    done = logic.finished(run_to(2, 2), 1000.0, size=1)
    assert not logic.should_expire(done, 1000.0 + logic.FILE_TTL_S - 1)
    assert logic.should_expire(done, 1000.0 + logic.FILE_TTL_S)
    assert not logic.should_forget(done, 10**9)   # a ready file expires first
    gone = logic.expired(done)
    assert not logic.should_forget(gone, 1000.0 + logic.FILE_TTL_S)
    assert logic.should_forget(gone, 1000.0 + logic.FORGET_AFTER_S)
    running = run_to(2, 1)
    assert not logic.should_expire(running, 10**9) and not logic.should_forget(running, 10**9)


@pytest.mark.parametrize("day", ["1899-12-31", "2201-01-01", "0001-01-01"])
def test_a_filter_date_outside_1900_to_2200_is_named(day):
    from app.common.logic import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        logic.parse_filters("invoice", {"from": day})
    assert "between 1900 and 2200" in refused.value.by_field()["from"]
