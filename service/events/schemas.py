from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from scoring.reconcile import CONSENSUS_CONFIDENCE, CONSENSUS_MIN_REPORTS
from service.claims.schemas import ClaimRead
from service.schemas import AwareDatetime, PageMeta, Schema, StrictInput, Topic
from service.scores.schemas import AdmiraltyRead

ConflictName = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


class EventCreate(StrictInput):
    title: str = Field(
        min_length=1, max_length=300, examples=["Civilians killed, al-Sakhani strikes"]
    )
    description: str | None = Field(default=None, max_length=5_000)
    quantity_kind: str | None = Field(
        default=None, max_length=80, examples=["civilian_deaths"], description="What is counted."
    )
    unit: str | None = Field(default=None, max_length=40, examples=["people"])
    place: str | None = Field(default=None, max_length=200, examples=["Raqqa, Syria"])
    window_start: AwareDatetime | None = None
    window_end: AwareDatetime | None = None
    topic: Topic | None = None
    conflict: ConflictName | None = Field(
        default=None, description="Conflict the event belongs to; its parties have a stake."
    )

    @model_validator(mode="after")
    def _window_ordered(self) -> EventCreate:
        if self.window_start and self.window_end and self.window_end < self.window_start:
            raise ValueError("window_end must not be before window_start")
        return self


class ConsensusStatus(StrEnum):
    """scoring.reconcile.Status, and pending: queued for the event's first computation."""

    CONSENSUS = "consensus"
    CONTESTED = "contested"
    UNCERTAIN = "uncertain"
    INSUFFICIENT = "insufficient"
    NO_REPORTS = "no_reports"
    PENDING = "pending"


class EventRead(Schema):
    id: int
    title: str
    description: str | None
    quantity_kind: str | None
    unit: str | None
    place: str | None
    window_start: datetime | None
    window_end: datetime | None
    topic: str | None
    conflict: str | None
    consensus_status: ConsensusStatus | None = Field(
        description="Status of the newest consensus: consensus, contested, uncertain, "
        "insufficient or no_reports (see GET /v1/events/{id}/consensus)."
    )
    consensus_stale: bool = Field(description="True while a recomputation is queued.")
    created_at: datetime
    updated_at: datetime


class EventPage(PageMeta):
    items: list[EventRead]


class EventDetail(EventRead):
    claims: list[ClaimRead] = Field(description="The event's claims (first 500), oldest first.")
    claims_truncated: bool = Field(description="True when there are more; page /v1/claims.")


class CorroborationRead(Schema):
    confirmations: int = Field(
        description="Other independent sources giving the same figure (within the tolerance)."
    )
    copies_ignored: int = Field(
        description="Reports with the same figure left out as copies: the same report group "
        "(a declared copy, an outlet of the same owner) or an outlet learned to depend on it."
    )
    independent_others: int = Field(
        description="Other independent sources that reported a figure at all."
    )


class ConsensusClaim(Schema):
    claim_id: int
    outlet_id: int
    outlet_slug: str
    value: float | None
    low: float | None
    high: float | None
    agreement: float = Field(description="0..1: how far the claim agrees with the consensus.")
    relative_distance: float = Field(description="Distance from the estimate, relative to it.")
    weight: float = Field(description="The vote this claim cast (0 when superseded).")
    party: bool = Field(description="The outlet is a party to the event's conflict.")
    copy_of_claim_id: int | None = Field(
        default=None, description="The claim it declares itself a copy of."
    )
    copy_group: str | None = Field(
        default=None,
        description="Its report group: 'copy:<claim id>' for a declared copy chain (named by "
        "its original), 'owner:<owner>' for outlets of one owner; its claims count as one "
        "report. Null: independent, the outlet alone is its report.",
    )
    superseded: bool = Field(
        default=False,
        description="A later figure of the same outlet on this event replaced it: only an "
        "outlet's latest figure (by published_at, then id) counts.",
    )
    own_share: float = Field(
        default=1.0,
        description="Share of its vote that was its own after learned source dependence "
        "(1: independent).",
    )
    depends_on: str | None = Field(
        default=None,
        description="Slug of the more accurate outlet with the same figure it most likely "
        "copies (learned), if the probability exceeds one half.",
    )
    dependence: float = Field(default=0.0, description="Probability of that dependence (0..1).")
    in_leading_cluster: bool | None = Field(
        default=None, description="The figure agrees with the leading cluster of figures."
    )
    corroboration: CorroborationRead | None = Field(
        default=None, description="Independent corroboration of this figure within the event."
    )
    admiralty: AdmiraltyRead | None = Field(
        default=None,
        description="Admiralty code: reliability letter from the outlet's track record, "
        "credibility digit from this assessment.",
    )
    discounts: list[str] = Field(
        default_factory=list,
        description="Why its vote counted less than a full independent one, in words.",
    )


