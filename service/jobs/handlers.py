"""What each kind of background job does: the verdict feedback loop."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service.claims.repository import ClaimRepository
from service.events.consensus import ConsensusService
from service.jobs.models import Job
from service.jobs.runner import Handler
from service.jobs.service import RECONCILE_EVENT, RESCORE_OUTLET, enqueue, mark_events_stale
from service.outlets.repository import OutletRepository
from service.scores.history import ReliabilityHistory
from service.scores.service import ScoringService, rescore_claims, rescore_open_claims


def build_handlers(scoring: ScoringService) -> dict[str, Handler]:
    async def rescore_outlet(session: AsyncSession, job: Job) -> None:
        await rescore_open_claims(
            session, scoring, job.target_id, trigger=job.reason, queued_before=job.created_at
        )
        # Its new verdict moved the prior of its kind (and, a little, every kind's): the other
        # outlets whose reliability changed with it get a history entry saying so.
        await ReliabilityHistory(session, scoring).record_prior_shift(
            exclude_outlet_id=job.target_id, trigger=job.reason
        )
        # The outlet's new record changes its weight in every event it reported on.
        event_ids = await ClaimRepository(session).event_ids_of_outlet(job.target_id)
        await mark_events_stale(session, event_ids)
        await enqueue(session, RECONCILE_EVENT, event_ids, job.reason)

    async def reconcile_event(session: AsyncSession, job: Job) -> None:
        await ConsensusService(session, scoring).recompute(
            job.target_id, trigger=job.reason, queued_before=job.created_at
        )
        # Every claim score carries an Admiralty code read from the event's consensus (and a
        # model reads the claim's distance from it): the event's open claims are re-scored; those
        # whose score did not change get no new row.
        claims = await ClaimRepository(session).open_claims_of_event(job.target_id)
        outlets = await OutletRepository(session).by_ids([claim.outlet_id for claim in claims])
        await rescore_claims(
            session,
            scoring,
            claims,
            outlets,
            trigger="consensus.updated",
            queued_before=job.created_at,
        )

    return {RESCORE_OUTLET: rescore_outlet, RECONCILE_EVENT: reconcile_event}
