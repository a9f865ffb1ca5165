"""The schema the migrations build is the schema the table classes describe.

A fresh database is made only by running the migrations (app.db.lifecycle.open_database);
a reference database is made from the table classes' own CREATE statements. Both are
read back through PRAGMAs and compared: tables, columns, types, nullability, primary
keys, uniqueness, indexes, foreign keys and CHECK constraints. Changing a table without a
migration fails here. What Piccolo cannot declare on SQLite a domain declares beside its
tables: composite indexes (EXTRA_INDEXES), virtual tables such as a full-text index and
triggers (EXTRA_SQL, compared by their SQL), CHECK constraints (CHECKS, see app.db.constraints).

The migrations were squashed to one generated migration per app (plus, where needed, one
hand-written migration after it); a database from before the squash, once migrated, must
have exactly the schema of a fresh one.
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
from app.db.constraints import checks_in, with_checks
from app.db.engine import DB
from app.db.lifecycle import open_database
from app.db.migrate import MigrationError, known_migrations, names_after_squash, squashed_migrations
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
        [(create_sql,)] = connection.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                             (table,)).fetchall()
        schema[table] = {"columns": columns, "indexes": indexes, "foreign_keys": foreign_keys,
                         "checks": checks_in(create_sql)}
    return schema


def plain_tables(connection: sqlite3.Connection) -> list[str]:
    """Ordinary tables: not virtual tables, not their shadow tables, not SQLite's own."""
    return [name for name, kind in connection.execute(
        "SELECT name, type FROM pragma_table_list WHERE schema = 'main'")
        if kind == "table" and not name.startswith("sqlite_")]


def extra_objects(connection: sqlite3.Connection) -> dict[str, str]:
    """Virtual tables, views, triggers and partial indexes by name, with their SQL (spacing and IF NOT EXISTS
    aside): what PRAGMA table_info and index_info do not show."""
    virtual = {name for name, kind in connection.execute(
        "SELECT name, type FROM pragma_table_list WHERE schema = 'main'") if kind == "virtual"}
    found = {}
    for kind, name, sql in connection.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"):
        if kind in ("trigger", "view") or name in virtual or (kind == "index" and " WHERE " in sql.upper()):
            found[name] = " ".join(sql.replace(" IF NOT EXISTS", "").split())
    return found


def _build_from_tables(tables: list[type[Table]]) -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    for table in tables:
        create_table, *indexes = table.create_table().ddl
        # CHECK constraints a domain declares beside its tables (Piccolo's cannot be added on SQLite).
        checks = getattr(sys.modules[table.__module__], "CHECKS", {}).get(table._meta.tablename, {})
        for statement in [with_checks(create_table, checks), *indexes]:
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
        for name in sorted(set(have["checks"]) | set(want["checks"])):
            if have["checks"].get(name) != want["checks"].get(name):
                problems.append(f"{table} CHECK {name}: migrations {have['checks'].get(name)!r}, "
                                f"declared {want['checks'].get(name)!r}")
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


def test_a_changed_or_missing_check_is_caught(migrated_schema):
    from app.documents import tables as documents_tables

    original = documents_tables.CHECKS
    changed = {"document": dict(original["document"])}
    changed["document"]["document_paid_not_negative"] = "paid_minor > 0"
    del changed["document"]["document_issued_has_number"]
    changed["document"]["document_due_after_issue"] = "due_date >= issue_date"
    documents_tables.CHECKS = changed
    try:
        problems = "\n".join(differences(migrated_schema, schema_from_tables(all_tables())))
    finally:
        documents_tables.CHECKS = original
    assert "document CHECK document_paid_not_negative: migrations 'paid_minor >= 0', declared 'paid_minor > 0'" \
        in problems
    assert "document CHECK document_issued_has_number: migrations \"status = 'draft' OR number IS NOT NULL\", " \
           "declared None" in problems
    assert "document CHECK document_due_after_issue: migrations None" in problems