class ConsensusSource(Schema):
    outlet_id: int
    outlet_slug: str
    outlet_name: str
    weight: float = Field(description="How much the outlet's word counted here.")
    party: bool


class CompetingFigureRead(Schema):
    estimate: float = Field(description="The best-supported figure of this cluster.")
    low: float | None
    high: float | None
    support: float = Field(description="Posterior probability that the truth lies here.")
    outlet_slugs: list[str] = Field(description="The outlets whose current figure is here.")


class DependentGroupRead(Schema):
    outlet_slugs: list[str] = Field(description="Outlets judged to copy one another here.")
    probability: float = Field(description="Posterior probability of the weakest link.")
    copier: str | None = Field(
        description="The outlet that most likely copies, where the data tells the direction."
    )


class DiscountedSource(Schema):
    outlet_slug: str
    reasons: list[str] = Field(
        description="Party to the conflict, a declared copy, likely copying another source, a "
        "weak record, earlier figures superseded."
    )


class ConsensusExplanation(Schema):
    summary: str = Field(description="The consensus in a sentence or two a desk can read.")
    discounted: list[DiscountedSource] = Field(
        description="Outlets whose word counted less than a full independent vote, and why."
    )


class ConsensusInterval(Schema):
    low: float
    high: float


class ConsensusRead(Schema):
    id: int | None = Field(description="Null before anything was computed.")
    event_id: int
    status: ConsensusStatus = Field(
        description=f"consensus: at least {CONSENSUS_MIN_REPORTS} independent sources support "
        f"one figure with confidence of at least {CONSENSUS_CONFIDENCE:.0%}; contested: "
        "far-apart figures have comparable "
        "support (estimate is null, see competing_figures); uncertain: the rest; insufficient: "
        "one independent source; no_reports: no figure reported; pending: queued for its "
        "first computation."
    )
    status_meaning: str
    estimate: float | None = Field(
        description="The best-supported figure; null when contested, without figures, or "
        "before the first computation."
    )
    interval: ConsensusInterval | None = Field(
        description="{low, high} of the credible reports (around every competing figure when "
        "contested)."
    )
    confidence: float = Field(
        description="Posterior probability that the truth lies in the leading cluster, among "
        "the claimed figures and 'none of them' (never 1 for a single source)."
    )
    independent_reports: int = Field(
        description="Independent sources with a current figure: an outlet's repeated or revised "
        "figures count once, declared copies and one owner's outlets count once together."
    )
    stale: bool = Field(description="True while a recomputation is queued.")
    method_version: str | None
    computed_at: datetime | None
    trigger: str | None
    tolerance: float | None = Field(
        description="Relative gap under which figures count as the same, learned per kind of "
        "quantity (the event's quantity_kind, else its unit) from the claims' spread."
    )
    supporting_outlets: list[str] = Field(
        description="Independent outlets whose current figure lies in the leading cluster."
    )
    competing_figures: list[CompetingFigureRead] = Field(
        description="When contested: the leading cluster and its rivals, most supported first."
    )
    dependent_groups: list[DependentGroupRead] = Field(
        description="Outlets learned to copy one another, whose shared votes were discounted."
    )
    explanation: ConsensusExplanation | None = Field(
        description="Which independent sources support the estimate; which were discounted and "
        "why (null before the first computation)."
    )
    claims: list[ConsensusClaim]
    sources: list[ConsensusSource]


class ConsensusPage(PageMeta):
    items: list[ConsensusRead]
