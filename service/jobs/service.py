"""Queueing background work in the caller's transaction (so it cannot be lost)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import WAKE_WORKER, utcnow
from service.events.models import Event
from service.jobs.models import Job

RESCORE_OUTLET = "outlet.rescore"
RECONCILE_EVENT = "event.reconcile"


async def enqueue(session: AsyncSession, kind: str, target_ids: Iterable[int], reason: str) -> int:
    """Queue one job per target; returns how many were added.

    Callers flag what the job will refresh as stale *before* queueing it: a job clears the flags
    set no later than its own creation, so every flag is cleared by a job that saw its change.
    Jobs are not merged here (a pending one may already have read older data); the worker skips
    a job when a newer one for the same target is queued behind it.
    """
    targets = sorted(set(target_ids))
    if not targets:
        return 0
    session.add_all([Job(kind=kind, target_id=target, reason=reason) for target in targets])
    await session.flush()
    # The request's session dependency wakes the worker once this transaction has committed.
    session.info[WAKE_WORKER] = True
    return len(targets)


async def mark_events_stale(session: AsyncSession, event_ids: Iterable[int]) -> None:
    """Flag events whose consensus is queued for recomputation (cleared when it is stored)."""
    targets = sorted(set(event_ids))
    if targets:
        await session.execute(
            update(Event).where(Event.id.in_(targets)).values(consensus_stale_since=utcnow())
        )
