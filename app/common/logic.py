"""Pure helpers every domain shares: field errors, input checks, search folding, CSV files."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from app.common.choices import logic as choices
from app.common.i18n import _, typed_locale
from app.common.numbers import NumberNotRead, read_decimal
from app.money import MoneyError, check_active_currency, decimal_places, parse_decimal


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ValidationFailed(ValueError):
    """Input that cannot be saved; names every field at fault."""

    def __init__(self, errors: Iterable[FieldError], detail: str | None = None):
        self.errors = list(errors)
        self.detail = detail or _("Please correct the highlighted fields.")
        super().__init__(self.detail + " " + "; ".join(f"{e.field}: {e.message}" for e in self.errors))

    def by_field(self) -> dict[str, str]:
        return {error.field: error.message for error in self.errors}


class NotFound(LookupError):
    def __init__(self, what: str):
        self.detail = f"{what} not found"
        super().__init__(self.detail)


class Conflict(RuntimeError):
    """The request contradicts the record's state (HTTP 409)."""

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(detail)


class Forbidden(PermissionError):
    def __init__(self, detail: str = "You do not have the right to do this."):
        self.detail = detail
        super().__init__(detail)


EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")

# -- bounds -------------------------------------------------------------------------------
# What the database and the date arithmetic can hold, stated once: a number or a date outside is
# refused naming its field (HTTP 4xx), never a 500 from SQLite ("Python int too large") or datetime.
MAX_ID = 2**63 - 1                # SQLite's INTEGER: every id, and any whole number that is stored
MAX_INTEGER_DIGITS = 12           # quantities and prices: up to 999 999 999 999 before the point
MIN_DATE = date(1900, 1, 1)       # dates: from 1900 to 2200 (a due date 365 days on still fits)
MAX_DATE = date(2200, 12, 31)
MAX_PAGE = 1_000_000              # list pages: far beyond any list, and (page - 1) x 500 fits in 64 bits


_ID_TEXT = re.compile(r"\s*[0-9]{1,19}\s*")


def id_of(value: Any) -> int | None:
    """A record's id given as text (a form field, a query value): digits 0-9 only (str.isdigit() also takes
    "²" and "١", which int() then refuses or reads), from 1 to 2**63 - 1; else None, as for no id at all."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 1 <= value <= MAX_ID else None
    if not isinstance(value, str) or not _ID_TEXT.fullmatch(value):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def date_problem(day: date, label: str) -> str | None:
    """Why a date cannot be used (outside 1900-2200), or None."""
    if not MIN_DATE <= day <= MAX_DATE:
        return _("%(label)s must be between %(year)s and %(year2)s (not %(isoformat)s)", label=label, year=MIN_DATE.year, year2=MAX_DATE.year, isoformat=day.isoformat())
    return None


def period_problems(date_from: date | None, date_to: date | None, *, from_field: str = "from",
                    to_field: str = "to") -> list[FieldError]:
    """A period's ends outside 1900-2200, each named by its field (reports, statements, packages)."""
    problems = []
    for day, name in ((date_from, from_field), (date_to, to_field)):
        problem = date_problem(day, name) if day is not None else None
        if problem:
            problems.append(FieldError(name, problem))
    return problems


def parse_day(value: Any, field_name: str, errors: list[FieldError], label: str) -> date | None:
    """A date written YYYY-MM-DD (or a `date`) between 1900 and 2200; None when empty. Problems go to
    `errors` under `field_name`."""
    if value in (None, ""):
        return None
    day: date
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            errors.append(FieldError(field_name, _("%(label)s must be a date written YYYY-MM-DD", label=label)))
            return None
    problem = date_problem(day, label)
    if problem:
        errors.append(FieldError(field_name, problem))
        return None
    return day


def storable_id(value: int) -> bool:
    """Whether a whole number can be a row's id at all; a lookup by any other finds nothing (and must not
    reach SQLite, which raises on it)."""
    return isinstance(value, int) and 1 <= value <= MAX_ID


def identifier_problem(value: int, label: str) -> str | None:
    """Why a whole number cannot be a record's id (below 1, or beyond SQLite's 64 bits), or None."""
    if not 1 <= value <= MAX_ID:
        return _("%(label)s must be a whole number from 1 to %(MAX_ID)s", label=label, MAX_ID=MAX_ID)
    return None


def decimal_size_problem(number: Decimal, label: str, max_integer_digits: int = MAX_INTEGER_DIGITS) -> str | None:
    """Why a number is too large to store (more digits before the point than allowed), or None. Checked
    before any rounding: quantize() on 1E+1000000 raises instead of answering."""
    if number and number.adjusted() >= max_integer_digits:
        return _("%(label)s is too large (at most %(max_integer_digits)s digits before the decimal point)", label=label, max_integer_digits=max_integer_digits)
    return None


