"""Batch print and ZIP jobs: the PDFs of a filtered list, made in the background.

A job belongs to the user who started it and lives in this server process's memory
(`Batches`, one per app). It renders through the render domain's pool and cache
(`render.service.documents_zip` for a ZIP, `render_documents` plus pikepdf for "Print
all"), one batch at a time, so the pool's threads are never shared by two batches.
Its file lies in the data folder's cache/exports; it is removed once downloaded, an
hour after it was made, when the job is cancelled or fails, and when the server
starts (nothing there can belong to a live job then).
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.background import stop_task
from app.batch import logic
from app.batch.logic import Filters
from app.clients import service as clients_service
from app.common.i18n import _
from app.common.logic import Conflict, FieldError, NotFound, Page, ValidationFailed
from app.config import Config
from app.documents import service as documents_service
from app.paths import ensure_private_dir
from app.render import service as render_service
from app.render.service import RenderError

log = logging.getLogger("counterfoil.batch")
SWEEP_EVERY_S = 60.0
MEDIA_TYPES = {logic.ZIP: "application/zip", logic.PRINT: "application/pdf"}


class EmptyBatch(Conflict):
    """The filters match nothing to print: said in words, never an empty file."""


@dataclass(frozen=True)
class BatchCount:
    count: int             # the PDFs the batch makes
    drafts_left_out: int   # drafts in the list that it leaves out


async def count_batch(doc_type: str, filters: Filters) -> BatchCount:
    """How many PDFs the filters give: the list's count, less its drafts unless drafts were asked for
    (two COUNT queries, whatever the size of the list)."""
    one = Page(page=1, per_page=1)
    common: dict[str, Any] = {"client_id": filters.client_id, "date_from": filters.date_from,
                              "date_to": filters.date_to, "q": filters.q, "page": one}
    listed = await documents_service.list_documents(doc_type, status=filters.status, **common)
    drafts = 0
    if not filters.status:
        drafts = (await documents_service.list_documents(doc_type, status="draft", **common)).total
    return BatchCount(count=listed.total - drafts, drafts_left_out=drafts)


async def client_name_of(filters: Filters) -> str:
    if filters.client_id is None:
        return ""
    try:
        return (await clients_service.get_client(filters.client_id)).name
    except NotFound:
        raise ValidationFailed([FieldError("client_id", _("Client: there is no client number %(client_id)s.", client_id=filters.client_id))],
                               detail=_("These filters cannot be used.")) from None


@dataclass
class Job:
    id: str
    owner_id: int
    doc_type: str
    kind: str
    filters: Filters
    client_name: str
    filename: str
    status: logic.JobStatus
    path: Path | None = None
    task: asyncio.Task[None] | None = None
    template_error: bool = False   # the user's own template failed: the page links to its setting

    @property
    def key(self) -> tuple[int, str, str, Filters]:
        return (self.owner_id, self.doc_type, self.kind, self.filters)

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.kind]


class _Combined:
    """One PDF from many (pikepdf): each document's pages in order, with an outline entry per
    document. Its methods run in worker threads, one at a time (a lock: a cancelled batch closes
    it while an `add` or `save` may still be running); the sources stay open until saved (their
    page content is copied when the result is written)."""

    def __init__(self) -> None:
        import pikepdf

        self._pikepdf = pikepdf
        self._lock = threading.RLock()
        self.pdf = pikepdf.Pdf.new()
        self.sources: list[Any] = []
        self.marks: list[tuple[str, int]] = []
        self.closed = False

    def add(self, content: bytes, title: str) -> None:
        with self._lock:
            if self.closed:
                return
            source = self._pikepdf.open(io.BytesIO(content))
            self.sources.append(source)
            self.marks.append((title, len(self.pdf.pages)))
            self.pdf.pages.extend(source.pages)

    def save(self, path: Path, title: str) -> int:
        """Write the result into `path`, made (private) beforehand: opened without creating it, so a
        file a cancel removed meanwhile is not made again. Closes everything; returns the pages."""
        with self._lock:
            try:
                with self.pdf.open_outline() as outline:
                    outline.root.extend(self._pikepdf.OutlineItem(name, page) for name, page in self.marks)
                self.pdf.docinfo["/Title"] = title
                self.pdf.docinfo["/Creator"] = "Counterfoil"
                with os.fdopen(os.open(path, os.O_WRONLY | os.O_TRUNC), "wb") as handle:
                    self.pdf.save(handle)
                return len(self.pdf.pages)
            finally:
                self.close()

    def close(self) -> None:
        """Close the result and every source, saved or not (idempotent)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            for source in self.sources:
                source.close()
            self.sources.clear()
            self.pdf.close()


