from __future__ import annotations

from typing import Any

from service.push.broadcaster import Broadcaster, Subscriber
from service.push.stream import PushEvent, StreamFilter


def event(id_: int, type_: str, outlet_id: int | None = 1) -> PushEvent:
    return PushEvent(id=id_, type=type_, outlet_id=outlet_id, event_id=None, data="{}")


async def test_a_slow_stream_is_dropped_without_holding_the_others_back(app: Any) -> None:
    broadcaster = Broadcaster(app.state.context.sessionmaker, poll_seconds=60, capacity=2)
    slow = Subscriber(StreamFilter(), capacity=2)
    filtered = Subscriber(StreamFilter(types=frozenset({"claim.scored"})), capacity=2)
    other_outlet = Subscriber(StreamFilter(outlet_ids=frozenset({2})), capacity=2)
    broadcaster.subscribers = {slow, filtered, other_outlet}

    # The fan-out step alone, without a database.
    broadcaster._fan_out(
        [event(1, "claim.scored"), event(2, "verdict.recorded"), event(3, "claim.scored")]
    )

    # Three events do not fit a buffer of two: that stream is closed (its client resumes with
    # Last-Event-ID); the others got what their filters take.
    assert slow.overflowed
    assert slow not in broadcaster.subscribers
    assert [item.id for item in await filtered.next_events(wait_seconds=0)] == [1, 3]
    assert not other_outlet.buffer
    assert other_outlet in broadcaster.subscribers
