"""Background tasks that live as long as the server (outbox, schedulers)."""

from __future__ import annotations

import asyncio


async def stop_task(task: asyncio.Task | None) -> None:
    """Cancel a background task and wait for it; its own failure does not stop shutdown."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        pass
