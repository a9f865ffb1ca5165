"""app.web.inputs, the pure parts: how deep JSON nests, which whole numbers SQLite cannot hold, which query
values are out of range."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from app.web.inputs import MAX_JSON_DEPTH, day_problem, json_depth, oversized_integers, whole_number_problem

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}",\\abc\n'),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(alphabet="[]{}\"'a", max_size=4),
                                                                      children, max_size=3),
    max_leaves=30)


def depth_of(value) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


@given(JSON_VALUES)
def test_the_depth_counts_brackets_outside_strings_only(value):
    assert json_depth(json.dumps(value).encode()) == depth_of(value)


def test_a_deep_body_is_measured_without_recursion():
    assert json_depth(b"[" * 100_000 + b"]" * 100_000) == 100_000
    assert json_depth(b'{"a": "[[[[[[\\"[[["}') == 1
    assert MAX_JSON_DEPTH >= 8


def test_whole_numbers_beyond_64_bits_are_found_by_path():
    body = {"client_id": 2**63, "lines": [{"item_id": 5}, {"item_id": -(2**63) - 1}], "ok": 2**63 - 1,
            "flag": True, "price": 1e300}
    assert oversized_integers(body) == ["client_id", "lines[1].item_id"]
    assert oversized_integers(2**64) == ["body"]


def test_query_values_out_of_range_are_named():
    assert whole_number_problem("page", "9223372036854775807") is None
    assert whole_number_problem("page", "9223372036854775808") == "page is too large (at most 9223372036854775807)"
    assert "too small" in whole_number_problem("client_id", "-9223372036854775809")
    assert "too large" in whole_number_problem("page", "9" * 5000)   # no int() of 5000 digits
    assert whole_number_problem("page", "007") is None and whole_number_problem("page", "abc") is None
    assert day_problem("from", "2026-01-31") is None and day_problem("from", "soon") is None
    assert day_problem("from", "0001-01-01") == "from must be between 1900 and 2200 (not 0001-01-01)"