# -- one line of text ----------------------------------------------------------------------
# Names and email subjects are single lines: a control character (Cc: CR, LF, tab, NUL...), a Unicode
# line or paragraph separator (U+2028, U+2029) or a format character (Cf: the bidi overrides that make a
# name read backwards, zero-width spaces, the BOM) could split an email header, hide text or fake a name.
# Zero-width non-joiner and joiner stay: Persian and Indic scripts and emoji sequences need them.
LINE_BREAKING_CATEGORIES = {"Cc", "Zl", "Zp", "Cs"}
KEPT_FORMAT_CHARACTERS = {"\u200c", "\u200d"}


def line_problem(text: str, label: str) -> str | None:
    """Why `text` is not one plain line (naming the first offending character), or None."""
    for ch in text:
        category = unicodedata.category(ch)
        if category in LINE_BREAKING_CATEGORIES or (category == "Cf" and ch not in KEPT_FORMAT_CHARACTERS):
            what = {"\n": "a line break", "\r": "a line break", "\t": "a tab"}.get(ch) or \
                f"U+{ord(ch):04X} {unicodedata.name(ch, 'a control character')}".strip()
            return _("%(label)s must be one line of plain text (%(what)s is not allowed)", label=label, what=what)
    return None


# -- any text -----------------------------------------------------------------------------
# Every text field, one line or many, refuses the control characters no document can print and no
# reader can see: C0 controls but tab and line feed (a carriage return is first read as a line feed:
# browsers send a textarea's lines as CRLF, older systems a lone CR), DEL, the C1 controls, and the Unicode line and
# paragraph separators. A PDF of record must print what was typed, and these print as nothing or break it.
LINE_SEPARATORS = {"\u2028", "\u2029"}


def _is_refused_control(ch: str) -> bool:
    code = ord(ch)
    return (code < 0x20 and ch not in "\t\n") or 0x7F <= code <= 0x9F or ch in LINE_SEPARATORS


