"""What arrives, checked before a handler sees it, so that a hostile or mistyped request gets a 4xx
naming its field instead of a 500 from deep inside (SQLite's "Python int too large", datetime's
"year 10000 is out of range", msgspec's RecursionError):

- a whole number in the path or in a query parameter declared `int` fits SQLite's 64 bits;
- a query parameter declared `date` is between 1900 and 2200 (app.common.logic.date_problem);
- a JSON body is UTF-8, at most MAX_JSON_DEPTH levels deep, and holds no whole number beyond 64 bits
  (msgspec's own RecursionError and UnicodeDecodeError are not its DecodeError: Litestar would answer 500).

The rules on what each value means (a quantity's digits, a document's date) stay in the core's logic;
this is only the transport: what no route can store or compute with.
"""

from __future__ import annotations

import collections.abc
import re
import types
import typing
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from litestar import Request
from litestar.enums import ParamType
from litestar.exceptions import ValidationException
from litestar.params import ParameterKwarg

from app.common.i18n import _
from app.common.logic import MAX_ID, FieldError, ValidationFailed, date_problem
from app.money import written_plainly

MAX_JSON_DEPTH = 32          # the API's deepest body (a document's line's taxes) is 4 levels
MIN_INT = -MAX_ID - 1        # SQLite's INTEGER is a signed 64-bit number
_WHOLE_NUMBER = re.compile(r"\s*[+-]?[0-9]+\s*")
_LONG_DIGITS = re.compile(rb"[0-9]{19}")   # 2^63 has 19 digits: no shorter run of digits can exceed 64 bits
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
TOO_DEEP = f"JSON nests deeper than {MAX_JSON_DEPTH} levels"


@dataclass(frozen=True)
class JsonShape:
    """What a decoded JSON value holds that no route can use: its depth, and the paths (`lines[0].item_id`)
    of its whole numbers beyond SQLite's 64 bits."""

    depth: int
    oversized: tuple[str, ...]


def json_shape(value: Any, raw: bytes | None = None) -> JsonShape:
    """Walked without recursion (a value msgspec decoded may be nested hundreds of levels), containers only;
    the whole numbers are looked at only when the raw text (if given) has a run of 19 digits somewhere."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        depth += 1
        if depth > deepest:
            deepest = depth
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth) for child in children if isinstance(child, (dict, list)))
    may_overflow = raw is None or _LONG_DIGITS.search(raw) is not None
    return JsonShape(depth=deepest, oversized=_oversized_paths(value) if may_overflow else ())


def _oversized_paths(value: Any) -> tuple[str, ...]:
    found = []
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            stack.extend((child, f"{path}.{key}" if path else str(key)) for key, child in item.items())
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{index}]") for index, child in enumerate(item))
        elif isinstance(item, int) and not isinstance(item, bool) and not MIN_INT <= item <= MAX_ID:
            found.append(path or "body")
    return tuple(sorted(found, key=_in_order))


def _in_order(path: str) -> list[tuple[int, Any]]:
    """`lines[10].x` after `lines[2].x`: the order the body has them in. An index and a name at the same
    place (`a[0]` beside `a.b`) compare by kind first: indexes before names."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[\[\].]+", path) if part]


def whole_number_problem(name: str, raw: str) -> str | None:
    """A query value that Litestar will read as an int: refused when beyond 64 bits (None when fine, or
    when it is no whole number at all, which Litestar itself answers with a 400)."""
    if not _WHOLE_NUMBER.fullmatch(raw):
        return None
    digits = raw.strip().lstrip("+-").lstrip("0")
    return range_problem(name, int(raw) if len(digits) <= 19 else (-1 if raw.strip().startswith("-") else 1) * 10**19)


def range_problem(name: str, value: int) -> str | None:
    if value > MAX_ID:
        return f"{name} is too large (at most {MAX_ID})"
    if value < MIN_INT:
        return f"{name} is too small (at least {MIN_INT})"
    return None


def day_problem(name: str, raw: str) -> str | None:
    """A query value that Litestar will read as a date: refused outside 1900-2200 (None when fine, or when it
    is no date at all, which Litestar itself answers with a 400)."""
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        return None
    return date_problem(day, name)


def _kinds(annotation: Any) -> set[type]:
    """int and/or date when a parameter's type is one of them (or optional)."""
    members = typing.get_args(annotation) if isinstance(annotation, types.UnionType) or \
        typing.get_origin(annotation) is typing.Union else (annotation,)
    return {kind for kind in (int, date) if kind in members}


def _query_parameters(request: Request) -> list[tuple[str, set[type]]]:
    """(name in the query string, {int, date}) of the route's query parameters typed int or date."""
    found = []
    for name, definition in request.route_handler.parsed_fn_signature.parameters.items():
        kinds = _kinds(definition.annotation)
        if not kinds or name in request.path_params:
            continue
        kwarg = definition.kwarg_definition
        if isinstance(kwarg, ParameterKwarg):
            if kwarg.param_type != ParamType.QUERY:
                continue
            name = kwarg.name or kwarg.query or name   # QueryParameter(name="from")
        found.append((name, kinds))
    return found


def parameter_problems(request: Request) -> list[FieldError]:
    errors = []
    for name, value in request.path_params.items():
        problem = range_problem(name, value) if isinstance(value, int) and not isinstance(value, bool) else None
        if problem:
            errors.append(FieldError(name, problem))
    for name, kinds in _query_parameters(request):
        for raw in request.query_params.getall(name, []):
            problem = whole_number_problem(name, raw) if int in kinds else None
            if problem is None and date in kinds:
                problem = day_problem(name, raw)
            if problem:
                errors.append(FieldError(name, problem))
                break
    return errors


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


