from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from service.database.base import Base, IdMixin
from service.database.types import utcnow


class ApiKey(IdMixin, Base):
    """An API key, stored only as a SHA-256 hash of its secret (keys are 256-bit random)."""

    __tablename__ = "api_keys"
    # Names show as created_by in the audit trail: no two active keys share one.
    __table_args__ = (
        Index(
            "ix_api_keys_active_name",
            "name",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
            sqlite_where=text("revoked_at IS NULL"),
        ),
    )

    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None]
