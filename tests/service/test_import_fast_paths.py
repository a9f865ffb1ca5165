"""What makes a large import fast without weakening a rule: the audit trail sealed in steps inside the
import's one transaction (the same chain as one seal at the commit), the preview's plan written by the
apply only while the books are unchanged since it was made (asked of the trail, inside the apply's
transaction), and the garbage collector paused only while an import runs."""

from __future__ import annotations

import gc
import itertools
import sqlite3
from pathlib import Path
from typing import Any

from app.audit import service as audit_service
from app.audit import trail
from app.audit.logic import Head
from app.clients import service as clients_service
from app.config import Config
from app.db.engine import write_transaction
from app.imports import service as imports
from app.integrity.service import run_checks
from app.taxes import service as taxes_service
from tests.conftest import run, sealed_writes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"
FILES = [(name, (FIXTURES / name).read_bytes()) for name in ("clients.csv", "invoices.csv", "payments.csv")]


def _entries(database: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT id, operation, entity, entity_id, actor, action, prev_hash, hash "
                                  "FROM audit_entry ORDER BY id").fetchall()


def _pending(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute("SELECT count(*) FROM audit_pending").fetchone()[0])


def _holds(config: Config) -> None:
    assert [str(b) for b in run_checks(config.database_path)] == []


# -- sealing in steps ---------------------------------------------------------------------------

def test_a_transaction_sealed_in_steps_is_the_chain_one_seal_at_the_commit_makes(config: Config):
    async def scene() -> None:
        with audit_service.labelled("import"):
            async with write_transaction() as transaction:
                step = audit_service.sealing_steps(transaction)
                connection = transaction.connection
                for name in ("First Ltd", "Second Ltd", "Third Ltd"):
                    await clients_service.create_client({"name": name, "currency": "EUR"})
                    await connection._execute(lambda: step(connection._conn))
        async with write_transaction():   # the same writes sealed once, at the commit
            for name in ("Fourth Ltd", "Fifth Ltd"):
                await clients_service.create_client({"name": name, "currency": "EUR"})
    run(scene())
    rows = _entries(config.database_path)
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert all(row[6] == before[7] for before, row in itertools.pairwise(rows))
    clients = [r for r in rows if r[2] == "client"]
    assert [r[5] for r in clients] == ["import"] * 3 + ["create"] * 2
    assert _pending(config.database_path) == 0
    assert audit_service.verify_database(config.database_path).ok
    _holds(config)


def test_steps_that_sealed_everything_still_keep_the_day_s_head_beside_the_database(config: Config):
    head_file = trail.head_path(config.database_path)
    assert not head_file.exists()

    async def scene() -> None:
        async with write_transaction() as transaction:
            step = audit_service.sealing_steps(transaction)
            await clients_service.create_client({"name": "Sealed Ltd", "currency": "EUR"})
            connection = transaction.connection
            await connection._execute(lambda: step(connection._conn))   # nothing is left for the commit
    run(scene())
    heads = trail.read_heads(head_file)
    assert [h["seq"] for h in heads] == [len(_entries(config.database_path))]


def test_a_step_of_a_transaction_rolled_back_leaves_nothing(config: Config):
    async def scene() -> None:
        try:
            async with write_transaction() as transaction:
                step = audit_service.sealing_steps(transaction)
                await clients_service.create_client({"name": "Lost Ltd", "currency": "EUR"})
                connection = transaction.connection
                await connection._execute(lambda: step(connection._conn))
                raise RuntimeError("fails after a step")
        except RuntimeError:
            pass
        await clients_service.create_client({"name": "Kept Ltd", "currency": "EUR"})
    run(scene())
    rows = _entries(config.database_path)
    assert [r[2] for r in rows] == ["client"] and rows[0][0] == 1
    _holds(config)


# -- what was written since a mark ------------------------------------------------------------------

def _unchanged_since(mark: Head, entity: str, entity_id: int) -> bool:
    async def ask() -> bool:
        async with write_transaction():
            return await audit_service.unchanged_since(mark, entity, entity_id)
    return bool(run(ask()))


