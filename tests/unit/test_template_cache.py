"""Compiled page templates are kept between starts in the user's cache folder (app.web.templating.configure):
the next start reads their code instead of compiling them; a changed template is compiled again, and an
environment whose settings change the generated code keeps its templates apart."""

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


@pytest.fixture
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(templating, "user_cache_dir", lambda: tmp_path / "cache")
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "page.html").write_text("{{ _('Hello') }} {{ name }}!")
    return folder


def test_templates_compiled_once_are_read_back_and_compiled_again_when_they_change(
        templates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _engine(templates).engine
    assert first.get_template("page.html").render(name="<b>") == "Hello &lt;b&gt;!"   # autoescaped
    folder = tmp_path / "cache" / "templates" / templating.environment_signature(first)
    assert len(list(folder.iterdir())) == 1
    assert stat.S_IMODE(folder.stat().st_mode) == stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    # A new start (a new environment) reads the kept code: the source is not compiled again.
    second = _engine(templates).engine
    monkeypatch.setattr(second, "_compile", lambda *args: pytest.fail("compiled again"))
    assert second.get_template("page.html").render(name="you") == "Hello you!"
    # A changed template: its checksum no longer matches, it is compiled.
    (templates / "page.html").write_text("Bye {{ name }}")
    assert _engine(templates).engine.get_template("page.html").render(name="<i>") == "Bye &lt;i&gt;"


def test_an_environment_that_generates_other_code_keeps_its_templates_apart(templates: Path) -> None:
    """Jinja's own check is the source and its version: code compiled with autoescaping must not be read by an
    environment without it (or the other way round), nor with other extensions."""
    escaping = _engine(templates).engine
    plain = _engine(templates).engine
    plain.autoescape = False
    assert templating.environment_signature(plain) != templating.environment_signature(escaping)
    bare = JinjaTemplateEngine(directory=templates).engine   # no i18n extension
    assert templating.environment_signature(bare) != templating.environment_signature(escaping)
    assert templating.environment_signature(_engine(templates).engine) == templating.environment_signature(escaping)


def test_a_cache_folder_that_cannot_be_made_means_compiling_at_each_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    monkeypatch.setattr(templating, "user_cache_dir", lambda: blocker)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("Hi {{ name }}")
    engine = _engine(templates).engine
    assert engine.bytecode_cache is None
    assert engine.get_template("page.html").render(name="you") == "Hi you"
