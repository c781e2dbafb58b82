from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.claims.models import Claim


class ClaimRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_id(self, claim_id: int) -> Claim | None:
        return await self.session.get(Claim, claim_id)

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
        statement = select(Claim).order_by(Claim.id).limit(limit)
        if after is not None:
            statement = statement.where(Claim.id > after)
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
