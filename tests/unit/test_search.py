"""Search folding (accents, case, phone digits) and list paging, as app.common.logic defines them."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.clients.logic import search_keys
from app.common.logic import (
    MAX_PER_PAGE,
    SearchQuery,
    ValidationFailed,
    digits_only,
    fold_text,
    glob_pattern,
    matches,
    parse_page,
    parse_search,
)
from app.documents.logic import search_text_of


@pytest.mark.parametrize(("text", "folded"), [
    ("Zoë", "zoe"),
    ("ZOË", "zoe"),
    ("Zoë Ångström", "zoe angstrom"),
    ("Amélie Côté", "amelie cote"),
    ("Søren Ødegaard", "soren odegaard"),
    ("Łukasz", "lukasz"),
    ("Jürgen Müller", "jurgen muller"),
    ("Straße", "strasse"),
    ("Æther Œuvre", "aether oeuvre"),
    ("  Lots   of\tspace \n", "lots of space"),
    ("ﬁle", "file"),          # compatibility ligature
    ("", ""),
])
def test_fold_text(text, folded):
    assert fold_text(text) == folded


def test_fold_text_accepts_none():
    assert fold_text(None) == ""  # type: ignore[arg-type]


def client_keys(name="", code="", email="", phone="", contact=""):
    return search_keys(name, code, email, phone, contact)


def finds(query: str, **client) -> bool:
    return matches(parse_search(query), *client_keys(**client))


@pytest.mark.parametrize("query", ["zoe", "Zoe", "ZOË", "zoë", "zo", "tremblay zoe", "ZOE TREM"])
def test_accents_and_case_are_forgiven(query):
    assert finds(query, name="Zoë Tremblay", code="C0001")


@pytest.mark.parametrize("query", ["555 0199", "5550199", "416-555-0199", "(416) 555-0199", "+1 416 555 0199",
                                   "0199"])
def test_phone_digits_match_however_they_are_typed(query):
    assert finds(query, name="Maple Bakery", phone="+1 416 555 0199")


def test_digit_run_matches_only_through_the_phones_digits():
    # "4165550199" is not a word of the folded text; it matches only as a digit run.
    query = parse_search("4165550199")
    text, digits = client_keys(name="Maple Bakery", phone="+1 416 555 0199")
    assert "4165550199" not in text
    assert matches(query, text, digits)
    assert not matches(query, text, "")


@pytest.mark.parametrize("query", ["zoey", "zoe smith", "555 0198", "4165550198", "bakery"])
def test_non_matches(query):
    assert not finds(query, name="Zoë Tremblay", phone="+1 416 555 0199", email="zoe@example.com")


def test_every_word_must_match():
    assert finds("maple bakery", name="Maple Bakery")
    assert not finds("maple cafe", name="Maple Bakery")


def test_search_covers_code_email_and_contact():
    client = dict(name="Harbour Logistics", code="HARB-7", email="Accounts@Harbour.example", contact="Chloé Roy")
    assert finds("harb-7", **client)
    assert finds("accounts@harbour", **client)
    assert finds("chloe", **client)


def test_short_digit_runs_do_not_search_phones():
    assert parse_search("55").digits == ""
    assert parse_search("555").digits == "555"
    # "65" is in the phone's digits (1416555...) but not in its text: two digits search no phone.
    assert not finds("65", name="Birch Café", phone="+1 416 555 0100")
    assert finds("6555", name="Birch Café", phone="+1 416 555 0100")


def test_empty_query_matches_everything():
    assert parse_search("   ").empty
    assert matches(parse_search(""), "anything", "")


def test_parse_search_folds_once():
    assert parse_search("  Zoë  TREMBLAY ") == SearchQuery(words=("zoe", "tremblay"), digits="")


@given(st.text(max_size=40))
def test_folding_is_idempotent_and_lower(text):
    once = fold_text(text)
    assert fold_text(once) == once
    assert once == once.casefold()
    assert once == once.strip()


@given(st.text(alphabet=st.characters(categories=["L", "Nd", "Zs", "P"]), min_size=1, max_size=30))
def test_a_name_always_finds_itself(name):
    query = parse_search(name)
    text, digits = client_keys(name=name)
    assert matches(query, text, digits)


def test_digits_only():
    assert digits_only("+1 (416) 555-0199 ext. 12") == "1416555019912"
    assert digits_only("") == ""


# -- paging -------------------------------------------------------------------

def test_parse_page_defaults_and_offset():
    page = parse_page(None, None, default_per_page=25)
    assert (page.page, page.per_page, page.offset) == (1, 25, 0)
    page = parse_page("3", "20")
    assert (page.page, page.per_page, page.offset) == (3, 20, 40)
    assert parse_page(1, MAX_PER_PAGE).per_page == 500


@pytest.mark.parametrize(("page", "per_page", "field"), [
    (0, 10, "page"), (-1, 10, "page"), ("x", 10, "page"),
    (1, 0, "per_page"), (1, 501, "per_page"), (1, "lots", "per_page"),
])
def test_parse_page_names_the_bad_field(page, per_page, field):
    with pytest.raises(ValidationFailed) as failed:
        parse_page(page, per_page)
    assert [error.field for error in failed.value.errors] == [field]


def test_control_characters_separate_words_like_spaces():
    """A NUL would end an FTS5 query string early: control characters never occur in what is searched."""
    assert parse_search("lo\x00go").words == ("lo", "go")
    assert parse_search("\x00\x1f\x7f").empty


# The GLOB patterns' own characters and brackets, among letters: the document lists test a word with GLOB.
GLOB_TEXT = st.text(st.sampled_from("ab*?[]^!-\\%_é "), max_size=12)


@given(text=GLOB_TEXT, word=GLOB_TEXT.filter(bool))
def test_a_glob_pattern_finds_a_word_exactly_where_a_substring_test_does(text, word):
    connection = sqlite3.connect(":memory:")
    try:
        found = connection.execute("SELECT ? GLOB ?", (text, glob_pattern(word))).fetchone()[0]
    finally:
        connection.close()
    assert bool(found) == (word in text)


@given(parts=st.lists(st.text(st.sampled_from("ab \x00\x01\t\x1f\x7f"), max_size=6), max_size=3),
       word=st.text(st.sampled_from("ab"), min_size=1, max_size=3))
def test_a_documents_search_text_holds_no_control_character_and_matches_as_its_parts_do(parts, word):
    """GLOB stops at a NUL: the text searched never holds one, and a typed word (which never holds a control
    character either) is found in it exactly when it is found in one of its parts."""
    text = search_text_of("", "", parts)
    assert not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text)
    assert (word in text) == any(word in fold_text(part) for part in parts)
