"""Tax returns, pure: tax collected on sales, input tax paid (its deductible part), the net, laid out
as the forms a business files. Every figure keeps the rows it sums (a document's or an expense's
part), so a page can link each figure to them and a test can rebuild it.

Which tax is which: a sales tax code belongs to a form by its code and VAT category (Settings,
Taxes). For Canada, codes starting GST, HST or TPS are GST/HST; QST or TVQ are Québec's QST; any other
(PST) is on neither return. For Germany and France the standard-rate codes are placed by their rate,
the others by their category (reverse charge AE, intra-community K, export G, exempt E, outside O, Z).
Sales are counted when invoiced (issue date), expenses on their date: the usual (accrual) rule of
these returns. A return is in one currency: a sale in another counts at the rate frozen at its issue
(app.fx) when the return is in the base currency; one without a rate, and expenses in another currency,
are left out and counted aside.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class TaxPart:
    code: str
    rate: Decimal
    category: str
    base: Decimal
    amount: Decimal
    deductible: Decimal = ZERO   # expenses: the part that may be claimed


@dataclass(frozen=True)
class SaleFact:
    """An issued invoice (sign 1) or credit note (sign -1): its net and tax parts, signed. `converted`: the same
    in the base currency at the rate frozen at its issue, when it was issued in another currency at a known rate."""

    document_id: int
    number: str
    day: date
    currency: str
    net: Decimal
    taxes: tuple[TaxPart, ...]
    converted: SaleFact | None = None


def in_currency(fact: SaleFact, base: str, rate: Decimal) -> SaleFact:
    """`fact` with its figures also in `base` (`rate`: units of the fact's currency per one base unit), each
    rounded to the base's minor unit: what a return in the base currency counts for a foreign sale."""
    from app.fx.logic import to_base

    converted = SaleFact(fact.document_id, fact.number, fact.day, base, to_base(fact.net, rate, base),
                         tuple(TaxPart(t.code, t.rate, t.category, to_base(t.base, rate, base), to_base(t.amount, rate, base))
                               for t in fact.taxes))
    return SaleFact(fact.document_id, fact.number, fact.day, fact.currency, fact.net, fact.taxes, converted)


@dataclass(frozen=True)
class PurchaseFact:
    expense_id: int
    label: str
    day: date
    currency: str
    net: Decimal
    taxes: tuple[TaxPart, ...]


@dataclass(frozen=True)
class Source:
    kind: str          # document | expense
    id: int
    label: str
    amount: Decimal    # this row's part of the figure


@dataclass
class Figure:
    key: str                 # the form's own line or box number
    label: str
    amount: Decimal = ZERO
    sources: list[Source] = field(default_factory=list)
    derived: str = ""        # for a computed line: how ("103 + 104")

    def add(self, source: Source) -> None:
        if source.amount:
            self.amount += source.amount
            self.sources.append(source)


@dataclass
class TaxReturn:
    form: str
    title: str
    currency: str
    date_from: date
    date_to: date
    figures: list[Figure]
    notes: list[str]
    net_key: str                                     # the figure to pay (positive) or reclaim (negative)
    left_out: dict[str, int] = field(default_factory=dict)  # other currencies: rows left out

    def figure(self, key: str) -> Figure:
        for figure in self.figures:
            if figure.key == key:
                return figure
        raise KeyError(key)

    @property
    def net(self) -> Decimal:
        return self.figure(self.net_key).amount

    def lines(self) -> dict[str, Decimal]:
        return {f.key: f.amount for f in self.figures}


FORMS = {
    "ca-gst34": "Canada: GST/HST return (GST34) and QST return",
    "de-ustva": "Germany: Umsatzsteuer-Voranmeldung",
    "fr-ca3": "France: déclaration CA3",
    "generic": "VAT / sales tax return",
}
COUNTRY_FORMS = {"CA": "ca-gst34", "DE": "de-ustva", "FR": "fr-ca3"}


def form_for_country(country: str | None) -> str:
    return COUNTRY_FORMS.get((country or "").upper(), "generic")


def is_federal(code: str) -> bool:
    return code.upper().startswith(("GST", "HST", "TPS"))


def is_quebec(code: str) -> bool:
    return code.upper().startswith(("QST", "TVQ"))


def _doc(fact: SaleFact, amount: Decimal) -> Source:
    return Source("document", fact.document_id, fact.number, amount)


def _exp(fact: PurchaseFact, amount: Decimal) -> Source:
    return Source("expense", fact.expense_id, fact.label, amount)


def _derived(key: str, label: str, terms: Sequence[tuple[int, Figure]], how: str, *, floor: bool = False) -> Figure:
    """A line computed from others: its sources are theirs, signed, so it still sums its rows."""
    figure = Figure(key, label, derived=how)
    for sign, term in terms:
        for source in term.sources:
            figure.sources.append(Source(source.kind, source.id, source.label, sign * source.amount))
        figure.amount += sign * term.amount
    if floor and figure.amount < 0:
        figure.amount, figure.sources = ZERO, []
    return figure


def build(form: str, sales: Iterable[SaleFact], purchases: Iterable[PurchaseFact], *, currency: str,
          date_from: date, date_to: date) -> TaxReturn:
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}")
    left_out: dict[str, int] = {}
    kept_sales, kept_purchases = [], []
    for sale in sales:
        if date_from <= sale.day <= date_to:
            if sale.currency == currency:
                kept_sales.append(sale)
            elif sale.converted is not None and sale.converted.currency == currency:
                kept_sales.append(sale.converted)   # a foreign sale at its rate of issue, as the law asks
            else:
                left_out[sale.currency] = left_out.get(sale.currency, 0) + 1
    for purchase in purchases:
        if date_from <= purchase.day <= date_to:
            if purchase.currency == currency:
                kept_purchases.append(purchase)
            else:
                left_out[purchase.currency] = left_out.get(purchase.currency, 0) + 1
    builder = {"ca-gst34": _gst34, "de-ustva": _ustva, "fr-ca3": _ca3, "generic": _generic}[form]
    figures, notes, net_key = builder(kept_sales, kept_purchases)
    return TaxReturn(form=form, title=FORMS[form], currency=currency, date_from=date_from, date_to=date_to,
                     figures=figures, notes=notes, net_key=net_key, left_out=left_out)


