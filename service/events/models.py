from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.database.base import Base, IdMixin, TimestampMixin
from service.database.types import utcnow


class Event(IdMixin, TimestampMixin, Base):
    """The question that claims answer differently, e.g. civilians killed in one strike."""

    __tablename__ = "events"

    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    quantity_kind: Mapped[str | None] = mapped_column(String(80))
    unit: Mapped[str | None] = mapped_column(String(40))
    place: Mapped[str | None] = mapped_column(String(200))
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    topic: Mapped[str | None] = mapped_column(String(80), index=True)
    # The conflict the event belongs to: outlets that are a party to it have a stake in it.
    conflict: Mapped[str | None] = mapped_column(String(80), index=True)
    # The status of the newest consensus (history in event_consensus), for filtering lists.
    consensus_status: Mapped[str | None] = mapped_column(String(20), index=True)
    # Set while a re-reconciliation is queued: the stored consensus may be out of date.
    consensus_stale_since: Mapped[datetime | None]

    @property
    def consensus_stale(self) -> bool:
        return self.consensus_stale_since is not None


class EventConsensus(IdMixin, Base):
    """One reconciliation of an event's claims; append-only, the newest row is current."""

    __tablename__ = "event_consensus"
    __table_args__ = (Index("ix_event_consensus_event_id_id", "event_id", "id"),)

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    trigger: Mapped[str] = mapped_column(String(40))
    method_version: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    estimate: Mapped[float | None] = mapped_column(Float)
    estimate_label: Mapped[str | None] = mapped_column(String(300))
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    independent_reports: Mapped[int] = mapped_column(Integer)
    claims: Mapped[list[dict[str, Any]]]
    sources: Mapped[list[dict[str, Any]]]
    # Added with the statuses of issue 9; null on rows computed before them.
    competing: Mapped[list[dict[str, Any]] | None]
    dependent_groups: Mapped[list[dict[str, Any]] | None]
    supporting: Mapped[list[str] | None]
    tolerance: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[dict[str, Any] | None]
