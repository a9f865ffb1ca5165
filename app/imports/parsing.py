"""Imports, pure: reading a file someone else's program wrote. Encodings, separators, decimal commas
and date formats are detected (and shown, and each can be overridden); a file that is empty, binary or
too large is refused for the whole; a ragged row or a formula cell is a problem of its row.

Nothing here touches the database: app.imports.service calls these on the uploaded bytes.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from app.common.i18n import N_, _
from app.common.logic import FORMULA_STARTS, PLAIN_NUMBER

ENCODINGS = ("utf-8-sig", "utf-8", "cp1252")
ENCODING_LABELS = {"utf-8-sig": N_("UTF-8 with byte-order mark"), "utf-8": "UTF-8", "cp1252": "Windows-1252"}
SEPARATORS = {",": N_("comma"), ";": N_("semicolon"), "\t": N_("tab"), "|": N_("vertical bar")}
DECIMALS = {".": N_("point (1234.50)"), ",": N_("comma (1234,50)")}
# Tried in this order; the first that reads every date of the file wins (day-first before month-first:
# a file that has a 13th or later day in first place settles it either way).
DATE_FORMATS = {
    "%Y-%m-%d": "YYYY-MM-DD", "%d/%m/%Y": "DD/MM/YYYY", "%m/%d/%Y": "MM/DD/YYYY", "%d.%m.%Y": "DD.MM.YYYY",
    "%d-%m-%Y": "DD-MM-YYYY", "%Y/%m/%d": "YYYY/MM/DD", "%d/%m/%y": "DD/MM/YY", "%m/%d/%y": "MM/DD/YY",
}
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
SNIFF_BYTES = 64 * 1024
# A cell of the export of Counterfoil (and of careful programs): a text that a spreadsheet would run,
# written with an apostrophe before it. The apostrophe is taken off; anything else formula-like is flagged.
PHONE_OR_FIGURE = re.compile(r"[+\-][\d\s().,/%-]*\d[\d\s().,/%-]*")
FORMULA_FIRST = frozenset(start[0] for start in FORMULA_STARTS)
ESCAPED_FORMULA = re.compile(r"'[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]")


class FileRefused(ValueError):
    """The whole file cannot be read; the message says why, for the user."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Dialect:
    """How a file is written: each value detected, and each can be overridden by the user."""

    encoding: str = "utf-8"
    separator: str = ","
    decimal: str = "."
    date_format: str = "%Y-%m-%d"

    def described(self) -> dict[str, str]:
        return {"encoding": ENCODING_LABELS.get(self.encoding, self.encoding),
                "separator": SEPARATORS.get(self.separator, self.separator),
                "decimal": DECIMALS.get(self.decimal, self.decimal),
                "date_format": DATE_FORMATS.get(self.date_format, self.date_format)}

    def as_json(self) -> dict[str, str]:
        return {"encoding": self.encoding, "separator": self.separator, "decimal": self.decimal,
                "date_format": self.date_format}


@dataclass
class Table:
    """One file's rows: the header, and each row as a dict by header name with its line number."""

    name: str
    header: list[str]
    rows: list[list[str]]      # the first rows (SAMPLE_ROWS), each row's cells in the header's order
    row_numbers: list[int]
    dialect: Dialect
    problems: list[tuple[int, str]] = field(default_factory=list)   # (row number, message)
    json_records: dict[str, list[dict[str, Any]]] | None = None      # a JSON file's lists, by key
    rest: Iterator[tuple[int, list[str]]] | None = None              # the rows after the first, read once
    count: int = 0                                                   # rows read so far

    def numbered(self) -> Iterator[tuple[int, list[str]]]:
        """Every row with its line number: the first rows, then the rest as the file is read (once)."""
        yield from zip(self.row_numbers, self.rows, strict=True)
        self.rows, self.row_numbers = [], []
        if self.rest is not None:
            rest, self.rest = self.rest, None
            yield from rest