def clean_folder(folder: Path) -> int:
    """Remove every file left in the exports folder (at start no job can own one); returns how many."""
    removed = 0
    if not folder.is_dir():
        return 0
    for entry in os.scandir(folder):
        if entry.is_file(follow_symlinks=False) or entry.is_symlink():
            try:
                os.unlink(entry.path)
                removed += 1
            except OSError as error:
                log.warning("could not remove the stale export %s: %s", entry.path, error)
    return removed


class Batches:
    """The batch jobs of this server process."""

    def __init__(self, config: Config, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self.jobs: dict[str, Job] = {}
        self._gate: asyncio.Semaphore | None = None
        self._starting = asyncio.Lock()
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def folder(self) -> Path:
        return render_service.cache_dir_of(self.config.data_dir).parent / "exports"

    # -- the server's life ----------------------------------------------------------

    async def start(self) -> None:
        removed = clean_folder(self.folder)
        if removed:
            log.info("removed %d stale export file(s) from %s", removed, self.folder)
        self._gate = asyncio.Semaphore(1)
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="batch-sweeper")

    async def stop(self) -> None:
        await stop_task(self._sweeper)
        self._sweeper = None
        tasks = [job.task for job in self.jobs.values() if job.task is not None and not job.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for job in self.jobs.values():
            self._drop_file(job)
        self.jobs.clear()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY_S)
            try:
                self.sweep()
            except Exception:  # a sweep must never end the loop
                log.exception("sweeping the batch jobs failed")

    def sweep(self, now: float | None = None) -> None:
        """Expire ready files after an hour; remove files nobody will fetch; forget old jobs."""
        now = self.clock() if now is None else now
        for job in list(self.jobs.values()):
            if logic.should_expire(job.status, now):
                job.status = logic.expired(job.status)
            if job.status.state in (logic.CANCELLED, logic.FAILED, logic.EXPIRED):
                self._drop_file(job)
            if logic.should_forget(job.status, now):
                self._drop_file(job)
                self.jobs.pop(job.id, None)

    def _drop_file(self, job: Job) -> None:
        if job.path is None:
            return
        try:
            job.path.unlink(missing_ok=True)
            job.path = None
        except OSError as error:   # e.g. still open on Windows: the next sweep tries again
            log.warning("could not remove %s: %s", job.path, error)

    # -- what a user does -------------------------------------------------------------

    def get(self, job_id: str, owner_id: int) -> Job:
        """The user's own job; anybody else's, or one forgotten, is not found."""
        self.sweep()
        job = self.jobs.get(job_id)
        if job is None or job.owner_id != owner_id:
            raise NotFound(_("Batch"))
        return job

    async def start_job(self, owner_id: int, doc_type: str, kind: str, filters: Filters) -> Job:
        """Start a batch (or return the same one already running: a double-click starts one)."""
        self.sweep()
        kind = logic.parse_kind(kind)
        # One start at a time: the checks below and adding the job are separated by database reads,
        # and two requests together (a double-click) must not both pass the checks.
        async with self._starting:
            return await self._start_job(owner_id, doc_type, kind, filters)

    async def _start_job(self, owner_id: int, doc_type: str, kind: str, filters: Filters) -> Job:
        for job in self.jobs.values():
            if job.status.active and job.key == (owner_id, doc_type, kind, filters):
                return job
        active = sum(1 for job in self.jobs.values() if job.owner_id == owner_id and job.status.active)
        if active >= logic.MAX_ACTIVE_PER_USER:
            raise Conflict(_("You already have %(active)s batches under way; wait for one to finish or cancel it.", active=active))
        client_name = await client_name_of(filters)
        counted = await count_batch(doc_type, filters)
        if counted.count == 0:
            raise EmptyBatch(logic.empty_message(doc_type, counted.drafts_left_out))
        job = Job(id=secrets.token_urlsafe(12), owner_id=owner_id, doc_type=doc_type, kind=kind, filters=filters,
                  client_name=client_name, filename=logic.batch_filename(doc_type, kind, filters, client_name),
                  status=logic.queued(self.clock()))
        self.jobs[job.id] = job
        job.task = asyncio.create_task(self._run(job), name=f"batch-{job.id}")
        return job

    def cancel(self, job_id: str, owner_id: int) -> Job:
        """Stop a queued or running batch; one that has ended stays as it is."""
        job = self.get(job_id, owner_id)
        if job.status.active:
            job.status = logic.cancelled(job.status, self.clock())
            if job.task is not None:
                job.task.cancel()
            self._drop_file(job)
        return job

    def take_file(self, job_id: str, owner_id: int) -> tuple[Job, Path]:
        """The finished file, once: the job becomes downloaded, and `release` removes the file after sending."""
        job = self.get(job_id, owner_id)
        state = job.status.state
        if state == logic.DONE and job.path is not None and job.path.is_file():
            job.status = logic.downloaded(job.status)
            return job, job.path
        if state in logic.ACTIVE:
            raise Conflict(_("The file is not ready yet; this page shows when it is."))
        if state == logic.DOWNLOADED:
            raise Conflict(_("This file was already downloaded, and removed from this computer's cache. "
                           "Make it again from its batch page."))
        if state == logic.EXPIRED:
            raise Conflict(_("This file was removed after an hour. Make it again from its batch page."))
        if state == logic.DONE:
            raise Conflict(_("This batch's file is no longer on this computer. Make it again from its batch page."))
        raise Conflict(_("This batch has no file: it was cancelled or failed."))

    def release(self, job: Job) -> None:
        """After the file was sent."""
        self._drop_file(job)

    def now(self) -> float:
        return self.clock()

    # -- the work ---------------------------------------------------------------------------

    async def _run(self, job: Job) -> None:
        if self._gate is None:   # started outside the app's startup (scripts, tests of the service)
            self._gate = asyncio.Semaphore(1)
        try:
            async with self._gate:
                job.status = logic.started(job.status, self.clock())
                if job.kind == logic.ZIP:
                    await self._make_zip(job)
                else:
                    await self._make_print(job)
        except asyncio.CancelledError:
            self._drop_file(job)
            if job.status.active:
                job.status = logic.cancelled(job.status, self.clock())
        except EmptyBatch as empty:
            self._fail(job, empty.detail)
        except RenderError as error:
            job.template_error = error.custom
            self._fail(job, str(error) if error.custom else f"A PDF could not be made: {error}")
        except Exception as error:
            log.exception("batch %s failed", job.id)
            self._fail(job, f"Something went wrong while making the PDFs ({type(error).__name__}: {error}). "
                            "Nothing was kept; try again.")

    def _fail(self, job: Job, message: str) -> None:
        self._drop_file(job)
        if job.status.active:
            job.status = logic.failed(job.status, self.clock(), message)

    def _hook(self, job: Job) -> Callable[[int, int], None]:
        def on_progress(done: int, total: int) -> None:
            if not job.status.active:
                return
            if job.status.total != total:   # known, or fewer: documents deleted meanwhile are left out
                job.status = logic.counted(job.status, total)
            job.status = logic.progressed(job.status, done)
        return on_progress

    def _empty(self, job: Job) -> EmptyBatch:
        return EmptyBatch(logic.empty_message(job.doc_type, 0) + " (They changed since the batch was started.)")

    async def _make_zip(self, job: Job) -> None:
        f = job.filters
        path, count = await render_service.documents_zip(
            job.doc_type, status=f.status, client_id=f.client_id, date_from=f.date_from, date_to=f.date_to, q=f.q,
            data_dir=self.config.data_dir, on_progress=self._hook(job))
        job.path = path
        if count == 0:
            raise self._empty(job)
        job.status = logic.finished(job.status, self.clock(), size=path.stat().st_size, made=count)

    async def _make_print(self, job: Job) -> None:
        f = job.filters
        ids = await render_service.document_ids(job.doc_type, status=f.status, client_id=f.client_id,
                                                date_from=f.date_from, date_to=f.date_to, q=f.q)
        if not ids:
            raise self._empty(job)
        combined = _Combined()

        async def add(filename: str, content: bytes) -> None:
            await asyncio.to_thread(combined.add, content, logic.bookmark_title(filename))

        try:
            made = await render_service.render_documents(job.doc_type, ids, data_dir=self.config.data_dir,
                                                         on_document=add, on_progress=self._hook(job))
            if made == 0:
                raise self._empty(job)
            job.status = logic.combining(job.status)
            fd, name = tempfile.mkstemp(dir=ensure_private_dir(self.folder), prefix="batch-", suffix=".pdf")
            os.close(fd)
            path = job.path = Path(name)
            title = " \u00b7 ".join([logic.NOUNS[job.doc_type][1].capitalize(),
                                     *logic.describe(job.doc_type, job.filters, job.client_name)])
            pages = await asyncio.to_thread(combined.save, path, title)
        finally:
            # In a worker thread, not awaited: after a cancel it waits for an `add` or `save` still
            # running in its thread (cancelling the task does not stop those).
            asyncio.get_running_loop().run_in_executor(None, combined.close)
        if not job.status.active:   # cancelled while the thread was writing
            path.unlink(missing_ok=True)
            return
        job.status = logic.finished(job.status, self.clock(), size=path.stat().st_size, pages=pages, made=made)
