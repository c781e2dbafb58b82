from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.database.bulk import insert_returning_ids
from service.database.pagination import keyset
from service.outlets.models import Outlet
from service.scores.models import InsertedScore, Score


@dataclass(frozen=True, slots=True)
class CurrentScore:
    probability: float
    low: float
    high: float
    method_version: str
    admiralty: dict[str, Any] | None


class ScoreRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, rows: Sequence[dict[str, Any]]) -> list[InsertedScore]:
        """Insert scores (every column but ``id``) in one statement."""
        ids = await insert_returning_ids(self.session, Score, rows)
        return [InsertedScore(id=id_, **row) for id_, row in zip(ids, rows, strict=True)]

    async def latest_for_claims(self, claim_ids: Sequence[int]) -> dict[int, Score]:
        """The current (newest) score of each claim, in one query."""
        if not claim_ids:
            return {}
        newest = (
            select(func.max(Score.id)).where(Score.claim_id.in_(claim_ids)).group_by(Score.claim_id)
        )
        latest_ids = (await self.session.execute(newest)).scalars().all()
        if not latest_ids:
            return {}
        rows = await self.session.execute(select(Score).where(Score.id.in_(latest_ids)))
        return {score.claim_id: score for score in rows.scalars() if score.claim_id is not None}

    async def current_values(self, claim_ids: Sequence[int]) -> dict[int, CurrentScore]:
        """What a re-score compares of each claim's current score (no JSON columns parsed)."""
        if not claim_ids:
            return {}
        newest = (
            select(func.max(Score.id)).where(Score.claim_id.in_(claim_ids)).group_by(Score.claim_id)
        )
        rows = await self.session.execute(
            select(
                Score.claim_id,
                Score.probability,
                Score.low,
                Score.high,
                Score.method_version,
                Score.admiralty,
            ).where(Score.id.in_(newest.scalar_subquery()))
        )
        return {row[0]: CurrentScore(*row[1:]) for row in rows.all() if row[0] is not None}

    async def claim_history(
        self, claim_id: int, *, after: int | None, limit: int, descending: bool = False
    ) -> Sequence[Score]:
        query = select(Score).where(Score.claim_id == claim_id)
        query = keyset(query, Score.id, after=after, limit=limit, descending=descending)
        return (await self.session.execute(query)).scalars().all()

    async def outlet_history(
        self, outlet_id: int, *, after: int | None, limit: int, descending: bool = False
    ) -> Sequence[Score]:
        query = select(Score).where(Score.outlet_id == outlet_id, Score.subject == "outlet")
        query = keyset(query, Score.id, after=after, limit=limit, descending=descending)
        return (await self.session.execute(query)).scalars().all()

    async def latest_for_outlets(self, outlet_ids: Sequence[int]) -> dict[int, Score]:
        """The newest stored reliability of each outlet that has one, in one query."""
        if not outlet_ids:
            return {}
        newest = (
            select(func.max(Score.id))
            .where(Score.outlet_id.in_(outlet_ids), Score.subject == "outlet")
            .group_by(Score.outlet_id)
        )
        rows = await self.session.execute(select(Score).where(Score.id.in_(newest)))
        return {score.outlet_id: score for score in rows.scalars()}

    async def latest_of_outlets(self) -> list[tuple[Outlet, LatestReliability]]:
        """Each outlet with a reliability history, with the figures of its newest entry (only
        those: a history entry's reasons and inputs are not needed to compare)."""
        newest = (
            select(func.max(Score.id)).where(Score.subject == "outlet").group_by(Score.outlet_id)
        )
        rows = await self.session.execute(
            select(Outlet, Score.probability, Score.low, Score.high, Score.rated)
            .join(Score, Score.outlet_id == Outlet.id)
            .where(Score.id.in_(newest))
            .order_by(Outlet.id)
        )
        return [
            (outlet, LatestReliability(probability, low, high, rated))
            for outlet, probability, low, high, rated in rows.all()
        ]


class LatestReliability(NamedTuple):
    probability: float
    low: float
    high: float
    rated: bool
