"""Apply Piccolo migrations at start, from the repository's migration packages.

Piccolo discovers migrations by listing `.py` files in each app's folder and
importing them by bare name. Inside the Nuitka single file there are no `.py`
files to list, so we discover them as modules of their package instead
(`pkgutil`, which compiled packages support) and keep the rest of Piccolo's
runner and its `migration` bookkeeping table as they are.

Squashed migrations: when the migrations of an app are squashed into one, that one lists the
ids it replaces (`REPLACES`). A database that ran all of them has its schema, so before
running anything the `migration` table of such a database (an older data folder, or a backup
being restored) is rewritten to name the squashed migration instead; the migrations after it
then run as on any database.

Foreign keys are off while migrations run, as SQLite's procedure for a table rebuild asks
(app.db.constraints): with them on, dropping a table that others refer to would delete or
refuse their rows. `PRAGMA foreign_key_check` after the last migration proves nothing broke.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import pkgutil
import sys
import types
from collections.abc import Iterable, Mapping
from pathlib import Path

from app.audit import logic as audit_logic
from app.audit import service as audit_service
from app.db import engine
from app.db.logic import SchemaComparison, compare_schema

PICCOLO_CONF = "app.db.piccolo_conf"


class MigrationError(RuntimeError):
    pass


def _prepare_piccolo() -> None:
    os.environ.setdefault("PICCOLO_CONF", PICCOLO_CONF)
    # piccolo.conf.apps imports black at top level only to format generated migration files, which the
    # program never writes: an empty module stands in for it (the single executable leaves black out,
    # it crashed when compiled, see STACK-NOTES; where it is installed, importing it cost 0.3 s a start).
    # Piccolo's own command line (`piccolo migrations new`) does not come here and gets the real one.
    sys.modules.setdefault("black", types.ModuleType("black"))


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
    """Run every pending migration; returns Piccolo's report text ("" when none was pending)."""
    _prepare_piccolo()
    from app.db.engine import DB

    applied = await _name_squashed_migrations()
    if all(ids <= applied.get(app_name, set()) for app_name, ids in known_migrations().items()):
        return ""   # the usual start: nothing to run, nothing to check
    from piccolo.apps.migrations.commands.base import BaseMigrationManager
    from piccolo.apps.migrations.commands.forwards import run_forwards

    # Piccolo offers no hook for where migrations live: its method is replaced, on purpose.
    BaseMigrationManager.get_migration_modules = _migration_modules_by_package  # type: ignore[method-assign]
    writer = await DB._shared_writer()   # every migration's transaction runs on it
    await writer.execute("PRAGMA foreign_keys = OFF")
    report = io.StringIO()
    try:
        # Piccolo's runner writes its bookkeeping outside a transaction: the engine's one exception.
        # The migrations' own changes to audited rows are recorded as the schema upgrade's.
        with contextlib.redirect_stdout(report), engine.migrating(), audit_service.acting(audit_logic.MIGRATION):
            result = await run_forwards(app_name="all", migration_id="all", fake=False)
        async with writer.execute("PRAGMA foreign_key_check") as cursor:
            broken = list(await cursor.fetchall())
    finally:
        await writer.execute("PRAGMA foreign_keys = ON")
    if not result.success:
        raise MigrationError(f"database migration failed: {result.message}\n{report.getvalue()}")
    if broken:
        raise MigrationError(f"database migration left {len(broken)} broken reference(s), the first in "
                             f"{broken[0]['table']} row {broken[0]['rowid']}")
    return report.getvalue()


def known_migrations() -> dict[str, set[str]]:
    """Every migration id this program ships, per Piccolo app (what a fully migrated database has applied).
    From the list written beside the migrations (app.db.migration_ids), not from importing them: a start
    on an up-to-date database needs only their ids (importing the ~100 modules cost ~40 ms of every start)."""
    from app.db.migration_ids import MIGRATIONS

    return {app_name: set(migrations) for app_name, migrations in MIGRATIONS.items()}


