"""What a claim is scored on, gathered from the database in bulk: outlet, event, consensus.

What the event's newest consensus says of the claim's figure is worked out once per claim by
``scoring.standing`` (``Standing``); the model's features and the Admiralty code both read it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from scoring import standing as standing_of
from scoring.admiralty import AdmiraltyCode, admiralty_code
from scoring.features import ClaimContext
from scoring.reliability import Reliability
from scoring.standing import ConsensusStandings, Standing
from service.claims.models import ClaimFields, claim_figure
from service.events.models import Event, EventConsensus
from service.events.repository import EventRepository
from service.outlets.directory import OutletLike


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
    event_ids = [claim.event_id for claim in claims if claim.event_id is not None]
    events: dict[int, Event] = {}
    consensus: dict[int, EventConsensus] = {}
    if event_ids:
        repository = EventRepository(session)
        events = await repository.by_ids(event_ids)
        consensus = await repository.latest_consensus_of(set(event_ids))
    prepared = {event_id: ConsensusStandings(row) for event_id, row in consensus.items()}
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
                standing=None if row is None else _standing(claim, outlet, prepared[row.event_id]),
            )
        )
    return inputs


def consensus_distance(claim: ClaimFields, consensus: EventConsensus | None) -> float | None:
    """``scoring.standing.consensus_distance`` of the claim's figure."""
    return standing_of.consensus_distance(claim_figure(claim), consensus)


def standing(
    claim: ClaimFields, outlet: OutletLike, consensus: EventConsensus | None
) -> Standing | None:
    """The claim's figure against the consensus (``scoring.standing``); None without a figure or
    a consensus."""
    if consensus is None:
        return None
    return _standing(claim, outlet, ConsensusStandings(consensus))


def _standing(
    claim: ClaimFields, outlet: OutletLike, consensus: ConsensusStandings
) -> Standing | None:
    return consensus.standing(
        claim_figure(claim),
        claim_id=claim.id,
        copy_of_claim_id=claim.copy_of_claim_id,
        outlet_slug=outlet.slug,
        outlet_owner=outlet.owner,
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