def test_the_books_are_guarded_by_the_migrated_schema(migrated_schema, migrated_objects):
    """The constraints and triggers of the issue (each is proven to fire in tests/service/test_books_guards.py)."""
    assert {"document_paid_not_negative", "document_credited_not_negative", "document_paid_and_credited_within_total",
            "document_issued_total_not_negative", "document_issued_has_number"} == set(
        migrated_schema["document"]["checks"])
    assert migrated_schema["document"]["checks"]["document_paid_and_credited_within_total"] == \
        "paid_minor + credited_minor = 0 OR paid_minor + credited_minor <= total_minor"
    assert set(migrated_schema["payment"]["checks"]) == {
        "payment_amount_positive", "payment_applied_not_negative", "payment_excess_not_negative",
        "payment_amount_is_applied_plus_excess"}
    assert set(migrated_schema["credit_application"]["checks"]) == {"credit_application_amount_positive"}
    assert set(migrated_schema["refund"]["checks"]) == {"refund_amount_positive"}
    assert set(migrated_schema["ledger_entry"]["checks"]) == {
        "ledger_entry_debit_not_negative", "ledger_entry_credit_not_negative", "ledger_entry_amount_not_negative"}
    assert {"ledger_entry_no_update", "ledger_entry_no_delete"} <= set(migrated_objects)
    assert "BEFORE UPDATE ON ledger_entry" in migrated_objects["ledger_entry_no_update"]
    assert "BEFORE DELETE ON ledger_entry" in migrated_objects["ledger_entry_no_delete"]
    # The audit trail: append-only, and every business table records its changes into it (tests/unit/test_audit_*).
    assert "BEFORE DELETE ON audit_entry" in migrated_objects["audit_entry_no_delete"]
    assert "BEFORE UPDATE ON audit_entry" in migrated_objects["audit_entry_no_update"]
    for table in ("document", "payment", "ledger_entry", "client", "app_user", "business_settings"):
        assert {f"audit_{table}_insert", f"audit_{table}_update", f"audit_{table}_delete"} <= set(migrated_objects)


def test_checks_are_read_back_from_the_create_statement():
    sql = with_checks('CREATE TABLE IF NOT EXISTS "t" ("a" INTEGER, "b" TEXT DEFAULT \'(\')',
                      {"t_a": "a >= 0 AND (a < 10 OR b = ')')", "t_b": "b IS NOT NULL"}, table_name="t2")
    assert sql.startswith('CREATE TABLE "t2" (')
    assert checks_in(sql) == {"t_a": "a >= 0 AND (a < 10 OR b = ')')", "t_b": "b IS NOT NULL"}
    sqlite3.connect(":memory:").execute(sql)  # valid SQL


# -- the squash ---------------------------------------------------------------------------------

def _managers(app_name: str) -> list:
    """Each migration of an app, as the MigrationManager its forwards() builds (nothing is run)."""
    from app.db.migrate import _modules_by_app

    modules = _modules_by_app()[app_name]
    return [asyncio.run(modules[migration_id].forwards()) for migration_id in sorted(modules)]


def test_each_app_starts_with_its_generated_squash_and_later_migrations_only_add():
    """The first migration of each app is the generated squash; each later one either adds columns or
    tables (generated, nothing raw, nothing altered) or is hand-written raw SQL that changes no column."""
    for app_name in APP_REGISTRY.app_configs:
        generated, *later = _managers(app_name)
        assert generated.add_tables and not generated.raw, app_name
        for manager in later:
            adds = bool(manager.add_tables or manager.add_columns.add_columns)
            assert not manager.alter_columns.alter_columns, (app_name, manager.migration_id)
            assert adds != bool(manager.raw), (app_name, manager.migration_id)


def test_squashed_migrations_replace_only_ids_no_longer_shipped():
    known = known_migrations()
    squashed = squashed_migrations()
    assert {app_name for app_name, replacements in squashed.items() if replacements} == {
        "clients", "documents", "ledger", "settings"}
    for app_name, replacements in squashed.items():
        for squashed_id, replaced in replacements.items():
            assert squashed_id in known[app_name]
            assert not replaced & known[app_name], app_name
            assert max(replaced) < squashed_id  # ids are timestamps: the squash came after what it replaces


SQUASHED = {"documents": {"D9": frozenset({"D1", "D2", "D3"})}}


def test_a_database_from_before_the_squash_names_the_squashed_migration():
    applied = {"documents": ["D1", "D2", "D3"], "clients": ["C1"]}
    assert names_after_squash(applied, SQUASHED) == {"documents": ["D9"], "clients": ["C1"]}
    # Once renamed, a second pass changes nothing; later migrations of the app stay as they are.
    assert names_after_squash({"documents": ["D9", "D10"]}, SQUASHED) == {"documents": ["D10", "D9"]}


def test_a_database_that_ran_only_some_of_the_squashed_migrations_is_refused():
    with pytest.raises(MigrationError, match=r"only some of the documents migrations squashed into D9.*missing D3"):
        names_after_squash({"documents": ["D1", "D2"]}, SQUASHED)


def _database_before_the_squash(folder: Path) -> Path:
    """The database of the backup made before the squash (tests/vectors/backup/before-squash.counterfoil)."""
    import io
    import json
    import tarfile

    from app.backup.bundle import BundleReader
    from tests.vectors.backup import make_before_squash

    facts = json.loads(make_before_squash.FACTS.read_text(encoding="utf-8"))
    with make_before_squash.BUNDLE.open("rb") as handle:
        reader = BundleReader(handle, facts["passphrase"])
        payload = b"".join(iter(lambda: reader.read(1 << 20), b""))
    with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
        member = tar.extractfile("counterfoil.sqlite")
        assert member is not None
        folder.mkdir(mode=0o700)
        (folder / "counterfoil.sqlite").write_bytes(member.read())
    return folder / "counterfoil.sqlite"


