"""The instance lock (app/instance.py): one holder per data folder, across processes.

The other side is always a real second process: an OS file lock says nothing about two
handles of one test process on every platform.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.instance import RECORD_OFFSET, AlreadyRunning, InstanceLock, running_port

ROOT = Path(__file__).resolve().parents[2]

# Holds the lock (recording a port when given one), says so, and keeps it until its stdin closes.
HOLDER = """
import sys
from pathlib import Path
from app.instance import InstanceLock
lock = InstanceLock(Path(sys.argv[1]))
lock.acquire()
if len(sys.argv) > 2:
    lock.record(int(sys.argv[2]))
print("held", flush=True)
sys.stdin.read()
lock.release()
"""

# Tries to take the lock once and reports what happened, as JSON.
TRY_ONCE = """
import json, sys
from pathlib import Path
from app.instance import AlreadyRunning, InstanceLock, running_port
path = Path(sys.argv[1])
seen = running_port(path)
lock = InstanceLock(path)
try:
    lock.acquire()
except AlreadyRunning as running:
    print(json.dumps({"running_port": seen, "already_running": running.port}))
else:
    lock.release()
    print(json.dumps({"running_port": seen, "acquired": True}))
"""


def python(code: str, *args: str, **options) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options)


def try_once(path: Path) -> dict:
    process = python(TRY_ONCE, str(path))
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return json.loads(out)


@contextmanager
def held_elsewhere(path: Path, port: int | None = None) -> Iterator[subprocess.Popen[str]]:
    process = python(HOLDER, str(path), *([str(port)] if port is not None else []))
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == "held", process.stderr.read() if process.stderr else ""
        yield process
    finally:
        if process.poll() is None:
            process.communicate(timeout=60)


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    return tmp_path / "counterfoil.lock"


def test_a_second_process_is_told_the_holders_port(lock_path: Path):
    lock = InstanceLock(lock_path)
    lock.acquire()
    try:
        lock.record(5077)
        assert try_once(lock_path) == {"running_port": 5077, "already_running": 5077}
    finally:
        lock.release()


def test_release_frees_the_folder_for_the_next_process(lock_path: Path):
    lock = InstanceLock(lock_path)
    lock.acquire()
    lock.record(5077)
    lock.release()
    assert try_once(lock_path) == {"running_port": None, "acquired": True}
    lock.acquire()   # and for this one again
    lock.release()


def test_a_lock_held_by_another_process_cannot_be_taken_here(lock_path: Path):
    with held_elsewhere(lock_path, 5099):
        with pytest.raises(AlreadyRunning) as running:
            InstanceLock(lock_path).acquire()
        assert running.value.port == 5099
        assert running_port(lock_path) == 5099
    assert running_port(lock_path) is None   # the holder released it on its way out


def test_a_holder_that_has_not_recorded_its_port_yet_reports_port_zero(lock_path: Path):
    with held_elsewhere(lock_path):
        with pytest.raises(AlreadyRunning) as running:
            InstanceLock(lock_path).acquire()
        assert running.value.port == 0
        assert running_port(lock_path) == 0


def test_the_lock_dies_with_its_process(lock_path: Path):
    with held_elsewhere(lock_path, 5099) as holder:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        lock = InstanceLock(lock_path)
        lock.acquire()   # no stale lock: the OS dropped it with the process
        lock.release()


def test_a_record_left_by_a_server_that_quit_says_nothing(lock_path: Path):
    lock = InstanceLock(lock_path)
    lock.acquire()
    lock.record(5077)
    lock.release()
    assert lock_path.exists()
    assert running_port(lock_path) is None


def test_looking_creates_nothing(lock_path: Path):
    assert running_port(lock_path) is None
    assert not lock_path.exists()


def test_the_file_layout_keeps_the_locked_byte_out_of_the_record(lock_path: Path):
    """Windows locks byte 0, and another process cannot read a locked range: the record starts after it."""
    lock = InstanceLock(lock_path)
    lock.acquire()
    try:
        lock.record(5077)
        lock.record(6)   # a shorter record replaces the longer one entirely
        data = lock_path.read_bytes()
    finally:
        lock.release()
    assert RECORD_OFFSET == 1 and data[:RECORD_OFFSET] == b"\n"
    assert json.loads(data[RECORD_OFFSET:]) == {"pid": os.getpid(), "port": 6}
    assert oct(lock_path.stat().st_mode & 0o777) == oct(0o600)
