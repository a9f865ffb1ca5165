"""app.common.choices.logic: the pickers' lists from Babel's data and the checks behind them."""

from __future__ import annotations

import pytest

from app.common.choices import logic


@pytest.mark.parametrize("code", ["de_DE", "fr_BE", "en_AU", "en-au", "DE_ch", "fr_CA", "en", "fr", "de", " de_AT "])
def test_any_locale_babel_knows_for_a_supported_language_is_accepted(code: str) -> None:
    assert logic.is_supported_locale(code)


@pytest.mark.parametrize("code", ["es", "es_ES", "it_IT", "de_XX", "en_001", "en_Shaw", "fr_BE_x", "", "e", "Deutsch"])
def test_other_locales_are_refused(code: str) -> None:
    assert not logic.is_supported_locale(code)


def test_locales_are_written_as_babel_writes_them() -> None:
    assert [logic.normal_locale(t) for t in ("de-de", "FR_be", " en_au ", "DE")] == ["de_DE", "fr_BE", "en_AU", "de"]


def test_the_locale_list_holds_every_supported_locale_with_its_name() -> None:
    found = dict(logic.locales("en"))
    assert found["fr_BE"] == "French (Belgium)" and found["de_DE"] == "German (Germany)"
    assert list(found)[:3] == ["en", "fr", "de"]  # the bare languages first
    assert all(logic.is_supported_locale(code) for code in found)
    assert dict(logic.locales("de"))["fr_BE"] == "Französisch (Belgien)"  # names in the reader's language


def test_countries_are_iso_codes_with_names_and_no_pseudo_regions() -> None:
    found = dict(logic.countries("en"))
    assert found["DE"] == "Germany" and found["CA"] == "Canada"
    assert dict(logic.countries("fr"))["DE"] == "Allemagne"
    assert not {"EU", "ZZ", "UN", "001"} & set(found)
    assert logic.is_country("BE") and not logic.is_country("EU") and not logic.is_country("QQ")


def test_currencies_are_those_in_use_today() -> None:
    codes = dict(logic.currencies("en"))
    assert {"EUR", "CAD", "USD", "CHF", "JPY"} <= set(codes)
    assert codes["EUR"] == "Euro"
    assert "DEM" not in codes and "FRF" not in codes  # the mark and the franc are history


def test_time_zones_are_places_and_utc() -> None:
    zones = logic.time_zones()
    assert zones[0] == "UTC" and "Europe/Berlin" in zones and "America/Toronto" in zones
    assert not any(zone.startswith(("Etc/", "posix/", "right/")) for zone in zones)
    assert logic.is_time_zone("Europe/Paris") and not logic.is_time_zone("Mars/Olympus")
