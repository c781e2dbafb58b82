"""What a stream sends and which events it takes."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from service.database.types import utcnow
from service.push.models import OutboxEvent
from service.push.outbox import timestamp

# Sent to a stream resuming from before what retention deleted: it must re-read state.
STREAM_GAP = "stream.gap"


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


def stream_gap(last_event_id: int, pruned_through: int) -> PushEvent:
    """Events after ``last_event_id`` up to ``pruned_through`` may have been deleted. Its id is
    ``pruned_through``: a client resuming from it is not told again."""
    document = {
        "type": STREAM_GAP,
        "timestamp": timestamp(utcnow()),
        "data": {"last_event_id": last_event_id, "pruned_through": pruned_through},
    }
    return PushEvent(
        id=pruned_through,
        type=STREAM_GAP,
        outlet_id=None,
        event_id=None,
        data=orjson.dumps(document).decode(),
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
