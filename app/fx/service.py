"""Exchange rates: the base currency, rates by hand or from a file, conversion, base totals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from app.common.i18n import _
from app.common.logic import FieldError, NotFound, ValidationFailed, decimal_size_problem
from app.common.numbers import input_text
from app.db.engine import require_write_transaction, write_transaction
from app.fx import logic
from app.fx.tables import BankAccount, ExchangeRate, FxSettings
from app.money import MoneyError, check_currency, from_minor, parse_decimal, to_minor
from app.settings import service as settings_service


def _now() -> datetime:
    return datetime.now(UTC)


# -- the base currency ----------------------------------------------------------------------------

async def base_currency() -> str:
    """The currency every total is converted to: the one chosen, or the business currency."""
    # A fixed statement, not a select built anew: every total in another currency asks (issue 21).
    rows = await FxSettings.raw("SELECT base_currency FROM fx_settings LIMIT 1")
    if rows and rows[0]["base_currency"]:
        return str(rows[0]["base_currency"])
    settings = await settings_service.get_settings()
    return str(settings.get("default_currency") or "EUR")


async def set_base_currency(code: str) -> str:
    """Choose the base currency (empty: follow the business currency). Rates are kept per base: the
    rates of another base stay on record, unused, until it is chosen again."""
    value = ""
    if (code or "").strip():
        value = logic.parse_currency(code, field_name="base_currency")
    async with write_transaction():
        row = await FxSettings.select(FxSettings.id).first()
        if row is None:
            await FxSettings.insert(FxSettings(base_currency=value, updated_at=_now()))
        else:
            await FxSettings.update({FxSettings.base_currency: value, FxSettings.updated_at: _now()}).where(
                FxSettings.id == row["id"])
    return await base_currency()


# -- rates ----------------------------------------------------------------------------------------

# Run inside the transaction that added rates of a currency: app.documents fills in the base totals
# of the documents issued while no rate was known (documents sit above fx, so they register here).
RateHook = Callable[[str], Awaitable[None]]
_rate_hooks: list[RateHook] = []


def register_rate_hook(hook: RateHook) -> None:
    if hook not in _rate_hooks:
        _rate_hooks.append(hook)


async def list_rates(*, currency: str = "", date_from: date | None = None, date_to: date | None = None,
                     limit: int = 500) -> list[dict[str, Any]]:
    base = await base_currency()
    query = ExchangeRate.select().where(ExchangeRate.base_currency == base)
    if currency:
        query = query.where(ExchangeRate.currency == currency.upper())
    if date_from:
        query = query.where(ExchangeRate.rate_date >= date_from)
    if date_to:
        query = query.where(ExchangeRate.rate_date <= date_to)
    return await query.order_by(ExchangeRate.rate_date, ascending=False).order_by(ExchangeRate.currency).limit(limit)


async def rate_count() -> int:
    return await ExchangeRate.count().where(ExchangeRate.base_currency == await base_currency())


async def latest_rates() -> list[dict[str, Any]]:
    """Each currency's latest rate (the rates page's summary)."""
    base = await base_currency()
    return await ExchangeRate.raw(
        "SELECT currency, MAX(rate_date) AS rate_date, COUNT(*) AS days, "
        "(SELECT r2.rate FROM exchange_rate r2 WHERE r2.base_currency = r.base_currency AND r2.currency = r.currency "
        " ORDER BY r2.rate_date DESC LIMIT 1) AS rate "
        "FROM exchange_rate r WHERE base_currency = {} GROUP BY currency ORDER BY currency", base)


async def _store(rates: Sequence[logic.RateInput], base: str, source: str) -> int:
    """Write rates (a rate of the same base, currency and day is replaced); returns how many changed."""
    require_write_transaction("storing exchange rates")
    changed = 0
    now = _now()
    currencies: set[str] = set()
    for rate in rates:
        existing = await ExchangeRate.select(ExchangeRate.id, ExchangeRate.rate).where(
            (ExchangeRate.base_currency == base) & (ExchangeRate.currency == rate.currency)
            & (ExchangeRate.rate_date == rate.rate_date)).first()
        if existing is None:
            await ExchangeRate.insert(ExchangeRate(base_currency=base, currency=rate.currency, rate_date=rate.rate_date,
                                                   rate=str(rate.rate), source=source, created_at=now, updated_at=now))
        elif Decimal(existing["rate"]) != rate.rate:
            await ExchangeRate.update({ExchangeRate.rate: str(rate.rate), ExchangeRate.source: source,
                                       ExchangeRate.updated_at: now}).where(ExchangeRate.id == existing["id"])
        else:
            continue
        changed += 1
        currencies.add(rate.currency)
    for currency in sorted(currencies):
        for hook in _rate_hooks:
            await hook(currency)
    return changed


async def add_rate(data: Mapping[str, Any]) -> dict[str, Any]:
    """A rate entered by hand: `date`, `currency`, `rate` (units of it per one base unit)."""
    base = await base_currency()
    today = await settings_service.today()
    rate = logic.clean_rate(data, base, today)
    async with write_transaction():
        await _store([rate], base, "manual")
    row = await ExchangeRate.select().where(
        (ExchangeRate.base_currency == base) & (ExchangeRate.currency == rate.currency)
        & (ExchangeRate.rate_date == rate.rate_date)).first()
    assert row is not None
    return row


@dataclass(frozen=True)
class ImportResult:
    layout: str
    read: int       # rates found in the file, in the base currency
    written: int    # of which new or changed
    skipped: int    # cells without a rate (N/A) or with no cross rate to the base that day


async def import_rates(content: bytes | str) -> ImportResult:
    """Import a rate file (ECB eurofxref-hist, Bank of Canada, date,currency,rate). All or nothing: a
    line at fault is named and nothing is written."""
    base = await base_currency()
    today = await settings_service.today()
    if isinstance(content, bytes):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed([FieldError("file", _("the file is not UTF-8 text (a CSV file is expected)"))]) from None
    else:
        text = content
    try:
        parsed = logic.parse_rate_file(text, base, today)
    except logic.RateFileError as problem:
        raise ValidationFailed([FieldError("file", str(problem))]) from None
    async with write_transaction():
        written = await _store(parsed.rates, base, parsed.layout)
    return ImportResult(parsed.layout, len(parsed.rates), written, parsed.skipped)


async def history(currency: str, base: str | None = None) -> list[tuple[date, Decimal]]:
    base = base or await base_currency()
    rows = await ExchangeRate.select(ExchangeRate.rate_date, ExchangeRate.rate).where(
        (ExchangeRate.base_currency == base) & (ExchangeRate.currency == currency)).order_by(ExchangeRate.rate_date)
    return [(row["rate_date"], Decimal(row["rate"])) for row in rows]


async def rate_on(currency: str, day: date, base: str | None = None) -> Decimal | None:
    """Units of `currency` per one base unit on `day` (the latest rate on or before it); 1 for the base
    itself; None when no rate that old is known."""
    base = base or await base_currency()
    if currency == base:
        return Decimal(1)
    row = await ExchangeRate.select(ExchangeRate.rate).where(
        (ExchangeRate.base_currency == base) & (ExchangeRate.currency == currency)
        & (ExchangeRate.rate_date <= day)).order_by(ExchangeRate.rate_date, ascending=False).first()
    return Decimal(row["rate"]) if row else None


async def convert(amount: Any, source: Any, target: Any, day: Any = None) -> Decimal:
    """`amount` of `source` in `target` at the rates of `day` (today when empty). Problems name the
    query field: amount, from, to, date."""
    errors: list[FieldError] = []
    value = Decimal(0)
    try:
        value = parse_decimal(amount if amount is not None else "", field="amount")
    except MoneyError as problem:
        errors.append(FieldError("amount", str(problem).removeprefix("amount: ")))
    else:
        too_large = decimal_size_problem(value, _("Amount"))
        if too_large:
            errors.append(FieldError("amount", too_large))
    codes = {}
    for name, code in (("from", source), ("to", target)):
        try:
            codes[name] = check_currency(str(code or ""))
        except MoneyError as problem:
            errors.append(FieldError(name, str(problem)))
    today = await settings_service.today()
    when = today
    if day not in (None, ""):
        try:
            when = logic.parse_rate_date(day, today)
        except ValidationFailed as failed:
            errors.extend(failed.errors)
    if errors:
        raise ValidationFailed(errors)
    base = await base_currency()
    rates = {}
    for name in ("from", "to"):
        rate = await rate_on(codes[name], when, base)
        if rate is None:
            errors.append(FieldError(name, _("no %(code)s rate on or before %(day)s (base %(base)s): enter one under Settings, Exchange rates",
                                             code=codes[name], day=when.isoformat(), base=base)))
        rates[name] = rate
    if errors:
        raise ValidationFailed(errors)
    return logic.convert(value, codes["from"], codes["to"], rates["from"], rates["to"])  # type: ignore[arg-type]


@dataclass(frozen=True)
class Frozen:
    """What a document or payment keeps of the rate of its day."""

    base_currency: str
    rate: Decimal | None
    total_base_minor: int | None


async def freeze(currency: str, day: date, amount_minor: int) -> Frozen:
    """The rate of `day` and `amount_minor` of `currency` in the base; rate None when none is known."""
    base = await base_currency()
    rate = await rate_on(currency, day, base)
    if rate is None:
        return Frozen(base, None, None)
    in_base = logic.to_base(from_minor(amount_minor, currency), rate, base)
    return Frozen(base, rate, to_minor(in_base, base))


async def price_in(price: Decimal, source: str, target: str, day: date) -> tuple[Decimal, str] | None:
    """A price of `source` in `target` at the day's rates, rounded half-up to the target's minor unit,
    with its hint ("converted at 1 CAD = 0.6712 EUR"); None when a rate is missing (the line then asks
    for a price)."""
    base = await base_currency()
    source_rate, target_rate = await rate_on(source, day, base), await rate_on(target, day, base)
    if source_rate is None or target_rate is None:
        return None
    converted = logic.convert(price, source, target, source_rate, target_rate)
    cross = logic.cross_rate(source_rate, target_rate)
    return converted, _("converted at 1 %(source)s = %(rate)s %(target)s", source=source, rate=input_text(Decimal(logic.rate_text(cross))),
                        target=target)


# -- totals in the base currency ------------------------------------------------------------------

async def base_total(rows: Iterable[tuple[str, int, date, Any]]) -> logic.BaseTotal:
    """Per-currency sums and their base total, for any list of amounts: rows of (currency, amount in
    minor units, its day, the rate frozen for it or None). An amount without a frozen rate is converted
    at the latest rate on or before its day; one with no such rate is left out of the base total and
    counted (`left_out`). Frozen rates of another base than today's are not used."""
    base = await base_currency()
    cache: dict[str, list[tuple[date, Decimal]]] = {}
    converted = []
    for currency, amount_minor, day, frozen in rows:
        amount = from_minor(int(amount_minor), currency)
        rate: Decimal | None
        if currency == base:
            rate = Decimal(1)
        elif frozen not in (None, ""):
            rate = Decimal(str(frozen))
        else:
            if currency not in cache:
                cache[currency] = await history(currency, base)
            rate = logic.rate_on(cache[currency], day)
        converted.append((currency, amount, logic.to_base(amount, rate, base) if rate is not None else None))
    return logic.base_total(converted, base)


