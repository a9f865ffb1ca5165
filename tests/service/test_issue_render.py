"""Issue 21, point 2: issuing renders the document of record before the write lock is taken.

`documents.service.issue` previews the issue in a transaction that is rolled back, app.render renders
that document outside the lock, and the issuing transaction only checks that the document came out
the same before recording the file. When it did not (another issue took the number meanwhile), the
render is made in the transaction as before, and the file made ahead is removed. Either way the
record is the render of the document as issued, and `counterfoil check` passes.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from app.config import Config
from app.db.engine import in_write_transaction
from app.documents import service as documents_service
from app.documents.records import DocumentView
from app.integrity.service import run_checks
from app.render import service as render_service
from tests.conftest import run
from tests.http.support import make_client, query


def draft_invoice(description: str = "Website redesign") -> DocumentView:
    client = make_client(name="Maple Bakery")
    return run(documents_service.create_document("invoice", {
        "client_id": client.id, "lines": [{"description": description, "quantity": "3", "unit_price": "120.00"}]}))


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each render of record ran inside the write transaction (the flag travels to the thread)."""
    seen: list[bool] = []
    original = render_service.render_job_sync

    def spy(job: render_service.RenderJob, *, strict: bool = False) -> bytes:
        if strict:
            seen.append(in_write_transaction())
        return original(job, strict=strict)
    monkeypatch.setattr(render_service, "render_job_sync", spy)
    return seen


def records_folder(config: Config) -> Path:
    return config.data_dir / "attachments" / "records"


def recorded(config: Config, document_id: int) -> tuple[str, int, str]:
    rows = query(config, "SELECT sha256, size, origin FROM document_record WHERE document = ?", document_id)
    assert len(rows) == 1
    return rows[0]


def check_passes(config: Config) -> None:
    assert run_checks(config.database_path) == []


def test_the_render_of_record_is_made_outside_the_write_lock_and_recorded_in_the_issue(config: Config,
                                                                                      renders: list[bool]):
    issued = run(documents_service.issue(draft_invoice().id))
    assert renders == [False]   # one render, before the lock: the transaction only recorded it
    sha256, size, origin = recorded(config, issued.id)
    stored = (records_folder(config) / f"{sha256}.pdf").read_bytes()
    assert hashlib.sha256(stored).hexdigest() == sha256 and len(stored) == size and origin == "issue"
    assert sorted(p.name for p in records_folder(config).iterdir()) == [f"{sha256}.pdf"]
    # The stored file is the document as issued: rendering the issued document again gives the same bytes.
    inputs = run(render_service._inputs(issued.id, None, config.data_dir))
    assert render_service.render_job_sync(inputs.job(), strict=True) == stored
    assert issued.number and issued.number in _text(stored)
    check_passes(config)


def test_a_document_that_came_out_differently_is_rendered_in_the_transaction(config: Config, renders: list[bool],
                                                                              monkeypatch: pytest.MonkeyPatch):
    first, second = draft_invoice("First job"), draft_invoice("Second job")

    @asynccontextmanager
    async def another_issue_meanwhile(view: DocumentView) -> AsyncIterator[None]:
        # Between the preview and the issuing transaction, another document takes the number.
        if view.id == first.id:
            await documents_service.issue(second.id)
        yield
    monkeypatch.setattr(documents_service, "_issue_preparers",
                        [*documents_service._issue_preparers, another_issue_meanwhile])
    issued = run(documents_service.issue(first.id))
    other = run(documents_service.get_document(second.id))
    assert other.number and issued.number == _next(other.number)
    # first: prepared (outside), second: prepared (outside), first again: in the transaction.
    assert renders == [False, False, True]
    kept = {recorded(config, issued.id)[0], recorded(config, other.id)[0]}
    assert {p.name for p in records_folder(config).iterdir()} == {f"{sha}.pdf" for sha in kept}
    check_passes(config)


def test_a_refused_issue_is_refused_before_the_lock_and_leaves_no_file(config: Config, renders: list[bool]):
    unprintable = "\U000f0000"
    draft = draft_invoice(f"Work {unprintable}")
    from app.common.logic import ValidationFailed

    with pytest.raises(ValidationFailed):
        run(documents_service.issue(draft.id))
    assert renders == [False]
    assert run(documents_service.get_document(draft.id)).status == "draft"
    assert query(config, "SELECT COUNT(*) FROM document_record") == [(0,)]
    folder = records_folder(config)
    assert not folder.exists() or not any(folder.iterdir())


def test_the_preview_keeps_nothing(config: Config):
    draft = draft_invoice()
    before = {table: query(config, f"SELECT * FROM {table}")
              for table in ("document", "number_series", "ledger_entry", "document_event", "audit_entry")}
    from datetime import UTC, datetime

    view = run(documents_service.issue_preview(draft.id, now=datetime.now(UTC)))
    assert view.status == "issued" and view.number
    assert {table: query(config, f"SELECT * FROM {table}") for table in before} == before


def _next(number: str) -> str:
    prefix, seq = number.rsplit("-", 1)
    return f"{prefix}-{int(seq) + 1:0{len(seq)}d}"


def _text(pdf: bytes) -> Any:
    import subprocess

    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def test_a_zip_keeps_the_first_renders_of_unrecorded_documents_in_batches(config: Config,
                                                                          monkeypatch: pytest.MonkeyPatch):
    import zipfile

    # Issued as before records were kept: no preparer, no hook.
    monkeypatch.setattr(documents_service, "_issue_hooks", [])
    monkeypatch.setattr(documents_service, "_issue_preparers", [])
    monkeypatch.setattr(render_service, "RECORD_BATCH", 2)
    issued = [run(documents_service.issue(draft_invoice(f"Job {n}").id)) for n in range(5)]
    assert query(config, "SELECT COUNT(*) FROM document_record") == [(0,)]
    commits: list[int] = []
    original = documents_service.keep_document_records

    async def counted(records: Any, **kwargs: Any) -> Any:
        commits.append(len(records))
        return await original(records, **kwargs)
    monkeypatch.setattr(documents_service, "keep_document_records", counted)
    path, count = run(render_service.documents_zip("invoice", data_dir=config.data_dir))
    with zipfile.ZipFile(path) as archive:
        contents = [archive.read(name) for name in archive.namelist()]
    path.unlink()
    assert count == 5 and sum(commits) == 5 and max(commits) <= 2
    for document, content in zip(issued, contents, strict=True):
        sha256, size, origin = recorded(config, document.id)
        assert (hashlib.sha256(content).hexdigest(), len(content), origin) == (sha256, size, "first use")
        assert (records_folder(config) / f"{sha256}.pdf").read_bytes() == content
    check_passes(config)


def test_while_another_write_holds_the_writer_the_issue_renders_in_its_transaction(config: Config,
                                                                                   renders: list[bool]):
    import asyncio

    from app.db.engine import write_transaction

    draft = draft_invoice()

    async def burst() -> DocumentView:
        holding = asyncio.Event()

        async def other_write() -> None:
            async with write_transaction():
                holding.set()
                await asyncio.sleep(0.2)
        other = asyncio.create_task(other_write())
        await holding.wait()
        issued = await documents_service.issue(draft.id)
        await other
        return issued
    issued = run(burst())
    assert renders == [True]   # no preview (it would race the other writes for the number): one render, inside
    sha256, _size, origin = recorded(config, issued.id)
    assert origin == "issue" and (records_folder(config) / f"{sha256}.pdf").is_file()
    check_passes(config)
