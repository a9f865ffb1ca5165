"""Every write goes through `write_transaction()`: one outside it raises at once (app/db/engine.py).

Before, Piccolo ran a statement made outside a transaction on a connection of its own and
committed it there, beside the single writer, without a word.
"""

from __future__ import annotations

import sqlite3

import pytest

from app.clients.tables import Client
from app.config import Config
from app.db import engine
from app.db.engine import DB, WriteOutsideTransaction, statement_kind, write_transaction
from tests.conftest import run
from tests.http.support import count, make_client, query


@pytest.fixture
def client_id(config: Config) -> int:
    return make_client(name="Maple Bakery").id


def names(config: Config) -> list[str]:
    return [name for (name,) in query(config, "SELECT name FROM client ORDER BY id")]


def test_an_orm_update_outside_write_transaction_raises(config: Config, client_id: int):
    with pytest.raises(WriteOutsideTransaction, match="outside write_transaction"):
        run(Client.update({Client.name: "Birch Studio"}).where(Client.id == client_id).run())
    assert names(config) == ["Maple Bakery"]


@pytest.mark.parametrize("statement", [
    "UPDATE client SET name = 'Birch Studio'",
    "DELETE FROM client",
    "INSERT INTO client (name) VALUES ('Birch Studio')",
    "CREATE TABLE scratch (id INTEGER)",
    "PRAGMA user_version = 7",
])
def test_raw_statements_that_write_outside_write_transaction_raise(config: Config, client_id: int, statement: str):
    with pytest.raises(WriteOutsideTransaction):
        run(DB.run_ddl(statement))
    assert names(config) == ["Maple Bakery"]
    assert query(config, "PRAGMA user_version") == [(0,)]
    assert count(config, "sqlite_master", "name = 'scratch'") == 0


def test_orm_inserts_and_deletes_outside_write_transaction_raise(config: Config, client_id: int):
    with pytest.raises(WriteOutsideTransaction):
        run(Client.insert(Client(name="Birch Studio", currency="CAD")).run())
    with pytest.raises(WriteOutsideTransaction):
        run(Client.delete().where(Client.id == client_id).run())
    assert names(config) == ["Maple Bakery"]


def test_the_same_update_inside_write_transaction_writes(config: Config, client_id: int):
    async def rename() -> None:
        async with write_transaction():
            await Client.update({Client.name: "Birch Studio"}).where(Client.id == client_id)

    run(rename())
    assert names(config) == ["Birch Studio"]


def test_reads_and_reporting_pragmas_still_run_outside(config: Config, client_id: int):
    assert run(Client.select(Client.name).run()) == [{"name": "Maple Bakery"}]
    assert run(DB.run_ddl("WITH c AS (SELECT name FROM client) SELECT name FROM c")) == [{"name": "Maple Bakery"}]
    assert run(DB.run_ddl("PRAGMA foreign_keys")) == [{"foreign_keys": 1}]
    assert run(DB.run_ddl("PRAGMA table_info(client)"))


def test_a_write_dressed_as_a_read_fails_on_the_query_only_reader(config: Config, client_id: int):
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        run(DB.run_ddl("WITH doomed AS (SELECT id FROM client) DELETE FROM client WHERE id IN doomed"))
    assert names(config) == ["Maple Bakery"]


def test_the_migration_runner_may_write_outside_a_transaction(config: Config):
    """The one documented exception: Piccolo's runner records its migrations outside its transactions."""
    async def bump() -> None:
        with engine.migrating():
            await DB.run_ddl("PRAGMA user_version = 7")
        with pytest.raises(WriteOutsideTransaction):   # and only inside migrating()
            await DB.run_ddl("PRAGMA user_version = 8")

    run(bump())
    assert query(config, "PRAGMA user_version") == [(7,)]


@pytest.mark.parametrize(("statement", "kind"), [
    ("SELECT 1", "read"),
    ("  select * from client", "read"),
    ("(SELECT 1) UNION (SELECT 2)", "read"),
    ('WITH c AS (SELECT 1) SELECT * FROM c', "read"),
    ("PRAGMA data_version", "pragma"),
    ("pragma table_info(client)", "pragma"),
    ("PRAGMA user_version = 3", "write"),
    ("UPDATE client SET name = 'x'", "write"),
    ("INSERT INTO client DEFAULT VALUES", "write"),
    ("DELETE FROM client", "write"),
    ("CREATE INDEX i ON client (name)", "write"),
    ("SELECTED", "write"),
    ("", "write"),
])
def test_statement_kind(statement: str, kind: str):
    assert statement_kind(statement) == kind