def normalized_text(text: str) -> str:
    """Line breaks as line feeds (CRLF and a lone CR from other systems both become LF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def control_problem(text: str, label: str) -> str | None:
    """Why `text` cannot be kept (naming the first refused character and where it is), or None."""
    for position, ch in enumerate(text):
        if _is_refused_control(ch):
            name = unicodedata.name(ch, "") or {0: "NULL"}.get(ord(ch), "a control character")
            return (f"{label} holds an invisible control character (U+{ord(ch):04X} {name}, character "
                    f"{position + 1}); remove it")
    return None


class Form:
    """Collects cleaned values and field errors from a mapping of raw input."""

    def __init__(self, data: Mapping[str, Any], *, partial: bool = False):
        self.data = data
        self.partial = partial
        self.errors: list[FieldError] = []
        self.values: dict[str, Any] = {}

    def present(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def error(self, name: str, message: str) -> None:
        self.errors.append(FieldError(name, message))

    def text(self, name: str, *, required: bool = False, max_length: int = 200,
             label: str | None = None, default: str = "", one_line: bool = False) -> None:
        """Text, stripped; `one_line` refuses line breaks and control or format characters (line_problem)."""
        if self.partial and not self.present(name):
            return
        value = self.raw(name)
        if value is None:
            value = default
        if not isinstance(value, str):
            value = str(value)
        value = normalized_text(value).strip()
        label = label or _(name.replace("_", " ").capitalize())   # "Name" has a translation; another name stays as it is
        problem = control_problem(value, label)
        if problem and not one_line:   # one line: line_problem below says it, naming line breaks too
            self.error(name, problem)
            return
        if required and not value:
            self.error(name, _("%(label)s is required", label=label))
            return
        if len(value) > max_length:
            self.error(name, _("%(label)s is too long (at most %(max_length)s characters)", label=label, max_length=max_length))
            return
        problem = line_problem(value, label) if one_line else None
        if problem:
            self.error(name, problem)
            return
        self.values[name] = value

    def email(self, name: str, *, required: bool = False, label: str = "Email") -> None:
        self.text(name, required=required, max_length=254, label=label)
        value = self.values.get(name)
        if value and not EMAIL_RE.match(value):
            self.values.pop(name)
            self.error(name, f"{label} {value!r} is not a valid email address")
        elif value:
            self.values[name] = value.lower() if name.endswith("email") and "@" in value else value

    def country(self, name: str, *, required: bool = False) -> None:
        self.text(name, required=required, max_length=2, label=_("Country"))
        value = self.values.get(name)
        if value:
            value = value.upper()
            if not COUNTRY_RE.match(value):
                self.values.pop(name)
                self.error(name, _("Country must be a two-letter ISO code such as CA, DE or FR"))
            elif not choices.is_country(value):  # Babel's list of ISO 3166 countries
                self.values.pop(name)
                self.error(name, _("Unknown country code %(code)s: pick a country from the list (CA, DE, FR…)",
                                   code=repr(value)))
            else:
                self.values[name] = value

    def postal_address(self) -> None:
        """The address fields a client and the business share (address_line1/2, postal_code, city, region, country)."""
        self.text("address_line1", max_length=200, label=_("Address"))
        self.text("address_line2", max_length=200, label=_("Address (line 2)"))
        self.text("postal_code", max_length=40, label=_("Postal code"))
        self.text("city", max_length=120)
        self.text("region", max_length=120, label=_("Province / state"))
        self.country("country")

    def currency(self, name: str, *, required: bool = False) -> None:
        self.text(name, required=required, max_length=3, label=_("Currency"))
        value = self.values.get(name)
        if value:
            try:
                self.values[name] = check_active_currency(value)
            except MoneyError as error:
                self.values.pop(name)
                self.error(name, _("Currency: %(error)s", error=error))

    def choice(self, name: str, choices: Iterable[str], *, default: str | None = None,
               label: str | None = None) -> None:
        if self.partial and not self.present(name):
            return
        options = list(choices)
        value = self.raw(name)
        value = default if value in (None, "") else str(value).strip()
        label = label or _(name.replace("_", " ").capitalize())   # "Name" has a translation; another name stays as it is
        if value not in options:
            self.error(name, _("%(label)s must be one of: %(join)s", label=label, join=', '.join(options)))
            return
        self.values[name] = value

    def boolean(self, name: str, *, default: bool = False) -> None:
        if self.partial and not self.present(name):
            return
        value = self.raw(name)
        if value is None or value == "":
            self.values[name] = default if not self.present(name) else False
            return
        if isinstance(value, bool):
            self.values[name] = value
            return
        text = str(value).strip().lower()
        if text in ("1", "true", "on", "yes"):
            self.values[name] = True
        elif text in ("0", "false", "off", "no"):
            self.values[name] = False
        else:
            self.error(name, _("%(capitalize)s must be true or false", capitalize=name.replace('_', ' ').capitalize()))

    def integer(self, name: str, *, minimum: int | None = None, maximum: int | None = None,
                label: str | None = None, default: int | None = None) -> None:
        if self.partial and not self.present(name):
            return
        value = self.raw(name)
        label = label or _(name.replace("_", " ").capitalize())   # "Name" has a translation; another name stays as it is
        if value is None or value == "":
            if default is None:
                self.error(name, _("%(label)s is required", label=label))
            else:
                self.values[name] = default
            return
        if isinstance(value, (bool, float)):
            self.error(name, _("%(label)s must be a whole number", label=label))
            return
        try:
            number = int(str(value).strip())
        except ValueError:
            self.error(name, _("%(label)s must be a whole number", label=label))
            return
        if minimum is not None and number < minimum:
            self.error(name, _("%(label)s must be at least %(minimum)s", label=label, minimum=minimum))
            return
        if number > (MAX_ID if maximum is None else maximum):
            self.error(name, _("%(label)s must be at most %(value)s", label=label, value=MAX_ID if maximum is None else maximum))
            return
        if number < -MAX_ID:
            self.error(name, _("%(label)s must be at least %(value)s", label=label, value=-MAX_ID))
            return
        self.values[name] = number

    def identifier(self, name: str, *, required: bool = True, label: str | None = None) -> None:
        """A record's id: a whole number from 1 to 2^63 - 1 (what SQLite stores)."""
        if self.partial and not self.present(name):
            return
        label = label or _(name.replace("_", " ").capitalize())   # "Name" has a translation; another name stays as it is
        value = self.raw(name)
        if value is None or value == "":
            if required:
                self.error(name, _("%(label)s is required", label=label))
            return
        self.integer(name, minimum=1, maximum=MAX_ID, label=label)

    def date(self, name: str, *, required: bool = False, label: str | None = None) -> None:
        """A date written YYYY-MM-DD between 1900 and 2200; empty is None unless required."""
        if self.partial and not self.present(name):
            return
        label = label or _(name.replace("_", " ").capitalize())   # "Name" has a translation; another name stays as it is
        value = self.raw(name)
        if value is None or value == "":
            if required:
                self.error(name, _("%(label)s is required", label=label))
            else:
                self.values[name] = None
            return
        day = parse_day(value, name, self.errors, label)
        if day is not None:
            self.values[name] = day

    def decimal(self, name: str, *, minimum: Decimal | None = None, max_places: int | None = None,
                required: bool = True, label: str | None = None, default: str | None = None,
                max_integer_digits: int = MAX_INTEGER_DIGITS) -> None:
        """An exact decimal (never a float) with at most `max_integer_digits` digits before the point and
        `max_places` after it."""
        if self.partial and not self.present(name):
            return
        label = label or _(name.replace("_", " ").capitalize())   # "Name" has a translation; another name stays as it is
        value = self.raw(name)
        if value is None or value == "":
            if default is not None:
                value = default
            elif required:
                self.error(name, _("%(label)s is required", label=label))
                return
            else:
                return
        try:
            number = read_number(value, field=label)
        except MoneyError as error:
            self.error(name, str(error))
            return
        too_large = decimal_size_problem(number, label, max_integer_digits)
        if too_large:
            self.error(name, too_large)
            return
        if minimum is not None and number < minimum:
            self.error(name, _("%(label)s cannot be below %(minimum)s", label=label, minimum=minimum) if minimum != 0 else _("%(label)s cannot be negative", label=label))
            return
        if max_places is not None and decimal_places(number) > max_places and number != number.quantize(Decimal(1).scaleb(-max_places)):
            self.error(name, _("%(label)s has more than %(max_places)s decimal places", label=label, max_places=max_places))
            return
        self.values[name] = number

    def raise_if_invalid(self) -> dict[str, Any]:
        if self.errors:
            raise ValidationFailed(self.errors)
        return self.values


