"""The arrows point one way (DESIGN.md, "Layout and the direction of imports").

Two halves: the core (`app/<domain>/`: tables, logic, service) and the web (`app/web/`: server,
security, pages, API). The core never imports the web, Litestar, msgspec or Jinja. Domains form
an acyclic graph in the order written below: a module may import its own domain and the domains
before it, never one after it. Inside a domain, `logic` is pure.

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

# Bottom first. A domain may import only itself and what comes before it here.
DOMAIN_ORDER = [
    "app",          # app/__init__.py: the version
    "money", "paths",
    "codecache",    # the code dataclasses and typing compile at each start, kept between starts (issue 21)
    "config", "common", "instance",
    "db",           # the engine: one writer, the shared reader
    "audit",        # the trail every domain's writes record into (app.db's transactions seal it)
    "background",
    "settings", "auth", "taxes", "clients", "catalog",
    "fx",           # exchange rates and the base currency (issue 16): documents and payments convert with it
    "ledger", "documents", "payments", "receivables",
    "render", "mail", "recurring", "reminders", "batch", "reports", "expenses",
    "projects",     # projects and time: bill hours (and the project's expenses) as invoices (issue 19)
    "imports",      # moving in from another billing program: writes clients, documents, payments (issue 20)
    "exports", "integrity",
    "schema",       # app/db/{migrate,lifecycle,piccolo_conf}: they know every domain's tables
    "backup", "demo",
    "web",          # everything HTTP
    "launcher", "cli", "__main__",   # entry points
]
SCHEMA_MODULES = {"app.db.migrate", "app.db.lifecycle", "app.db.piccolo_conf"}

# Third-party packages of the web half: no core module imports them.
WEB_ONLY_EXTERNAL = {"litestar", "msgspec", "jinja2", "uvicorn", "multipart"}
# Third-party packages a pure `logic` module must never touch (web, ORM, I/O).
LOGIC_FORBIDDEN_EXTERNAL = WEB_ONLY_EXTERNAL | {"piccolo", "aiosqlite", "sqlite3", "typst", "httpx"}
# Pure modules of a domain: `logic` (rules) and `records` (the frozen records its service returns).
PURE_MODULES = {"logic", "records"}
# app.imports keeps its pure reading of files (parsing) and its table of formats (formats) beside its logic.
PURE_MODULES |= {"parsing", "formats"}
# Pure helpers a logic module may use: money, the language in force (issue 15: messages are translated where
# they are made) and numbers read in the reader's locale.
PURE_HELPERS = {"app.money", "app.common.i18n", "app.common.numbers"}
# The entry points start the server, so they may reach the web package (but not Litestar itself).
ENTRY_POINTS = {"launcher", "cli", "__main__"}


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
    """The domain a project module belongs to: `app.clients.service` -> clients, `app.money` -> money."""
    parts = module.split(".")
    if parts[0] != "app":
        return None
    if len(parts) == 1:
        return "app"
    if any(module == name or module.startswith(name + ".") for name in SCHEMA_MODULES):
        return "schema"
    return parts[1]


def rank(domain: str) -> int:
    if domain not in DOMAIN_ORDER:
        raise AssertionError(f"domain {domain!r} is not in DOMAIN_ORDER: place it there (bottom first)")
    return DOMAIN_ORDER.index(domain)


def is_web(module: str) -> bool:
    return module == "app.web" or module.startswith("app.web.")


def violations(module: str, imports: list[str]) -> list[str]:
    """The rules of DESIGN.md, for one module and what it imports; each problem names the import."""
    problems = []
    leaf = module.rpartition(".")[2]
    domain = domain_of(module)
    for target in imports:
        top = target.split(".")[0]
        if not is_web(module):
            if top in WEB_ONLY_EXTERNAL:
                problems.append(f"{module} (core) imports {target}: only app.web may use the web framework")
            if is_web(target) and domain not in ENTRY_POINTS:
                problems.append(f"{module} (core) imports the web package: {target}")
        if leaf in PURE_MODULES:
            if top in LOGIC_FORBIDDEN_EXTERNAL:
                problems.append(f"{module} (pure {leaf}) imports {target}")
            elif top == "app" and not (target.rpartition(".")[2] in PURE_MODULES or target in PURE_HELPERS):
                problems.append(f"{module} (pure {leaf}) imports {target}: only other logic or records modules, "
                                "app.money, and the translation and number-reading helpers")
        if module.startswith("app.web.pages.") and target.startswith("app.web.pages.") and target != module:
            problems.append(f"{module} imports another domain's pages: {target}")
        if module.startswith("app.web.api.") and target.startswith("app.web.pages"):
            problems.append(f"{module} (the JSON API) imports pages: {target}")
        target_domain = domain_of(target)
        if domain and target_domain and target_domain != domain and rank(target_domain) > rank(domain):
            problems.append(f"{module} imports {target}: {domain} comes before {target_domain} in DOMAIN_ORDER")
    return problems


def project_modules() -> list[tuple[str, Path]]:
    return sorted((module_name(path), path) for path in APP_DIR.rglob("*.py")
                  if "__pycache__" not in path.parts and "piccolo_migrations" not in path.parts)


def test_the_walk_sees_every_domain():
    names = {name for name, _ in project_modules()}
    for expected in ("app.clients.logic", "app.clients.service", "app.web.pages.clients", "app.auth.logic",
                     "app.web.pages.catalog", "app.settings.service", "app.common.logic", "app.money",
                     "app.web.server", "app.web.security"):
        assert expected in names


def test_every_domain_has_its_place_in_the_order():
    domains = {domain_of(name) for name, _ in project_modules()}
    assert domains - set(DOMAIN_ORDER) == set()


def test_imports_point_one_way():
    problems = []
    for name, path in project_modules():
        imports = imported_modules(path.read_text(encoding="utf-8"), name, is_package=path.name == "__init__.py")
        problems.extend(violations(name, imports))
    assert not problems, "imports pointing the wrong way:\n" + "\n".join(problems)


def test_logic_modules_really_are_checked():
    """The walk resolves `from app.x import logic` to the module, so the rule sees what is imported."""
    source = (APP_DIR / "clients" / "logic.py").read_text(encoding="utf-8")
    assert "app.common.logic" in imported_modules(source, "app.clients.logic")
    source = (APP_DIR / "web" / "pages" / "clients.py").read_text(encoding="utf-8")
    imports = imported_modules(source, "app.web.pages.clients")
    assert {"app.clients.logic", "app.clients.service", "litestar"} <= set(imports)


# The checker itself must catch each kind of wrong arrow, or the test above proves nothing.
@pytest.mark.parametrize(("module", "source"), [
    ("app.clients.logic", "from app.clients import service"),
    ("app.clients.logic", "from app.clients.tables import Client"),
    ("app.clients.logic", "import litestar"),
    ("app.clients.logic", "import msgspec"),
    ("app.clients.logic", "from piccolo.columns import Varchar"),
    ("app.clients.logic", "def f():\n    from app.db.engine import DB\n"),
    ("app.clients.logic", "from app.config import Config"),
    ("app.clients.logic", "from . import service"),
    ("app.clients.records", "from app.clients.tables import Client"),
    ("app.documents.records", "from app.documents import service"),
    ("app.clients.records", "import msgspec"),
    ("app.clients.service", "import litestar"),
    ("app.clients.service", "from litestar import Request"),
    ("app.documents.service", "import msgspec"),
    ("app.documents.service", "def f():\n    from jinja2 import Environment\n"),
    ("app.clients.service", "from app.web.pages.clients import client_out"),
    ("app.clients.service", "from app.web import responses"),
    ("app.mail.service", "from app.web.api import mail_dto"),
    ("app.settings.service", "from app.ledger import service"),
    ("app.settings.logic", "from app.ledger.logic import Entry"),
    ("app.ledger.service", "from app.payments.tables import Payment"),
    ("app.money", "from app.settings import service"),
    ("app.documents.service", "from app.db.migrate import apply_migrations"),
    ("app.web.pages.clients", "from app.web.pages import catalog"),
    ("app.web.pages.clients", "from app.web.pages.catalog import ItemOut"),
    ("app.web.api.clients", "from app.web.pages.clients import client_page"),
])
def test_the_checker_catches_wrong_arrows(module, source):
    problems = violations(module, imported_modules(source, module))
    assert problems
    assert all(module in problem for problem in problems)   # it names the offender


@pytest.mark.parametrize(("module", "source"), [
    ("app.clients.logic", "from app.common.logic import Form\nfrom app.money import to_minor\nimport re"),
    ("app.catalog.logic", "from app.clients import logic\nfrom app import money\nfrom decimal import Decimal"),
    ("app.exports.logic", "from app.clients.records import ClientView\nfrom app.clients import records"),
    ("app.documents.records", "from app.documents import logic\nfrom app.clients.records import ClientView"),
    ("app.web.pages.clients", "from app.clients import service\nfrom app.catalog import service as catalog"),
    ("app.web.pages.clients", "from litestar import get\nimport msgspec"),
    ("app.clients.service", "from app.clients import logic\nfrom app.settings import service"),
    ("app.documents.service", "from app.ledger import service\nfrom app.clients.tables import Client"),
    ("app.cli", "def f():\n    from app.launcher import serve\n"),
    ("app.launcher", "def f():\n    from app.web.server import create_app\n"),
])
def test_the_checker_allows_right_arrows(module, source):
    assert violations(module, imported_modules(source, module)) == []


def test_every_import_of_the_tree_is_resolved_to_a_known_domain():
    for name, path in project_modules():
        for target in imported_modules(path.read_text(encoding="utf-8"), name, is_package=path.name == "__init__.py"):
            if domain_of(target):
                rank(domain_of(target))


def test_json_routes_live_in_the_api_package_and_pages_in_the_pages_package():
    from app.web import route_modules

    for module in route_modules.PAGE_MODULES:
        for route in module.ROUTES:
            assert not any(path.startswith("/api/") for path in route.paths), (module.__name__, route.paths)
    for module in route_modules.API_MODULES:
        for route in module.ROUTES:
            assert all(path.startswith("/api/") for path in route.paths), (module.__name__, route.paths)


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
