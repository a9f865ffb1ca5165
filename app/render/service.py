"""PDFs from the Typst templates in typst_templates/, rendered off the event loop.

- Fonts come only from the bundled folder (ignore_system_fonts) so a PDF looks the
  same on every machine.
- Typst reads nothing outside the render's own root: a template may come from a restored
  backup, so it must not `#read` the database or any other file into a PDF. With a data
  folder the root is `cache/typst/<digest>/`, a copy of the templates in use (`default/`,
  and `custom/` when the user's are on) with the logo copied into `assets/`; without one
  it is the template's own folder.
- Each worker thread keeps its own `typst.Compiler` (a shared one is not
  thread-safe); Typst releases the GIL, so threads render in parallel.
- Issued invoices and credit notes are PDF/A-3b with the Factur-X XML attached and
  the Factur-X XMP metadata added (unless turned off in settings).
- An issued document's PDF is its document of record: rendered once, just before the issuing
  transaction on the document as it will be issued, and recorded inside it when the document came
  out the same (else rendered there); a document that cannot be printed is not issued
  (`_prepare_record_at_issue`, `_make_record_at_issue`). Kept at
  `attachments/records/<sha256>.pdf` (backups carry attachments/) with its hash in
  `document_record`, and served byte for byte by every download, email, ZIP and accountant
  package ever after. Documents issued before records were kept get theirs on first use.
  Payments and a cancellation never change it (a receipt or the statement says what was paid).
- Drafts render every time (watermarked); nothing of theirs is kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.clients import service as clients_service
from app.common.i18n import L_, _
from app.common.logic import Conflict, FieldError, Page, ValidationFailed, filename_part
from app.db import datafolder
from app.documents import service as documents_service
from app.documents.records import DocumentView
from app.fx import service as fx_service
from app.paths import FONTS_DIR, TYPST_DIR, ensure_private_dir, fsync_dir, fsync_file
from app.receivables import service as receivables_service
from app.receivables.logic import StatementView
from app.render import logic, ubl
from app.settings import service as settings_service

if TYPE_CHECKING:   # typst (an 80 MB library) and segno load at the first render, not at start
    import typst

log = logging.getLogger("counterfoil.render")
CACHE_FOLDER = ("cache", "pdf")
RECORDS_FOLDER = ("attachments", "records")   # the documents of record, named by their sha256
ROOTS_FOLDER = ("cache", "typst")   # the render roots: what Typst may read
ASSETS_FOLDER = "assets"            # in a root: the files the data points at (the logo)
STALE_ROOT_S = 300                  # a root no longer current is removed once this old
TEMPLATES_FOLDER = "templates"   # the user's own templates, in the data folder
ZIP_PAGE = 200
READ_BATCH = 50   # documents read from the database at a time for a ZIP or batch print
RECORD_BATCH = 50   # first renders of a ZIP whose records are kept in one transaction
SWITCH_BACK = L_("You can switch back to the default templates in Settings (Document templates: "
                 "\u201cUse the default templates\u201d).")


class RenderError(RuntimeError):
    """A template failed: carries Typst's message and where it happened.

    `custom` is true when the failing template is the user's own copy (their edit is at
    fault, not the program): the message then says how to switch back to the defaults."""

    def __init__(self, message: str, *, template: str = "", diagnostic: str = "", custom: bool = False):
        super().__init__(message)
        self.template = template
        self.diagnostic = diagnostic
        self.custom = custom


# -- the compiler -----------------------------------------------------------------

_local = threading.local()


def _compiler() -> typst.Compiler:
    import typst

    compiler = getattr(_local, "compiler", None)
    if compiler is None:
        # Every compile names its own root; the bundled folder is only the default.
        compiler = typst.Compiler(root=str(TYPST_DIR), font_paths=[str(FONTS_DIR)], ignore_system_fonts=True)
        _local.compiler = compiler
    return compiler


def _describe(error: Exception) -> str:
    """Typst's own diagnostic (message, file, line and the offending source) when it gives one."""
    diagnostic = (getattr(error, "diagnostic", "") or "").strip()
    if diagnostic:
        return diagnostic
    message = getattr(error, "message", None) or str(error)
    trace = getattr(error, "trace", None) or []
    return message + (f" ({'; '.join(str(t) for t in trace[:3])})" if trace else "")


_DIAGNOSTIC_PATH = re.compile(r"(─ )([^\s:]+\.typ)(?=:\d+:\d+)")


def _absolute_paths(diagnostic: str, shown_as: Mapping[Path, Path] | None = None) -> str:
    """Typst names files relative to the working folder (`../../home/me/…/invoice.typ:12:3`): show them whole,
    and a file of a render root as the file it was copied from (`shown_as`: copy's folder -> original)."""
    def whole(match: re.Match[str]) -> str:
        path = os.path.normpath(os.path.join(os.getcwd(), match.group(2)))
        for copy, original in (shown_as or {}).items():
            if path.startswith(str(copy) + os.sep):
                path = str(original / os.path.relpath(path, copy))
                break
        return match.group(1) + path
    return _DIAGNOSTIC_PATH.sub(whole, diagnostic)


_OUTSIDE_ROOT = ("would escape the project root", "file not found (searched at", "access denied")
OUTSIDE_ROOT_HINT = ("A template can read only the files of its own templates folder and the logo; "
                     "nothing else on this computer.")


def _explained(diagnostic: str) -> str:
    """Typst's hints speak of its command line (`--root`): say what the rule is here instead."""
    lines = [line for line in diagnostic.splitlines() if "--root" not in line and "project sandbox" not in line]
    text = "\n".join(lines).rstrip()
    if any(marker in text for marker in _OUTSIDE_ROOT):
        text += "\n" + OUTSIDE_ROOT_HINT
    return text


def custom_templates_dir(data_dir: Path) -> Path:
    return data_dir / TEMPLATES_FOLDER


def template_dir_for(settings: Mapping[str, Any], data_dir: Path | None) -> Path | None:
    """The user's template folder when "use my templates" is on, else None (the bundled ones)."""
    if data_dir is None or not settings.get("use_custom_templates"):
        return None
    return custom_templates_dir(data_dir)


