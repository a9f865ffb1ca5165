"""The JSON API of render (under /api/v1): its routes and msgspec DTOs."""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.background_tasks import BackgroundTask
from litestar.params import QueryParameter

from app.common.logic import Conflict, FieldError, ValidationFailed, filename_part
from app.config import Config
from app.documents import service as documents_service
from app.documents.logic import CREDIT_NOTE, INVOICE, QUOTE, TYPE_PATHS
from app.render import service
from app.render.service import RenderError
from app.web.responses import download, download_file, error_json

XML_SYNTAXES = ("factur-x", "xrechnung", "ubl")


class EInvoiceProblemOut(msgspec.Struct):
    field: str
    message: str


class EInvoiceOut(msgspec.Struct):
    available: bool
    problem: str | None
    embedded: bool
    warnings: list[str]
    xrechnung_ready: bool
    xrechnung_problems: list[EInvoiceProblemOut]


def einvoice_out(status: service.EInvoiceStatus) -> EInvoiceOut:
    return EInvoiceOut(available=status.available, problem=status.problem, embedded=status.embedded,
                       warnings=status.warnings,
                       xrechnung_ready=status.available and not status.xrechnung_problems,
                       xrechnung_problems=[EInvoiceProblemOut(field=p.field, message=p.message)
                                           for p in status.xrechnung_problems])


# An issued document's PDF never changes under its hash, but the same URL may serve another file after
# a backup is restored: browsers keep it and ask again each time (If-None-Match), answered 304 from
# the hash alone, without reading the file.
RECORD_CACHE_CONTROL = "private, no-cache"


def record_headers(sha256: str) -> dict[str, str]:
    return {"ETag": f'"{sha256}"', "Cache-Control": RECORD_CACHE_CONTROL}


def etag_matches(if_none_match: str | None, sha256: str) -> bool:
    """Whether a request's If-None-Match names this stored file (a list, weak tags or `*` allowed)."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or f'"{sha256}"' in tags


def pdf_response(rendered: service.RenderedPdf, *, inline: bool) -> Response:
    headers = record_headers(rendered.sha256) if rendered.sha256 else None
    return download(rendered.content, rendered.filename, "application/pdf", inline=inline, headers=headers)


async def stored_pdf_response(request: Request, config: Config, document_id: int, *, doc_type: str | None,
                              inline: bool) -> Response | None:
    """An issued document's stored PDF with its ETag (304 when the browser has it), after one indexed read;
    None when the document has no stored PDF (a draft, or a record yet to make): the caller renders."""
    stored = await service.stored_pdf(document_id, doc_type=doc_type, data_dir=config.data_dir)
    if stored is None:
        return None
    if etag_matches(request.headers.get("if-none-match"), stored.sha256):
        return Response(content=b"", status_code=304, headers=record_headers(stored.sha256))
    return pdf_response(stored.read(), inline=inline)


def _render_failed(error: RenderError) -> Response:
    """API: the user's own template at fault is 422 with Typst's message (file, line) and the way back."""
    if error.custom:
        return error_json(422, str(error))
    return error_json(500, f"The PDF could not be made: {error}")


@get("/api/v1/clients/{client_id:int}/statement.pdf", tags=["ledger"], media_type="application/pdf")
async def api_statement_pdf(config: Config, client_id: int, currency: str = "",
                            date_from: date | None = QueryParameter(name="from", default=None),
                            date_to: date | None = QueryParameter(name="to", default=None),
                            inline: bool = False) -> Response:
    """The client's statement for a period as a PDF (default: this year to today)."""
    try:
        rendered = await service.client_statement_pdf(client_id, date_from=date_from, date_to=date_to,
                                                      currency=currency or None, data_dir=config.data_dir)
    except RenderError as error:
        return _render_failed(error)
    return pdf_response(rendered, inline=inline)