async def grouped_base_total(groups: Iterable[tuple[str, int, date | None, Any, int | None, int]]) -> logic.BaseTotal:
    """base_total() of amounts grouped in SQL, the same figures: groups of (currency, their sum in minor units,
    their day or None, the rate frozen for them or None, the amount each of them is or None, how many).
    Amounts in the base currency come as one group per currency (each None: no rate, no rounding); the others
    one group per day or frozen rate and amount, since each amount is converted and rounded on its own."""
    base = await base_currency()
    cache: dict[str, list[tuple[date, Decimal]]] = {}
    converted: list[tuple[str, Decimal, Decimal | None, int]] = []
    for currency, sum_minor, day, frozen, each_minor, count in groups:
        amount = from_minor(int(sum_minor), currency)
        if currency == base:
            converted.append((currency, amount, amount, count))
            continue
        rate: Decimal | None
        if frozen not in (None, ""):
            rate = Decimal(str(frozen))
        else:
            if currency not in cache:
                cache[currency] = await history(currency, base)
            rate = logic.rate_on(cache[currency], day) if day is not None else None
        in_base = (logic.to_base(from_minor(int(each_minor or 0), currency), rate, base) * count
                   if rate is not None else None)
        converted.append((currency, amount, in_base, count))
    return logic.counted_base_total(converted, base)