def read_number(value: Any, *, field: str = "amount") -> Decimal:
    """A decimal from input: typed on a page, as the reader's locale writes it (1.200,50 for a German reader,
    app.common.numbers); from the API, a script or a file, a plain decimal (app.money.parse_decimal)."""
    locale = typed_locale()
    if locale is not None and isinstance(value, str):
        try:
            number = read_decimal(value, locale)
        except NumberNotRead as refused:
            raise MoneyError(f"{field}: {refused}") from None
        if not number.is_finite():
            raise MoneyError(_("%(field)s: %(text)s is not a number", field=field, text=value))
        return number
    return parse_decimal(value, field=field)


def optional_day(value: Any, name: str) -> date | None:
    """parse_day for a single field: blank is none; a bad or out-of-range date is refused naming `name`."""
    errors: list[FieldError] = []
    day = parse_day(value.strip() if isinstance(value, str) else value, name, errors, name)
    if errors:
        raise ValidationFailed(errors)
    return day


MAX_IDEMPOTENCY_KEY = 100


def clean_idempotency_key(key: str | None) -> str | None:
    """An `Idempotency-Key` header as stored: blank is none; longer than 100 characters is refused."""
    key = (key or "").strip() or None
    if key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed([FieldError(
            "idempotency_key", _("The idempotency key is longer than %(MAX_IDEMPOTENCY_KEY)s characters", MAX_IDEMPOTENCY_KEY=MAX_IDEMPOTENCY_KEY))])
    return key


# Letters that do not decompose (ø, ß, æ, ł) still fold to their ASCII look-alikes.
_ASCII_LOOKALIKES = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th"})


