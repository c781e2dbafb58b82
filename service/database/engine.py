"""Database URLs and engines: SQLite (aiosqlite) or PostgreSQL (psycopg)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from service.database.types import json_text
from service.settings import Settings


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


# JSON columns (score inputs and reasons) through orjson: the stdlib encoder was a visible
# share of a claim's write under load.
_JSON_CODEC: dict[str, Any] = {"json_serializer": json_text, "json_deserializer": orjson.loads}


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
