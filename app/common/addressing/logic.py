"""Electronic addresses (EN 16931 BT-34 seller, BT-49 buyer): where a Peppol e-invoice is delivered.

An address is an identifier and the scheme it belongs to, a code of the Electronic Address Scheme
(EAS) code list that the Connecting Europe Facility maintains: `0208` + `0123456749` is a Belgian
enterprise number, `9930` + `DE123456789` a German VAT number. Business settings and clients
carry one each; the Peppol BIS export writes them as `cbc:EndpointID` with `@schemeID`. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.common.i18n import _
from app.common.logic import FieldError

# The schemes users pick from, with what the identifier is (country first): the labels the forms show.
COMMON_SCHEMES: dict[str, str] = {
    "0208": "BE enterprise number", "9925": "BE VAT number", "0009": "FR SIRET", "0002": "FR SIREN",
    "9957": "FR VAT number", "0204": "DE Leitweg-ID", "9930": "DE VAT number", "0106": "NL KvK number",
    "0190": "NL OIN", "9944": "NL VAT number", "0192": "NO organisation number", "0007": "SE organisation number",
    "0184": "DK CVR number", "0037": "FI OVT code", "9914": "AT VAT number", "9915": "AT government code",
    "0211": "IT VAT number", "0201": "IT IPA code", "9920": "ES VAT number", "9938": "LU VAT number",
    "9945": "PL VAT number", "0195": "SG UEN", "0151": "AU ABN", "0088": "GLN (GS1 location number)",
    "0060": "DUNS number", "EM": "Email (outside Peppol)",
}
# Every code of the EAS code list as Peppol BIS validates it (2025), so a participant under any scheme can be
# addressed.
EAS_CODES = frozenset([
    "0002", "0007", "0009", "0037", "0060", "0088", "0096", "0097", "0106", "0130", "0135", "0142", "0147",
    "0151", "0154", "0158", "0170", "0177", "0183", "0184", "0188", "0190", "0191", "0192", "0193", "0194",
    "0195", "0196", "0198", "0199", "0200", "0201", "0202", "0203", "0204", "0205", "0208", "0209", "0210",
    "0211", "0212", "0213", "0215", "0216", "0217", "0218", "0221", "0225", "0230", "0235", "0240", "9910",
    "9913", "9914", "9915", "9918", "9919", "9920", "9922", "9923", "9924", "9925", "9926", "9927", "9928",
    "9929", "9930", "9931", "9932", "9933", "9934", "9935", "9936", "9937", "9938", "9939", "9940", "9941",
    "9942", "9943", "9944", "9945", "9946", "9947", "9948", "9949", "9950", "9951", "9952", "9953", "9957",
    "9959", "AN", "AQ", "AS", "AU", "EM",
])
# Schemes no Peppol participant is registered under: an e-invoice to them goes outside the network.
NOT_PEPPOL = frozenset({"AN", "AQ", "AS", "AU", "EM"})
MAX_LENGTH = 100
ADDRESS_FIELD, SCHEME_FIELD = "electronic_address", "electronic_address_scheme"
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]")
# The VAT-number schemes 99xx: the country prefix the number must start with.
VAT_PREFIXES = {"9914": "ATU", "9925": "BE", "9930": "DE", "9938": "LU", "9944": "NL", "9945": "PL",
                "9957": "FR", "9920": "ES", "0211": "IT"}


def _digits_check_gln(value: str) -> bool:
    """GS1 check digit: weights 3 and 1 from the right, over every digit but the last."""
    body, check = value[:-1], int(value[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _mod11_no(value: str) -> bool:
    """The Norwegian organisation number's check digit (weights 2..7 from the right, repeating)."""
    body, check = value[:-1], int(value[-1])
    total = sum(int(d) * (i % 6 + 2) for i, d in enumerate(reversed(body)))
    return int(value) > 0 and (11 - total % 11) % 11 == check


