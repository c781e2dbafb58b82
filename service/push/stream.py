"""What a stream sends and which events it takes."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from service.push.models import OutboxEvent


@dataclass(frozen=True, slots=True)
class PushEvent:
    """An outbox row as streams send it; ``data`` is the payload's JSON, encoded once."""

    id: int
    type: str
    outlet_id: int | None
    event_id: int | None
    data: str


def push_event(row: OutboxEvent) -> PushEvent:
    return PushEvent(
        id=row.id,
        type=row.type,
        outlet_id=row.outlet_id,
        event_id=row.event_id,
        data=orjson.dumps(row.payload).decode(),
    )


@dataclass(frozen=True, slots=True)
class StreamFilter:
    """Which events a stream takes; an empty set does not restrict."""

    types: frozenset[str] = frozenset()
    outlet_ids: frozenset[int] = frozenset()
    event_ids: frozenset[int] = frozenset()

    @property
    def everything(self) -> bool:
        return not (self.types or self.outlet_ids or self.event_ids)

    def takes(self, event: PushEvent) -> bool:
        return (
            (not self.types or event.type in self.types)
            and (not self.outlet_ids or event.outlet_id in self.outlet_ids)
            and (not self.event_ids or event.event_id in self.event_ids)
        )