def template_source(template: str, template_dir: Path | None) -> Path:
    """The user's copy of a template when there is one, else the bundled file (a per-file fallback)."""
    if template_dir is not None and (template_dir / template).is_file():
        return template_dir / template
    return TYPST_DIR / template


# -- the render root: the only folder Typst reads ----------------------------------

def roots_dir_of(data_dir: Path) -> Path:
    return _cache_base(data_dir).joinpath(*ROOTS_FOLDER)


def _cache_base(data_dir: Path) -> Path:
    """Where cache/ lives: in the data folder, or, while a read-only folder is served from a private copy,
    beside that copy (the folder cannot hold it, and PDFs must still render)."""
    copy_dir = datafolder.WATCH.copy_dir
    return copy_dir if copy_dir is not None and datafolder.WATCH.data_dir == data_dir else data_dir


def asset_path(source: Path | str | None) -> str | None:
    """Where a template finds a file the data points at (the logo): `/assets/<digest><suffix>`, a path
    inside the render's root. The digest changes with the file, so a new logo is a new asset."""
    if source is None:
        return None
    source = Path(source)
    stat = source.stat()
    digest = hashlib.sha256(f"{source}:{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:24]
    return f"/{ASSETS_FOLDER}/{digest}{source.suffix.lower()}"


def assets_for(*sources: Path | str | None) -> dict[str, Path]:
    return {path: Path(source) for source in sources if source is not None and (path := asset_path(source))}


def _regular_files(folder: Path, *, skip: tuple[str, ...] = ()) -> list[Path]:
    """The plain files under a folder (relative paths); a link is refused, it could point anywhere."""
    found: list[Path] = []
    for current, dirs, files in os.walk(folder, followlinks=False):
        here = Path(current)
        dirs[:] = sorted(d for d in dirs if (here / d).relative_to(folder).parts[0] not in skip)
        for name in sorted(files) + [d for d in dirs if (here / d).is_symlink()]:
            path = here / name
            if path.is_symlink():
                raise RenderError(_("The templates folder %(folder)s holds a link (%(relative_to)s); a template may read only the plain files of its folder. Replace the link with the file itself. %(SWITCH_BACK)s", folder=folder, relative_to=path.relative_to(folder), SWITCH_BACK=SWITCH_BACK), template=str(path), custom=True)
            if path.is_file() and not name.endswith(".part"):
                found.append(path.relative_to(folder))
    return found


def _copy_tree(source: Path, target: Path, *, skip: tuple[str, ...] = ()) -> None:
    for relative in _regular_files(source, skip=skip):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copyfile(source / relative, destination, follow_symlinks=False)


def render_root(roots_dir: Path, template_dir: Path | None) -> Path:
    """The root of this data folder's renders for the templates in use, made once per version of them:
    `default/` (the bundled templates, fonts aside: Typst loads those itself) and, when the user's are
    on, `custom/`. Made beside and renamed into place, so a render never sees half a root."""
    digest = hashlib.sha256(template_hash().encode())
    if template_dir is not None:
        digest.update(b"custom\0" + custom_templates_hash(template_dir).encode())
    root = roots_dir / digest.hexdigest()[:24]
    if root.is_dir():
        return root
    ensure_private_dir(roots_dir)
    building = Path(tempfile.mkdtemp(dir=roots_dir, prefix=".part-"))
    try:
        _copy_tree(TYPST_DIR, building / "default", skip=(FONTS_DIR.name,))
        if template_dir is not None and template_dir.is_dir():
            _copy_tree(template_dir, building / "custom")
        (building / ASSETS_FOLDER).mkdir(mode=0o700)
        try:
            os.rename(building, root)
        except OSError:
            if not root.is_dir():
                raise
            shutil.rmtree(building, ignore_errors=True)   # another thread made the same root meanwhile
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    _remove_stale_roots(roots_dir, keep=root)
    return root


def _remove_stale_roots(roots_dir: Path, keep: Path) -> None:
    """Roots of templates no longer in use (a render in flight may still read one: only older ones go)."""
    now = time.time()
    for entry in roots_dir.iterdir():
        try:
            if entry != keep and now - entry.stat().st_mtime > STALE_ROOT_S:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass


def _place_assets(root: Path, assets: Mapping[str, Path]) -> None:
    for virtual, source in assets.items():
        target = root / virtual.lstrip("/")
        if target.parent != root / ASSETS_FOLDER:
            raise ValueError(f"an asset must be in /{ASSETS_FOLDER}/: {virtual!r}")
        if target.is_file():
            continue
        fd, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
        os.close(fd)
        try:
            shutil.copyfile(source, temporary, follow_symlinks=False)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class _Placed:
    root: Path
    source: Path                      # the file Typst compiles, inside root
    shown_as: dict[Path, Path]        # a root's folder -> the folder it was copied from (for messages)


def _place(template: str, template_dir: Path | None, roots_dir: Path | None, assets: Mapping[str, Path]) -> _Placed:
    original = template_source(template, template_dir)
    custom = original != TYPST_DIR / template
    if roots_dir is None:
        if assets:
            raise ValueError("a render with a logo needs a data folder for its root")
        return _Placed(original.parent, original, {})
    root = render_root(roots_dir, template_dir)
    _place_assets(root, assets)
    shown_as = {root / "default": TYPST_DIR}
    if template_dir is not None:
        shown_as[root / "custom"] = template_dir
    return _Placed(root, root / ("custom" if custom else "default") / template, shown_as)


def render_pdf_sync(template: str, data: Mapping[str, Any], *, extra_inputs: Mapping[str, str] | None = None,
                    pdf_standards: list[typst.PDFStandard] | None = None, timestamp: int | None = None,
                    template_dir: Path | None = None, roots_dir: Path | None = None,
                    assets: Mapping[str, Path] | None = None) -> bytes:
    """One PDF. Typst's root is the render's own folder (see `render_root`), or the template's folder
    when there is no data folder; `assets` (virtual path -> file) are copied into the root first.
    (`typst.PDFStandard`, "a-3b" and the like, exists in typst's type stub only: annotations are not evaluated.)"""
    original = template_source(template, template_dir)
    custom = original != TYPST_DIR / template
    if not original.is_file():
        raise RenderError(_("template %(template)s is missing from %(parent)s", template=template, parent=original.parent), template=template)
    placed = _place(template, template_dir, roots_dir, assets or {})
    inputs = {"data": json.dumps(data, default=str), **(extra_inputs or {})}
    try:
        pdf = _compiler().compile(input=str(placed.source), root=str(placed.root), sys_inputs=inputs,
                                  pdf_standards=pdf_standards or [], timestamp=timestamp)
    except Exception as error:  # typst raises TypstError with the template's message and trace
        # A failed compile may leave the compiler in a bad state: start the thread's next one fresh.
        _local.compiler = None
        diagnostic = _explained(_absolute_paths(_describe(error), placed.shown_as))
        if custom:
            message = (f"Your custom template {original} has an error, so the PDF could not be made. "
                       f"Typst says:\n{diagnostic}\n{SWITCH_BACK}")
        else:
            message = f"could not render {template}: {diagnostic}"
        raise RenderError(message, template=str(original), diagnostic=diagnostic, custom=custom) from error
    assert isinstance(pdf, bytes)
    return pdf


async def render_pdf(template: str, data: Mapping[str, Any], *, template_dir: Path | None = None,
                     roots_dir: Path | None = None, assets: Mapping[str, Path] | None = None) -> bytes:
    # Typst releases the GIL; a worker thread keeps the server answering meanwhile.
    return await asyncio.to_thread(lambda: render_pdf_sync(template, data, template_dir=template_dir,
                                                           roots_dir=roots_dir, assets=assets))


# -- templates' hash ---------------------------------------------------------------

_template_hash: tuple[tuple[Any, ...], str] | None = None


def template_hash() -> str:
    """A digest of every template and font file; it changes when a template changes."""
    global _template_hash
    files = sorted(p for p in TYPST_DIR.rglob("*") if p.is_file() and p.suffix in (".typ", ".otf", ".ttf"))
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    if _template_hash is None or _template_hash[0] != stamp:
        digest = hashlib.sha256()
        for path in files:
            digest.update(str(path.relative_to(TYPST_DIR)).encode())
            digest.update(path.read_bytes())
        _template_hash = (stamp, digest.hexdigest())
    return _template_hash[1]


def custom_templates_hash(template_dir: Path | None) -> str:
    """A digest of the user's template folder (every file's name and content: a template may show an
    image of its folder), "" when none are used: part of the render root's name, so an edit shows in
    the next PDF rendered (a draft's, or a document issued from then on)."""
    if template_dir is None or not template_dir.is_dir():
        return ""
    digest = hashlib.sha256()
    for relative in _regular_files(template_dir):
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256((template_dir / relative).read_bytes()).digest())
    return digest.hexdigest()


