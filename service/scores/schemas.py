from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from service.schemas import PageMeta, Schema


class Reason(Schema):
    """One additive part of the score, in words a desk editor can read."""

    feature: str
    effect: float = Field(description="Change in probability this part accounts for.")
    text: str


class Interval(Schema):
    low: float
    high: float
    level: float = Field(description="Credible level, e.g. 0.9 for a 90% interval.")


class ScoreRead(Schema):
    id: int | None = Field(description="Null for previews, which are not stored.")
    subject: Literal["claim", "outlet"]
    probability: float = Field(ge=0, le=1, description="P(the claim holds up) / reliability.")
    interval: Interval
    grade: str = Field(description="A (likely to hold up) .. E (unlikely), or 'unrated'.")
    grade_meaning: str
    rated: bool = Field(description="False when the outlet has no track record to speak of.")
    method: str
    model_version: str
    as_of: datetime = Field(description="Only evidence known by this moment counted.")
    computed_at: datetime
    trigger: str = Field(description="What caused this score: claim.created, verdict.recorded...")
    reasons: list[Reason]


class ScorePage(PageMeta):
    items: list[ScoreRead]


class ReliabilityRead(Schema):
    outlet_id: int
    outlet_slug: str
    kind: str
    probability: float = Field(
        ge=0,
        le=1,
        description="The outlet's reliability: P(one of its claims holds up), the mean of its "
        "track record's posterior. Named as in ScoreRead (reliability history, verdicts).",
    )
    interval: Interval
    grade: str
    grade_meaning: str
    rated: bool
    evidence: float = Field(description="Decayed number of verdicts and record items behind it.")
    prior_mean: float = Field(description="Mean of other outlets of this kind (shrunk to all).")
    half_life_days: float
    as_of: datetime
    reasons: list[Reason]
