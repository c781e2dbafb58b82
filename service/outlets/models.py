from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.database.base import Base, IdMixin, TimestampMixin
from service.database.types import utcnow


class OutletKind(StrEnum):
    WIRE = "wire"
    NEWSPAPER = "newspaper"
    BROADCASTER = "broadcaster"
    ONLINE = "online"
    STATE_MEDIA = "state_media"
    GOVERNMENT = "government"
    MILITARY_PAO = "military_pao"
    NGO_MONITOR = "ngo_monitor"
    ACTIVIST_NETWORK = "activist_network"
    INDIVIDUAL = "individual"
    OTHER = "other"


TRANSPARENCY_PRACTICES = (
    "methodology",
    "corrections_policy",
    "ownership_disclosed",
    "names_sources",
)


class Outlet(IdMixin, TimestampMixin, Base):
    __tablename__ = "outlets"

    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    affiliations: Mapped[list[str]] = mapped_column(default=list)
    # Outlets with one owner are not independent: their reports on an event count once.
    owner: Mapped[str | None] = mapped_column(String(200))
    # The outlet's web address (its home page); imports match outlets by its host.
    url: Mapped[str | None] = mapped_column(String(500), index=True)
    # Conflicts this outlet is a party to (matched against an event's conflict).
    conflict_parties: Mapped[list[str]] = mapped_column(default=list)
    on_the_ground: Mapped[bool | None]
    transparency: Mapped[dict[str, bool]] = mapped_column(default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class OutletRecord(IdMixin, Base):
    """Historical accuracy entered by an admin where claim-level verdicts are missing."""

    __tablename__ = "outlet_records"
    __table_args__ = (
        CheckConstraint(
            "verified >= 0 AND refuted >= 0 AND corrections >= 0 AND retractions >= 0",
            name="counts_non_negative",
        ),
        Index("ix_outlet_records_outlet_id_id", "outlet_id", "id"),
    )

    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    external_rating: Mapped[str | None] = mapped_column(String(40))
    verified: Mapped[int] = mapped_column(Integer, default=0)
    refuted: Mapped[int] = mapped_column(Integer, default=0)
    corrections: Mapped[int] = mapped_column(Integer, default=0)
    retractions: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(200))
    as_of: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))


class OutletDependency(IdMixin, Base):
    """A learned dependence between two outlets (they probably copy one another).

    One row per pair, ``first_outlet_id < second_outlet_id``, overwritten by every consensus
    recomputation whose fit saw the pair (``scoring.dependence``: outlets that keep giving the
    same figures, above all the same wrong ones, are probably not independent).
    """

    __tablename__ = "outlet_dependencies"
    __table_args__ = (
        UniqueConstraint("first_outlet_id", "second_outlet_id"),
        Index("ix_outlet_dependencies_second_outlet_id", "second_outlet_id"),
        CheckConstraint("first_outlet_id < second_outlet_id", name="ordered_pair"),
    )

    first_outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    second_outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    # Posterior probability that the two are dependent.
    probability: Mapped[float] = mapped_column(Float)
    # Given that they are: the probability that the first copies the second (0.5: unknown).
    first_copies: Mapped[float] = mapped_column(Float)
    # Events both reported a figure on, in the fit that measured this.
    common_events: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
