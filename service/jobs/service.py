"""Queueing background work in the caller's transaction (so it cannot be lost)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.database.types import utcnow
from service.events.models import Event
from service.jobs.models import Job

RESCORE_OUTLET = "outlet.rescore"
RECONCILE_EVENT = "event.reconcile"
# The session flag of a transaction that queued jobs: wake the worker once it commits.
WAKE_WORKER = "credscore.wake_worker"
# Targets per UPDATE ... IN (...) (well under SQLite's bound-parameter limit).
TARGETS_PER_STATEMENT = 500


async def enqueue(session: AsyncSession, kind: str, target_ids: Iterable[int], reason: str) -> int:
    """Queue one job per target, unless one is already pending for it; returns how many were added.

    Callers flag what the job will refresh as stale *before* queueing it: a job clears the flags
    set no later than its own creation time. A pending job has read nothing yet, so it takes the
    new work over: its creation time moves to now and it clears the new flags too. However many
    verdicts arrive for an outlet before its re-score starts, one job does the work once. (A job
    already running may have read older data: a new one is queued behind it.)
    """
    targets = sorted(set(target_ids))
    if not targets:
        return 0
    now = utcnow()
    pending: set[int] = set()
    for start in range(0, len(targets), TARGETS_PER_STATEMENT):
        chunk = targets[start : start + TARGETS_PER_STATEMENT]
        taken_over = await session.execute(
            update(Job)
            .where(Job.kind == kind, Job.status == "pending", Job.target_id.in_(chunk))
            .values(created_at=now)
            .returning(Job.target_id)
        )
        pending.update(taken_over.scalars())
    new_targets = [target for target in targets if target not in pending]
    if new_targets:
        # A Core executemany: the ORM would insert one row per statement on SQLite (it reads
        # each new id back, in order).
        await session.execute(
            insert(Job),
            [
                {"kind": kind, "target_id": target, "reason": reason, "created_at": now}
                for target in new_targets
            ],
        )
    # The request's session dependency wakes the worker once this transaction has committed.
    session.info[WAKE_WORKER] = True
    return len(new_targets)


async def mark_events_stale(session: AsyncSession, event_ids: Iterable[int]) -> None:
    """Flag events whose consensus is queued for recomputation (cleared when it is stored)."""
    targets = sorted(set(event_ids))
    if targets:
        await session.execute(
            update(Event).where(Event.id.in_(targets)).values(consensus_stale_since=utcnow())
        )
