"""Key verification and revocation against concurrent readers, step by step."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from service.auth.repository import ApiKeyRepository
from service.auth.service import (
    KeyCache,
    Principal,
    authenticate,
    cached_principal,
    create_key,
    revoke_key,
)
from service.database.transaction import commit_request
from service.errors import Unauthorized
from service.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Keys cached for a minute (the suite's default turns caching off)."""
    return settings.model_copy(update={"auth_cache_seconds": 60})


@pytest.fixture
def cache(app: Any) -> KeyCache:
    """The app's key cache."""
    cache: KeyCache = app.state.context.key_cache
    return cache


async def _key(app: Any) -> tuple[int, str]:
    async with app.state.context.sessionmaker() as session:
        key, secret = await create_key(session, name="victim", scopes=["read"])
        await session.commit()
    return key.id, secret


async def _revoke(app: Any, key_id: int) -> None:
    async with app.state.context.sessionmaker() as session:
        await revoke_key(session, key_id, actor=None)
        await commit_request(session, app.state.context.sessions)


async def _refused(app: Any, cache: KeyCache, secret: str) -> None:
    assert cached_principal(cache, secret) is None
    async with app.state.context.sessionmaker() as session:
        with pytest.raises(Unauthorized, match="revoked"):
            await authenticate(session, cache, secret)


async def test_a_read_while_the_revocation_is_uncommitted_is_forgotten_at_commit(
    app: Any, cache: KeyCache
) -> None:
    key_id, secret = await _key(app)
    async with (
        app.state.context.sessionmaker() as revoker,
        app.state.context.sessionmaker() as reader,
    ):
        await revoke_key(revoker, key_id, actor=None)  # flushed, not committed
        # Another request reads the row as it still is, and caches the key.
        assert isinstance(await authenticate(reader, cache, secret), Principal)
        await reader.rollback()
        assert cached_principal(cache, secret) is not None
        await commit_request(revoker, app.state.context.sessions)
    await _refused(app, cache, secret)


async def test_a_read_from_before_the_revocation_is_not_cached_after_it(
    app: Any, cache: KeyCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_id, secret = await _key(app)
    read_done, go_on = asyncio.Event(), asyncio.Event()
    by_prefix = ApiKeyRepository.by_prefix

    async def slow_by_prefix(self: ApiKeyRepository, prefix: str) -> Any:
        row = await by_prefix(self, prefix)
        read_done.set()
        await go_on.wait()  # the revocation commits between this read and the cache's put
        return row

    monkeypatch.setattr(ApiKeyRepository, "by_prefix", slow_by_prefix)
    async with app.state.context.sessionmaker() as reader:
        pending = asyncio.create_task(authenticate(reader, cache, secret))
        await read_done.wait()
        await _revoke(app, key_id)
        go_on.set()
        assert isinstance(await pending, Principal)  # it started before the revocation
    monkeypatch.setattr(ApiKeyRepository, "by_prefix", by_prefix)
    await _refused(app, cache, secret)


def test_put_drops_an_entry_read_before_a_later_forget() -> None:
    cache = KeyCache(60)
    principal = Principal(1, "k", frozenset({"read"}))
    seen = cache.revocations
    cache.forget("other")
    cache.put("abc", "hash", principal, seen=seen)
    assert cache.get("abc") is None
    cache.put("abc", "hash", principal, seen=cache.revocations)
    assert cache.get("abc") == ("hash", principal)
