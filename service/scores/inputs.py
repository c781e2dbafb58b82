"""What a claim is scored on, gathered from the database in bulk: outlet, event, consensus.

What the event's newest consensus says of the claim's figure is worked out once per claim
(``Standing``): its distance from the estimate (``Figure.distance_to``), its independent
corroboration (``scoring.corroboration``: the claim's own outlet, its report group and outlets
the consensus found dependent on one another do not count) and its place in the leading cluster.
The model's features and the Admiralty code both read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.admiralty import AdmiraltyCode, admiralty_code
from scoring.closeness import DEFAULT_TOLERANCE
from scoring.corroboration import Corroboration, Report, corroboration
from scoring.features import ClaimContext
from scoring.figures import Figure
from scoring.reliability import Reliability
from service.claims.models import ClaimFields, claim_figure
from service.events.models import Event, EventConsensus
from service.outlets.directory import OutletLike


@dataclass(frozen=True)
class Standing:
    """A claim's figure against its event's newest consensus."""

    corroboration: Corroboration
    status: str
    in_leading_cluster: bool | None
    distance: float | None
    # Probability that the claim's outlet copies (or is copied by) another outlet that gave the
    # same figure here, as the consensus learned it.
    dependence: float


@dataclass(frozen=True)
class ScoringInput:
    claim: ClaimFields
    outlet: OutletLike
    event: Event | None
    consensus: EventConsensus | None
    standing: Standing | None


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
    inputs = []
    for claim in claims:
        outlet = outlets[claim.outlet_id]
        row = consensus.get(claim.event_id) if claim.event_id is not None else None
        inputs.append(
            ScoringInput(
                claim=claim,
                outlet=outlet,
                event=events.get(claim.event_id) if claim.event_id is not None else None,
                consensus=row,
                standing=standing(claim, outlet, row),
            )
        )
    return inputs


def consensus_distance(claim: ClaimFields, consensus: EventConsensus | None) -> float | None:
    """Relative gap from the estimate to the claim's figure (``Figure.distance_to``); None
    without a figure or without an estimate (no consensus yet, or a contested one)."""
    figure = claim_figure(claim)
    if consensus is None or consensus.estimate is None or figure is None:
        return None
    return figure.distance_to(consensus.estimate)


def _report(row: Mapping[str, Any]) -> Report:
    figure = Figure.from_fields(row["value"], row["low"], row["high"])
    assert figure is not None  # consensus rows are claims with a figure
    slug = str(row["outlet_slug"])
    return Report(figure, slug, row.get("copy_group") or f"source:{slug}")


def _own_group(
    claim: ClaimFields, outlet: OutletLike, rows: Mapping[int | None, Mapping[str, Any]]
) -> str:
    """The claim's report group, as the consensus grouped it (``report_groups``' labels)."""
    if claim.id in rows:
        return _report(rows[claim.id]).group
    if claim.copy_of_claim_id in rows:
        return _report(rows[claim.copy_of_claim_id]).group
    if outlet.owner:
        return f"owner:{outlet.owner}"
    return f"source:{outlet.slug}"


def _dependence(consensus: EventConsensus) -> Callable[[str, str], float]:
    """Learned dependence between two outlets, from the groups this consensus discounted."""
    pairs: dict[frozenset[str], float] = {}
    for group in consensus.dependent_groups or []:
        slugs = list(group["outlet_slugs"])
        for position, first in enumerate(slugs):
            for second in slugs[position + 1 :]:
                key = frozenset((first, second))
                pairs[key] = max(pairs.get(key, 0.0), float(group["probability"]))
    return lambda first, second: pairs.get(frozenset((first, second)), 0.0)


def standing(
    claim: ClaimFields, outlet: OutletLike, consensus: EventConsensus | None
) -> Standing | None:
    """The claim's figure against the consensus; None without a figure or a consensus."""
    figure = claim_figure(claim)
    if consensus is None or figure is None:
        return None
    rows = {row["claim_id"]: row for row in consensus.claims}
    own = Report(figure, outlet.slug, _own_group(claim, outlet, rows))
    others = [
        _report(row)
        for row in consensus.claims
        if row["claim_id"] != claim.id and not row.get("superseded", False)
    ]
    tolerance = consensus.tolerance if consensus.tolerance is not None else DEFAULT_TOLERANCE
    mine = rows.get(claim.id)
    in_lead: bool | None
    if mine is not None and "in_leading_cluster" in mine:
        in_lead = bool(mine["in_leading_cluster"])
    elif consensus.estimate is None or consensus.low is None or consensus.high is None:
        in_lead = None
    else:
        in_lead = figure.matches(Figure(low=consensus.low, high=consensus.high), tolerance)
    learned = _dependence(consensus)
    if mine is not None and mine.get("dependence") is not None:
        depends = float(mine["dependence"])
    else:
        depends = max(
            (
                learned(outlet.slug, other.source)
                for other in others
                if other.source != outlet.slug and other.figure.matches(figure, 0.0)
            ),
            default=0.0,
        )
    return Standing(
        corroboration=corroboration(own, others, tolerance, learned),
        status=consensus.status,
        in_leading_cluster=in_lead,
        distance=consensus_distance(claim, consensus),
        dependence=depends,
    )


def admiralty(item: ScoringInput, record: Reliability) -> AdmiraltyCode:
    """The claim's Admiralty code: its outlet's record, its figure's independent corroboration."""
    found = item.standing
    return admiralty_code(
        record.mean,
        record.rated,
        found.corroboration if found is not None else None,
        found.status if found is not None else None,
        found.in_leading_cluster if found is not None else None,
    )


def claim_context(
    item: ScoringInput, outlet_record: Reliability, topic_records: dict[str, Reliability]
) -> ClaimContext:
    outlet, claim, event = item.outlet, item.claim, item.event
    party = None
    if event is not None and event.conflict:
        party = event.conflict in outlet.conflict_parties
    found = item.standing
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
        independent_corroborations=None if found is None else found.corroboration.confirmations,
        consensus_distance=None if found is None else found.distance,
        source_dependence=None if found is None else found.dependence,
        metadata={"country": outlet.country} if outlet.country else {},
    )
