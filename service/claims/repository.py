from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from service import generations
from service.claims.models import Claim, InsertedClaim
from service.claims.report_groups import MAX_CHAIN
from service.database.bulk import array_parameters, column_arrays, insert_returning_ids
from service.database.pagination import keyset
from service.database.types import utcnow
from service.scores.models import InsertedScore, Score
from service.scores.repository import ScoreRepository
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
        descending: bool = False,
        outlet_id: int | None = None,
        event_id: int | None = None,
        topic: str | None = None,
        since: datetime | None = None,
    ) -> Sequence[Claim]:
        statement = select(Claim)
        statement = keyset(statement, Claim.id, after=after, limit=limit, descending=descending)
        if outlet_id is not None:
            statement = statement.where(Claim.outlet_id == outlet_id)
        if event_id is not None:
            statement = statement.where(Claim.event_id == event_id)
        if topic is not None:
            statement = statement.where(Claim.topic == topic)
        if since is not None:
            statement = statement.where(Claim.published_at >= since)
        return (await self.session.execute(statement)).scalars().all()

    async def insert(self, rows: Sequence[dict[str, Any]]) -> list[InsertedClaim]:
        """Insert claims (every column but ``id`` and ``score_stale_since``) in one statement."""
        ids = await insert_returning_ids(self.session, Claim, rows)
        return [InsertedClaim(id=id_, **row) for id_, row in zip(ids, rows, strict=True)]

    async def insert_with_scores(
        self, claim_rows: Sequence[dict[str, Any]], score_rows: Sequence[dict[str, Any]]
    ) -> list[tuple[InsertedClaim, InsertedScore]]:
        """Insert claims and one score each (``claim_id`` filled in here), in order.

        On PostgreSQL, up to ``SINGLE_STATEMENT_MAX_ROWS`` claims go in one statement: ids from
        both sequences, then both INSERTs as data-modifying CTEs over ``unnest`` of one array per
        column, so a group-commit group costs one round trip before its commit instead of four.
        Larger batches and other databases take two INSERTs (executemany on PostgreSQL), which
        are faster for large batches (docs/scaling.md, "Figures behind choices in the code").
        """
        if not claim_rows:
            return []
        connection = await self.session.connection()
        dialect = connection.dialect
        if dialect.name != "postgresql" or len(claim_rows) > SINGLE_STATEMENT_MAX_ROWS:
            claims = await self.insert(claim_rows)
            scores = await ScoreRepository(self.session).insert(
                [
                    {**row, "claim_id": claim.id}
                    for row, claim in zip(score_rows, claims, strict=True)
                ]
            )
            return list(zip(claims, scores, strict=True))
        claim_columns = tuple(claim_rows[0])
        score_columns = tuple(name for name in score_rows[0] if name != "claim_id")
        parameters = {
            **column_arrays(_CLAIMS, claim_rows, "c_", dialect),
            **column_arrays(
                _SCORES, [{n: row[n] for n in score_columns} for row in score_rows], "s_", dialect
            ),
        }
        statement = _claims_with_scores_statement(claim_columns, score_columns, dialect)
        result = await connection.exec_driver_sql(statement, parameters)
        ids = cast("list[tuple[int, int]]", result.all())
        stored = []
        for (claim_id, score_id), claim_row, score_row in zip(
            ids, claim_rows, score_rows, strict=True
        ):
            stored.append(
                (
                    InsertedClaim(id=claim_id, **claim_row),
                    InsertedScore(id=score_id, claim_id=claim_id, **score_row),
                )
            )
        return stored

    async def open_claims_of_outlets(
        self, outlet_ids: Sequence[int], *, after: int, limit: int, without_event: bool = False
    ) -> list[InsertedClaim]:
        """Claims of these outlets without any verdict yet, in id order, as plain records
        (a re-score reads thousands and changes none through the ORM)."""
        table = cast(Table, Claim.__table__)
        has_verdict = select(Verdict.id).where(Verdict.claim_id == Claim.id).exists()
        statement = (
            select(*table.c)
            .where(Claim.outlet_id.in_(outlet_ids), Claim.id > after, ~has_verdict)
            .order_by(Claim.id)
            .limit(limit)
        )
        if without_event:
            statement = statement.where(Claim.event_id.is_(None))
        rows = await self.session.execute(statement)
        return [InsertedClaim(**row._mapping) for row in rows.all()]

    async def open_claims_of_events(self, event_ids: Sequence[int]) -> Sequence[Claim]:
        """The claims without a verdict about any of ``event_ids``, by event, then id."""
        has_verdict = select(Verdict.id).where(Verdict.claim_id == Claim.id).exists()
        statement = (
            select(Claim)
            .where(Claim.event_id.in_(event_ids), ~has_verdict)
            .order_by(Claim.event_id, Claim.id)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def event_ids_of_outlet(self, outlet_id: int) -> list[int]:
        return await self.event_ids_of_outlets([outlet_id])

    async def event_ids_of_outlets(self, outlet_ids: Sequence[int]) -> list[int]:
        statement = (
            select(Claim.event_id)
            .where(Claim.outlet_id.in_(outlet_ids), Claim.event_id.is_not(None))
            .distinct()
        )
        return [
            event_id for event_id in (await self.session.execute(statement)).scalars() if event_id
        ]

    async def of_events(self, event_ids: Sequence[int]) -> dict[int, list[Claim]]:
        """The claims about each of ``event_ids`` (by id; an event without any is absent)."""
        statement = (
            select(Claim).where(Claim.event_id.in_(event_ids)).order_by(Claim.event_id, Claim.id)
        )
        found: dict[int, list[Claim]] = {}
        for claim in (await self.session.execute(statement)).scalars():
            assert claim.event_id is not None
            found.setdefault(claim.event_id, []).append(claim)
        return found

    async def copy_parents(self, claims: Sequence[Claim]) -> dict[int, int | None]:
        """What each claim copies, and further up each copy chain what the originals copy."""
        parents: dict[int, int | None] = {claim.id: claim.copy_of_claim_id for claim in claims}
        for _ in range(MAX_CHAIN):
            missing = {p for p in parents.values() if p is not None and p not in parents}
            if not missing:
                break
            rows = await self.session.execute(
                select(Claim.id, Claim.copy_of_claim_id).where(Claim.id.in_(missing))
            )
            found: dict[int, int | None] = dict(rows.all())
            parents.update({claim_id: found.get(claim_id) for claim_id in missing})
        return parents

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
        self,
        claim_ids: Sequence[int] | None = None,
        *,
        outlet_id: int | None = None,
        outlet_ids: Sequence[int] | None = None,
    ) -> None:
        """Flag open claims whose score will be recomputed (cleared by the re-score)."""
        statement = update(Claim).values(score_stale_since=utcnow())
        has_verdict = select(Verdict.id).where(Verdict.claim_id == Claim.id).exists()
        if outlet_id is not None:
            statement = statement.where(Claim.outlet_id == outlet_id, ~has_verdict)
        if outlet_ids is not None:
            statement = statement.where(Claim.outlet_id.in_(outlet_ids), ~has_verdict)
        if claim_ids is not None:
            statement = statement.where(Claim.id.in_(claim_ids))
        await self.session.execute(statement)
        await generations.bump(self.session, generations.CLAIM_VERSIONS)

    async def clear_stale(self, claim_ids: Sequence[int], *, queued_before: datetime) -> None:
        await self.session.execute(
            update(Claim)
            .where(Claim.id.in_(claim_ids), Claim.score_stale_since <= queued_before)
            .values(score_stale_since=None)
            # Not evaluated against the claims in the session (thousands in a re-score).
            .execution_options(synchronize_session=False)
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


# See ``ClaimRepository.insert_with_scores``.
SINGLE_STATEMENT_MAX_ROWS = 100

_CLAIMS = cast(Table, Claim.__table__)
_SCORES = cast(Table, Score.__table__)
_STATEMENTS: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}


