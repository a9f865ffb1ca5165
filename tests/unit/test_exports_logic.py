"""Exports, pure: CSV written by the csv module reads back exactly; periods; the schedule; the tax summary."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.common.logic import FORMULA_STARTS, PLAIN_NUMBER
from app.documents.records import tax_from_json
from app.exports import logic
from app.receivables.logic import AgingRow
from tests.records import client_view, document_view, line_view, payment_view

COLUMNS = logic._cols(("a", "A"), ("b", "B"), ("c", "C"))


def read(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def test_commas_quotes_and_newlines_survive_a_round_trip():
    awkward = ['Smith, Jones & Co.', 'The "best" bakery', "line one\nline two\r\nline three", "Zoë; ü; 漢字", " ", ""]
    rows = [[value, "x", 1] for value in awkward]
    back = read(logic.csv_bytes(COLUMNS, rows))
    assert back[0] == ["a", "b", "c"]
    assert [row[0] for row in back[1:]] == awkward
    assert all(row[1:] == ["x", "1"] for row in back[1:])


def as_written(text: str) -> str:
    """What a cell holds once read back: a formula-like text has the apostrophe that makes it text."""
    return "'" + text if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text) else text


@given(st.lists(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
                         min_size=3, max_size=3), max_size=20))
def test_any_text_reads_back(rows):
    back = read(logic.csv_bytes(COLUMNS, rows))
    # the csv module reads a lone \r as a line end inside quotes as it was written
    assert back[1:] == [[as_written(value) for value in row] for row in rows]


@pytest.mark.parametrize(("value", "cell"), [
    ("=HYPERLINK(\"http://evil.example\",\"Click\")", "'=HYPERLINK(\"http://evil.example\",\"Click\")"),
    ("+1 416 555 0199", "'+1 416 555 0199"), ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"), ("\t=1+1", "'\t=1+1"), ("\r=1+1", "'\r=1+1"), ("\uff1d1+1", "'\uff1d1+1"),
    ("-", "'-"), ("--5", "'--5"), ("-1e5", "'-1e5"), ("-.5", "'-.5"),
    # plain numbers stay numbers a spreadsheet sums: negative amounts and quantities
    ("-12.50", "-12.50"), ("-3", "-3"), ("1234.50", "1234.50"), (Decimal("-0.05"), "-0.05"), (-7, "-7"),
    # anything else is as it was
    ("Smith = Jones", "Smith = Jones"), (" =1", " =1"), ("a@b.example", "a@b.example"), ("", ""), (None, ""),
])
def test_a_formula_is_written_as_text_and_a_number_as_a_number(value, cell):
    assert read(logic.csv_bytes(COLUMNS, [[value, "x", 1]]))[1][0] == cell


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")))
def test_no_cell_reads_back_as_a_formula(text):
    [cell] = read(logic.csv_bytes(COLUMNS, [[text, "", ""]]))[1][:1]
    assert not cell.startswith(FORMULA_STARTS) or PLAIN_NUMBER.fullmatch(cell)
    assert cell.removeprefix("'") == text or cell == text


@given(st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**12, max_value=10**12))
def test_every_amount_stays_a_number(amount):
    assert read(logic.csv_bytes(COLUMNS, [[logic.plain(amount), "", ""]]))[1][0] == logic.plain(amount)


def test_rows_must_match_the_header():
    with pytest.raises(ValueError):
        logic.csv_bytes(COLUMNS, [["only", "two"]])


@pytest.mark.parametrize(("value", "text"), [(Decimal("1234.50"), "1234.50"), (Decimal("1E+3"), "1000"),
                                             (Decimal("-0.05"), "-0.05"), ("12.5", "12.5"), (None, "")])
def test_money_is_a_plain_decimal(value, text):
    assert logic.plain(value) == text


def test_every_row_function_matches_its_columns():
    client = client_view(id=1, code="C1", name="Maple")
    document = document_view(id=2, number="INV-1", status="issued", issue_date=date(2026, 1, 3), client_id=1,
                             currency="CAD", subtotal=Decimal("100.00"), tax_total=Decimal("13.00"),
                             total=Decimal("113.00"), paid=Decimal(0), credited=Decimal(0), balance=Decimal("113.00"),
                             lines=(line_view(position=1, description="x", quantity=Decimal(1),
                                              unit_price=Decimal(100), net=Decimal(100)),))
    payment = payment_view(id=3, payment_date=date(2026, 1, 4), client_id=1, currency="CAD", amount=Decimal(1),
                           applied=Decimal(1), excess=Decimal(0))
    aging = AgingRow(client_id=1, client_name="Maple", currency="CAD", total=Decimal(5),
                     buckets={"current": Decimal(5)})
    assert len(logic.client_row(client)) == len(logic.CLIENT_COLUMNS)
    assert len(logic.document_row(document, client_code="C1", client_name="Maple", client_tax_number="")) \
        == len(logic.DOCUMENT_COLUMNS)
    assert len(logic.issued_document_row(document)) == len(logic.DOCUMENT_COLUMNS)
    assert len(logic.credit_note_row(document, client_code="C1")) == len(logic.CREDIT_NOTE_COLUMNS)
    assert all(len(r) == len(logic.LINE_COLUMNS) for r in logic.line_rows(document))
    assert len(logic.payment_row(payment)) == len(logic.PAYMENT_COLUMNS)
    assert logic.aging_row(aging) == [1, "Maple", "CAD", "5", "0", "0", "0", "0", "5"]


def test_tax_summary_nets_credit_notes_per_currency_code_and_rate():
    documents = [document_view(doc_type=d["doc_type"], currency=d["currency"],
                               taxes=tuple(tax_from_json(t) for t in d["taxes"])) for d in [
        {"doc_type": "invoice", "currency": "CAD", "taxes": [{"code": "GST", "name": "GST", "rate": "5", "base": "100.00", "amount": "5.00"},
                                                             {"code": "PST", "name": "PST", "rate": "7", "base": "100.00", "amount": "7.00"}]},
        {"doc_type": "invoice", "currency": "CAD", "taxes": [{"code": "GST", "name": "GST", "rate": "5", "base": "40.00", "amount": "2.00"}]},
        {"doc_type": "credit_note", "currency": "CAD", "taxes": [{"code": "GST", "name": "GST", "rate": "5", "base": "20.00", "amount": "1.00"}]},
        {"doc_type": "invoice", "currency": "EUR", "taxes": [{"code": "VAT19", "name": "VAT", "rate": "19", "base": "10.00", "amount": "1.90"}]},
    ]]
    assert logic.tax_summary(documents) == [
        ["CAD", "GST", "GST", "5", "140.00", "7.00", "20.00", "1.00", "120.00", "6.00"],
        ["CAD", "PST", "PST", "7", "100.00", "7.00", "0", "0", "100.00", "7.00"],
        ["EUR", "VAT19", "VAT", "19", "10.00", "1.90", "0", "0", "10.00", "1.90"],
    ]


@pytest.mark.parametrize(("name", "start", "end"), [
    ("last_month", date(2026, 10, 1), date(2026, 10, 31)), ("this_month", date(2026, 11, 1), date(2026, 11, 30)),
    ("last_quarter", date(2026, 7, 1), date(2026, 9, 30)), ("this_quarter", date(2026, 10, 1), date(2026, 12, 31)),
    ("last_year", date(2025, 1, 1), date(2025, 12, 31)), ("this_year", date(2026, 1, 1), date(2026, 12, 31)),
])
def test_presets(name, start, end):
    assert logic.preset_period(name, date(2026, 11, 21)) == (start, end)


def test_presets_across_the_year_boundary():
    assert logic.preset_period("last_month", date(2026, 1, 15)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert logic.preset_period("last_quarter", date(2026, 2, 1)) == (date(2025, 10, 1), date(2025, 12, 31))


def test_the_monthly_schedule_catches_up():
    # nothing sent yet: only the latest due month (no flood of old packages)
    assert logic.due_periods(date(2026, 11, 21), "", 1) == ["2026-10"]
    # before the day of the month, last month is not due yet
    assert logic.due_periods(date(2026, 11, 3), "2026-09", 5) == []
    assert logic.due_periods(date(2026, 11, 5), "2026-09", 5) == ["2026-10"]
    # closed for three months: every missed month, oldest first, across the year
    assert logic.due_periods(date(2027, 2, 2), "2026-10", 1) == ["2026-11", "2026-12", "2027-01"]
    assert logic.due_periods(date(2026, 11, 21), "2026-10", 1) == []


def test_readme_documents_every_column_of_every_file():
    text = logic.readme(business="Maple", date_from=date(2026, 1, 1), date_to=date(2026, 3, 31), generated="now",
                        counts={"invoices.csv": 3})
    for name, columns, _ in logic.FILES:
        assert name in text
        for column in columns:
            assert column.name in text
    assert "invoices.csv (3 rows)" in text
