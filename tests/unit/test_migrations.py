"""The schema the migrations build is the schema the table classes describe.

A fresh database is made only by running the migrations (app.db.lifecycle.open_database);
a reference database is made from the table classes' own CREATE statements. Both are
read back through PRAGMAs and compared: tables, columns, types, nullability, primary
keys, uniqueness, indexes and foreign keys. Changing a table without a migration fails here.
What Piccolo cannot declare (virtual tables such as a full-text index, triggers) a domain
declares beside its tables in EXTRA_SQL; those are compared by their SQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import pytest
from piccolo.columns import Text, Varchar
from piccolo.table import Table

from app.config import Config
from app.db.engine import DB
from app.db.lifecycle import open_database
from app.db.piccolo_conf import APP_REGISTRY

BOOKKEEPING = {"migration"}


def all_tables() -> list[type[Table]]:
    return [table for config in APP_REGISTRY.app_configs.values() for table in config.table_classes]


def describe(connection: sqlite3.Connection, tables: list[str]) -> dict[str, dict]:
    """What SQLite says about each table, in a form that ignores column order and index names."""
    schema = {}
    for table in tables:
        columns = {
            name: {"type": kind.upper(), "notnull": bool(notnull), "pk": bool(pk)}
            for _, name, kind, notnull, _, pk in connection.execute(f'PRAGMA table_info("{table}")')
        }
        indexes = set()
        for _, index_name, unique, _origin, _ in connection.execute(f'PRAGMA index_list("{table}")'):
            indexed = tuple(row[2] for row in connection.execute(f'PRAGMA index_info("{index_name}")'))
            indexes.add((indexed, bool(unique)))
        foreign_keys = {
            (row[3], row[2], row[4], row[6].upper())  # from, table, to, on delete
            for row in connection.execute(f'PRAGMA foreign_key_list("{table}")')
        }
        schema[table] = {"columns": columns, "indexes": indexes, "foreign_keys": foreign_keys}
    return schema


def plain_tables(connection: sqlite3.Connection) -> list[str]:
    """Ordinary tables: not virtual tables, not their shadow tables, not SQLite's own."""
    return [name for name, kind in connection.execute(
        "SELECT name, type FROM pragma_table_list WHERE schema = 'main'")
        if kind == "table" and not name.startswith("sqlite_")]


def extra_objects(connection: sqlite3.Connection) -> dict[str, str]:
    """Virtual tables, triggers and partial indexes by name, with their SQL (spacing and IF NOT EXISTS aside):
    what PRAGMA table_info and index_info do not show."""
    virtual = {name for name, kind in connection.execute(
        "SELECT name, type FROM pragma_table_list WHERE schema = 'main'") if kind == "virtual"}
    found = {}
    for kind, name, sql in connection.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"):
        if kind == "trigger" or name in virtual or (kind == "index" and " WHERE " in sql.upper()):
            found[name] = " ".join(sql.replace(" IF NOT EXISTS", "").split())
    return found


def _build_from_tables(tables: list[type[Table]]) -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    for table in tables:
        for statement in table.create_table().ddl:
            connection.execute(statement)
    for module in {sys.modules[table.__module__] for table in tables}:
        # Composite indexes a domain declares beside its tables (Piccolo columns cannot).
        for name, (table_name, columns) in getattr(module, "EXTRA_INDEXES", {}).items():
            connection.execute(f'CREATE INDEX "{name}" ON "{table_name}" ({", ".join(columns)})')
        # Virtual tables and triggers (a full-text index and what keeps it in step).
        for statement in getattr(module, "EXTRA_SQL", {}).values():
            connection.execute(statement)
    return connection


def schema_from_tables(tables: list[type[Table]]) -> dict[str, dict]:
    return describe(_build_from_tables(tables), [table._meta.tablename for table in tables])


def objects_from_tables(tables: list[type[Table]]) -> dict[str, str]:
    return extra_objects(_build_from_tables(tables))


def differences(migrated: dict[str, dict], expected: dict[str, dict]) -> list[str]:
    problems = []
    for table in sorted(set(expected) - set(migrated)):
        problems.append(f"table {table} has no migration")
    for table in sorted(set(migrated) - set(expected)):
        problems.append(f"table {table} is created by a migration but no table class describes it")
    for table in sorted(set(expected) & set(migrated)):
        have, want = migrated[table], expected[table]
        for column in sorted(set(want["columns"]) | set(have["columns"])):
            if column not in have["columns"]:
                problems.append(f"{table}.{column} has no migration")
            elif column not in want["columns"]:
                problems.append(f"{table}.{column} is in the migrations but not in the table class")
            elif have["columns"][column] != want["columns"][column]:
                problems.append(f"{table}.{column}: migrations give {have['columns'][column]}, "
                                f"the table class {want['columns'][column]}")
        if have["indexes"] != want["indexes"]:
            problems.append(f"{table} indexes (columns, unique): migrations {sorted(have['indexes'])}, "
                            f"table class {sorted(want['indexes'])}")
        if have["foreign_keys"] != want["foreign_keys"]:
            problems.append(f"{table} foreign keys: migrations {sorted(have['foreign_keys'])}, "
                            f"table class {sorted(want['foreign_keys'])}")
    return problems


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("migrations") / "data"
    previous = DB.path
    try:
        asyncio.run(open_database(Config(data_dir=folder)))
    finally:
        DB.path = previous
    return folder / "counterfoil.sqlite"


