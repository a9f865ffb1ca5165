"""Named tax rates and the presets a new user can pick with one click. Pure."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from app.common.logic import Form, line_problem

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,19}$")
CATEGORIES = {"S": "Standard rate", "Z": "Zero rated", "E": "Exempt", "AE": "Reverse charge",
              "K": "Intra-community supply", "G": "Export outside the EU", "O": "Outside the scope of VAT"}
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
                form.error("code", "Code may use capital letters, digits, '.', '_' and '-' (at most 20)")
            else:
                form.values["code"] = code
    form.text("name", required=True, max_length=100)
    form.decimal("rate", minimum=Decimal(0), max_places=4, label="Rate")
    if "rate" in form.values:
        if form.values["rate"] > 100:
            form.values.pop("rate")
            form.error("rate", "Rate is a percentage between 0 and 100")
        else:
            form.values["rate"] = str(form.values["rate"].normalize() if form.values["rate"] != 0 else Decimal(0))
            if "E" in form.values["rate"]:
                form.values["rate"] = format(Decimal(form.values["rate"]), "f")
    form.boolean("compound", default=False)
    form.text("note", max_length=500)
    form.choice("category", CATEGORIES, default="S", label="VAT category")
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
