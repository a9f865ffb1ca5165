"""app.web.inputs, the pure parts: how deep decoded JSON nests and which whole numbers in it SQLite cannot
hold, and which query values are out of range."""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.web.inputs import MAX_JSON_DEPTH, day_problem, json_shape, whole_number_problem

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
def test_the_depth_is_the_nesting_of_arrays_and_objects(value):
    assert json_shape(msgspec.json.decode(json.dumps(value).encode())).depth == depth_of(value)


def test_a_value_nested_as_deep_as_msgspec_goes_is_walked_without_recursion():
    nested: list = []
    for _ in range(50_000):
        nested = [nested]
    assert json_shape(nested).depth == 50_001
    assert MAX_JSON_DEPTH >= 8
    with pytest.raises(RecursionError):   # what app.web.inputs turns into a 400 naming the body
        msgspec.json.decode(b"[" * 200_000 + b"]" * 200_000)


def test_whole_numbers_beyond_64_bits_are_found_by_path_in_order():
    body = {"client_id": 2**63, "lines": [{"item_id": 5}, {"item_id": -(2**63) - 1}] + [{"item_id": 1}] * 8
            + [{"item_id": 2**64}], "ok": 2**63 - 1, "flag": True, "price": 1e300}
    assert json_shape(body).oversized == ("client_id", "lines[1].item_id", "lines[10].item_id")
    assert json_shape(2**64).oversized == ("body",)


def test_query_values_out_of_range_are_named():
    assert whole_number_problem("page", "9223372036854775807") is None
    assert whole_number_problem("page", "9223372036854775808") == "page is too large (at most 9223372036854775807)"
    assert "too small" in whole_number_problem("client_id", "-9223372036854775809")
    assert "too large" in whole_number_problem("page", "9" * 5000)   # no int() of 5000 digits
    assert whole_number_problem("page", "007") is None and whole_number_problem("page", "abc") is None
    assert day_problem("from", "2026-01-31") is None and day_problem("from", "soon") is None
    assert day_problem("from", "0001-01-01") == "from must be between 1900 and 2200 (not 0001-01-01)"