# -- copying the defaults into the data folder -----------------------------------------

def default_template_files() -> list[Path]:
    """The bundled templates a user may edit (relative paths): the documents and lib/; not the fonts."""
    return sorted(p.relative_to(TYPST_DIR) for p in TYPST_DIR.rglob("*.typ")
                  if p.is_file() and "fonts" not in p.relative_to(TYPST_DIR).parts)


def copy_default_templates(data_dir: Path) -> tuple[list[str], list[str]]:
    """Copy the bundled templates into the data folder's templates/; a file already there (maybe
    edited) is never overwritten. Returns (copied, kept) relative paths."""
    target = ensure_private_dir(custom_templates_dir(data_dir))
    copied: list[str] = []
    kept: list[str] = []
    for relative in default_template_files():
        destination = target / relative
        if destination.exists():
            kept.append(relative.as_posix())
            continue
        ensure_private_dir(destination.parent)
        temporary = destination.with_name(destination.name + ".part")
        try:
            shutil.copyfile(TYPST_DIR / relative, temporary)
            os.chmod(temporary, 0o600)
            os.replace(temporary, destination)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        copied.append(relative.as_posix())
    return copied, kept


def custom_template_files(data_dir: Path) -> list[str]:
    folder = custom_templates_dir(data_dir)
    if not folder.is_dir():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.typ") if p.is_file())


# -- QR ----------------------------------------------------------------------------

QR_MASK = 0


@lru_cache(maxsize=512)
def qr_svg(payload: str) -> str:
    """The QR code as SVG text (one path: vector in the PDF). EPC asks for error correction M.

    The mask pattern is fixed: choosing the "best" of the eight by the standard's penalty
    rules is three quarters of segno's time (8 ms of 10 per invoice) and any mask decodes
    (tests decode the printed code with zxing-cpp)."""
    import segno

    code = segno.make(payload, error="m", boost_error=False, micro=False, encoding="utf-8", mask=QR_MASK)
    return logic.qr_matrix_svg(code.matrix)



def _with_qr(data: dict[str, Any]) -> dict[str, Any]:
    payment = data.get("payment")
    if payment and payment.get("qr_payload"):
        payment["qr_svg"] = qr_svg(payment["qr_payload"])
    return data


# -- documents ---------------------------------------------------------------------

@dataclass
class RenderJob:
    """Everything one PDF needs: the template's data and the XML."""

    document_id: int
    template: str
    data: dict[str, Any]
    facturx_xml: bytes | None
    timestamp: int | None
    filename: str
    template_dir: Path | None = None
    roots_dir: Path | None = None
    assets: dict[str, Path] | None = None   # the logo: virtual path in the root -> its file


def _timestamp(value: Any) -> int | None:
    if isinstance(value, datetime):
        return int(value.timestamp())
    return None


def _logo_for(document: DocumentView, settings: Mapping[str, Any], attachments_dir: Path | None) -> str | None:
    if attachments_dir is None:
        return None
    frozen = ((document.snapshot or {}).get("business") or {}).get("logo_filename")
    kept = settings_service.logo_file(attachments_dir, frozen)
    if kept is not None:
        return str(kept)
    path = settings_service.logo_path(attachments_dir, settings)
    return str(path) if path else None