def _luhn(value: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(value)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _leitweg(value: str) -> bool:
    match = re.fullmatch(r"(\d{2,12})(?:-([A-Za-z0-9]{1,30}))?-(\d{2})", value)
    if not match:
        return False
    digits = "".join(str(int(ch, 36)) for ch in "".join(part for part in match.groups() if part).upper())
    return int(digits) % 97 == 1


def scheme_problem(scheme: str, address: str) -> str | None:
    """Why `address` is not a well-formed identifier of `scheme` (the check digits Peppol verifies), or None."""
    if scheme == "0208":
        if not re.fullmatch(r"\d{10}", address) or 97 - int(address[:8]) % 97 != int(address[8:]):
            return (_("%(address)s is not a Belgian enterprise number: ten digits whose last two are check digits (like 0123456749)", address=address))
    elif scheme == "0088":
        if not re.fullmatch(r"\d{8,14}", address) or not _digits_check_gln(address):
            return _("%(address)s is not a GLN: 13 digits whose last digit is the GS1 check digit", address=address)
    elif scheme == "0192":
        if not re.fullmatch(r"\d{9}", address) or not _mod11_no(address):
            return _("%(address)s is not a Norwegian organisation number (nine digits with a valid check digit)", address=address)
    elif scheme == "0007":
        if not re.fullmatch(r"\d{10}", address) or not _luhn(address):
            return _("%(address)s is not a Swedish organisation number (ten digits with a valid check digit)", address=address)
    elif scheme == "0184":
        if not re.fullmatch(r"(DK)?\d{8}", address):
            return _("%(address)s is not a Danish CVR number (eight digits, optionally after DK)", address=address)
    elif scheme == "0106":
        if not re.fullmatch(r"\d{8}", address):
            return _("%(address)s is not a Dutch KvK number (eight digits)", address=address)
    elif scheme == "0190":
        if not re.fullmatch(r"\d{20}", address):
            return _("%(address)s is not a Dutch OIN (twenty digits)", address=address)
    elif scheme == "0204":
        if not _leitweg(address):
            return _("%(address)s is not a Leitweg-ID (like 04011000-1234512345-06, with matching check digits)", address=address)
    elif scheme in VAT_PREFIXES:
        prefix = VAT_PREFIXES[scheme]
        if not re.fullmatch(rf"{prefix}[0-9A-Z]{{2,13}}", address):
            return _("%(address)s is not a VAT number of this scheme: it starts with %(prefix)s, like %(prefix2)s0123456749", address=address, prefix=prefix, prefix2=prefix)
    elif scheme == "EM" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
        return _("%(address)s is not an email address", address=address)
    return None


def clean_electronic_address(data: Mapping[str, Any], *, partial: bool) -> tuple[dict[str, str], list[FieldError]]:
    """The two fields from a form or JSON body: `electronic_address_scheme` (an EAS code) and
    `electronic_address`, both or neither. Spaces are dropped and VAT prefixes upper-cased, since
    receivers look the address up exactly as written."""
    values: dict[str, str] = {}
    errors: list[FieldError] = []
    if partial and ADDRESS_FIELD not in data and SCHEME_FIELD not in data:
        return values, errors
    raw_scheme, raw_address = data.get(SCHEME_FIELD), data.get(ADDRESS_FIELD)
    if partial and (ADDRESS_FIELD not in data or SCHEME_FIELD not in data):
        missing = SCHEME_FIELD if SCHEME_FIELD not in data else ADDRESS_FIELD
        errors.append(FieldError(missing, _("Give the electronic address and its scheme together")))
        return values, errors
    scheme = str(raw_scheme or "").strip().upper()
    address = re.sub(r"\s+", "", str(raw_address or ""))
    if scheme and scheme not in EAS_CODES:
        errors.append(FieldError(SCHEME_FIELD, _("%(scheme)s is not a code of the EAS list (e.g. 0208 for a Belgian enterprise number, 9930 for a German VAT number, 0088 for a GLN)", scheme=scheme)))
    if len(address) > MAX_LENGTH:
        errors.append(FieldError(ADDRESS_FIELD, _("Electronic address is too long (at most %(MAX_LENGTH)s characters)", MAX_LENGTH=MAX_LENGTH)))
    elif _CONTROL.search(address):
        errors.append(FieldError(ADDRESS_FIELD, _("Electronic address must be one line of text without control "
                                                "characters")))
    if errors:
        return values, errors
    if address and not scheme:
        errors.append(FieldError(SCHEME_FIELD, _("Choose the scheme of the electronic address (which register the "
                                               "identifier comes from)")))
    elif scheme and not address:
        errors.append(FieldError(ADDRESS_FIELD, _("Give the electronic address for this scheme, or clear the scheme")))
    elif scheme:
        if scheme in VAT_PREFIXES or scheme == "0184":
            address = address.upper()
        problem = scheme_problem(scheme, address)
        if problem:
            errors.append(FieldError(ADDRESS_FIELD, problem))
    if not errors:
        values = {SCHEME_FIELD: scheme, ADDRESS_FIELD: address}
    return values, errors


def scheme_choices(current: str = "") -> list[tuple[str, str]]:
    """The scheme select's options: none, the common schemes, and the current code when it is another."""
    choices = [("", "None")] + [(code, f"{code} · {label}") for code, label in COMMON_SCHEMES.items()]
    if current and current not in COMMON_SCHEMES:
        choices.append((current, f"{current} · other EAS scheme"))
    return choices
