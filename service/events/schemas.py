from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, model_validator

from service.claims.schemas import ClaimRead
from service.schemas import AwareDatetime, PageMeta, Schema, StrictInput, Topic

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
    consensus_status: str | None = Field(
        description="consensus, contested or insufficient (null until first computed)."
    )
    consensus_stale: bool = Field(description="True while a recomputation is queued.")
    created_at: datetime
    updated_at: datetime


class EventPage(PageMeta):
    items: list[EventRead]


class EventDetail(EventRead):
    claims: list[ClaimRead] = Field(description="The event's claims (first 500), oldest first.")
    claims_truncated: bool = Field(description="True when there are more; page /v1/claims.")


class ConsensusClaim(Schema):
    claim_id: int
    outlet_id: int
    outlet_slug: str
    value: float | None
    low: float | None
    high: float | None
    agreement: float = Field(description="0..1: how far the claim agrees with the consensus.")
    relative_distance: float = Field(description="Distance from the estimate, relative to it.")
    weight: float = Field(description="The vote this claim cast.")
    party: bool = Field(description="The outlet is a party to the event's conflict.")


class ConsensusSource(Schema):
    outlet_id: int
    outlet_slug: str
    outlet_name: str
    weight: float = Field(description="How much the outlet's word counted here.")
    party: bool


class ConsensusRead(Schema):
    id: int | None = Field(description="Null before anything was computed.")
    event_id: int
    status: str = Field(description="consensus, contested, insufficient, or pending.")
    status_meaning: str
    estimate: float | None
    interval: dict[str, float] | None = Field(description="{low, high} of the credible reports.")
    confidence: float = Field(description="Posterior weight of the estimate among the figures.")
    independent_reports: int
    stale: bool = Field(description="True while a recomputation is queued.")
    method_version: str | None
    computed_at: datetime | None
    trigger: str | None
    claims: list[ConsensusClaim]
    sources: list[ConsensusSource]


class ConsensusPage(PageMeta):
    items: list[ConsensusRead]
