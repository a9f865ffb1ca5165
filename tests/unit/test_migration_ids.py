"""app/db/migration_ids.py lists every migration module's id (and a squash's replaced ids): a start reads
the list instead of importing the modules (issue 21, the double-click)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.db.migrate import discovered_migrations, known_migrations, squashed_migrations
from app.db.migration_ids import MIGRATIONS

ROOT = Path(__file__).resolve().parents[2]


def test_the_list_of_migration_ids_matches_the_migration_modules():
    assert discovered_migrations() == MIGRATIONS, (
        "app/db/migration_ids.py is out of date: run `PYTHONPATH=$PWD .venv/bin/python build/migration_ids.py`")


def test_the_list_is_what_build_migration_ids_writes():
    sys.path.insert(0, str(ROOT / "build"))
    try:
        import migration_ids as writer
    finally:
        sys.path.remove(str(ROOT / "build"))
    assert writer.render(discovered_migrations()) == (ROOT / "app" / "db" / "migration_ids.py").read_text("utf-8")


def test_known_and_squashed_migrations_come_from_the_list():
    assert known_migrations() == {app_name: set(ids) for app_name, ids in discovered_migrations().items()}
    assert squashed_migrations() == {
        app_name: {migration_id: frozenset(replaces) for migration_id, replaces in ids.items() if replaces}
        for app_name, ids in discovered_migrations().items()}
    assert any(squashed_migrations().values())   # the squashes are in it


OPEN = """
import asyncio, json, sys
from app.config import Config
from app.db.lifecycle import close_database, open_database
async def main():
    await open_database(Config.for_data_dir(sys.argv[1]), check_may_wait=True)
    await close_database()
asyncio.run(main())
print(json.dumps(sorted(name for name in sys.modules if ".piccolo_migrations." in name)))
"""


def test_opening_an_up_to_date_database_imports_no_migration(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def open_it() -> list[str]:
        done = subprocess.run([sys.executable, "-c", OPEN, str(tmp_path / "data")], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=True)
        return json.loads(done.stdout.splitlines()[-1])

    assert len(open_it()) == sum(len(ids) for ids in MIGRATIONS.values())   # a new database: each one runs
    assert open_it() == []
