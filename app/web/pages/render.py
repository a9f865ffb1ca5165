"""PDFs of quotes, invoices and credit notes (API and browser), the print view, the
Factur-X/XRechnung XML, the Peppol BIS (UBL) file, and a ZIP of the PDFs of a filtered list."""

from __future__ import annotations

import base64
from datetime import date

from litestar import Request, Response, get
from litestar.params import QueryParameter
from litestar.response import File, Template

from app.common.i18n import _
from app.common.logic import Conflict, NotFound, ValidationFailed, filename_part
from app.config import Config
from app.documents import service as documents_service
from app.paths import FONTS_DIR
from app.render import service
from app.render.service import RenderError
from app.web.api.render import pdf_response, stored_pdf_response
from app.web.responses import download, page

FONT_FILES = {p.name for p in FONTS_DIR.glob("*.otf")}


def _render_failed_page(request: Request, error: RenderError) -> Response:
    """Browser: a page with Typst's diagnostic laid out as it prints it, and a link to Settings."""
    if not error.custom:
        raise Conflict(_("The PDF could not be made: %(error)s", error=error))
    return page(request, "error.html", status_code=422, title=_("Your template has an error"),
                detail=_("Your custom template %(template)s has an error, so the PDF could not be made. Fix the line Typst points at below and reload this page. %(SWITCH_BACK)s", template=error.template, SWITCH_BACK=service.SWITCH_BACK),
                trace=error.diagnostic, settings_link="/settings#templates")


@get("/documents/{document_id:int}/pdf", include_in_schema=False)
async def browser_pdf(request: Request, config: Config, document_id: int, download: bool = False) -> Response:
    """The PDF in the browser's viewer (`?download=1` saves it); an issued document's stored one with its ETag."""
    try:
        stored = await stored_pdf_response(request, config, document_id, doc_type=None, inline=not download)
        if stored is not None:
            return stored
        rendered = await service.document_pdf(document_id, data_dir=config.data_dir)
    except RenderError as error:
        return _render_failed_page(request, error)
    return pdf_response(rendered, inline=not download)


@get("/documents/{document_id:int}/einvoice.xml", include_in_schema=False)
async def browser_einvoice_xml(document_id: int, syntax: str = "factur-x") -> Response:
    """The document's CII XML for download (`?syntax=xrechnung`: refused with what KoSIT would reject)."""
    xrechnung = syntax == "xrechnung"
    content = await service.document_xml(document_id, xrechnung=xrechnung)
    if content is None:
        raise Conflict(_("This document has no e-invoice: %(problem)s.", problem=(await service.einvoice_status(document_id)).problem))
    number = (await documents_service.get_document(document_id, with_lines=False)).number or str(document_id)
    return download(content, f"{filename_part(number)}-{'xrechnung' if xrechnung else 'factur-x'}.xml",
                    "application/xml")


@get("/documents/{document_id:int}/print", include_in_schema=False)
async def print_view(request: Request, config: Config, document_id: int) -> Template:
    """The document as HTML laid out like the PDF, for the browser's print dialog."""
    data = await service.document_print_data(document_id, data_dir=config.data_dir)
    svg = (data.get("payment") or {}).get("qr_svg")
    qr_uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode() if svg else ""
    return page(request, "render/print.html", title=f"{data['title']} {data['number']}".strip(), doc=data,
                document_id=document_id, qr_uri=qr_uri, back=f"/documents/{document_id}")


@get("/clients/{client_id:int}/statement.pdf", include_in_schema=False)
async def browser_statement_pdf(request: Request, config: Config, client_id: int, currency: str = "",
                                date_from: date | None = QueryParameter(name="from", default=None),
                                date_to: date | None = QueryParameter(name="to", default=None),
                                download: bool = False) -> Response:
    try:
        rendered = await service.client_statement_pdf(client_id, date_from=date_from, date_to=date_to,
                                                      currency=currency or None, data_dir=config.data_dir)
    except RenderError as error:
        return _render_failed_page(request, error)
    return pdf_response(rendered, inline=not download)


@get("/render/fonts/{name:str}", include_in_schema=False)
async def font(name: str) -> File:
    """The bundled fonts, so the print view uses the PDF's typeface."""
    if name not in FONT_FILES:
        raise NotFound(_("Font %(name)s", name=name))
    return File(path=FONTS_DIR / name, media_type="font/otf", content_disposition_type="inline",
                headers={"Cache-Control": "private, max-age=86400"})


@get("/documents/{document_id:int}/peppol.xml", include_in_schema=False)
async def browser_peppol_ubl(request: Request, document_id: int) -> Response:
    """The Peppol BIS (UBL) file of an issued invoice or credit note; when Peppol would reject it, a page
    saying what is missing and where to set it."""
    try:
        content, name = await service.document_ubl(document_id)
    except ValidationFailed as failed:
        document = await documents_service.get_document(document_id, with_lines=False)
        return page(request, "render/peppol_refused.html", status_code=422, section="invoices",
                    title=_("No Peppol e-invoice yet"), doc=document, problems=failed.errors)
    return download(content, name, "application/xml")


ROUTES = [browser_pdf, browser_einvoice_xml, print_view, browser_statement_pdf, font, browser_peppol_ubl]
