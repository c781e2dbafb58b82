from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.database.pagination import keyset
from service.events.models import Event, EventConsensus


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_id(self, event_id: int) -> Event | None:
        return await self.session.get(Event, event_id)

    async def by_ids(self, event_ids: Sequence[int]) -> dict[int, Event]:
        if not event_ids:
            return {}
        rows = await self.session.execute(select(Event).where(Event.id.in_(set(event_ids))))
        return {event.id: event for event in rows.scalars()}

    async def page(
        self,
        *,
        after: int | None,
        limit: int,
        descending: bool = False,
        topic: str | None = None,
        conflict: str | None = None,
        status: str | None = None,
    ) -> Sequence[Event]:
        statement = select(Event)
        statement = keyset(statement, Event.id, after=after, limit=limit, descending=descending)
        if topic is not None:
            statement = statement.where(Event.topic == topic)
        if conflict is not None:
            statement = statement.where(Event.conflict == conflict)
        if status is not None:
            statement = statement.where(Event.consensus_status == status)
        return (await self.session.execute(statement)).scalars().all()

    async def add(self, event: Event) -> Event:
        self.session.add(event)
        await self.session.flush()
        return event

    async def latest_consensus(self, event_id: int) -> EventConsensus | None:
        return await self.session.scalar(
            select(EventConsensus)
            .where(EventConsensus.event_id == event_id)
            .order_by(EventConsensus.id.desc())
            .limit(1)
        )

    async def clear_consensus_stale(
        self, event_ids: Sequence[int], *, queued_before: datetime
    ) -> None:
        """Clear the events' stale flags set no later than ``queued_before`` (a later flag
        stands for a change the stored consensus has not seen)."""
        await self.session.execute(
            update(Event)
            .where(Event.id.in_(event_ids), Event.consensus_stale_since <= queued_before)
            .values(consensus_stale_since=None)
        )

    async def latest_consensus_of(self, event_ids: Collection[int]) -> dict[int, EventConsensus]:
        """Each event's newest consensus, by event id (an event without one is absent)."""
        if not event_ids:
            return {}
        newest = (
            select(func.max(EventConsensus.id))
            .where(EventConsensus.event_id.in_(event_ids))
            .group_by(EventConsensus.event_id)
        )
        rows = await self.session.execute(
            select(EventConsensus).where(EventConsensus.id.in_(newest))
        )
        return {row.event_id: row for row in rows.scalars()}

    async def consensus_history(
        self, event_id: int, *, after: int | None, limit: int, descending: bool = False
    ) -> Sequence[EventConsensus]:
        statement = select(EventConsensus).where(EventConsensus.event_id == event_id)
        statement = keyset(
            statement, EventConsensus.id, after=after, limit=limit, descending=descending
        )
        return (await self.session.execute(statement)).scalars().all()
