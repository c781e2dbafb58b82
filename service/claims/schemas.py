from __future__ import annotations

from datetime import datetime

from pydantic import Field, model_validator

from scoring import figures
from service.schemas import (
    AwareDatetime,
    DatabaseId,
    Figure,
    PageMeta,
    Schema,
    Slug,
    StrictInput,
    Topic,
)
from service.scores.schemas import ScoreRead


class FigureIn(StrictInput):
    """A structured figure: one value, or a range from low to high."""

    value: Figure | None = Field(default=None, examples=[37])
    low: Figure | None = None
    high: Figure | None = None
    unit: str | None = Field(default=None, max_length=40, examples=["people"])

    @model_validator(mode="after")
    def _value_or_range(self) -> FigureIn:
        # The one rule for what a figure is (scoring.figures): raises ValueError otherwise.
        figures.Figure(value=self.value, low=self.low, high=self.high, unit=self.unit)
        return self


class FigureRead(Schema):
    value: float | None
    low: float | None
    high: float | None
    unit: str | None


class ClaimCreate(StrictInput):
    """A claim to score and store. Name the outlet by outlet_id or outlet_slug (one of them)."""

    outlet_id: DatabaseId | None = None
    outlet_slug: Slug | None = None
    text: str = Field(min_length=1, max_length=10_000)
    published_at: AwareDatetime | None = Field(
        default=None,
        description="When the outlet made the claim (at most a few minutes ahead of the "
        "service's clock); left out, the time the service received it.",
    )
    event_id: DatabaseId | None = Field(default=None, description="The event the claim is about.")
    topic: Topic | None = None
    figure: FigureIn | None = None
    copy_of_claim_id: DatabaseId | None = Field(
        default=None,
        description="This claim repeats (syndicates) that claim: they count as one report.",
    )

    @model_validator(mode="after")
    def _one_outlet_reference(self) -> ClaimCreate:
        if (self.outlet_id is None) == (self.outlet_slug is None):
            raise ValueError("give exactly one of outlet_id and outlet_slug")
        return self


class ClaimBatchCreate(StrictInput):
    claims: list[ClaimCreate] = Field(
        min_length=1, description="Up to 1,000 claims; all are stored or none."
    )


class ClaimRead(Schema):
    id: int
    outlet_id: int
    outlet_slug: str
    event_id: int | None
    text: str
    published_at: datetime
    topic: str | None
    figure: FigureRead | None
    copy_of_claim_id: int | None
    created_at: datetime
    score: ScoreRead | None = Field(description="The current score; history under /scores.")
    score_stale: bool = Field(
        description="True while a re-score is queued because evidence behind the score changed."
    )


class ClaimBatchRead(Schema):
    items: list[ClaimRead]


class ClaimPage(PageMeta):
    items: list[ClaimRead]