@pytest.fixture(scope="module")
def migrated_schema(migrated_database: Path) -> dict[str, dict]:
    connection = sqlite3.connect(migrated_database)
    schema = describe(connection, [name for name in plain_tables(connection) if name not in BOOKKEEPING])
    connection.close()
    return schema


@pytest.fixture(scope="module")
def migrated_objects(migrated_database: Path) -> dict[str, str]:
    connection = sqlite3.connect(migrated_database)
    objects = extra_objects(connection)
    connection.close()
    return objects


def test_there_are_tables_to_compare():
    names = {table._meta.tablename for table in all_tables()}
    assert {"client", "catalog_item", "business_settings", "app_user", "app_session", "api_token",
            "login_attempt", "launch_token"} <= names


def test_migrations_build_exactly_the_tables_schema(migrated_schema):
    assert differences(migrated_schema, schema_from_tables(all_tables())) == []


def test_migrations_build_exactly_the_declared_virtual_tables_and_triggers(migrated_objects):
    declared = objects_from_tables(all_tables())
    assert {"document_search", "document_search_update", "document_open_invoice"} <= set(declared)
    assert migrated_objects == declared


def test_every_migration_is_recorded(tmp_path: Path, migrated_schema):
    """Running the migrations a second time changes nothing (each is recorded in `migration`)."""
    folder = tmp_path / "data"
    previous = DB.path
    try:
        asyncio.run(open_database(Config(data_dir=folder)))
        asyncio.run(open_database(Config(data_dir=folder)))
    finally:
        DB.path = previous
    connection = sqlite3.connect(folder / "counterfoil.sqlite")
    recorded = connection.execute("SELECT app_name, name, COUNT(*) FROM migration GROUP BY 1, 2").fetchall()
    assert recorded and all(count == 1 for _, _, count in recorded)
    assert {app for app, _, _ in recorded} >= set(APP_REGISTRY.app_configs)


# The comparison must notice a table changed without a migration, or it proves nothing.

def test_a_new_column_without_migration_is_caught(migrated_schema):
    from app.clients.tables import Client

    class ChangedClient(Client, tablename="client"):
        loyalty_tier = Varchar(length=20, default="")

    problems = differences(migrated_schema, schema_from_tables([ChangedClient]))
    assert "client.loyalty_tier has no migration" in problems


def test_a_changed_type_or_nullability_is_caught(migrated_schema):
    class ChangedItem(Table, tablename="catalog_item"):
        code = Varchar(length=40, unique=True)
        name = Text(null=True)

    problems = "\n".join(differences(migrated_schema, schema_from_tables([ChangedItem])))
    assert "catalog_item.name: migrations give" in problems
    assert "catalog_item.unit_price_e4 is in the migrations but not in the table class" in problems
    assert "catalog_item indexes" in problems  # name lost its UNIQUE


def test_a_new_table_without_migration_is_caught(migrated_schema):
    class Gadget(Table, tablename="gadget"):
        name = Varchar()

    assert "table gadget has no migration" in differences(migrated_schema, schema_from_tables([Gadget]))


def test_a_changed_trigger_or_a_missing_one_is_caught(migrated_objects):
    from app.documents import tables as documents_tables

    declared = objects_from_tables(all_tables())
    changed = dict(documents_tables.EXTRA_SQL)
    changed["document_search_update"] = changed["document_search_update"].replace(
        "AFTER UPDATE OF search_text", "AFTER UPDATE OF number")
    changed["document_open_invoice"] = changed["document_open_invoice"].replace("'sent'", "'sent', 'draft'")
    changed["document_search_touch"] = "CREATE TRIGGER document_search_touch AFTER UPDATE ON client BEGIN SELECT 1; END"
    original = documents_tables.EXTRA_SQL
    documents_tables.EXTRA_SQL = changed
    try:
        now_declared = objects_from_tables(all_tables())
    finally:
        documents_tables.EXTRA_SQL = original
    assert now_declared != declared
    assert now_declared != migrated_objects
    assert set(now_declared) - set(migrated_objects) == {"document_search_touch"}
    assert {name for name in migrated_objects if now_declared.get(name) != migrated_objects[name]} == {
        "document_search_update", "document_open_invoice"}
