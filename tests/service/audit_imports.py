"""The audit walk's scenarios for app.imports (tests/service/test_audit_trail.py merges them): a preview,
reading it again and discarding it are recorded as events; applying records every row it writes, labelled
"import"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from app.imports import service as imports

Call = Callable[[], Awaitable[Any]]
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"
FILES = [(name, (FIXTURES / name).read_bytes()) for name in ("invoiceninja_clients.csv", "invoiceninja_invoices.csv")]


async def _preview(w: Any) -> dict[str, Any]:
    from app.taxes import service as taxes_service

    await taxes_service.apply_preset("canada")   # the invoices name GST
    return await imports.create_preview(FILES, data_dir=w.config.data_dir)


def scenarios() -> dict[str, tuple[Callable[[Any], Awaitable[Call]], str | None]]:
    def after(prepare: Callable[[Any], Awaitable[Any]], call: Callable[[Any, Any], Awaitable[Any]]
              ) -> Callable[[Any], Awaitable[Call]]:
        async def setup(w: Any) -> Call:
            made = await prepare(w)
            return lambda: call(w, made)
        return setup

    async def nothing(w: Any) -> None:
        return None

    return {
        "app.imports.service.create_preview": (after(nothing, lambda w, _: _preview(w)), "import"),
        "app.imports.service.revise": (after(_preview, lambda w, job: imports.revise(
            job["id"], data_dir=w.config.data_dir, options={"dialect": {"decimal": "."}})), "import"),
        "app.imports.service.discard": (after(_preview, lambda w, job: imports.discard(
            job["id"], data_dir=w.config.data_dir)), "import"),
        "app.imports.service.apply": (after(_preview, lambda w, job: imports.apply(
            job["id"], data_dir=w.config.data_dir)), "import"),
    }