def fold_text(text: str) -> str:
    """Case- and accent-insensitive form for search: 'Zoë Ångström' -> 'zoe angstrom'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = stripped.casefold()
    folded = folded.translate(_ASCII_LOOKALIKES)
    return " ".join(folded.split())


def filename_part(text: str, limit: int = 40) -> str:
    """Text as a part of a download's file name: letters of any script, digits, "." and "-" kept ("Søren",
    "東京", "S.à-r.l."), anything else (spaces, slashes, quotes, controls) one "-"; never starting or
    ending with "-" or ".". The HTTP header carries it as UTF-8 (app.web.responses.content_disposition)."""
    normalized = unicodedata.normalize("NFC", text or "")
    kept = "".join(ch if ch in ".-" or unicodedata.category(ch)[0] in "LMN" else "-" for ch in normalized)
    return re.sub(r"-{2,}", "-", kept).strip("-.")[:limit].strip("-.")


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with % and _ taken literally (use ESCAPE '\\')."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def glob_pattern(text: str) -> str:
    """A GLOB pattern matching `text` anywhere, case-sensitively, with *, ? and [ taken literally (each in
    brackets). SQLite tests `column GLOB '*word*'` by jumping from one occurrence of the word's first
    character to the next (strcspn), where instr() compares the word at every position: over 100,000
    documents' search texts the test costs half as many instructions. Like instr(), it is a test of
    substrings; unlike it, it stops at a NUL, which no text it is used on holds (every text field refuses
    control characters, control_problem and line_problem above, and a document's search text turns any into
    a space, app.documents.logic.search_text_of)."""
    return "*" + re.sub(r"([*?\[])", r"[\1]", text) + "*"


def digits_only(text: str) -> str:
    return "".join(ch for ch in (text or "") if ch.isdigit())


@dataclass(frozen=True)
class SearchQuery:
    """A typed search, folded once: words must all match; digits match phone numbers."""

    words: tuple[str, ...]
    digits: str = ""

    @property
    def empty(self) -> bool:
        return not self.words


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_search(text: str) -> SearchQuery:
    # Control characters (a NUL ends an FTS5 query string early) never occur in what is searched.
    folded = fold_text(_CONTROL.sub(" ", text))
    words = tuple(folded.split())
    digits = digits_only(text)
    # "555 0199" should find "+1 416 555 0199": compare the digits as one run.
    return SearchQuery(words=words, digits=digits if len(digits) >= 3 else "")


TRIGRAM = 3  # the shortest word a trigram index can look up


def trigram_query(words: Iterable[str]) -> str:
    """An FTS5 query (trigram tokenizer) for rows containing every word as a substring.

    Each word becomes a quoted phrase, so nothing in it is query syntax; words shorter
    than three characters cannot be looked up in a trigram index and are left out
    (the caller tests them on the rows the index returns).
    """
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words if len(word) >= TRIGRAM)


def matches(query: SearchQuery, search_text: str, search_digits: str = "") -> bool:
    """The same rule the database query applies (used by tests and small lists)."""
    if query.empty:
        return True
    if all(word in search_text for word in query.words):
        return True
    return bool(query.digits) and query.digits in search_digits


@dataclass(frozen=True)
class Page:
    page: int = 1
    per_page: int = 50

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


MAX_PER_PAGE = 500


def parse_page(page: Any, per_page: Any, *, default_per_page: int = 50) -> Page:
    errors = []
    try:
        page_number = int(page) if page not in (None, "") else 1
        if not 1 <= page_number <= MAX_PAGE:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(FieldError("page", _("page must be a whole number from 1 to %(MAX_PAGE)s", MAX_PAGE=MAX_PAGE)))
        page_number = 1
    try:
        size = int(per_page) if per_page not in (None, "") else default_per_page
        if not 1 <= size <= MAX_PER_PAGE:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(FieldError("per_page", _("per_page must be between 1 and %(MAX_PER_PAGE)s", MAX_PER_PAGE=MAX_PER_PAGE)))
        size = default_per_page
    if errors:
        raise ValidationFailed(errors)
    return Page(page_number, size)


T = TypeVar("T")


@dataclass
class PageOf(Generic[T]):
    """One page of a list: its records (typed by each service), the count of all that match, the page asked for."""

    items: list[T]
    total: int
    page: Page
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page.per_page))


def describe_size(n: int) -> str:
    """A number of bytes for people: 1.5 MiB, 20 GiB."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value >= 10 or value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


# -- CSV files ----------------------------------------------------------------------------
# A cell that starts with one of these is a formula to Excel, LibreOffice and Google Sheets (CSV
# injection, OWASP): a client named "=HYPERLINK(...)" would run in the accountant's spreadsheet. Such a
# cell is written with a leading apostrophe, which makes it text. The full-width forms count too (a
# spreadsheet in a Japanese locale reads them as formulas).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# ...except a plain decimal number: a negative amount (-12.50) is a number the spreadsheet must still
# sum, and no formula is only digits, one minus and one point.
PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
CSV_BOM = "\ufeff"


def spreadsheet_cell(value: Any) -> str:
    """A value as CSV cell text that a spreadsheet shows and never runs: None is "", a formula-like text
    gets a leading ' ("=1+1" -> "'=1+1"), a plain number stays a number ("-12.50")."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file: UTF-8 with a byte-order mark (Excel needs it to read UTF-8), quoting as RFC 4180, CRLF
    line ends, every cell made safe for a spreadsheet (spreadsheet_cell). Each row has one value per column."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, dialect="excel")
    writer.writerow([spreadsheet_cell(name) for name in header])
    for row in rows:
        if len(row) != len(header):
            raise ValueError(_("a row has %(count)s values for %(count2)s columns", count=len(row), count2=len(header)))
        writer.writerow([spreadsheet_cell(value) for value in row])
    return (CSV_BOM + out.getvalue()).encode("utf-8")
