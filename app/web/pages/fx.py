"""Exchange rates (Settings, owner): the base currency, rates by hand, a rate file, the latest rates."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Template

from app.common.i18n import _, translated, typed_locale
from app.common.logic import FieldError, ValidationFailed
from app.common.numbers import NumberNotRead, input_text, read_decimal
from app.fx import logic, service
from app.money import known_currencies
from app.settings import service as settings_service
from app.web.responses import form_data, page, redirect
from app.web.security import OWNER_ONLY


async def _page(request: Request, values: dict[str, Any], errors: dict[str, str], status_code: int = 200,
                currency: str = "") -> Template:
    return page(request, "settings/exchange_rates.html", status_code=status_code, section="settings",
                title=_("Exchange rates"), base=await service.base_currency(),
                business_currency=(await settings_service.get_settings()).get("default_currency") or "EUR",
                latest=await service.latest_rates(),
                rates=await service.list_rates(currency=currency, limit=1000 if currency else 30),
                count=await service.rate_count(), currency=currency, sources=translated(logic.SOURCES),
                currencies=sorted(known_currencies()), values=values, errors=errors,
                today=await settings_service.today())


@get("/settings/exchange-rates", opt=OWNER_ONLY)
async def rates_page(request: Request, currency: str = "") -> Template:
    return await _page(request, {}, {}, currency=currency.strip().upper()[:3])


@post("/settings/exchange-rates", opt=OWNER_ONLY)
async def rates_add(request: Request) -> Response:
    data = await form_data(request)
    # The rate is typed as the reader writes numbers (0,6712 for a German reader); the service reads plain decimals.
    sent = dict(data)
    typed, locale = str(data.get("rate") or "").strip(), typed_locale()
    if typed and locale is not None:
        try:
            sent["rate"] = format(read_decimal(typed, locale), "f")
        except NumberNotRead as refused:
            return await _page(request, data, {"rate": str(refused)}, status_code=422)
    try:
        row = await service.add_rate(sent)
    except ValidationFailed as failed:
        return await _page(request, data, failed.by_field(), status_code=422)
    return redirect("/settings/exchange-rates", request=request, flash=_(
        "Rate saved: 1 %(base)s = %(rate)s %(currency)s on %(date)s.", base=row["base_currency"],
        rate=input_text(row["rate"]), currency=row["currency"], date=row["rate_date"].isoformat()))


@post("/settings/exchange-rates/import", opt=OWNER_ONLY)
async def rates_import(request: Request) -> Response:
    form = await request.form()
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed([FieldError("file", _("Choose a rate file to import"))])
        result = await service.import_rates(await upload.read())
    except ValidationFailed as failed:
        return await _page(request, {}, failed.by_field(), status_code=422)
    return redirect("/settings/exchange-rates", request=request, flash=_(
        "%(layout)s: %(read)s rates read (%(written)s new or changed), %(skipped)s skipped.",
        layout=_(logic.SOURCES[result.layout]), read=result.read, written=result.written, skipped=result.skipped))


@post("/settings/exchange-rates/base", opt=OWNER_ONLY)
async def rates_base(request: Request) -> Response:
    data = await form_data(request)
    try:
        base = await service.set_base_currency(str(data.get("base_currency") or ""))
    except ValidationFailed as failed:
        return await _page(request, data, failed.by_field(), status_code=422)
    return redirect("/settings/exchange-rates", request=request,
                    flash=_("Totals are now converted to %(base)s.", base=base))


ROUTES = [rates_page, rates_add, rates_import, rates_base]


# -- bank accounts per currency ---------------------------------------------------------------------

async def _accounts_page(request: Request, values: dict[str, Any], errors: dict[str, str], status_code: int = 200,
                         editing: int | None = None) -> Template:
    return page(request, "settings/bank_accounts.html", status_code=status_code, section="settings",
                title=_("Bank accounts"), accounts=await service.bank_accounts(), values=values, errors=errors,
                editing=editing, currencies=sorted(known_currencies()),
                business_currency=(await settings_service.get_settings()).get("default_currency") or "EUR")


@get("/settings/bank-accounts", opt=OWNER_ONLY)
async def accounts_page(request: Request) -> Template:
    return await _accounts_page(request, {}, {})


@post("/settings/bank-accounts", opt=OWNER_ONLY)
async def accounts_add(request: Request) -> Response:
    data = await form_data(request)
    try:
        await service.save_bank_account(data)
    except ValidationFailed as failed:
        return await _accounts_page(request, data, failed.by_field(), status_code=422)
    return redirect("/settings/bank-accounts", request=request, flash=_("Bank account added."))


@post("/settings/bank-accounts/{account_id:int}", opt=OWNER_ONLY)
async def accounts_update(request: Request, account_id: int) -> Response:
    data = await form_data(request)
    try:
        await service.save_bank_account(data, account_id)
    except ValidationFailed as failed:
        return await _accounts_page(request, data, failed.by_field(), status_code=422, editing=account_id)
    return redirect("/settings/bank-accounts", request=request, flash=_("Bank account saved."))


@post("/settings/bank-accounts/{account_id:int}/delete", opt=OWNER_ONLY)
async def accounts_delete(request: Request, account_id: int) -> Response:
    await service.delete_bank_account(account_id)
    return redirect("/settings/bank-accounts", request=request, flash=_("Bank account removed."))


ROUTES += [accounts_page, accounts_add, accounts_update, accounts_delete]
