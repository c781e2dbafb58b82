from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import EventSourceResponse, ServerSentEvent

from service.context import AppContext
from service.dependencies import (
    Admin,
    ContextDep,
    PageDep,
    Reader,
    RequestIdDep,
    RowId,
    SessionDep,
    WebhookServiceDep,
)
from service.errors import FieldError, InvalidInput, problem_responses
from service.events.repository import EventRepository
from service.openapi import SERVER_SENT_EVENT, body_responses
from service.push.repository import OutboxRepository
from service.push.schemas import (
    DeliveryPage,
    DeliveryRead,
    DeliveryStatus,
    EventType,
    WebhookCreate,
    WebhookCreated,
    WebhookPage,
    WebhookRead,
    WebhookUpdate,
)
from service.push.service import webhook_read
from service.push.stream import PushEvent, StreamFilter, push_event, stream_gap
from service.schemas import MAX_DATABASE_ID, database_id
from service.scores.service import ScoringService

webhooks_router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
stream_router = APIRouter(prefix="/v1/stream", tags=["stream"])

SubscriptionId = RowId
DeliveryId = RowId
# Outbox rows read per query when a stream resumes.
BACKLOG_BATCH = 500


@webhooks_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    responses=problem_responses(),
    summary="Subscribe a URL to change events (the signing secret is shown once, here)",
)
async def create_webhook(
    body: WebhookCreate,
    admin: Admin,
    webhooks: WebhookServiceDep,
    request_id: RequestIdDep,
) -> WebhookCreated:
    subscription = await webhooks.create(body, actor=admin, request_id=request_id)
    return WebhookCreated.model_validate(
        webhook_read(subscription, webhooks.registry).model_dump() | {"secret": subscription.secret}
    )


@webhooks_router.get(
    "",
    response_model=WebhookPage,
    responses=problem_responses(),
    summary="Webhook subscriptions, oldest first (order=desc: newest first)",
)
async def list_webhooks(_admin: Admin, webhooks: WebhookServiceDep, page: PageDep) -> WebhookPage:
    rows = await webhooks.repository.page(
        after=page.after, limit=page.fetch, descending=page.descending
    )
    items, next_cursor = page.cut(rows)
    return WebhookPage(
        items=[webhook_read(item, webhooks.registry) for item in items], next_cursor=next_cursor
    )


@webhooks_router.get(
    "/{subscription_id}",
    response_model=WebhookRead,
    responses=problem_responses(404),
    summary="One webhook subscription",
)
async def get_webhook(
    subscription_id: SubscriptionId, _admin: Admin, webhooks: WebhookServiceDep
) -> WebhookRead:
    return webhook_read(await webhooks.get(subscription_id), webhooks.registry)


@webhooks_router.patch(
    "/{subscription_id}",
    response_model=WebhookRead,
    responses=problem_responses(404),
    summary="Change a subscription; enabled=true re-enables one disabled after failures",
)
async def update_webhook(
    subscription_id: SubscriptionId,
    body: WebhookUpdate,
    admin: Admin,
    webhooks: WebhookServiceDep,
    request_id: RequestIdDep,
) -> WebhookRead:
    subscription = await webhooks.update(subscription_id, body, actor=admin, request_id=request_id)
    return webhook_read(subscription, webhooks.registry)


