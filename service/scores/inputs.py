"""What a claim is scored on, gathered from the database in bulk: outlet, event, consensus."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.features import ClaimContext
from scoring.reliability import Reliability
from service.claims.models import ClaimFields
from service.events.models import Event, EventConsensus
from service.outlets.directory import OutletLike

# Figures within this relative distance of each other corroborate each other.
CORROBORATION_TOLERANCE = 0.10


@dataclass(frozen=True)
class ScoringInput:
    claim: ClaimFields
    outlet: OutletLike
    event: Event | None
    consensus: EventConsensus | None


async def scoring_inputs(
    session: AsyncSession, claims: Sequence[ClaimFields], outlets: Mapping[int, OutletLike]
) -> list[ScoringInput]:
    """Inputs for many claims with two queries: their events and each event's newest consensus."""
    event_ids = {claim.event_id for claim in claims if claim.event_id is not None}
    events: dict[int, Event] = {}
    consensus: dict[int, EventConsensus] = {}
    if event_ids:
        event_rows = await session.execute(select(Event).where(Event.id.in_(event_ids)))
        events = {event.id: event for event in event_rows.scalars()}
        newest = (
            select(func.max(EventConsensus.id))
            .where(EventConsensus.event_id.in_(event_ids))
            .group_by(EventConsensus.event_id)
        )
        consensus_rows = await session.execute(
            select(EventConsensus).where(EventConsensus.id.in_(newest))
        )
        consensus = {row.event_id: row for row in consensus_rows.scalars()}
    return [
        ScoringInput(
            claim=claim,
            outlet=outlets[claim.outlet_id],
            event=events.get(claim.event_id) if claim.event_id is not None else None,
            consensus=consensus.get(claim.event_id) if claim.event_id is not None else None,
        )
        for claim in claims
    ]


def _point(claim: ClaimFields) -> float | None:
    if claim.figure_value is not None:
        return claim.figure_value
    if claim.figure_low is not None and claim.figure_high is not None:
        return (claim.figure_low + claim.figure_high) / 2.0
    return None


def consensus_distance(claim: ClaimFields, consensus: EventConsensus | None) -> float | None:
    """|figure - estimate| / |estimate| (0 when a range contains it); None without both."""
    if consensus is None or consensus.estimate is None or _point(claim) is None:
        return None
    estimate = consensus.estimate
    if claim.figure_low is not None and claim.figure_high is not None:
        if claim.figure_low <= estimate <= claim.figure_high:
            return 0.0
        gap = min(abs(claim.figure_low - estimate), abs(claim.figure_high - estimate))
    else:
        point = _point(claim)
        assert point is not None
        gap = abs(point - estimate)
    return gap / max(abs(estimate), 1.0)


def corroborations(
    claim: ClaimFields, outlet: OutletLike, consensus: EventConsensus | None
) -> int | None:
    """Independent reports of the event whose figure lies within 10% of this claim's.

    Reports count once per copy group: syndicated copies and outlets of one owner are not
    independent of each other, nor of this claim when they share its group.
    """
    from service.events.consensus import copy_group

    point = _point(claim)
    if consensus is None or point is None:
        return None
    own = copy_group(claim, outlet)
    groups = set()
    for other in consensus.claims:
        group = other.get("copy_group") or f"outlet:{other['outlet_id']}"
        if other["claim_id"] == claim.id or other["outlet_id"] == claim.outlet_id or group == own:
            continue
        value = other["value"]
        if value is None and other["low"] is not None and other["high"] is not None:
            value = (other["low"] + other["high"]) / 2.0
        if value is not None and abs(value - point) <= CORROBORATION_TOLERANCE * max(
            abs(point), 1.0
        ):
            groups.add(group)
    return len(groups)


def claim_context(
    item: ScoringInput, outlet_record: Reliability, topic_records: dict[str, Reliability]
) -> ClaimContext:
    outlet, claim, event = item.outlet, item.claim, item.event
    party = None
    if event is not None and event.conflict:
        party = event.conflict in outlet.conflict_parties
    return ClaimContext(
        text=claim.text,
        outlet=outlet.slug,
        outlet_kind=outlet.kind,
        topics=(claim.topic,) if claim.topic else (),
        published_at=claim.published_at,
        party_to_conflict=party,
        transparency={
            key: value for key, value in outlet.transparency.items() if value is not None
        },
        on_the_ground=outlet.on_the_ground,
        outlet_record=outlet_record,
        topic_records=topic_records,
        independent_corroborations=corroborations(claim, outlet, item.consensus),
        consensus_distance=consensus_distance(claim, item.consensus),
        metadata={"country": outlet.country} if outlet.country else {},
    )
