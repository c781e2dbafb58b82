"""The outlet registry in memory: what the claim hot path needs, without a query per request.

Rebuilt when the ``outlets`` generation changes (any create, edit, archive); a registry of
thousands of outlets is a few hundred kilobytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.generations import GenerationCache, reads_committed_state
from service.outlets.models import Outlet


@dataclass(frozen=True, slots=True)
class OutletView:
    """A read-only copy of an outlet row, safe to share between requests."""

    id: int
    slug: str
    name: str
    kind: str
    country: str | None
    owner: str | None
    conflict_parties: list[str]
    transparency: dict[str, bool]
    on_the_ground: bool | None
    archived_at: datetime | None


OutletLike = Outlet | OutletView


@dataclass(frozen=True)
class Registry:
    generation: int
    by_id: dict[int, OutletView]
    by_slug: dict[str, OutletView]


class OutletDirectory:
    def __init__(self) -> None:
        self._registries: GenerationCache[Registry] = GenerationCache()

    async def registry(self, session: AsyncSession, generation: int) -> Registry:
        async def load(_previous: Registry | None) -> Registry:
            rows = await session.execute(
                select(
                    Outlet.id,
                    Outlet.slug,
                    Outlet.name,
                    Outlet.kind,
                    Outlet.country,
                    Outlet.owner,
                    Outlet.conflict_parties,
                    Outlet.transparency,
                    Outlet.on_the_ground,
                    Outlet.archived_at,
                )
            )
            views = [OutletView(**row._mapping) for row in rows.all()]
            return Registry(
                generation,
                {view.id: view for view in views},
                {view.slug: view for view in views},
            )

        return await self._registries.get(generation, load, keep=reads_committed_state(session))