def check_overrides(raw: dict[str, Any]) -> dict[str, str]:
    """The user's choices (encoding, separator, decimal, date_format), each checked; raises ValueError naming it."""
    out: dict[str, str] = {}
    for name, allowed in (("encoding", ENCODINGS), ("separator", tuple(SEPARATORS)), ("decimal", tuple(DECIMALS)),
                          ("date_format", tuple(DATE_FORMATS))):
        value = raw.get(name)
        if value in (None, "", "auto"):
            continue
        if name == "separator" and value in ("tab", "\\t"):
            value = "\t"
        if name == "date_format" and value not in DATE_FORMATS:
            value = {label: fmt for fmt, label in DATE_FORMATS.items()}.get(str(value), value)
        if value not in allowed:
            raise ValueError(_("%(name)s: %(value)r is not one of %(allowed)s", name=name, value=value,
                               allowed=", ".join(repr(a) for a in allowed)))
        out[name] = str(value)
    return out


# -- the whole file ----------------------------------------------------------------------------

def check_size(size: int, limit: int) -> None:
    if size == 0:
        raise FileRefused(_("The file is empty (0 bytes): nothing to import."))
    if size > limit:
        raise FileRefused(_("The file is %(size)s; at most %(limit)s can be imported at once. Split it (by year, "
                            "for instance) and import the parts one after the other.",
                            size=_size(size), limit=_size(limit)))


def _size(n: int) -> str:
    from app.common.logic import describe_size
    return describe_size(n)


