from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.database.base import Base, IdMixin
from service.database.types import utcnow


class Score(IdMixin, Base):
    """An append-only score of a claim or an outlet; the newest row per subject is current."""

    __tablename__ = "scores"
    __table_args__ = (
        Index("ix_scores_claim_id_id", "claim_id", "id"),
        Index("ix_scores_outlet_id_subject_id", "outlet_id", "subject", "id"),
    )

    subject: Mapped[str] = mapped_column(String(10))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    probability: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    level: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(10))
    rated: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(40))
    method_version: Mapped[str] = mapped_column(String(80))
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    as_of: Mapped[datetime]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    trigger: Mapped[str] = mapped_column(String(40))
    inputs: Mapped[dict[str, Any]]
    reasons: Mapped[list[dict[str, Any]]]
    # The Admiralty code of a claim score ({code, reliability, credibility, meaning}); null for
    # outlet scores and for scores stored before it existed.
    admiralty: Mapped[dict[str, Any] | None]
    # Outlet scores only (null for claims): what changed the reliability (a ReliabilityCause)
    # and the date of the newest evidence behind it, which the history is plotted against.
    cause: Mapped[str | None] = mapped_column(String(20))
    evidence_at: Mapped[datetime | None]


class StoredFigures(Protocol):
    """The figures of a stored score: what says whether a newer one moved."""

    @property
    def probability(self) -> float: ...
    @property
    def low(self) -> float: ...
    @property
    def high(self) -> float: ...
    @property
    def rated(self) -> bool: ...


class ScoreFields(StoredFigures, Protocol):
    """A stored score as the API shows it: a ``Score`` row or a ``InsertedScore``."""

    @property
    def id(self) -> int: ...
    @property
    def subject(self) -> str: ...
    @property
    def level(self) -> float: ...
    @property
    def grade(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def method_version(self) -> str: ...
    @property
    def as_of(self) -> datetime: ...
    @property
    def computed_at(self) -> datetime: ...
    @property
    def trigger(self) -> str: ...
    @property
    def reasons(self) -> list[dict[str, Any]]: ...
    @property
    def admiralty(self) -> dict[str, Any] | None: ...
    @property
    def cause(self) -> str | None: ...
    @property
    def evidence_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class ComputedScore:
    """What a score says, before it is stored."""

    probability: float
    low: float
    high: float
    level: float
    grade: str
    rated: bool
    method: str
    method_version: str
    as_of: datetime
    inputs: dict[str, Any]
    reasons: list[dict[str, Any]]
    model_version_id: int | None = None
    admiralty: dict[str, Any] | None = None
    cause: str | None = None
    evidence_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InsertedScore(ComputedScore):
    """A score inserted with a core INSERT: every column, no ORM instrumentation."""

    id: int
    subject: str
    claim_id: int | None
    outlet_id: int
    computed_at: datetime
    trigger: str


class Generation(Base):
    """Monotonic counters bumped in the same transaction as the data they stand for.

    Replicas compare them with what their caches were built from, so a verdict recorded through
    one replica is seen by the next score computed on any other.
    """

    __tablename__ = "generations"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
