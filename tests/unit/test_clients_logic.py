"""Clients: automatic codes and validation (app.clients.logic)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.clients.logic import clean_client, next_client_code
from app.common.logic import ValidationFailed


def test_first_code():
    assert next_client_code([]) == "C0001"


def test_one_above_the_highest():
    assert next_client_code(["C0001", "C0002"]) == "C0003"


def test_gaps_are_never_reused():
    assert next_client_code(["C0001", "C0003"]) == "C0004"
    assert next_client_code(["C0007"]) == "C0008"


def test_custom_codes_are_ignored():
    assert next_client_code(["ACME", "X-9", "C0002", "C12A", "CX", "C0002-B", "", None]) == "C0003"  # type: ignore[list-item]
    assert next_client_code(["ACME", "BIRCH"]) == "C0001"


def test_a_lower_case_automatic_looking_code_still_counts():
    # Codes are unique regardless of case, so "c0005" must not be handed out again as "C0005".
    assert next_client_code(["c0005", "C0002"]) == "C0006"


def test_order_does_not_matter_and_width_grows():
    assert next_client_code(["C0010", "C0002", "C0009"]) == "C0011"
    assert next_client_code(["C9999"]) == "C10000"
    assert next_client_code(["C10000", "C0005"]) == "C10001"


@given(st.lists(st.integers(min_value=1, max_value=99_999), max_size=30),
       st.lists(st.sampled_from(["ACME", "X-9", "C12A", "CX", "C-0001", "C0001B", "ZC0002"]), max_size=8))
def test_next_code_is_new_and_above_every_automatic_code(numbers, custom):
    existing = [f"C{n:04d}" for n in numbers] + custom
    code = next_client_code(existing)
    assert code not in existing
    assert int(code[1:]) == max(numbers, default=0) + 1


# -- validation ------------------------------------------------------------------

def errors_of(data, **kwargs) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failed:
        clean_client(data, **kwargs)
    return failed.value.by_field()


def test_a_full_client_is_cleaned():
    values = clean_client({
        "name": "  Zoë Tremblay ", "code": "ZT-1", "email": "Zoe@Example.COM", "phone": "+1 (416) 555-0199 ext. 12",
        "country": "ca", "currency": "cad", "language": "fr", "notes": "Prefers email.",
    })
    assert values["name"] == "Zoë Tremblay"
    assert values["email"] == "zoe@example.com"
    assert values["country"] == "CA"
    assert values["currency"] == "CAD"
    assert values["language"] == "fr"
    assert values["code"] == "ZT-1"


def test_language_defaults_to_english():
    assert clean_client({"name": "A"})["language"] == "en"


@pytest.mark.parametrize("name", ["", "   ", None])
def test_name_is_required(name):
    assert "name" in errors_of({"name": name})


@pytest.mark.parametrize(("field", "value"), [
    ("email", "not-an-email"), ("email", "a@b"), ("email", "two@@example.com"),
    ("country", "Canada"), ("country", "C1"), ("country", "C"),
    ("currency", "XYZ"), ("currency", "DOLLARS"),
    ("language", "xx"),
    ("code", "has space"), ("code", "-starts-with-dash"), ("code", "X" * 21),
    ("phone", "call me maybe"),
    ("name", "N" * 201),
    ("notes", "n" * 5001),
])
def test_bad_field_is_named(field, value):
    data = {"name": "Valid Name", field: value}
    errors = errors_of(data)
    assert list(errors) == [field]
    assert errors[field]


def test_every_bad_field_is_reported_at_once():
    errors = errors_of({"name": "", "email": "nope", "country": "Narnia", "currency": "XYZ"})
    assert set(errors) == {"name", "email", "country", "currency"}


def test_partial_update_checks_only_what_is_given():
    assert clean_client({"email": "new@example.com"}, partial=True) == {"email": "new@example.com"}
    assert set(errors_of({"email": "bad"}, partial=True)) == {"email"}
    # ...but a given empty name is still refused.
    assert set(errors_of({"name": ""}, partial=True)) == {"name"}


def test_empty_optional_fields_are_fine():
    values = clean_client({"name": "A", "email": "", "country": "", "currency": "", "phone": ""})
    assert values["email"] == values["country"] == values["currency"] == values["phone"] == ""
