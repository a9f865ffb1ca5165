"""Counterfoil runs on Linux, macOS and Windows: no POSIX-only call without a fallback, and the data
folder is made private the way each system does it (app/paths.py). Windows is simulated here by
setting `os.name`; the binaries workflow (.github/workflows/binaries.yml) runs the real thing."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

import app
from app import paths
from app.backup import restore

APP_DIR = Path(app.__file__).resolve().parent

# Calls and modules that exist on Linux and macOS only. A module that needs one looks it up with
# getattr() and says what happens without it (app.backup.restore does for SIGKILL).
POSIX_ONLY = {
    r"\bimport (fcntl|pwd|grp|resource|termios|posix)\b": "a POSIX-only module",
    r"\bos\.(fork|forkpty|getuid|geteuid|getgid|getegid|setsid|killpg|getpgid|setpgrp|sync|statvfs|"
    r"getloadavg|sched_getaffinity)\(": "an os function Windows lacks",
    r"\bsignal\.(SIGKILL|SIGHUP|SIGQUIT|SIGUSR1|SIGUSR2|SIGALRM|SIGCHLD|SIGPIPE)\b": "a signal Windows lacks",
    r"['\"]/proc/": "Linux's /proc",
    r"\bpreexec_fn\b": "subprocess's POSIX-only preexec_fn",
}


def test_no_posix_only_call_in_app():
    found = []
    for path in sorted(APP_DIR.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            found += [f"{path.relative_to(APP_DIR.parent)}:{number}: {what}: {line.strip()}"
                      for pattern, what in POSIX_ONLY.items() if re.search(pattern, code)]
    assert found == []


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_the_data_folder_is_0700_and_tightened_when_it_exists(tmp_path):
    folder = tmp_path / "data" / "Counterfoil"
    paths.ensure_private_dir(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    folder.chmod(0o755)
    paths.ensure_private_dir(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    file = folder / "secret"
    paths.ensure_private_file(file)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600


@pytest.fixture
def windows(monkeypatch):
    """os.name == "nt" for app.paths, every icacls run recorded instead of made, and any chmod refused."""
    runs: list[list[str]] = []

    def run(command, **kwargs):
        runs.append(command)
        return SimpleNamespace(returncode=0, stdout=b"", stderr=b"")

    def no_chmod(*args, **kwargs):
        raise AssertionError("os.chmod on Windows only flips the read-only flag: it must not be relied on")

    monkeypatch.setattr(os, "name", "nt")
    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setenv("USERNAME", "ada")
    monkeypatch.setenv("USERDOMAIN", "STUDIO")
    return runs


def test_on_windows_a_new_data_folder_gets_an_access_list_for_the_user_and_system(tmp_path, windows):
    folder = tmp_path / "Counterfoil"
    assert paths.ensure_private_dir(folder) == folder
    assert folder.is_dir()
    assert windows == [["icacls", str(folder), "/inheritance:r", "/grant:r", "STUDIO\\ada:(OI)(CI)F",
                        "/grant:r", "*S-1-5-18:(OI)(CI)F"]]
    paths.ensure_private_file(folder / "counterfoil.lock")   # inherits the folder's list: no chmod
    assert (folder / "counterfoil.lock").is_file()


def test_on_windows_an_existing_folder_keeps_its_access_list(tmp_path, windows):
    """The user's own folder (or one an administrator set up) is not rewritten at every start."""
    paths.ensure_private_dir(tmp_path)
    assert windows == []


def test_on_windows_without_icacls_the_folder_is_still_made(tmp_path, windows, monkeypatch):
    def missing(command, **kwargs):
        raise FileNotFoundError("icacls")

    monkeypatch.setattr(subprocess, "run", missing)
    folder = tmp_path / "Counterfoil"
    paths.ensure_private_dir(folder)
    assert folder.is_dir()
    assert paths.restrict_on_windows(folder) is False
    monkeypatch.delenv("USERNAME")
    assert paths.restrict_on_windows(folder) is False


def test_a_restore_test_stop_without_sigkill_exits_137(monkeypatch):
    """Windows has no SIGKILL: the crash hook of the restore tests ends the process with os._exit."""
    exits = []

    def fake_exit(code):
        exits.append(code)
        raise SystemExit(code)

    monkeypatch.setattr(restore, "signal", SimpleNamespace(SIGTERM=signal.SIGTERM))
    monkeypatch.setattr(restore.os, "_exit", fake_exit)
    monkeypatch.setattr(restore.os, "kill", lambda *args: pytest.fail("os.kill without SIGKILL"))
    monkeypatch.setenv(restore.STOP_AT_ENV, "staged")
    with pytest.raises(SystemExit):
        restore.reached("staged")
    assert exits == [137]


def test_the_smoke_test_finds_a_python_on_windows():
    """build/smoke runs under Git Bash on Windows, where Python is `python` (no `python3`)."""
    smoke = (APP_DIR.parent / "build" / "smoke").read_text(encoding="utf-8")
    assert 'PY3="$(command -v python3 || command -v python || true)"' in smoke
    assert re.findall(r"^[^#]*\bpython3 -c", smoke, flags=re.MULTILINE) == []
