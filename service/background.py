"""A loop that runs beside the request handlers of one process, started and stopped with it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
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


class PollingLoop(BackgroundLoop):
    """A worker that does one ``step`` each time it is woken, and at least every
    ``idle_seconds()`` without a wake-up (``poll_seconds`` unless a subclass says otherwise).

    A step that fails is logged and tried again on the next round: the database may be down.
    """

    def __init__(
        self, name: str, *, poll_seconds: float, logger: logging.Logger, failure: str
    ) -> None:
        super().__init__(name, self._run_forever)
        self.poll_seconds = poll_seconds
        self._logger = logger
        self._failure = failure
        self._wake = asyncio.Event()

    async def step(self) -> object:
        raise NotImplementedError

    def idle_seconds(self) -> float:
        return self.poll_seconds

    def wake(self) -> None:
        self._wake.set()

    async def _run_forever(self) -> None:
        while True:
            await wait_until_set(self._wake, self.idle_seconds())
            self._wake.clear()
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                self._logger.warning(self._failure, exc_info=True)