def _gst34(sales: list[SaleFact], purchases: list[PurchaseFact]) -> tuple[list[Figure], list[str], str]:
    f101 = Figure("101", "Sales and other revenue")
    f103 = Figure("103", "GST/HST collected or collectible")
    f106 = Figure("106", "Input tax credits (ITCs)")
    q205 = Figure("205", "QST collected or collectible")
    q208 = Figure("208", "Input tax refunds (ITRs)")
    for sale in sales:
        f101.add(_doc(sale, sale.net))
        f103.add(_doc(sale, sum((t.amount for t in sale.taxes if is_federal(t.code)), ZERO)))
        q205.add(_doc(sale, sum((t.amount for t in sale.taxes if is_quebec(t.code)), ZERO)))
    for purchase in purchases:
        f106.add(_exp(purchase, sum((t.deductible for t in purchase.taxes if is_federal(t.code)), ZERO)))
        q208.add(_exp(purchase, sum((t.deductible for t in purchase.taxes if is_quebec(t.code)), ZERO)))
    f104 = Figure("104", "Adjustments", derived="none recorded")
    f105 = _derived("105", "Total GST/HST and adjustments", [(1, f103), (1, f104)], "103 + 104")
    f107 = Figure("107", "Adjustments to ITCs", derived="none recorded")
    f108 = _derived("108", "Total ITCs and adjustments", [(1, f106), (1, f107)], "106 + 107")
    f109 = _derived("109", "Net tax (to pay; negative: refund claimed)", [(1, f105), (-1, f108)], "105 - 108")
    q206 = Figure("206", "QST adjustments", derived="none recorded")
    q207 = _derived("207", "Total QST and adjustments", [(1, q205), (1, q206)], "205 + 206")
    q209 = _derived("209", "Net QST (to pay; negative: refund claimed)", [(1, q207), (-1, q208)], "207 - 208")
    notes = ["The quick method of accounting is not supported: these are the regular method's lines.",
             "QST lines follow the FPZ-500 return of Revenu Québec; PST is on neither return.",
             "Line 101 is every sale before tax (zero-rated and exempt ones too), invoices less credit notes."]
    return [f101, f103, f104, f105, f106, f107, f108, f109, q205, q206, q207, q208, q209], notes, "109"


def _by_rate(sales: list[SaleFact], wanted: Decimal, key: str, label: str) -> tuple[Figure, Figure]:
    base, tax = Figure(key, f"{label}: base"), Figure(f"{key}-tax", f"{label}: tax")
    for sale in sales:
        parts = [t for t in sale.taxes if t.category == "S" and t.rate == wanted]
        base.add(_doc(sale, sum((t.base for t in parts), ZERO)))
        tax.add(_doc(sale, sum((t.amount for t in parts), ZERO)))
    return base, tax


def _by_category(sales: list[SaleFact], categories: set[str], key: str, label: str) -> Figure:
    figure = Figure(key, label)
    for sale in sales:
        figure.add(_doc(sale, sum((t.base for t in sale.taxes if t.category in categories), ZERO)))
    return figure


def _input_tax(purchases: list[PurchaseFact], key: str, label: str) -> Figure:
    figure = Figure(key, label)
    for purchase in purchases:
        figure.add(_exp(purchase, sum((t.deductible for t in purchase.taxes), ZERO)))
    return figure


