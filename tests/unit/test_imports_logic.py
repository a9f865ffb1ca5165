"""Reading files from other programs (app.imports.parsing, formats, logic): pure rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.documents import logic as documents_logic
from app.imports import formats, logic, parsing
from app.taxes.logic import PRESETS

CANADA = {t.code: t for t in PRESETS["canada"][1]}


def test_encodings_are_told_apart():
    text = "name\r\nZoë Ångström\r\n"
    assert parsing.decode(text.encode("utf-8"))[1] == "utf-8"
    assert parsing.decode(b"\xef\xbb\xbf" + text.encode("utf-8")) == (text, "utf-8-sig")
    assert parsing.decode(text.encode("cp1252")) == (text, "cp1252")
    with pytest.raises(parsing.FileRefused, match="UTF-8"):
        parsing.decode(text.encode("cp1252"), "utf-8")


@pytest.mark.parametrize("text, separator", [
    ("a,b,c\r\n1,2,3\r\n", ","), ("a;b;c\r\n1,5;2;3\r\n", ";"), ("a\tb\r\n1\t2\r\n", "\t"),
    ('name;note\r\n"Smith, Jones";"a, b"\r\n', ";"), ("a|b\r\n1|2\r\n", "|"),
])
def test_the_separator_is_the_steady_one(text: str, separator: str):
    assert parsing.detect_separator(text) == separator


def test_decimal_commas_and_date_formats_are_detected():
    assert parsing.detect_decimal(["1.234,50", "12,00", ""]) == ","
    assert parsing.detect_decimal(["1,234.50", "12.00"]) == "."
    assert parsing.detect_decimal(["12", "7"]) == "."
    assert parsing.detect_date_format(["2025-01-31", "2025-02-01T10:00:00"]) == "%Y-%m-%d"
    assert parsing.detect_date_format(["31.01.2025"]) == "%d.%m.%Y"
    assert parsing.detect_date_format(["01/31/2025", "02/01/2025"]) == "%m/%d/%Y"
    assert parsing.detect_date_format(["13/01/2025", "02/01/2025"]) == "%d/%m/%Y"


@pytest.mark.parametrize("cell, formula", [
    ("=SUM(A1:A3)", True), ("@cmd", True), ("+A1*2", True), ("-2+3*HYPERLINK(x)", True),
    ("-12.50", False), ("+1 416 555 0100", False), ("-20 %", False), ("Acme", False), ("", False),
])
def test_formula_cells_are_flagged_and_phone_numbers_are_not(cell: str, formula: bool):
    assert parsing.is_formula(cell) is formula


def test_a_table_names_ragged_rows_and_formulas_and_unescapes_counterfoils_own():
    data = b"name,city\r\nAcme,Toronto\r\nBeta,Halifax,extra\r\n'=Quoted,Paris\r\n=1+1,Rome\r\n"
    table = parsing.read_table("c.csv", data)
    assert [row[0] for _number, row in table.numbered()] == ["Acme", "=Quoted", "=1+1"]
    assert [row for row, _ in table.problems] == [3, 5]
    assert "3 fields, the header has 2" in table.problems[0][1] and "formula" in table.problems[1][1]


@pytest.mark.parametrize("data, message", [
    (b"", "0 bytes"), (b"\x00\x01\x02binary", "binary"), (b"PK\x03\x04junk", "damaged"),
])
def test_unreadable_files_are_refused_whole(data: bytes, message: str):
    with pytest.raises(parsing.FileRefused, match=message):
        parsing.unpack("x.csv", data, limit=1000)


def test_the_size_limit_names_itself():
    with pytest.raises(parsing.FileRefused, match="at most 10 bytes"):
        parsing.unpack("x.csv", b"a" * 11, limit=10)


@given(st.decimals(min_value=Decimal("-99999999"), max_value=Decimal("99999999"), places=2))
def test_numbers_read_back_in_either_decimal_mark(value: Decimal):
    point = f"{value:,.2f}"
    comma = point.replace(",", "_").replace(".", ",").replace("_", ".")
    assert parsing.parse_number(point, ".") == value
    assert parsing.parse_number(comma, ",") == value
    assert parsing.parse_number(f"({abs(value):.2f})", ".") == -abs(value)


def test_dates_read_in_the_detected_format():
    assert parsing.parse_day("31.01.2025", "%d.%m.%Y") == date(2025, 1, 31)
    assert parsing.parse_day("2025-01-31T09:00:00Z", "%d.%m.%Y") == date(2025, 1, 31)
    with pytest.raises(parsing.CellError):
        parsing.parse_day("31/31/2025", "%d/%m/%Y")


@pytest.mark.parametrize("header, expected", [
    (["client_id", "code", "name", "status", "buyer_reference"], ("counterfoil", "clients")),
    (["document_id", "number", "issue_date", "position", "net"], ("counterfoil", "lines")),
    (["Invoice Number", "Client Name", "Invoice Date", "Item Cost"], ("invoiceninja", "invoices")),
    (["client_name", "client_address_1"], ("invoiceplane", "clients")),
    (["Client Name", "Client Address 1"], ("invoiceninja", "clients")),
    (["invoice_number", "payment_date", "payment_amount"], ("invoiceplane", "payments")),
    (["Invoice #", "Date Issued", "Client Name", "Rate"], ("freshbooks", "invoices")),
    (["number", "issue_date", "description", "quantity"], ("csv", "invoices")),
    (["something", "else"], None),
])
def test_formats_are_detected_by_their_header(header: list[str], expected: tuple[str, str] | None):
    assert formats.detect(header) == expected


def test_the_mapping_finds_aliases_and_refuses_unknown_names():
    mapping = formats.auto_mapping("invoiceninja", "invoices", ["Invoice Number", "Item Cost", "Item Quantity"])
    assert mapping == {"number": "Invoice Number", "unit_price": "Item Cost", "quantity": "Item Quantity"}
    clean, problems = formats.check_mapping("clients", {"name": "Kunde", "colour": "x", "city": "Nope"}, ["Kunde"])
    assert clean == {"name": "Kunde"} and len(problems) == 2


def test_taxes_are_found_by_code_name_or_rate():
    assert logic.resolve_tax(("gst", None), CANADA) == "GST"
    assert logic.resolve_tax(("HST (ON)", None), CANADA) == "HST"
    assert logic.resolve_tax(("", Decimal("13")), CANADA) == "HST"
    assert logic.resolve_tax(("@5", None), CANADA) == "GST"
    assert logic.resolve_tax(("VAT", Decimal("21")), CANADA) is None


def test_the_series_continues_after_the_highest_imported_number_of_its_pattern():
    numbers = ["INV-2025-0007", "INV-2025-0041", "OLD-12"]
    assert logic.series_after_import("INV-{year}-{seq:04}", 2025, numbers, None) == {"next_seq": 42, "start_seq": 39}
    # with own numbers issued already (next 5, started at 1): the count still adds up
    assert logic.series_after_import("INV-{year}-{seq:04}", 2025, ["OLD-1"], {"next_seq": 5, "start_seq": 1}) == \
        {"next_seq": 5, "start_seq": 0}
    assert logic.pattern_regex("R{yy}/{month:02}-{seq}", 2026).fullmatch("R26/03-17")


def _document(total: str, *lines: tuple[str, str, tuple[str, ...]]) -> logic.DocumentRecord:
    return logic.DocumentRecord(
        file="f", row=2, doc_type=documents_logic.INVOICE, source_id="", number="A-1", status="issued",
        issue_date=date(2025, 1, 1), due_date=None, client_source_id="", client_code="", client_name="Acme",
        currency="CAD", total=Decimal(total),
        lines=[logic.LineRecord("Work", Decimal(q), Decimal(p), Decimal(0), (), taxes=t) for q, p, t in lines])


def test_a_total_differs_only_beyond_rounding():
    assert not logic.recompute(_document("105.00", ("1", "100.00", ("GST",))), CANADA).differs
    assert not logic.recompute(_document("105.01", ("1", "100.00", ("GST",))), CANADA).differs
    assert logic.recompute(_document("106.00", ("1", "100.00", ("GST",))), CANADA).differs


def test_rows_become_records_with_their_problems_named():
    rows = [{"number": "A-1", "issue_date": "2025-01-02", "client_name": "Acme", "description": "Work",
             "quantity": "2", "unit_price": "10,00", "currency": "EUR"},
            {"number": "A-1", "issue_date": "2025-01-02", "client_name": "Acme", "description": "More",
             "quantity": "1", "unit_price": "5,00", "currency": "EUR"},
            {"number": "A-2", "issue_date": "2025-01-40", "client_name": "Acme", "description": "x"}]
    identity = {f: f for f in formats.FIELDS["invoices"]}
    batch = logic.read_records("invoices", "f.csv", zip([2, 3, 4], rows, strict=True), identity,
                               parsing.Dialect(decimal=","), default_currency="CAD", source="csv")
    assert [(d.number, len(d.lines)) for d in batch.documents] == [("A-1", 2)]
    assert batch.documents[0].lines[0].unit_price == Decimal("10.00")
    assert [(p.row, "not a date" in p.message) for p in batch.problems] == [(4, True)]


def test_a_file_s_repeated_short_cells_and_tax_references_are_kept_once():
    header = ["number", "issue_date", "client_name", "description", "quantity", "unit", "unit_price", "taxes",
              "currency"]
    rows = [[f"A-{n}", "2025-01-02", "Acme", "Design" + "", "2", "hour", "95.00", "GST", "cad"] for n in range(3)]
    # each row's cells are separate objects, as the csv module makes them
    rows = [[cell[:1] + cell[1:] for cell in row] for row in rows]
    mapping = {f: f for f in header}
    batch = logic.read_records("invoices", "f.csv", zip([2, 3, 4], rows, strict=True), mapping, parsing.Dialect(),
                               default_currency="CAD", source="csv", header=header)
    lines = [d.lines[0] for d in batch.documents]
    assert len(lines) == 3 and not batch.problems
    assert all(line.description is lines[0].description and line.unit is lines[0].unit for line in lines)
    assert all(line.tax_refs is lines[0].tax_refs for line in lines)
    assert all(d.currency is batch.documents[0].currency == "CAD" for d in batch.documents)
    assert lines[0].discount_percent is logic.ZERO


def test_shared_answers_the_first_of_equal_values():
    first = ("GST", "PST")
    assert logic.shared(first) is first
    assert logic.shared(tuple(["GST", "PST"])) is first


def test_a_plan_keeps_a_document_s_totals_in_minor_units_and_its_taxes_as_they_are_stored():
    import json

    from app.documents.records import tax_as_json
    from app.imports.service import Figures

    totals = logic.recompute(_document("105.00", ("1", "60.00", ("GST",)), ("2", "20.00", ("GST",))), CANADA).totals
    figures = Figures.of(totals, "CAD")
    assert (figures.nets, figures.subtotal, figures.tax_total, figures.total) == ((6000, 4000), 10000, 500, 10500)
    assert json.loads(figures.taxes_json) == [tax_as_json(t) for t in totals.taxes]
