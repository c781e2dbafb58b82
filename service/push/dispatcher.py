"""Webhook deliveries: from the outbox to each subscriber's URL, outside any request.

Two steps, each its own transaction, so a process that dies anywhere loses nothing:

1. Fan-out: outbox rows after the persisted cursor (``push_cursors``, name "webhooks") become
   one ``webhook_deliveries`` row per matching enabled subscription, and the cursor moves past
   them in the same commit. The outbox's ids become visible in increasing order
   (service/push/outbox.py), so a cursor never skips a row committed late.
2. Sending: due deliveries are leased (``next_attempt_at`` moved past the request timeout,
   ``attempts`` counted) in one commit, sent with httpx, and their outcome recorded in another.
   A process that dies mid-send leaves the lease to expire and the delivery is sent again
   (at-least-once: receivers deduplicate on ``webhook-id``).

Retention (``prune``, at start and then hourly): finished deliveries older than
``push_retention_days`` are deleted, then outbox rows as old that the fan-out cursor has passed
and no delivery still references, in short batches so no delete holds its locks for long. The
highest outbox id deleted is kept (``push_cursors``, name "outbox_pruned"): a stream resuming
from below it is told that events are missing (service/push/router.py).

With several replicas on PostgreSQL, the fan-out locks the cursor row (FOR UPDATE: one replica
fans out at a time) and the sender picks due rows with FOR UPDATE SKIP LOCKED, so replicas share
the sending without waiting on each other or sending a row twice. SQLite has one writer at a
time; there the lease's conditional UPDATE alone decides who sends.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import orjson
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from service.background import PollingLoop
from service.database.types import utcnow
from service.metrics.registry import (
    PUSH_PRUNED,
    WEBHOOK_ATTEMPTS,
    WEBHOOK_DISABLED,
    WEBHOOK_FAILED,
)
from service.push.models import OutboxEvent, PushCursor, WebhookDelivery, WebhookSubscription
from service.push.repository import WEBHOOKS_CURSOR, OutboxRepository
from service.settings import Settings

logger = logging.getLogger("credscore.webhooks")

FAN_OUT_BATCH = 500
SEND_BATCH = 50
# Stored of each response: enough to see what the receiver said.
RESPONSE_EXCERPT_CHARS = 1_000
USER_AGENT = "credscore-webhooks/1"
PRUNE_INTERVAL_SECONDS = 3600.0
# Rows per delete: each batch is its own short transaction.
PRUNE_BATCH = 1_000


def subscription_takes(subscription: WebhookSubscription, row: OutboxEvent) -> bool:
    return (
        row.id > subscription.starts_after
        and row.type in subscription.event_types
        and (not subscription.outlet_ids or row.outlet_id in subscription.outlet_ids)
        and (not subscription.event_ids or row.event_id in subscription.event_ids)
    )


def message_id(outbox_id: int) -> str:
    """The ``webhook-id``: one per event, the same on every retry and replay."""
    return f"msg_{outbox_id}"


def retry_delay(attempts: int, settings: Settings) -> float:
    """Exponential backoff with jitter: about base * 2**(attempts - 1), between half and all."""
    ceiling = min(
        settings.webhook_retry_max_seconds,
        settings.webhook_retry_base_seconds * 2.0 ** (attempts - 1),
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)


@dataclass(frozen=True, slots=True)
class Pruned:
    deliveries: int
    outbox: int


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery_id: int
    subscription_id: int
    status_code: int | None
    body: str | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookDispatcher(PollingLoop):
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            "credscore-webhooks",
            poll_seconds=settings.push_poll_seconds,
            logger=logger,
            failure="webhook dispatch failed; trying again",
        )
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.transport = transport
        self._http: httpx.AsyncClient | None = None
        self._next_prune = 0.0

    async def stop(self) -> None:
        await super().stop()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                transport=self.transport,
                timeout=self.settings.webhook_timeout_seconds,
                follow_redirects=False,
                headers={"user-agent": USER_AGENT},
            )
        return self._http

    async def step(self) -> None:
        await self.drain()
        if time.monotonic() >= self._next_prune:
            # Set first: a prune that fails waits for the next interval, not the next poll.
            self._next_prune = time.monotonic() + PRUNE_INTERVAL_SECONDS
            await self.prune()

    def idle_seconds(self) -> float:
        # Retries fall due without any wake-up: poll at least as often as the shortest backoff.
        base = self.settings.webhook_retry_base_seconds
        return max(0.05, min(self.poll_seconds, base if base > 0 else 1.0))

    async def drain(self) -> int:
        """Fan out every new outbox row and send every delivery now due; returns how many
        attempts were made. Retries scheduled for later are left for later."""
        attempts = 0
        while True:
            fanned = await self.fan_out()
            sent = await self.send_due()
            attempts += sent
            if not fanned and not sent:
                return attempts

    async def fan_out(self) -> int:
        """Turn outbox rows after the cursor into deliveries; returns how many rows were read."""
        async with self.sessionmaker() as session:
            subscriptions = list(
                await session.scalars(
                    select(WebhookSubscription).where(WebhookSubscription.enabled.is_(True))
                )
            )
            cursor = await self._cursor(session, subscriptions)
            rows = (
                await OutboxRepository(session).after(
                    cursor.position, upto=None, limit=FAN_OUT_BATCH
                )
                if subscriptions
                else []
            )
            if not rows:
                if not subscriptions:
                    # Nothing to deliver to: skip to the end (each subscription only gets the
                    # events committed after it was created).
                    newest = await session.scalar(select(func.max(OutboxEvent.id)))
                    cursor.position = max(cursor.position, newest or 0)
                await session.commit()
                return 0
            now = utcnow()
            session.add_all(
                [
                    WebhookDelivery(
                        subscription_id=subscription.id,
                        outbox_id=row.id,
                        event_type=row.type,
                        status="pending",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                    for row in rows
                    for subscription in subscriptions
                    if subscription_takes(subscription, row)
                ]
            )
            cursor.position = rows[-1].id
            await session.commit()
            return len(rows)

    async def prune(self) -> Pruned:
        """Delete finished deliveries, then outbox rows, older than the retention."""
        cutoff = utcnow() - timedelta(days=self.settings.push_retention_days)
        deliveries = outbox = 0
        while True:
            async with self.sessionmaker() as session:
                deleted = await OutboxRepository(session).delete_finished_deliveries(
                    attempted_before=cutoff, limit=PRUNE_BATCH
                )
                await session.commit()
            deliveries += deleted
            if deleted < PRUNE_BATCH:
                break
        while True:
            async with self.sessionmaker() as session:
                repository = OutboxRepository(session)
                # Locked, so the fan-out cannot move past rows while they are being deleted
                # and replicas do not prune the same rows at once.
                cursor = await repository.cursor(WEBHOOKS_CURSOR)
                deleted = (
                    await repository.delete_outbox(
                        created_before=cutoff, through=cursor.position, limit=PRUNE_BATCH
                    )
                    if cursor is not None
                    else 0
                )
                await session.commit()
            outbox += deleted
            if deleted < PRUNE_BATCH:
                break
        PUSH_PRUNED.labels("webhook_deliveries").inc(deliveries)
        PUSH_PRUNED.labels("push_outbox").inc(outbox)
        if deliveries or outbox:
            logger.info(
                "push retention: deleted %s finished deliveries and %s outbox rows",
                deliveries,
                outbox,
            )
        return Pruned(deliveries=deliveries, outbox=outbox)

    async def _cursor(
        self, session: AsyncSession, subscriptions: list[WebhookSubscription]
    ) -> PushCursor:
        cursor = await OutboxRepository(session).cursor(WEBHOOKS_CURSOR)
        if cursor is None:
            # First run: from the oldest subscription's start, not the outbox's beginning.
            start = min((item.starts_after for item in subscriptions), default=None)
            if start is None:
                start = await session.scalar(select(func.max(OutboxEvent.id))) or 0
            cursor = PushCursor(name=WEBHOOKS_CURSOR, position=start)
            session.add(cursor)
            await session.flush()
        return cursor

    async def send_due(self) -> int:
        """Lease the deliveries now due, send them, record what happened; returns how many."""
        leased = await self._lease()
        if not leased:
            return 0
        semaphore = asyncio.Semaphore(self.settings.webhook_concurrency)

        async def send(item: tuple[WebhookDelivery, WebhookSubscription, OutboxEvent]) -> Outcome:
            async with semaphore:
                return await self._send(*item)

        outcomes = await asyncio.gather(*(send(item) for item in leased))
        await self._record(outcomes)
        return len(outcomes)

    async def _lease(self) -> list[tuple[WebhookDelivery, WebhookSubscription, OutboxEvent]]:
        now = utcnow()
        lease_until = now + timedelta(seconds=self.settings.webhook_timeout_seconds + 30)
        async with self.sessionmaker() as session:
            due = (
                select(WebhookDelivery.id)
                .join(WebhookSubscription)
                .where(
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= now,
                    WebhookSubscription.enabled.is_(True),
                )
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(SEND_BATCH)
            )
            if session.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(of=WebhookDelivery, skip_locked=True)
            ids = list(await session.scalars(due))
            if not ids:
                await session.commit()
                return []
            leased_ids = list(
                await session.scalars(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.id.in_(ids),
                        WebhookDelivery.status == "pending",
                        WebhookDelivery.next_attempt_at <= now,
                    )
                    .values(
                        next_attempt_at=lease_until,
                        last_attempt_at=now,
                        attempts=WebhookDelivery.attempts + 1,
                    )
                    .returning(WebhookDelivery.id)
                )
            )
            rows = (
                await session.execute(
                    select(WebhookDelivery, WebhookSubscription, OutboxEvent)
                    .join(WebhookSubscription)
                    .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_id)
                    .where(WebhookDelivery.id.in_(leased_ids))
                    .order_by(WebhookDelivery.id)
                    .execution_options(populate_existing=True)
                )
            ).all()
            await session.commit()
            return [(row[0], row[1], row[2]) for row in rows]

    async def _send(
        self, delivery: WebhookDelivery, subscription: WebhookSubscription, event: OutboxEvent
    ) -> Outcome:
        body = orjson.dumps(event.payload).decode()
        msg_id = message_id(event.id)
        sent_at = utcnow()
        try:
            signature = Webhook(subscription.secret).sign(msg_id, sent_at, body)
            response = await self.http.post(
                subscription.url,
                content=body,
                headers={
                    "content-type": "application/json",
                    "webhook-id": msg_id,
                    "webhook-timestamp": str(int(sent_at.timestamp())),
                    "webhook-signature": signature,
                },
            )
        except Exception as exc:
            WEBHOOK_ATTEMPTS.labels("failure").inc()
            return Outcome(
                delivery.id, subscription.id, None, None, f"{type(exc).__name__}: {exc}"[:2000]
            )
        excerpt = response.text[:RESPONSE_EXCERPT_CHARS]
        outcome = Outcome(delivery.id, subscription.id, response.status_code, excerpt, None)
        if not outcome.succeeded:
            outcome = Outcome(
                delivery.id,
                subscription.id,
                response.status_code,
                excerpt,
                f"HTTP {response.status_code}",
            )
        WEBHOOK_ATTEMPTS.labels("success" if outcome.succeeded else "failure").inc()
        return outcome

    async def _record(self, outcomes: list[Outcome]) -> None:
        now = utcnow()
        async with self.sessionmaker() as session:
            for outcome in outcomes:
                delivery = await session.get(WebhookDelivery, outcome.delivery_id)
                if delivery is None:  # its subscription was deleted meanwhile
                    continue
                delivery.last_status_code = outcome.status_code
                delivery.last_response_body = outcome.body
                delivery.last_error = outcome.error
                if outcome.succeeded:
                    delivery.status = "succeeded"
                    delivery.delivered_at = now
                    delivery.next_attempt_at = None
                    await session.execute(
                        update(WebhookSubscription)
                        .where(WebhookSubscription.id == outcome.subscription_id)
                        .values(consecutive_failures=0)
                    )
                    continue
                if delivery.attempts >= self.settings.webhook_max_attempts:
                    delivery.status = "failed"
                    delivery.next_attempt_at = None
                    WEBHOOK_FAILED.inc()
                else:
                    delivery.next_attempt_at = now + timedelta(
                        seconds=retry_delay(delivery.attempts, self.settings)
                    )
                await self._count_failure(session, outcome, now)
            await session.commit()

    async def _count_failure(self, session: AsyncSession, outcome: Outcome, now: datetime) -> None:
        await session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == outcome.subscription_id)
            .values(consecutive_failures=WebhookSubscription.consecutive_failures + 1)
        )
        limit = self.settings.webhook_disable_after_failures
        disabled = await session.execute(
            update(WebhookSubscription)
            .where(
                WebhookSubscription.id == outcome.subscription_id,
                WebhookSubscription.enabled.is_(True),
                WebhookSubscription.consecutive_failures >= limit,
            )
            .values(
                enabled=False,
                updated_at=now,
                disabled_reason=(
                    f"disabled after {limit} consecutive failed deliveries (last: {outcome.error})"
                )[:500],
            )
        )
        if disabled.rowcount:  # type: ignore[attr-defined]
            WEBHOOK_DISABLED.inc()
            logger.warning(
                "webhook subscription %s disabled: %s consecutive failures",
                outcome.subscription_id,
                limit,
            )