def looks_binary(head: bytes) -> bool:
    """A NUL byte, or many control characters, in the first bytes: not a text file."""
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    return controls > max(8, len(head) // 100)


def unpack(name: str, data: bytes, *, limit: int) -> list[tuple[str, bytes]]:
    """A ZIP becomes its CSV and JSON files (an accountant's package, a folder sent zipped); anything else
    is one file. Refuses an empty, binary or too large file, and a ZIP that unpacks beyond the limit."""
    check_size(len(data), limit)
    if data[:4] == b"PK\x03\x04":
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            members = [info for info in archive.infolist() if not info.is_dir()
                       and info.filename.lower().endswith((".csv", ".json", ".txt"))
                       and not info.filename.lower().endswith("readme.txt")]
            if sum(info.file_size for info in members) > limit:
                raise FileRefused(_("The ZIP unpacks to more than %(limit)s; import its files one by one.",
                                    limit=_size(limit)))
            files = [(info.filename.rsplit("/", 1)[-1], archive.read(info)) for info in members]
        except zipfile.BadZipFile:
            raise FileRefused(_("The ZIP file is damaged and cannot be opened.")) from None
        if not files:
            raise FileRefused(_("The ZIP holds no CSV or JSON file to import."))
        for inner, content in files:
            if not content:
                raise FileRefused(_("%(name)s in the ZIP is empty (0 bytes).", name=inner))
            if looks_binary(content[:SNIFF_BYTES]):
                raise FileRefused(_("%(name)s in the ZIP is not a text file (CSV or JSON).", name=inner))
        return files
    if looks_binary(data[:SNIFF_BYTES]):
        raise FileRefused(_("This is not a CSV or JSON file: it holds binary data (a spreadsheet must be saved "
                            "as CSV first, e.g. File, Save as, CSV UTF-8)."))
    return [(name, data)]


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text and the encoding it was read with: UTF-8 (with or without its byte-order mark), else
    Windows-1252 (what Excel writes on Windows). An encoding the user chose is used as given."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as error:
            raise FileRefused(_("The file cannot be read as %(encoding)s (byte %(at)s); choose another encoding.",
                                encoding=ENCODING_LABELS.get(encoding, encoding), at=error.start)) from None
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as error:
        raise FileRefused(_("The file is neither UTF-8 nor Windows-1252 text (byte %(at)s cannot be read).",
                            at=error.start)) from None


def detect_separator(text: str) -> str:
    """The separator whose count is the same on the first lines and highest (quoted fields left out)."""
    sample = text[:SNIFF_BYTES]
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", -1
    for candidate in SEPARATORS:
        counts = []
        for line in lines:
            unquoted = re.sub(r'"[^"]*"', "", line)
            counts.append(unquoted.count(candidate))
        if counts[0] == 0:
            continue
        steady = sum(1 for c in counts if c == counts[0])
        score = steady * 1000 + counts[0]
        if score > best_score:
            best, best_score = candidate, score
    return best


_COMMA_NUMBER = re.compile(r"-?(\d{1,3}(\.\d{3})+|\d+),\d{1,4}")
_POINT_NUMBER = re.compile(r"-?(\d{1,3}(,\d{3})+|\d+)\.\d{1,4}")


def detect_decimal(values: Iterable[str]) -> str:
    """',' when the amounts are written 1234,50 (or 1.234,50) and none 1234.50; '.' otherwise."""
    commas = points = 0
    for value in values:
        value = value.strip()
        if _COMMA_NUMBER.fullmatch(value):
            commas += 1
        elif _POINT_NUMBER.fullmatch(value):
            points += 1
    return "," if commas and not points else "."


def detect_date_format(values: Iterable[str]) -> str:
    """The first format of DATE_FORMATS that reads every (non-empty) date given; ISO when none do."""
    samples = [v.strip()[:10] if re.match(r"\d{4}-\d{2}-\d{2}[T ]", v.strip()) else v.strip()
               for v in values if v and v.strip()]
    if not samples:
        return "%Y-%m-%d"
    for fmt in DATE_FORMATS:
        try:
            for value in samples:
                datetime.strptime(value, fmt)
        except ValueError:
            continue
        return fmt
    return "%Y-%m-%d"


def is_formula(cell: str) -> bool:
    """A text a spreadsheet would run as a formula (=, +, -, @ first), not a plain number like -12.50."""
    if not cell or cell[0] not in FORMULA_FIRST or PLAIN_NUMBER.fullmatch(cell.replace(",", ".").replace(" ", "")):
        return False
    # "+1 416 555 0100", "-20 %": a phone number or a signed figure, not something a spreadsheet runs.
    return not PHONE_OR_FIGURE.fullmatch(cell)


def read_table(name: str, data: bytes, overrides: dict[str, str] | None = None) -> Table:
    """One CSV (or JSON) file as a Table; its dialect detected unless overridden."""
    overrides = overrides or {}
    text, encoding = decode(data, overrides.get("encoding"))
    stripped = text.lstrip()
    if name.lower().endswith(".json") or stripped[:1] in ("{", "["):
        return _read_json(name, stripped, encoding)
    separator = overrides.get("separator") or detect_separator(text)
    reader = csv.reader(_lines(text), delimiter=separator)
    try:
        header = next(reader)
    except StopIteration:
        raise FileRefused(_("%(name)s has no header row.", name=name)) from None
    except csv.Error as error:
        raise FileRefused(_("%(name)s cannot be read as CSV: %(error)s", name=name, error=str(error))) from None
    header = [h.strip() for h in header]
    if not any(header):
        raise FileRefused(_("%(name)s has an empty header row: the first line must name the columns.", name=name))
    problems: list[tuple[int, str]] = []
    table = Table(name, header, [], [], Dialect(encoding=encoding, separator=separator), problems)
    rows = _rows(reader, header, table)
    for number, cells in rows:
        table.rows.append(cells)
        table.row_numbers.append(number)
        if len(table.rows) >= SAMPLE_ROWS:
            break
    table.rest = rows
    return table


SAMPLE_ROWS = 2000


def _lines(text: str) -> Iterator[str]:
    """The text's lines with their ends, one at a time: the csv module joins a quoted field's lines itself,
    and a StringIO of a large file would hold it again, four bytes a character."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        if end == -1:
            yield text[start:]
            return
        yield text[start:end + 1]
        start = end + 1


def _rows(reader: Any, header: list[str], table: Table) -> Iterator[tuple[int, list[str]]]:
    """The rows of a CSV reader, checked one by one: a ragged row or a formula cell becomes a problem of
    the table (the row itself is left out), an escaped formula ('=) loses its apostrophe."""
    width = len(header)
    problems = table.problems
    try:
        for record in reader:
            row_number = reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            table.count += 1
            if len(record) != width:
                problems.append((row_number, _("Row %(row)s has %(found)s fields, the header has %(width)s (a "
                                               "separator or a quote is missing or too many).",
                                               row=row_number, found=len(record), width=width)))
                continue
            for index, cell in enumerate(record):
                if not cell:
                    pass
                elif cell[0] == "'" and ESCAPED_FORMULA.match(cell):
                    record[index] = cell[1:]
                elif cell[0] in FORMULA_FIRST and is_formula(cell):
                    problems.append((row_number, _("Row %(row)s, column %(column)s: %(cell)s looks like a "
                                                   "spreadsheet formula; save the values, not the formulas, or "
                                                   "put an apostrophe before it.",
                                                   row=row_number, column=header[index], cell=cell[:40])))
            yield row_number, record
    except csv.Error as error:
        raise FileRefused(_("%(name)s cannot be read as CSV near line %(line)s: %(error)s",
                            name=table.name, line=reader.line_num, error=str(error))) from None


def _read_json(name: str, text: str, encoding: str) -> Table:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise FileRefused(_("%(name)s is not valid JSON (line %(line)s: %(error)s).", name=name, line=error.lineno,
                            error=error.msg)) from None
    records: dict[str, list[dict[str, Any]]] = {}
    if isinstance(document, dict):
        # Invoice Ninja's export nests its lists under "data" in some versions.
        data = document.get("data")
        body = data if isinstance(data, dict) else document
        for key, value in body.items():
            if isinstance(value, list) and all(isinstance(v, dict) for v in value):
                records[key] = value
    elif isinstance(document, list) and all(isinstance(v, dict) for v in document):
        records["records"] = document
    if not records:
        raise FileRefused(_("%(name)s holds no list of records to import.", name=name))
    return Table(name, [], [], [], Dialect(encoding=encoding), [], records)


def settle_dialect(table: Table, money_values: Sequence[str], date_values: Sequence[str],
                   overrides: dict[str, str] | None = None) -> Table:
    """The decimal mark and the date format, from the file's own amounts and dates, unless overridden."""
    overrides = overrides or {}
    decimal = overrides.get("decimal") or detect_decimal(money_values)
    date_format = overrides.get("date_format") or detect_date_format(date_values)
    table.dialect = replace(table.dialect, decimal=decimal, date_format=date_format)
    return table


# -- cells --------------------------------------------------------------------------------------

class CellError(ValueError):
    pass


@lru_cache(maxsize=200_000)   # a file repeats its prices and dates: each distinct text is read once
def parse_number(text: str, decimal: str) -> Decimal | None:
    """A number as the file writes it ("1.234,50" with a decimal comma, "1,234.50" or "1234.50" with a
    point; a currency sign or spaces around are dropped). Empty is None."""
    value = (text or "").strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    if not value:
        return None
    value = re.sub(r"^[^\d\-+(]+|[^\d)]+$", "", value)   # $, €, CHF before or after
    negative = value.startswith("(") and value.endswith(")")
    value = value.strip("()")
    if decimal == ",":
        value = value.replace(".", "").replace(",", ".")
    else:
        value = value.replace(",", "")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CellError(text) from None
    if not number.is_finite():
        raise CellError(text)
    return -number if negative else number


@lru_cache(maxsize=50_000)
def parse_day(text: str, date_format: str) -> date | None:
    value = (text or "").strip()
    if not value:
        return None
    if re.match(r"\d{4}-\d{2}-\d{2}[T ]", value):
        value = value[:10]
    try:
        day = datetime.strptime(value, date_format).date()
    except ValueError:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise CellError(text) from None
    if not 1900 <= day.year <= 2200:
        raise CellError(text)
    return day
