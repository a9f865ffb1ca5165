"""Exchange rates and conversion: pure rules.

A rate is "units of that currency per one base unit" (base CAD, rate of EUR 0.6712: 1 CAD = 0.6712
EUR), exact decimal text, never a float. The rate used for a day is the latest one on or before it.
A conversion goes through the base: amount * rate(to) / rate(from), the base's own rate being 1, and
is rounded half-up to the target currency's minor unit (JPY 0, EUR 2, KWD 3).

Rate files: the ECB's `eurofxref-hist.csv` (a column per currency, units per one EUR), the Bank of
Canada's Valet CSV (a column per `FXxxxCAD` series, CAD per one unit of xxx, after an "OBSERVATIONS"
line) and a plain `date,currency,rate` CSV (units per one base unit). Rates of another base are
turned into the business's base here, through the cross rate of the same day.
"""

from __future__ import annotations

import csv
import io
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

from app.common.i18n import N_, _
from app.common.logic import FieldError, ValidationFailed
from app.money import MoneyError, active_currencies, check_active_currency, check_currency, minor_digits, round_money

# Rates are kept to 10 significant digits: more than any published rate has, enough that a round trip
# through the base (an ECB rate turned into CAD) changes no cent of an invoice.
SIGNIFICANT_DIGITS = 10
# Rates from 1e-6 to 1e9 units per base unit: wider than any currency pair in use (VND per KWD ~ 8e4).
MIN_RATE = Decimal("0.000001")
MAX_RATE = Decimal("1000000000")
SOURCES = {"manual": N_("Entered by hand"), "ecb": N_("ECB file"), "boc": N_("Bank of Canada file"),
           "csv": N_("CSV file")}


class RateFileError(ValueError):
    """A rate file that cannot be read; the message names the line."""


def significant(value: Decimal) -> Decimal:
    """`value` rounded half-up to SIGNIFICANT_DIGITS significant digits, without trailing zeros."""
    if value == 0:
        return Decimal(0)
    exponent = value.adjusted() - SIGNIFICANT_DIGITS + 1
    rounded = value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)
    normal = rounded.normalize()
    # normalize() writes 1000 as 1E+3: keep plain notation.
    return normal.quantize(Decimal(1)) if normal.as_tuple().exponent > 0 else normal  # type: ignore[operator]


def parse_rate(value: object, *, field_name: str = "rate") -> Decimal:
    """A rate from user or file input: a number above zero written as text. Problems name the field."""
    if isinstance(value, (bool, float)):
        raise ValidationFailed([FieldError(field_name, _('give the rate as text, e.g. "0.6712"'))])
    text = str(value if value is not None else "").strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        raise ValidationFailed([FieldError(field_name, _("a rate is required"))])
    try:
        rate = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed([FieldError(field_name, _("%(text)s is not a number", text=repr(text)))]) from None
    if not rate.is_finite():
        raise ValidationFailed([FieldError(field_name, _("%(text)s is not a number", text=repr(text)))])
    if rate <= 0:
        raise ValidationFailed([FieldError(field_name, _("the rate must be above zero (not %(text)s)", text=text))])
    if not MIN_RATE <= rate <= MAX_RATE:
        raise ValidationFailed([FieldError(field_name, _("%(text)s is out of range (%(low)s to %(high)s)", text=text, low=MIN_RATE, high=MAX_RATE))])
    return significant(rate)


def rate_currency(value: object) -> str:
    """A currency a rate may be for: any ISO 4217 currency, one no longer in use too (an old document's rate),
    but not a unit of account or a metal (XXX, XAU, XDR): no document is in those."""
    code = check_currency(str(value or ""))
    if code.startswith("X") and code not in active_currencies(date.today()):
        check_active_currency(code)   # raises, saying what the code is
    return code


def parse_currency(value: object, *, field_name: str = "currency") -> str:
    try:
        return rate_currency(value)
    except MoneyError as problem:
        raise ValidationFailed([FieldError(field_name, str(problem))]) from None


