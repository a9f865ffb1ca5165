"""Where the program's own files and the user's data live.

The same lookup works from a source checkout, an editable install and the Nuitka
single file: resources sit beside the `app` package (Nuitka's
`--include-data-dir=web=web` puts them next to the compiled package).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "Counterfoil"
PACKAGE_DIR = Path(__file__).resolve().parent
ROOT_DIR = PACKAGE_DIR.parent
WEB_DIR = ROOT_DIR / "web"
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
TYPST_DIR = ROOT_DIR / "typst_templates"
FONTS_DIR = TYPST_DIR / "fonts"

DATA_DIR_ENV = "COUNTERFOIL_DATA_DIR"
DATABASE_NAME = "counterfoil.sqlite"


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--data-dir beats COUNTERFOIL_DATA_DIR beats the platform's user data dir."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser().resolve()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_cache_dir() -> Path:
    """The user's cache folder for what the program keeps between starts to start sooner (app.codecache, the
    compiled page templates): deleting it costs the next start its time, nothing else."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


class UnsafeFileName(ValueError):
    """A stored file name that is not a bare name inside its folder (a hostile or damaged record)."""

    def __init__(self, name: str, reason: str):
        self.name = name
        self.reason = reason
        super().__init__(f"The file name {name[:120]!r} is refused: {reason}.")


MAX_FILE_NAME = 255
_WINDOWS_RESERVED = ("\\", ":", "*", "?", '"', "<", ">", "|")


def check_bare_name(name: str) -> str:
    """A name the program stored (a logo, a template): one plain file name, no folder part, nothing
    a file system reads as a path (`..`, `/`, a backslash, a drive letter, NUL). Returns it."""
    if not isinstance(name, str) or not name:
        raise UnsafeFileName(str(name), "it is empty")
    if len(name) > MAX_FILE_NAME:
        raise UnsafeFileName(name, f"it is longer than {MAX_FILE_NAME} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise UnsafeFileName(name, "it holds a control character (NUL, a line break...)")
    if "/" in name or any(ch in name for ch in _WINDOWS_RESERVED):
        raise UnsafeFileName(name, "it is a path, not a bare file name")
    if name in (".", "..") or name != name.strip() or name.endswith("."):
        raise UnsafeFileName(name, "it is not a plain file name")
    return name


def resolve_inside(folder: Path, name: str) -> Path:
    """`folder / name` for a bare file name, refused (UnsafeFileName) when it could lead anywhere else:
    a path, `..`, NUL, a backslash, or a symbolic link (even one pointing inside the folder).

    Checked on every use, not only when the name was stored: a database can come from elsewhere."""
    path = Path(folder) / check_bare_name(name)
    if path.is_symlink():
        raise UnsafeFileName(name, "it is a symbolic link")
    if path.exists() and path.resolve().parent != Path(folder).resolve():
        raise UnsafeFileName(name, "it resolves outside its folder")
    return path


def ensure_private_dir(path: Path) -> Path:
    """Create the folder readable by the user alone, and tighten it if it exists.

    Linux and macOS: mode 0700. Windows has no such modes (os.chmod there only sets the read-only
    flag); a folder made in the user's profile (the default, %LOCALAPPDATA%) inherits an access list
    that already shuts other users out, and one made elsewhere is given its own (restrict_on_windows)."""
    if os.name == "nt":
        created = not path.exists()
        path.mkdir(parents=True, exist_ok=True)
        if created:
            restrict_on_windows(path)
        return path
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def restrict_on_windows(folder: Path) -> bool:
    """Give a new folder an access list of its own: full control for the user and for the system
    (backup and indexing services run as SYSTEM), none inherited. False if that could not be done
    (the folder keeps what it inherited; the program still works)."""
    user = os.environ.get("USERNAME")
    if not user:
        return False
    domain = os.environ.get("USERDOMAIN")
    account = f"{domain}\\{user}" if domain else user
    import subprocess

    command = ["icacls", str(folder), "/inheritance:r", "/grant:r", f"{account}:(OI)(CI)F",
               "/grant:r", "*S-1-5-18:(OI)(CI)F"]   # S-1-5-18: SYSTEM, in any language
    try:
        done = subprocess.run(command, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def ensure_private_file(path: Path) -> None:
    """Create the file if missing and make it 0600 (on Windows it inherits its folder's access list)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    if os.name != "nt":
        os.chmod(path, 0o600)


def fsync_file(path: Path) -> None:
    """Make a file's bytes durable before it is renamed into place."""
    # Windows flushes a file only through a handle that may write it (FlushFileBuffers); POSIX
    # fsyncs through any descriptor, and a read-only one also works for a file made read-only.
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0) if sys.platform == "win32" else os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in `path` durable (best effort: some systems cannot open a folder)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
