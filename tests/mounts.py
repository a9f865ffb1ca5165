"""Real file-system failures for tests: a read-only bind mount of a folder and a small tmpfs that fills up.

Both need root (tests run as root here, where `chmod` stops nobody) and a system that lets it mount.
Where mounting is not possible, the test that asked is skipped with the reason, which the suite
counts as a failure (tests/conftest.py): set COUNTERFOIL_ALLOW_SKIPS to accept that, and rely on the
simulated versions of the same tests (tests/http/test_data_folder.py says which those are).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), capture_output=True, text=True, timeout=30)


def can_mount() -> str | None:
    """None when this process can mount, else why not."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "mounting needs root"
    if shutil.which("mount") is None or shutil.which("umount") is None:
        return "no mount command"
    return None


def _unmount(path: Path) -> None:
    for _ in range(50):
        if _run("umount", str(path)).returncode == 0:
            return
        time.sleep(0.1)   # a process that used it may still be ending
    _run("umount", "-l", str(path))


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` becomes read-only for everyone, root included (a read-only bind mount over itself)."""
    reason = can_mount()
    if reason:
        pytest.skip(f"a read-only folder needs a bind mount: {reason}")
    if _run("mount", "--bind", str(folder), str(folder)).returncode != 0:
        pytest.skip("this system does not allow a bind mount")
    try:
        result = _run("mount", "-o", "remount,bind,ro", str(folder))
        if result.returncode != 0:
            pytest.skip(f"this system does not allow a read-only remount: {result.stderr.strip()}")
        yield
    finally:
        _unmount(folder)


@contextmanager
def small_disk(folder: Path, size_mb: int) -> Iterator[None]:
    """`folder` becomes an empty tmpfs of `size_mb` MB: a disk that can really fill up."""
    reason = can_mount()
    if reason:
        pytest.skip(f"a small disk needs a tmpfs mount: {reason}")
    folder.mkdir(parents=True, exist_ok=True)
    result = _run("mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(folder))
    if result.returncode != 0:
        pytest.skip(f"this system does not allow a tmpfs mount: {result.stderr.strip()}")
    try:
        yield
    finally:
        _unmount(folder)


def fill(disk: Path, leave_bytes: int) -> Path:
    """Fill the disk holding `disk` until about `leave_bytes` are free (one filler file, returned)."""
    filler = disk / "filler.bin"
    block = b"\0" * (256 * 1024)
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while (free := shutil.disk_usage(disk).free) > leave_bytes:
            try:
                os.write(fd, block[: max(4096, min(len(block), free - leave_bytes))])
            except OSError:   # full
                break
    finally:
        os.close(fd)
    return filler
