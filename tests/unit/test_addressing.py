"""app/common/addressing/logic.py: electronic addresses (BT-34, BT-49) and their EAS schemes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.clients.logic import clean_client
from app.common.addressing.logic import (
    COMMON_SCHEMES,
    EAS_CODES,
    clean_electronic_address,
    scheme_choices,
    scheme_problem,
)
from app.common.logic import ValidationFailed
from app.settings.logic import clean_settings


@pytest.mark.parametrize(("scheme", "address"), [
    ("0208", "0123456749"), ("0208", "0879464059"), ("0088", "7540012345674"), ("0088", "4000001000005"),
    ("0192", "974760673"), ("0007", "5560360793"), ("0184", "DK12345678"), ("0106", "12345678"),
    ("0190", "00000001234567890000"), ("0204", "04011000-1234512345-06"), ("9930", "DE123456789"),
    ("9925", "BE0123456749"), ("9944", "NL123456789B01"), ("EM", "ap@example.com"), ("0060", "123456789"),
])
def test_well_formed_addresses_pass(scheme, address):
    assert scheme_problem(scheme, address) is None


@pytest.mark.parametrize(("scheme", "address", "words"), [
    ("0208", "0123456748", "Belgian enterprise number"), ("0208", "123456749", "Belgian enterprise number"),
    ("0088", "7540012345675", "GLN"), ("0192", "974760674", "Norwegian"), ("0007", "5560360794", "Swedish"),
    ("0106", "1234567", "KvK"), ("0204", "04011000-1234512345-07", "Leitweg-ID"), ("9930", "FR123456789", "DE"),
    ("EM", "not-an-email", "email"),
])
def test_malformed_addresses_are_explained(scheme, address, words):
    assert words in (scheme_problem(scheme, address) or "")


@given(st.integers(min_value=0, max_value=99_999_999))
def test_every_belgian_number_with_its_check_digits_passes_and_no_other_check_does(body):
    check = 97 - body % 97
    number = f"{body:08d}{check:02d}"
    assert scheme_problem("0208", number) is None
    wrong = f"{body:08d}{(check % 97) + 1:02d}"
    assert scheme_problem("0208", wrong) is not None


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_every_gln_with_its_check_digit_passes_and_no_other_does(body):
    valid = [d for d in "0123456789" if scheme_problem("0088", body + d) is None]
    assert len(valid) == 1


def test_both_or_neither_and_normalised():
    assert clean_electronic_address({"electronic_address_scheme": " 9925 ", "electronic_address": "be 0123 456 749"},
                                    partial=False) == ({"electronic_address_scheme": "9925",
                                                        "electronic_address": "BE0123456749"}, [])
    assert clean_electronic_address({}, partial=False) == ({"electronic_address_scheme": "",
                                                            "electronic_address": ""}, [])
    assert clean_electronic_address({}, partial=True) == ({}, [])
    values, errors = clean_electronic_address({"electronic_address": "0123456749"}, partial=True)
    assert values == {} and errors[0].field == "electronic_address_scheme"
    values, errors = clean_electronic_address({"electronic_address_scheme": "0208"}, partial=False)
    assert values == {} and errors[0].field == "electronic_address"
    values, errors = clean_electronic_address({"electronic_address_scheme": "0208",
                                               "electronic_address": "x" * 101}, partial=False)
    assert "too long" in errors[0].message


def test_clients_and_settings_validate_the_pair():
    with pytest.raises(ValidationFailed) as failed:
        clean_client({"name": "Gent", "electronic_address_scheme": "0208", "electronic_address": "0207451228"})
    assert set(failed.value.by_field()) == {"electronic_address"}
    assert clean_client({"name": "Gent", "electronic_address_scheme": "0208",
                         "electronic_address": "0207451227"})["electronic_address"] == "0207451227"
    assert clean_settings({"electronic_address_scheme": "0088", "electronic_address": "7540012345674"},
                          partial=True) == {"electronic_address_scheme": "0088", "electronic_address": "7540012345674"}


def test_the_scheme_choices_cover_the_common_schemes_and_keep_another_one():
    codes = [code for code, _ in scheme_choices()]
    assert codes[0] == "" and set(codes[1:]) == set(COMMON_SCHEMES) <= EAS_CODES
    assert scheme_choices("9959")[-1] == ("9959", "9959 · other EAS scheme")
