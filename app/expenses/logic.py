"""Expenses: vendors, the chart of categories, input taxes, receipts, closed periods, billing. Pure.

The rules:
- an expense has a net above zero, split across one or more categories (the splits add up to the net);
- its input taxes are the sales tax codes, computed on the net like a document's (each tax once, on the
  sum of the nets it applies to, rounded half-up) unless the amounts are given as printed on the
  receipt; the taxes never exceed the net;
- the deductible part of each tax is its amount times the expense's deductible percent (from its
  category: meals 50 % in Canada), rounded half-up; the tax return claims only that part;
- total = net + taxes. A refund from a vendor is not a negative expense (it is refused).
- an expense dated on or before "books closed up to" is frozen: it cannot be added, changed or deleted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from app.common.i18n import N_, _
from app.common.logic import Conflict, FieldError, Form, ValidationFailed, parse_day, read_number
from app.documents.logic import Line, compute_totals
from app.money import MoneyError, check_currency, round_money, to_minor
from app.taxes.logic import TaxRate

HUNDRED = Decimal(100)
MAX_SPLITS = 20
MAX_AMOUNT = Decimal("1e12")
PAID_WITH = {"bank": N_("Bank transfer"), "card": N_("Card"), "cash": N_("Cash"), "owner": N_("Owner's own money"),
             "unpaid": N_("Not paid yet")}
STATUSES = {"draft": "Draft (to check)", "recorded": "Recorded"}
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


# -- the chart of categories -------------------------------------------------------------------

@dataclass(frozen=True)
class CategoryPreset:
    code: str
    name: str
    deductible_percent: int = 100


def _chart(*rows: tuple[str, str] | tuple[str, str, int]) -> list[CategoryPreset]:
    return [CategoryPreset(*row) for row in rows]


GENERIC_CHART = _chart(
    ("office", "Office supplies"), ("software", "Software and subscriptions"), ("equipment", "Equipment"),
    ("travel", "Travel"), ("meals", "Meals and entertainment"), ("vehicle", "Vehicle"), ("rent", "Rent"),
    ("telephone", "Telephone and internet"), ("professional-fees", "Professional fees"),
    ("subcontracting", "Subcontracting"), ("advertising", "Advertising"), ("insurance", "Insurance"),
    ("training", "Training and books"), ("bank-charges", "Bank charges"), ("other", "Other expenses"),
)
# Canada: meals and entertainment are 50 % deductible (ITA s. 67.1; the ITC follows, ETA s. 236).
CHARTS: dict[str, list[CategoryPreset]] = {
    "CA": [CategoryPreset(c.code, c.name, 50 if c.code == "meals" else 100) for c in GENERIC_CHART],
    "DE": _chart(
        ("office", "Büromaterial"), ("software", "Software und Abonnements"), ("equipment", "Geringwertige Wirtschaftsgüter"),
        ("travel", "Reisekosten"), ("meals", "Bewirtung"), ("vehicle", "Kfz-Kosten"), ("rent", "Miete"),
        ("telephone", "Telefon und Internet"), ("professional-fees", "Rechts- und Beratungskosten"),
        ("subcontracting", "Fremdleistungen"), ("advertising", "Werbekosten"), ("insurance", "Versicherungen"),
        ("training", "Fortbildung und Fachliteratur"), ("bank-charges", "Bankgebühren"),
        ("other", "Sonstige Kosten")),
    "FR": _chart(
        ("office", "Fournitures de bureau"), ("software", "Logiciels et abonnements"), ("equipment", "Petit matériel"),
        ("travel", "Déplacements"), ("meals", "Repas et réceptions"), ("vehicle", "Frais de véhicule"),
        ("rent", "Loyer"), ("telephone", "Téléphone et internet"), ("professional-fees", "Honoraires"),
        ("subcontracting", "Sous-traitance"), ("advertising", "Publicité"), ("insurance", "Assurances"),
        ("training", "Formation et documentation"), ("bank-charges", "Frais bancaires"),
        ("other", "Autres charges")),
}


def chart_for(country: str | None) -> list[CategoryPreset]:
    """The preset chart of the business's country (the generic one elsewhere)."""
    return CHARTS.get((country or "").upper(), GENERIC_CHART)


