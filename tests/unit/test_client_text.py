"""app.js shows no sentence of its own: each goes through say() and is a message of app/web/client_text.py,
which base.html hands to the page translated (issue 15: every text the user reads is translatable)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.common import i18n
from app.web.client_text import CLIENT_MESSAGES, client_text

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(path for path in (ROOT / "web" / "static").glob("*.js") if not path.name.endswith(".min.js"))  # ours, not htmx
SAY = re.compile(r"""\bsay\(\s*$""")


def literals(source: str) -> list[tuple[int, str, str]]:
    """(line, text, what precedes it on the line) of each string literal, comments left out. A small scanner
    for the plain ES5 app.js is written in (no template strings, no quotes inside regular expressions)."""
    found: list[tuple[int, str, str]] = []
    in_block = False
    for number, line in enumerate(source.splitlines(), 1):
        i = 0
        while i < len(line):
            if in_block:
                end = line.find("*/", i)
                if end < 0:
                    break
                in_block, i = False, end + 2
                continue
            char = line[i]
            if line.startswith("/*", i):
                in_block, i = True, i + 2
            elif line.startswith("//", i) and (i == 0 or line[i - 1] in " \t;{}()"):
                break   # a comment to the end of the line
            elif char in "\"'`":
                j, text = i + 1, []
                while j < len(line) and line[j] != char:
                    if line[j] == "\\":
                        text.append(line[j:j + 2])
                        j += 2
                        continue
                    text.append(line[j])
                    j += 1
                found.append((number, "".join(text), line[:i]))
                i = j + 1
            else:
                i += 1
    return found


def is_prose(text: str) -> bool:
    """A sentence or a piece of one a person reads, as opposed to a selector, an event or a key name."""
    if re.search(r"[\[\]=#>(){}]", text) and not re.search(r"\{\w+\}", text):
        return False
    return bool(re.match(r"\s*[A-ZÀ-Ý][a-zà-ÿ']+[ :,]", text) or "…" in text
                or re.fullmatch(r"[A-ZÀ-Ý][a-zà-ÿ']+[.!?]", text)
                or (re.search(r"[A-Za-z]{3,}", text) and " " in text.strip() and re.search(r"[.!?:]\s*$", text))
                or re.match(r"\s+[a-z]{3,}", text))


def test_the_scanner_finds_sentences_and_leaves_code_alone() -> None:
    source = ('var a = "Too short: at least " + n + " characters."; // "Not this"\n'
              'document.querySelectorAll("tbody tr"); if (event.key === "Enter") x = say("Saved.");\n'
              '/* "nor this" */ b = \'[name$="-\' + name + \'"]\';')
    assert [text for _, text, _ in literals(source) if is_prose(text)] == [
        "Too short: at least ", " characters.", "Saved."]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.name)
def test_every_sentence_of_the_scripts_comes_from_the_translated_table(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    problems = []
    for line, text, before in literals(source):
        if not is_prose(text):
            continue
        if not SAY.search(before):
            problems.append(f"{path.name}:{line}: {text!r} is shown as written: use say({text!r}) and add it "
                            "to app/web/client_text.py CLIENT_MESSAGES")
        elif text not in CLIENT_MESSAGES:
            problems.append(f"{path.name}:{line}: say({text!r}) is not in app/web/client_text.py CLIENT_MESSAGES")
    assert not problems, "\n".join(problems)


def test_every_message_of_the_table_is_used_and_translated() -> None:
    used = {text for path in SCRIPTS for _, text, before in literals(path.read_text(encoding="utf-8"))
            if SAY.search(before)}
    assert used == set(CLIENT_MESSAGES)
    for language in ("fr", "de"):
        with i18n.using(i18n.translations_for(language)):
            table = client_text()
        assert set(table) == set(CLIENT_MESSAGES)
        for message, translated in table.items():
            assert translated != message, f"{language}: {message!r} is not translated"
            assert re.findall(r"\{\w+\}", translated) == re.findall(r"\{\w+\}", message)
