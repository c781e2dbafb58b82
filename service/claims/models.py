from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, IdMixin, utcnow


class Claim(IdMixin, Base):
    __tablename__ = "claims"
    __table_args__ = (
        UniqueConstraint("submitted_by_key_id", "idempotency_key"),
        Index("ix_claims_outlet_id_id", "outlet_id", "id"),
        Index("ix_claims_event_id_id", "event_id", "id"),
        Index("ix_claims_topic_id", "topic", "id"),
        Index("ix_claims_published_at", "published_at"),
    )

    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime]
    topic: Mapped[str | None] = mapped_column(String(80))
    figure_value: Mapped[float | None] = mapped_column(Float)
    figure_low: Mapped[float | None] = mapped_column(Float)
    figure_high: Mapped[float | None] = mapped_column(Float)
    figure_unit: Mapped[str | None] = mapped_column(String(40))
    # A syndicated copy of another claim: reconciliation counts the two as one report.
    copy_of_claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    # Set when evidence behind the current score changed and a re-score is queued.
    score_stale_since: Mapped[datetime | None]
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    submitted_by_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
