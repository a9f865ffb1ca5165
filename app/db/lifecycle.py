"""Open the user's database: private folder and file, pragmas, migrations."""

from __future__ import annotations

import os

from app.config import Config
from app.db import engine
from app.db.migrate import apply_migrations
from app.paths import ensure_private_dir, ensure_private_file


def prepare_files(config: Config) -> None:
    ensure_private_dir(config.data_dir)
    ensure_private_dir(config.attachments_dir)
    ensure_private_file(config.database_path)
    engine.configure(config.database_path)
    # WAL side files inherit the umask; keep them private too.
    for suffix in ("-wal", "-shm"):
        side = config.database_path.with_name(config.database_path.name + suffix)
        if side.exists():
            os.chmod(side, 0o600)


async def open_database(config: Config) -> None:
    old_umask = os.umask(0o077)
    try:
        prepare_files(config)
        await apply_migrations()
    finally:
        os.umask(old_umask)
