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
    rescore_open_claims_of_outlets,
)
from service.scores.service import ScoringService

# Claims scored together in one batch.
RESCORE_CHUNK = 1_000


def build_batch_handlers(scoring: ScoringService) -> dict[str, BatchHandler]:
    """Each kind of job's work, for many jobs at once: claims are scored in batches across
    outlets and events, and the follow-up jobs are queued once (a thousand verdicts on a
    hundred outlets' claims re-score each open claim once, in a few large batches)."""

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
        # Their new verdicts moved the prior of their kinds (and, a little, every kind's): the
        # outlets whose reliability moved with it get a history entry saying so.
        await ReliabilityHistory(session, scoring).record_prior_shift(
            changed_outlet_ids=outlet_ids, trigger=jobs[-1].reason
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
    """The worker with every handler (``options``: ``JobRunner``'s). A job run alone (a
    failed batch's jobs are retried one by one) does its batch's work for itself."""
    batch_handlers = build_batch_handlers(scoring)
    return JobRunner(
        sessionmaker,
        {kind: _alone(handler) for kind, handler in batch_handlers.items()},
        batch_handlers=batch_handlers,
        **options,
    )


def _alone(handler: BatchHandler) -> Handler:
    async def run_one(session: AsyncSession, job: Job) -> None:
        await handler(session, [job])

    return run_one
