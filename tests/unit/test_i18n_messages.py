"""Error messages raised by the domains' code are marked for translation (issue 15).

A refusal reaches a page (a field's error, a conflict, a "not found"), so its text goes through `_()`
when it is made. This walks the source of every module (the JSON API's aside) and fails on a string literal or an
f-string passed directly as the message of FieldError, Conflict or NotFound (or as ValidationFailed's
detail): wrap it as `_("Code %(code)s is used", code=code)`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Every module of the program but the JSON API's (its field errors stay English: they are for scripts) and
# the migrations.
SOURCES = sorted(path for path in (ROOT / "app").rglob("*.py")
                 if "piccolo_migrations" not in path.parts and path.parent != ROOT / "app" / "web" / "api")
# Refusals only a script can meet (the shape of a JSON body or query the pages never send): English, as the
# API's own are. (module, first words of the message)
SCRIPT_ONLY = {
    ("app/batch/logic.py", "Unknown document type"), ("app/documents/logic.py", "lines must be a list"),
    ("app/mail/logic.py", "Give {kind: {subject, body}}"), ("app/mail/service.py", "Give {"),
    ("app/payments/service.py", "state must be live or reversed"),
    ("app/reports/service.py", "currency takes only the value base"),
    ("app/web/inputs.py", "{path} is beyond 64 bits"), ("app/web/responses.py", "Unknown field {field}"),
}
# Which positional argument holds the message, per constructor.
MESSAGE_ARGUMENT = {"FieldError": 1, "Conflict": 0, "NotFound": 0, "ValidationFailed": None}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_raw_text(node: ast.expr) -> bool:
    """A message written in the call itself, not through `_()`: "text", f"text", "text" + x."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr):
        return True
    return isinstance(node, ast.BinOp) and (_is_raw_text(node.left) or _is_raw_text(node.right))


def unmarked_messages(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or _name(node.func) not in MESSAGE_ARGUMENT:
            continue
        name = _name(node.func)
        position = MESSAGE_ARGUMENT[name]
        messages = [node.args[position]] if position is not None and len(node.args) > position else []
        messages += [keyword.value for keyword in node.keywords if keyword.arg in ("message", "detail")]
        found += [(message.lineno, name, _text_of(message)) for message in messages if _is_raw_text(message)]
    return found


def _text_of(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "{" + ast.unparse(part.value) + "}"
                       for part in node.values if isinstance(part, ast.Constant | ast.FormattedValue))
    return ast.unparse(node)


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT / "app")))
def test_raised_messages_are_marked(path: Path) -> None:
    module = str(path.relative_to(ROOT))
    found = [(line, name) for line, name, text in unmarked_messages(path.read_text(encoding="utf-8"))
             if not any(module == allowed and text.startswith(start) for allowed, start in SCRIPT_ONLY)]
    assert not found, "\n".join(f"{module}:{line}: the message of {name} is not wrapped in _()"
                                for line, name in found)


def test_the_walk_finds_unmarked_messages() -> None:
    source = '''
FieldError("code", "Code is used")
FieldError("code", f"Code {code!r} is used")
FieldError("code", _("Code %(code)s is used", code=code))
FieldError("file", "Totals differ: " + problems)
errors.Conflict(f"Import {job_id}")
NotFound(_("Import %(id)s", id=job_id))
ValidationFailed(errors, detail="Not valid")
FieldError("file", error.message)
'''
    assert [(line, name) for line, name, _ in unmarked_messages(source)] == [
        (2, "FieldError"), (3, "FieldError"), (5, "FieldError"), (6, "Conflict"), (8, "ValidationFailed")]


def test_a_refusal_reads_in_the_readers_language() -> None:
    from datetime import date

    from app.audit import logic as audit_logic
    from app.common.i18n import translations_for, using
    from app.common.logic import ValidationFailed

    params = {"from": date(2026, 3, 1).isoformat(), "to": date(2026, 2, 1).isoformat(), "entity": "Bad name"}
    for language, expected in (("fr", "la période se termine avant de commencer"),
                               ("de", "der Zeitraum endet vor seinem Beginn"),
                               ("en", "the period ends before it starts")):
        with using(translations_for(language)), pytest.raises(ValidationFailed) as failed:
            audit_logic.parse_filter(params)
        assert expected in [error.message for error in failed.value.errors]
    with using(translations_for("de")):
        assert audit_logic.entity_label("refund") == "Erstattung"


def test_money_in_a_message_is_grouped_as_the_reader_writes_it():
    from app.common.i18n import money_text, using_locale

    assert money_text("99999", "CAD") == "99,999.00 CAD"
    assert money_text("12", "JPY") == "12 JPY"
    with using_locale("de_DE"):
        assert money_text("2494.51", "EUR") == "2.494,51 EUR"
