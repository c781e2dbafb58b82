"""A loop that runs beside the request handlers of one process, started and stopped with it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any


class BackgroundLoop:
    def __init__(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.name = name
        self.loop = loop
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.loop(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


async def wait_until_set(event: asyncio.Event, seconds: float) -> None:
    """Wait for ``event``, at most ``seconds``.

    With ``asyncio.timeout`` rather than ``asyncio.wait_for``: on Python 3.11 ``wait_for`` wraps
    the wait in a task of its own, and a loop cancelled while its event was being set could
    stay "cancelling" for good (seen when an app stopped right after its push listener woke).
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
