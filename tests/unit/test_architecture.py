"""The arrows point one way: routes -> service -> logic and tables (DESIGN.md, "Layout").

Walks the imports (ast, including imports inside functions) of every module under app/.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from piccolo.table import Table

import app

APP_DIR = Path(app.__file__).resolve().parent
ROOT = APP_DIR.parent

# Third-party packages a pure `logic` module must never touch (web framework, ORM, I/O).
LOGIC_FORBIDDEN_EXTERNAL = {"litestar", "piccolo", "aiosqlite", "sqlite3", "typst", "uvicorn", "jinja2", "httpx"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_project_module(name: str) -> bool:
    """True when `name` is a module or package of the project (a file or a folder under app/)."""
    if name != "app" and not name.startswith("app."):
        return False
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """Every module a source imports; `from pkg import name` counts as `pkg.name` when that is a module."""
    found: list[str] = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append(candidate if is_project_module(candidate) else base)
    return found


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) >= 3 and parts[0] == "app" else None


def violations(module: str, imports: list[str]) -> list[str]:
    """The rules of DESIGN.md, for one module and what it imports."""
    problems = []
    leaf = module.rpartition(".")[2]
    for target in imports:
        top = target.split(".")[0]
        if leaf == "logic":
            if top in LOGIC_FORBIDDEN_EXTERNAL:
                problems.append(f"{module} (pure logic) imports {target}")
            elif top == "app" and not (target.endswith(".logic") or target == "app.money"):
                problems.append(f"{module} (pure logic) imports {target}: only other logic modules and app.money")
        if leaf == "routes" and target.endswith(".routes") and domain_of(target) != domain_of(module):
            problems.append(f"{module} imports another domain's routes: {target}")
        if leaf == "service":
            if target.endswith(".routes") and top == "app":
                problems.append(f"{module} (service) imports routes: {target}")
            if top == "litestar":
                problems.append(f"{module} (service) imports the web framework: {target}")
    return problems


def project_modules() -> list[tuple[str, Path]]:
    return sorted((module_name(path), path) for path in APP_DIR.rglob("*.py") if "__pycache__" not in path.parts)


def test_the_walk_sees_every_domain():
    names = {name for name, _ in project_modules()}
    for expected in ("app.clients.logic", "app.clients.service", "app.clients.routes", "app.auth.logic",
                     "app.catalog.routes", "app.settings.service", "app.common.logic", "app.money"):
        assert expected in names


def test_imports_point_one_way():
    problems = []
    for name, path in project_modules():
        imports = imported_modules(path.read_text(encoding="utf-8"), name, is_package=path.name == "__init__.py")
        problems.extend(violations(name, imports))
    assert problems == []


def test_logic_modules_really_are_checked():
    """The walk resolves `from app.x import logic` to the module, so the rule sees what is imported."""
    source = (APP_DIR / "clients" / "logic.py").read_text(encoding="utf-8")
    assert "app.common.logic" in imported_modules(source, "app.clients.logic")
    source = (APP_DIR / "clients" / "routes.py").read_text(encoding="utf-8")
    imports = imported_modules(source, "app.clients.routes")
    assert {"app.clients.logic", "app.clients.service", "litestar"} <= set(imports)


# The checker itself must catch each kind of wrong arrow, or the test above proves nothing.
@pytest.mark.parametrize(("module", "source"), [
    ("app.clients.logic", "from app.clients import service"),
    ("app.clients.logic", "from app.clients.tables import Client"),
    ("app.clients.logic", "from app.clients import routes"),
    ("app.clients.logic", "import litestar"),
    ("app.clients.logic", "from piccolo.columns import Varchar"),
    ("app.clients.logic", "def f():\n    from app.db.engine import DB\n"),
    ("app.clients.logic", "from app.config import Config"),
    ("app.clients.logic", "from . import service"),
    ("app.clients.routes", "from app.catalog import routes"),
    ("app.clients.routes", "from app.catalog.routes import ItemOut"),
    ("app.clients.service", "from app.clients.routes import client_out"),
    ("app.clients.service", "from app.catalog import routes"),
    ("app.clients.service", "from litestar import Request"),
])
def test_the_checker_catches_wrong_arrows(module, source):
    assert violations(module, imported_modules(source, module))


@pytest.mark.parametrize(("module", "source"), [
    ("app.clients.logic", "from app.common.logic import Form\nfrom app.money import to_minor\nimport re"),
    ("app.clients.logic", "from app.catalog import logic\nfrom app import money\nfrom decimal import Decimal"),
    ("app.clients.routes", "from app.clients import service\nfrom app.catalog import service as catalog"),
    ("app.clients.service", "from app.clients import logic\nfrom app.settings import service"),
])
def test_the_checker_allows_right_arrows(module, source):
    assert violations(module, imported_modules(source, module)) == []


# -- Piccolo apps ------------------------------------------------------------------

def domains_with_tables() -> list[str]:
    return sorted(path.parent.name for path in APP_DIR.glob("*/tables.py"))


def test_every_domain_with_tables_is_a_registered_piccolo_app():
    from app.db.piccolo_conf import APP_REGISTRY

    registered = set(APP_REGISTRY.apps)
    assert domains_with_tables(), "no tables found: the walk is broken"
    for domain in domains_with_tables():
        folder = APP_DIR / domain
        assert (folder / "piccolo_app.py").is_file(), f"app/{domain} has tables.py but no piccolo_app.py"
        assert (folder / "piccolo_migrations" / "__init__.py").is_file(), f"app/{domain} has no migrations package"
        assert f"app.{domain}.piccolo_app" in registered, f"app.{domain}.piccolo_app is not in APP_REGISTRY"


@pytest.mark.parametrize("domain", domains_with_tables())
def test_every_table_is_in_its_app_config(domain):
    tables = importlib.import_module(f"app.{domain}.tables")
    config = importlib.import_module(f"app.{domain}.piccolo_app").APP_CONFIG
    defined = {obj for obj in vars(tables).values()
               if isinstance(obj, type) and issubclass(obj, Table) and obj is not Table and obj.__module__ == tables.__name__}
    assert defined, f"app/{domain}/tables.py defines no table"
    assert defined <= set(config.table_classes)
