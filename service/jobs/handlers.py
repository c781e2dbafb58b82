"""What each kind of background job does: the verdict feedback loop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.claims.repository import ClaimRepository
from service.events.consensus import ConsensusService
from service.jobs.models import Job
from service.jobs.runner import BatchHandler, Handler, JobRunner
from service.jobs.service import RECONCILE_EVENT, RESCORE_OUTLET, enqueue, mark_events_stale
from service.outlets.repository import OutletRepository
from service.scores.history import ReliabilityHistory
from service.scores.rescore import (
    rescore_claims,
    rescore_open_claims,
    rescore_open_claims_of_outlets,
)
from service.scores.service import ScoringService

# Claims scored together in one batch.
RESCORE_CHUNK = 1_000


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
        claims = await ClaimRepository(session).open_claims_of_events([job.target_id])
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


def build_batch_handlers(scoring: ScoringService) -> dict[str, BatchHandler]:
    """The same work for many jobs at once: claims are scored in batches across outlets and
    events, and the follow-up jobs are queued once (a thousand verdicts on a hundred outlets'
    claims re-score each open claim once, in a few large batches)."""

    async def rescore_outlets(session: AsyncSession, jobs: Sequence[Job]) -> None:
        # Every job of the batch was claimed before anything is read here, so the newest
        # creation time covers every change the batch's work sees.
        queued_before = max(job.created_at for job in jobs)
        outlet_ids = sorted({job.target_id for job in jobs})
        # Claims about an event are left to the event's reconciliation, queued below: it
        # re-scores them with the new consensus (scoring them here too would do it twice).
        await rescore_open_claims_of_outlets(
            session,
            scoring,
            outlet_ids,
            trigger=jobs[-1].reason,
            queued_before=queued_before,
            without_event=True,
        )
        # As for one job: the other outlets whose reliability moved with the prior get a history
        # entry saying so (the batch's own outlets too, when the others' verdicts moved them).
        await ReliabilityHistory(session, scoring).record_prior_shift(
            exclude_outlet_id=jobs[-1].target_id, trigger=jobs[-1].reason
        )
        event_ids = await ClaimRepository(session).event_ids_of_outlets(outlet_ids)
        await mark_events_stale(session, event_ids)
        await enqueue(session, RECONCILE_EVENT, event_ids, jobs[-1].reason)

    async def reconcile_events(session: AsyncSession, jobs: Sequence[Job]) -> None:
        # As for outlets: every job was claimed before anything is read.
        queued_before = max(job.created_at for job in jobs)
        event_ids = sorted({job.target_id for job in jobs})
        await ConsensusService(session, scoring).recompute_many(
            event_ids, trigger=jobs[-1].reason, queued_before=queued_before
        )
        open_claims = await ClaimRepository(session).open_claims_of_events(event_ids)
        outlets = await OutletRepository(session).by_ids([claim.outlet_id for claim in open_claims])
        for start in range(0, len(open_claims), RESCORE_CHUNK):
            await rescore_claims(
                session,
                scoring,
                open_claims[start : start + RESCORE_CHUNK],
                outlets,
                trigger="consensus.updated",
                queued_before=queued_before,
            )

    return {RESCORE_OUTLET: rescore_outlets, RECONCILE_EVENT: reconcile_events}


def job_runner(
    sessionmaker: async_sessionmaker[AsyncSession], scoring: ScoringService, **options: Any
) -> JobRunner:
    """The worker with every handler, single and batched (``options``: ``JobRunner``'s)."""
    return JobRunner(
        sessionmaker,
        build_handlers(scoring),
        batch_handlers=build_batch_handlers(scoring),
        **options,
    )
