"""The audit walk's scenarios for app.fx (tests/service/test_audit_trail.py merges them): each write
function of exchange rates and bank accounts, called once after its setup, must leave sealed entries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from app.fx import service as fx

Call = Callable[[], Awaitable[Any]]
ACCOUNT = {"currencies": "CAD", "holder": "Maple Studio", "institution": "004", "transit": "12345",
           "account_number": "1234567"}
YESTERDAY = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


def scenarios() -> dict[str, tuple[Callable[[Any], Awaitable[Call]], str | None]]:
    def simple(call: Callable[[], Awaitable[Any]]) -> Callable[[Any], Awaitable[Call]]:
        async def setup(w: Any) -> Call:
            return call
        return setup

    def after_account(call: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Call]]:
        async def setup(w: Any) -> Call:
            made = await fx.save_bank_account(ACCOUNT)
            return lambda: call(made)
        return setup

    return {
        "app.fx.service.set_base_currency": (simple(lambda: fx.set_base_currency("CAD")), "setting change"),
        "app.fx.service.add_rate": (simple(lambda: fx.add_rate({"date": YESTERDAY, "currency": "USD",
                                                                 "rate": "1.1"})), "create"),
        "app.fx.service.import_rates": (simple(lambda: fx.import_rates(
            f"date,currency,rate\n{YESTERDAY},USD,1.1\n")), "create"),
        "app.fx.service.save_bank_account": (simple(lambda: fx.save_bank_account(ACCOUNT)), "setting change"),
        "app.fx.service.delete_bank_account": (after_account(lambda made: fx.delete_bank_account(made["id"])),
                                               "delete"),
    }
