from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.database.pagination import keyset
from service.push.models import OutboxEvent, PushCursor, WebhookDelivery, WebhookSubscription
from service.push.stream import StreamFilter


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, subscription: WebhookSubscription) -> WebhookSubscription:
        self.session.add(subscription)
        await self.session.flush()
        return subscription

    async def by_id(self, subscription_id: int) -> WebhookSubscription | None:
        return await self.session.get(WebhookSubscription, subscription_id)

    async def page(
        self, *, after: int | None, limit: int, descending: bool = False
    ) -> Sequence[WebhookSubscription]:
        statement = keyset(
            select(WebhookSubscription),
            WebhookSubscription.id,
            after=after,
            limit=limit,
            descending=descending,
        )
        return (await self.session.scalars(statement)).all()

    async def delete(self, subscription: WebhookSubscription) -> None:
        await self.session.delete(subscription)
        await self.session.flush()

    async def deliveries(
        self,
        subscription_id: int,
        *,
        status: str | None,
        after: int | None,
        limit: int,
        descending: bool = False,
    ) -> Sequence[WebhookDelivery]:
        statement = select(WebhookDelivery).where(
            WebhookDelivery.subscription_id == subscription_id
        )
        if status is not None:
            statement = statement.where(WebhookDelivery.status == status)
        statement = keyset(
            statement, WebhookDelivery.id, after=after, limit=limit, descending=descending
        )
        return (await self.session.scalars(statement)).all()

    async def delivery(self, subscription_id: int, delivery_id: int) -> WebhookDelivery | None:
        delivery = await self.session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.subscription_id != subscription_id:
            return None
        return delivery

    async def add_delivery(self, delivery: WebhookDelivery) -> WebhookDelivery:
        self.session.add(delivery)
        await self.session.flush()
        return delivery


# The push_cursors row holding the highest outbox id retention has deleted.
# The webhook fan-out's position (service/push/dispatcher.py).
WEBHOOKS_CURSOR = "webhooks"
PRUNED_THROUGH = "outbox_pruned"


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def cursor(self, name: str) -> PushCursor | None:
        """A consumer's position, locked until the transaction ends on PostgreSQL (one holder
        at a time across replicas)."""
        statement = select(PushCursor).where(PushCursor.name == name)
        if self.session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def pruned_through(self) -> int:
        """The highest outbox id retention has deleted (0: none); ids at or below it may be
        gone."""
        return (
            await self.session.scalar(
                select(PushCursor.position).where(PushCursor.name == PRUNED_THROUGH)
            )
            or 0
        )

    async def delete_finished_deliveries(self, *, attempted_before: datetime, limit: int) -> int:
        """Delete at most ``limit`` succeeded or failed deliveries last attempted before
        ``attempted_before``, oldest first; returns how many."""
        batch = (
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status != "pending",
                WebhookDelivery.last_attempt_at < attempted_before,
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
        ids = list(await self.session.scalars(batch))
        if not ids:
            return 0
        # Counted from the delete: another replica may have taken some of these rows first.
        deleted = await self.session.execute(
            delete(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
        return int(deleted.rowcount)  # type: ignore[attr-defined]

    async def delete_outbox(self, *, created_before: datetime, through: int, limit: int) -> int:
        """Delete at most ``limit`` outbox rows created before ``created_before``, with ids up to
        ``through``, that no delivery references, oldest first; records the highest id taken
        as the pruned-through mark and returns how many."""
        unreferenced = ~exists().where(WebhookDelivery.outbox_id == OutboxEvent.id)
        batch = (
            select(OutboxEvent.id)
            .where(OutboxEvent.created_at < created_before, OutboxEvent.id <= through, unreferenced)
            .order_by(OutboxEvent.id)
            .limit(limit)
        )
        ids = list(await self.session.scalars(batch))
        if not ids:
            return 0
        # Checked again as it deletes: a replay may have referenced one since.
        deleted = await self.session.execute(
            delete(OutboxEvent)
            .where(OutboxEvent.id.in_(ids), unreferenced)
            .execution_options(synchronize_session=False)
        )
        mark = await self.session.get(PushCursor, PRUNED_THROUGH)
        if mark is None:
            self.session.add(PushCursor(name=PRUNED_THROUGH, position=ids[-1]))
        else:
            mark.position = max(mark.position, ids[-1])
        await self.session.flush()
        return int(deleted.rowcount)  # type: ignore[attr-defined]

    async def newest_id(self) -> int:
        return await self.session.scalar(select(func.max(OutboxEvent.id))) or 0

    async def after(
        self,
        position: int,
        *,
        upto: int | None,
        limit: int,
        stream_filter: StreamFilter | None = None,
    ) -> Sequence[OutboxEvent]:
        """Outbox rows with ids in (position, upto] that ``stream_filter`` takes, oldest first,
        at most ``limit``."""
        statement = select(OutboxEvent).where(OutboxEvent.id > position)
        if upto is not None:
            statement = statement.where(OutboxEvent.id <= upto)
        if stream_filter is not None:
            if stream_filter.types:
                statement = statement.where(OutboxEvent.type.in_(stream_filter.types))
            if stream_filter.outlet_ids:
                statement = statement.where(OutboxEvent.outlet_id.in_(stream_filter.outlet_ids))
            if stream_filter.event_ids:
                statement = statement.where(OutboxEvent.event_id.in_(stream_filter.event_ids))
        return (await self.session.scalars(statement.order_by(OutboxEvent.id).limit(limit))).all()
