"""Finds the text a reader sees in a Jinja/HTML template that is not marked for translation (issue 15).

The template is read with its Jinja constructs masked (`{{ }}`, `{% %}`, `{# #}` become opaque markers),
then walked as HTML: every text node and every attribute a person reads (placeholder, title, aria-label,
alt, an input button's value, a confirmation) must hold no letters outside a construct; and a string literal in an expression that
reads as prose (`"Save changes"`) must sit inside `_()`. `{% trans %}` blocks are marked by definition.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

CONSTRUCT = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
MARK = re.compile(r"\x01(\d+)\x02")
TAG = re.compile(r"<!--.*?-->|<![a-zA-Z][^>]*>|<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.DOTALL)
ATTRIBUTE = re.compile(r"([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(\"[^\"]*\"|'[^']*')")
READ_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt", "data-confirm"}
BUTTON_TYPES = {"submit", "button", "reset"}
ENTITY = re.compile(r"&(?:[a-zA-Z]+|#[0-9]+|#x[0-9a-fA-F]+);")
LETTER = re.compile(r"[^\W\d_]")
LITERAL = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
SKIPPED_STATEMENTS = ("extends", "include", "import", "from", "block", "macro", "call", "trans", "pluralize",
                      "endtrans", "raw")


@dataclass(frozen=True)
class Unmarked:
    line: int
    text: str
    where: str   # "text", "attribute placeholder", "literal"


def constructs(source: str) -> list[re.Match[str]]:
    return list(CONSTRUCT.finditer(source))


def masked(source: str) -> tuple[str, list[re.Match[str]], set[int]]:
    """The source with each construct replaced by `\\x01<n>\\x02`; and the constructs inside a trans block."""
    found = constructs(source)
    in_trans: set[int] = set()
    inside = False
    parts = []
    last = 0
    for index, match in enumerate(found):
        text = match.group(0)
        statement = text[2:-2].strip("-+ \n\t").split(" ", 1)[0] if text.startswith("{%") else ""
        between = source[last:match.start()]
        parts.append("\x03" * 0 + (_blank(between) if inside else between))
        if statement == "trans":
            inside = True
        if inside:
            in_trans.add(index)
        if statement == "endtrans":
            inside = False
        parts.append(f"\x01{index}\x02")
        last = match.end()
    parts.append(source[last:])
    return "".join(parts), found, in_trans


def _blank(text: str) -> str:
    """Text inside {% trans %}: marked already; keeps its newlines so line numbers stay true."""
    return re.sub(r"[^\n]", " ", text)


def reads_as_text(fragment: str) -> bool:
    return bool(LETTER.search(ENTITY.sub("", fragment)))


def prose_literal(literal: str) -> bool:
    """A string literal in an expression that a person reads: a capitalised word or several words,
    not a name, path, CSS class, format or markup."""
    body = literal[1:-1]
    if body in ("True", "False", "None"):
        return False   # a value (a select's option), not a word
    if not reads_as_text(body) or any(mark in body for mark in ("=", "<", "{", ".html", "\\n")):
        return False
    if body.startswith(("/", "#", ".", "%", "?", "&", "-", "_", "hx-", "text/", "application/", "image/")):
        return False
    if body.isupper() or re.fullmatch(r"[a-z0-9_.:-]+", body) or (re.fullmatch(r"[a-z0-9 _-]+", body) and " " not in body):
        return False
    if " " not in body.strip():
        return bool(re.match(r"[A-ZÀ-Ý][a-zà-ÿ]", body))   # one capitalised word: a label ("Name")
    if re.fullmatch(r"[a-z][a-z0-9-]*( [a-z][a-z0-9-]*)+", body) and "-" in body:
        return False   # CSS classes: "button primary"
    return (bool(re.search(r"[A-Za-z]{2,}", body)) and not re.fullmatch(r"[a-z0-9 -]+", body)) or bool(
        re.match(r"[a-z]+ [a-z]+", body) and not re.fullmatch(r"[a-z-]+( [a-z-]+)*", body))


def literals_needing_marks(construct: str) -> Iterator[re.Match[str]]:
    """The prose literals of a `{{ }}` or `{% %}` construct that are not the argument of `_()`."""
    if construct.startswith("{#"):
        return
    inner = construct[2:-2].strip("-+ \n\t")
    if construct.startswith("{%") and inner.split(" ", 1)[0] in SKIPPED_STATEMENTS:
        return
    for literal in LITERAL.finditer(construct):
        before = construct[:literal.start()].rstrip()
        after = construct[literal.end():].lstrip()
        if before.endswith(("_(", "gettext(", "N_(", "[", "==", "!=")) or after.startswith(("]", "==", "!=")):
            continue
        if re.search(r"ngettext\(\s*(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')\s*,$", before):
            continue   # ngettext's plural
        if re.search(r"(?:\bin|\bnot in)$", before) or after.startswith(("in ", "not in ")):
            continue
        if re.search(r"\b(?:attrs|type|autocomplete|name|href|cls|css|icon|kind|key|target|value)\s*=$", before):
            continue
        if prose_literal(literal.group(0)):
            yield literal


def unmarked(source: str) -> list[Unmarked]:
    text, found, in_trans = masked(source)
    problems: list[Unmarked] = []

    def line_of(position: int) -> int:
        return text.count("\n", 0, position) + 1

    def check_fragment(fragment: str, position: int, where: str) -> None:
        for piece in MARK.split(fragment)[::2]:
            if reads_as_text(piece):
                problems.append(Unmarked(line_of(position), " ".join(piece.split()), where))
                return

    position = 0
    skip_until = None
    for tag in TAG.finditer(text):
        if skip_until is None:
            check_fragment(text[position:tag.start()], position, "text")
        position = tag.end()
        if tag.group(0).startswith("<!"):
            continue
        closing, name, attributes = tag.group(1), tag.group(2).lower(), tag.group(3) or ""
        if skip_until is not None:
            if closing and name == skip_until:
                skip_until = None
            continue
        if not closing and name in ("script", "style"):
            skip_until = name
            continue
        values = {key.lower(): value[1:-1] for key, value in ATTRIBUTE.findall(attributes)}
        for key, value in values.items():
            readable = key in READ_ATTRIBUTES or (
                # an input button shows its value; a <button>'s value is data sent with the form, not text
                key == "value" and name == "input" and values.get("type") in BUTTON_TYPES)
            if readable:
                check_fragment(value, tag.start(), f"attribute {key}")
    if skip_until is None:
        check_fragment(text[position:], position, "text")
    for index, match in enumerate(found):
        if index in in_trans:
            continue
        for literal in literals_needing_marks(match.group(0)):
            problems.append(Unmarked(source.count("\n", 0, match.start()) + 1, literal.group(0), "literal"))
    return sorted(problems, key=lambda problem: problem.line)
