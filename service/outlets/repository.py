from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal_column, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from service.database.pagination import keyset
from service.outlets.models import Outlet, OutletDependency, OutletRecord

# Rows per upsert statement (SQLite allows some 32,000 bound parameters in one).
UPSERT_CHUNK = 500


class OutletRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_id(self, outlet_id: int) -> Outlet | None:
        return await self.session.get(Outlet, outlet_id)

    async def by_slug(self, slug: str) -> Outlet | None:
        return await self.session.scalar(select(Outlet).where(Outlet.slug == slug))

    async def by_ids(self, outlet_ids: Sequence[int]) -> dict[int, Outlet]:
        if not outlet_ids:
            return {}
        rows = await self.session.execute(select(Outlet).where(Outlet.id.in_(set(outlet_ids))))
        return {outlet.id: outlet for outlet in rows.scalars()}

    async def page(
        self,
        *,
        after: int | None,
        limit: int,
        descending: bool = False,
        kind: str | None = None,
        country: str | None = None,
        conflict: str | None = None,
        include_archived: bool = False,
        query: str | None = None,
    ) -> Sequence[Outlet]:
        statement = select(Outlet)
        statement = keyset(statement, Outlet.id, after=after, limit=limit, descending=descending)
        if kind is not None:
            statement = statement.where(Outlet.kind == kind)
        if country is not None:
            statement = statement.where(Outlet.country == country)
        if not include_archived:
            statement = statement.where(Outlet.archived_at.is_(None))
        if query:
            # The search text is literal: % and _ in it match themselves, not any text.
            escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
            statement = statement.where(
                Outlet.name.ilike(pattern, escape="\\") | Outlet.slug.ilike(pattern, escape="\\")
            )
        if conflict is not None:
            statement = statement.where(self._is_party_to(conflict))
        return (await self.session.execute(statement)).scalars().all()

    def _dialect(self) -> str:
        return self.session.bind.dialect.name if self.session.bind is not None else "sqlite"

    def _is_party_to(self, conflict: str) -> ColumnElement[bool]:
        """JSON-array membership, spelled the way each backend can use."""
        if self._dialect() == "postgresql":
            return Outlet.conflict_parties.op("@>")(func.jsonb_build_array(conflict))
        members: Select[Any] = select(literal_column("value")).select_from(
            func.json_each(Outlet.conflict_parties)
        )
        return members.where(literal_column("value") == conflict).exists()

    async def add(self, outlet: Outlet) -> Outlet:
        self.session.add(outlet)
        await self.session.flush()
        return outlet

    async def records(
        self, outlet_id: int, *, after: int | None, limit: int, descending: bool = False
    ) -> Sequence[OutletRecord]:
        statement = select(OutletRecord).where(OutletRecord.outlet_id == outlet_id)
        statement = keyset(
            statement, OutletRecord.id, after=after, limit=limit, descending=descending
        )
        return (await self.session.execute(statement)).scalars().all()

    async def record(self, outlet_id: int, record_id: int) -> OutletRecord | None:
        return await self.session.scalar(
            select(OutletRecord).where(
                OutletRecord.id == record_id, OutletRecord.outlet_id == outlet_id
            )
        )

    async def add_record(self, record: OutletRecord) -> OutletRecord:
        self.session.add(record)
        await self.session.flush()
        return record

    async def delete_record(self, record: OutletRecord) -> None:
        await self.session.delete(record)
        await self.session.flush()

    async def upsert_dependencies(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or overwrite learned dependencies, one row per (first, second) outlet pair.

        Rows go in pair order, so two recomputations writing overlapping pairs lock them in the
        same order and cannot deadlock.
        """
        if not rows:
            return
        ordered = sorted(rows, key=lambda row: (row["first_outlet_id"], row["second_outlet_id"]))
        insert = postgresql.insert if self._dialect() == "postgresql" else sqlite.insert
        for start in range(0, len(ordered), UPSERT_CHUNK):
            statement = insert(OutletDependency).values(ordered[start : start + UPSERT_CHUNK])
            statement = statement.on_conflict_do_update(
                index_elements=["first_outlet_id", "second_outlet_id"],
                set_={
                    name: statement.excluded[name]
                    for name in ("probability", "first_copies", "common_events", "updated_at")
                },
            )
            await self.session.execute(statement)

    async def dependencies_of(
        self, outlet_id: int, *, min_probability: float, after: int | None, limit: int
    ) -> Sequence[tuple[OutletDependency, Outlet]]:
        """The outlet's learned dependencies with each partner outlet, in row order."""
        partner = case(
            (OutletDependency.first_outlet_id == outlet_id, OutletDependency.second_outlet_id),
            else_=OutletDependency.first_outlet_id,
        )
        statement = (
            select(OutletDependency, Outlet)
            .join(Outlet, Outlet.id == partner)
            .where(
                or_(
                    OutletDependency.first_outlet_id == outlet_id,
                    OutletDependency.second_outlet_id == outlet_id,
                ),
                OutletDependency.probability >= min_probability,
            )
        )
        # keyset() by hand: its type variable takes one-entity selects only.
        statement = statement.order_by(OutletDependency.id).limit(limit)
        if after is not None:
            statement = statement.where(OutletDependency.id > after)
        rows = await self.session.execute(statement)
        return [(dependency, partner) for dependency, partner in rows.all()]
