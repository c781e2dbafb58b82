from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from service.jobs.models import Job
from service.jobs.runner import JobRunner
from service.jobs.service import RESCORE_OUTLET, enqueue


async def _jobs(session: Any) -> list[tuple[str, int, str]]:
    rows = await session.execute(select(Job.kind, Job.target_id, Job.status).order_by(Job.id))
    return [tuple(row) for row in rows.all()]


async def test_enqueue_coalesces_into_the_pending_job_and_moves_its_time(
    app: Any, session: Any
) -> None:
    assert await enqueue(session, RESCORE_OUTLET, [1, 2], "first") == 2
    await session.commit()
    first_time = await session.scalar(select(Job.created_at).where(Job.target_id == 1))
    assert await enqueue(session, RESCORE_OUTLET, [1, 3, 3], "second") == 1
    await session.commit()
    assert await _jobs(session) == [
        (RESCORE_OUTLET, 1, "pending"),
        (RESCORE_OUTLET, 2, "pending"),
        (RESCORE_OUTLET, 3, "pending"),
    ]
    # The pending job now also covers what was flagged stale for the second request.
    session.expire_all()
    moved = await session.scalar(select(Job.created_at).where(Job.target_id == 1))
    assert moved > first_time


async def test_a_running_job_is_not_taken_over(app: Any, session: Any) -> None:
    await enqueue(session, RESCORE_OUTLET, [1], "first")
    await session.commit()
    job = await session.scalar(select(Job))
    job.status = "running"
    await session.commit()
    assert await enqueue(session, RESCORE_OUTLET, [1], "second") == 1
    await session.commit()
    assert [status for _, _, status in await _jobs(session)] == ["running", "pending"]


async def test_batches_run_together_and_a_failed_batch_runs_job_by_job(
    app: Any, session: Any
) -> None:
    await enqueue(session, RESCORE_OUTLET, [1, 2, 3], "test")
    await session.commit()
    batches: list[list[int]] = []
    singles: list[int] = []

    async def batch(db: Any, jobs: Sequence[Job]) -> None:
        batches.append([job.target_id for job in jobs])
        if any(job.target_id == 2 for job in jobs):
            raise RuntimeError("a batch with job 2 fails")

    async def single(db: Any, job: Job) -> None:
        if job.target_id == 2:
            raise RuntimeError("job 2 always fails")
        singles.append(job.target_id)

    runner = JobRunner(
        app.state.context.sessionmaker,
        {RESCORE_OUTLET: single},
        batch_handlers={RESCORE_OUTLET: batch},
    )
    await runner.drain()
    # The failed batch ran job by job: 1 and 3 are done; 2, retried (in a batch of its own,
    # then alone) until its attempts ran out, failed for good.
    assert batches == [[1, 2, 3], [2], [2]]
    assert singles == [1, 3]
    session.expire_all()
    assert [status for _, _, status in await _jobs(session)] == ["done", "failed", "done"]

    await enqueue(session, RESCORE_OUTLET, [4, 5], "test")
    await session.commit()
    await runner.drain()
    assert batches[-1] == [4, 5]