# -- bank accounts ----------------------------------------------------------------------------------

def _settings_account(settings: Mapping[str, Any]) -> dict[str, Any] | None:
    """The single account of the business settings (before accounts per currency), as an account."""
    if not (settings.get("bank_iban") or settings.get("bank_name") or settings.get("bank_account_holder")):
        return None
    return {"id": None, "position": 0, "currencies": "", "holder": settings.get("bank_account_holder") or "",
            "bank_name": settings.get("bank_name") or "", "iban": settings.get("bank_iban") or "",
            "bic": settings.get("bank_bic") or "", "institution": "", "transit": "", "routing": "",
            "account_number": "", "note": ""}


async def bank_accounts() -> list[dict[str, Any]]:
    """The accounts, in the order documents look for theirs. Before any is added here, the account of the
    business settings stands as the only one, for every currency (id None)."""
    rows = await BankAccount.select().order_by(BankAccount.position).order_by(BankAccount.id)
    if rows:
        return rows
    own = _settings_account(await settings_service.get_settings())
    return [own] if own else []


async def _materialise_settings_account() -> None:
    """The first write on the accounts moves the settings' single account into the first account."""
    require_write_transaction("bank accounts")
    if await BankAccount.count():
        return
    own = _settings_account(await settings_service.get_settings())
    if own is not None and own["iban"]:   # a name without an IBAN is no account to pay into
        now = _now()
        await BankAccount.insert(BankAccount(**{k: v for k, v in own.items() if k != "id"}, created_at=now,
                                             updated_at=now))