def test_a_database_from_before_the_squash_gets_exactly_the_schema_of_a_fresh_one(tmp_path, migrated_database):
    database = _database_before_the_squash(tmp_path / "old")
    connection = sqlite3.connect(database)
    before = {(app, name) for app, name in connection.execute("SELECT app_name, name FROM migration")}
    connection.close()
    assert ("documents", "2026-11-21T05:45:00:000000") in before
    previous = DB.path
    try:
        asyncio.run(open_database(Config(data_dir=database.parent)))
    finally:
        DB.path = previous
    old, fresh = sqlite3.connect(database), sqlite3.connect(migrated_database)
    try:
        tables = [name for name in plain_tables(fresh) if name not in BOOKKEEPING]
        assert sorted(plain_tables(old)) == sorted(plain_tables(fresh))
        assert describe(old, tables) == describe(fresh, tables)
        assert extra_objects(old) == extra_objects(fresh)
        recorded = {(app, name) for app, name in old.execute("SELECT app_name, name FROM migration")}
        assert recorded == {(app, name) for app, ids in known_migrations().items() for name in ids}
        assert old.execute("PRAGMA foreign_key_check").fetchall() == []
        assert old.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # Its rows got one sealed "baseline" entry each: the trail accounts for all of them, and verifies.
        from app.audit import trail
        from app.audit.tables import AUDITED

        baseline = dict(old.execute("SELECT entity, COUNT(*) FROM audit_entry WHERE action = 'baseline' "
                                    "AND hash IS NOT NULL AND actor = 'system:migration' GROUP BY entity").fetchall())
        rows = {table: old.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] for table in AUDITED}
        assert baseline == {table: count for table, count in rows.items() if count}
        assert baseline["document"] > 10 and baseline["payment"] > 1
        verification = trail.verify(old, None)
        assert verification.ok, verification.problems()
    finally:
        old.close()
        fresh.close()


# -- API token scopes (issue 12, item 4) -----------------------------------------------------

def test_tokens_from_before_scopes_keep_their_power(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A data folder from before scopes: the owner's tokens become `owner`, a staff user's `write` (what each
    could do before), and the database then refuses any other scope."""
    from app.auth.piccolo_migrations import auth_2026_12_05t22_44_45_923124 as scope_columns
    from app.auth.piccolo_migrations import auth_2026_12_05t22_44_46_000000 as old_tokens_keep_power
    from app.db import migrate

    every_migration = migrate._migration_modules_by_package
    assert old_tokens_keep_power.ID > scope_columns.ID

    def before_scopes(self, folder_path):
        # Every migration from the scopes on (the audit trail's came later still) is not there yet.
        return {key: module for key, module in every_migration(self, folder_path).items() if key < scope_columns.ID}

    folder = tmp_path / "data"
    previous = DB.path
    try:
        monkeypatch.setattr(migrate, "_migration_modules_by_package", before_scopes)
        asyncio.run(open_database(Config(data_dir=folder)))
        connection = sqlite3.connect(folder / "counterfoil.sqlite")
        with connection:
            assert "scope" not in {row[1] for row in connection.execute("PRAGMA table_info(api_token)")}
            connection.executemany(
                "INSERT INTO app_user (id, email, name, role, password_hash, active, created_at) "
                "VALUES (?, ?, '', ?, 'x', 1, '2026-11-01T00:00:00+00:00')",
                [(1, "owner@example.com", "owner"), (2, "staff@example.com", "staff")])
            connection.executemany(
                "INSERT INTO api_token (name, token_hash, prefix, user, created_at) "
                "VALUES (?, ?, 'cf_x', ?, '2026-11-01T00:00:00+00:00')",
                [("owner's backup script", "a" * 64, 1), ("staff's invoicing script", "b" * 64, 2)])
        connection.close()
        monkeypatch.undo()
        asyncio.run(open_database(Config(data_dir=folder)))
    finally:
        DB.path = previous
    connection = sqlite3.connect(folder / "counterfoil.sqlite")
    try:
        assert connection.execute("SELECT name, scope, valid_until FROM api_token ORDER BY id").fetchall() == [
            ("owner's backup script", "owner", None), ("staff's invoicing script", "write", None)]
        with pytest.raises(sqlite3.IntegrityError, match="api_token_scope_known"), connection:
            connection.execute("UPDATE api_token SET scope = 'admin'")
    finally:
        connection.close()