def parse_rate_date(value: object, today: date, *, field_name: str = "date") -> date:
    """A rate's day: YYYY-MM-DD, not after today (a rate is published, never forecast)."""
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value or "").strip())
        except ValueError:
            raise ValidationFailed([FieldError(field_name, _("the date must be written YYYY-MM-DD"))]) from None
    if day > today:
        raise ValidationFailed([FieldError(field_name, _("%(day)s is in the future: a rate is known only once it is published",
                                                         day=day.isoformat()))])
    if day.year < 1900:
        raise ValidationFailed([FieldError(field_name, _("the date must be after 1900"))])
    return day


@dataclass(frozen=True)
class RateInput:
    rate_date: date
    currency: str
    rate: Decimal


def clean_rate(data: Mapping[str, object], base: str, today: date) -> RateInput:
    """A rate entered by hand (page or API): every problem named by its field, all at once."""
    errors: list[FieldError] = []
    values: dict[str, object] = {}
    for name, reader in (("date", lambda v: parse_rate_date(v, today)), ("currency", parse_currency),
                         ("rate", parse_rate)):
        try:
            values[name] = reader(data.get(name))
        except ValidationFailed as failed:
            errors.extend(failed.errors)
    if not errors and values["currency"] == base:
        errors.append(FieldError("currency", _("%(base)s is the base currency: its rate is always 1", base=base)))
    if errors:
        raise ValidationFailed(errors)
    return RateInput(values["date"], values["currency"], values["rate"])  # type: ignore[arg-type]


# -- looking rates up and converting --------------------------------------------------------------

def rate_on(history: Sequence[tuple[date, Decimal]], day: date) -> Decimal | None:
    """The rate on `day` or the latest before it; `history` is sorted by date. None when none is that old."""
    position = bisect_right([d for d, _ in history], day)
    return history[position - 1][1] if position else None


def convert(amount: Decimal, source: str, target: str, source_rate: Decimal, target_rate: Decimal) -> Decimal:
    """`amount` of `source` in `target`, through the base: each rate in units per one base unit (the
    base's own rate is 1). Rounded half-up to the target's minor unit."""
    if source == target:
        return round_money(amount, target)
    with localcontext() as context:
        context.prec = 50
        exact = amount * target_rate / source_rate
    return round_money(exact, target)


def to_base(amount: Decimal, rate: Decimal, base: str) -> Decimal:
    """A foreign amount in the base currency, `rate` being units of that currency per one base unit."""
    with localcontext() as context:
        context.prec = 50
        exact = amount / rate
    return round_money(exact, base)


def cross_rate(source_rate: Decimal, target_rate: Decimal) -> Decimal:
    """How many target units one source unit buys (for the "1 CAD = 0.6712 EUR" hint)."""
    with localcontext() as context:
        context.prec = 50
        return significant(target_rate / source_rate)


