"""The push outbox and the webhook subscriptions and deliveries fed from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.database.base import Base, IdMixin, TimestampMixin
from service.database.types import utcnow


class OutboxEvent(IdMixin, Base):
    """One change, written in the transaction that made it; its id orders every push.

    Rows are inserted at commit under a transaction-scoped lock (service/push/outbox.py), so ids
    become visible in increasing order: a reader that has seen id N has seen every id below it.
    """

    __tablename__ = "push_outbox"
    __table_args__ = (Index("ix_push_outbox_created_at", "created_at"),)

    type: Mapped[str] = mapped_column(String(40))
    outlet_id: Mapped[int | None] = mapped_column(Integer)
    event_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushCursor(Base):
    """How far a consumer of the outbox has got (the webhook fan-out keeps its position here)."""

    __tablename__ = "push_cursors"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class WebhookSubscription(IdMixin, TimestampMixin, Base):
    __tablename__ = "webhook_subscriptions"

    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(300))
    secret: Mapped[str] = mapped_column(String(200))
    event_types: Mapped[list[str]]
    # Empty lists mean every outlet / every event.
    outlet_ids: Mapped[list[int]]
    event_ids: Mapped[list[int]]
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # The newest outbox id when it was created: it gets the events after that one.
    starts_after: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(100))


class WebhookDelivery(IdMixin, Base):
    """One outbox event sent (or to send) to one subscription."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_subscription_id_id", "subscription_id", "id"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        # The foreign key's check when retention deletes outbox rows (service/push/dispatcher.py).
        Index("ix_webhook_deliveries_outbox_id", "outbox_id"),
    )

    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    outbox_id: Mapped[int] = mapped_column(ForeignKey("push_outbox.id"))
    event_type: Mapped[str] = mapped_column(String(40))
    # pending (to send, at next_attempt_at), succeeded, failed (attempts exhausted).
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_response_body: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
