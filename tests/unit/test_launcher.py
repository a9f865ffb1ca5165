"""The single executable's launcher on Linux and macOS (build/launcher/launcher.c, packed by
build/pack_binary.py): its first start unpacks the program into the user's cache folder, through a
temporary folder renamed into place; later starts run it without unpacking or checking anything; a file
that is damaged or cut short, or a payload that does not unpack, is refused with a message and leaves
nothing behind. The program packed here is a shell script standing in for Nuitka's standalone folder;
build/smoke runs the real one (build/build-binary)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "build"))

from pack_binary import TRAILER_SIZE, pack  # noqa: E402

pytestmark = pytest.mark.skipif(os.name == "nt", reason="the launcher is for Linux and macOS; Windows uses Nuitka's onefile")


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    assert compiler, "a C compiler (build/test.sh installs gcc when missing)"
    out = tmp_path_factory.mktemp("launcher") / "launcher"
    subprocess.run([compiler, "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(out), str(ROOT / "build/launcher/launcher.c")],
                   check=True)
    return out


def make_program(folder: Path, launcher: Path, marker: str = "one") -> tuple[Path, str]:
    dist = folder / "dist"
    (dist / "lib").mkdir(parents=True)
    (dist / "lib" / "data.txt").write_text(f"payload {marker}\n")
    script = dist / "counterfoil"
    script.write_text('#!/bin/sh\nhere="$(dirname "$0")"\necho "args:$*"\ncat "$here/lib/data.txt"\n')
    script.chmod(0o755)
    program = folder / "counterfoil"
    _, build_id = pack(dist, launcher, program)
    shutil.rmtree(dist)
    return program, build_id


def start(program: Path, home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ["PATH"], "HOME": str(home), **env}
    return subprocess.run([str(program), *args], capture_output=True, text=True, env=environment, timeout=60)


def cache_of(home: Path) -> Path:
    return home / ("Library/Caches" if sys.platform == "darwin" else ".cache") / "Counterfoil"


def test_the_first_start_unpacks_and_later_starts_run_the_unpacked_program(tmp_path, launcher):
    program, build_id = make_program(tmp_path, launcher)
    home = tmp_path / "home"
    home.mkdir()

    first = start(program, home, "serve", "--port", "8123")
    assert first.returncode == 0, first.stderr
    assert first.stdout == "args:serve --port 8123\npayload one\n"
    assert "unpacking this version" in first.stderr
    unpacked = cache_of(home) / build_id
    assert (unpacked / "counterfoil").is_file() and os.access(unpacked / "counterfoil", os.X_OK)
    assert sorted(p.name for p in cache_of(home).iterdir()) == [build_id]  # no temporary folder left

    # A later start runs what is there: nothing unpacked again (the file changed here would be overwritten).
    (unpacked / "lib" / "data.txt").write_text("kept\n")
    second = start(program, home, "check")
    assert second.returncode == 0, second.stderr
    assert second.stdout == "args:check\nkept\n" and second.stderr == ""


def test_a_new_build_unpacks_beside_the_old_one(tmp_path, launcher):
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    old, old_id = make_program(tmp_path / "a", launcher, "old")
    new, new_id = make_program(tmp_path / "b", launcher, "new")
    assert old_id != new_id
    assert start(old, home).stdout.endswith("payload old\n")
    assert start(new, home).stdout.endswith("payload new\n")
    assert sorted(p.name for p in cache_of(home).iterdir()) == sorted([old_id, new_id])


@pytest.mark.skipif(sys.platform == "darwin", reason="XDG_CACHE_HOME is Linux's")
def test_the_cache_folder_follows_xdg_cache_home(tmp_path, launcher):
    program, build_id = make_program(tmp_path, launcher)
    home, xdg = tmp_path / "home", tmp_path / "xdg"
    home.mkdir()
    result = start(program, home, XDG_CACHE_HOME=str(xdg))
    assert result.returncode == 0, result.stderr
    assert (xdg / "Counterfoil" / build_id / "counterfoil").is_file()
    assert not (home / ".cache").exists()


def test_two_first_starts_at_once_both_run_and_leave_one_folder(tmp_path, launcher):
    program, build_id = make_program(tmp_path, launcher)
    home = tmp_path / "home"
    home.mkdir()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: start(program, home, "x"), range(4)))
    assert [r.returncode for r in results] == [0] * 4, [r.stderr for r in results]
    assert all(r.stdout == "args:x\npayload one\n" for r in results)
    assert sorted(p.name for p in cache_of(home).iterdir()) == [build_id]


def test_a_file_cut_short_is_refused_with_a_message(tmp_path, launcher):
    program, _ = make_program(tmp_path, launcher)
    home = tmp_path / "home"
    home.mkdir()
    data = program.read_bytes()
    program.write_bytes(data[:-TRAILER_SIZE - 1000])
    result = start(program, home)
    assert result.returncode == 70
    assert "holds no program (damaged or cut short?)" in result.stderr
    assert not cache_of(home).exists()


def test_a_payload_that_does_not_unpack_leaves_nothing(tmp_path, launcher):
    program, _ = make_program(tmp_path, launcher)
    home = tmp_path / "home"
    home.mkdir()
    data = bytearray(program.read_bytes())
    payload_start = launcher.stat().st_size
    data[payload_start + 40: payload_start + 80] = b"\0" * 40   # inside the xz stream: its check fails
    program.write_bytes(bytes(data))
    result = start(program, home)
    assert result.returncode == 70
    assert "unpacking failed" in result.stderr
    assert list(cache_of(home).iterdir()) == []   # neither the program's folder nor a temporary one


def test_without_a_home_it_says_so(tmp_path, launcher):
    program, _ = make_program(tmp_path, launcher)
    result = subprocess.run([str(program)], capture_output=True, text=True, env={"PATH": os.environ["PATH"]}, timeout=60)
    assert result.returncode == 70
    assert "HOME" in result.stderr