def _claims_with_scores_statement(
    claim_columns: tuple[str, ...], score_columns: tuple[str, ...], dialect: Dialect
) -> str:
    """See ``insert_with_scores``; built once per column set (names from the tables only)."""
    statement = _STATEMENTS.get((claim_columns, score_columns))
    if statement is not None:
        return statement
    quote = dialect.identifier_preparer.quote
    claim_names = [f"c_{name}" for name in claim_columns]
    score_names = [f"s_{name}" for name in score_columns]
    arrays = ", ".join(
        [
            array_parameters(_CLAIMS, claim_columns, "c_", dialect),
            array_parameters(_SCORES, score_columns, "s_", dialect),
        ]
    )
    statement = f"""
        WITH input AS MATERIALIZED (
            SELECT nextval(pg_get_serial_sequence('claims', 'id')) AS claim_id_,
                   nextval(pg_get_serial_sequence('scores', 'id')) AS score_id_, u.*
            FROM unnest({arrays}) WITH ORDINALITY
                AS u({", ".join([*claim_names, *score_names])}, position_)
        ), claims_ AS (
            INSERT INTO claims (id, {", ".join(quote(n) for n in claim_columns)})
            SELECT claim_id_, {", ".join(claim_names)} FROM input
        ), scores_ AS (
            INSERT INTO scores (id, claim_id, {", ".join(quote(n) for n in score_columns)})
            SELECT score_id_, claim_id_, {", ".join(score_names)} FROM input
        )
        SELECT claim_id_, score_id_ FROM input ORDER BY position_
    """  # noqa: S608 - only column names of the two tables are interpolated
    _STATEMENTS[(claim_columns, score_columns)] = statement
    return statement
