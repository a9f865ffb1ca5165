"""The JSON API of exchange rates (under /api/v1): list, add, import a file, convert."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import QueryParameter

from app.common.logic import FieldError, ValidationFailed
from app.fx import service
from app.web.api.base import Body
from app.web.security import OWNER_ONLY


class RateOut(msgspec.Struct):
    date: str
    currency: str
    rate: str
    base: str
    source: str


class RateIn(Body):
    # Any: a float or a number is refused by app.fx.logic with a message naming the field, not by the decoder.
    date: Any = None
    currency: Any = None
    rate: Any = None


class ImportOut(msgspec.Struct):
    layout: str
    read: int
    written: int
    skipped: int


class ConvertOut(msgspec.Struct):
    amount: str
    currency: str
    date: str


def rate_out(row: dict[str, Any]) -> RateOut:
    return RateOut(date=row["rate_date"].isoformat(), currency=row["currency"], rate=row["rate"],
                   base=row["base_currency"], source=row["source"])


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed([FieldError(name, "the date must be written YYYY-MM-DD")]) from None


@get("/api/v1/exchange-rates", tags=["exchange rates"])
async def api_rates(currency: str = "", date_from: str = QueryParameter(name="from", default=""),
                    date_to: str = QueryParameter(name="to", default=""), limit: int = 500) -> list[RateOut]:
    rows = await service.list_rates(currency=currency, date_from=_day(date_from, "from"),
                                    date_to=_day(date_to, "to"), limit=max(1, min(limit, 5000)))
    return [rate_out(row) for row in rows]


@post("/api/v1/exchange-rates", tags=["exchange rates"], opt=OWNER_ONLY)
async def api_rate_create(data: RateIn) -> RateOut:
    return rate_out(await service.add_rate(msgspec.structs.asdict(data)))


@post("/api/v1/exchange-rates/import", tags=["exchange rates"], opt=OWNER_ONLY)
async def api_rates_import(request: Request) -> ImportOut:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ValidationFailed([FieldError("file", "Send the file as multipart form data in the field `file`")])
    result = await service.import_rates(await upload.read())
    return ImportOut(layout=result.layout, read=result.read, written=result.written, skipped=result.skipped)


@get("/api/v1/exchange-rates/convert", tags=["exchange rates"])
async def api_convert(amount: str = "", source: str = QueryParameter(name="from", default=""),
                      target: str = QueryParameter(name="to", default=""),
                      day: str = QueryParameter(name="date", default="")) -> ConvertOut:
    value = await service.convert(amount, source, target, day or None)
    used = day or (await service.settings_service.today()).isoformat()
    return ConvertOut(amount=str(value), currency=target.strip().upper(), date=used)


ROUTES = [api_rates, api_rate_create, api_rates_import, api_convert]
