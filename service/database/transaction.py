"""The request's transaction: one session, committed once the work is done, then after-commit
hooks.

The request's session dependency owns the transaction: it commits once the endpoint has built its
response and before the response is sent, so a 2xx always means the write is durable; services
and repositories only flush. Work that may only happen once the write is durable (waking a
worker, forgetting a cache entry) is asked for with a flag in the session's ``info``; the
application registers hooks that act on those flags after the commit (service/app.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# Run after a successful commit with the session's ``info``; each pops the flags it acts on.
AfterCommit = Callable[[dict[Any, Any]], Awaitable[None]]

# A session with no transaction, objects or flags left is as good as new, and making one costs
# about as much as scoring a preview (docs/scaling.md), so such sessions are reused.
MAX_IDLE_SESSIONS = 64


class RequestSessions:
    """Where requests get their sessions: the sessionmaker, the idle sessions kept for reuse
    (bound to the sessionmaker's engine) and the hooks run after each commit."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        after_commit: Sequence[AfterCommit] = (),
    ) -> None:
        self.sessionmaker = sessionmaker
        self.after_commit = tuple(after_commit)
        self.idle: list[AsyncSession] = []


@asynccontextmanager
async def request_transaction(sessions: RequestSessions) -> AsyncIterator[AsyncSession]:
    """A request's session: committed when the block ends, rolled back if it raises.

    Also used directly by code that answers before the router (service/claims/fast_path.py).
    A session left with no transaction, objects or flags (most previews never touch the
    database) is not closed, which would cost greenlet switches for nothing to release, but
    kept for the next request (``sessions.idle``). So no code may keep a reference to its
    session past the block.
    """
    idle = sessions.idle
    session = idle.pop() if idle else sessions.sessionmaker()
    try:
        yield session
        await commit_request(session, sessions)
    except BaseException:
        if session.in_transaction():
            await session.rollback()
        raise
    finally:
        if session.in_transaction() or session.identity_map:
            await session.close()
        elif _untouched(session) and len(idle) < MAX_IDLE_SESSIONS:
            idle.append(session)


def _untouched(session: AsyncSession) -> bool:
    """Nothing pending and no flags (``info``); the caller has checked transaction and objects."""
    return not (session.new or session.deleted or session.info)


async def commit_request(session: AsyncSession, sessions: RequestSessions) -> None:
    """Commit a request's work, then run the after-commit hooks on the flags it left."""
    if not session.in_transaction():
        return  # Nothing was read or written: no round trip.
    await session.commit()
    await run_after_commit(sessions.after_commit, session.info)


async def run_after_commit(hooks: Sequence[AfterCommit], info: dict[Any, Any]) -> None:
    """Run ``hooks`` on the flags a committed transaction left in its session's ``info``."""
    if info:  # no flags, nothing for a hook to do (most requests)
        for hook in hooks:
            await hook(info)
