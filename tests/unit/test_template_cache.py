"""Compiled templates are kept between starts in the user's cache folder (app.web.templating.configure):
the next start reads their code instead of compiling them, a changed template is compiled again."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from litestar.contrib.jinja import JinjaTemplateEngine

from app.web import templating


def _engine(templates: Path) -> JinjaTemplateEngine:
    engine = JinjaTemplateEngine(directory=templates)
    templating.configure(engine)
    return engine


def test_templates_compiled_once_are_read_back_and_compiled_again_when_they_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templating.platformdirs, "user_cache_dir", lambda *args, **kwargs: str(tmp_path / "cache"))
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("{{ _('Hello') }} {{ name }}!")
    assert _engine(templates).engine.get_template("page.html").render(name="<b>") == "Hello &lt;b&gt;!"
    folder = tmp_path / "cache" / "templates"
    kept = list(folder.iterdir())
    assert len(kept) == 1 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    # A new start (a new environment) reads the kept code: the source is not compiled again.
    second = _engine(templates).engine
    monkeypatch.setattr(second, "_compile", lambda *args: pytest.fail("compiled again"))
    assert second.get_template("page.html").render(name="you") == "Hello you!"
    # A changed template: its checksum no longer matches, it is compiled.
    (templates / "page.html").write_text("Bye {{ name }}")
    assert _engine(templates).engine.get_template("page.html").render(name="you") == "Bye you"


def test_a_cache_folder_that_cannot_be_made_means_compiling_at_each_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    monkeypatch.setattr(templating.platformdirs, "user_cache_dir", lambda *args, **kwargs: str(blocker))
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("Hi {{ name }}")
    engine = _engine(templates).engine
    assert engine.bytecode_cache is None
    assert engine.get_template("page.html").render(name="you") == "Hi you"
