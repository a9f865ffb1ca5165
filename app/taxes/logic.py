"""Named tax rates and the presets a new user can pick with one click. Pure."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from app.common.i18n import N_, _
from app.common.logic import Form, fold_text, line_problem
from app.common.numbers import input_text

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,19}$")
CATEGORIES = {"S": N_("Standard rate"), "Z": N_("Zero rated"), "E": N_("Exempt"), "AE": N_("Reverse charge"),
              "K": N_("Intra-community supply"), "G": N_("Export outside the EU"), "O": N_("Outside the scope of VAT")}
REVERSE_CHARGE_NOTE = ("Reverse charge: VAT to be accounted for by the recipient, "
                       "Art. 196 Directive 2006/112/EC.")


@dataclass(frozen=True)
class TaxRate:
    code: str
    name: str
    rate: Decimal
    compound: bool = False
    note: str = ""
    category: str = "S"
    # The name and the legal note in other languages ({language: text}): a document prints them in its language.
    names: Mapping[str, str] = field(default_factory=dict, compare=False)
    notes: Mapping[str, str] = field(default_factory=dict, compare=False)


def _t(code: str, name: str, rate: str, compound: bool = False, note: str = "", category: str = "S") -> TaxRate:
    return TaxRate(code, name, Decimal(rate), compound, note, category)


PRESETS: dict[str, tuple[str, list[TaxRate]]] = {
    "canada": ("Canada", [
        _t("GST", "GST", "5"),
        _t("HST", "HST (ON)", "13"), _t("HST15", "HST (Atlantic)", "15"),
        _t("PST", "PST (BC)", "7"), _t("QST", "QST (QC)", "9.975"),
        _t("EXPORT", "Zero-rated export", "0", category="Z",
           note="Zero-rated export of services (Excise Tax Act, Schedule VI, Part V)."),
    ]),
    "germany": ("Germany", [
        _t("VAT19", "USt. 19 %", "19"), _t("VAT7", "USt. 7 %", "7"),
        _t("VAT0", "Steuerfrei", "0", note="Steuerfreie Leistung.", category="E"),
        _t("RC", "Reverse charge", "0", note=REVERSE_CHARGE_NOTE, category="AE"),
    ]),
    "france": ("France", [
        _t("TVA20", "TVA 20 %", "20"), _t("TVA10", "TVA 10 %", "10"), _t("TVA5.5", "TVA 5,5 %", "5.5"),
        _t("RC", "Autoliquidation", "0", note="Autoliquidation : TVA due par le preneur, art. 196 Directive 2006/112/CE.",
           category="AE"),
    ]),
    "uk": ("United Kingdom", [_t("VAT20", "VAT 20%", "20"), _t("VAT0", "VAT zero rated", "0", category="Z")]),
    "none": ("No taxes", [_t("EXEMPT", "Exempt", "0", note="Not subject to tax.", category="E")]),
}


def clean_tax(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    form = Form(data, partial=partial)
    if not partial or form.present("code"):
        form.text("code", required=True, max_length=20)
        if form.values.get("code"):
            code = form.values["code"].upper()
            if not CODE_RE.match(code):
                form.values.pop("code")
                form.error("code", _("Code may use capital letters, digits, '.', '_' and '-' (at most 20)"))
            else:
                form.values["code"] = code
    form.text("name", required=True, max_length=100)
    form.decimal("rate", minimum=Decimal(0), max_places=4, label=_("Rate"))
    if "rate" in form.values:
        if form.values["rate"] > 100:
            form.values.pop("rate")
            form.error("rate", _("Rate is a percentage between 0 and 100"))
        else:
            form.values["rate"] = str(form.values["rate"].normalize() if form.values["rate"] != 0 else Decimal(0))
            if "E" in form.values["rate"]:
                form.values["rate"] = format(Decimal(form.values["rate"]), "f")
    form.boolean("compound", default=False)
    form.text("note", max_length=500)
    form.choice("category", CATEGORIES, default="S", label=_("VAT category"))
    form.boolean("active", default=True)
    texts, problems = clean_texts(data)
    for name, message in problems:
        form.error(name, message)
    form.values.update(texts)
    return form.raise_if_invalid()


def rate_of(row: Mapping[str, Any]) -> TaxRate:
    """A tax row as documents use it. A row without texts per language (defined before they existed) whose
    name or note is a preset's gets the preset's translations: documents issued from now on print them."""
    name, note = row["name"], row.get("note", "") or ""
    return TaxRate(code=row["code"], name=name, rate=Decimal(row["rate"]), compound=bool(row["compound"]),
                   note=note, category=row.get("category", "S") or "S",
                   names=texts_of(row.get("names")) or dict(PRESET_NAMES.get(name, {})),
                   notes=texts_of(row.get("notes")) or (dict(PRESET_NOTES.get(note, {})) if note else {}))


# -- names and legal notes per language ------------------------------------------------------------

TEXT_LANGUAGES = ("en", "fr", "de")
TEXT_LANGUAGE_LABELS = {"en": "English", "fr": "French", "de": "German"}

# The presets' names and notes in every language, keyed by the text the preset defines (so a preset list
# changed elsewhere keeps its translations as long as its wording stays).
PRESET_NAMES: dict[str, dict[str, str]] = {
    "GST": {"en": "GST", "fr": "TPS", "de": "GST"},
    "HST (ON)": {"en": "HST (ON)", "fr": "TVH (ON)", "de": "HST (ON)"},
    "HST (Atlantic)": {"en": "HST (Atlantic)", "fr": "TVH (Atlantique)", "de": "HST (Atlantik)"},
    "PST (BC)": {"en": "PST (BC)", "fr": "TVP (C.-B.)", "de": "PST (BC)"},
    "QST (QC)": {"en": "QST (QC)", "fr": "TVQ (QC)", "de": "QST (QC)"},
    "Zero-rated export": {"en": "Zero-rated export", "fr": "Exportation détaxée", "de": "Steuerfreie Ausfuhr"},
    "USt. 19 %": {"en": "VAT 19%", "fr": "TVA 19 %", "de": "USt. 19 %"},
    "USt. 7 %": {"en": "VAT 7%", "fr": "TVA 7 %", "de": "USt. 7 %"},
    "Steuerfrei": {"en": "Tax exempt", "fr": "Exonéré de TVA", "de": "Steuerfrei"},
    "Reverse charge": {"en": "Reverse charge", "fr": "Autoliquidation", "de": "Reverse-Charge"},
    "TVA 20 %": {"en": "VAT 20%", "fr": "TVA 20 %", "de": "MwSt. 20 %"},
    "TVA 10 %": {"en": "VAT 10%", "fr": "TVA 10 %", "de": "MwSt. 10 %"},
    "TVA 5,5 %": {"en": "VAT 5.5%", "fr": "TVA 5,5 %", "de": "MwSt. 5,5 %"},
    "Autoliquidation": {"en": "Reverse charge", "fr": "Autoliquidation", "de": "Reverse-Charge"},
    "VAT 20%": {"en": "VAT 20%", "fr": "TVA 20 %", "de": "MwSt. 20 %"},
    "VAT zero rated": {"en": "VAT zero rated", "fr": "TVA au taux zéro", "de": "MwSt. Nullsatz"},
    "Exempt": {"en": "Exempt", "fr": "Exonéré", "de": "Steuerfrei"},
}
_REVERSE_CHARGE_NOTES = {
    "en": REVERSE_CHARGE_NOTE,
    "fr": "Autoliquidation : TVA due par le preneur, art. 196 Directive 2006/112/CE.",
    "de": "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge), Art. 196 Richtlinie 2006/112/EG.",
}
PRESET_NOTES: dict[str, dict[str, str]] = {
    REVERSE_CHARGE_NOTE: _REVERSE_CHARGE_NOTES,
    _REVERSE_CHARGE_NOTES["fr"]: _REVERSE_CHARGE_NOTES,
    "Steuerfreie Leistung.": {"en": "Tax-exempt supply.", "fr": "Prestation exonérée de TVA.",
                              "de": "Steuerfreie Leistung."},
    "Zero-rated export of services (Excise Tax Act, Schedule VI, Part V).": {
        "en": "Zero-rated export of services (Excise Tax Act, Schedule VI, Part V).",
        "fr": "Exportation de services détaxée (Loi sur la taxe d’accise, annexe VI, partie V).",
        "de": "Steuerfreie Ausfuhr von Dienstleistungen (kanadischer Excise Tax Act, Anhang VI, Teil V)."},
    "Not subject to tax.": {"en": "Not subject to tax.", "fr": "Non soumis à la taxe.",
                            "de": "Nicht steuerpflichtig."},
}


def texts_of(value: Any) -> dict[str, str]:
    """{language: text} from a stored JSON column (empty for none) or a mapping."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value else {}
        except ValueError:
            return {}
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items() if k in TEXT_LANGUAGES and v}


