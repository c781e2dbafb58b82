"""Push retention: old finished deliveries and outbox rows go, and a stream resuming from before
them is told so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from service.database.types import utcnow
from service.push import dispatcher as dispatcher_module
from service.push import router as router_module
from service.push.dispatcher import Pruned
from service.push.models import OutboxEvent, PushCursor, WebhookDelivery
from service.push.outbox import VERDICT_RECORDED, emit
from service.push.repository import PRUNED_THROUGH
from service.push.repository import WEBHOOKS_CURSOR as CURSOR
from service.settings import Settings
from tests.service.conftest import LiveServer
from tests.service.metrics.test_router import samples
from tests.service.push.test_stream import open_stream
from tests.service.push.test_webhooks import subscribe

OLD = timedelta(days=40)
RECENT = timedelta(days=1)


async def emit_events(app: Any, count: int) -> list[int]:
    """``count`` outbox rows, committed together; their ids, oldest first."""
    async with app.state.context.sessionmaker() as session:
        newest = await session.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()))
        for n in range(count):
            emit(session, VERDICT_RECORDED, {"n": n})
        await session.commit()
        return list(
            await session.scalars(
                select(OutboxEvent.id)
                .where(OutboxEvent.id > (newest or 0))
                .order_by(OutboxEvent.id)
            )
        )


async def age(app: Any, ids: list[int], by: timedelta) -> None:
    async with app.state.context.sessionmaker() as session:
        await session.execute(
            update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(created_at=utcnow() - by)
        )
        await session.commit()


async def add_state(app: Any, *rows: Any) -> list[Any]:
    async with app.state.context.sessionmaker() as session:
        session.add_all(rows)
        await session.commit()
        return [getattr(row, "id", None) for row in rows]


def delivery(
    subscription_id: int, outbox_id: int, status: str, last_attempt_ago: timedelta
) -> WebhookDelivery:
    attempted = utcnow() - last_attempt_ago
    return WebhookDelivery(
        subscription_id=subscription_id,
        outbox_id=outbox_id,
        event_type=VERDICT_RECORDED,
        status=status,
        attempts=1,
        next_attempt_at=attempted if status == "pending" else None,
        last_attempt_at=attempted,
        created_at=attempted,
    )


async def kept(app: Any) -> tuple[list[int], list[int], int | None]:
    """Outbox ids, delivery ids, and the pruned-through mark."""
    async with app.state.context.sessionmaker() as session:
        outbox = list(await session.scalars(select(OutboxEvent.id).order_by(OutboxEvent.id)))
        deliveries = list(
            await session.scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.id))
        )
        mark = await session.get(PushCursor, PRUNED_THROUGH)
        return outbox, deliveries, mark.position if mark else None


async def pruned_counts(client: httpx.AsyncClient) -> dict[str, float]:
    found = samples((await client.get("/metrics")).text)
    counted = found.get("credscore_push_pruned_rows_total", [])
    return {labels["table"]: value for labels, value in counted}


async def test_only_old_finished_unreferenced_rows_behind_the_cursor_go(
    app: Any,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Small batches: the prune goes through several, as a first prune of a big table does.
    monkeypatch.setattr(dispatcher_module, "PRUNE_BATCH", 2)
    subscription = (await subscribe(client, admin_headers, "http://127.0.0.1:9/hook"))["id"]
    unreferenced, delivered, failed, waiting, lately_delivered, recent, ahead = await emit_events(
        app, 7
    )
    await age(app, [unreferenced, delivered, failed, waiting, lately_delivered, ahead], OLD)
    await add_state(app, PushCursor(name=CURSOR, position=recent))
    _, _, pending, fresh = await add_state(
        app,
        delivery(subscription, delivered, "succeeded", OLD),
        delivery(subscription, failed, "failed", OLD),
        # Still to send (its subscription may be disabled): the delivery and its event stay.
        delivery(subscription, waiting, "pending", OLD),
        delivery(subscription, lately_delivered, "succeeded", RECENT),
    )
    before = await pruned_counts(client)

    pruned = await app.state.context.push.webhooks.prune()

    assert pruned == Pruned(deliveries=2, outbox=3)
    outbox, deliveries, mark = await kept(app)
    assert outbox == [waiting, lately_delivered, recent, ahead]
    assert deliveries == [pending, fresh]
    assert mark == failed
    after = await pruned_counts(client)
    assert after["webhook_deliveries"] - before.get("webhook_deliveries", 0) == 2
    assert after["push_outbox"] - before.get("push_outbox", 0) == 3

    # Nothing more to do: the mark stays where it was.
    assert await app.state.context.push.webhooks.prune() == Pruned(deliveries=0, outbox=0)
    assert await kept(app) == (outbox, deliveries, failed)


async def test_the_worker_prunes_at_start_then_once_per_interval(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatcher = app.state.context.push.webhooks
    calls: list[Pruned] = []

    async def counted() -> Pruned:
        calls.append(Pruned(deliveries=0, outbox=0))
        return calls[-1]

    monkeypatch.setattr(dispatcher, "prune", counted)
    await dispatcher.step()
    await dispatcher.step()
    assert len(calls) == 1


async def test_the_retention_is_a_setting() -> None:
    assert Settings().push_retention_days == 30
    with pytest.raises(ValueError, match="greater than 0"):
        Settings(push_retention_days=0)


@pytest.fixture
async def pruned_outbox(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> dict[str, int]:
    """Five events: the first three old, the second of them still wanted by a pending retry;
    pruned. Ids by name."""
    first, straggler, third, fourth, fifth = await emit_events(app, 5)
    await age(app, [first, straggler, third], OLD)
    subscription = (await subscribe(client, admin_headers, "http://127.0.0.1:9/hook"))["id"]
    await add_state(
        app,
        PushCursor(name=CURSOR, position=fifth),
        delivery(subscription, straggler, "pending", OLD),
    )
    assert await app.state.context.push.webhooks.prune() == Pruned(deliveries=0, outbox=2)
    return {
        "first": first,
        "straggler": straggler,
        "third": third,
        "fourth": fourth,
        "fifth": fifth,
    }


@pytest.fixture
async def live(settings: Settings, pruned_outbox: dict[str, int]) -> AsyncIterator[LiveServer]:
    # Started after the pruning, so its streams' backlog covers every event above.
    server = LiveServer(
        settings.model_copy(update={"push_poll_seconds": 0.5, "stream_ping_seconds": 1.0})
    )
    await server.start()
    yield server
    await server.stop()


@pytest.mark.parametrize("backlog_batch", [1, router_module.BACKLOG_BATCH])
async def test_a_stream_resuming_from_a_pruned_id_is_told_of_the_gap_then_gets_the_kept_events(
    live: LiveServer,
    pruned_outbox: dict[str, int],
    read_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    backlog_batch: int,
) -> None:
    monkeypatch.setattr(router_module, "BACKLOG_BATCH", backlog_batch)
    ids = pruned_outbox
    resume = ids["first"] - 1
    async with (
        httpx.AsyncClient(base_url=live.url) as http,
        open_stream(http, read_headers, **{"Last-Event-ID": str(resume)}) as stream,
    ):
        gap, *kept_events = [await stream.next() for _ in range(3)]
    assert gap["event"] == "stream.gap"
    assert gap["id"] == ids["third"]
    assert gap["data"]["type"] == "stream.gap"
    assert gap["data"]["timestamp"].endswith("Z")
    assert gap["data"]["data"] == {"last_event_id": resume, "pruned_through": ids["third"]}
    # The straggler below the mark is not sent: ids only go forward, and the re-read covers it.
    assert [message["id"] for message in kept_events] == [ids["fourth"], ids["fifth"]]
    assert {message["event"] for message in kept_events} == {VERDICT_RECORDED}


async def test_a_stream_resuming_from_a_kept_id_gets_no_gap(
    live: LiveServer, pruned_outbox: dict[str, int], read_headers: dict[str, str]
) -> None:
    ids = pruned_outbox
    async with httpx.AsyncClient(base_url=live.url) as http:
        # From the gap's own id (a client that got the gap and reconnected), then from later.
        async with open_stream(
            http, read_headers, f"?last_event_id={ids['third']}&types={VERDICT_RECORDED}"
        ) as stream:
            from_mark = [await stream.next() for _ in range(2)]
        async with open_stream(
            http, read_headers, **{"Last-Event-ID": str(ids["fourth"])}
        ) as stream:
            from_kept = await stream.next()
    assert [message["id"] for message in from_mark] == [ids["fourth"], ids["fifth"]]
    assert from_kept["id"] == ids["fifth"]
    assert from_kept["event"] == VERDICT_RECORDED
