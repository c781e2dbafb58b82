"""Generation counters: how every process learns that shared state changed.

A counter in the ``generations`` table is bumped in the same transaction as the change it
stands for (a verdict: ``evidence``; an activation: ``model``; an outlet edit: ``outlets``; a
re-score of stored claims: ``claim_versions``). Each process keeps the values in memory, reads
them again every ``cache_refresh_seconds`` in the background, and at once after a request of its
own changed one, so hot paths (scores, 304s) read no counter from the database:

- the process that made a change sees it in its next request;
- other replicas see it within ``cache_refresh_seconds``;
- a transaction that bumped a counter reads the database's value (its own, uncommitted) until
  it commits, so it never scores with the state from before its own change.

What a process builds from the database and keeps in memory (the evidence snapshot, the outlet
registry, the active model, the claims' ETags) lives in a ``GenerationCache``: valid while the
counter it depends on keeps its value.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.background import BackgroundLoop
from service.scores.models import Generation

EVIDENCE = "evidence"
# Bumped (with EVIDENCE) when evidence was removed or regrouped, not only appended.
EVIDENCE_RESET = "evidence_reset"
MODEL = "model"
OUTLETS = "outlets"
CLAIM_VERSIONS = "claim_versions"
ALL = (EVIDENCE, EVIDENCE_RESET, MODEL, OUTLETS, CLAIM_VERSIONS)

# The session flag of a transaction that bumped a counter.
GENERATIONS_DIRTY = "credscore.generations_dirty"

logger = logging.getLogger("credscore.generations")

T = TypeVar("T")


async def read_generations(session: AsyncSession, names: tuple[str, ...] = ALL) -> dict[str, int]:
    """Counters as this session sees them (missing ones are 0), in one query."""
    rows = await session.execute(
        select(Generation.name, Generation.value).where(Generation.name.in_(names))
    )
    values = dict.fromkeys(names, 0)
    values.update({name: int(value) for name, value in rows.all()})
    return values


async def bump(session: AsyncSession, name: str) -> None:
    """Increment a counter in the caller's transaction (creating it on first use)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Generation).values(name=name, value=1)
    statement = statement.on_conflict_do_update(
        index_elements=[Generation.name], set_={"value": Generation.value + 1}
    )
    await session.execute(statement)
    session.info[GENERATIONS_DIRTY] = True


class Generations:
    """This process's view of the counters (see the module docstring)."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession] | None, refresh_seconds: float
    ) -> None:
        self.sessionmaker = sessionmaker
        self.refresh_seconds = refresh_seconds
        self.values: dict[str, int] | None = None
        self._background = BackgroundLoop("credscore-generations", self._loop)

    async def current(self, session: AsyncSession) -> dict[str, int]:
        if self.values is None or session.info.get(GENERATIONS_DIRTY) or self.sessionmaker is None:
            return await read_generations(session)
        return self.values

    async def refresh(self) -> None:
        if self.sessionmaker is None:
            return
        async with self.sessionmaker() as session:
            self.values = await read_generations(session)

    async def after_commit(self, info: dict[Any, Any]) -> None:
        """A committed transaction bumped a counter: this process sees its own change at once
        (other replicas on their next refresh)."""
        if info.pop(GENERATIONS_DIRTY, False):
            await self.refresh()

    def start(self) -> None:
        if self.sessionmaker is not None:
            self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _loop(self) -> None:
        while True:
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Unknown is safer than stale: read the database per request until it answers.
                self.values = None
                logger.warning("could not refresh generations", exc_info=True)
            await asyncio.sleep(self.refresh_seconds)


def reads_committed_state(session: AsyncSession) -> bool:
    """Whether what ``session`` reads is committed state: its transaction changed no counter.

    One that did reads its own uncommitted rows under the new counter value, and a dry run or a
    failure rolls them back (the counter too): a value built from them, kept for the process
    under that value, would be served when another change commits the same value.
    """
    return not session.info.get(GENERATIONS_DIRTY)


class GenerationCache(Generic[T]):
    """One value built from the database, reused while a generation counter keeps its value.

    A reader at the cached generation gets the value without waiting. A reader at any other
    generation takes the lock, so that concurrent readers build it once, and builds it with
    ``load(previous)``: ``previous`` is the value it replaces (or None), for loaders that can
    catch up on what changed instead of starting over.
    """

    def __init__(self) -> None:
        self._entry: tuple[int, T] | None = None
        self._lock = asyncio.Lock()

    @property
    def latest(self) -> T | None:
        """The value built last, whatever its generation (None before the first load)."""
        return self._entry[1] if self._entry is not None else None

    def peek(self, generation: int) -> T | None:
        """The value if it was built at ``generation``; never loads, never waits."""
        entry = self._entry
        return entry[1] if entry is not None and entry[0] == generation else None

    async def get(
        self, generation: int, load: Callable[[T | None], Awaitable[T]], *, keep: bool = True
    ) -> T:
        """The value at ``generation``, built by ``load`` unless cached.

        ``keep=False``: return what ``load`` built without caching it (state that may not last).
        """
        entry = self._entry
        if entry is not None and entry[0] == generation:
            return entry[1]
        async with self._lock:
            entry = self._entry
            if entry is not None and entry[0] == generation:
                return entry[1]
            value = await load(entry[1] if entry is not None else None)
            if keep:
                self._entry = (generation, value)
            return value
