from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.database.pagination import keyset
from service.verdicts.models import Verdict


class VerdictRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, verdict: Verdict) -> Verdict:
        self.session.add(verdict)
        await self.session.flush()
        return verdict

    async def for_claim(
        self, claim_id: int, *, after: int | None, limit: int, descending: bool = False
    ) -> Sequence[Verdict]:
        statement = select(Verdict).where(Verdict.claim_id == claim_id)
        statement = keyset(statement, Verdict.id, after=after, limit=limit, descending=descending)
        return (await self.session.execute(statement)).scalars().all()
