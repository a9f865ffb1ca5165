"""Clients: automatic codes and validation (app.clients.logic)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.clients.logic import clean_client, is_leitweg_id, leitweg_id_problem, next_client_code
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


# -- the buyer reference (EN 16931 BT-10, a German authority's Leitweg-ID) -------------------

@pytest.mark.parametrize("reference", [
    "04011000-1234512345-06", "991-33333TEST-33", "PO 4711 / cost centre 12", "Bestellung vom 3. März", "R" * 100,
])
def test_buyer_reference_is_free_text_of_one_line(reference):
    assert clean_client({"name": "A", "buyer_reference": f"  {reference} "})["buyer_reference"] == reference


@pytest.mark.parametrize(("value", "message"), [
    ("R" * 101, "at most 100"), ("PO 1\nPO 2", "one line"), ("PO\t1", "one line"),
])
def test_a_bad_buyer_reference_is_named(value, message):
    errors = errors_of({"name": "A", "buyer_reference": value})
    assert list(errors) == ["buyer_reference"] and message in errors["buyer_reference"]


def test_a_partial_update_leaves_the_buyer_reference_alone():
    assert "buyer_reference" not in clean_client({"city": "Bremen"}, partial=True)
    assert clean_client({"buyer_reference": ""}, partial=True) == {"buyer_reference": ""}


def test_leitweg_ids_are_recognised_by_their_check_digits():
    assert is_leitweg_id("04011000-1234512345-06") and is_leitweg_id("991-33333TEST-33")
    assert is_leitweg_id("04011000-12345ABCXYZ-86") and is_leitweg_id("04011000-12345abcxyz-86")
    assert not is_leitweg_id("04011000-1234512345-07") and not is_leitweg_id("2024-05")
    assert not is_leitweg_id("PO 4711") and not is_leitweg_id("")


def test_a_mistyped_leitweg_id_is_only_a_warning():
    warning = leitweg_id_problem("04011000-1234512354-06")  # two digits swapped
    assert warning and "check digits" in warning
    assert clean_client({"name": "A", "buyer_reference": "04011000-1234512354-06"})  # still saved
    for fine in ("04011000-1234512345-06", "2024-05", "12345-01", "PO 4711", "", "Kostenstelle 4-711-22"):
        assert leitweg_id_problem(fine) is None, fine


def _with_check_digits(coarse: str, fine: str) -> str:
    """ISO 7064 MOD 97-10, as the Leitweg-ID specification computes its last two digits."""
    digits = "".join(str(int(ch, 36)) for ch in (coarse + fine).upper())
    return f"{coarse}-{fine}-{98 - int(digits + '00') % 97:02d}" if fine else \
        f"{coarse}-{98 - int(digits + '00') % 97:02d}"


@given(st.from_regex(r"[0-9]{2,12}", fullmatch=True), st.from_regex(r"[A-Za-z0-9]{0,30}", fullmatch=True),
       st.integers(1, 98))
def test_any_leitweg_id_with_its_check_digits_is_recognised_and_any_other_check_is_not(coarse, fine, shift):
    good = _with_check_digits(coarse, fine)
    assert is_leitweg_id(good) and leitweg_id_problem(good) is None
    check = int(good[-2:])
    wrong = good[:-2] + f"{(check + shift) % 100:02d}"
    if int(wrong[-2:]) % 97 != check % 97:  # 00/97 and 01/98 are the same check
        assert not is_leitweg_id(wrong)
        assert (leitweg_id_problem(wrong) is not None) == bool(fine)