def rate_text(rate: Decimal, places: int = 4) -> str:
    """A rate as a hint shows it: at least `places` decimals, more when the rate is small."""
    if rate == 0:
        return "0"
    digits = max(places, -rate.adjusted() + 3)
    return str(rate.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def realised_difference(amount: Decimal, invoice_rate: Decimal, payment_rate: Decimal, base: str) -> Decimal:
    """The realised exchange gain (above zero) or loss (below) of receiving `amount` of a foreign
    currency at `payment_rate` for an invoice frozen at `invoice_rate` (both units per base unit)."""
    return to_base(amount, payment_rate, base) - to_base(amount, invoice_rate, base)


def minor_of_base(amount: Decimal, base: str) -> int:
    return int(round_money(amount, base).scaleb(minor_digits(base)))


@dataclass(frozen=True)
class CurrencySum:
    currency: str
    amount: Decimal


@dataclass(frozen=True)
class BaseTotal:
    """Per-currency sums and their total in the base currency; documents without a rate are left out
    of the base total (and counted, so the page can say so)."""

    base: str
    per_currency: tuple[CurrencySum, ...]
    total: Decimal
    left_out: int = 0
    left_out_currencies: tuple[str, ...] = field(default=())


def base_total(rows: Iterable[tuple[str, Decimal, Decimal | None]], base: str) -> BaseTotal:
    """Rows of (currency, amount, amount in base or None when no rate is known)."""
    return counted_base_total(((currency, amount, in_base, 1) for currency, amount, in_base in rows), base)


def counted_base_total(rows: Iterable[tuple[str, Decimal, Decimal | None, int]], base: str) -> BaseTotal:
    """base_total() of groups of amounts: rows of (currency, the group's amount, its amount in base or None when
    no rate is known, how many amounts it holds), so that a group left out counts each of its amounts."""
    sums: dict[str, Decimal] = {}
    total = Decimal(0)
    left_out = 0
    missing: set[str] = set()
    for currency, amount, in_base, count in rows:
        sums[currency] = sums.get(currency, Decimal(0)) + amount
        if in_base is None:
            left_out += count
            missing.add(currency)
        else:
            total += in_base
    ordered = sorted(sums.items(), key=lambda kv: (kv[0] != base, kv[0]))
    return BaseTotal(base, tuple(CurrencySum(c, a) for c, a in ordered), round_money(total, base), left_out,
                     tuple(sorted(missing)))


# -- rate files -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ParsedFile:
    layout: str            # ecb | boc | csv
    rates: tuple[RateInput, ...]
    skipped: int           # cells with no rate (N/A, empty) or not convertible to the base


def _rows(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]


def _file_decimal(cell: str) -> Decimal | None:
    try:
        value = Decimal(cell)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


def _rebase(day: date, per_unit: Mapping[str, Decimal], base: str, skipped: list[int]) -> list[RateInput]:
    """Rates of one day in units per one `anchor` unit (the anchor among them at 1) -> per one base unit."""
    if base not in per_unit:
        skipped[0] += len(per_unit) - 1
        return []
    base_rate = per_unit[base]
    out = []
    with localcontext() as context:
        context.prec = 50
        for currency, rate in per_unit.items():
            if currency == base:
                continue
            value = significant(rate / base_rate)
            if MIN_RATE <= value <= MAX_RATE:
                out.append(RateInput(day, currency, value))
            else:
                skipped[0] += 1
    return out


def _known(code: str) -> bool:
    try:
        rate_currency(code)
    except MoneyError:
        return False
    return True


def _parse_ecb(rows: list[list[str]], base: str, today: date) -> ParsedFile:
    header = rows[0]
    columns = [(i, code.upper()) for i, code in enumerate(header) if i > 0 and re.fullmatch(r"[A-Za-z]{3}", code)]
    rates: list[RateInput] = []
    skipped = [0]
    for number, row in enumerate(rows[1:], start=2):
        if not row or not any(row):
            continue
        day = _file_day(row[0], number, today)
        per_eur: dict[str, Decimal] = {"EUR": Decimal(1)}
        for index, code in columns:
            value = _file_decimal(row[index]) if index < len(row) else None
            if value is None or not _known(code):
                skipped[0] += 1
                continue
            per_eur[code] = value
        rates.extend(_rebase(day, per_eur, base, skipped))
    return ParsedFile("ecb", tuple(rates), skipped[0])


def _parse_boc(rows: list[list[str]], base: str, today: date) -> ParsedFile:
    start = next(i for i, row in enumerate(rows) if row and row[0].upper() == "OBSERVATIONS")
    header = rows[start + 1] if start + 1 < len(rows) else []
    if not header or header[0].lower() != "date":
        raise RateFileError(f"line {start + 2}: expected the column names (date,FXUSDCAD,...) after OBSERVATIONS")
    columns = []
    for index, name in enumerate(header[1:], start=1):
        match = re.fullmatch(r"FX([A-Z]{3})CAD", name.upper())
        if match:
            columns.append((index, match.group(1)))
    rates: list[RateInput] = []
    skipped = [0]
    for number, row in enumerate(rows[start + 2:], start=start + 3):
        if not row or not any(row):
            continue
        day = _file_day(row[0], number, today)
        # FXUSDCAD is CAD per one USD: per one CAD that is 1 / value.
        per_cad: dict[str, Decimal] = {"CAD": Decimal(1)}
        with localcontext() as context:
            context.prec = 50
            for index, code in columns:
                value = _file_decimal(row[index]) if index < len(row) else None
                if value is None or not _known(code):
                    skipped[0] += 1
                    continue
                per_cad[code] = 1 / value
        rates.extend(_rebase(day, per_cad, base, skipped))
    return ParsedFile("boc", tuple(rates), skipped[0])


def _parse_plain(rows: list[list[str]], base: str, today: date) -> ParsedFile:
    rates = []
    first = 1 if rows and rows[0] and rows[0][0].lower() == "date" else 0
    for number, row in enumerate(rows[first:], start=first + 1):
        if not row or not any(row):
            continue
        if len(row) != 3:
            raise RateFileError(f"line {number}: expected date,currency,rate (3 columns, found {len(row)})")
        try:
            day = parse_rate_date(row[0], today)
            currency = parse_currency(row[1])
            rate = parse_rate(row[2])
        except ValidationFailed as failed:
            problem = failed.errors[0]
            raise RateFileError(f"line {number}: {problem.field}: {problem.message}") from None
        if currency == base:
            raise RateFileError(f"line {number}: currency: {base} is the base currency: its rate is always 1")
        rates.append(RateInput(day, currency, rate))
    return ParsedFile("csv", tuple(rates), 0)


def _file_day(cell: str, number: int, today: date) -> date:
    try:
        return parse_rate_date(cell, today)
    except ValidationFailed as failed:
        raise RateFileError(f"line {number}: date: {failed.errors[0].message}") from None


def layout_of(rows: list[list[str]]) -> str | None:
    """Which of the three layouts a file is in, from its first lines; None when none."""
    first = next((row for row in rows if row and any(row)), None)
    if first is None:
        return None
    if any(row and row[0].upper() == "OBSERVATIONS" for row in rows[:200]) and \
            any(re.fullmatch(r"FX[A-Z]{3}CAD", cell.upper()) for row in rows for cell in row[:3]):
        return "boc"
    if first[0].lower() == "date" and len(first) > 1 and all(
            re.fullmatch(r"[A-Za-z]{3}", cell) for cell in first[1:] if cell):
        return "ecb"
    if [cell.lower() for cell in first] == ["date", "currency", "rate"] or (
            len(first) == 3 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", first[0]) is not None):
        return "csv"
    return None


def parse_rate_file(text: str, base: str, today: date) -> ParsedFile:
    """Read a rate file in any of the three layouts, as rates per one `base` unit. Raises RateFileError
    naming the line at fault; a file in another layout is refused as a whole."""
    rows = _rows(text.lstrip("\ufeff"))
    layout = layout_of(rows)
    if layout is None:
        raise RateFileError("line 1: not a rate file this program reads: use the ECB eurofxref-hist CSV, the "
                            "Bank of Canada CSV (FXUSDCAD columns) or a CSV of date,currency,rate")
    parser = {"ecb": _parse_ecb, "boc": _parse_boc, "csv": _parse_plain}[layout]
    parsed = parser(rows, base, today)
    if not parsed.rates and not parsed.skipped:
        raise RateFileError("line 2: the file holds no rates")
    return parsed


# -- bank accounts per currency -------------------------------------------------------------------

# What an account sets on the business as a document prints it (the snapshot's bank fields).
ACCOUNT_FIELDS = {"holder": "bank_account_holder", "bank_name": "bank_name", "iban": "bank_iban", "bic": "bank_bic",
                  "institution": "bank_institution", "transit": "bank_transit", "routing": "bank_routing",
                  "account_number": "bank_account_number"}
IBAN_RE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
BIC_RE = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def iban_valid(iban: str) -> bool:
    """ISO 13616: the shape and the mod-97 check digits."""
    if not IBAN_RE.match(iban):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def account_currencies(value: Any) -> list[str]:
    """The currencies an account is for, from "EUR USD", "eur, usd" or a list; unknown codes raise."""
    parts = value if isinstance(value, (list, tuple)) else re.split(r"[\s,;]+", str(value or ""))
    codes: list[str] = []
    for part in parts:
        if str(part).strip():
            code = check_currency(str(part))
            if code not in codes:
                codes.append(code)
    return codes


def clean_account(data: Mapping[str, Any]) -> dict[str, Any]:
    """A bank account from the settings page: every problem named by its field, all at once. An account
    is a euro-style one (IBAN, BIC), a Canadian one (institution, transit, account number) or a US one
    (routing, account number); at least one way to pay it is needed."""
    errors: list[FieldError] = []
    text = {name: " ".join(str(data.get(name) or "").split()) for name in
            ("holder", "bank_name", "iban", "bic", "institution", "transit", "routing", "account_number", "note")}
    text["iban"] = text["iban"].replace(" ", "").upper()
    text["bic"] = text["bic"].replace(" ", "").upper()
    for name, limit in (("holder", 200), ("bank_name", 200), ("account_number", 40), ("note", 500)):
        if len(text[name]) > limit:
            errors.append(FieldError(name, _("at most %(limit)s characters", limit=limit)))
    if text["iban"] and not iban_valid(text["iban"]):
        errors.append(FieldError("iban", _("%(iban)s is not a valid IBAN (check the digits)", iban=text["iban"])))
    if text["bic"] and not BIC_RE.match(text["bic"]):
        errors.append(FieldError("bic", _("a BIC has 8 or 11 letters and digits, e.g. DEUTDEFF")))
    if text["institution"] and not re.fullmatch(r"\d{3}", text["institution"]):
        errors.append(FieldError("institution", _("the institution number has 3 digits, e.g. 004")))
    if text["transit"] and not re.fullmatch(r"\d{5}", text["transit"]):
        errors.append(FieldError("transit", _("the transit (branch) number has 5 digits, e.g. 12345")))
    if text["routing"] and not re.fullmatch(r"\d{9}", text["routing"]):
        errors.append(FieldError("routing", _("the ABA routing number has 9 digits")))
    if text["account_number"] and not re.fullmatch(r"[0-9A-Za-z-]{4,40}", text["account_number"]):
        errors.append(FieldError("account_number", _("an account number has 4 to 40 digits or letters")))
    if (text["institution"] or text["transit"]) and not (text["institution"] and text["transit"]
                                                          and text["account_number"]):
        errors.append(FieldError("transit", _("a Canadian account needs institution, transit and account number")))
    if text["routing"] and not text["account_number"]:
        errors.append(FieldError("account_number", _("a US account needs the account number with the routing number")))
    if not (text["iban"] or text["account_number"]):
        errors.append(FieldError("iban", _("give an IBAN, or a Canadian or US account number")))
    try:
        currencies = account_currencies(data.get("currencies"))
    except MoneyError as problem:
        errors.append(FieldError("currencies", str(problem)))
        currencies = []
    if errors:
        raise ValidationFailed(errors)
    return {**text, "currencies": " ".join(currencies)}


def choose_account(accounts: Sequence[Mapping[str, Any]], currency: str) -> Mapping[str, Any] | None:
    """The account a document in `currency` prints: the first (by position) listing that currency, else the
    first listing none (an account for any currency), else none."""
    for account in accounts:
        if currency in (account.get("currencies") or "").split():
            return account
    for account in accounts:
        if not (account.get("currencies") or "").split():
            return account
    return None


def with_account(settings: Mapping[str, Any], account: Mapping[str, Any] | None) -> dict[str, Any]:
    """The business settings with the account's bank fields (all empty when there is no account)."""
    fields = {target: (account.get(source) or "") if account else "" for source, target in ACCOUNT_FIELDS.items()}
    return {**settings, **fields}
