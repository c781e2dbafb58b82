from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.database.base import Base, IdMixin
from service.database.types import utcnow


class Verdict(IdMixin, Base):
    """What a claim turned out to be, according to whom, decided when."""

    __tablename__ = "verdicts"
    __table_args__ = (Index("ix_verdicts_claim_id_id", "claim_id", "id"),)

    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    rating: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
    # The published review (a fact-check article), when the verdict came with one.
    url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))
