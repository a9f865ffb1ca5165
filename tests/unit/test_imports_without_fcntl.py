"""Counterfoil runs on Windows too, where there is no `fcntl`: every module of `app` imports without it.

The modules are imported in a fresh interpreter in which `import fcntl` fails (as on Windows),
one by one, so that one failure cannot hide behind another.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import app

APP_DIR = Path(app.__file__).resolve().parent
ROOT = APP_DIR.parent

IMPORT_EVERYTHING = """
import importlib, json, sys, traceback
sys.modules["fcntl"] = None   # `import fcntl` now raises ImportError, as on Windows
try:
    import fcntl
except ImportError:
    pass
else:
    raise SystemExit("fcntl is still importable")
sys.argv = ["counterfoil", "--version"]   # app.__main__ runs the command line when imported
failures, imported = {}, []
for name in json.loads(sys.stdin.read()):
    try:
        importlib.import_module(name)
    except SystemExit as stop:
        if stop.code not in (0, None):
            failures[name] = f"SystemExit({stop.code!r})"
            continue
    except BaseException:
        failures[name] = traceback.format_exc()
        continue
    imported.append(name)
print(json.dumps({"failures": failures, "imported": imported, "fcntl_loaded": sys.modules.get("fcntl") is not None}))
"""


def every_module() -> list[str]:
    names = []
    for path in sorted(APP_DIR.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def test_every_module_of_app_imports_without_fcntl():
    modules = every_module()
    assert {"app.instance", "app.launcher", "app.backup.service", "app.web.server", "app.__main__"} <= set(modules)
    result = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], input=json.dumps(modules), cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["failures"] == {}, "\n\n".join(f"{name}:\n{error}" for name, error in report["failures"].items())
    assert report["imported"] == modules
    assert not report["fcntl_loaded"]


def test_no_module_of_app_imports_fcntl_itself():
    """The instance lock goes through filelock (flock or LockFileEx); no module reaches for fcntl directly."""
    offenders = [str(path.relative_to(ROOT)) for path in APP_DIR.rglob("*.py")
                 if "import fcntl" in path.read_text(encoding="utf-8")]
    assert offenders == []
