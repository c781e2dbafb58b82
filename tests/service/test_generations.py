"""GenerationCache: one value per generation, built once however many readers ask."""

from __future__ import annotations

import asyncio

import pytest

from service.generations import GenerationCache


class Loader:
    """Builds ``"v<n>"`` on its n-th call and remembers what it was handed."""

    def __init__(self) -> None:
        self.calls = 0
        self.previous: list[str | None] = []
        self.release: asyncio.Event | None = None

    async def __call__(self, previous: str | None) -> str:
        self.calls += 1
        self.previous.append(previous)
        if self.release is not None:
            await self.release.wait()
        return f"v{self.calls}"


async def test_the_value_is_built_once_per_generation() -> None:
    cache: GenerationCache[str] = GenerationCache()
    load = Loader()
    assert await cache.get(1, load) == "v1"
    assert await cache.get(1, load) == "v1"
    assert load.calls == 1


async def test_a_new_generation_rebuilds_from_the_value_it_replaces() -> None:
    cache: GenerationCache[str] = GenerationCache()
    load = Loader()
    await cache.get(1, load)
    assert await cache.get(2, load) == "v2"
    assert await cache.get(2, load) == "v2"
    # Any other value is a change, an older one included (a replica's refresh lagging behind).
    assert await cache.get(1, load) == "v3"
    assert load.previous == [None, "v1", "v2"]


async def test_concurrent_readers_of_a_new_generation_share_one_load() -> None:
    cache: GenerationCache[str] = GenerationCache()
    load = Loader()
    await cache.get(1, load)
    load.release = asyncio.Event()
    readers = [asyncio.create_task(cache.get(2, load)) for _ in range(20)]
    await asyncio.sleep(0)
    assert load.calls == 2  # the first reader loads; the others wait for it
    load.release.set()
    assert await asyncio.gather(*readers) == ["v2"] * 20
    assert load.calls == 2


async def test_readers_of_the_cached_generation_do_not_wait_for_a_load() -> None:
    cache: GenerationCache[str] = GenerationCache()
    load = Loader()
    await cache.get(1, load)
    load.release = asyncio.Event()
    slow = asyncio.create_task(cache.get(2, load))
    await asyncio.sleep(0)
    assert await asyncio.wait_for(cache.get(1, load), timeout=1) == "v1"
    load.release.set()
    assert await slow == "v2"


async def test_a_value_not_kept_is_returned_but_not_cached() -> None:
    cache: GenerationCache[str] = GenerationCache()
    load = Loader()
    await cache.get(1, load)
    assert await cache.get(2, load, keep=False) == "v2"
    assert cache.peek(2) is None
    assert cache.peek(1) == "v1"
    assert await cache.get(2, load) == "v3"  # built again, from the value still cached
    assert load.previous == [None, "v1", "v1"]


async def test_a_failed_load_keeps_the_previous_value_and_frees_the_lock() -> None:
    cache: GenerationCache[str] = GenerationCache()
    await cache.get(1, Loader())

    async def broken(_previous: str | None) -> str:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        await cache.get(2, broken)
    assert cache.peek(1) == "v1"
    # The lock was freed: the next reader at generation 2 builds it (its loader's first value,
    # handed the generation-1 value it replaces).
    retry = Loader()
    assert await asyncio.wait_for(cache.get(2, retry), timeout=1) == "v1"
    assert (retry.calls, retry.previous) == (1, ["v1"])
    assert cache.peek(2) == "v1"
    assert cache.peek(1) is None


async def test_peek_and_latest_never_load() -> None:
    cache: GenerationCache[str] = GenerationCache()
    assert cache.peek(1) is None
    assert cache.latest is None
    await cache.get(1, Loader())
    assert cache.peek(1) == "v1"
    assert cache.peek(2) is None
    assert cache.latest == "v1"  # whatever its generation
