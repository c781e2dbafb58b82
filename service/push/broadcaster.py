"""One reader of the push outbox per process, fanning new events out to its live streams.

Every open stream (GET /v1/stream) is a ``Subscriber`` with a bounded buffer; the broadcaster
reads the outbox once per wake-up, whatever the number of streams, and hands each stream the
events its filter takes. It wakes when this process commits outbox rows (``wake``), when
PostgreSQL notifies a commit on any replica (``OutboxListener``), and every
``push_poll_seconds`` in case a wake-up was missed (several SQLite processes, a listener that
was reconnecting). A stream whose buffer overflows is closed rather than allowed to hold the
others back or grow without bound; its client resumes from the outbox with Last-Event-ID.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.background import BackgroundLoop, PollingLoop, wait_until_set
from service.metrics.registry import STREAM_SUBSCRIBERS
from service.push.outbox import CHANNEL
from service.push.repository import OutboxRepository
from service.push.stream import PushEvent, StreamFilter, push_event

logger = logging.getLogger("credscore.push")

# Outbox rows read per query.
READ_BATCH = 500


class Subscriber:
    """One stream's buffer of events not yet sent."""

    def __init__(self, stream_filter: StreamFilter, capacity: int) -> None:
        self.filter = stream_filter
        self.capacity = capacity
        self.buffer: deque[PushEvent] = deque()
        self.overflowed = False
        self.closed = False
        self._ready = asyncio.Event()

    def offer(self, events: Sequence[PushEvent]) -> bool:
        """Buffer ``events`` (already filtered); False once the buffer has overflowed."""
        if len(self.buffer) + len(events) > self.capacity:
            self.overflowed = True
            self.buffer.clear()
            self._ready.set()
            return False
        self.buffer.extend(events)
        self._ready.set()
        return True

    def close(self) -> None:
        """Ends the stream once its buffer is sent (the process is stopping)."""
        self.closed = True
        self._ready.set()

    async def next_events(self, wait_seconds: float) -> list[PushEvent]:
        """The buffered events (waiting up to ``wait_seconds`` for some); [] on time-out."""
        if not self.buffer:
            await wait_until_set(self._ready, wait_seconds)
        self._ready.clear()
        events = list(self.buffer)
        self.buffer.clear()
        return events


class Broadcaster(PollingLoop):
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        poll_seconds: float,
        capacity: int,
    ) -> None:
        super().__init__(
            "credscore-push-broadcaster",
            poll_seconds=poll_seconds,
            logger=logger,
            failure="reading the push outbox failed",
        )
        self.sessionmaker = sessionmaker
        self.capacity = capacity
        # The id of the newest outbox row handed to the streams (or known, with none open).
        self.position = 0
        self._behind = True  # position not kept current while no stream was open
        self.subscribers: set[Subscriber] = set()
        self._lock = asyncio.Lock()

    async def stop(self) -> None:
        await super().stop()
        for subscriber in self.subscribers:
            subscriber.close()
        self.subscribers.clear()
        STREAM_SUBSCRIBERS.set(0)

    async def subscribe(self, stream_filter: StreamFilter) -> tuple[Subscriber, int]:
        """A new stream's buffer, and the outbox id after which its live events start."""
        async with self._lock:
            if self._behind:
                async with self.sessionmaker() as session:
                    self.position = await OutboxRepository(session).newest_id()
                self._behind = False
            subscriber = Subscriber(stream_filter, self.capacity)
            self.subscribers.add(subscriber)
            STREAM_SUBSCRIBERS.set(len(self.subscribers))
            return subscriber, self.position

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        STREAM_SUBSCRIBERS.set(len(self.subscribers))

    async def step(self) -> None:
        await self.poll()

    async def poll(self) -> int:
        """Hand every outbox row newer than ``position`` to the streams; returns how many."""
        async with self._lock:
            if not self.subscribers:
                self._behind = True
                return 0
            handed = 0
            while True:
                async with self.sessionmaker() as session:
                    rows = await OutboxRepository(session).after(
                        self.position, upto=None, limit=READ_BATCH
                    )
                    events = [push_event(row) for row in rows]
                if not events:
                    return handed
                self._fan_out(events)
                self.position = events[-1].id
                handed += len(events)

    def _fan_out(self, events: Sequence[PushEvent]) -> None:
        for subscriber in list(self.subscribers):
            if subscriber.filter.everything:
                taken: Sequence[PushEvent] = events
            else:
                taken = [event for event in events if subscriber.filter.takes(event)]
            if taken and not subscriber.offer(taken):
                self.unsubscribe(subscriber)


class OutboxListener(BackgroundLoop):
    """PostgreSQL only: LISTEN for outbox commits made by any replica; calls ``on_notify``."""

    def __init__(self, database_url: str, on_notify: Callable[[], None]) -> None:
        super().__init__("credscore-push-listener", self._run_forever)
        self.conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(False)
        self.on_notify = on_notify

    async def _run_forever(self) -> None:
        import psycopg

        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                async with connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    # Commits made while (re)connecting were not notified.
                    self.on_notify()
                    async for _ in connection.notifies():
                        self.on_notify()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("push listener lost its connection; reconnecting", exc_info=True)
            await asyncio.sleep(1.0)
