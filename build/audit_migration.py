"""Write the hand-written migration that puts the audit trail's triggers on one app's tables.

    PYTHONPATH=$PWD python build/audit_migration.py documents 2026-12-05T23:30:05:000000

prints a migration module (save it under app/<app>/piccolo_migrations/). It creates the triggers
the app's tables.py declares (`audited(...)` in EXTRA_SQL) and, for a database that already holds
rows, one "baseline" entry per row. The statements are written out in the file, not imported: a
migration is the record of what was done (tests/unit/test_migrations.py proves they agree with the
tables). When a later migration adds a column to an audited table, it must drop and re-create that
table's three triggers the same way (this script prints them; keep only that table's part).
"""

from __future__ import annotations

import sys
import textwrap

from app.audit.logic import baseline_statement, trigger_names
from app.audit.tables import AUDITED


def main(app_name: str, migration_id: str) -> str:
    from app.db.piccolo_conf import APP_REGISTRY

    config = APP_REGISTRY.app_configs[app_name]
    module = sys.modules[config.table_classes[0].__module__]
    declared = getattr(module, "EXTRA_SQL", {})
    creates: list[str] = []
    baselines: list[str] = []
    drops: list[str] = []
    for table in config.table_classes:
        spec = AUDITED.get(table._meta.tablename)
        if spec is None:
            continue
        names = trigger_names(spec.table)
        creates.extend(declared[name] for name in names)
        baselines.append(baseline_statement(spec))
        drops.extend(f"DROP TRIGGER IF EXISTS {name}" for name in names)
    tables = ", ".join(t._meta.tablename for t in config.table_classes if t._meta.tablename in AUDITED)

    def listing(statements: list[str]) -> str:
        return "[\n" + "".join(f"    {statement!r},\n" for statement in statements) + "]"

    return f'''"""Hand-written (build/audit_migration.py): the audit trail's triggers on {tables}.

Every insert, change and deletion of their rows writes an entry in audit_entry, in the writing
transaction (app.audit). Rows already there get one "baseline" entry each, so that from here on
the trail accounts for every row (`counterfoil check` compares the two).

Copied here, not imported from app.{app_name}.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "{migration_id}"
VERSION = "1.38.0"
DESCRIPTION = "audit trail triggers on {tables}; baseline entries for the rows already there"

CREATE = {listing(creates)}

BASELINE = {listing(baselines)}

DROP = {listing(drops)}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="{app_name}", description=DESCRIPTION)

    async def create():
        from app.db.engine import DB

        for statement in [*CREATE, *BASELINE]:
            await DB.run_ddl(statement)

    async def drop():
        from app.db.engine import DB

        for statement in DROP:
            await DB.run_ddl(statement)

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
'''


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(textwrap.dedent(__doc__ or ""), file=sys.stderr)
        raise SystemExit(2)
    print(main(sys.argv[1], sys.argv[2]), end="")
