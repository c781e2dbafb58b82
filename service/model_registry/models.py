from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from service.database.base import Base, IdMixin
from service.database.types import utcnow


class ModelVersion(IdMixin, Base):
    """A trained claim model: its artifact, what it was trained on, and how well it did.

    Rows are never deleted; exactly one ready row may be active. The artifact is loaded only by
    the scoring process (deferred here so listings never read it).
    """

    __tablename__ = "model_versions"

    version: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    activated_at: Mapped[datetime | None]
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    progress_message: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None]
    params: Mapped[dict[str, Any]]
    metrics: Mapped[dict[str, Any] | None]
    n_train: Mapped[int | None] = mapped_column(Integer)
    data_from: Mapped[datetime | None]
    data_to: Mapped[datetime | None]
    python_version: Mapped[str | None] = mapped_column(String(40))
    sklearn_version: Mapped[str | None] = mapped_column(String(40))
    numpy_version: Mapped[str | None] = mapped_column(String(40))
    checksum: Mapped[str | None] = mapped_column(String(64))
    artifact: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
