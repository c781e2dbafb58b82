"""Bulk writes: many rows in few round trips (ids allocated up front, arrays for ``unnest``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import JSON, Table, insert, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator

from service.database.base import Base
from service.database.types import json_text


async def insert_returning_ids(
    session: AsyncSession, model: type[Base], rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert ``rows`` into ``model``'s table (a serial ``id`` key); return their ids, in order.

    On PostgreSQL the ids come from the table's sequence first, then a plain executemany
    INSERT (psycopg pipelines it: one round trip). INSERT ... RETURNING with SQLAlchemy's
    ordering sentinel renders one long statement per row count instead, which psycopg parses
    again on every call (its cache stops at 50 parameters): under load that cost more than the
    rest of the request. (INSERT ... SELECT FROM unnest(arrays) measured no faster than this.)
    Elsewhere (SQLite): INSERT ... RETURNING, a thousand rows a statement, the ids sorted.
    SQLAlchemy cannot tie SQLite's new rowids to parameter order, so asked to return them in
    that order it inserts one row per statement (16,000 statements to re-score 16,000 claims).
    But SQLite inserts a statement's VALUES in order, each row one past the largest rowid (the
    writer holds the database lock): sorted, the ids are in parameter order.
    """
    if not rows:
        return []
    table = cast(Table, model.__table__)
    if session.get_bind().dialect.name != "postgresql":
        returned = await session.execute(insert(table).returning(table.c.id), list(rows))
        return sorted(int(value) for value in returned.scalars())
    allocated = await session.execute(
        text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table.name, "n": len(rows)},
    )
    ids = [int(value) for value in allocated.scalars()]
    await session.execute(
        insert(table), [{**row, "id": id_} for row, id_ in zip(rows, ids, strict=True)]
    )
    return ids


def column_arrays(
    table: Table, rows: Sequence[dict[str, Any]], prefix: str, dialect: Dialect
) -> dict[str, list[Any]]:
    """``rows`` as one array per column, named ``prefix + column``, for ``unnest`` (PostgreSQL).

    Values are bound as the column types would bind them: JSON as text (cast to JSONB by the
    statement), type decorators through their own ``process_bind_param``.
    """
    arrays: dict[str, list[Any]] = {}
    for name in rows[0]:
        column_type = table.c[name].type
        values = [row[name] for row in rows]
        if isinstance(column_type, JSON):
            values = [None if value is None else json_text(value) for value in values]
        elif isinstance(column_type, TypeDecorator):
            values = [column_type.process_bind_param(value, dialect) for value in values]
        arrays[prefix + name] = values
    return arrays


def array_parameters(table: Table, names: Sequence[str], prefix: str, dialect: Dialect) -> str:
    """``%(prefix_col)b::TYPE[], ...`` for ``column_arrays``; only the table's own names.

    Bound in binary: psycopg's text format quotes every array element with a regular
    expression, a large share of a worker's time under single-claim load (docs/scaling.md).
    """
    return ", ".join(
        f"%({prefix}{name})b::{table.c[name].type.compile(dialect=dialect)}[]" for name in names
    )