@webhooks_router.delete(
    "/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(404),
    summary="Remove a subscription and its delivery records",
)
async def delete_webhook(
    subscription_id: SubscriptionId,
    admin: Admin,
    webhooks: WebhookServiceDep,
    request_id: RequestIdDep,
) -> Response:
    await webhooks.delete(subscription_id, actor=admin, request_id=request_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@webhooks_router.get(
    "/{subscription_id}/deliveries",
    response_model=DeliveryPage,
    responses=problem_responses(404),
    summary="A subscription's deliveries, oldest first (order=desc: newest first)",
)
async def list_deliveries(
    subscription_id: SubscriptionId,
    _admin: Admin,
    webhooks: WebhookServiceDep,
    page: PageDep,
    delivery_status: Annotated[
        DeliveryStatus | None, Query(alias="status", description="Only deliveries in this state.")
    ] = None,
) -> DeliveryPage:
    await webhooks.get(subscription_id)
    rows = await webhooks.repository.deliveries(
        subscription_id,
        status=delivery_status.value if delivery_status else None,
        after=page.after,
        limit=page.fetch,
        descending=page.descending,
    )
    items, next_cursor = page.cut(rows)
    return DeliveryPage(
        items=[DeliveryRead.model_validate(item) for item in items], next_cursor=next_cursor
    )


@webhooks_router.post(
    "/{subscription_id}/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryRead,
    responses=problem_responses(404, 409),
    summary="Send a delivery's event again (as a new delivery, sent in the background)",
)
async def replay_delivery(
    subscription_id: SubscriptionId,
    delivery_id: DeliveryId,
    _admin: Admin,
    webhooks: WebhookServiceDep,
) -> DeliveryRead:
    return DeliveryRead.model_validate(await webhooks.replay(subscription_id, delivery_id))


STREAM_DESCRIPTION = """
Server-Sent Events: every change as it commits. Each message is
`id: <event id>`, `event: <type>`, `data: {"type", "timestamp", "data": {...}}`; a comment line
is sent every `CREDSCORE_STREAM_PING_SECONDS` (15 s) to keep proxies from closing the
connection. Reconnect with `Last-Event-ID` (browsers' EventSource do) or `last_event_id` to get
everything after that id, then live events, without gaps or repeats. A client that cannot keep
up is disconnected and resumes the same way.

Events older than `CREDSCORE_PUSH_RETENTION_DAYS` (30) are deleted. A stream resuming from
before the deleted ones first gets `event: stream.gap`, `id: <pruned_through>`,
`data: {"type": "stream.gap", "timestamp", "data": {"last_event_id", "pruned_through"}}`:
events after `last_event_id` up to `pruned_through` may be missing, so re-read the state you
follow; the stream then goes on with the events after `pruned_through`.
"""


@stream_router.get(
    "",
    response_class=EventSourceResponse,
    responses=body_responses(
        "text/event-stream",
        "An endless text/event-stream of change events.",
        schema=SERVER_SENT_EVENT,
    ),
    summary="Live change events (Server-Sent Events), resumable with Last-Event-ID",
    description=STREAM_DESCRIPTION,
)
async def subscribe(
    context: ContextDep,
    session: SessionDep,
    _reader: Reader,
    outlet: Annotated[
        list[str] | None,
        Query(description="Only events about this outlet (slug or id); repeat for several."),
    ] = None,
    event: Annotated[
        list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None,
        Query(description="Only events about this event id; repeatable."),
    ] = None,
    types: Annotated[
        str | None,
        Query(
            max_length=500,
            description="Comma-separated event types: "
            + ", ".join(event_type.value for event_type in EventType),
        ),
    ] = None,
    last_event_id: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_DATABASE_ID,
            description="Resume after this event id (as the Last-Event-ID header).",
        ),
    ] = None,
    last_event_id_header: Annotated[
        str | None,
        Header(alias="Last-Event-ID", description="Resume after this event id."),
    ] = None,
) -> EventSourceResponse:
    stream_filter = await _stream_filter(session, context.scoring, outlet or [], event or [], types)
    resume = last_event_id if last_event_id is not None else _event_id(last_event_id_header)
    return EventSourceResponse(
        _events(context, stream_filter, resume),
        ping=context.settings.stream_ping_seconds,
        # A client that stops reading is dropped instead of holding a send forever.
        send_timeout=30,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream_filter(
    session: AsyncSession,
    scoring: ScoringService,
    outlets: list[str],
    events: list[int],
    types: str | None,
) -> StreamFilter:
    errors: list[FieldError] = []
    registry = await scoring.outlets(session)
    outlet_ids = set()
    for value in outlets:
        number = database_id(value)
        found = registry.by_slug.get(value) if number is None else registry.by_id.get(number)
        if found is None:
            errors.append(
                FieldError(
                    loc=["query", "outlet"], message=f"no outlet {value!r}", type="not_found"
                )
            )
        else:
            outlet_ids.add(found.id)
    known_events = await EventRepository(session).by_ids(events)
    errors += [
        FieldError(loc=["query", "event"], message=f"no event {event_id}", type="not_found")
        for event_id in events
        if event_id not in known_events
    ]
    wanted = {name.strip() for name in (types or "").split(",") if name.strip()}
    valid = {event_type.value for event_type in EventType}
    errors += [
        FieldError(
            loc=["query", "types"],
            message=f"unknown event type {name!r}; one of {', '.join(sorted(valid))}",
            type="enum",
        )
        for name in sorted(wanted - valid)
    ]
    if errors:
        raise InvalidInput("Invalid stream filter.", errors=errors)
    return StreamFilter(
        types=frozenset(wanted), outlet_ids=frozenset(outlet_ids), event_ids=frozenset(events)
    )


def _event_id(header: str | None) -> int | None:
    if header is None or not header.strip():
        return None
    value = header.strip()
    if not (value.isascii() and value.isdigit() and int(value) <= MAX_DATABASE_ID):
        raise InvalidInput(
            "Last-Event-ID must be an event id sent by this stream.",
            errors=[
                FieldError(
                    loc=["header", "Last-Event-ID"], message="not an event id", type="int_parsing"
                )
            ],
        )
    return int(value)


def _message(event: PushEvent) -> ServerSentEvent:
    return ServerSentEvent(data=event.data, event=event.type, id=str(event.id))


async def _events(
    context: AppContext, stream_filter: StreamFilter, resume: int | None
) -> AsyncIterator[ServerSentEvent]:
    # Subscribed before the backlog is read: whatever commits meanwhile is buffered, and the
    # ids already sent from the backlog are skipped, so nothing is lost or sent twice.
    broadcaster = context.push.broadcaster
    subscriber, live_from = await broadcaster.subscribe(stream_filter)
    try:
        sent = live_from if resume is None else resume
        while sent < live_from:
            async with context.sessionmaker() as session:
                repository = OutboxRepository(session)
                rows = await repository.after(
                    sent, upto=live_from, limit=BACKLOG_BATCH, stream_filter=stream_filter
                )
                # Read after the rows: any row deleted before they were read is at or below it.
                pruned_through = await repository.pruned_through()
            if pruned_through > sent:
                yield _message(stream_gap(sent, pruned_through))
            for row in rows:
                # Kept rows below the mark (a pending retry still needs them) are covered by
                # the re-read the gap asks for; sending them would take the ids backwards.
                if row.id > pruned_through:
                    yield _message(push_event(row))
            if len(rows) < BACKLOG_BATCH:
                sent = max(sent, pruned_through)
                break
            sent = max(rows[-1].id, pruned_through)
        sent = max(sent, live_from)
        while not subscriber.overflowed:
            for item in await subscriber.next_events(wait_seconds=5.0):
                if item.id > sent:
                    yield _message(item)
                    sent = item.id
            if subscriber.closed:
                break
    finally:
        broadcaster.unsubscribe(subscriber)
