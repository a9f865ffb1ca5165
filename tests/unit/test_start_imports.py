"""The start imports only what the first page needs (issue 21, point 4: the double-click opens in under
half a second). Each module below costs its import time at every start if a top-level import brings it
back; they are imported where they are used (rendering, PDFs, e-invoices, QR codes, mail) instead."""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main

ROOT = Path(__file__).resolve().parents[2]

# What the start must not import. pydantic and attrs: Litestar's plugins for them cost 0.1 s, no route uses
# them (app.web.server.CounterfoilApp). (babel.messages compiles a catalog once, when no .mo is kept for it.)
# PyYAML's `yaml` itself stands in sys.modules for Litestar until its first use (app.web.import_at_first_use): its
# submodules show whether its code ran.
NOT_AT_START = ["pydantic", "attr", "attrs", "typst", "pikepdf", "cryptography", "saxonche", "lxml", "segno",
                "PIL", "fontTools", "pypdf", "factur_x", "reportlab", "yaml.reader"]

START = """
import json, sys, tempfile
from app import cli, launcher
from app.common import i18n
from app.config import Config
from app.web import server
server.create_app(Config.for_data_dir(tempfile.mkdtemp()), prepare=False)
for language in i18n.LANGUAGES:
    i18n.translations_for(language)
print(json.dumps(sorted(sys.modules)))
"""


def test_the_start_does_not_import_what_the_first_page_does_not_need(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COUNTERFOIL_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", START], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    imported = set(json.loads(done.stdout.splitlines()[-1]))
    assert [name for name in NOT_AT_START if name in imported] == []


def test_a_start_that_fails_turns_the_collector_back_on(tmp_path: Path) -> None:
    """app.cli.main turns the garbage collector off and the code cache (app.codecache) on while the server
    starts (run_server turns them back): a start that stops early must not leave them so in the process
    that called main()."""
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(OSError):
        main(["serve", "--data-dir", str(not_a_folder), "--no-browser"])
    assert gc.isenabled()
    assert "exec" not in vars(dataclasses)


SERVER_START = """
import json, sys, tempfile
from app.config import Config
from app.web import server
server.create_app(Config.for_data_dir(tempfile.mkdtemp()), prepare=False, routes_after_start=True)
print(json.dumps(sorted(sys.modules)))
"""


def test_the_servers_start_imports_only_the_first_pages_web_modules(tmp_path: Path) -> None:
    """The other pages' and the API's modules (and those of the workers but the backup scheduler) are imported
    when their routes are registered, once the first page has been answered (app.web.server.create_app's
    `routes_after_start`)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COUNTERFOIL_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", SERVER_START], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    imported = set(json.loads(done.stdout.splitlines()[-1]))
    web = {name for name in imported if name.startswith(("app.web.pages.", "app.web.api."))}
    assert web == {"app.web.pages.auth", "app.web.pages.dashboard", "app.web.pages.projects"}
    assert "app.web.route_modules" not in imported
    # The workers but the backup scheduler start after the first page (app.web.server.other_workers).
    assert not {"app.exports.service", "app.recurring.service", "app.reminders.service"} & imported


BROWSER_FIRST = """
import sys
from app import cli, launcher
data_dir, port = sys.argv[1], sys.argv[2]
with open(data_dir + "-password", "w") as password:
    password.write("a-long-password-1234")
assert cli.main(["init", "--data-dir", data_dir, "--owner-email", "owner@example.com",
                 "--password-file", data_dir + "-password"]) == 0

def opened(config, token):
    import sqlite3
    with sqlite3.connect(config.database_path) as database:
        tokens = database.execute("SELECT count(*) FROM launch_token").fetchone()[0]
    print("web app imported:", "app.web.server" in sys.modules, "launch tokens:", tokens, flush=True)
    raise SystemExit(0)

launcher.start_browser = opened
cli.main(["serve", "--data-dir", data_dir, "--port", port])
"""


def test_the_browser_starts_before_the_database_opens_and_the_web_app_is_imported(tmp_path: Path) -> None:
    """A browser takes longer to start than the server: it is started as soon as the socket listens (its first
    request waits in the socket's queue, the launch token recorded by then), so that its start and the
    database's opening, the web app's import and its build (~0.4 s) overlap instead of adding up."""
    from tests.http.live_server import free_port

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", BROWSER_FIRST, str(tmp_path / "data"), str(free_port())], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.splitlines()[-1] == "web app imported: False launch tokens: 0"


def test_a_module_imported_at_first_use_runs_its_code_only_then(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.web import import_at_first_use

    runs = tmp_path / "runs"   # the module's code writes a line here each time it runs
    package = tmp_path / "first_use_probe"
    package.mkdir()
    (package / "__init__.py").write_text(f"with open({str(runs)!r}, 'a') as runs:\n    runs.write('ran\\n')\n"
                                         "VALUE = 42\ndef twice(x):\n    return 2 * x\n")
    (package / "part.py").write_text("NAME = 'part'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        import_at_first_use("first_use_probe")
        import first_use_probe  # what Litestar does with yaml: its code has not run yet
        assert not runs.exists()
        assert first_use_probe.twice(first_use_probe.VALUE) == 84
        from first_use_probe import VALUE
        from first_use_probe.part import NAME
        assert (VALUE, NAME, runs.read_text()) == (42, "part", "ran\n")   # once
        assert sys.modules["first_use_probe"].VALUE == 42
    finally:
        for name in ("first_use_probe", "first_use_probe.part"):
            sys.modules.pop(name, None)

    import_at_first_use("no_such_module_anywhere")
    assert "no_such_module_anywhere" not in sys.modules
    already = sys.modules["json"]
    import_at_first_use("json")
    assert sys.modules["json"] is already


def test_yaml_still_works_for_whoever_uses_it() -> None:
    done = subprocess.run([sys.executable, "-c", "import sys\nimport app.web.server\nassert 'yaml.reader' not in sys.modules\n"
                           "import litestar.openapi.plugins as plugins\nprint(plugins.yaml.safe_dump({'a': [1]}).strip())"],
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.split() == ["a:", "-", "1"]
