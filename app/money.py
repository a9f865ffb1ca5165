"""Money: Decimal in, Decimal out; integers of minor units in the database.

Never a float. The number of minor units per currency comes from ISO 4217 via
Babel's currency data (JPY 0, EUR 2, KWD 3).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel.core import get_global
from babel.numbers import get_currency_precision, get_territory_currencies, list_currencies


class MoneyError(ValueError):
    """An amount or currency that cannot be used."""


@cache
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def check_currency(code: str) -> str:
    code = (code or "").strip().upper()
    if len(code) != 3 or code not in known_currencies():
        raise MoneyError(f"unknown currency code {code!r} (use ISO 4217, e.g. EUR, USD, CAD)")
    return code


@cache
def active_currencies(on: date) -> frozenset[str]:
    """The ISO 4217 currencies some country uses as legal tender on that day (CLDR's territory data): not
    XXX (no currency), XTS (testing), XAU (gold) or XDR, nor those replaced (VEF by VES, ZWL by ZWG, HRK by
    EUR). Amounts in a currency no longer in use stay readable (check_currency); new documents, clients
    and settings take only these."""
    found: set[str] = set()
    for territory in get_global("territory_currencies"):
        found.update(get_territory_currencies(territory, on))
    return frozenset(found)


# Why a known code is refused for new input, in words (the others: "no longer in use").
INACTIVE_REASONS = {
    "XXX": "it means \u201cno currency\u201d", "XTS": "it is reserved for testing",
    "XAU": "it is gold, not a currency", "XAG": "it is silver, not a currency", "XPT": "it is platinum, not a currency",
    "XPD": "it is palladium, not a currency", "XDR": "it is the IMF's unit of account",
    "VEF": "Venezuela replaced it by VES", "VED": "it is not Venezuela's currency of account (use VES)",
    "ZWL": "Zimbabwe replaced it by ZWG", "HRK": "Croatia replaced it by EUR", "SLL": "Sierra Leone replaced it by SLE",
    "ANG": "Curaçao and Sint Maarten replaced it by XCG", "CUC": "Cuba withdrew it (use CUP)",
    "MRO": "Mauritania replaced it by MRU", "STD": "São Tomé and Príncipe replaced it by STN",
}


def check_active_currency(code: str, *, on: date | None = None) -> str:
    """An ISO 4217 code in use today, for new input (documents, clients, settings); MoneyError otherwise."""
    code = check_currency(code)
    if code not in active_currencies(on or date.today()):
        reason = INACTIVE_REASONS.get(code) or (
            "it is a unit of account or a metal, not a currency" if code.startswith("X") else "it is no longer in use")
        raise MoneyError(f"{code} cannot be used: {reason} (use a currency in use, e.g. EUR, USD, CAD)")
    return code


@cache
def minor_digits(currency: str) -> int:
    """Digits after the decimal point for the currency (ISO 4217 minor unit)."""
    code = check_currency(currency)
    # Babel's precision table is the CLDR "currencyData"; fall back to 2.
    fractions = get_global("currency_fractions")
    if code in fractions:
        return int(fractions[code][0])
    return int(get_currency_precision(code))


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_digits(currency))


_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def written_plainly(text: str) -> bool:
    """Whether a number is written with the digits 0-9, a sign, a decimal point and an exponent only (spaces
    and no-break spaces as group separators aside): what every file and program reads back as written."""
    return bool(_NUMBER.fullmatch(text.strip().replace("\u00a0", "").replace(" ", "")))


def parse_decimal(text: str | int | Decimal, *, field: str = "amount") -> Decimal:
    """Read an exact decimal from user or JSON input; floats are refused."""
    if isinstance(text, (bool, float)):
        raise MoneyError(f"{field}: give the number as text, e.g. \"12.50\"")
    if isinstance(text, Decimal):
        value = text
    else:
        cleaned = str(text).strip().replace("\u00a0", "").replace(" ", "")
        if not cleaned:
            raise MoneyError(f"{field}: a number is required")
        # Decimal() also reads other scripts' digits ("١٢٣" is 123) and underscores ("1_000"): a number is
        # written here with the digits 0-9 only, as every file and program reads it back.
        if not written_plainly(cleaned):
            raise MoneyError(f"{field}: {text!r} is not a number (digits 0-9 and a decimal point, e.g. \"12.50\")")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise MoneyError(f"{field}: {text!r} is not a number") from None
    if not value.is_finite():
        raise MoneyError(f"{field}: {text!r} is not a number")
    return value


def decimal_places(value: Decimal) -> int:
    """Digits after the decimal point as the number is written: 1.50 -> 2, 100 -> 0, 1E+2 -> 0."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):  # 'n', 'N' or 'F': NaN, signalling NaN, Infinity
        raise MoneyError(f"{value} is not a number")
    return max(-exponent, 0)


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit."""
    if not isinstance(amount, Decimal):
        raise MoneyError(f"an amount must be a Decimal, not {type(amount).__name__}")
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal amount -> integer minor units. The amount must already be exact to the unit."""
    rounded = round_money(amount, currency)
    if rounded != amount:
        raise MoneyError(
            f"{amount} has more decimals than {currency} allows ({minor_digits(currency)})"
        )
    return int(rounded.scaleb(minor_digits(currency)))


def from_minor(minor: int, currency: str) -> Decimal:
    """Integer minor units -> Decimal with exactly the currency's decimals."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise MoneyError(f"minor units must be an integer, not {type(minor).__name__}")
    digits = minor_digits(currency)
    return Decimal(int(minor)).scaleb(-digits).quantize(quantum(currency))


def money_text(amount: Decimal, currency: str) -> str:
    """The JSON form of an amount: a plain string with the currency's decimals."""
    return str(round_money(amount, currency))
