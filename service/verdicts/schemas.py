from __future__ import annotations

from datetime import datetime

from pydantic import Field

from scoring.reliability import Rating
from service.schemas import AwareDatetime, PageMeta, Schema, StrictInput
from service.scores.schemas import ScoreRead


class VerdictCreate(StrictInput):
    rating: Rating = Field(
        description="true, mostly-true, mixed, mostly-false, false, or unverifiable."
    )
    source: str = Field(
        min_length=1, max_length=200, description="Who decided, e.g. a fact-checking desk."
    )
    decided_at: AwareDatetime | None = Field(
        default=None,
        description="When the verdict was reached (after the claim was published, not in the "
        "future); left out, the time the service received it.",
    )
    note: str | None = Field(default=None, max_length=5_000)


class VerdictRead(Schema):
    id: int
    claim_id: int
    rating: Rating
    source: str
    decided_at: datetime
    note: str | None
    created_at: datetime
    created_by: str | None


class VerdictRecorded(VerdictRead):
    outlet_reliability: ScoreRead = Field(
        description="The outlet's track record with this verdict counted (also in its history)."
    )


class VerdictPage(PageMeta):
    items: list[VerdictRead]
