"""The conditional-GET helper the routes share, and the per-generation ETag cache."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import Response

from service.http_caching import POLL_CACHE, EtagCache, revalidate

ETAG = 'W/"consensus-7-3-0"'


def request_with(if_none_match: str | None) -> Request:
    headers = [] if if_none_match is None else [(b"if-none-match", if_none_match.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize(
    "sent",
    [ETAG, '"consensus-7-3-0"', f'"other", {ETAG}', "*", ' W/"consensus-7-3-0" '],
)
async def test_a_current_copy_gets_a_bare_304(sent: str) -> None:
    response = Response()
    answer = revalidate(request_with(sent), response, ETAG)
    assert answer is not None
    assert answer.status_code == 304
    assert answer.body == b""
    assert answer.headers["etag"] == ETAG
    assert answer.headers["cache-control"] == POLL_CACHE
    assert "etag" not in response.headers  # the route's own response is not used


@pytest.mark.parametrize("sent", [None, "", '"consensus-7-3-1"', 'W/"consensus-7"'])
async def test_otherwise_the_full_answer_carries_the_etag(sent: str | None) -> None:
    response = Response()
    assert revalidate(request_with(sent), response, ETAG) is None
    assert response.headers["etag"] == ETAG
    assert response.headers["cache-control"] == POLL_CACHE


async def test_etags_are_kept_for_one_generation() -> None:
    cache = EtagCache()
    assert await cache.get(1, generation=5) is None
    cache.put(1, 5, '"a"')
    assert await cache.get(1, generation=5) == '"a"'
    assert cache.peek(1, 5) == '"a"'
    assert await cache.get(1, generation=6) is None
    assert await cache.get(1, generation=5) is None  # the change emptied it


async def test_peek_never_empties_and_a_stale_put_is_dropped() -> None:
    cache = EtagCache()
    await cache.get(1, generation=5)
    cache.put(1, 5, '"a"')
    assert cache.peek(1, 6) is None
    assert cache.peek(1, 5) == '"a"'
    cache.put(2, 4, '"old"')  # computed before a change this process already saw
    assert cache.peek(2, 4) is None
    assert cache.peek(2, 5) is None


async def test_a_full_cache_forgets_its_oldest_tenth() -> None:
    cache = EtagCache(max_entries=20)
    await cache.get(0, generation=1)
    for key in range(21):
        cache.put(key, 1, f'"{key}"')
    assert [cache.peek(key, 1) for key in (0, 1, 2)] == [None, None, '"2"']
    assert cache.peek(20, 1) == '"20"'