async def body_problems(request: Request) -> list[FieldError]:
    """A JSON body that is not UTF-8 or nests too deep raises (400); numbers beyond 64 bits come back (422)."""
    if request.method not in BODY_METHODS or not _is_json(request) \
            or "data" not in request.route_handler.parsed_fn_signature.parameters:
        return []
    body = await request.body()   # Litestar keeps it: the handler's decoding reads the same bytes
    if not body:
        return []
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationException(detail="The request body is not UTF-8 text", extra=[
            {"key": "body", "source": "body",
             "message": f"JSON must be UTF-8; byte {error.start} is not (check the client's encoding)"}]) from None
    try:
        decoded = msgspec.json.decode(body)
    except RecursionError:   # msgspec stops at the interpreter's recursion limit, well past MAX_JSON_DEPTH
        raise ValidationException(detail="The request body nests too deep", extra=[
            {"key": "body", "source": "body", "message": TOO_DEEP}]) from None
    except msgspec.DecodeError:
        return []   # malformed: the handler's own decoding answers 400 with msgspec's words
    shape = json_shape(decoded, body)
    if shape.depth > MAX_JSON_DEPTH:
        raise ValidationException(detail="The request body nests too deep", extra=[
            {"key": "body", "source": "body", "message": f"{TOO_DEEP} ({shape.depth})"}])
    problems = [FieldError(path, f"{path} is beyond 64 bits (from {MIN_INT} to {MAX_ID})") for path in shape.oversized]
    data_type = request.route_handler.parsed_fn_signature.parameters["data"].annotation
    return problems + [FieldError(path, _("%(path)s: %(text)s is not a number (digits 0-9 and a decimal point, "
                                          "e.g. 12.50)", path=path, text=repr(text)))
                       for path, text in decimal_texts_refused(decoded, data_type)]


def _misread(text: str) -> bool:
    """Whether Decimal() reads the text as a number though it is not one written with 0-9 (what it cannot
    read at all, msgspec refuses with a 400 of its own)."""
    if written_plainly(text):
        return False
    try:
        return Decimal(text.strip().replace("\u00a0", "").replace(" ", "")).is_finite()
    except InvalidOperation:
        return False


def decimal_texts_refused(value: Any, kind: Any, path: str = "") -> list[tuple[str, str]]:
    """(path, text) of each string in a JSON body that the handler's type reads as a Decimal but that is not
    written with the digits 0-9 (msgspec, as Decimal(), reads "١٠" as 10 and "1_000" as 1000). The body is
    at most MAX_JSON_DEPTH deep, checked before this runs."""
    members = typing.get_args(kind) if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union \
        else (kind,)
    found: list[tuple[str, str]] = []
    for member in members:
        if member is Decimal:
            if isinstance(value, str) and _misread(value):
                found.append((path or "body", value))
        elif isinstance(member, type) and issubclass(member, msgspec.Struct) and isinstance(value, dict):
            for field in msgspec.structs.fields(member):
                if field.encode_name in value:
                    found += decimal_texts_refused(value[field.encode_name], field.type,
                                                   f"{path}.{field.encode_name}" if path else field.encode_name)
        elif typing.get_origin(member) in (list, tuple, typing.Sequence, collections.abc.Sequence) \
                and isinstance(value, list):
            inner = (typing.get_args(member) or (Any,))[0]
            for index, item in enumerate(value):
                found += decimal_texts_refused(item, inner, f"{path}[{index}]")
        if found:
            break
    return found


def drop_blank_typed_parameters(request: Request) -> None:
    """A blank query value of a parameter typed int or date is no value: the parameter's default. A page's
    filter form sends its empty fields (`/payments?client_id=&from=`), which Litestar would refuse with a 400
    ("Expected int|null, got str"). Runs before Litestar reads the parameters (before_request), on the
    parsed query it keeps for this request."""
    typed = {name for name, _kinds in _query_parameters(request)}
    if not typed or not request.scope.get("query_string"):
        return
    pairs = tuple(request.query_params.multi_items())
    kept = tuple((name, value) for name, value in pairs if name not in typed or str(value).strip())
    if len(kept) != len(pairs):
        request._parsed_query = kept   # Litestar's cache of the parsed query, for this request and its handler
        request._connection_state.parsed_query = kept


def malformed_parameters(request: Request) -> list[dict[str, str]]:
    """Query values typed int or date that are no whole number or no date at all, each named as the query
    string names it (`from`, `page`): Litestar's own refusal names the handler's argument instead
    (`date_from`, `page_number`). Empty values are the parameters' defaults."""
    found = []
    for name, kinds in _query_parameters(request):
        for raw in request.query_params.getall(name, []):
            if not raw.strip():
                continue
            if int in kinds and not _WHOLE_NUMBER.fullmatch(raw) and date not in kinds:
                found.append({"key": name, "source": "query", "message": f"{name} must be a whole number"})
                break
            if date in kinds and int not in kinds:
                try:
                    date.fromisoformat(raw.strip())
                except ValueError:
                    found.append({"key": name, "source": "query", "message": f"{name} must be a date, YYYY-MM-DD"})
                    break
    return found


async def check_request_input(request: Request) -> None:
    """App-wide before_request (after the CSRF check): every problem found is one 4xx naming its fields
    (400 for a value of the wrong type, as Litestar answers it, 422 for one out of range)."""
    drop_blank_typed_parameters(request)
    malformed = malformed_parameters(request)
    if malformed:
        raise ValidationException(detail=f"Validation failed for {request.method} {request.url.path}", extra=malformed)
    errors = parameter_problems(request) + await body_problems(request)
    if errors:
        raise ValidationFailed(errors)