def document_job(document: DocumentView, settings: Mapping[str, Any], client: Mapping[str, Any] | None, *,
                 attachments_dir: Path | None, template_dir: Path | None = None,
                 roots_dir: Path | None = None) -> RenderJob:
    """No database: the data dict, the XML and QR code (runs in a worker thread)."""
    xml = None
    if settings.get("facturx_enabled", True) and logic.facturx_problem(document) is None:
        xml = logic.facturx_xml(document, settings=settings, client=client)
    logo = _logo_for(document, settings, attachments_dir)
    data = _with_qr(logic.document_data(document, settings=settings, client=client, logo=asset_path(logo),
                                        facturx=xml is not None))
    return RenderJob(document_id=document.id, template=logic.TEMPLATES[document.doc_type], data=data,
                     facturx_xml=xml, timestamp=_timestamp(document.issued_at),
                     filename=logic.pdf_filename(document),
                     template_dir=template_dir, roots_dir=roots_dir, assets=assets_for(logo))


def _finish_facturx(pdf: bytes) -> bytes:
    """Add the Factur-X XMP: an incremental update (fast); pikepdf when the PDF's shape is unexpected."""
    try:
        return logic.add_facturx_xmp(pdf)
    except ValueError:
        import pikepdf

        with pikepdf.open(io.BytesIO(pdf)) as document:
            xmp = document.Root.Metadata.read_bytes()
            document.Root.Metadata = document.make_stream(logic.xmp_with_facturx(xmp), Type=pikepdf.Name.Metadata,
                                                          Subtype=pikepdf.Name.XML)
            out = io.BytesIO()
            document.save(out)
            return out.getvalue()


def render_job_sync(job: RenderJob, *, strict: bool = False) -> bytes:
    """Render one document's PDF. Runs in a worker thread.

    `strict` (the render of record at issue): PDF/A-3b even without an e-invoice, so that a character
    no bundled font has is an error (Typst then names it) instead of an empty box on paper."""
    if job.facturx_xml is not None:
        pdf = render_pdf_sync(job.template, job.data, extra_inputs={"facturx": job.facturx_xml.decode("utf-8")},
                              pdf_standards=["a-3b"], timestamp=job.timestamp, template_dir=job.template_dir,
                              roots_dir=job.roots_dir, assets=job.assets)
        return _finish_facturx(pdf)
    return render_pdf_sync(job.template, job.data, pdf_standards=["a-3b"] if strict else None,
                           timestamp=job.timestamp, template_dir=job.template_dir, roots_dir=job.roots_dir,
                           assets=job.assets)


def cache_dir_of(data_dir: Path) -> Path:
    return _cache_base(data_dir).joinpath(*CACHE_FOLDER)


# -- the document of record ------------------------------------------------------------

class RecordProblem(RenderError):
    """The stored PDF of an issued document is missing or no longer the bytes recorded: it is never
    silently rendered again (that would not be the document the client received)."""


def records_dir_of(data_dir: Path) -> Path:
    return data_dir.joinpath(*RECORDS_FOLDER)


_SHA256 = re.compile(r"[0-9a-f]{64}")


def record_file(records_dir: Path, sha256: str) -> Path:
    """Where the PDF of that hash is kept; the name is derived from the hash, never read from the database."""
    if not _SHA256.fullmatch(sha256 or ""):
        raise RecordProblem(f"the recorded hash {sha256[:80]!r} is not a SHA-256")
    return records_dir / f"{sha256}.pdf"


def write_record_file(records_dir: Path, pdf: bytes) -> str:
    """Keep `pdf` as `<sha256>.pdf`, durably (written aside, fsynced, renamed, folder fsynced); returns the
    hash. A file already there with that name holds those bytes (the name is their hash): kept as it is."""
    sha256 = hashlib.sha256(pdf).hexdigest()
    target = record_file(records_dir, sha256)
    ensure_private_dir(records_dir)
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
        return sha256
    fd, temporary = tempfile.mkstemp(dir=records_dir, prefix=".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pdf)
        os.chmod(temporary, 0o600)
        fsync_file(Path(temporary))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_dir(records_dir)
    return sha256


def read_record_file(records_dir: Path, record: Mapping[str, Any], name: str) -> bytes:
    """The stored bytes of a document of record, checked against the recorded hash."""
    path = record_file(records_dir, str(record["sha256"]))
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise RecordProblem(f"The stored PDF of {name} ({path}) is missing. Restore it from a backup; "
                            "`counterfoil check` lists every document whose file is missing or changed.") from None
    if hashlib.sha256(content).hexdigest() != record["sha256"]:
        raise RecordProblem(f"The stored PDF of {name} ({path}) is not the one recorded at issue (its SHA-256 "
                            "differs). Restore it from a backup; `counterfoil check` lists every such document.")
    return content


def check_record_files(data_dir: Path, records: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], str]]:
    """For `counterfoil check`: each record (with the document's `name`) whose file is missing or changed."""
    problems = []
    for record in records:
        try:
            read_record_file(records_dir_of(data_dir), record, str(record["name"]))
        except RecordProblem as problem:
            problems.append((record, str(problem)))
    return problems


# -- preflight: what a refused render means -------------------------------------------------

_MISSING_GLYPH = re.compile(r'the text `"((?:[^"\\]|\\.)*)"` could not be displayed with font `"([^"]*)"`')
_IMAGE_REFUSED = ("failed to decode image", "unknown image format", "failed to load image")
_TYPST_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]+)\}|\\(.)")


def _typst_string(text: str) -> str:
    r"""A Typst string literal's content, unescaped (`\u{1f680}` -> the character)."""
    def one(match: re.Match[str]) -> str:
        if match.group(1):
            return chr(int(match.group(1), 16))
        return {"n": "\n", "t": "\t", "r": "\r"}.get(match.group(2), match.group(2))
    return _TYPST_ESCAPE.sub(one, text)


def refusal_of(error: RenderError, data: Mapping[str, Any], document: DocumentView) -> ValidationFailed:
    """Why issuing is refused, naming the field: a character no bundled font has (which field holds it),
    the logo, or the template (Typst's own message)."""
    missing = _MISSING_GLYPH.search(error.diagnostic or str(error))
    if missing:
        text = _typst_string(missing.group(1))
        field, label = logic.field_holding(text, document, data)
        return ValidationFailed([FieldError(field, logic.unprintable_message(label, text, missing.group(2)))])
    diagnostic = error.diagnostic or str(error)
    if data.get("business", {}).get("logo") and (f"/{ASSETS_FOLDER}/" in diagnostic
                                                 or any(marker in diagnostic for marker in _IMAGE_REFUSED)):
        return ValidationFailed([FieldError("logo", _("The logo cannot be printed: Typst refuses the image (%(splitlines)s). Upload it again in Settings; nothing was issued.", splitlines=diagnostic.splitlines()[0]))])
    return ValidationFailed([FieldError("template", _("The document cannot be printed, so it is not issued. %(error)s", error=error))])


