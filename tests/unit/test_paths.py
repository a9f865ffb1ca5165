"""A stored file name is a bare name inside its folder, or it is refused (app/paths.py)."""

from __future__ import annotations

import os

import pytest

from app.paths import UnsafeFileName, check_bare_name, resolve_inside


@pytest.mark.parametrize("name", ["logo-20260101120000000000.png", "Reçu 2026-001.pdf", "invoice.typ", "a..b.png"])
def test_a_bare_name_resolves_inside_its_folder(tmp_path, name):
    assert resolve_inside(tmp_path, name) == tmp_path / name
    (tmp_path / name).write_bytes(b"x")
    assert resolve_inside(tmp_path, name) == tmp_path / name


@pytest.mark.parametrize(("name", "reason"), [
    ("../counterfoil.sqlite", "a path"),
    ("../../../../etc/passwd", "a path"),
    ("/etc/passwd", "a path"),
    ("sub/logo.png", "a path"),
    ("..", "not a plain file name"),
    (".", "not a plain file name"),
    ("..\\counterfoil.sqlite", "a path"),
    ("C:\\Windows\\win.ini", "a path"),
    ("C:logo.png", "a path"),
    ("logo.png\x00.txt", "control character"),
    ("logo\n.png", "control character"),
    ("", "empty"),
    ("logo.png ", "not a plain file name"),
    ("x" * 300, "longer than"),
])
def test_anything_but_a_bare_name_is_refused(tmp_path, name, reason):
    with pytest.raises(UnsafeFileName) as refused:
        resolve_inside(tmp_path, name)
    assert reason in str(refused.value) and "refused" in str(refused.value)
    with pytest.raises(UnsafeFileName):
        check_bare_name(name)


def test_a_symbolic_link_is_refused_wherever_it_points(tmp_path):
    folder = tmp_path / "attachments"
    folder.mkdir()
    secret = tmp_path / "counterfoil.sqlite"
    secret.write_bytes(b"SQLite format 3")
    os.symlink(secret, folder / "logo.png")
    (folder / "real.png").write_bytes(b"png")
    os.symlink(folder / "real.png", folder / "alias.png")
    os.symlink(tmp_path / "nowhere", folder / "dangling.png")
    for name in ("logo.png", "alias.png", "dangling.png"):
        with pytest.raises(UnsafeFileName, match="symbolic link"):
            resolve_inside(folder, name)


def test_a_name_that_is_not_a_string_is_refused(tmp_path):
    with pytest.raises(UnsafeFileName):
        resolve_inside(tmp_path, None)  # type: ignore[arg-type]
