from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scoring.figures import Figure
from service.database.base import Base, IdMixin
from service.database.types import utcnow


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
    # Where the claim appeared (an article, a post); imported verdicts match claims by it.
    url: Mapped[str | None] = mapped_column(String(2000), index=True)
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


class ClaimFields(Protocol):
    """What scoring reads of a claim: a stored ``Claim`` or a ``ClaimDraft`` being previewed."""

    @property
    def id(self) -> int | None: ...
    @property
    def outlet_id(self) -> int: ...
    @property
    def event_id(self) -> int | None: ...
    @property
    def text(self) -> str: ...
    @property
    def published_at(self) -> datetime: ...
    @property
    def topic(self) -> str | None: ...
    @property
    def figure_value(self) -> float | None: ...
    @property
    def figure_low(self) -> float | None: ...
    @property
    def figure_high(self) -> float | None: ...
    @property
    def figure_unit(self) -> str | None: ...
    @property
    def copy_of_claim_id(self) -> int | None: ...


def claim_figure(claim: ClaimFields) -> Figure | None:
    """The figure a claim's columns hold, by the one rule (``scoring.figures``); None if none."""
    return Figure.from_fields(
        claim.figure_value, claim.figure_low, claim.figure_high, claim.figure_unit
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimColumns:
    """The columns a claim is scored on, as plain data (a ``ClaimDraft`` or ``InsertedClaim``)."""

    outlet_id: int
    event_id: int | None
    text: str
    published_at: datetime
    topic: str | None
    figure_value: float | None
    figure_low: float | None
    figure_high: float | None
    figure_unit: str | None
    copy_of_claim_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimDraft(ClaimColumns):
    """A claim that is scored but not stored (previews): no ORM instrumentation to pay for."""

    id: int | None = None


class StoredClaimFields(ClaimFields, Protocol):
    """A stored claim as the API shows it: a ``Claim`` row or a ``InsertedClaim`` just inserted."""

    @property
    def id(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def score_stale_since(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class InsertedClaim(ClaimColumns):
    """A claim inserted with a core INSERT (service/claims/service.py): every column, no ORM."""

    id: int
    idempotency_key: str | None
    request_fingerprint: str | None
    submitted_by_key_id: int | None
    created_at: datetime
    score_stale_since: datetime | None = None
    url: str | None = None


# The columns a ClaimDraft carries (all but the id), for building one from a row.
DRAFT_FIELDS = tuple(name for name in ClaimDraft.__dataclass_fields__ if name != "id")
