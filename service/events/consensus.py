"""An event's consensus: its claims' figures reconciled, stored with history.

Each outlet enters with its track record as the prior of its accuracy; the estimator also sees
the same outlets' figures on their other recent events, so source weights are learned across
events (bounded, so the cost of one recomputation stays flat as the registry grows).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.reconcile import NumericClaim, Reconciliation, SourcePrior, Status, TruthDiscovery
from service.claims.models import Claim, ClaimFields
from service.claims.repository import ClaimRepository
from service.db import utcnow
from service.errors import NotFound
from service.events.models import Event, EventConsensus
from service.events.repository import EventRepository
from service.outlets.directory import OutletLike
from service.outlets.models import Outlet
from service.outlets.repository import OutletRepository
from service.scores.service import ScoringService

CONSENSUS_METHOD_VERSION = "truth-discovery/1"
# How many recent figures of the event's outlets (on any event) inform their learned accuracy.
NEIGHBOURHOOD_CLAIMS = 5_000


def has_figure(claim: Claim) -> bool:
    return claim.figure_value is not None or claim.figure_low is not None


def copy_group(claim: ClaimFields, outlet: OutletLike) -> str:
    """Reports that are not independent share a group: syndicated copies, one owner's outlets."""
    if claim.copy_of_claim_id is not None:
        return f"copy:{claim.copy_of_claim_id}"
    if outlet.owner:
        return f"owner:{outlet.owner}"
    return f"copy:{claim.id}"


def numeric_claim(claim: Claim, outlet: Outlet, event: Event | None) -> NumericClaim:
    group = copy_group(claim, outlet)
    party = bool(event and event.conflict and event.conflict in outlet.conflict_parties)
    if claim.figure_low is not None and claim.figure_high is not None:
        if claim.figure_low == claim.figure_high:
            return NumericClaim(
                str(outlet.id), value=claim.figure_low, copy_group=group, party=party
            )
        return NumericClaim(
            str(outlet.id),
            low=claim.figure_low,
            high=claim.figure_high,
            copy_group=group,
            party=party,
        )
    return NumericClaim(str(outlet.id), value=claim.figure_value, copy_group=group, party=party)


class ConsensusService:
    def __init__(self, session: AsyncSession, scoring: ScoringService) -> None:
        self.session = session
        self.scoring = scoring
        self.claims = ClaimRepository(session)
        self.events = EventRepository(session)

    async def recompute(
        self, event_id: int, *, trigger: str, queued_before: datetime | None = None
    ) -> EventConsensus:
        event = await self.events.by_id(event_id)
        if event is None:
            raise NotFound(f"No event with id {event_id}.")
        claims = [claim for claim in await self.claims.of_event(event_id) if has_figure(claim)]
        outlets = await OutletRepository(self.session).by_ids([claim.outlet_id for claim in claims])
        if claims:
            result = await self._reconcile(event, claims, outlets)
            row = self._row(event, claims, outlets, result, trigger)
        else:
            row = EventConsensus(
                event_id=event.id,
                trigger=trigger,
                method_version=CONSENSUS_METHOD_VERSION,
                kind="numeric",
                status=Status.INSUFFICIENT.value,
                confidence=0.0,
                independent_reports=0,
                claims=[],
                sources=[],
            )
        self.session.add(row)
        event.consensus_status = row.status
        await self.session.flush()
        await self.session.execute(
            update(Event)
            .where(Event.id == event.id, Event.consensus_stale_since <= (queued_before or utcnow()))
            .values(consensus_stale_since=None)
        )
        return row

    async def _reconcile(
        self, event: Event, claims: Sequence[Claim], outlets: dict[int, Outlet]
    ) -> Reconciliation:
        neighbourhood = [
            claim
            for claim in await self.claims.figures_of_outlets(
                list(outlets), limit=NEIGHBOURHOOD_CLAIMS
            )
            if claim.event_id != event.id
        ]
        other_events = await self.events.by_ids(
            [claim.event_id for claim in neighbourhood if claim.event_id is not None]
        )
        grouped: dict[int, list[NumericClaim]] = {
            event.id: [numeric_claim(claim, outlets[claim.outlet_id], event) for claim in claims]
        }
        for claim in neighbourhood:
            assert claim.event_id is not None
            grouped.setdefault(claim.event_id, []).append(
                numeric_claim(claim, outlets[claim.outlet_id], other_events.get(claim.event_id))
            )
        now = utcnow()
        priors = {}
        for outlet in outlets.values():
            record = await self.scoring.track_record(self.session, outlet, now)
            reliability = record.reliability
            priors[str(outlet.id)] = SourcePrior(
                reliability=min(max(reliability.mean, 1e-3), 1 - 1e-3),
                evidence=reliability.alpha + reliability.beta,
            )
        # Fitting is CPU work: keep it off the event loop.
        estimator = await asyncio.to_thread(TruthDiscovery().fit, grouped, priors)
        return estimator.result(event.id)

    def _row(
        self,
        event: Event,
        claims: Sequence[Claim],
        outlets: dict[int, Outlet],
        result: Reconciliation,
        trigger: str,
    ) -> EventConsensus:
        claim_rows: list[dict[str, Any]] = []
        for claim, assessment in zip(claims, result.claims, strict=True):
            outlet = outlets[claim.outlet_id]
            claim_rows.append(
                {
                    "claim_id": claim.id,
                    "outlet_id": outlet.id,
                    "outlet_slug": outlet.slug,
                    "value": claim.figure_value,
                    "low": claim.figure_low,
                    "high": claim.figure_high,
                    "agreement": round(assessment.agreement, 6),
                    "relative_distance": round(assessment.relative_distance, 6),
                    "weight": round(assessment.weight, 6),
                    "party": assessment.party,
                    "copy_group": copy_group(claim, outlet),
                }
            )
        source_rows = [
            {
                "outlet_id": outlet.id,
                "outlet_slug": outlet.slug,
                "outlet_name": outlet.name,
                "weight": round(float(result.source_weights.get(str(outlet.id), 0.0)), 6),
                "party": str(outlet.id) in result.parties,
            }
            for outlet in sorted(outlets.values(), key=lambda o: o.id)
        ]
        low, high = result.interval if result.interval is not None else (None, None)
        return EventConsensus(
            event_id=event.id,
            trigger=trigger,
            method_version=CONSENSUS_METHOD_VERSION,
            kind=result.kind,
            status=result.status.value,
            estimate=result.estimate if isinstance(result.estimate, float | int) else None,
            estimate_label=result.estimate if isinstance(result.estimate, str) else None,
            low=low,
            high=high,
            confidence=float(result.confidence),
            independent_reports=int(result.independent_reports),
            claims=claim_rows,
            sources=source_rows,
        )
