"""The editor's pure helpers in app/documents/logic.py: form lines, line operations, item matching,
error names and the actions a document page offers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.documents import logic

ITEMS = [
    {"id": 1, "code": "DEV-H", "name": "Software development", "description": "Design and code.", "unit": "hour",
     "default_tax_codes": "HST"},
    {"id": 2, "code": "DEV", "name": "Développement", "description": "", "unit": "", "default_tax_codes": ""},
]


def test_lines_come_back_in_form_order_with_every_field():
    data = {"lines-10-description": "Third", "lines-2-description": "Second", "lines-0-description": "First",
            "lines-2-taxes": ["hst", "gst", ""], "lines-0-taxes": "GST", "lines-0-quantity": "3",
            "client_id": "4", "lines-x-description": "ignored", "lines-1-unknown": "ignored too"}
    lines = logic.lines_from_form(data)
    assert [line["description"] for line in lines] == ["First", "Second", "Third"]
    assert lines[0]["taxes"] == ["GST"] and lines[1]["taxes"] == ["HST", "GST"] and lines[2]["taxes"] == []
    assert lines[0]["quantity"] == "3" and lines[1]["quantity"] == "" and set(lines[0]) == set(logic.LINE_FORM_FIELDS)


def test_a_line_nobody_started_is_blank():
    assert logic.line_is_blank(logic.blank_line())
    assert logic.line_is_blank({"quantity": "4", "discount_percent": "10", "unit": "h"})
    assert not logic.line_is_blank({"description": "x"})
    assert not logic.line_is_blank({"unit_price": "0"})
    assert not logic.line_is_blank({"item": "DEV"})


@pytest.mark.parametrize(("field", "indexes", "expected"), [
    ("lines[0].quantity", [0, 2, 5], "lines-0-quantity"),
    ("lines[2].unit_price", [0, 2, 5], "lines-5-unit_price"),
    ("lines[7].taxes", [0], "lines-7-taxes"),
    ("currency", [0], "currency"),
])
def test_service_error_names_map_to_the_editor_inputs(field, indexes, expected):
    assert logic.form_error_field(field, indexes) == expected


def _lines(*names: str) -> list[dict]:
    return [{**logic.blank_line(), "description": name} for name in names]


def test_line_operations():
    lines, focus = logic.apply_line_op(_lines("a", "b"), "add")
    assert [l["description"] for l in lines] == ["a", "b", ""] and focus == 2
    lines, focus = logic.apply_line_op(_lines("a", "b", "c"), "up:2")
    assert [l["description"] for l in lines] == ["a", "c", "b"] and focus is None
    lines, _ = logic.apply_line_op(_lines("a", "b", "c"), "down:0")
    assert [l["description"] for l in lines] == ["b", "a", "c"]
    lines, _ = logic.apply_line_op(_lines("a", "b"), "remove:0")
    assert [l["description"] for l in lines] == ["b"]
    lines, _ = logic.apply_line_op(_lines("a"), "remove:0")
    assert lines == [logic.blank_line()]  # the editor always has a line to type in


@pytest.mark.parametrize("op", ["up:0", "down:1", "remove:9", "up:x", "explode", "", "remove:-1"])
def test_line_operations_that_make_no_sense_change_nothing(op):
    original = _lines("a", "b")
    assert logic.apply_line_op(original, op) == (original, None)


def test_adding_stops_at_the_line_limit():
    lines = _lines(*["x"] * logic.MAX_LINES)
    assert len(logic.apply_line_op(lines, "add")[0]) == logic.MAX_LINES


@pytest.mark.parametrize(("text", "item_id"), [
    ("DEV-H — Software development", 1), ("dev-h", 1), ("software DEVELOPMENT", 1), ("DEV", 2),
    ("developpement", 2), ("DEV — Développement", 2), ("DEV-", None), ("", None), ("Software", None),
])
def test_typed_text_matches_a_catalogue_item(text, item_id):
    item = logic.match_item(text, ITEMS)
    assert (item["id"] if item else None) == item_id


def test_picking_an_item_fills_the_line_but_keeps_quantity_and_discount():
    line = {**logic.blank_line(), "quantity": "3", "discount_percent": "10", "description": "old", "taxes": ["GST"]}
    filled = logic.fill_from_item(line, ITEMS[0], Decimal("125.0000"))
    assert filled["item"] == "DEV-H — Software development" and filled["item_id"] == "1"
    assert filled["description"] == "Design and code." and filled["unit"] == "hour"
    assert filled["unit_price"] == "125.00" and filled["taxes"] == ["HST"]
    assert filled["quantity"] == "3" and filled["discount_percent"] == "10"
    named = logic.fill_from_item({**logic.blank_line(), "quantity": ""}, ITEMS[1], Decimal("0.0125"))
    assert named["description"] == "Développement" and named["unit_price"] == "0.0125" and named["quantity"] == "1"


def actions(doc_type, stored, shown=None, paid="0", credited="0", balance="100", owner=True):
    return logic.available_actions(doc_type, stored, shown or stored, paid=Decimal(paid), credited=Decimal(credited),
                                   balance_due=Decimal(balance), is_owner=owner)


def test_actions_follow_the_document_state():
    assert actions("invoice", "draft") == {"edit", "issue", "delete", "duplicate"}
    assert actions("invoice", "draft", owner=False) == {"edit", "issue", "duplicate"}
    assert actions("invoice", "issued") == {"mark_sent", "credit", "record_payment", "cancel", "duplicate"}
    assert actions("invoice", "sent", "partial", paid="40", balance="60") == {"credit", "record_payment", "duplicate"}
    assert actions("invoice", "sent", "paid", paid="100", balance="0") == {"duplicate"}
    assert actions("invoice", "cancelled", credited="100", balance="0") == {"duplicate"}
    assert actions("quote", "issued") == {"accept", "decline", "convert", "duplicate"}
    assert actions("quote", "issued", "expired") == {"decline", "duplicate"}   # too late to accept or convert
    assert actions("quote", "accepted") == {"convert", "duplicate"}
    assert actions("quote", "converted") == {"duplicate"}
    assert actions("credit_note", "issued") == {"duplicate"}


def test_each_offered_action_passes_the_state_checks():
    """The page never offers what the service's checks refuse."""
    for stored in ("issued", "accepted", "declined", "converted"):
        offered = actions("quote", stored)
        for action in ("accept", "decline", "convert"):
            if action in offered:
                logic.check_quote_transition(action, stored, stored)
    for stored, paid, credited in (("issued", "0", "0"), ("sent", "10", "0"), ("sent", "0", "10")):
        if "cancel" in actions("invoice", stored, paid=paid, credited=credited):
            logic.check_can_cancel(stored, Decimal(paid), Decimal(credited))
