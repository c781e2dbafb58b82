from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, IdMixin, TimestampMixin


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
