from __future__ import annotations

from typing import Any

import httpx

from service.app import create_app
from service.auth.rate_limit import RateLimiter
from service.settings import Settings
from tests.conftest import make_key


def test_bucket_allows_burst_then_refills() -> None:
    limiter = RateLimiter(per_minute=60, burst=3)
    assert [limiter.retry_after(1, now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.retry_after(1, now=0.0) == 1.0
    assert limiter.retry_after(2, now=0.0) == 0.0
    assert limiter.retry_after(1, now=1.0) == 0.0


def test_disabled_limiter_never_limits() -> None:
    limiter = RateLimiter(per_minute=0, burst=1)
    assert all(limiter.retry_after(1, now=0.0) == 0.0 for _ in range(1000))


async def test_429_with_retry_after_per_key(settings: Settings) -> None:
    app: Any = create_app(
        settings.model_copy(update={"rate_limit_per_minute": 60, "rate_limit_burst": 5})
    )
    async with app.router.lifespan_context(app):
        busy = {"Authorization": f"Bearer {await make_key(app, 'busy', ['read'])}"}
        calm = {"Authorization": f"Bearer {await make_key(app, 'calm', ['read'])}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            statuses = [
                (await client.get("/v1/outlets", headers=busy)).status_code for _ in range(6)
            ]
            assert statuses == [200] * 5 + [429]
            limited = await client.get("/v1/outlets", headers=busy)
            assert limited.status_code == 429
            assert int(limited.headers["retry-after"]) >= 1
            assert limited.headers["content-type"] == "application/problem+json"
            assert (await client.get("/v1/outlets", headers=calm)).status_code == 200
            for _ in range(10):
                assert (await client.get("/healthz")).status_code == 200
