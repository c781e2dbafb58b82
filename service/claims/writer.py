"""Group commit for POST /v1/claims: concurrent submissions share one transaction.

A claim costs two inserts and a commit; under load most of that is per statement and per
commit, not per row. So each request checks its claim on its own (its errors stay its own) and
hands it here; one drain task per process writes everything that queued up while the previous
group was being written, as one transaction, and each request is answered only after the
commit that holds its claim (a 201 still means stored). When nothing else is queued a group is
one claim, so a lone request does not wait for company.

If a group fails on something that may be one claim's fault (an integrity or data error), each
claim is written again on its own, so one bad claim cannot fail the others. Any other failure
(the database being down) is every claim's, and each request gets it.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import DataError, IntegrityError

from service.claims.service import ClaimService, PendingClaim, StoredClaim
from service.database.transaction import RequestSessions, request_transaction
from service.scores.service import ScoringService
from service.settings import Settings

# Bounded so that one transaction stays short (locks, latency of the first in the group).
MAX_GROUP = 64
# Groups in flight at once: while one waits on the database the next one is being written.
MAX_WRITERS = 2

_Entry = tuple[PendingClaim, "asyncio.Future[StoredClaim]"]


class ClaimWriter:
    """One per process; writes each group in a request transaction of ``sessions``."""

    def __init__(
        self,
        sessions: RequestSessions,
        scoring: ScoringService,
        settings: Settings,
        *,
        max_group: int = MAX_GROUP,
        max_writers: int = MAX_WRITERS,
    ) -> None:
        self.sessions = sessions
        self.scoring = scoring
        self.settings = settings
        self.max_group = max_group
        self.max_writers = max_writers
        self._queue: list[_Entry] = []
        self._drains: set[asyncio.Task[None]] = set()

    async def submit(self, pending: PendingClaim) -> StoredClaim:
        """Store ``pending`` with whatever else is queued; returns once that is committed."""
        future: asyncio.Future[StoredClaim] = asyncio.get_running_loop().create_future()
        self._queue.append((pending, future))
        if len(self._drains) < self.max_writers:
            drain = asyncio.create_task(self._drain_queue())
            self._drains.add(drain)
            drain.add_done_callback(self._drains.discard)
        return await future

    async def stop(self) -> None:
        await asyncio.gather(*self._drains, return_exceptions=True)

    async def _drain_queue(self) -> None:
        try:
            while self._queue:
                group = self._queue[: self.max_group]
                del self._queue[: self.max_group]
                await self._write_group(group)
        except BaseException as exc:
            _fail(self._queue, exc)
            self._queue.clear()
            raise

    async def _write_group(self, group: list[_Entry]) -> None:
        try:
            try:
                stored = await self._write([pending for pending, _ in group])
            except (IntegrityError, DataError):
                if len(group) == 1:
                    raise
                for entry in group:
                    await self._write_group([entry])
                return
        except BaseException as exc:
            _fail(group, exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), result in zip(group, stored, strict=True):
            if not future.done():
                future.set_result(result)

    async def _write(self, pending: list[PendingClaim]) -> list[StoredClaim]:
        async with request_transaction(self.sessions) as session:
            return await ClaimService(session, self.scoring, self.settings).write(pending)


def _fail(entries: list[_Entry], exc: BaseException) -> None:
    """Hand ``exc`` to every request still waiting; a cancelled writer cancels them."""
    for _, future in entries:
        if future.done():
            continue
        if isinstance(exc, asyncio.CancelledError):
            future.cancel()
        else:
            future.set_exception(exc)
