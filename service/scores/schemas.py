from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from scoring.reliability import Grade
from service.outlets.models import OutletKind
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


class AdmiraltyRead(Schema):
    """NATO's two-axis grading of a report (AJP-2.1), as desks use it: e.g. "B2"."""

    code: str = Field(description="Reliability letter then credibility digit, e.g. 'B2'.")
    reliability: Literal["A", "B", "C", "D", "E", "F"] = Field(
        description="Source reliability from the outlet's track record: A completely reliable "
        "(record mean >= 0.80), B usually (>= 0.65), C fairly (>= 0.50), D not usually "
        "(>= 0.35), E unreliable, F cannot be judged (unrated outlet)."
    )
    credibility: int = Field(
        ge=1,
        le=6,
        description="Information credibility from independent corroboration within the event: "
        "1 confirmed by another independent source, 2 probably true (in the leading cluster of "
        "a consensus or uncertain event), 3 possibly true (contested event), 4 doubtful "
        "(outside the leading cluster of an uncertain event), 5 improbable (contradicted by a "
        "consensus), 6 cannot be judged (no figure, no event, or no other independent source). "
        "Copies, same-owner outlets and outlets learned to depend on each other do not count.",
    )
    meaning: str = Field(description="Both axes in words.")


class ReliabilityCause(StrEnum):
    """What changed an outlet's reliability, as its history entry says."""

    VERDICT = "verdict"
    KIND_PRIOR = "kind_prior"
    RECORD = "record"
    TIME_DECAY = "time_decay"


CAUSE_DESCRIPTION = (
    "Outlet scores only (null for claims): what changed the reliability. verdict: a verdict "
    "on one of this outlet's claims; kind_prior: verdicts or records of other outlets moved "
    "the prior it is shrunk towards (the mean of its kind, itself shrunk towards all outlets': "
    "its own kind's move it most); record: its track record was edited (an item "
    "added or deleted); time_decay: only time passed, and old evidence weighs less."
)


class ScoreRead(Schema):
    id: int | None = Field(description="Null for previews, which are not stored.")
    subject: Literal["claim", "outlet"]
    probability: float = Field(ge=0, le=1, description="P(the claim holds up) / reliability.")
    interval: Interval
    grade: Grade = Field(description="A (likely to hold up) .. E (unlikely), or 'unrated'.")
    grade_meaning: str
    rated: bool = Field(description="False when the outlet has no track record to speak of.")
    method: str
    model_version: str
    as_of: datetime = Field(description="Only evidence known by this moment counted.")
    computed_at: datetime
    trigger: str = Field(description="What caused this score: claim.created, verdict.recorded...")
    reasons: list[Reason]
    admiralty: AdmiraltyRead | None = Field(
        default=None,
        description="The claim's Admiralty code (null for outlet scores and for claim scores "
        "stored before it was introduced).",
    )
    cause: ReliabilityCause | None = Field(default=None, description=CAUSE_DESCRIPTION)
    evidence_at: datetime | None = Field(
        default=None,
        description="Outlet scores only: the date of the evidence that caused the change (the "
        "verdict's decided_at, the record's as_of; for kind_prior the newest evidence of the "
        "other outlets that moved the prior; for time_decay the moment it was computed). Plot "
        "history against this, not computed_at: a record of 2015-17 imported today belongs in "
        "2015-17.",
    )


class ScorePage(PageMeta):
    items: list[ScoreRead]


class ReliabilityRead(Schema):
    outlet_id: int
    outlet_slug: str
    kind: OutletKind
    probability: float = Field(
        ge=0,
        le=1,
        description="The outlet's reliability: P(one of its claims holds up), the mean of its "
        "track record's posterior. Named as in ScoreRead (reliability history, verdicts).",
    )
    interval: Interval
    grade: Grade
    grade_meaning: str
    rated: bool
    evidence: float = Field(description="Decayed number of verdicts and record items behind it.")
    prior_mean: float = Field(description="Mean of other outlets of this kind (shrunk to all).")
    half_life_days: float
    as_of: datetime
    reasons: list[Reason]
