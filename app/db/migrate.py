"""Apply Piccolo migrations at start, from the repository's migration packages.

Piccolo discovers migrations by listing `.py` files in each app's folder and
importing them by bare name. Inside the Nuitka single file there are no `.py`
files to list, so we discover them as modules of their package instead
(`pkgutil`, which compiled packages support) and keep the rest of Piccolo's
runner and its `migration` bookkeeping table as they are.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import pkgutil
import sys
import types
from pathlib import Path

from app.db import engine

PICCOLO_CONF = "app.db.piccolo_conf"


class MigrationError(RuntimeError):
    pass


def _prepare_piccolo() -> None:
    os.environ.setdefault("PICCOLO_CONF", PICCOLO_CONF)
    # piccolo.conf.apps imports black at top level only to format generated
    # migration files; the single executable leaves black out (it crashed when
    # compiled, see STACK-NOTES), so give Piccolo an empty module there.
    try:
        import black  # noqa: F401
    except Exception:
        sys.modules["black"] = types.ModuleType("black")


def _package_for_folder(folder_path: str) -> str:
    import app

    app_root = Path(app.__file__).resolve().parent
    relative = Path(folder_path).resolve().relative_to(app_root.parent)
    return ".".join(relative.parts)


def _migration_modules_by_package(self, folder_path: str):  # replaces Piccolo's file listing
    package_name = _package_for_folder(folder_path)
    package = importlib.import_module(package_name)
    modules = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package_name}.{info.name}")
        migration_id = getattr(module, "ID", None)
        if migration_id:
            modules[migration_id] = module
    return modules


async def apply_migrations() -> str:
    """Run every pending migration; returns Piccolo's report text."""
    _prepare_piccolo()
    from piccolo.apps.migrations.commands.base import BaseMigrationManager
    from piccolo.apps.migrations.commands.forwards import run_forwards

    BaseMigrationManager.get_migration_modules = _migration_modules_by_package  # type: ignore[method-assign]
    report = io.StringIO()
    # Piccolo's runner writes its bookkeeping outside a transaction: the engine's one exception.
    with contextlib.redirect_stdout(report), engine.migrating():
        result = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not result.success:
        raise MigrationError(f"database migration failed: {result.message}\n{report.getvalue()}")
    return report.getvalue()


def known_migrations() -> dict[str, set[str]]:
    """Every migration id this program ships, per Piccolo app (what a fully migrated database has applied)."""
    _prepare_piccolo()
    from app.db.piccolo_conf import APP_REGISTRY

    known: dict[str, set[str]] = {}
    for app_name, app_config in APP_REGISTRY.app_configs.items():
        known[app_name] = set(_migration_modules_by_package(None, app_config.migrations_folder_path))
    return known
