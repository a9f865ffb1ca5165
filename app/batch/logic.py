"""Batch print and ZIP of the PDFs of a filtered document list: the rules, no I/O.

A batch is a job of one user: `queued` (another batch renders), `running` (finding the
documents, rendering them, for "Print all" combining them into one PDF), then `done`,
`failed` or `cancelled`. A finished file is `downloaded` (and removed at once) or
`expired` an hour after it was made. Times are seconds of one monotonic clock, given by
the caller, so every rule here is a plain function of its arguments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from babel.dates import format_timedelta
from babel.numbers import format_decimal

from app.common.i18n import N_, _
from app.common.logic import Conflict, FieldError, ValidationFailed, date_problem, filename_part
from app.documents.logic import CREDIT_NOTE, INVOICE, QUOTE, STATUS_LABELS, STATUSES, TYPE_PATHS

LOCALE = "en_CA"   # the pages' locale (app/http/templating.py)

ZIP, PRINT = "zip", "print"
KINDS = (ZIP, PRINT)
KIND_LABELS = {ZIP: N_("Download PDFs (ZIP)"), PRINT: N_("Print all")}
NOUNS = {INVOICE: ("invoice", "invoices"), QUOTE: ("quote", "quotes"), CREDIT_NOTE: ("credit note", "credit notes")}

QUEUED, RUNNING, DONE, FAILED, CANCELLED, DOWNLOADED, EXPIRED = (
    "queued", "running", "done", "failed", "cancelled", "downloaded", "expired")
ACTIVE = frozenset({QUEUED, RUNNING})
TRANSITIONS: dict[str, frozenset[str]] = {
    QUEUED: frozenset({RUNNING, FAILED, CANCELLED}),
    RUNNING: frozenset({DONE, FAILED, CANCELLED}),
    DONE: frozenset({DOWNLOADED, EXPIRED}),
}
STATE_LABELS = {QUEUED: N_("Waiting"), RUNNING: N_("Working"), DONE: N_("Ready"), FAILED: N_("Failed"), CANCELLED: N_("Cancelled"),
                DOWNLOADED: N_("Downloaded"), EXPIRED: N_("Expired")}
FINDING, RENDERING, COMBINING = "finding", "rendering", "combining"

FILE_TTL_S = 3600.0          # a finished file is removed an hour after it was made
FORGET_AFTER_S = 2 * 3600.0  # the job itself is forgotten later, so its page can still say why
MIN_ESTIMATE_S = 1.0         # no estimate of the time left before this much work was measured
MAX_ACTIVE_PER_USER = 4
MAX_SEARCH = 200


# -- filters -------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """The list's filters, as the batch applies them (the same as the list and the ZIP API)."""

    status: str = ""
    client_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""

    def query(self) -> dict[str, str]:
        """The list's own query parameters (`from`, `to`...), empty ones left out."""
        values = {"status": self.status, "client_id": "" if self.client_id is None else str(self.client_id),
                  "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else "", "q": self.q}
        return {key: value for key, value in values.items() if value}

    @property
    def drafts_included(self) -> bool:
        """Drafts are printed only when asked for by their status (as the ZIP API does)."""
        return self.status == "draft"


def allowed_statuses(doc_type: str) -> tuple[str, ...]:
    return STATUSES[doc_type] + (("open",) if doc_type == INVOICE else ())


def _day(raw: Mapping[str, Any], key: str, label: str, errors: list[FieldError]) -> date | None:
    text = str(raw.get(key) or "").strip()
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            problem = date_problem(day, label)
            if problem is None:
                return day
            errors.append(FieldError(key, problem))
            return None
    except ValueError:
        pass
    errors.append(FieldError(key, _("%(label)s: “%(text)s” is not a date; use YYYY-MM-DD.", label=label, text=text[:40])))
    return None


def parse_filters(doc_type: str, raw: Mapping[str, Any]) -> Filters:
    """The filters from a form or a query string; bad input names its field (ValidationFailed)."""
    if doc_type not in TYPE_PATHS:
        raise ValidationFailed([FieldError("doc_type", f"Unknown document type {doc_type!r}.")])
    errors: list[FieldError] = []
    status = str(raw.get("status") or "").strip()
    if status and status not in allowed_statuses(doc_type):
        errors.append(FieldError("status", _("Status: “%(status)s” is not a status of %(NOUNS)s; use one of %(join)s.", status=status[:40], NOUNS=NOUNS[doc_type][1], join=', '.join(allowed_statuses(doc_type)))))
    client_text = str(raw.get("client_id") or "").strip()
    client_id = None
    if client_text:
        if client_text.isdigit() and len(client_text) < 12:
            client_id = int(client_text)
        else:
            errors.append(FieldError("client_id", _("Client: “%(client_text)s” is not a client number.", client_text=client_text[:40])))
    date_from = _day(raw, "from", "From", errors)
    date_to = _day(raw, "to", "To", errors)
    if date_from and date_to and date_to < date_from:
        errors.append(FieldError("to", _("To: the period ends (%(date_to)s) before it starts (%(date_from)s).", date_to=date_to, date_from=date_from)))
    q = " ".join(str(raw.get("q") or "").split())
    if len(q) > MAX_SEARCH:
        errors.append(FieldError("q", _("Search: at most %(MAX_SEARCH)s characters.", MAX_SEARCH=MAX_SEARCH)))
    if errors:
        raise ValidationFailed(errors, detail=_("These filters cannot be used."))
    return Filters(status=status, client_id=client_id, date_from=date_from, date_to=date_to, q=q)


def parse_kind(value: Any) -> str:
    kind = str(value or "").strip()
    if kind not in KINDS:
        raise ValidationFailed([FieldError("kind", _("Choose \u201cDownload PDFs (ZIP)\u201d or \u201cPrint all\u201d."))],
                               detail=_("Unknown batch action."))
    return kind


def status_text(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def describe(doc_type: str, filters: Filters, client_name: str = "") -> list[str]:
    """The filters in words, for the job's page: ["Status: Overdue", "Client: Globex", ...]."""
    parts = []
    if filters.status:
        parts.append(f"Status: {status_text(filters.status)}")
    if filters.client_id is not None:
        parts.append(f"Client: {client_name or '#' + str(filters.client_id)}")
    period = _period(filters, "Issued {} to {}", "Issued from {}", "Issued until {}")
    if period:
        parts.append(period)
    if filters.q:
        parts.append(f"Search: \u201c{filters.q}\u201d")
    return parts or [f"All {NOUNS[doc_type][1]}"]


def _period(filters: Filters, both: str, since: str, until: str) -> str:
    """The issue-date filter in one of three phrasings (both ends, from, until), "" without one."""
    start, end = filters.date_from, filters.date_to
    if start and end:
        return both.format(start.isoformat(), end.isoformat())
    if start:
        return since.format(start.isoformat())
    return until.format(end.isoformat()) if end else ""


# -- names -----------------------------------------------------------------------------

def slug(text: str, limit: int = 40) -> str:
    """Letters (any script), digits, dots and hyphens: a part of a file name (app.common.logic.filename_part)."""
    return filename_part(text, limit)


def batch_filename(doc_type: str, kind: str, filters: Filters, client_name: str = "") -> str:
    """`invoices_overdue_Globex_2026-01-01_to_2026-03-31.zip`; Print all gives `..._print.pdf`. A search
    is marked `search`, without its words: a download's name never repeats what a query parameter said."""
    parts = [TYPE_PATHS[doc_type]]
    if filters.status:
        parts.append(slug(filters.status))
    if filters.client_id is not None:
        parts.append(slug(client_name) or f"client-{filters.client_id}")
    period = _period(filters, "{}_to_{}", "from_{}", "until_{}")
    if period:
        parts.append(period)
    if filters.q:
        parts.append("search")
    if len(parts) == 1:
        parts.append("all")
    if kind == PRINT:
        parts.append("print")
    return "_".join(part for part in parts if part) + (".pdf" if kind == PRINT else ".zip")


def job_title(doc_type: str, kind: str) -> str:
    plural = NOUNS[doc_type][1]
    return f"Print all {plural}" if kind == PRINT else f"{plural.capitalize()} as PDFs (ZIP)"


def bookmark_title(filename: str) -> str:
    """A document's entry in the combined PDF's outline: `INV-2026-0007_Globex.pdf` -> `INV-2026-0007 · Globex`."""
    number, _sep, client = filename.removesuffix(".pdf").partition("_")
    return f"{number} \u00b7 {client.replace('-', ' ')}" if client else number


# -- counts and texts ---------------------------------------------------------------------

def count_text(n: int) -> str:
    return format_decimal(n, locale=LOCALE)


def nouns(doc_type: str, n: int) -> str:
    """`1 invoice`, `1,000 invoices`."""
    singular, plural = NOUNS[doc_type]
    return f"{count_text(n)} {singular if n == 1 else plural}"


def pdfs(n: int) -> str:
    return f"{count_text(n)} PDF" + ("" if n == 1 else "s")


def empty_message(doc_type: str, drafts_left_out: int) -> str:
    """What an empty batch says instead of making an empty file."""
    plural = NOUNS[doc_type][1]
    if drafts_left_out:
        return (f"No {plural} match these filters: the {nouns(doc_type, drafts_left_out)} in this list "
                f"{'is a draft' if drafts_left_out == 1 else 'are drafts'}, and drafts are left out. "
                "Choose the status \u201cDraft\u201d to print drafts.")
    return f"No {plural} match these filters."


def actions_view(doc_type: str, count: int, drafts_left_out: int) -> dict[str, Any]:
    """The list's batch actions: how many PDFs its filters give, and what is left out."""
    return {
        "count": count,
        "count_label": nouns(doc_type, count),
        "drafts_note": f"{count_text(drafts_left_out)} draft{'' if drafts_left_out == 1 else 's'} left out"
        if drafts_left_out else "",
        "empty_message": empty_message(doc_type, drafts_left_out) if count == 0 else "",
    }


def clock(seconds: float) -> str:
    """Elapsed time as a clock: 0:07, 12:45, 1:02:03."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def size_text(size: int) -> str:
    """Bytes in the units a file manager shows (decimal): 820 bytes, 14 kB, 12.3 MB."""
    if size < 1000:
        return f"{size} byte" + ("" if size == 1 else "s")
    for unit, scale in (("kB", 10**3), ("MB", 10**6), ("GB", 10**9)):
        if size < scale * 1000 or unit == "GB":
            value = Decimal(size) / scale
            return f"{format_decimal(value, format='#,##0' if value >= 100 else '#,##0.#', locale=LOCALE)} {unit}"
    raise AssertionError("unreachable")


# -- the job's state ---------------------------------------------------------------------

@dataclass(frozen=True)
class JobStatus:
    state: str = QUEUED
    created: float = 0.0
    started: float | None = None
    finished: float | None = None
    phase: str = ""
    total: int | None = None
    done: int = 0
    error: str = ""
    size: int = 0
    pages: int = 0

    @property
    def active(self) -> bool:
        return self.state in ACTIVE


def _move(status: JobStatus, state: str, **changes: Any) -> JobStatus:
    if state not in TRANSITIONS.get(status.state, frozenset()):
        raise Conflict(_("This batch is %(lower)s; it cannot become %(lower2)s.", lower=STATE_LABELS[status.state].lower(), lower2=STATE_LABELS[state].lower()))
    return replace(status, state=state, **changes)


def queued(now: float) -> JobStatus:
    return JobStatus(state=QUEUED, created=now)


def started(status: JobStatus, now: float) -> JobStatus:
    return _move(status, RUNNING, started=now, phase=FINDING)


def counted(status: JobStatus, total: int) -> JobStatus:
    """The list is known: rendering starts. The total may only shrink afterwards (a document
    deleted while the batch runs is left out); a second call with the same total changes nothing."""
    if status.state != RUNNING:
        raise Conflict(_("Only a running batch counts its documents."))
    if total < 0 or (status.total is not None and total > status.total):
        raise ValueError(_("the batch's size cannot grow from %(total)s to %(total2)s", total=status.total, total2=total))
    return replace(status, total=total, done=min(status.done, total),
                   phase=RENDERING if status.phase == FINDING else status.phase)


def progressed(status: JobStatus, done: int) -> JobStatus:
    """`done` PDFs made: never more than the total, never fewer than before."""
    if status.state != RUNNING or status.total is None:
        raise Conflict(_("Only a running batch with a known size makes progress."))
    return replace(status, done=max(status.done, min(done, status.total)))


def combining(status: JobStatus) -> JobStatus:
    if status.state != RUNNING:
        raise Conflict(_("Only a running batch combines its PDFs."))
    return replace(status, phase=COMBINING)


def finished(status: JobStatus, now: float, *, size: int, pages: int = 0, made: int | None = None) -> JobStatus:
    """Done: `made` is how many PDFs the file really holds (the headline says that number)."""
    done = made if made is not None else status.total if status.total is not None else status.done
    return _move(status, DONE, finished=now, size=size, pages=pages, phase="", done=done, total=done)


def failed(status: JobStatus, now: float, message: str) -> JobStatus:
    return _move(status, FAILED, finished=now, error=message or "The PDFs could not be made.", phase="")


def cancelled(status: JobStatus, now: float) -> JobStatus:
    return _move(status, CANCELLED, finished=now, phase="")


def downloaded(status: JobStatus) -> JobStatus:
    return _move(status, DOWNLOADED)


def expired(status: JobStatus) -> JobStatus:
    return _move(status, EXPIRED)


def should_expire(status: JobStatus, now: float) -> bool:
    """A ready file nobody downloaded is removed an hour after it was made."""
    return status.state == DONE and status.finished is not None and now - status.finished >= FILE_TTL_S


def should_forget(status: JobStatus, now: float) -> bool:
    """A job that ended long ago leaves the server's memory (its page then says "not found")."""
    return (not status.active and status.finished is not None and status.state != DONE
            and now - status.finished >= FORGET_AFTER_S)


# -- time -------------------------------------------------------------------------------------

def elapsed(status: JobStatus, now: float) -> float:
    if status.started is None:
        return 0.0
    return max(0.0, (status.finished if status.finished is not None else now) - status.started)


def eta_seconds(done: int, total: int, elapsed_s: float) -> float | None:
    """Time left at the pace so far: elapsed x (total - done) / done. None until something was
    measured (no PDF made yet, or under MIN_ESTIMATE_S of work); 0 when all are made."""
    if total <= 0 or done >= total:
        return 0.0
    if done <= 0 or elapsed_s < MIN_ESTIMATE_S:
        return None
    return elapsed_s * (total - done) / done


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "Estimating\u2026"
    if seconds < 10:
        return "A few seconds"
    return "About " + format_timedelta(timedelta(seconds=seconds), threshold=1.5, locale=LOCALE)


def percent(status: JobStatus) -> int:
    if status.state in (DONE, DOWNLOADED, EXPIRED):
        return 100
    if not status.total:
        return 0
    return min(100, status.done * 100 // status.total)


def headline(status: JobStatus, doc_type: str, kind: str) -> str:
    """The panel's one line: "Rendering 340 of 1,000 PDFs"."""
    plural = NOUNS[doc_type][1]
    total = status.total or 0
    if status.state == QUEUED:
        return "Waiting for another batch to finish\u2026"
    if status.state == RUNNING:
        if status.phase == FINDING or status.total is None:
            return f"Finding the {plural}\u2026"
        if status.phase == COMBINING:
            return f"Combining {pdfs(total)} into one file\u2026"
        return f"Rendering {count_text(status.done)} of {pdfs(total)}"
    if status.state == DONE:
        if kind == PRINT:
            return f"{nouns(doc_type, total)} ready to print"
        return f"{pdfs(total)} ready"
    if status.state == FAILED:
        return "The PDFs could not be made"
    if status.state == CANCELLED:
        return "Cancelled"
    if status.state == DOWNLOADED:
        return "Downloaded" if kind == ZIP else "Opened"
    return "Expired"


def panel(status: JobStatus, now: float, *, doc_type: str, kind: str) -> dict[str, Any]:
    """Everything the progress panel shows, as text."""
    spent = elapsed(status, now)
    estimate = eta_seconds(status.done, status.total, spent) if status.total is not None and status.active else None
    return {
        "state": status.state, "state_label": STATE_LABELS[status.state], "active": status.active,
        "headline": headline(status, doc_type, kind), "percent": percent(status), "done": status.done,
        "total": status.total, "known": status.total is not None and status.phase == RENDERING,
        "elapsed": clock(spent), "eta": eta_text(estimate) if status.state == RUNNING else "",
        "error": status.error, "size": size_text(status.size) if status.size else "",
        "pages": count_text(status.pages) if status.pages else "", "phase": status.phase,
    }