def discovered_migrations() -> dict[str, dict[str, tuple[str, ...]]]:
    """Per app, each migration module's id and the ids it replaces, from the modules themselves: what
    app.db.migration_ids must say (a test compares them; build/migration_ids.py writes it)."""
    return {app_name: {migration_id: tuple(sorted(getattr(module, "REPLACES", None) or ()))
                       for migration_id, module in sorted(modules.items())}
            for app_name, modules in _modules_by_app().items()}


def _modules_by_app() -> dict[str, dict[str, types.ModuleType]]:
    _prepare_piccolo()
    from app.db.piccolo_conf import APP_REGISTRY

    return {app_name: _migration_modules_by_package(None, str(app_config.migrations_folder_path))
            for app_name, app_config in APP_REGISTRY.app_configs.items()}


def squashed_migrations() -> dict[str, dict[str, frozenset[str]]]:
    """Per app: each squashed migration's id -> the ids it replaces."""
    from app.db.migration_ids import MIGRATIONS

    return {app_name: {migration_id: frozenset(replaces) for migration_id, replaces in migrations.items() if replaces}
            for app_name, migrations in MIGRATIONS.items()}


def names_after_squash(applied: Mapping[str, Iterable[str]],
                       squashed: Mapping[str, Mapping[str, frozenset[str]]]) -> dict[str, list[str]]:
    """The migrations a database applied, as this program names them: the ids a squashed migration
    replaces, all applied, become its id. Only some of them applied is a schema no release had
    (a development build between them): refused."""
    named: dict[str, list[str]] = {}
    for app_name, ids in applied.items():
        have = set(ids)
        for squashed_id, replaced in squashed.get(app_name, {}).items():
            if replaced <= have:
                have = (have - replaced) | {squashed_id}
            elif replaced & have:
                raise MigrationError(
                    f"the database ran only some of the {app_name} migrations squashed into {squashed_id} "
                    f"(missing {', '.join(sorted(replaced - have))}): it was made by a development build, "
                    "and this version cannot upgrade it")
        named[app_name] = sorted(have)
    return named


def schema_against_program(applied: Mapping[str, Iterable[str]]) -> tuple[SchemaComparison, dict[str, list[str]]]:
    """How a database's applied migrations (its `migration` table, or a backup's manifest) compare with this
    program's, once named as this program names them (`names_after_squash`); also returns those names.

    The one rule for "made by a newer Counterfoil": the server and `counterfoil check` refuse such a
    database at start (app.db.lifecycle), a restore refuses such a backup (app.backup.service).
    Raises MigrationError for a database between squashes (a development build's)."""
    named = names_after_squash(applied, squashed_migrations())
    return compare_schema(named, known_migrations()), named


async def _name_squashed_migrations() -> dict[str, set[str]]:
    """Rewrite the `migration` table of a database from before a squash (see the module's docstring);
    returns the migrations the database has applied, as this program names them."""
    from piccolo.apps.migrations.tables import Migration
    from piccolo.engine.sqlite import TransactionType

    from app.db.engine import DB

    if not await Migration.table_exists():
        return {}
    applied: dict[str, set[str]] = {}
    for row in await Migration.select(Migration.app_name, Migration.name):
        applied.setdefault(row["app_name"], set()).add(row["name"])
    named = {app_name: set(ids) for app_name, ids in names_after_squash(applied, squashed_migrations()).items()}
    if named == applied:
        return named
    # Not write_transaction(): like the migrations themselves, this runs before the server writes,
    # or during a restore that already holds the writer (engine.writes_paused), whose lock would wait forever.
    async with DB.transaction(transaction_type=TransactionType.immediate):
        for app_name, ids in applied.items():
            gone, new = ids - named[app_name], named[app_name] - ids
            if gone:
                await Migration.delete().where((Migration.app_name == app_name) & Migration.name.is_in(list(gone)))
            for migration_id in sorted(new):
                await Migration.insert(Migration(name=migration_id, app_name=app_name))
    return named
