"""Tax names and notes per language (app.taxes.logic) and the standard units (app.common.units.logic), pure."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.common.logic import ValidationFailed
from app.common.units.logic import STANDARD_UNITS, standard_unit, unit_in
from app.documents.logic import TaxAmount
from app.documents.records import tax_as_json, tax_from_json
from app.taxes import logic
from app.taxes.logic import PRESET_NAMES, PRESET_NOTES, PRESETS, TaxRate, tax_label, tax_note


def test_every_preset_rate_has_its_name_and_note_in_every_language():
    for _, rates in PRESETS.values():
        for rate in rates:
            translated = logic.preset_rate(rate)
            assert set(translated.names) == set(logic.TEXT_LANGUAGES), rate.name
            if rate.note:
                assert set(translated.notes) == set(logic.TEXT_LANGUAGES), rate.note
    assert PRESET_NOTES[logic.REVERSE_CHARGE_NOTE]["de"].startswith("Steuerschuldnerschaft des Leistungsempfängers")


def test_a_label_falls_back_to_the_name_and_the_code():
    rate = TaxRate("VAT19", "USt. 19 %", Decimal(19), names={"fr": "TVA 19 %"})
    assert tax_label(rate, "fr") == "TVA 19 %" and tax_label(rate, "en") == "USt. 19 %"
    assert tax_label({"code": "X", "name": "", "names": ""}, "de") == "X"
    assert tax_label({"code": "X", "name": "Tax", "names": '{"de": "Steuer"}'}, "de") == "Steuer"
    assert tax_note(TaxRate("RC", "RC", Decimal(0), note="Reverse charge.", notes={"fr": "Autoliquidation."}),
                    "fr") == "Autoliquidation."
    assert tax_note(TaxRate("S", "S", Decimal(0), note="", notes={"fr": "orphan"}), "fr") == ""  # no note, none


def test_a_row_defined_before_texts_per_language_gets_its_presets_translations():
    row = {"code": "VAT19", "name": "USt. 19 %", "rate": "19", "compound": False, "note": "", "category": "S",
           "names": "", "notes": ""}
    assert logic.rate_of(row).names == PRESET_NAMES["USt. 19 %"]
    assert logic.rate_of({**row, "name": "Meine Steuer"}).names == {}
    assert logic.rate_of({**row, "names": '{"fr": "Mienne"}'}).names == {"fr": "Mienne"}


def test_the_frozen_breakdown_keeps_the_texts_and_old_breakdowns_read_without_them():
    tax = TaxAmount("RC", "Reverse charge", Decimal(0), Decimal(100), Decimal(0), category="AE", note="RC.",
                    names={"fr": "Autoliquidation"}, notes={"fr": "Autoliq."})
    again = tax_from_json(tax_as_json(tax))
    assert again == tax and again.names == {"fr": "Autoliquidation"} and again.notes == {"fr": "Autoliq."}
    old = {k: v for k, v in tax_as_json(tax).items() if k not in ("names", "notes")}
    assert tax_from_json(old).names == {} and tax_label(tax_from_json(old), "fr") == "Reverse charge"


def test_texts_are_checked_naming_the_field():
    values = logic.clean_tax({"code": "T", "name": "Tax", "rate": "5", "names": {"fr": " Taxe ", "de": ""},
                              "note_de": "Hinweis"})
    assert values["names"] == '{"fr": "Taxe"}' and values["notes"] == '{"de": "Hinweis"}'
    with pytest.raises(ValidationFailed) as refused:
        logic.clean_tax({"code": "T", "name": "Tax", "rate": "5", "names": {"it": "Tassa"}, "note_fr": "a\nb"})
    assert set(refused.value.by_field()) == {"names.it", "note_fr"}
    assert "partial" not in logic.clean_tax({"name_de": "Steuer"}, partial=True)
    assert logic.clean_tax({"name_de": "Steuer"}, partial=True)["names"] == '{"de": "Steuer"}'
    assert "names" not in logic.clean_tax({"rate": "7"}, partial=True)   # absent: left as it is


@pytest.mark.parametrize(("typed", "language", "quantity", "printed"), [
    ("h", "de", "8", "Stunden"), ("Std.", "fr", "1.5", "heure"), ("hours", "en", "1", "hour"),
    ("hour", "en", "1.5", "hours"), ("jours", "de", "2", "Tage"), ("Tag", "fr", "1", "jour"),
    ("pcs", "fr", "3", "pièces"), ("Stück", "en", "2", "pieces"), ("month", "fr", "2", "mois"),
    ("forfait", "de", "1", "Pauschale"), ("Lizenz", "fr", "2", "Lizenz"), ("", "de", "1", ""),
    ("  HOUR ", "de", "1", "Stunde"),
])
def test_standard_units_print_in_the_documents_language(typed, language, quantity, printed):
    assert unit_in(typed, language, Decimal(quantity)) == printed


@given(st.sampled_from(sorted(STANDARD_UNITS)), st.sampled_from(["en", "fr", "de"]),
       st.sampled_from(["en", "fr", "de"]), st.decimals(0, 10000, places=2))
def test_a_printed_unit_is_read_back_as_the_same_unit(unit, written_in, printed_in, quantity):
    one, other = STANDARD_UNITS[unit][written_in]
    for typed in (one, other):
        printed = unit_in(typed, printed_in, quantity)
        assert standard_unit(printed) == unit
        assert printed in STANDARD_UNITS[unit][printed_in]
