from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.models import ApiKey
from service.database.pagination import keyset


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_prefix(self, prefix: str) -> ApiKey | None:
        result = await self.session.execute(select(ApiKey).where(ApiKey.prefix == prefix))
        return result.scalar_one_or_none()

    async def active_by_name(self, name: str) -> ApiKey | None:
        return await self.session.scalar(
            select(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
        )

    async def by_id(self, key_id: int) -> ApiKey | None:
        return await self.session.get(ApiKey, key_id)

    async def page(
        self, *, after: int | None, limit: int, descending: bool = False
    ) -> Sequence[ApiKey]:
        query = select(ApiKey)
        query = keyset(query, ApiKey.id, after=after, limit=limit, descending=descending)
        return (await self.session.execute(query)).scalars().all()

    async def add(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        await self.session.flush()
        return key
