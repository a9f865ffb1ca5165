"""CHECK constraints on SQLite: declared beside the tables, added by rebuilding the table.

Piccolo's `Check` adds itself with `ALTER TABLE ... ADD CONSTRAINT`, which SQLite does not
have. So a domain declares its constraints in its tables.py (`CHECKS`: table name ->
constraint name -> SQL expression), a hand-written migration adds them with `add_checks`,
and tests/unit/test_migrations.py proves the migrated tables carry exactly the declared ones.

`add_checks` follows SQLite's own procedure for a change ALTER TABLE cannot make
(https://www.sqlite.org/lang_altertable.html#otheralter): create the new table, copy the
rows, drop the old one, rename, re-create its indexes and triggers. It runs inside the
migration's transaction, with foreign keys off (app.db.migrate turns them off around the
migrations and runs `PRAGMA foreign_key_check` after): with them on, dropping a table that
others reference would delete or refuse its rows' children. The constraints are checked on
every copied row, so data that breaks one stops the migration (and a restore of it) whole.

Constraints are named: SQLite's error then says which rule a write broke
("CHECK constraint failed: document_paid_and_credited_within_total").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from piccolo.querystring import QueryString

from app.db.engine import DB

_TABLE_HEADER = re.compile(r'^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:"[^"]+"|\w+)', re.IGNORECASE)
_NAMED_CHECK = re.compile(r'CONSTRAINT\s+"([^"]+)"\s+CHECK\s*\(', re.IGNORECASE)


def normalised(expression: str) -> str:
    return " ".join(expression.split())


def checks_in(create_sql: str) -> dict[str, str]:
    """The named CHECK constraints of a CREATE TABLE statement: name -> expression (spacing normalised)."""
    found = {}
    for match in _NAMED_CHECK.finditer(create_sql):
        depth, position, quote = 1, match.end(), ""
        while depth:
            char = create_sql[position]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            position += 1
        found[match.group(1)] = normalised(create_sql[match.end():position - 1])
    return found


def with_checks(create_sql: str, checks: Mapping[str, str], *, table_name: str | None = None) -> str:
    """The CREATE TABLE statement with `checks` added as named table constraints (and renamed, if asked)."""
    end = create_sql.rstrip().rfind(")")
    clauses = "".join(f', CONSTRAINT "{name}" CHECK ({expression})' for name, expression in checks.items())
    sql = create_sql[:end] + clauses + create_sql[end:]
    if table_name is not None:
        sql = _TABLE_HEADER.sub(f'CREATE TABLE "{table_name}"', sql, count=1)
    return sql


async def _query(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await DB.run_querystring(QueryString(sql, *args))


async def add_checks(table: str, checks: Mapping[str, str]) -> None:
    """Give `table` the constraints of `checks` it does not have yet (by name), keeping its rows,
    indexes and triggers. Inside a migration only (a transaction, foreign keys off)."""
    if DB.current_transaction.get() is None:
        raise RuntimeError("add_checks rebuilds a table: run it inside a migration's transaction")
    if (await _query("PRAGMA foreign_keys"))[0]["foreign_keys"]:
        raise RuntimeError(f"add_checks on {table} with foreign keys on: dropping the old table would delete or "
                           "refuse the rows that refer to it (run it from app.db.migrate.apply_migrations)")
    rows = await _query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = {}", table)
    if not rows:
        raise RuntimeError(f"add_checks: there is no table {table}")
    create_sql = rows[0]["sql"]
    missing = {name: expression for name, expression in checks.items() if name not in checks_in(create_sql)}
    if not missing:
        return
    dependents = await _query("SELECT sql FROM sqlite_master WHERE tbl_name = {} AND type IN ('index', 'trigger') "
                              "AND sql IS NOT NULL ORDER BY type, name", table)
    rebuilt = f"{table}__with_checks"
    await DB.run_ddl(with_checks(create_sql, missing, table_name=rebuilt))
    await DB.run_ddl(f'INSERT INTO "{rebuilt}" SELECT * FROM "{table}"')
    await DB.run_ddl(f'DROP TABLE "{table}"')
    await DB.run_ddl(f'ALTER TABLE "{rebuilt}" RENAME TO "{table}"')
    for dependent in dependents:
        await DB.run_ddl(dependent["sql"])