@dataclass
class _PreparedRecord:
    """A document of record rendered before the issuing transaction (`_prepare_record_at_issue`)."""

    fingerprint: tuple[Any, ...]
    pdf: bytes
    sha256: str | None          # the file kept at attachments/records (None without a data folder)
    used: bool = False          # recorded by the issuing transaction


_prepared_records: ContextVar[dict[int, _PreparedRecord] | None] = ContextVar("counterfoil_prepared_records",
                                                                               default=None)
# The record files prepared by issues in progress, by hash: drafts that print alike (the same lines, the
# same predicted number) share one file, which an issue that did not use it must not remove from under
# one that will, or did.
_preparing: dict[str, int] = {}


def _fingerprint(inputs: DocumentInputs) -> tuple[Any, ...]:
    """Everything an issued document's PDF is made from: equal fingerprints, equal PDFs (the document as
    read, settings, the folders and the logo, the templates' contents)."""
    logo = _logo_for(inputs.document, inputs.settings, inputs.attachments_dir)
    return (inputs.document, dict(inputs.settings), inputs.client, inputs.attachments_dir, inputs.template_dir,
            inputs.roots_dir, asset_path(logo), template_hash(), custom_templates_hash(inputs.template_dir))


async def _render_of_record(inputs: DocumentInputs) -> bytes:
    try:
        return await asyncio.to_thread(lambda: render_job_sync(inputs.job(), strict=True))
    except RenderError as error:
        job = await asyncio.to_thread(inputs.job)
        raise refusal_of(error, job.data, inputs.document) from error


@asynccontextmanager
async def _prepare_record_at_issue(view: DocumentView) -> AsyncIterator[None]:
    """The issue preparer: before the write lock is taken, render the document as issuing it will make it
    (`issue_preview`) and keep the file; the issuing transaction's hook then records it if the document
    came out the same, or renders it there. A render that fails refuses the issue before anything is
    written. A file that ends up recorded by no document is removed."""
    data_dir = datafolder.WATCH.data_dir
    settings = await settings_service.get_settings()
    inputs = _inputs_of(view, settings, None, data_dir)
    pdf = await _render_of_record(inputs)
    sha256 = hashlib.sha256(pdf).hexdigest() if inputs.records_dir else None
    if sha256 is not None:
        _preparing[sha256] = _preparing.get(sha256, 0) + 1   # before the file is written: see below
    prepared = _PreparedRecord(fingerprint=_fingerprint(inputs), pdf=pdf, sha256=sha256)
    try:
        if inputs.records_dir is not None:
            await asyncio.to_thread(write_record_file, inputs.records_dir, pdf)
        records = dict(_prepared_records.get() or {})
        records[view.id] = prepared
        token = _prepared_records.set(records)
        try:
            yield
        finally:
            _prepared_records.reset(token)
    finally:
        if sha256 is not None and inputs.records_dir is not None:
            _preparing[sha256] -= 1
            if not _preparing[sha256]:
                del _preparing[sha256]
                if not prepared.used:
                    await _forget_unrecorded(inputs.records_dir, sha256)


async def _forget_unrecorded(records_dir: Path, sha256: str) -> None:
    """Remove a prepared record file that no document records, and that no issue in progress prepared again
    meanwhile (it counts itself before it writes the file). A failure leaves the file: unused, harmless."""
    def forget() -> None:
        if sha256 not in _preparing:
            record_file(records_dir, sha256).unlink(missing_ok=True)
    try:
        await documents_service.unless_recorded(sha256, forget)
    except Exception:
        log.exception("an unused prepared record file (%s) could not be removed", sha256)


async def _make_record_at_issue(document_id: int) -> None:
    """The issue hook: inside the issuing transaction, keep the document as issued and record its hash:
    the PDF prepared before the transaction when the document came out the same (the usual case), else
    rendered here. A render that fails refuses the issue (the transaction rolls back: no number, no
    ledger entry, no trail entry)."""
    data_dir = datafolder.WATCH.data_dir
    inputs = await _inputs(document_id, None, data_dir)
    prepared = (_prepared_records.get() or {}).get(document_id)
    if prepared is not None and prepared.fingerprint == _fingerprint(inputs):
        prepared.used = True
        pdf, sha256 = prepared.pdf, prepared.sha256
    else:
        pdf, sha256 = await _render_of_record(inputs), None
    if data_dir is None or inputs.records_dir is None:
        return   # no data folder (a bare engine): printed, so issued; nowhere to keep the file
    if sha256 is None:
        sha256 = await asyncio.to_thread(write_record_file, inputs.records_dir, pdf)
    await documents_service.keep_document_record(document_id, sha256=sha256, size=len(pdf), origin="issue")


documents_service.register_issue_hook(_make_record_at_issue)
documents_service.register_issue_preparer(_prepare_record_at_issue)


@dataclass
class DocumentInputs:
    """What one document's PDF is made from, read from the database on the event loop."""

    document: DocumentView
    settings: Mapping[str, Any]
    client: Mapping[str, Any] | None
    attachments_dir: Path | None
    template_dir: Path | None = None
    roots_dir: Path | None = None
    records_dir: Path | None = None
    record: Mapping[str, Any] | None = None   # the stored PDF's row, when the document has one

    @property
    def filename(self) -> str:
        return logic.pdf_filename(self.document)

    @property
    def needs_record(self) -> bool:
        """Issued before records were kept: its first render becomes its record."""
        return self.document.status != "draft" and self.record is None and self.records_dir is not None

    def job(self) -> RenderJob:
        return document_job(self.document, self.settings, self.client, attachments_dir=self.attachments_dir,
                            template_dir=self.template_dir, roots_dir=self.roots_dir)


