"""Open the user's database: private folder and file, pragmas, migrations."""

from __future__ import annotations

import os
import sqlite3

from app.audit import service as audit_service
from app.config import Config
from app.db import engine
from app.db.migrate import apply_migrations
from app.paths import ensure_private_dir, ensure_private_file

# The invoice search index is an FTS5 table with the trigram tokenizer, which came with SQLite 3.34.
MIN_SQLITE = (3, 34, 0)


class SQLiteTooOld(RuntimeError):
    """The SQLite library Python was built with cannot hold Counterfoil's database."""


def check_sqlite(version: tuple[int, int, int] = sqlite3.sqlite_version_info) -> None:
    if version < MIN_SQLITE:
        raise SQLiteTooOld(
            f"this Python uses SQLite {'.'.join(map(str, version))}, and Counterfoil needs SQLite "
            f"{'.'.join(map(str, MIN_SQLITE))} or newer (its search index). Install a newer Python "
            "(python.org builds include a recent SQLite) or use the single-file Counterfoil program.")


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


async def open_database(config: Config, *, migrate: bool = True) -> None:
    """Point the engine at the data folder's database, made private, and bring its schema up to date.

    `migrate=False` leaves the schema as it is: for a process that only writes a row while the
    server holding the folder's instance lock runs (the second launch's launch token). That
    server migrated the database at its start; no other program may change it under it.
    """
    check_sqlite()
    # Every transaction on the writer seals the audit entries it wrote (app.audit.service).
    engine.install_transaction_hooks(audit_service.HOOKS)
    old_umask = os.umask(0o077)
    try:
        prepare_files(config)
        if migrate:
            await apply_migrations()
    finally:
        os.umask(old_umask)
