"""Named tax rates and the presets a new user can pick with one click. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.common.i18n import _
from app.common.logic import Form

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
    return form.raise_if_invalid()


def rate_of(row: Mapping[str, Any]) -> TaxRate:
    return TaxRate(code=row["code"], name=row["name"], rate=Decimal(row["rate"]), compound=bool(row["compound"]),
                   note=row.get("note", "") or "", category=row.get("category", "S") or "S")


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
