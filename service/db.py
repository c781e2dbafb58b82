"""Database plumbing: the declarative base, column types, engines and the request's session.

The request's session dependency owns the transaction: it commits once the endpoint has built its
response and before the response is sent, so a 2xx always means the write is durable; services
and repositories only flush.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import orjson
from sqlalchemy import JSON, DateTime, Integer, MetaData, Select, Table, event, insert, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator
from starlette.requests import Request

from service.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Flags a request's session carries to its commit: work to do once the transaction is durable.
WAKE_WORKER = "credscore.wake_worker"
GENERATIONS_DIRTY = "credscore.generations_dirty"
FORGET_KEYS = "credscore.forget_keys"  # prefixes of revoked API keys
PUSHED = "credscore.pushed"  # wrote push outbox rows (service/push/outbox.py)
WAKE_WEBHOOKS = "credscore.wake_webhooks"  # queued webhook deliveries to send


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        dict[str, bool]: JSONType,
        list[str]: JSONType,
        list[int]: JSONType,
        list[dict[str, Any]]: JSONType,
    }


class IdMixin:
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def sync_url(url: str | URL) -> URL:
    """The URL for synchronous drivers (Alembic): sqlite / postgresql+psycopg."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


def async_url(url: str | URL) -> URL:
    """The URL for the service's async drivers: sqlite+aiosqlite / postgresql+psycopg."""
    parsed = sync_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # The busy timeout first: with several processes (or apps) on one file, the journal-mode
    # pragma can meet a lock, and without it that is an immediate "database is locked".
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode")
    mode = cursor.fetchone()
    if mode is None or str(mode[0]).lower() != "wal":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


# JSON columns (score inputs and reasons) through orjson: the stdlib encoder was a visible
# share of a claim's write under load.
_JSON_CODEC: dict[str, Any] = {"json_serializer": _json_text, "json_deserializer": orjson.loads}


def create_engine(settings: Settings) -> AsyncEngine:
    url = async_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, poolclass=NullPool, **_JSON_CODEC)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping: it costs a round trip per request. A connection that died with the server
    # fails its request with a 503 and SQLAlchemy then discards the whole pool, so the service
    # recovers by itself once the database is back.
    return create_async_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_recycle=1800,
        pool_timeout=settings.database_connect_timeout_seconds,
        connect_args={"connect_timeout": max(1, int(settings.database_connect_timeout_seconds))},
        **_JSON_CODEC,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and transaction per request: commit on success, roll back on any error.

    Registered with ``Depends(get_session, scope="function")`` so the commit happens before the
    response leaves: a client never sees a 2xx for a write that failed to commit.
    """
    async with request_transaction(request.app.state) as session:
        yield session


# A session with no transaction, objects or flags left is as good as new, and making one costs
# about as much as scoring a preview (some 10-15 us in a request), so such sessions are reused.
MAX_IDLE_SESSIONS = 64


@asynccontextmanager
async def request_transaction(state: Any) -> AsyncIterator[AsyncSession]:
    """A request's session: committed when the block ends, rolled back if it raises.

    Also used directly by code that answers before the router (service/claims/fast_path.py).
    A session left with no transaction, objects or flags (most previews never touch the
    database) is not closed, which would cost greenlet switches for nothing to release, but
    kept for the next request (``state.idle_sessions``). So no code may keep a reference to its
    session past the block.
    """
    idle: list[AsyncSession] = state.idle_sessions
    session = idle.pop() if idle else state.sessionmaker()
    try:
        yield session
        await commit_request(session, state)
    except BaseException:
        if session.in_transaction():
            await session.rollback()
        raise
    finally:
        if session.in_transaction() or session.identity_map:
            await session.close()
        elif _untouched(session) and len(idle) < MAX_IDLE_SESSIONS:
            idle.append(session)


def _untouched(session: AsyncSession) -> bool:
    """Nothing pending and no flags (``info``); the caller has checked transaction and objects."""
    return not (session.new or session.deleted or session.info)


async def commit_request(session: AsyncSession, state: Any) -> None:
    """Commit a request's work, then tell this process's worker and caches what it changed."""
    if not session.in_transaction():
        return  # Nothing was read or written: no round trip.
    await session.commit()
    for prefix in session.info.pop(FORGET_KEYS, ()):
        state.key_cache.forget(prefix)
    if session.info.pop(WAKE_WORKER, False):
        state.jobs.wake()
    if session.info.pop(PUSHED, False):
        state.push.wake()
    if session.info.pop(WAKE_WEBHOOKS, False):
        state.push.webhooks.wake()
    if session.info.pop(GENERATIONS_DIRTY, False):
        # This process sees its own change at once (other replicas on their refresh).
        await state.generations.refresh()


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
            values = [None if value is None else _json_text(value) for value in values]
        elif isinstance(column_type, TypeDecorator):
            values = [column_type.process_bind_param(value, dialect) for value in values]
        arrays[prefix + name] = values
    return arrays


def array_parameters(table: Table, names: Sequence[str], prefix: str, dialect: Dialect) -> str:
    """``%(prefix_col)b::TYPE[], ...`` for ``column_arrays``; only the table's own names.

    Bound in binary: psycopg's text format quotes every array element with a regular
    expression, which took a fifth of a worker's time under single-claim load.
    """
    return ", ".join(
        f"%({prefix}{name})b::{table.c[name].type.compile(dialect=dialect)}[]" for name in names
    )


SelectT = TypeVar("SelectT", bound=Select[Any])


def keyset(
    statement: SelectT, column: Any, *, after: int | None, limit: int, descending: bool = False
) -> SelectT:
    """One page of a list ordered by id, increasing (or ``descending``): the rows that follow
    ``after`` in that order, at most ``limit``."""
    if descending:
        statement = statement.order_by(column.desc()).limit(limit)
        return statement if after is None else statement.where(column < after)
    statement = statement.order_by(column).limit(limit)
    return statement if after is None else statement.where(column > after)