def _inputs_of(document: DocumentView, settings: Mapping[str, Any], client: Mapping[str, Any] | None,
               data_dir: Path | None, record: Mapping[str, Any] | None = None) -> DocumentInputs:
    return DocumentInputs(document=document, settings=settings, client=client,
                          attachments_dir=data_dir / "attachments" if data_dir else None,
                          template_dir=template_dir_for(settings, data_dir),
                          roots_dir=roots_dir_of(data_dir) if data_dir else None,
                          records_dir=records_dir_of(data_dir) if data_dir else None, record=record)


async def _inputs(document_id: int, doc_type: str | None, data_dir: Path | None,
                  settings: Mapping[str, Any] | None = None) -> DocumentInputs:
    document = await documents_service.get_document(document_id, doc_type)
    settings = settings or await settings_service.get_settings()
    if not document.snapshot:   # a draft prints the bank account of its currency as of today (app.fx)
        settings = await fx_service.settings_for_currency(settings, document.currency)
    client = None if document.snapshot else (await clients_service.get_client(document.client_id)).as_mapping()
    record = await documents_service.document_record(document_id) if document.status != "draft" else None
    return _inputs_of(document, settings, client, data_dir, record)


async def _many_inputs(document_ids: list[int], doc_type: str, data_dir: Path | None,
                       settings: Mapping[str, Any]) -> list[DocumentInputs]:
    """The inputs of several documents in a few queries (issued ones carry their client frozen)."""
    documents = await documents_service.get_documents(document_ids, doc_type)
    clients: dict[int, Mapping[str, Any]] = {}
    for document in documents:
        if not document.snapshot and document.client_id not in clients:
            clients[document.client_id] = (await clients_service.get_client(document.client_id)).as_mapping()
    records = await documents_service.document_records([d.id for d in documents if d.status != "draft"])
    return [_inputs_of(d, settings, None if d.snapshot else clients[d.client_id], data_dir, records.get(d.id))
            for d in documents]


def build_and_render_sync(inputs: DocumentInputs) -> bytes:
    """One document's PDF in the calling (worker) thread: an issued document's stored bytes, checked
    against their hash; otherwise rendered (a draft; or an issued document that has no record yet,
    which the caller then keeps with `keep_first_render`)."""
    if inputs.record is not None and inputs.records_dir is not None:
        return read_record_file(inputs.records_dir, inputs.record, inputs.document.number or inputs.filename)
    return render_job_sync(inputs.job())


def _render_and_keep_file_sync(inputs: DocumentInputs) -> tuple[bytes, str | None]:
    """`build_and_render_sync`, and for a document issued before records were kept, its file written in
    the worker too (its record is kept by `keep_first_renders`): (pdf, the kept file's sha256 or None)."""
    pdf = build_and_render_sync(inputs)
    if not inputs.needs_record or inputs.records_dir is None:
        return pdf, None
    try:
        return pdf, write_record_file(inputs.records_dir, pdf)
    except (OSError, datafolder.DataFolderProblem) as error:
        log.warning("could not keep the PDF of %s as its record: %s", inputs.document.number, error)
        return pdf, None


async def keep_first_renders(items: Sequence[tuple[DocumentInputs, bytes, str | None]]) -> list[bytes]:
    """`keep_first_render` for a batch whose files are already written (`_render_and_keep_file_sync`): the
    records in one transaction; returns each document's recorded bytes, in order."""
    kept = [(inputs, pdf, sha256) for inputs, pdf, sha256 in items if inputs.needs_record and sha256 is not None]
    records: dict[int, Mapping[str, Any]] = {}
    if kept:
        try:
            made = await documents_service.keep_document_records(
                [(inputs.document.id, sha256, len(pdf)) for inputs, pdf, sha256 in kept if sha256])
        except (OSError, datafolder.DataFolderProblem) as error:
            log.warning("could not keep the PDFs of %d documents as their records: %s", len(kept), error)
            made = []
        records = {record["document"]: record for record in made}
    contents = []
    for inputs, pdf, sha256 in items:
        record = records.get(inputs.document.id)
        if record is not None and inputs.records_dir is not None and record["sha256"] != sha256:
            # Another request recorded its render first: that one is the document of record.
            pdf = await asyncio.to_thread(read_record_file, inputs.records_dir, record, inputs.document.number or "")
        contents.append(pdf)
    return contents


async def keep_first_render(inputs: DocumentInputs, pdf: bytes) -> bytes:
    """A document issued before records were kept: its first render becomes its record, and the
    recorded bytes are returned (another request may have recorded it first). A folder that cannot be
    written (a read-only start) serves the render without keeping it."""
    if not inputs.needs_record or inputs.records_dir is None:
        return pdf
    try:
        sha256 = await asyncio.to_thread(write_record_file, inputs.records_dir, pdf)
        record = await documents_service.keep_document_record(inputs.document.id, sha256=sha256, size=len(pdf),
                                                              origin="first use")
    except (OSError, datafolder.DataFolderProblem) as error:
        log.warning("could not keep the PDF of %s as its record: %s", inputs.document.number, error)
        return pdf
    if record["sha256"] != sha256:
        return await asyncio.to_thread(read_record_file, inputs.records_dir, record, inputs.document.number or "")
    return pdf


@dataclass
class RenderedPdf:
    content: bytes
    filename: str
    sha256: str | None = None   # an issued document's stored PDF: its recorded hash (the HTTP ETag)


@dataclass(frozen=True)
class StoredPdf:
    """An issued document's document of record, found without rendering or reading the document:
    its file's hash (which names the file and is its ETag) and the name it downloads as."""

    sha256: str
    filename: str
    records_dir: Path

    def read(self) -> RenderedPdf:
        """The stored bytes, checked against the recorded hash (RecordProblem if missing or changed)."""
        content = read_record_file(self.records_dir, {"sha256": self.sha256}, self.filename)
        return RenderedPdf(content=content, filename=self.filename, sha256=self.sha256)


