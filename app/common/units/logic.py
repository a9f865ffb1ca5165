"""The standard units (hour, day, piece, month...) and their names in each language (issue 15).

A line's unit is free text. When it is one of the standard units, in any of the three languages or as a
usual abbreviation ("h", "Std.", "heures", "pcs"), it is printed in the reader's language: a document in
the client's, a page in the user's; any other unit ("licence", "Seite") is printed as typed. Singular or
plural follows the quantity by the language's own rule (French: 1,5 heure; English: 1.5 hours).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel import Locale

from app.common.i18n import N_, current_language

# {unit: {language: (one, other)}}; English is also the gettext source for pages.
STANDARD_UNITS: dict[str, dict[str, tuple[str, str]]] = {
    "hour": {"en": ("hour", "hours"), "fr": ("heure", "heures"), "de": ("Stunde", "Stunden")},
    "day": {"en": ("day", "days"), "fr": ("jour", "jours"), "de": ("Tag", "Tage")},
    "week": {"en": ("week", "weeks"), "fr": ("semaine", "semaines"), "de": ("Woche", "Wochen")},
    "month": {"en": ("month", "months"), "fr": ("mois", "mois"), "de": ("Monat", "Monate")},
    "quarter": {"en": ("quarter", "quarters"), "fr": ("trimestre", "trimestres"), "de": ("Quartal", "Quartale")},
    "year": {"en": ("year", "years"), "fr": ("an", "ans"), "de": ("Jahr", "Jahre")},
    "minute": {"en": ("minute", "minutes"), "fr": ("minute", "minutes"), "de": ("Minute", "Minuten")},
    "piece": {"en": ("piece", "pieces"), "fr": ("pièce", "pièces"), "de": ("Stück", "Stück")},
    "item": {"en": ("item", "items"), "fr": ("article", "articles"), "de": ("Artikel", "Artikel")},
    "unit": {"en": ("unit", "units"), "fr": ("unité", "unités"), "de": ("Einheit", "Einheiten")},
    "flat_rate": {"en": ("flat rate", "flat rates"), "fr": ("forfait", "forfaits"), "de": ("Pauschale", "Pauschalen")},
    "page": {"en": ("page", "pages"), "fr": ("page", "pages"), "de": ("Seite", "Seiten")},
    "word": {"en": ("word", "words"), "fr": ("mot", "mots"), "de": ("Wort", "Wörter")},
    "night": {"en": ("night", "nights"), "fr": ("nuit", "nuits"), "de": ("Nacht", "Nächte")},
    "user": {"en": ("user", "users"), "fr": ("utilisateur", "utilisateurs"), "de": ("Nutzer", "Nutzer")},
}
# Marked for the catalogs too (a translator sees them); pages and PDFs take the names from the table above.
_FOR_EXTRACTION = [(N_("hour"), N_("hours")), (N_("day"), N_("days")), (N_("week"), N_("weeks")),
                   (N_("month"), N_("months")), (N_("quarter"), N_("quarters")), (N_("year"), N_("years")),
                   (N_("minute"), N_("minutes")), (N_("piece"), N_("pieces")), (N_("item"), N_("items")), (N_("unit"), N_("units")),
                   (N_("flat rate"), N_("flat rates")), (N_("page"), N_("pages")), (N_("word"), N_("words")),
                   (N_("night"), N_("nights")), (N_("user"), N_("users"))]
# What people type for them, besides their names above (compared folded, without a final ".").
ABBREVIATIONS = {
    "h": "hour", "hr": "hour", "hrs": "hour", "std": "hour", "stde": "hour", "stdn": "hour",
    "d": "day", "j": "day", "t": "day",
    "wk": "week", "wks": "week", "sem": "week", "wo": "week",
    "mo": "month", "mth": "month", "mths": "month", "mon": "month", "mt": "month",
    "qtr": "quarter", "trim": "quarter", "quartal": "quarter",
    "yr": "year", "yrs": "year", "année": "year", "années": "year", "annee": "year",
    "min": "minute", "mins": "minute",
    "pc": "piece", "pcs": "piece", "pce": "piece", "stk": "piece", "pièce": "piece", "pcs.": "piece",
    "ea": "unit", "each": "unit", "stück": "piece",
    "lump sum": "flat_rate", "flat": "flat_rate", "flat fee": "flat_rate", "pauschal": "flat_rate",
    "forfaitaire": "flat_rate", "pauschalpreis": "flat_rate",
}


def _folded(text: str) -> str:
    return " ".join(text.strip().rstrip(".").split()).casefold()


@lru_cache(maxsize=1)
def _known() -> dict[str, str]:
    known = {}
    for unit, names in STANDARD_UNITS.items():
        for one, other in names.values():
            known[_folded(one)] = unit
            known[_folded(other)] = unit
    known.update({_folded(alias): unit for alias, unit in ABBREVIATIONS.items()})
    return known


def standard_unit(text: str) -> str | None:
    """The standard unit a typed unit is ("Std." -> "hour", "pièces" -> "piece"), or None."""
    return _known().get(_folded(text or "")) if text else None


@lru_cache(maxsize=16)
def _plural_rule(language: str) -> Locale:
    return Locale.parse(language)


def unit_in(text: str, language: str, quantity: Decimal | int | str = 1) -> str:
    """A line's unit as a document in `language` prints it (for `quantity`); any other unit as typed."""
    unit = standard_unit(text)
    if unit is None or language not in STANDARD_UNITS[unit]:
        return text
    one, other = STANDARD_UNITS[unit][language]
    try:
        form = _plural_rule(language).plural_form(abs(Decimal(str(quantity))))
    except (ValueError, ArithmeticError):
        form = "other"
    return one if form == "one" else other


def unit_here(text: str, quantity: Decimal | int | str = 1) -> str:
    """A line's unit on a page, in the reader's language (gettext): the English names are the catalogs'
    source; any other unit as typed."""
    unit = standard_unit(text)
    if unit is None:
        return text
    names = STANDARD_UNITS[unit]
    one, other = names.get(current_language()) or names["en"]
    try:
        count = abs(Decimal(str(quantity)))
    except ArithmeticError:
        count = Decimal(2)
    # English writes the plural for anything but 1 (1.5 hours); French keeps the singular below 2 (1,5 heure).
    singular = count < 2 if current_language() == "fr" else count == 1
    return one if singular else other