async def save_bank_account(data: Mapping[str, Any], account_id: int | None = None) -> dict[str, Any]:
    """Add an account (`account_id` None) or change one; problems name their field."""
    values = logic.clean_account(data)
    async with write_transaction():
        await _materialise_settings_account()
        now = _now()
        if account_id is None:
            last = await BankAccount.select(BankAccount.position).order_by(BankAccount.position, ascending=False).first()
            row = BankAccount(**values, position=(last["position"] + 1) if last else 0, created_at=now,
                              updated_at=now)
            await row.save()
            account_id = row.id
        else:
            if not await BankAccount.exists().where(BankAccount.id == account_id):
                raise NotFound(_("Bank account %(id)s", id=account_id))
            await BankAccount.update({**{getattr(BankAccount, k): v for k, v in values.items()},
                                      BankAccount.updated_at: now}).where(BankAccount.id == account_id)
        found = await BankAccount.select().where(BankAccount.id == account_id).first()
        assert found is not None
        return found


async def delete_bank_account(account_id: int) -> None:
    async with write_transaction():
        await _materialise_settings_account()
        if not await BankAccount.exists().where(BankAccount.id == account_id):
            raise NotFound(_("Bank account %(id)s", id=account_id))
        await BankAccount.delete().where(BankAccount.id == account_id)


async def settings_for_currency(settings: Mapping[str, Any], currency: str) -> dict[str, Any]:
    """The business settings as a document in `currency` prints them: the bank fields of its account."""
    return logic.with_account(settings, logic.choose_account(await bank_accounts(), currency))