async def stored_pdf(document_id: int, *, doc_type: str | None = None, data_dir: Path | None = None
                     ) -> StoredPdf | None:
    """The stored PDF of an issued document in one indexed read (issue 21: served in under 2 ms), or
    None when it has to go the long way (a draft, a document without a record yet, no data folder)."""
    if data_dir is None:
        return None
    row = await documents_service.served_record(document_id)
    if row is None or (doc_type is not None and row["doc_type"] != doc_type):
        return None
    return StoredPdf(sha256=str(row["sha256"]), records_dir=records_dir_of(data_dir),
                     filename=logic.pdf_filename_of(row["doc_type"], row["id"], row["number"], row["client_name"]))


async def document_pdf(document_id: int, *, doc_type: str | None = None, data_dir: Path | None = None) -> RenderedPdf:
    """The PDF of a quote, invoice or credit note (NotFound if the id is not of that type): an issued
    one's document of record, a draft's fresh render."""
    inputs = await _inputs(document_id, doc_type, data_dir)
    content = await keep_first_render(inputs, await asyncio.to_thread(build_and_render_sync, inputs))
    kept = inputs.document.status != "draft" and inputs.records_dir is not None
    return RenderedPdf(content=content, filename=inputs.filename,
                       sha256=hashlib.sha256(content).hexdigest() if kept else None)


async def document_print_data(document_id: int, *, data_dir: Path | None = None) -> dict[str, Any]:
    """The same strings the PDF prints, for the HTML print view."""
    inputs = await _inputs(document_id, None, data_dir)
    return (await asyncio.to_thread(inputs.job)).data


async def document_xml(document_id: int, *, xrechnung: bool = False) -> bytes | None:
    """The CII XML (Factur-X, or XRechnung: ValidationFailed names what KoSIT would reject); None when the
    document has no e-invoice form (einvoice_status says why)."""
    document = await documents_service.get_document(document_id)
    settings = await settings_service.get_settings()
    client = None if document.snapshot else (await clients_service.get_client(document.client_id)).as_mapping()
    if logic.facturx_problem(document) is not None:
        return None
    guideline = logic.XRECHNUNG_GUIDELINE if xrechnung else logic.EN16931_GUIDELINE
    return logic.facturx_xml(document, settings=settings, client=client, guideline=guideline)


@dataclass(frozen=True)
class EInvoiceStatus:
    """What the document page and the API say of a document's e-invoice."""

    available: bool                  # it has an EN 16931 form (Factur-X XML)
    problem: str | None              # why not, when it has none
    embedded: bool                   # the issued PDF carries it (Settings: Factur-X on)
    warnings: list[str]              # what it leaves out that a receiver may expect
    xrechnung_problems: list[FieldError]  # what KoSIT would reject in its XRechnung (empty: it passes)


async def einvoice_status(document_id: int) -> EInvoiceStatus:
    document = await documents_service.get_document(document_id)
    settings = await settings_service.get_settings()
    problem = logic.facturx_problem(document)
    if problem is not None:
        return EInvoiceStatus(available=False, problem=problem, embedded=False, warnings=[], xrechnung_problems=[])
    client = None if document.snapshot else (await clients_service.get_client(document.client_id)).as_mapping()
    invoice = logic.einvoice_of(document, settings=settings, client=client, guideline=logic.XRECHNUNG_GUIDELINE)
    return EInvoiceStatus(available=True, problem=None, embedded=bool(settings.get("facturx_enabled", True)),
                          warnings=logic.einvoice_warnings(document, settings),
                          xrechnung_problems=logic.xrechnung_problems(invoice, issued=bool(document.snapshot)))


# -- ZIP of many PDFs ----------------------------------------------------------------

ProgressHook = Callable[[int, int], None]
DocumentHook = Callable[[str, bytes], Awaitable[None]]


def _workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


async def document_ids(doc_type: str, *, status: str = "", client_id: int | None = None,
                       date_from: date | None = None, date_to: date | None = None, q: str = "",
                       include_drafts: bool = False) -> list[int]:
    """The ids of a filtered list, oldest first (drafts only when status=draft or asked for)."""
    ids: list[int] = []
    page = 1
    while True:
        result = await documents_service.list_documents(doc_type, status=status, client_id=client_id,
                                                        date_from=date_from, date_to=date_to, q=q, sort="date",
                                                        descending=False, page=Page(page=page, per_page=ZIP_PAGE))
        ids += [row.id for row in result.items if include_drafts or row.status != "draft" or status == "draft"]
        if page * ZIP_PAGE >= result.total or not result.items:
            break
        page += 1
    return ids


async def render_documents(doc_type: str, ids: list[int], *, data_dir: Path, on_document: DocumentHook,
                           on_progress: ProgressHook | None = None) -> int:
    """Render the PDFs of `ids` (an issued document's stored bytes) and hand each to `on_document(filename,
    pdf)` in the order of `ids`, with unique file names; `on_progress(done, total)` after each one.

    Rendering runs on one thread per core, each with its own compiler; the database reads and the
    hooks stay on the event loop. Cancelling (or a failure) drops the queued renders at once and never
    waits for the running ones on the event loop."""
    settings = await settings_service.get_settings()
    loop = asyncio.get_running_loop()
    used: set[str] = set()
    total, done = len(ids), 0
    if on_progress is not None:
        on_progress(0, total)
    pool = ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="render")
    pending: list[tuple[DocumentInputs, asyncio.Future[tuple[bytes, str | None]]]] = []

    async def drain(limit: int) -> None:
        nonlocal done
        while len(pending) > limit:
            await pending[0][1]
            # The finished renders at the head, in order: their records (documents issued before records
            # were kept) are kept in one transaction, then they go out.
            ready = [pending.pop(0)]
            while pending and pending[0][1].done() and len(ready) < RECORD_BATCH:
                ready.append(pending.pop(0))
            contents = await keep_first_renders([(inputs, *future.result()) for inputs, future in ready])
            for (inputs, _future), content in zip(ready, contents, strict=True):
                filename = inputs.filename
                if filename in used:
                    filename = filename.removesuffix(".pdf") + f"_{inputs.document.id}.pdf"
                used.add(filename)
                await on_document(filename, content)
                done += 1
                if on_progress is not None:
                    on_progress(done, total)

    try:
        for start in range(0, len(ids), READ_BATCH):
            chunk = ids[start:start + READ_BATCH]
            found = await _many_inputs(chunk, doc_type, data_dir, settings)
            total -= len(chunk) - len(found)   # deleted since the list was read: left out
            for inputs in found:
                pending.append((inputs, loop.run_in_executor(pool, _render_and_keep_file_sync, inputs)))
                await drain(4 * _workers())
        await drain(0)
    except BaseException:
        for _document, future in pending:
            if not future.cancel() and not future.cancelled():
                future.exception()   # a second failure: seen, so asyncio does not log it as lost
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)   # every render has finished: nothing to wait for
    return done


