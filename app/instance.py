"""One Counterfoil per data folder: the instance lock and the record it carries.

The lock file (`counterfoil.lock` in the data folder) is held by whoever owns the folder: the
server for as long as it runs, the command line's backup import while it swaps data in. The
lock is the operating system's own (flock on Linux and macOS, LockFileEx on Windows, taken
through `filelock.lock_descriptor`), so it goes away with the process however that ends and a
crash leaves nothing stale behind. While it holds the lock, the server records its pid and
port in the file, so that a second launch can send the browser to it.

The file's layout is the protocol, written here only:

    byte 0      the locked byte (a newline); never read by anyone but the holder
    byte 1...   {"pid": 1234, "port": 5050}, UTF-8 JSON

Windows locks a byte range, and another process cannot read a locked range, so the lock
covers byte 0 only and the record starts after it. Unix locks are advisory and whole-file;
the same layout is read the same way there. The record is trusted only while the lock is
held: a file left behind by a server that has quit says nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import BinaryIO

from filelock import lock_descriptor, unlock_descriptor

RECORD_OFFSET = 1   # the record starts after the locked byte
LOCKED_BYTE = b"\n"
# Windows would otherwise translate line ends in the descriptor's reads and writes.
_BINARY = getattr(os, "O_BINARY", 0)


class AlreadyRunning(Exception):
    """Another process holds the data folder's instance lock; `port` is where it serves (0: not recorded yet)."""

    def __init__(self, port: int):
        super().__init__(f"another Counterfoil holds this data folder (port {port or 'not recorded yet'})")
        self.port = port


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock on `fd` without waiting: False when another process holds it."""
    return lock_descriptor(fd, blocking=False)


def _recorded_port(fd: int) -> int:
    """The port recorded in the lock file, 0 when there is none yet (the holder is still starting)."""
    os.lseek(fd, RECORD_OFFSET, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 4096):
        chunks.append(chunk)
    try:
        record = json.loads(b"".join(chunks) or b"{}")
        return int(record.get("port", 0)) if isinstance(record, dict) else 0
    except ValueError:
        return 0


class InstanceLock:
    """The data folder's instance lock, held from `acquire()` until `release()` (or the process ends)."""

    def __init__(self, path: Path):
        self.path = path
        self._file: BinaryIO | None = None

    def acquire(self) -> None:
        """Hold the lock, or raise AlreadyRunning with the holder's port. Never waits."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | _BINARY, 0o600)
        try:
            os.chmod(self.path, 0o600)
            if not _try_lock(fd):
                raise AlreadyRunning(_recorded_port(fd))
        except BaseException:
            os.close(fd)
            raise
        self._file = os.fdopen(fd, "r+b")

    def acquire_read_only(self) -> None:
        """The same, in a data folder that cannot be written: the lock is taken through a read-only
        descriptor (no record can be written there), and without a lock file nothing is held (nobody
        can change that folder anyway)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | _BINARY)
        except FileNotFoundError:
            return
        try:
            if not _try_lock(fd):
                raise AlreadyRunning(_recorded_port(fd))
        except BaseException:
            os.close(fd)
            raise
        self._file = os.fdopen(fd, "rb")

    def record(self, port: int) -> None:
        """Write the holder's pid and port, for a second launch to read."""
        assert self._file is not None, "record() before acquire()"
        self._file.seek(0)
        self._file.write(LOCKED_BYTE + json.dumps({"pid": os.getpid(), "port": port}).encode())
        self._file.truncate()
        self._file.flush()

    def release(self) -> None:
        if self._file is not None:
            handle, self._file = self._file, None
            with contextlib.suppress(OSError):   # closing the descriptor drops the lock anyway
                unlock_descriptor(handle.fileno())
            handle.close()


def running_port(path: Path) -> int | None:
    """The port of the process holding the instance lock at `path` (0 if not recorded yet), or None if no one does.

    Looks without creating or changing anything: the file is opened read-only, and a lock
    taken to find out is let go at once.
    """
    try:
        fd = os.open(path, os.O_RDONLY | _BINARY)
    except OSError:
        return None
    try:
        if _try_lock(fd):
            unlock_descriptor(fd)
            return None
        return _recorded_port(fd)
    finally:
        os.close(fd)
