"""Background tasks that live as long as the server (outbox, schedulers)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("counterfoil")


async def stop_task(task: asyncio.Task | None) -> None:
    """Cancel a background task and wait for it; its own failure does not stop shutdown."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        pass


class Periodic:
    """A check the server runs after a short pause at start, then every `interval_s` until it stops
    (the backup and accountant schedulers). A failed check is logged and tried again next time."""

    def __init__(self, name: str, check: Callable[[], Awaitable[Any]], *, first_delay_s: float,
                 interval_s: float) -> None:
        self.name, self.check = name, check
        self.first_delay_s, self.interval_s = first_delay_s, interval_s
        self.task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        await asyncio.sleep(self.first_delay_s)
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed", self.name)
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        await stop_task(self.task)
        self.task = None
