from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.database.base import Base, IdMixin
from service.database.types import utcnow


class Job(IdMixin, Base):
    """Durable background work: re-scoring an outlet's open claims, re-reconciling an event.

    Written in the transaction that made the work necessary, so it cannot be lost; a worker in
    any replica claims pending jobs (SKIP LOCKED on PostgreSQL) and marks them done.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_kind_target", "status", "kind", "target_id"),)

    kind: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