def texts_json(texts: Mapping[str, str]) -> str:
    """How a tax row keeps {language: text}: JSON, "" for none."""
    return json.dumps(dict(texts), ensure_ascii=False, sort_keys=True) if texts else ""


def _attr(tax: Any, name: str) -> Any:
    return tax.get(name) if isinstance(tax, Mapping) else getattr(tax, name, None)


def tax_label(tax: Any, language: str) -> str:
    """A tax's name in `language` (a TaxRate, a document's TaxAmount or a tax row): its text in that
    language, else its name as defined, else its code."""
    return texts_of(_attr(tax, "names")).get(language) or _attr(tax, "name") or _attr(tax, "code") or ""


def tax_note(tax: Any, language: str) -> str:
    """A tax's legal note in `language`, else as defined ("" for none)."""
    note = (_attr(tax, "note") or "").strip()
    if not note:
        return ""
    return texts_of(_attr(tax, "notes")).get(language, "").strip() or note


def preset_rate(rate: TaxRate) -> TaxRate:
    """A preset's rate with its names and notes in every language."""
    return replace(rate, names=dict(PRESET_NAMES.get(rate.name, {})),
                   notes=dict(PRESET_NOTES.get(rate.note, {})) if rate.note else {})


def clean_texts(data: Mapping[str, Any]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """`names` and `notes` of a tax: each as a mapping {language: text} (the API) or as the form's fields
    name_fr, note_de... Absent, a column is left as it is; given, it is replaced (an empty text drops that
    language). Returns the columns to save (JSON) and the errors as (field, message)."""
    values: dict[str, str] = {}
    errors: list[tuple[str, str]] = []
    for column, prefix, max_length, label in (("names", "name", 100, "Name"), ("notes", "note", 500, "Legal note")):
        fields = {lang: data[f"{prefix}_{lang}"] for lang in TEXT_LANGUAGES if f"{prefix}_{lang}" in data}
        given = data.get(column)
        if given is None and not fields:
            continue
        if given is not None and not isinstance(given, Mapping):
            errors.append((column, f"{label} per language: give {{language: text}}"))
            continue
        texts = {**(given or {}), **fields}
        cleaned: dict[str, str] = {}
        for lang, text in texts.items():
            name = f"{prefix}_{lang}" if lang in fields else f"{column}.{lang}"
            if lang not in TEXT_LANGUAGES:
                errors.append((name, f"{label}: unknown language {lang!r}; one of {', '.join(TEXT_LANGUAGES)}"))
                continue
            text = "" if text is None else str(text).strip()
            language = TEXT_LANGUAGE_LABELS[lang]
            if len(text) > max_length:
                errors.append((name, f"{label} in {language} is too long (at most {max_length} characters)"))
            elif problem := line_problem(text, f"{label} in {language}"):
                errors.append((name, problem))
            elif text:
                cleaned[lang] = text
        values[column] = texts_json(cleaned)
    return values, errors


_VAT_IDENTIFIER = re.compile(r"[A-Z]{2}[0-9A-Z+*]{2,13}")


def tax_registration(tax_number: str) -> tuple[str, str] | None:
    """How a tax number goes into the XML: (identifier, scheme).

    A VAT identifier starts with its country's two letters (BR-CO-09): it is "VA" (BT-31,
    BT-48), written without the spaces, dots and dashes people type in it. Any other number
    (a Canadian business number, a US EIN) is a local tax registration, "FC" (BT-32), which
    EN 16931 has for the seller only: the caller leaves a buyer's out."""
    compact = re.sub(r"[\s.\-]", "", tax_number).upper()
    if not compact:
        return None
    if _VAT_IDENTIFIER.fullmatch(compact):
        return compact, "VA"
    return tax_number.strip(), "FC"


# -- taxes by place of supply (issue 16) -------------------------------------------------------------
# The rules as data: a table per country, read by `suggest_taxes`. A line's default taxes follow from
# where the business is, where the client is (and whether it gave a VAT number) and the item's tax
# category; an item's own tax codes, or the codes typed on a line, still override them.

TAX_CATEGORIES = {"standard": N_("Standard rate"), "reduced": N_("Reduced rate"), "zero": N_("Zero rated"),
                  "exempt": N_("Exempt")}


def _rates(*rates: TaxRate) -> list[TaxRate]:
    return list(rates)


# The presets by ISO country code. The old keys (canada, germany, france) load the same rates.
COUNTRY_PRESETS: dict[str, tuple[str, list[TaxRate]]] = {
    "CA": ("Canada", _rates(
        _t("GST", "GST", "5"),
        _t("HST", "HST (ON)", "13"), _t("HST15", "HST 15 % (NB, NL, PE)", "15"),
        # Nova Scotia's HST is 14 % since 1 April 2025.
        _t("HST14", "HST 14 % (NS)", "14"),
        _t("QST", "QST (QC)", "9.975"),  # beside the GST, not on it (not compound since 2013)
        _t("PST", "PST (BC)", "7"), _t("RST", "RST (MB)", "7"), _t("PST-SK", "PST (SK)", "6"),
        _t("ZR", "Zero-rated", "0", category="Z", note="Zero-rated supply (Excise Tax Act, Schedule VI)."),
        _t("EXEMPT", "Exempt", "0", category="E", note="Exempt supply (Excise Tax Act, Schedule V)."),
        _t("EXPORT", "Zero-rated export", "0", category="Z",
           note="Zero-rated export of services (Excise Tax Act, Schedule VI, Part V)."),
    )),
    "DE": ("Germany", _rates(
        _t("VAT19", "USt. 19 %", "19"), _t("VAT7", "USt. 7 %", "7"),
        _t("VAT0", "Steuerfrei", "0", note="Steuerfreie Leistung.", category="E"),
        _t("DE0", "USt. 0 %", "0", note="Nullsteuersatz (§ 12 Abs. 3 UStG).", category="Z"),
        _t("RC", "Reverse charge", "0", note=REVERSE_CHARGE_NOTE, category="AE"),
        _t("DE-EXPORT", "Nicht steuerbar (Drittland)", "0", category="G",
           note="Leistung an einen Empfänger außerhalb der EU: nicht im Inland steuerbar "
                "(§ 3a Abs. 2 UStG; Art. 44, 146 Richtlinie 2006/112/EG)."),
    )),
    "FR": ("France", _rates(
        _t("TVA20", "TVA 20 %", "20"), _t("TVA10", "TVA 10 %", "10"), _t("TVA5.5", "TVA 5,5 %", "5.5"),
        _t("TVA0", "TVA 0 %", "0", category="Z", note="TVA au taux zéro."),
        _t("FR-EXO", "Exonéré de TVA", "0", category="E", note="Exonération de TVA, article 261 du CGI."),
        _t("RC", "Autoliquidation", "0", note="Autoliquidation : TVA due par le preneur, art. 196 Directive 2006/112/CE.",
           category="AE"),
        _t("FR-EXPORT", "Hors UE", "0", category="G",
           note="TVA non applicable, prestation à un preneur établi hors de l'UE (article 259-1 du CGI) "
                "ou exportation (article 262 I du CGI)."),
    )),
    "AT": ("Austria", _rates(
        _t("AT20", "USt. 20 %", "20"), _t("AT13", "USt. 13 %", "13"), _t("AT10", "USt. 10 %", "10"),
        _t("AT0", "USt. 0 %", "0", category="Z", note="Nullsteuersatz (§ 28 Abs. 62 UStG)."),
        _t("AT-EXEMPT", "Steuerfrei", "0", category="E", note="Steuerfreie Leistung (§ 6 UStG)."),
        _t("RC", "Reverse charge", "0", note=REVERSE_CHARGE_NOTE, category="AE"),
        _t("AT-EXPORT", "Nicht steuerbar (Drittland)", "0", category="G",
           note="Leistung an einen Empfänger außerhalb der EU: nicht steuerbar (§ 3a Abs. 6 UStG; "
                "Art. 44, 146 Richtlinie 2006/112/EG)."),
    )),
    "BE": ("Belgium", _rates(
        _t("BE21", "BTW/TVA 21 %", "21"), _t("BE12", "BTW/TVA 12 %", "12"), _t("BE6", "BTW/TVA 6 %", "6"),
        _t("BE0", "BTW/TVA 0 %", "0", category="Z", note="Taux zéro / nultarief."),
        _t("BE-EXEMPT", "Vrijgesteld / Exonéré", "0", category="E",
           note="Vrijgesteld van btw, art. 44 W.btw / Exonéré de TVA, art. 44 C.TVA."),
        _t("RC", "Reverse charge", "0", note=REVERSE_CHARGE_NOTE, category="AE"),
        _t("BE-EXPORT", "Outside the EU", "0", category="G",
           note="Outside the scope of Belgian VAT: customer outside the EU (Art. 44, 146 Directive 2006/112/EC)."),
    )),
    "NL": ("Netherlands", _rates(
        _t("NL21", "BTW 21 %", "21"), _t("NL9", "BTW 9 %", "9"),
        _t("NL0", "BTW 0 %", "0", category="Z", note="Btw-nultarief."),
        _t("NL-EXEMPT", "Vrijgesteld van btw", "0", category="E", note="Vrijgesteld van btw (art. 11 Wet OB)."),
        _t("RC", "Btw verlegd", "0", note="Btw verlegd: " + REVERSE_CHARGE_NOTE, category="AE"),
        _t("NL-EXPORT", "Buiten de EU", "0", category="G",
           note="Niet belast in Nederland: afnemer buiten de EU (Art. 44, 146 Richtlijn 2006/112/EG)."),
    )),
    # No sales tax by default: the user adds the state's (and county's) rates as they apply.
    "US": ("United States", _rates()),
}
PRESET_ALIASES = {"canada": "CA", "germany": "DE", "france": "FR", "austria": "AT", "belgium": "BE",
                  "netherlands": "NL", "us": "US", "usa": "US"}


def preset_of(name: str) -> tuple[str, list[TaxRate]] | None:
    """A preset by ISO country code (CA, DE...) or by its older name (canada, uk, none)."""
    key = (name or "").strip()
    country = PRESET_ALIASES.get(key.lower(), key.upper())
    if country in COUNTRY_PRESETS:
        return COUNTRY_PRESETS[country]
    return PRESETS.get(key.lower())


def all_presets() -> dict[str, tuple[str, list[TaxRate]]]:
    """The presets the taxes page offers: one per country, then the older UK and "no taxes" ones."""
    return {**COUNTRY_PRESETS, **{key: value for key, value in PRESETS.items() if key in ("uk", "none")}}


@dataclass(frozen=True)
class Province:
    name: str
    hst: str = ""   # the HST code, for a participating province
    qst: str = ""   # Québec
    pst: str = ""   # the provincial sales tax collected beside the GST (BC, MB, SK)


CANADA: dict[str, Province] = {
    "ON": Province(N_("Ontario"), hst="HST"),
    "NB": Province(N_("New Brunswick"), hst="HST15"),
    "NL": Province(N_("Newfoundland and Labrador"), hst="HST15"),
    "PE": Province(N_("Prince Edward Island"), hst="HST15"),
    "NS": Province(N_("Nova Scotia"), hst="HST14"),
    "QC": Province(N_("Québec"), qst="QST"),
    "BC": Province(N_("British Columbia"), pst="PST"),
    "MB": Province(N_("Manitoba"), pst="RST"),
    "SK": Province(N_("Saskatchewan"), pst="PST-SK"),
    "AB": Province(N_("Alberta")),
    "YT": Province(N_("Yukon")),
    "NT": Province(N_("Northwest Territories")),
    "NU": Province(N_("Nunavut")),
}
CANADA_CODES = {"gst": "GST", "zero": "ZR", "exempt": "EXEMPT", "export": "EXPORT"}
# Provincial sales tax falls on goods; most services are not taxable there (the item's own taxes say
# otherwise for one that is: software, legal or telecommunication services in BC, for instance).
PST_TAXABLE_KINDS = {"BC": {"product"}, "MB": {"product"}, "SK": {"product"}}
PST_PROVINCES = tuple(code for code, province in CANADA.items() if province.pst)


@dataclass(frozen=True)
class VatCountry:
    """An EU country's VAT codes, by the item's category, and for a client elsewhere."""

    name: str
    standard: str
    reduced: str
    zero: str
    exempt: str
    export: str
    reverse_charge: str = "RC"
    vat_id: str = r"[0-9A-Z]{2,12}"   # what follows the country prefix in a VAT identifier


EU_VAT: dict[str, VatCountry] = {
    "DE": VatCountry(N_("Germany"), "VAT19", "VAT7", "DE0", "VAT0", "DE-EXPORT", vat_id=r"[0-9]{9}"),
    "FR": VatCountry(N_("France"), "TVA20", "TVA5.5", "TVA0", "FR-EXO", "FR-EXPORT", vat_id=r"[0-9A-Z]{2}[0-9]{9}"),
    "AT": VatCountry(N_("Austria"), "AT20", "AT10", "AT0", "AT-EXEMPT", "AT-EXPORT", vat_id=r"U[0-9]{8}"),
    "BE": VatCountry(N_("Belgium"), "BE21", "BE6", "BE0", "BE-EXEMPT", "BE-EXPORT", vat_id=r"[01][0-9]{9}"),
    "NL": VatCountry(N_("Netherlands"), "NL21", "NL9", "NL0", "NL-EXEMPT", "NL-EXPORT", vat_id=r"[0-9]{9}B[0-9]{2}"),
}
# The member states (ISO 3166) and the prefix of their VAT identifiers (Greece writes EL).
EU_MEMBERS = {"AT": "AT", "BE": "BE", "BG": "BG", "CY": "CY", "CZ": "CZ", "DE": "DE", "DK": "DK", "EE": "EE",
              "ES": "ES", "FI": "FI", "FR": "FR", "GR": "EL", "HR": "HR", "HU": "HU", "IE": "IE", "IT": "IT",
              "LT": "LT", "LU": "LU", "LV": "LV", "MT": "MT", "NL": "NL", "PL": "PL", "PT": "PT", "RO": "RO",
              "SE": "SE", "SI": "SI", "SK": "SK"}


@dataclass(frozen=True)
class Party:
    """Where a business or a client is, for its taxes."""

    country: str = ""
    region: str = ""
    tax_number: str = ""
    # The provinces whose sales tax the business collects (BC, MB, SK): a business's only.
    pst_registrations: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Suggestion:
    """The taxes the rules give a line, and why, in words a user reads ("HST 13 %: client in Ontario")."""

    codes: tuple[str, ...]
    reason: str
    rule: str   # which row of the tables decided: "CA-HST", "EU-REVERSE-CHARGE"... (tests and the API)
    decided: bool = True   # False: no rule applies (no country set, a country without tables)


def canadian_province(region: str) -> str:
    """A Canadian province or territory's code from what people type ("ON", "Ontario", "quebec"), or ""."""
    text = fold_text(region or "").replace("-", " ").strip()
    if not text:
        return ""
    for code, province in CANADA.items():
        if text in (code.lower(), fold_text(province.name).replace("-", " ")):
            return code
    aliases = {"pei": "PE", "newfoundland": "NL", "labrador": "NL", "nwt": "NT", "que": "QC", "pq": "QC"}
    return aliases.get(text.replace(".", ""), "")


def valid_looking_vat_id(country: str, tax_number: str) -> bool:
    """A VAT identifier of the client's own member state, in that state's shape where the tables know it
    (DE + 9 digits, ATU + 8...), else its prefix and 2 to 12 letters and digits. Only the shape: the
    VIES register is online, Counterfoil is not."""
    prefix = EU_MEMBERS.get(country)
    if prefix is None:
        return False
    compact = re.sub(r"[\s.\-]", "", tax_number or "").upper()
    if not compact.startswith(prefix):
        return False
    table = EU_VAT.get(country)
    pattern = table.vat_id if table else r"[0-9A-Z]{2,12}"
    return re.fullmatch(pattern, compact[len(prefix):]) is not None


def country_name(code: str) -> str:
    from babel import Locale

    return Locale("en").territories.get(code, code) if code else code


def rate_label(code: str, rates: Mapping[str, TaxRate]) -> str:
    """How a reason names a tax: its name and rate ("HST 13 %"), the code when it is not defined."""
    rate = rates.get(code)
    if rate is None:
        return code
    number = input_text(rate.rate.normalize()) if rate.rate else "0"   # 9.975 / 9,975 as the reader writes it
    short = re.sub(r"\s*[0-9.,]+\s*%$", "", re.sub(r"\s*\(.*\)$", "", rate.name)).strip() or code
    if rate.rate == 0:
        return rate.name
    return f"{short} {number} %"


def _labels(codes: tuple[str, ...], rates: Mapping[str, TaxRate]) -> str:
    return " + ".join(rate_label(code, rates) for code in codes)


def suggest_taxes(seller: Party, client: Party, category: str = "standard", *, kind: str = "service",
                  rates: Mapping[str, TaxRate] | None = None) -> Suggestion:
    """The taxes a line gets by default: place of supply, the client's VAT number, the item's category.

    Pure; `rates` only names the taxes in the reason. A client without a country is taken to be in the
    business's country (most clients without an address are local), and in its province too."""
    rates = rates or {}
    category = category if category in TAX_CATEGORIES else "standard"
    seller_country = (seller.country or "").upper()
    client_country = (client.country or "").upper() or seller_country
    if not seller_country:
        return Suggestion((), _("Set the business's country in Settings to get taxes chosen for each client"),
                          "NO-COUNTRY", decided=False)
    if seller_country == "CA":
        return _canada(seller, client, client_country, category, kind, rates)
    if seller_country in EU_VAT:
        return _eu(EU_VAT[seller_country], seller_country, client, client_country, category, rates)
    if seller_country == "US":
        if client_country != "US":
            return Suggestion((), _("No tax: client outside the United States (%(country)s)",
                                    country=country_name(client_country)), "US-EXPORT")
        # Not a rule a line can contradict: the sales tax the user charges is theirs to pick.
        return Suggestion((), _("No tax by default in the United States: add your state's sales tax under "
                                "Settings, Taxes and pick it on the line where it applies"), "US-NONE", decided=False)
    return Suggestion((), _("No tax rules for %(country)s: pick the taxes by hand",
                            country=country_name(seller_country)), "NONE", decided=False)


def _canada(seller: Party, client: Party, client_country: str, category: str, kind: str,
            rates: Mapping[str, TaxRate]) -> Suggestion:
    codes = CANADA_CODES
    if category == "exempt":
        return Suggestion((codes["exempt"],), _("Exempt: the item is an exempt supply"), "CA-EXEMPT")
    if client_country != "CA":
        return Suggestion((codes["export"],), _("Zero-rated export: client outside Canada (%(country)s)",
                                                country=country_name(client_country)), "CA-EXPORT")
    if category == "zero":
        return Suggestion((codes["zero"],), _("Zero-rated: the item is a zero-rated supply"), "CA-ZERO")
    code = canadian_province(client.region) or canadian_province(seller.region)
    if not code:
        return Suggestion((codes["gst"],), _("%(taxes)s: the client's province is not known (set it on the client)",
                                             taxes=rate_label(codes["gst"], rates)), "CA-UNKNOWN-PROVINCE")
    province = CANADA[code]
    where = _(province.name)
    if province.hst:
        found: tuple[str, ...] = (province.hst,)
        return Suggestion(found, _("%(taxes)s: client in %(place)s", taxes=_labels(found, rates), place=where),
                          "CA-HST")
    if province.qst:
        found = (codes["gst"], province.qst)
        return Suggestion(found, _("%(taxes)s: client in %(place)s", taxes=_labels(found, rates), place=where),
                          "CA-QC")
    if province.pst:
        gst = (codes["gst"],)
        if code not in seller.pst_registrations:
            return Suggestion(gst, _("%(taxes)s: client in %(place)s (no PST: the business is not registered "
                                     "for it there, see Settings)", taxes=_labels(gst, rates), place=where),
                              "CA-PST-NOT-REGISTERED")
        if kind not in PST_TAXABLE_KINDS.get(code, set()):
            return Suggestion(gst, _("%(taxes)s: client in %(place)s (no PST on this service; set the item's taxes "
                                     "by hand if it is taxable there)", taxes=_labels(gst, rates), place=where),
                              "CA-PST-NOT-TAXABLE")
        found = (codes["gst"], province.pst)
        return Suggestion(found, _("%(taxes)s: client in %(place)s", taxes=_labels(found, rates), place=where),
                          "CA-PST")
    found = (codes["gst"],)
    return Suggestion(found, _("%(taxes)s: client in %(place)s", taxes=_labels(found, rates), place=where), "CA-GST")


def _eu(table: VatCountry, seller_country: str, client: Party, client_country: str, category: str,
        rates: Mapping[str, TaxRate]) -> Suggestion:
    domestic = {"standard": table.standard, "reduced": table.reduced, "zero": table.zero, "exempt": table.exempt}
    if category == "exempt":
        found: tuple[str, ...] = (table.exempt,)
        return Suggestion(found, _("%(taxes)s: the item is exempt from VAT", taxes=_labels(found, rates)),
                          "EU-EXEMPT")
    if client_country == seller_country:
        found = (domestic[category],)
        return Suggestion(found, _("%(taxes)s: client in %(country)s, %(category)s",
                                   taxes=_labels(found, rates), country=_(table.name),
                                   category=_(TAX_CATEGORIES[category]).lower()), "EU-DOMESTIC")
    if client_country in EU_MEMBERS:
        if valid_looking_vat_id(client_country, client.tax_number):
            found = (table.reverse_charge,)
            return Suggestion(found, _("Reverse charge: client in %(country)s with VAT number %(number)s; the client "
                                       "accounts for the VAT", country=country_name(client_country),
                                       number=client.tax_number.strip()), "EU-REVERSE-CHARGE")
        found = (domestic[category],)
        return Suggestion(found, _("%(taxes)s: client in %(country)s without a VAT number, so a sale to a consumer "
                                   "at %(home)s's rate (the One-Stop Shop is not handled by Counterfoil)",
                                   taxes=_labels(found, rates), country=country_name(client_country),
                                   home=_(table.name)), "EU-B2C")
    found = (table.export,)
    return Suggestion(found, _("Outside the scope of VAT: client outside the EU (%(country)s)",
                               country=country_name(client_country)), "EU-EXPORT")


def category_of_codes(codes: list[str], rates: Mapping[str, TaxRate]) -> str:
    """The tax category an item with these fixed codes most likely has (the migration's guess for old items)."""
    categories = {rates[code].category for code in codes if code in rates}
    if categories and categories <= {"E"}:
        return "exempt"
    if categories and categories <= {"Z"}:
        return "zero"
    return "standard"


def line_taxes(seller: Party, client: Party, *, category: str = "standard", kind: str = "service",
               own_codes: tuple[str, ...] | list[str] = (), rates: Mapping[str, TaxRate]) -> Suggestion:
    """The taxes a new line gets: the item's own codes when it has them (an override, for every client),
    else the rules by place of supply, keeping only the codes defined under Settings, Taxes (saying which
    ones are missing: a line with an unknown code cannot be saved)."""
    if own_codes:
        codes = tuple(own_codes)
        return Suggestion(codes, _("%(taxes)s: the item's own taxes (set on the item, for every client)",
                                   taxes=_labels(codes, rates)), "ITEM")
    found = suggest_taxes(seller, client, category, kind=kind, rates=rates)
    missing = [code for code in found.codes if code not in rates]
    if not missing:
        return found
    return Suggestion(tuple(code for code in found.codes if code in rates),
                      _("%(reason)s (not defined yet: %(codes)s; load your country's preset under Settings, Taxes)",
                        reason=found.reason, codes=", ".join(missing)), found.rule, found.decided)


def contradiction(line_codes: list[str] | tuple[str, ...], rules: Suggestion,
                  rates: Mapping[str, TaxRate]) -> str | None:
    """Why a line's taxes go against the rules for its client, or None when they agree (or no rule applies)."""
    if not rules.decided or set(line_codes) == set(rules.codes):
        return None
    has = _labels(tuple(line_codes), rates) if line_codes else _("no tax")
    # The reason names the taxes the rules give ("GST 5 % + QST 9.975 %: client in Québec").
    return _("This line has %(has)s; the rules give %(reason)s", has=has, reason=rules.reason)
