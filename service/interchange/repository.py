"""Queries of imports and exports: matching in bulk, and export batches in id order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.claims.models import Claim
from service.outlets.models import Outlet, OutletRecord
from service.scores.models import Score
from service.verdicts.models import Verdict

# Values per IN (...) list (well under SQLite's bound-parameter limit).
IN_CHUNK = 500


def chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class InterchangeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all_outlets(self) -> Sequence[Outlet]:
        return (await self.session.execute(select(Outlet).order_by(Outlet.id))).scalars().all()

    async def records_by_source(
        self, outlet_ids: Sequence[int]
    ) -> dict[tuple[int, str], OutletRecord]:
        """The newest record of each (outlet, source) pair among these outlets."""
        found: dict[tuple[int, str], OutletRecord] = {}
        for chunk in chunks(sorted(set(outlet_ids))):
            rows = await self.session.execute(
                select(OutletRecord)
                .where(OutletRecord.outlet_id.in_(chunk))
                .order_by(OutletRecord.id)
            )
            for record in rows.scalars():
                found[(record.outlet_id, record.source)] = record
        return found

    async def claims_by_id(self, claim_ids: Sequence[int]) -> dict[int, Claim]:
        found: dict[int, Claim] = {}
        for chunk in chunks(sorted(set(claim_ids))):
            rows = await self.session.execute(select(Claim).where(Claim.id.in_(chunk)))
            found.update({claim.id: claim for claim in rows.scalars()})
        return found

    async def claims_by_url(self, urls: Sequence[str]) -> dict[str, Claim]:
        """The first claim stored with each address."""
        found: dict[str, Claim] = {}
        for chunk in chunks(sorted(set(urls))):
            rows = await self.session.execute(
                select(Claim).where(Claim.url.in_(chunk)).order_by(Claim.id)
            )
            for claim in rows.scalars():
                if claim.url is not None:
                    found.setdefault(claim.url, claim)
        return found

    async def claims_by_outlet_and_text(
        self, pairs: Sequence[tuple[int, str]]
    ) -> dict[tuple[int, str], Claim]:
        found: dict[tuple[int, str], Claim] = {}
        for chunk in chunks(sorted(set(pairs)), 200):
            rows = await self.session.execute(
                select(Claim)
                .where(tuple_(Claim.outlet_id, Claim.text).in_(list(chunk)))
                .order_by(Claim.id)
            )
            for claim in rows.scalars():
                found.setdefault((claim.outlet_id, claim.text), claim)
        return found

    async def verdict_keys(self, claim_ids: Sequence[int]) -> set[tuple[int, str, datetime]]:
        """(claim, source, decided_at) of the verdicts stored on these claims."""
        found: set[tuple[int, str, datetime]] = set()
        for chunk in chunks(sorted(set(claim_ids))):
            rows = await self.session.execute(
                select(Verdict.claim_id, Verdict.source, Verdict.decided_at).where(
                    Verdict.claim_id.in_(chunk)
                )
            )
            found.update((row[0], row[1], row[2]) for row in rows.all())
        return found

    async def reviewed_claims(
        self,
        *,
        after: int,
        limit: int,
        outlet_id: int | None = None,
        since: datetime | None = None,
    ) -> Sequence[Row[Verdict, Claim, Outlet]]:
        """Verdicts with their claim and outlet, in verdict id order from ``after``."""
        statement = (
            select(Verdict, Claim, Outlet)
            .join(Claim, Claim.id == Verdict.claim_id)
            .join(Outlet, Outlet.id == Claim.outlet_id)
            .where(Verdict.id > after)
            .order_by(Verdict.id)
            .limit(limit)
        )
        if outlet_id is not None:
            statement = statement.where(Claim.outlet_id == outlet_id)
        if since is not None:
            statement = statement.where(Verdict.decided_at >= since)
        return (await self.session.execute(statement)).all()

    async def newest_verdict(self, claim_id: int) -> Row[Verdict, Claim, Outlet] | None:
        statement = (
            select(Verdict, Claim, Outlet)
            .join(Claim, Claim.id == Verdict.claim_id)
            .join(Outlet, Outlet.id == Claim.outlet_id)
            .where(Verdict.claim_id == claim_id)
            .order_by(Verdict.decided_at.desc(), Verdict.id.desc())
            .limit(1)
        )
        return (await self.session.execute(statement)).first()

    async def export_batch(
        self,
        kind: str,
        *,
        after: int,
        limit: int,
        outlet_id: int | None,
        since: datetime | None,
    ) -> Sequence[Row[Any]]:
        """One batch of an export, in id order from ``after`` (the first column is the id)."""
        statement: Select[Any]
        if kind == "outlets":
            statement = select(*EXPORT_COLUMNS["outlets"]).where(Outlet.id > after)
            if outlet_id is not None:
                statement = statement.where(Outlet.id == outlet_id)
            if since is not None:
                statement = statement.where(Outlet.updated_at >= since)
            statement = statement.order_by(Outlet.id)
        elif kind == "claims":
            statement = (
                select(*EXPORT_COLUMNS["claims"])
                .join(Outlet, Outlet.id == Claim.outlet_id)
                .where(Claim.id > after)
            )
            if outlet_id is not None:
                statement = statement.where(Claim.outlet_id == outlet_id)
            if since is not None:
                statement = statement.where(Claim.published_at >= since)
            statement = statement.order_by(Claim.id)
        else:
            statement = (
                select(*EXPORT_COLUMNS["scores"])
                .join(Outlet, Outlet.id == Score.outlet_id)
                .where(Score.id > after)
            )
            if outlet_id is not None:
                statement = statement.where(Score.outlet_id == outlet_id)
            if since is not None:
                statement = statement.where(Score.computed_at >= since)
            statement = statement.order_by(Score.id)
        rows: Sequence[Row[Any]] = (await self.session.execute(statement.limit(limit))).all()
        return rows


EXPORT_COLUMNS: dict[str, list[Any]] = {
    "outlets": [
        Outlet.id,
        Outlet.slug,
        Outlet.name,
        Outlet.kind,
        Outlet.country,
        Outlet.url,
        Outlet.owner,
        Outlet.archived_at,
        Outlet.created_at,
        Outlet.updated_at,
    ],
    "claims": [
        Claim.id,
        Claim.outlet_id,
        Outlet.slug.label("outlet_slug"),
        Claim.event_id,
        Claim.published_at,
        Claim.text,
        Claim.url,
        Claim.topic,
        Claim.figure_value,
        Claim.figure_low,
        Claim.figure_high,
        Claim.figure_unit,
        Claim.created_at,
    ],
    "scores": [
        Score.id,
        Score.subject,
        Score.claim_id,
        Score.outlet_id,
        Outlet.slug.label("outlet_slug"),
        Score.probability,
        Score.low,
        Score.high,
        Score.level,
        Score.grade,
        Score.rated,
        Score.method,
        Score.method_version.label("model_version"),
        Score.as_of,
        Score.computed_at,
        Score.trigger,
    ],
}
EXPORT_KINDS = tuple(EXPORT_COLUMNS)


def export_header(kind: str) -> list[str]:
    return [column.key for column in EXPORT_COLUMNS[kind]]
