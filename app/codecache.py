"""The code that dataclasses and typing compile from text at every start, kept between starts (issue 21,
point 4: the double-click opens the first page in half a second).

`@dataclass` writes each class's `__init__`, `__repr__`, `__eq__`... as Python source and compiles it:
~1,500 functions at the server's start, a quarter of its imports' time (CPython 3.11); typing compiles
each string annotation Litestar resolves (~1,500 more, small ones). Python keeps the compiled code of
modules in .pyc files, not this. This module does the same for it: the code compiled during the start,
keyed by its source text, in one file of the user's cache folder, read at the next start and rewritten
when a start compiled something new. The code is what compile() makes of the same text, without
inheriting any `from __future__` flag, exactly as dataclasses' `exec(text)` and typing's `compile()`
do; marshal holds it as .pyc files do. A missing, unreadable or damaged file, or another Python, only
means compiling as before.

Only `counterfoil serve` uses it, from app.cli.main until the app is built (app.web.server.run_server).
"""
# No `from __future__ import annotations` here: compile() must not pick up this module's flags (it is
# called with dont_inherit=True all the same).

import builtins
import contextlib
import dataclasses
import logging
import marshal
import os
import sys
import typing
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from types import CodeType
from typing import Any

log = logging.getLogger("counterfoil")

_compile = builtins.compile
_exec = builtins.exec


class CodeCache:
    """Compiled code by (source text, mode), loaded from and saved to `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.known: dict[tuple[str, str], CodeType] = {}
        self.used: dict[tuple[str, str], CodeType] = {}
        self.compiled = 0   # not found in the file: compiled in this start

    def load(self) -> None:
        try:
            data = self.path.read_bytes()
        except OSError:
            return
        if not data.startswith(MAGIC_NUMBER):
            return   # written by another Python
        try:
            known = marshal.loads(data[len(MAGIC_NUMBER):])
        except (EOFError, ValueError, TypeError):
            return
        if isinstance(known, dict):
            self.known = known

    def save(self) -> None:
        """Writes what this start used, if it compiled anything new (atomically: starts may overlap)."""
        if not self.compiled:
            return
        part = self.path.with_name(f"{self.path.name}.{os.getpid()}.part")
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Code the next start runs: the user's alone, as the folder it is in.
            with os.fdopen(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600),
                           "wb") as handle:
                handle.write(MAGIC_NUMBER + marshal.dumps(self.used))
            os.replace(part, self.path)
        except (OSError, ValueError) as error:
            log.debug("the start's code cache %s was not written: %s", self.path, error)
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)

    def compile(self, source: Any, filename: Any, mode: str, *args: Any, **kwargs: Any) -> Any:
        """compile(), from the cache for the plain calls dataclasses and typing make."""
        if args or kwargs or not isinstance(source, str) or filename != "<string>":
            return _compile(source, filename, mode, *args, **kwargs)
        key = (source, mode)
        code = self.known.get(key)
        if code is None:
            code = self.known[key] = _compile(source, filename, mode, dont_inherit=True)
            self.compiled += 1
        self.used[key] = code
        return code

    def exec(self, source: Any, globals: dict[str, Any] | None = None, locals: Any = None, /,
             **kwargs: Any) -> None:
        if isinstance(source, str):
            source = self.compile(source, "<string>", "exec")
        _exec(source, globals, locals, **kwargs)


_ACTIVE: list[CodeCache] = []


def default_path() -> Path:
    from app.paths import user_cache_dir

    return user_cache_dir() / f"start-code.{sys.implementation.cache_tag}"


def start(path: Path | None = None) -> None:
    """From now on, dataclasses and typing take their compiled code from the cache."""
    if _ACTIVE:
        return
    cache = CodeCache(path or default_path())
    cache.load()
    _ACTIVE.append(cache)
    # Module globals shadow the builtins of the same name for the code of that module only.
    dataclasses.exec = cache.exec  # type: ignore[attr-defined]
    typing.compile = cache.compile  # type: ignore[attr-defined]


def stop() -> None:
    """The start is over: dataclasses and typing compile as before; the cache is saved if it grew."""
    if not _ACTIVE:
        return
    cache = _ACTIVE.pop()
    for module, name in ((dataclasses, "exec"), (typing, "compile")):
        module.__dict__.pop(name, None)
    cache.save()