async def documents_zip(doc_type: str, *, status: str = "", client_id: int | None = None,
                        date_from: date | None = None, date_to: date | None = None, q: str = "",
                        data_dir: Path, include_drafts: bool = False,
                        on_progress: ProgressHook | None = None) -> tuple[Path, int]:
    """A ZIP file (in the data folder's cache) of the PDFs of a filtered list; returns (path, count).

    `on_progress(done, total)` is called once the list is known and after each PDF (the batch jobs'
    progress bar). The caller deletes the file once sent; a failure or cancellation deletes it here.
    """
    ids = await document_ids(doc_type, status=status, client_id=client_id, date_from=date_from, date_to=date_to,
                             q=q, include_drafts=include_drafts)
    folder = ensure_private_dir(cache_dir_of(data_dir).parent / "exports")
    fd, name = tempfile.mkstemp(dir=folder, prefix=f"{doc_type}-", suffix=".zip")
    os.close(fd)
    path = Path(name)
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
            async def add(filename: str, content: bytes) -> None:
                archive.writestr(zipfile.ZipInfo(filename, date_time=(2000, 1, 1, 0, 0, 0)), content)

            count = await render_documents(doc_type, ids, data_dir=data_dir, on_document=add,
                                           on_progress=on_progress)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, count


# -- statements ----------------------------------------------------------------------

def statement_job_data(data: Mapping[str, Any], settings: Mapping[str, Any], logo: str | None) -> dict[str, Any]:
    """`logo`: where the template finds it (`asset_path`)."""
    return _with_qr(logic.statement_data(data, settings=settings, logo=logo))


def statement_pdf_sync(data: Mapping[str, Any], settings: Mapping[str, Any], logo: Path | None = None,
                       template_dir: Path | None = None, roots_dir: Path | None = None) -> bytes:
    return render_pdf_sync(logic.TEMPLATES[logic.STATEMENT], statement_job_data(data, settings, asset_path(logo)),
                           template_dir=template_dir, roots_dir=roots_dir, assets=assets_for(logo))


async def client_statement_pdf(client_id: int, *, date_from: date | None = None, date_to: date | None = None,
                               currency: str | None = None, data_dir: Path | None = None) -> RenderedPdf:
    """A client's statement PDF for a period (default: this year to today), from app.receivables."""
    view = await receivables_service.statement(client_id, date_from, date_to, currency)
    return await statement_view_pdf(view, data_dir=data_dir)


async def statement_view_pdf(view: StatementView, *, data_dir: Path | None = None) -> RenderedPdf:
    """The PDF of a statement: the download and the email both come from here."""
    content = await statement_pdf(logic.statement_input(view), data_dir=data_dir)
    return RenderedPdf(content=content, filename=logic.statement_filename(view))


async def statement_pdf(data: Mapping[str, Any], *, data_dir: Path | None = None) -> bytes:
    """A client statement PDF from the ledger's figures (see logic.statement_data for the shape). It prints
    the bank account for the statement's currency (app.fx)."""
    settings = await settings_service.get_settings()
    if data.get("currency"):
        settings = await fx_service.settings_for_currency(settings, str(data["currency"]))
    logo = settings_service.logo_path(data_dir / "attachments", settings) if data_dir else None
    return await asyncio.to_thread(statement_pdf_sync, data, settings, logo, template_dir_for(settings, data_dir),
                                   roots_dir_of(data_dir) if data_dir else None)


# -- the business card ---------------------------------------------------------------

def business_card_data(settings: Mapping[str, Any], logo: str | None) -> dict[str, Any]:
    """`logo`: where the template finds it (`asset_path`)."""
    city_line = " ".join(part for part in (settings.get("postal_code", ""), settings.get("city", "")) if part)
    address = [settings.get("address_line1", ""), settings.get("address_line2", ""), city_line,
               " ".join(p for p in (settings.get("region", ""), settings.get("country", "")) if p)]
    return {
        "name": settings.get("name") or "Your business",
        "tagline": settings.get("tagline", ""),
        "address_lines": [line for line in address if line],
        "email": settings.get("email", ""),
        "phone": settings.get("phone", ""),
        "website": settings.get("website", ""),
        "tax_number": settings.get("tax_number", ""),
        "registration_number": settings.get("registration_number", ""),
        "logo": logo,
    }


async def business_card_pdf(settings: Mapping[str, Any], logo: Path | None, data_dir: Path | None = None) -> bytes:
    if data_dir is None:
        logo = None   # a logo is shown from the render's root, which lives in the data folder
    return await render_pdf("business-card.typ", business_card_data(settings, asset_path(logo)),
                            template_dir=template_dir_for(settings, data_dir),
                            roots_dir=roots_dir_of(data_dir) if data_dir else None, assets=assets_for(logo))


# -- Peppol BIS Billing 3.0 (UBL) ------------------------------------------------------------

async def document_ubl(document_id: int, *, doc_type: str | None = None) -> tuple[bytes, str]:
    """The Peppol BIS UBL of an issued invoice or credit note, and its file name.

    Conflict (409) when the document has no EN 16931 form (a draft, a compound tax); ValidationFailed
    (422, naming each field) when Peppol would reject it. Today's client is read even for an issued
    document: its electronic address stands in for one the document was issued without."""
    document = await documents_service.get_document(document_id, doc_type)
    settings = await settings_service.get_settings()
    client = (await clients_service.get_client(document.client_id)).as_mapping()
    try:
        xml = ubl.ubl_xml(document, settings=settings, client=client)
    except ubl.UblUnavailable as unavailable:
        raise Conflict(_("This document has no e-invoice form: %(unavailable)s.", unavailable=unavailable)) from None
    return xml, f"{filename_part(document.number or str(document_id))}-peppol-ubl.xml"
