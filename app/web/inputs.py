"""What arrives, checked before a handler sees it, so that a hostile or mistyped request gets a 4xx
naming its field instead of a 500 from deep inside (SQLite's "Python int too large", datetime's
"year 10000 is out of range", msgspec's RecursionError):

- a whole number in the path or in a query parameter declared `int` fits SQLite's 64 bits;
- a query parameter declared `date` is between 1900 and 2200 (app.common.logic.date_problem);
- a JSON body is UTF-8, at most MAX_JSON_DEPTH levels deep, and holds no whole number beyond 64 bits.

The rules on what each value means (a quantity's digits, a document's date) stay in the core's logic;
this is only the transport: what no route can store or compute with.
"""

from __future__ import annotations

import re
import types
import typing
from datetime import date
from typing import Any

import msgspec
from litestar import Request
from litestar.enums import ParamType
from litestar.exceptions import ValidationException
from litestar.params import ParameterKwarg

from app.common.logic import MAX_ID, FieldError, ValidationFailed, date_problem

MAX_JSON_DEPTH = 32          # the API's deepest body (a document's line's taxes) is 4 levels
MIN_INT = -MAX_ID - 1        # SQLite's INTEGER is a signed 64-bit number
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")
_WHOLE_NUMBER = re.compile(r"\s*[+-]?[0-9]+\s*")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside strings do not count)."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def oversized_integers(value: Any, path: str = "") -> list[str]:
    """The paths (`lines[0].item_id`) of the whole numbers in decoded JSON that SQLite cannot hold."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [path or "body"] if not MIN_INT <= value <= MAX_ID else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += oversized_integers(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += oversized_integers(item, f"{path}[{index}]")
    return found


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
    depth = json_depth(body)
    if depth > MAX_JSON_DEPTH:
        raise ValidationException(detail="The request body nests too deep", extra=[
            {"key": "body", "source": "body",
             "message": f"JSON nested {depth} levels deep; at most {MAX_JSON_DEPTH}"}])
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return []   # malformed: the handler's own decoding answers 400 with msgspec's words
    return [FieldError(path, f"{path} is beyond 64 bits (from {MIN_INT} to {MAX_ID})")
            for path in oversized_integers(decoded)]


async def check_request_input(request: Request) -> None:
    """App-wide before_request (after the CSRF check): every problem found is one 4xx naming its fields."""
    errors = parameter_problems(request) + await body_problems(request)
    if errors:
        raise ValidationFailed(errors)
