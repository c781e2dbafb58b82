from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from scoring.reliability import EXTERNAL_RATING_MEAN
from service.outlets.models import TRANSPARENCY_PRACTICES, OutletKind
from service.schemas import (
    AwareDatetime,
    PageMeta,
    Schema,
    Slug,
    StrictCount,
    StrictFlag,
    StrictInput,
)

ConflictName = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Label = Annotated[str, Field(min_length=1, max_length=120)]
WebAddress = Annotated[
    str,
    Field(
        max_length=500,
        pattern=r"^https?://[^\s/]+",
        description="The outlet's web address (imports match outlets by its host).",
    ),
]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2.")]


class Transparency(StrictInput):
    """Practices that make an outlet's reporting checkable (unknown when absent)."""

    methodology: StrictFlag | None = Field(
        default=None, description="Publishes how it counts/verifies."
    )
    corrections_policy: StrictFlag | None = None
    ownership_disclosed: StrictFlag | None = None
    names_sources: StrictFlag | None = None


class OutletBase(StrictInput):
    name: str = Field(min_length=1, max_length=200)
    kind: OutletKind
    country: CountryCode | None = None
    affiliations: list[Label] = Field(default_factory=list, max_length=50)
    owner: str | None = Field(
        default=None,
        max_length=200,
        description="Owning group; outlets with one owner count once when reconciling.",
    )
    conflict_parties: list[ConflictName] = Field(
        default_factory=list,
        max_length=50,
        description="Conflicts this outlet is a party to (it has a stake in their events).",
    )
    on_the_ground: StrictFlag | None = Field(
        default=None, description="Has people where events happen."
    )
    transparency: Transparency = Field(default_factory=Transparency)
    notes: str | None = Field(default=None, max_length=5_000)
    url: WebAddress | None = None


class OutletCreate(OutletBase):
    slug: Slug


class OutletUpdate(StrictInput):
    """Fields to change; absent fields stay as they are. Needs If-Match with the current ETag."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: OutletKind | None = None
    country: CountryCode | None = None
    affiliations: list[Label] | None = Field(default=None, max_length=50)
    owner: str | None = Field(default=None, max_length=200)
    conflict_parties: list[ConflictName] | None = Field(default=None, max_length=50)
    on_the_ground: StrictFlag | None = None
    transparency: Transparency | None = None
    notes: str | None = Field(default=None, max_length=5_000)
    url: WebAddress | None = None

    @field_validator("name", "kind", "affiliations", "conflict_parties", "transparency")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class TransparencyRead(Schema):
    """Each practice: true, false, or null when unknown."""

    methodology: bool | None
    corrections_policy: bool | None
    ownership_disclosed: bool | None
    names_sources: bool | None

    @model_validator(mode="before")
    @classmethod
    def _unknown_when_absent(cls, value: object) -> object:
        # The column holds only the practices ever stated (a row made without any holds {}).
        if isinstance(value, dict):
            return {name: value.get(name) for name in TRANSPARENCY_PRACTICES}
        return value


class OutletRead(Schema):
    id: int
    slug: str
    name: str
    kind: OutletKind
    country: str | None
    affiliations: list[str]
    owner: str | None
    conflict_parties: list[str]
    on_the_ground: bool | None
    transparency: TransparencyRead
    notes: str | None
    url: str | None
    archived: bool
    archived_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class OutletPage(PageMeta):
    items: list[OutletRead]


class OutletRecordCreate(StrictInput):
    """Historical accuracy from outside the service (a fact-checker's rating, counted reports)."""

    source: str = Field(min_length=1, max_length=200, description="Who produced these figures.")
    as_of: AwareDatetime = Field(
        description="When these figures were known (they decay from here)."
    )
    external_rating: str | None = Field(
        default=None,
        description="Factual-reporting level: very-high, high, mostly-factual, mixed, low, "
        "very-low.",
    )
    verified: StrictCount = Field(default=0, ge=0, le=1_000_000)
    refuted: StrictCount = Field(default=0, ge=0, le=1_000_000)
    corrections: StrictCount = Field(default=0, ge=0, le=1_000_000)
    retractions: StrictCount = Field(default=0, ge=0, le=1_000_000)
    note: str | None = Field(default=None, max_length=5_000)

    @field_validator("external_rating")
    @classmethod
    def _known_rating(cls, value: str | None) -> str | None:
        if value is None:
            return None
        key = value.strip().lower().replace(" ", "-").replace("_", "-")
        if key not in EXTERNAL_RATING_MEAN:
            raise ValueError(f"must be one of {', '.join(EXTERNAL_RATING_MEAN)}")
        return key


class ExternalRating(StrEnum):
    """Factual-reporting levels (scoring.reliability.EXTERNAL_RATING_MEAN)."""

    VERY_HIGH = "very-high"
    HIGH = "high"
    MOSTLY_FACTUAL = "mostly-factual"
    MIXED = "mixed"
    LOW = "low"
    VERY_LOW = "very-low"


class OutletRecordRead(Schema):
    id: int
    outlet_id: int
    source: str
    as_of: datetime
    external_rating: ExternalRating | None
    verified: int
    refuted: int
    corrections: int
    retractions: int
    note: str | None
    created_at: datetime
    created_by: str | None


class OutletRecordPage(PageMeta):
    items: list[OutletRecordRead]


class OutletDependencyRead(Schema):
    """A likely copy partner of the outlet, learned from the figures both reported."""

    outlet_id: int = Field(description="The partner outlet.")
    outlet_slug: str
    outlet_name: str
    probability: float = Field(
        description="Posterior probability that the two are dependent (one copies the other, "
        "or both copy a common source): they keep giving the same figures, above all the same "
        "wrong or rare ones, more often than independent outlets would."
    )
    direction: Literal["copies", "copied_by"] | None = Field(
        description="'copies': this outlet most likely copies the partner; 'copied_by': the "
        "partner most likely copies this outlet; null when the data does not tell."
    )
    direction_probability: float = Field(
        description="Given that they are dependent, the probability that this outlet is the "
        "copier (0.5: the data does not tell)."
    )
    common_events: int = Field(description="Events both reported a figure on, in that fit.")
    updated_at: datetime = Field(description="When a consensus recomputation last measured it.")


class OutletDependencyPage(PageMeta):
    items: list[OutletDependencyRead]
