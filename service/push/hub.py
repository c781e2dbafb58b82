"""A process's push machinery, started and stopped with the app (service/app.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.push.broadcaster import Broadcaster, OutboxListener
from service.push.dispatcher import WebhookDispatcher
from service.push.outbox import PUSHED
from service.push.service import WAKE_WEBHOOKS
from service.settings import Settings


class PushHub:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.broadcaster = Broadcaster(
            sessionmaker,
            poll_seconds=settings.push_poll_seconds,
            capacity=settings.stream_queue_size,
        )
        self.webhooks = WebhookDispatcher(sessionmaker, settings)
        postgres = make_url(settings.database_url).get_backend_name() == "postgresql"
        # Commits on other replicas reach this one by NOTIFY (PostgreSQL) or by the poll.
        self.listener = OutboxListener(settings.database_url, self.wake) if postgres else None

    def wake(self) -> None:
        """Outbox rows were committed: read them now rather than at the next poll."""
        self.broadcaster.wake()
        self.webhooks.wake()

    async def after_commit(self, info: dict[Any, Any]) -> None:
        """A committed transaction wrote outbox rows or queued webhook deliveries."""
        if info.pop(PUSHED, False):
            self.wake()
        if info.pop(WAKE_WEBHOOKS, False):
            self.webhooks.wake()

    def start(self, *, webhooks: bool) -> None:
        self.broadcaster.start()
        if self.listener is not None:
            self.listener.start()
        if webhooks:
            self.webhooks.start()

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
        await self.broadcaster.stop()
        await self.webhooks.stop()
