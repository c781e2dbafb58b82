from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.database.pagination import keyset
from service.push.models import OutboxEvent, WebhookDelivery, WebhookSubscription
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


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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