def test_unchanged_since_sees_any_other_write_a_foreign_one_and_a_replaced_trail(config: Config):
    run(clients_service.create_client({"name": "Before Ltd", "currency": "EUR"}))
    mark = run(audit_service.current_head())
    assert _unchanged_since(mark, "import_job", 1)

    async def event() -> None:
        async with write_transaction():
            await audit_service.record("import", "import_job", 1, note="the job's own entry")
    run(event())
    assert _unchanged_since(mark, "import_job", 1)        # only the job's own entries since
    assert not _unchanged_since(mark, "import_job", 2)
    assert not _unchanged_since(Head(mark.seq, "0" * 64, mark.at), "import_job", 1)   # another trail
    run(clients_service.create_client({"name": "After Ltd", "currency": "EUR"}))
    assert not _unchanged_since(mark, "import_job", 1)
    later = run(audit_service.current_head())
    with sqlite3.connect(config.database_path) as connection:   # another program, triggers in place
        connection.execute("UPDATE client SET notes = 'outside' WHERE name = 'After Ltd'")
    assert not _unchanged_since(later, "import_job", 1)


# -- the preview's plan at apply ---------------------------------------------------------------------

def _preview(config: Config, files: list[tuple[str, bytes]] = FILES) -> dict[str, Any]:
    run(taxes_service.apply_preset("canada"))
    return dict(run(imports.create_preview(files, data_dir=config.data_dir)))


def test_the_apply_writes_the_preview_s_plan_when_nothing_was_written_since(config: Config):
    job = _preview(config)
    assert job["preview"]["can_apply"], job["preview"]["problems"]
    summary = run(imports.apply(job["id"], data_dir=config.data_dir))
    assert summary["plan_of_preview"] is True
    assert summary["invoices"] == job["preview"]["counts"]["invoices"] > 0
    _holds(config)


def test_a_write_between_preview_and_apply_makes_the_plan_again_against_the_books(config: Config):
    job = _preview(config)
    run(clients_service.create_client({"name": "Acme Builders Ltd", "code": "ACME", "currency": "CAD"}))
    summary = run(imports.apply(job["id"], data_dir=config.data_dir))
    assert summary["plan_of_preview"] is False
    # planned again: the client made meanwhile is the file's ACME, not imported a second time
    assert summary["clients"] == job["preview"]["counts"]["clients"] - 1
    assert summary["unchanged"].get("clients") == 1
    _holds(config)


def test_a_foreign_write_between_preview_and_apply_makes_the_plan_again(config: Config):
    job = _preview(config)
    with sqlite3.connect(config.database_path) as connection, sealed_writes(connection):
        connection.execute("UPDATE business_settings SET tagline = 'changed outside'")
    summary = run(imports.apply(job["id"], data_dir=config.data_dir))
    assert summary["plan_of_preview"] is False
    _holds(config)


def test_a_preview_with_a_problem_is_planned_again_once_the_books_solve_it(config: Config):
    invoices_only = [f for f in FILES if f[0] == "invoices.csv"]
    job = _preview(config, invoices_only)
    assert not job["preview"]["can_apply"]   # its clients are neither in the file nor in Counterfoil
    for name, currency in (("Acme Builders Ltd", "CAD"), ("Zoë Ångström Design", "EUR")):
        run(clients_service.create_client({"name": name, "currency": currency}))
    summary = run(imports.apply(job["id"], data_dir=config.data_dir))
    assert summary["plan_of_preview"] is False and summary["invoices"] > 0
    _holds(config)


def test_the_collector_runs_again_after_an_import_and_after_a_refused_one(config: Config):
    assert gc.isenabled()
    job = _preview(config, [f for f in FILES if f[0] == "invoices.csv"])
    assert gc.isenabled()
    try:
        run(imports.apply(job["id"], data_dir=config.data_dir))
    except Exception:
        pass
    assert gc.isenabled()
    job = _preview(config)
    run(imports.apply(job["id"], data_dir=config.data_dir))
    assert gc.isenabled()
