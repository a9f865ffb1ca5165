"""The line table's live preview, shared by the document editor and the recurring invoice's form.

While the user types, htmx posts the form: the server reads the lines, fills a picked catalogue item in,
applies a line operation (add, move, remove) and answers with the totals, or, after a structural change
or a pick, the whole line table with the cursor where the user goes next.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Any

from litestar import Request, Response

from app.documents import logic as documents_logic
from app.documents import service as documents_service
from app.web.responses import page

LINE_FIELD = re.compile(r"^lines-(\d+)-")


def line_errors(errors: Mapping[str, str]) -> dict[int, list[str]]:
    """Field errors of the editor's lines, grouped by line (shown under the line's description)."""
    grouped: dict[int, list[str]] = {}
    for name, message in errors.items():
        match = LINE_FIELD.match(name)
        if match:
            grouped.setdefault(int(match.group(1)), []).append(message)
    return grouped


async def line_table_preview(request: Request, data: Mapping[str, Any], *, client_id: Any,
                             new_line: Callable[[], Awaitable[dict[str, Any]]],
                             context: Callable[[list[dict[str, Any]]], Awaitable[dict[str, Any]]],
                             currency: str | None = None, day: date | None = None) -> Response:
    """The htmx answer to the form as it stands: `new_line` makes the line of an empty table, `context`
    the template context of the page's line table for these lines."""
    advice = await documents_service.tax_advice(client_id)
    lines, picked, asked = await documents_service.apply_item_picks(documents_logic.lines_from_form(data),
                                                                    advice=advice, currency=currency, day=day)
    op = str(data.get("op") or "")
    focus = None
    if op:
        count = len(lines)
        lines, focus = documents_logic.apply_line_op(lines, op)
        if len(lines) > count:   # a typed line starts with the rules' taxes for the client
            lines[-1]["taxes"] = list(advice.defaults().codes)
        elif len(lines) == 1 and documents_logic.line_is_blank(lines[0]) and not lines[0]["taxes"]:
            lines[0]["taxes"] = list(advice.defaults().codes)   # the fresh line left after removing the last
    if not lines:
        lines = [await new_line()]
    shown = await context(lines)
    if op or picked:
        if picked and focus is None:
            focus = picked[-1]
        # A picked item with no price in the document's currency (and no rate to convert one) asks for it.
        asking = {f"lines-{index}-unit_price": message for index, message in asked.items() if index in picked}
        response = page(request, "documents/_structure.html", errors=asking, line_errors=line_errors(asking),
                        focus=focus, focus_field="quantity" if picked and not op else "item", **shown)
        response.headers["HX-Retarget"] = "#doc-lines"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    return page(request, "documents/_preview.html", errors={}, line_errors={}, **shown)
