from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service import generations
from service.claims.models import Claim
from service.db import keyset, utcnow
from service.scores.models import Score
from service.verdicts.models import Verdict


class ClaimRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_id(self, claim_id: int) -> Claim | None:
        return await self.session.get(Claim, claim_id)

    async def existing_ids(self, claim_ids: Sequence[int]) -> set[int]:
        if not claim_ids:
            return set()
        rows = await self.session.execute(select(Claim.id).where(Claim.id.in_(set(claim_ids))))
        return set(rows.scalars())

    async def by_idempotency_keys(self, key_id: int, keys: Sequence[str]) -> dict[str, Claim]:
        rows = await self.session.execute(
            select(Claim).where(
                Claim.submitted_by_key_id == key_id, Claim.idempotency_key.in_(keys)
            )
        )
        return {claim.idempotency_key: claim for claim in rows.scalars() if claim.idempotency_key}

    async def page(
        self,
        *,
        after: int | None,
        limit: int,
        outlet_id: int | None = None,
        event_id: int | None = None,
        topic: str | None = None,
        since: datetime | None = None,
    ) -> Sequence[Claim]:
        statement = select(Claim)
        statement = keyset(statement, Claim.id, after=after, limit=limit)
        if outlet_id is not None:
            statement = statement.where(Claim.outlet_id == outlet_id)
        if event_id is not None:
            statement = statement.where(Claim.event_id == event_id)
        if topic is not None:
            statement = statement.where(Claim.topic == topic)
        if since is not None:
            statement = statement.where(Claim.published_at >= since)
        return (await self.session.execute(statement)).scalars().all()

    async def add_all(self, claims: Sequence[Claim]) -> None:
        self.session.add_all(claims)
        await self.session.flush()

    async def open_claims(self, outlet_id: int, *, after: int, limit: int) -> Sequence[Claim]:
        """Claims of an outlet without any verdict yet, in id order."""
        has_verdict = select(Verdict.id).where(Verdict.claim_id == Claim.id).exists()
        statement = select(Claim).where(
            Claim.outlet_id == outlet_id, Claim.id > after, ~has_verdict
        )
        return (await self.session.execute(statement)).scalars().all()

    async def open_claims_of_event(self, event_id: int) -> Sequence[Claim]:
        has_verdict = select(Verdict.id).where(Verdict.claim_id == Claim.id).exists()
        statement = select(Claim).where(Claim.event_id == event_id, ~has_verdict).order_by(Claim.id)
        return (await self.session.execute(statement)).scalars().all()

    async def event_ids_of_outlet(self, outlet_id: int) -> list[int]:
        statement = (
            select(Claim.event_id)
            .where(Claim.outlet_id == outlet_id, Claim.event_id.is_not(None))
            .distinct()
        )
        return [
            event_id for event_id in (await self.session.execute(statement)).scalars() if event_id
        ]

    async def of_event(self, event_id: int) -> Sequence[Claim]:
        statement = select(Claim).where(Claim.event_id == event_id).order_by(Claim.id)
        return (await self.session.execute(statement)).scalars().all()

    async def figures_of_outlets(self, outlet_ids: Sequence[int], *, limit: int) -> Sequence[Claim]:
        """The newest claims with a figure and an event from these outlets (for reconciliation)."""
        statement = (
            select(Claim)
            .where(
                Claim.outlet_id.in_(outlet_ids),
                Claim.event_id.is_not(None),
                (Claim.figure_value.is_not(None)) | (Claim.figure_low.is_not(None)),
            )
            .order_by(Claim.id.desc())
            .limit(limit)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def mark_stale(
        self, claim_ids: Sequence[int] | None = None, *, outlet_id: int | None = None
    ) -> None:
        """Flag open claims whose score will be recomputed (cleared by the re-score)."""
        statement = update(Claim).values(score_stale_since=utcnow())
        has_verdict = select(Verdict.id).where(Verdict.claim_id == Claim.id).exists()
        if outlet_id is not None:
            statement = statement.where(Claim.outlet_id == outlet_id, ~has_verdict)
        if claim_ids is not None:
            statement = statement.where(Claim.id.in_(claim_ids))
        await self.session.execute(statement)
        await generations.bump(self.session, generations.CLAIM_VERSIONS)

    async def clear_stale(self, claim_ids: Sequence[int], *, queued_before: datetime) -> None:
        await self.session.execute(
            update(Claim)
            .where(Claim.id.in_(claim_ids), Claim.score_stale_since <= queued_before)
            .values(score_stale_since=None)
        )
        await generations.bump(self.session, generations.CLAIM_VERSIONS)

    async def version(self, claim_id: int) -> tuple[int, bool] | None:
        """(newest score id, stale) of a claim in one indexed query; None if no such claim."""
        newest_score = (
            select(func.max(Score.id)).where(Score.claim_id == Claim.id).scalar_subquery()
        )
        row = (
            await self.session.execute(
                select(newest_score, Claim.score_stale_since).where(Claim.id == claim_id)
            )
        ).first()
        if row is None:
            return None
        return int(row[0] or 0), row[1] is not None
