"""The pure rules of issue 14 points 1, 2 and 7: numbers follow dates, control characters, what field
holds an unprintable character, and the stored file's name."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.common.logic import Conflict, Form, ValidationFailed, control_problem, normalized_text
from app.documents import logic
from app.render import service
from tests.unit.test_render_logic import fabricate_invoice

TODAY = date(2027, 1, 4)


def test_issuing_dates_today_unless_back_dated_on_purpose():
    assert logic.issue_date_of(None, False, TODAY) == logic.IssueDate(TODAY, False)
    assert logic.issue_date_of(TODAY, True, TODAY) == logic.IssueDate(TODAY, False)
    assert logic.issue_date_of(date(2026, 12, 20), True, TODAY) == logic.IssueDate(date(2026, 12, 20), True)
    with pytest.raises(ValidationFailed) as unasked:
        logic.issue_date_of(date(2026, 12, 20), False, TODAY)
    assert unasked.value.errors[0].field == "backdate" and "2026-12-20" in unasked.value.errors[0].message
    with pytest.raises(ValidationFailed) as ahead:
        logic.issue_date_of(TODAY + timedelta(days=1), True, TODAY)
    assert ahead.value.errors[0].field == "issue_date"


def test_a_date_before_the_series_latest_is_a_conflict_naming_that_date():
    logic.check_series_order("invoice", TODAY, None)
    logic.check_series_order("invoice", TODAY, TODAY)
    with pytest.raises(Conflict) as refused:
        logic.check_series_order("invoice", date(2027, 1, 2), date(2027, 1, 3), "INV-2027-0009")
    assert "2027-01-03" in refused.value.detail and "INV-2027-0009" in refused.value.detail


def test_the_dates_that_follow_the_issue_date():
    draft = {"issue_date": date(2026, 12, 20), "due_date": date(2027, 1, 19), "terms_days": 30,
             "valid_until": None}
    assert logic.dates_on_issue("invoice", draft, TODAY) == {"issue_date": TODAY, "due_date": date(2027, 2, 3)}
    no_terms = {**draft, "terms_days": None}
    assert logic.dates_on_issue("invoice", no_terms, TODAY)["due_date"] == TODAY + timedelta(days=30)
    quote = {"issue_date": date(2026, 12, 20), "valid_until": date(2027, 1, 19)}
    assert logic.dates_on_issue("quote", quote, TODAY) == {"issue_date": TODAY, "valid_until": date(2027, 2, 3)}
    assert logic.dates_on_issue("credit_note", {"issue_date": date(2026, 12, 1)}, TODAY) == {"issue_date": TODAY}


def _doc(number: str, day: date, order: int, doc_type: str = "invoice") -> dict:
    return {"doc_type": doc_type, "number": number, "issue_date": day, "issued_at": f"2027-01-01 00:00:{order:02d}",
            "id": order}


def test_series_going_backwards_are_found_per_type_and_year():
    docs = [_doc("INV-1", date(2026, 3, 1), 1), _doc("INV-2", date(2026, 2, 1), 2), _doc("INV-3", date(2026, 4, 1), 3),
            _doc("CN-1", date(2026, 1, 1), 4, "credit_note"), _doc("INV-2027-1", date(2027, 1, 1), 5)]
    assert logic.series_going_backwards(docs) == [("INV-2", "2026-02-01", "INV-1", "2026-03-01")]


@given(st.lists(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)), max_size=12))
def test_dates_in_order_never_go_backwards(days):
    docs = [_doc(f"N{i}", day, i) for i, day in enumerate(sorted(days))]
    assert logic.series_going_backwards(docs) == []


@pytest.mark.parametrize("ch", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x80", "\x85",
                                "\x9f", "\u2028", "\u2029"])
def test_control_characters_are_named(ch):
    problem = control_problem(f"a{ch}b", "Notes")
    assert problem is not None and f"U+{ord(ch):04X}" in problem and "character 2" in problem


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Zl", "Zp", "Cs")) | st.sampled_from("\t\n")))
def test_printable_text_tabs_and_line_feeds_pass(text):
    assert control_problem(text, "Notes") is None


def test_line_breaks_become_line_feeds_and_the_form_refuses_controls_in_any_text():
    assert normalized_text("a\r\nb\rc\n") == "a\nb\nc\n"
    form = Form({"notes": "one\r\ntwo", "bad": "x\x00y", "name": "A\x1bB"})
    form.text("notes", max_length=100)
    form.text("bad", max_length=100)
    form.text("name", one_line=True)
    assert form.values == {"notes": "one\ntwo"}
    assert {e.field for e in form.errors} == {"bad", "name"}


def test_clean_line_refuses_controls_in_the_description_and_unit():
    errors: list = []
    logic.clean_line({"description": "Wo\x01rk", "unit": "h\x85r", "unit_price": "5"}, 0, errors)
    assert {e.field for e in errors} == {"lines[0].description", "lines[0].unit"}


def test_the_field_holding_an_unprintable_character():
    document = fabricate_invoice(2)
    lines = (document.lines[0], replace(document.lines[1], description="Work \U000f0000"))
    assert service.logic.field_holding("\U000f0000", replace(document, lines=lines), {}) == (
        "lines[1].description", "Line 2's description")
    snapshot = {**document.snapshot, "client": {**document.snapshot["client"], "name": "Ex\U000f0000"}}
    assert service.logic.field_holding("\U000f0000", replace(document, snapshot=snapshot), {})[0] == "client.name"
    assert service.logic.field_holding("\U000f0000", replace(document, notes="x\U000f0000"), {})[0] == "notes"
    assert service.logic.field_holding("\U000f0000", document, {})[0] == "document"


def test_typst_strings_are_read_back():
    assert service._typst_string(r"\u{1f680}") == "\U0001f680"
    assert service._typst_string(r"a\"b\\c") == 'a"b\\c'


def test_the_stored_file_is_named_by_its_hash_and_written_once(tmp_path: Path):
    folder = tmp_path / "records"
    sha256 = service.write_record_file(folder, b"%PDF-1.7 one")
    assert (folder / f"{sha256}.pdf").read_bytes() == b"%PDF-1.7 one"
    assert service.write_record_file(folder, b"%PDF-1.7 one") == sha256
    assert sorted(p.name for p in folder.iterdir()) == [f"{sha256}.pdf"]   # no temporary file left
    with pytest.raises(service.RecordProblem):
        service.record_file(folder, "../../etc/passwd")
    record = {"sha256": sha256}
    assert service.read_record_file(folder, record, "INV-1") == b"%PDF-1.7 one"
    (folder / f"{sha256}.pdf").write_bytes(b"%PDF-1.7 two")
    with pytest.raises(service.RecordProblem, match="INV-1"):
        service.read_record_file(folder, record, "INV-1")