def _ustva(sales: list[SaleFact], purchases: list[PurchaseFact]) -> tuple[list[Figure], list[str], str]:
    k81, k81t = _by_rate(sales, Decimal(19), "81", "Steuerpflichtige Umsätze 19 %")
    k86, k86t = _by_rate(sales, Decimal(7), "86", "Steuerpflichtige Umsätze 7 %")
    k35, k36 = Figure("35", "Umsätze zu anderen Steuersätzen: base"), Figure("36", "Umsätze zu anderen Steuersätzen: tax")
    for sale in sales:
        parts = [t for t in sale.taxes if t.category == "S" and t.rate not in (Decimal(19), Decimal(7))]
        k35.add(_doc(sale, sum((t.base for t in parts), ZERO)))
        k36.add(_doc(sale, sum((t.amount for t in parts), ZERO)))
    k41 = _by_category(sales, {"K"}, "41", "Innergemeinschaftliche Lieferungen an Abnehmer mit USt-IdNr.")
    k21 = _by_category(sales, {"AE"}, "21", "Nicht steuerbare sonstige Leistungen (Reverse Charge im EU-Ausland)")
    k45 = _by_category(sales, {"G", "O", "Z"}, "45", "Übrige nicht steuerbare Umsätze (Leistungsort nicht im Inland)")
    k48 = _by_category(sales, {"E"}, "48", "Steuerfreie Umsätze ohne Vorsteuerabzug")
    k66 = _input_tax(purchases, "66", "Vorsteuerbeträge aus Rechnungen von anderen Unternehmern")
    k83 = _derived("83", "Verbleibende Umsatzsteuer-Vorauszahlung (negativ: Überschuss)",
                   [(1, k81t), (1, k86t), (1, k36), (-1, k66)], "81 tax + 86 tax + 36 - 66")
    notes = ["Kz 81 and 86 are the bases (the form asks them in whole euros; the tax column beside them is "
             "computed by the form, shown here as 81-tax and 86-tax).",
             "Sales with tax codes in category AE (reverse charge abroad) are Kz 21; G, O and Z are Kz 45."]
    return [k81, k81t, k86, k86t, k35, k36, k41, k21, k45, k48, k66, k83], notes, "83"


def _ca3(sales: list[SaleFact], purchases: list[PurchaseFact]) -> tuple[list[Figure], list[str], str]:
    a1 = _by_category(sales, {"S"}, "A1", "Ventes, prestations de services (HT)")
    e2 = _by_category(sales, {"AE", "K", "G", "O", "Z", "E"}, "E2", "Autres opérations non imposables")
    b08, t08 = _by_rate(sales, Decimal(20), "08", "Taux normal 20 %")
    b9b, t9b = _by_rate(sales, Decimal(10), "9B", "Taux intermédiaire 10 %")
    b09, t09 = _by_rate(sales, Decimal("5.5"), "09", "Taux réduit 5,5 %")
    f16 = _derived("16", "Total de la TVA brute due", [(1, t08), (1, t9b), (1, t09)], "08 + 9B + 09 (taxe)")
    f20 = _input_tax(purchases, "20", "Autres biens et services (TVA déductible)")
    f23 = _derived("23", "Total TVA déductible", [(1, f20)], "19 + 20 + 21 + 22")
    f28 = _derived("28", "TVA nette due", [(1, f16), (-1, f23)], "16 - 23", floor=True)
    f25 = _derived("25", "Crédit de TVA", [(1, f23), (-1, f16)], "23 - 16", floor=True)
    net = _derived("net", "Net (positif : à payer ; négatif : crédit)", [(1, f16), (-1, f23)], "16 - 23")
    notes = ["Box 19 (fixed assets) is not told apart: all deductible VAT is in box 20.",
             "Box 28 is the VAT to pay, box 25 the credit; one of the two is zero."]
    return [a1, e2, b08, t08, b9b, t9b, b09, t09, f16, f20, f23, f28, f25, net], notes, "net"


def _generic(sales: list[SaleFact], purchases: list[PurchaseFact]) -> tuple[list[Figure], list[str], str]:
    sales_figure = Figure("sales", "Sales before tax (invoices less credit notes)")
    collected = Figure("collected", "Tax collected")
    deductible = Figure("deductible", "Input tax paid (deductible part)")
    per_code: dict[str, Figure] = {}
    for sale in sales:
        sales_figure.add(_doc(sale, sale.net))
        collected.add(_doc(sale, sum((t.amount for t in sale.taxes), ZERO)))
        for part in sale.taxes:
            per_code.setdefault(f"collected:{part.code}", Figure(f"collected:{part.code}", f"Collected: {part.code}")
                                ).add(_doc(sale, part.amount))
    for purchase in purchases:
        deductible.add(_exp(purchase, sum((t.deductible for t in purchase.taxes), ZERO)))
        for part in purchase.taxes:
            per_code.setdefault(f"deductible:{part.code}", Figure(f"deductible:{part.code}",
                                                                  f"Deductible: {part.code}")).add(
                _exp(purchase, part.deductible))
    net = _derived("net", "Net tax (to pay; negative: to reclaim)", [(1, collected), (-1, deductible)],
                   "collected - deductible")
    codes = [per_code[k] for k in sorted(per_code)]
    return [sales_figure, *codes, collected, deductible, net], [], "net"


def collected_total(sales: Iterable[SaleFact]) -> Decimal:
    return sum((t.amount for s in sales for t in s.taxes), ZERO)


def deductible_total(purchases: Iterable[PurchaseFact]) -> Decimal:
    return sum((t.deductible for p in purchases for t in p.taxes), ZERO)
