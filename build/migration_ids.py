"""Write app/db/migration_ids.py: every migration's id per Piccolo app, and the ids a squashed one replaces.

Run it after adding a migration (`piccolo migrations new ... --auto`, build/audit_migration.py):
    PYTHONPATH=$PWD .venv/bin/python build/migration_ids.py
tests/unit/test_migration_ids.py fails until the list matches the migration modules.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "app" / "db" / "migration_ids.py"

HEADER = '''"""Every migration this program ships, per Piccolo app: its id -> the ids it replaces (a squash), or ().

Written by build/migration_ids.py from the migration modules (tests/unit/test_migration_ids.py checks it).
A start reads the ids here instead of importing every migration module (issue 21, the double-click): the
modules are imported only when a database lacks one of them (app.db.migrate.apply_migrations).
"""

MIGRATIONS: dict[str, dict[str, tuple[str, ...]]] = {
'''


def render(migrations: dict[str, dict[str, tuple[str, ...]]]) -> str:
    lines = [HEADER]
    for app_name, ids in migrations.items():
        lines.append(f"    {app_name!r}: {{\n")
        for migration_id, replaces in ids.items():
            if not replaces:
                lines.append(f"        {migration_id!r}: (),\n")
                continue
            lines.append(f"        {migration_id!r}: (\n")
            lines.extend(f"            {replaced!r},\n" for replaced in replaces)
            lines.append("        ),\n")
        lines.append("    },\n")
    lines.append("}\n")
    return "".join(lines).replace("'", '"')


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from app.db.migrate import discovered_migrations

    text = render(discovered_migrations())
    if TARGET.exists() and TARGET.read_text(encoding="utf-8") == text:
        print(f"{TARGET.relative_to(ROOT)} is up to date")
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
