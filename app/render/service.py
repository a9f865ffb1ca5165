"""PDFs from the Typst templates in typst_templates/, rendered off the event loop.

Fonts come only from the bundled folder (ignore_system_fonts) so a PDF looks the
same on every machine. The root is "/" so a template can place the user's logo
from the data folder by its absolute path.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Mapping

import typst

from app.paths import FONTS_DIR, TYPST_DIR


class RenderError(RuntimeError):
    pass


def render_pdf_sync(template: str, data: Mapping[str, Any]) -> bytes:
    source = TYPST_DIR / template
    if not source.is_file():
        raise RenderError(f"template {template} is missing from {TYPST_DIR}")
    try:
        return typst.compile(
            str(source), root="/", font_paths=[str(FONTS_DIR)], ignore_system_fonts=True,
            sys_inputs={"data": json.dumps(data, default=str)},
        )
    except Exception as error:  # typst raises its own TypstError with the template's message
        raise RenderError(f"could not render {template}: {error}") from error


async def render_pdf(template: str, data: Mapping[str, Any]) -> bytes:
    # Typst releases the GIL; a worker thread keeps the server answering meanwhile.
    return await asyncio.to_thread(render_pdf_sync, template, data)


def business_card_data(settings: Mapping[str, Any], logo: Path | None) -> dict[str, Any]:
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
        "logo": str(logo) if logo else None,
    }


async def business_card_pdf(settings: Mapping[str, Any], logo: Path | None) -> bytes:
    return await render_pdf("business-card.typ", business_card_data(settings, logo))
