"""Rate limiting per API key: a token bucket, 429 problem+json with Retry-After, configurable.

The contract: CREDSCORE_RATE_LIMIT_PER_MINUTE (0 = off, the default) tokens per minute and
CREDSCORE_RATE_LIMIT_BURST tokens at most, one bucket per API key; /healthz is never limited.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from service.app import create_app
from service.settings import Settings
from tests.conftest import make_key


@asynccontextmanager
async def _serving(
    database_url: str, **limits: Any
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    settings = Settings(
        database_url=database_url,
        environment="test",
        log_level="WARNING",
        jobs_enabled=False,
        **limits,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield app, client


async def test_sixth_immediate_request_of_a_key_is_429(database_url: str) -> None:
    async with _serving(database_url, rate_limit_per_minute=60, rate_limit_burst=5) as (
        app,
        client,
    ):
        first = {"X-API-Key": await make_key(app, "busy", ["read"])}
        second = {"Authorization": f"Bearer {await make_key(app, 'quiet', ['read'])}"}
        paths = ["/v1/outlets", "/v1/claims"] * 3
        responses = [await client.get(path, headers=first) for path in paths]
        assert [response.status_code for response in responses] == [200] * 5 + [429]
        limited = responses[5]
        assert limited.headers["content-type"] == "application/problem+json"
        problem = limited.json()
        assert problem["status"] == 429
        assert problem["type"].startswith("/problems/")
        retry_after = int(limited.headers["retry-after"])
        assert retry_after >= 1

        # Another key has its own bucket.
        others = [(await client.get("/v1/outlets", headers=second)).status_code for _ in range(5)]
        assert others == [200] * 5
        # Health checks are never limited, with or without the exhausted key.
        for _ in range(30):
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/healthz", headers=first)).status_code == 200

        # Honouring Retry-After is enough to be let in again (60/min: a token per second).
        await asyncio.sleep(min(retry_after, 3) + 0.1)
        assert (await client.get("/v1/outlets", headers=first)).status_code == 200


async def test_rate_limiting_is_off_by_default(database_url: str) -> None:
    assert Settings.model_fields["rate_limit_per_minute"].default == 0
    async with _serving(database_url) as (app, client):
        headers = {"X-API-Key": await make_key(app, "unlimited", ["read"])}
        statuses = {
            (await client.get("/v1/outlets", headers=headers)).status_code for _ in range(40)
        }
        assert statuses == {200}