def _api_routes(doc_type: str) -> list[Any]:
    base = f"/api/v1/{TYPE_PATHS[doc_type]}"
    tag = [TYPE_PATHS[doc_type]]

    @get(f"{base}/{{document_id:int}}/pdf", tags=tag, name=f"{doc_type}-pdf", media_type="application/pdf")
    async def pdf(request: Request, config: Config, document_id: int, inline: bool = False) -> Response:
        """The PDF (issued invoices and credit notes: PDF/A-3 with the Factur-X XML inside). An issued
        document's is its stored document of record, with an `ETag` (its SHA-256): `If-None-Match` gets 304."""
        try:
            stored = await stored_pdf_response(request, config, document_id, doc_type=doc_type, inline=inline)
            if stored is not None:
                return stored
            rendered = await service.document_pdf(document_id, doc_type=doc_type, data_dir=config.data_dir)
        except RenderError as error:
            return _render_failed(error)
        return pdf_response(rendered, inline=inline)

    async def _zip(config: Config, status: str, client_id: int | None, q: str, date_from: date | None,
                   date_to: date | None) -> Response:
        try:
            path, count = await service.documents_zip(doc_type, status=status, client_id=client_id, q=q,
                                                      date_from=date_from, date_to=date_to, data_dir=config.data_dir)
        except RenderError as error:
            return _render_failed(error)
        name = f"{TYPE_PATHS[doc_type]}-{date_from or 'all'}-{date_to or 'all'}.zip"   # typed dates, never text
        return download_file(path, name, "application/zip", headers={"X-Document-Count": str(count)},
                             background=BackgroundTask(os.unlink, path))

    @get([f"{base}/export.zip", f"{base}/pdf.zip"], tags=tag, name=f"{doc_type}-zip", media_type="application/zip")
    async def zip_(config: Config, status: str = "", client_id: int | None = None, q: str = "",
                   date_from: date | None = QueryParameter(name="from", default=None),
                   date_to: date | None = QueryParameter(name="to", default=None)) -> Response:
        """A ZIP of the PDFs of the list with the same filters (drafts only when status=draft)."""
        return await _zip(config, status, client_id, q, date_from, date_to)

    routes = [pdf, zip_]
    if doc_type in (INVOICE, CREDIT_NOTE):
        @get(f"{base}/{{document_id:int}}/xml", tags=tag, name=f"{doc_type}-xml", media_type="application/xml")
        async def xml(document_id: int, syntax: str = "factur-x") -> Response:
            """The EN 16931 CII XML (`syntax=xrechnung` for the XRechnung CII guideline: 422 naming each
            field KoSIT's rules would reject); `syntax=ubl` for the Peppol BIS Billing 3.0 UBL (422 naming each
            field Peppol would reject, e.g. a missing electronic address)."""
            if syntax not in XML_SYNTAXES:
                raise ValidationFailed([FieldError("syntax", f"Unknown syntax; use one of {', '.join(XML_SYNTAXES)}")])
            if syntax == "ubl":
                content, name = await service.document_ubl(document_id, doc_type=doc_type)
                return download(content, name, "application/xml")
            document = await documents_service.get_document(document_id, doc_type, with_lines=False)
            xrechnung = syntax == "xrechnung"
            content = await service.document_xml(document_id, xrechnung=xrechnung)
            if content is None:
                status = await service.einvoice_status(document_id)
                raise Conflict(f"This document has no e-invoice form: {status.problem}.")
            # The name is the document's number and one of two fixed words, never the `syntax` text itself.
            name = f"{filename_part(document.number or str(document_id))}-{'xrechnung' if xrechnung else 'factur-x'}.xml"
            return download(content, name, "application/xml")
        routes.append(xml)

        @get(f"{base}/{{document_id:int}}/einvoice", tags=tag, name=f"{doc_type}-einvoice")
        async def einvoice(document_id: int) -> EInvoiceOut:
            """Whether the document has an e-invoice, why not, what it leaves out (warnings), and what
            its XRechnung lacks for KoSIT's rules (each with the field to fix)."""
            await documents_service.get_document(document_id, doc_type, with_lines=False)
            return einvoice_out(await service.einvoice_status(document_id))
        routes.append(einvoice)
    return routes


ROUTES = [*_api_routes(INVOICE), *_api_routes(QUOTE), *_api_routes(CREDIT_NOTE), api_statement_pdf]
