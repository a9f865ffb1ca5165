"""Shared test fixtures: a real SQLite file per test, built from the migrations.

The schema is made once per session by running the Piccolo migrations into a
template file; each test gets its own copy in a temporary data folder.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from app.config import Config
from app.db.lifecycle import open_database

OWNER_EMAIL = "owner@example.com"
OWNER_PASSWORD = "correct horse battery"
STAFF_EMAIL = "staff@example.com"
STAFF_PASSWORD = "staff password 123"
TEST_PORT = 5050
BASE_URL = f"http://127.0.0.1:{TEST_PORT}"


# Hypothesis keeps its examples and caches beside the tests, not in the project's top folder.
set_hypothesis_home_dir(Path(__file__).parent / ".hypothesis")


# -- never let a test pass by not running -------------------------------------

def pytest_configure(config: pytest.Config) -> None:
    config._counterfoil_skipped = []  # type: ignore[attr-defined]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        import _pytest.config
        _pytest_config = getattr(_pytest.config, "_counterfoil_current", None)
        if _pytest_config is not None:
            _pytest_config._counterfoil_skipped.append(report.nodeid)


def pytest_sessionstart(session: pytest.Session) -> None:
    import _pytest.config
    _pytest.config._counterfoil_current = session.config  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    skipped = getattr(session.config, "_counterfoil_skipped", [])
    if skipped and exitstatus == 0 and not os.environ.get("COUNTERFOIL_ALLOW_SKIPS"):
        print(f"\n{len(skipped)} test(s) were skipped; a skipped test is a failed test here: {skipped[:5]}")
        session.exitstatus = 1


# -- databases -----------------------------------------------------------------

@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    config = Config(data_dir=folder)
    _run_here_or_aside(open_database(config))
    return config.database_path


@pytest.fixture
def config(tmp_path: Path, template_database: Path) -> Config:
    """A fresh data folder holding a migrated, empty database; the engine points at it."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    shutil.copyfile(template_database, data_dir / "counterfoil.sqlite")
    config = Config(data_dir=data_dir, port=TEST_PORT)
    _run_here_or_aside(open_database(config))
    return config


def _run_here_or_aside(coroutine: Any) -> Any:
    """asyncio.run, or the same in a fresh thread if this thread still reports a running loop
    (a test that stopped inside a loop must not break every later fixture)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@contextmanager
def sealed_writes(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Plain-SQL writes of a test's setup, sealed in the audit trail as the test's own (commit after).

    A write outside Counterfoil leaves its audit record unsealed, which `counterfoil check` rightly
    reports; a test that prepares data this way says so instead."""
    from app.audit.logic import Actor
    from app.audit.trail import seal
    from app.audit.trail import start as trail_start

    start = trail_start(connection)
    yield connection
    if start is not None:
        seal(connection, start, Actor.system("test setup", origin="system"))


def run(coroutine: Any) -> Any:
    """Run a service coroutine from a synchronous test."""
    return _run_here_or_aside(coroutine)


@pytest.fixture
def owner(config: Config) -> dict[str, Any]:
    from app.auth import service

    return run(service.setup_owner({"business_name": "Test Studio", "name": "Olivia Owner", "email": OWNER_EMAIL,
                                    "password": OWNER_PASSWORD, "password_repeat": OWNER_PASSWORD}))


@pytest.fixture
def staff(owner: dict[str, Any]) -> dict[str, Any]:
    from app.auth import service

    return run(service.create_user({"email": STAFF_EMAIL, "name": "Sam Staff", "password": STAFF_PASSWORD,
                                    "password_repeat": STAFF_PASSWORD}))
