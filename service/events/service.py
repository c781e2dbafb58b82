from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.reconcile import Status
from service.audit.service import record_audit
from service.auth.service import Principal
from service.errors import NotFound
from service.events.models import Event, EventConsensus
from service.events.repository import EventRepository
from service.events.schemas import EventCreate


class EventService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repository = EventRepository(session)
        # A page of events needs nothing beyond the query.
        self.page = self.repository.page

    async def get(self, event_id: int) -> Event:
        event = await self.repository.by_id(event_id)
        if event is None:
            raise NotFound(f"No event with id {event_id}.")
        return event

    async def latest_consensus(self, event_id: int) -> EventConsensus | None:
        return await self.repository.latest_consensus(event_id)

    async def consensus_history(
        self, event_id: int, *, after: int | None, limit: int, descending: bool = False
    ) -> Sequence[EventConsensus]:
        return await self.repository.consensus_history(
            event_id, after=after, limit=limit, descending=descending
        )

    async def create(self, data: EventCreate, *, actor: Principal, request_id: str | None) -> Event:
        # Nothing reported yet: the status the first recomputation would give it.
        event = await self.repository.add(
            Event(**data.model_dump(), consensus_status=Status.NO_REPORTS.value)
        )
        await record_audit(
            self.session,
            actor=actor,
            action="event.create",
            subject_type="event",
            subject_id=event.id,
            before=None,
            after=data.model_dump(mode="json"),
            request_id=request_id,
        )
        return event
