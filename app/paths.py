"""Where the program's own files and the user's data live.

The same lookup works from a source checkout, an editable install and the Nuitka
single file: resources sit beside the `app` package (Nuitka's
`--include-data-dir=web=web` puts them next to the compiled package).
"""

from __future__ import annotations

import os
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


def ensure_private_dir(path: Path) -> Path:
    """Create the folder readable by the user alone (0700), and tighten it if it exists."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def ensure_private_file(path: Path) -> None:
    """Create the file if missing and make it 0600."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