def clean_category(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    form = Form(data, partial=partial)
    if not partial or form.present("code"):
        form.text("code", required=True, max_length=40)
        code = form.values.get("code")
        if code is not None:
            code = code.lower()
            if not CODE_RE.match(code):
                form.values.pop("code")
                form.error("code", _("Code may use small letters, digits, '-' and '_' (at most 40)"))
            else:
                form.values["code"] = code
    form.text("name", required=True, max_length=100, one_line=True)
    form.integer("deductible_percent", minimum=0, maximum=100, label=_("Deductible share"), default=100)
    form.boolean("active", default=True)
    return form.raise_if_invalid()


# -- vendors -------------------------------------------------------------------------------------

def clean_vendor(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    form = Form(data, partial=partial)
    form.text("name", required=True, max_length=200, one_line=True)
    form.text("tax_number", max_length=80, label=_("Tax number"), one_line=True)
    form.country("country")
    if not partial or form.present("country"):
        form.values.setdefault("country", "")
    form.text("default_category", max_length=40, label=_("Default category"), one_line=True)
    form.text("notes", max_length=2000)
    return form.raise_if_invalid()


def compact_tax_number(tax_number: str) -> str:
    """A tax number as compared when matching a supplier: no spaces, dots or dashes, capitals."""
    return re.sub(r"[\s.\-/]", "", tax_number or "").upper()


# -- expenses ------------------------------------------------------------------------------------

@dataclass
class ExpenseInput:
    """A cleaned expense request. `given` names the fields the request carried (a PATCH changes those)."""

    values: dict[str, Any]
    splits: list[tuple[str, Decimal]] | None = None      # (category, net); None: unchanged or from net/category
    tax_codes: list[str] | None = None
    tax_amounts: dict[str, Decimal] | None = None       # code -> amount as printed; None: computed
    tax_bases: dict[str, Decimal] | None = None         # code -> base as printed (a supplier's VAT breakdown)
    given: set[str] = field(default_factory=set)


def _amount(value: Any, name: str, label: str, errors: list[FieldError], *, positive: bool = True) -> Decimal | None:
    if value is None or value == "":
        errors.append(FieldError(name, _("%(label)s is required", label=label)))
        return None
    try:
        number = read_number(value, field=label)
    except MoneyError as error:
        errors.append(FieldError(name, str(error)))
        return None
    if abs(number) >= MAX_AMOUNT:
        errors.append(FieldError(name, _("%(label)s is too large", label=label)))
        return None
    if positive and number <= 0:
        errors.append(FieldError(name, _("%(label)s must be above zero (a refund from a vendor is not a negative expense)", label=label)))
        return None
    if not positive and number < 0:
        errors.append(FieldError(name, _("%(label)s cannot be negative", label=label)))
        return None
    return number


def _codes(value: Any, name: str, errors: list[FieldError]) -> list[str]:
    if value is None or value == "":
        return []
    raw = value.split() if isinstance(value, str) else value
    if not isinstance(raw, (list, tuple)) or not all(isinstance(c, str) for c in raw):
        errors.append(FieldError(name, _("Taxes are a list of tax codes")))
        return []
    codes = []
    for code in raw:
        code = code.strip().upper()
        if code and code not in codes:
            codes.append(code)
    return codes


def clean_expense(data: Mapping[str, Any], *, partial: bool = False) -> ExpenseInput:
    """Check what a request gives; amounts are checked against the currency later (compute_expense)."""
    form = Form(data, partial=partial)
    given = {k for k in data if data.get(k) is not None} if partial else set(data)
    if not partial or form.present("date"):
        day = parse_day(data.get("date"), "date", form.errors, "Date")
        if day is None and not any(e.field == "date" for e in form.errors):
            form.error("date", _("Date is required"))
        elif day is not None:
            form.values["expense_date"] = day
    if not partial or form.present("vendor_id"):
        form.identifier("vendor_id", required=False, label=_("Vendor"))
        if "vendor_id" in form.values:
            form.values["vendor"] = form.values.pop("vendor_id")
        elif not any(e.field == "vendor_id" for e in form.errors):
            form.values["vendor"] = None
    form.text("description", max_length=500, label=_("Description"), one_line=True)
    form.currency("currency", required=not partial)
    form.choice("paid_with", PAID_WITH, default="bank", label=_("Paid with"))
    if not partial or form.present("paid_on"):
        form.date("paid_on", label=_("Paid on"))
    form.text("reference", max_length=200, label=_("Reference"), one_line=True)
    form.text("notes", max_length=4000)
    form.boolean("billable", default=False)
    if not partial or form.present("client_id"):
        form.identifier("client_id", required=False, label=_("Client"))
        if "client_id" in form.values:
            form.values["client"] = form.values.pop("client_id")
        elif not any(e.field == "client_id" for e in form.errors):
            form.values["client"] = None
    if not partial or form.present("markup_percent"):
        form.decimal("markup_percent", minimum=Decimal(0), max_places=2, label=_("Markup"), default="0")
        if "markup_percent" in form.values:
            if form.values["markup_percent"] > 1000:
                form.values.pop("markup_percent")
                form.error("markup_percent", _("Markup is a percentage from 0 to 1000"))
            else:
                form.values["markup_percent"] = format(form.values["markup_percent"].normalize(), "f") \
                    if form.values["markup_percent"] else "0"
    if form.present("deductible_percent") and data.get("deductible_percent") not in (None, ""):
        form.integer("deductible_percent", minimum=0, maximum=100, label=_("Deductible share"))
    errors = form.errors
    splits: list[tuple[str, Decimal]] | None = None
    raw_splits = data.get("splits")
    if raw_splits not in (None, "", []):
        if not isinstance(raw_splits, (list, tuple)):
            errors.append(FieldError("splits", _("Splits are a list of {category, net}")))
        elif len(raw_splits) > MAX_SPLITS:
            errors.append(FieldError("splits", _("An expense is split in at most %(MAX_SPLITS)s categories", MAX_SPLITS=MAX_SPLITS)))
        else:
            splits = []
            for index, raw in enumerate(raw_splits):
                if not isinstance(raw, Mapping):
                    errors.append(FieldError(f"splits[{index}]", _("A split is {category, net}")))
                    continue
                category = str(raw.get("category") or "").strip().lower()
                if not category:
                    errors.append(FieldError(f"splits[{index}].category", _("Category is required")))
                amount = _amount(raw.get("net"), f"splits[{index}].net", "Net", errors)
                if category and amount is not None:
                    splits.append((category, amount))
            if "net" in data and data.get("net") not in (None, "") and not errors:
                net = _amount(data.get("net"), "net", "Net", errors)
                if net is not None and net != sum((a for _category, a in splits), Decimal(0)):
                    errors.append(FieldError("net", _("The splits add up to %(sum)s, not to the net %(net)s", sum=sum((a for _category, a in splits), Decimal(0)), net=net)))
    elif not partial or form.present("net") or form.present("category"):
        category = str(data.get("category") or "").strip().lower()
        if not category and not partial:
            errors.append(FieldError("category", _("Category is required")))
        net = _amount(data.get("net"), "net", "Net", errors) if (not partial or form.present("net")) else None
        if not partial or (category and net is not None):
            if category and net is not None:
                splits = [(category, net)]
        elif partial:
            # One of the two: the service fills the other from the saved expense.
            form.values["_category"] = category or None
            form.values["_net"] = net
    tax_codes = _codes(data.get("taxes"), "taxes", errors) if (not partial or form.present("taxes")) else None
    tax_amounts: dict[str, Decimal] | None = None
    raw_amounts = data.get("tax_amounts")
    if raw_amounts not in (None, "", {}):
        if not isinstance(raw_amounts, Mapping):
            errors.append(FieldError("tax_amounts", _("Tax amounts are {code: amount}")))
        else:
            tax_amounts = {}
            for code, value in raw_amounts.items():
                amount = _amount(value, f"tax_amounts.{code}", f"Tax {code}", errors, positive=False)
                if amount is not None:
                    tax_amounts[str(code).strip().upper()] = amount
            if tax_codes is None:
                tax_codes = list(tax_amounts)
            missing = [c for c in tax_amounts if c not in (tax_codes or [])]
            if missing:
                errors.append(FieldError("tax_amounts", _("Tax %(missing)s has an amount but is not among the taxes", missing=missing[0])))
    tax_bases: dict[str, Decimal] | None = None
    raw_bases = data.get("tax_bases")
    if raw_bases not in (None, "", {}):
        if not isinstance(raw_bases, Mapping):
            errors.append(FieldError("tax_bases", _("Tax bases are {code: amount}")))
        else:
            tax_bases = {}
            for code, value in raw_bases.items():
                amount = _amount(value, f"tax_bases.{code}", f"Base of tax {code}", errors, positive=False)
                if amount is not None:
                    tax_bases[str(code).strip().upper()] = amount
    if errors:
        raise ValidationFailed(errors)
    return ExpenseInput(values=form.values, splits=splits, tax_codes=tax_codes, tax_amounts=tax_amounts,
                        tax_bases=tax_bases, given=given)


@dataclass(frozen=True)
class InputTax:
    code: str
    name: str
    rate: Decimal
    category: str
    base: Decimal
    amount: Decimal
    deductible: Decimal


@dataclass(frozen=True)
class ExpenseTotals:
    currency: str
    splits: tuple[tuple[str, Decimal], ...]
    net: Decimal
    taxes: tuple[InputTax, ...]
    tax_total: Decimal
    deductible: Decimal
    total: Decimal


def deductible_part(amount: Decimal, percent: int, currency: str) -> Decimal:
    return round_money(amount * Decimal(percent) / HUNDRED, currency)


def compute_expense(splits: Sequence[tuple[str, Decimal]], tax_codes: Sequence[str], rates: Mapping[str, TaxRate],
                    currency: str, *, deductible_percent: int = 100,
                    tax_amounts: Mapping[str, Decimal] | None = None,
                    tax_bases: Mapping[str, Decimal] | None = None) -> ExpenseTotals:
    """Totals and input taxes; raises ValidationFailed naming the field at fault."""
    errors: list[FieldError] = []
    currency = check_currency(currency)
    checked = []
    for index, (category, net) in enumerate(splits):
        if round_money(net, currency) != net:
            errors.append(FieldError("net" if len(splits) == 1 else f"splits[{index}].net",
                                     _("Net %(net)s has more decimals than %(currency)s allows", net=net, currency=currency)))
        checked.append((category, net))
    unknown = [c for c in tax_codes if c not in rates]
    if unknown:
        errors.append(FieldError("taxes", _("Unknown tax code %(code)r: define it under Settings, Taxes", code=unknown[0])))
    if errors:
        raise ValidationFailed(errors)
    net = sum((n for _category, n in checked), Decimal(0))
    lines = [Line(description=category, quantity=Decimal(1), unit_price=n, tax_codes=tuple(tax_codes))
             for category, n in checked]
    computed = compute_totals(lines, rates, currency)
    taxes = []
    for tax in computed.taxes:
        amount = tax.amount
        if tax_amounts is not None and tax.code in tax_amounts:
            amount = tax_amounts[tax.code]
            if round_money(amount, currency) != amount:
                errors.append(FieldError(f"tax_amounts.{tax.code}",
                                         _("Tax %(code)s %(amount)s has more decimals than %(currency)s allows", code=tax.code, amount=amount, currency=currency)))
                continue
        base = tax_bases.get(tax.code, tax.base) if tax_bases else tax.base
        if base > net:
            errors.append(FieldError(f"tax_bases.{tax.code}", _("The base of tax %(code)s is larger than the net", code=tax.code)))
            continue
        taxes.append(InputTax(code=tax.code, name=tax.name, rate=tax.rate, category=tax.category, base=base,
                              amount=amount, deductible=deductible_part(amount, deductible_percent, currency)))
    if errors:
        raise ValidationFailed(errors)
    tax_total = sum((t.amount for t in taxes), round_money(Decimal(0), currency))
    if tax_total > net:
        raise ValidationFailed([FieldError("tax_amounts" if tax_amounts else "taxes",
                                           _("The taxes (%(tax_total)s) are larger than the net (%(net)s): check the amounts on the receipt", tax_total=tax_total, net=net))])
    return ExpenseTotals(currency=currency, splits=tuple(checked), net=net, taxes=tuple(taxes), tax_total=tax_total,
                         deductible=sum((t.deductible for t in taxes), round_money(Decimal(0), currency)),
                         total=net + tax_total)


def tax_json(tax: InputTax) -> dict[str, str]:
    return {"code": tax.code, "name": tax.name, "rate": format(tax.rate, "f"), "category": tax.category,
            "base": str(tax.base), "amount": str(tax.amount), "deductible": str(tax.deductible)}


def paid_on_for(paid_with: str, paid_on: date | None, expense_date: date) -> date | None:
    """The day the cash basis counts the expense: none while unpaid, the expense's own day unless given."""
    if paid_with == "unpaid":
        return None
    return paid_on or expense_date


# -- closed periods ------------------------------------------------------------------------------

def check_open(day: date, closed_up_to: date | None, *, field_name: str = "date") -> None:
    """A new or moved expense must fall after the closed period (422 naming the field)."""
    if closed_up_to is not None and day <= closed_up_to:
        raise ValidationFailed([FieldError(field_name, _("The books are closed up to %(isoformat)s: an expense dated %(isoformat2)s cannot be recorded there", isoformat=closed_up_to.isoformat(), isoformat2=day.isoformat()))])


def check_paid_on(paid_on: date | None, closed_up_to: date | None, today: date) -> None:
    """The day an expense was paid (what the cash basis counts) is not in the future, nor in the closed period:
    a closed year's cash-basis profit and loss would change under the accountant (422 naming paid_on)."""
    if paid_on is None:
        return
    if paid_on > today:
        raise ValidationFailed([FieldError("paid_on", _("Paid on: %(day)s is in the future (today is %(today)s)", day=paid_on.isoformat(), today=today.isoformat()))])
    if closed_up_to is not None and paid_on <= closed_up_to:
        raise ValidationFailed([FieldError("paid_on", _("The books are closed up to %(closed)s: an expense paid on %(day)s cannot be counted there", closed=closed_up_to.isoformat(), day=paid_on.isoformat()))])


def check_not_frozen(day: date, closed_up_to: date | None) -> None:
    """A recorded expense inside the closed period is frozen, like an issued document (409)."""
    if closed_up_to is not None and day <= closed_up_to:
        raise Conflict(_("This expense is dated %(isoformat)s, inside the period closed up to %(isoformat2)s: it is frozen. Reopen the period under Expenses, Closing to change it.", isoformat=day.isoformat(), isoformat2=closed_up_to.isoformat()))


# -- receipts --------------------------------------------------------------------------------------

MAX_RECEIPT_BYTES = 20 * 1024 * 1024
RECEIPT_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}
# A supplier's XML e-invoice is kept as the receipt of the expense it made (never uploaded as one).
STORED_TYPES = {**RECEIPT_TYPES, "xml": "application/xml"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}
MAX_RECEIPTS = 20


def receipt_kind(content: bytes) -> str:
    """pdf, png or jpg from the file's first bytes (never its name); ValidationFailed naming `file` otherwise."""
    if not content:
        raise ValidationFailed([FieldError("file", _("The file is empty"))])
    if len(content) > MAX_RECEIPT_BYTES:
        raise ValidationFailed([FieldError("file", _("The file is %(size).1f MB; a receipt may be at most 20 MB",
                                                     size=len(content) / 1024 / 1024))])
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if content[4:8] == b"ftyp" and content[8:12] in _HEIF_BRANDS:
        raise ValidationFailed([FieldError("file", _("HEIC/HEIF photos (an iPhone's default) are not kept: export "
                                                   "the photo as JPEG (or set the camera to 'Most Compatible') "
                                                   "and upload that"))])
    raise ValidationFailed([FieldError("file", _("A receipt must be a PDF, PNG or JPEG file"))])


def receipt_name(sha256: str, kind: str) -> str:
    """Where a receipt lives under attachments/: receipts/<sha256>.<ext> (the same bytes are kept once)."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256) or kind not in STORED_TYPES:
        raise ValueError(_("not a receipt's name"))
    return f"receipts/{sha256}.{kind}"


def kind_of_media_type(media_type: str) -> str:
    return {v: k for k, v in STORED_TYPES.items()}[media_type]


def upload_filename(name: str | None) -> str:
    """The uploaded file's own name, kept for the user to recognise (one line, at most 200 characters)."""
    text = "".join(ch for ch in (name or "") if ch.isprintable()).strip().replace("/", "_").replace("\\", "_")
    return text[:200]


# -- billing ------------------------------------------------------------------------------------------

def billed_state(billed_document: Mapping[str, Any] | None) -> str:
    """unbilled, on a draft (not billed yet), billed (on an issued invoice); a cancelled invoice frees it."""
    if not billed_document or billed_document.get("id") is None:
        return "unbilled"
    if billed_document.get("status") == "draft":
        return "on_draft"
    if billed_document.get("status") == "cancelled":
        return "unbilled"
    return "billed"


def billed_price(net: Decimal, markup_percent: str, currency: str) -> Decimal:
    """What the client is charged: the net with the markup, rounded to the currency."""
    return round_money(net * (HUNDRED + Decimal(markup_percent or "0")) / HUNDRED, currency)


def billing_line(expense: Mapping[str, Any], vendor_name: str, net: Decimal) -> dict[str, Any]:
    """The invoice line of a billable expense (quantity 1). A cost passed on is a supply like the others:
    the line starts with the expense's own tax codes (HST paid on a flight, HST charged on it), which the
    user can change on the line; an untaxed line beside taxed ones would leave the invoice without its
    e-invoice (EN 16931 BR-O-11)."""
    parts = [expense.get("description") or "Expense"]
    detail = ", ".join(p for p in (vendor_name, expense["expense_date"].isoformat()) if p)
    text = f"{parts[0]} ({detail})" if detail else parts[0]
    price = billed_price(net, expense.get("markup_percent") or "0", expense["currency"])
    return {"description": text[:500], "quantity": "1", "unit_price": str(price),
            "taxes": list(expense.get("tax_codes") or [])}


def check_billable_to(expense: Mapping[str, Any], document: Mapping[str, Any]) -> None:
    if not expense.get("billable"):
        raise Conflict(_("This expense is not marked billable."))
    if expense.get("status") != "recorded":
        raise Conflict(_("A draft expense (an import still to check) cannot be billed; record it first."))
    if expense.get("client") != document["client"]:
        raise Conflict(_("This expense is billable to another client."))
    if expense["currency"] != document["currency"]:
        raise Conflict(_("The expense is in %(currency)s, the invoice in %(currency2)s.", currency=expense['currency'], currency2=document['currency']))
    if document["doc_type"] != "invoice" or document["status"] != "draft":
        raise Conflict(_("Expenses are added to a draft invoice."))


def match_tax_code(rate: Decimal, category: str, rates: Mapping[str, TaxRate]) -> str | None:
    """The sales tax code a supplier's VAT line is recorded under: the same category and rate (the
    first by code when several fit), None when the user has none."""
    for code in sorted(rates):
        candidate = rates[code]
        if candidate.category == (category or "S") and candidate.rate == rate and not candidate.compound:
            return code
    return None


# -- what `counterfoil check` proves --------------------------------------------------------------------

def expense_problems(expense: Mapping[str, Any], split_nets_minor: Sequence[int]) -> list[str]:
    """Why a stored expense does not add up (its splits to its net, its taxes to its tax total and its
    deductible part), or nothing. The database's own CHECKs hold total = net + tax."""
    problems = []
    if sum(split_nets_minor) != expense["net_minor"]:
        problems.append(_("its splits add up to %(sum)s, its net is %(net_minor)s (minor units)", sum=sum(split_nets_minor), net_minor=expense['net_minor']))
    try:
        taxes = json.loads(expense["taxes_json"] or "[]")
        amount = sum(to_minor(Decimal(t["amount"]), expense["currency"]) for t in taxes)
        deductible = sum(to_minor(Decimal(t["deductible"]), expense["currency"]) for t in taxes)
    except (ValueError, KeyError, TypeError, ArithmeticError, MoneyError):
        return [*problems, "its taxes cannot be read"]
    if amount != expense["tax_total_minor"]:
        problems.append(_("its taxes add up to %(amount)s, its tax total is %(tax_total_minor)s (minor units)", amount=amount, tax_total_minor=expense['tax_total_minor']))
    if deductible != expense["deductible_tax_minor"]:
        problems.append(_("its deductible taxes add up to %(deductible)s, it records %(deductible_tax_minor)s", deductible=deductible, deductible_tax_minor=expense['deductible_tax_minor']))
    return problems
