"""The background worker: runs queued jobs outside any request, in every replica.

A job is claimed with a conditional UPDATE (pending -> running), so two workers (two replicas,
or the loop and a test's drain) never run it twice. Each job runs in its own transaction; a
failure is recorded and retried a few times, and never touches the request path.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.background import PollingLoop
from service.database.transaction import AfterCommit, run_after_commit
from service.database.types import utcnow
from service.jobs.models import Job
from service.jobs.service import WAKE_WORKER

logger = logging.getLogger("credscore.jobs")

Handler = Callable[[AsyncSession, Job], Awaitable[None]]
# Does the work of many jobs of one kind at once (in one transaction).
BatchHandler = Callable[[AsyncSession, Sequence[Job]], Awaitable[None]]
MAX_ATTEMPTS = 3
# A job left "running" this long was abandoned by a worker that died; it is queued again.
ABANDONED_AFTER = timedelta(minutes=10)


class JobRunner(PollingLoop):
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: dict[str, Handler],
        *,
        poll_seconds: float = 2.0,
        batch_size: int = 20,
        after_commit: Sequence[AfterCommit] = (),
        batch_handlers: dict[str, BatchHandler] | None = None,
        jobs_per_batch: int = 100,
    ) -> None:
        super().__init__(
            "credscore-jobs",
            poll_seconds=poll_seconds,
            logger=logger,
            failure="job loop iteration failed",
        )
        self.sessionmaker = sessionmaker
        # Run after each job's (or batch's) commit, as after a request's: the counters are
        # refreshed, the push consumers woken.
        self.after_commit_hooks = tuple(after_commit)
        self.handlers = handlers
        # Kinds whose pending jobs run together, up to ``jobs_per_batch`` at a time: a queue of
        # a thousand outlet re-scores is a few batches of claims, not a thousand transactions.
        self.batch_handlers = batch_handlers or {}
        self.jobs_per_batch = jobs_per_batch
        self.batch_size = batch_size

    async def step(self) -> None:
        await self.drain()

    async def after_commit(self, info: dict[Any, Any]) -> None:
        """A committed transaction queued jobs: run them now rather than at the next poll."""
        if info.pop(WAKE_WORKER, False):
            self.wake()

    async def drain(self, max_jobs: int | None = None) -> int:
        """Run pending jobs until none is left (or ``max_jobs`` ran); returns how many ran."""
        done = 0
        while max_jobs is None or done < max_jobs:
            kind, batch = await self._pending_batch()
            if not batch:
                return done
            if kind in self.batch_handlers and (max_jobs is None or max_jobs - done > 1):
                limit = batch if max_jobs is None else batch[: max_jobs - done]
                done += await self._run_batch(kind, limit)
                continue
            for job_id in batch[: self.batch_size]:
                if await self._run_one(job_id):
                    done += 1
        return done

    async def _pending_batch(self) -> tuple[str | None, list[int]]:
        """The kind of the oldest pending job, and the oldest pending jobs of that kind."""
        ids = await self._pending_ids()
        if not ids:
            return None, []
        async with self.sessionmaker() as session:
            kind = await session.scalar(select(Job.kind).where(Job.id == ids[0]))
            if kind not in self.batch_handlers:
                return kind, ids
            rows = await session.execute(
                select(Job.id)
                .where(Job.status == "pending", Job.kind == kind)
                .order_by(Job.id)
                .limit(self.jobs_per_batch)
            )
            return kind, list(rows.scalars())

    async def _run_batch(self, kind: str, job_ids: list[int]) -> int:
        """Claim the jobs and run them together; if that fails, each runs alone (and fails or
        is retried alone). Returns how many ran."""
        async with self.sessionmaker() as session:
            claimed = await session.execute(
                update(Job)
                .where(Job.id.in_(job_ids), Job.status == "pending")
                .values(status="running", started_at=utcnow(), attempts=Job.attempts + 1)
                .returning(Job.id)
            )
            ids = sorted(claimed.scalars())
            await session.commit()
        if not ids:
            return 0
        async with self.sessionmaker() as session:
            jobs = list(
                (await session.execute(select(Job).where(Job.id.in_(ids)).order_by(Job.id)))
                .scalars()
                .all()
            )
            try:
                await self.batch_handlers[kind](session, jobs)
                finished = utcnow()
                for job in jobs:
                    job.status = "done"
                    job.finished_at = finished
                    job.error = None
                await session.commit()
            except Exception:
                await session.rollback()
                logger.warning("a batch of %d %s jobs failed", len(ids), kind, exc_info=True)
            else:
                await run_after_commit(self.after_commit_hooks, session.info)
                return len(ids)
        async with self.sessionmaker() as session:
            await session.execute(
                update(Job)
                .where(Job.id.in_(ids))
                .values(status="pending", attempts=Job.attempts - 1)
            )
            await session.commit()
        ran = 0
        for job_id in ids:
            if await self._run_one(job_id):
                ran += 1
        return ran

    async def _superseded(self, session: AsyncSession, job: Job) -> bool:
        """A newer pending job for the same target will redo this work with fresher data."""
        newer = await session.scalar(
            select(Job.id)
            .where(
                Job.kind == job.kind,
                Job.target_id == job.target_id,
                Job.status == "pending",
                Job.id > job.id,
            )
            .limit(1)
        )
        return newer is not None

    async def _pending_ids(self) -> list[int]:
        async with self.sessionmaker() as session:
            await session.execute(
                update(Job)
                .where(Job.status == "running", Job.started_at < utcnow() - ABANDONED_AFTER)
                .values(status="pending")
            )
            await session.commit()
            rows = await session.execute(
                select(Job.id)
                .where(Job.status == "pending")
                .order_by(Job.id)
                .limit(self.batch_size)
            )
            return list(rows.scalars())

    async def _run_one(self, job_id: int) -> bool:
        async with self.sessionmaker() as session:
            claimed = await session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "pending")
                .values(status="running", started_at=utcnow(), attempts=Job.attempts + 1)
            )
            await session.commit()
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return False
        async with self.sessionmaker() as session:
            job = await session.get(Job, job_id)
            assert job is not None
            if await self._superseded(session, job):
                job.status = "done"
                job.finished_at = utcnow()
                job.error = "superseded by a newer job for the same target"
                await session.commit()
                return True
            handler = self.handlers.get(job.kind)
            try:
                if handler is None:
                    raise LookupError(f"no handler for job kind {job.kind!r}")
                await handler(session, job)
                job.status = "done"
                job.finished_at = utcnow()
                job.error = None
                await session.commit()
                await run_after_commit(self.after_commit_hooks, session.info)
                return True
            except Exception as exc:
                await session.rollback()
                error = f"{type(exc).__name__}: {exc}"[:2000]
                logger.warning("job %s failed: %s", job_id, error, exc_info=True)
        async with self.sessionmaker() as session:
            job = await session.get(Job, job_id)
            assert job is not None
            job.status = "failed" if job.attempts >= MAX_ATTEMPTS else "pending"
            job.error = error
            job.finished_at = utcnow() if job.status == "failed" else None
            await session.commit()
        return True
