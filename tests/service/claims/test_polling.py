"""Conditional GETs of a claim: 304 from memory when nothing changed, full answers otherwise."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service.app import create_app
from service.settings import Settings
from tests.conftest import make_key
from tests.service.factories import create_claim, create_outlet, record_verdict


async def bearer(app: Any, name: str, scopes: list[str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {await make_key(app, name, scopes)}"}


@pytest.fixture
async def cached_app(settings: Settings) -> AsyncIterator[Any]:
    # The fast path needs keys this process verified recently: the production key cache.
    app = create_app(settings.model_copy(update={"auth_cache_seconds": 60}))
    async with app.router.lifespan_context(app):
        yield app


async def test_unchanged_claim_is_304_from_memory_and_changed_one_is_200(
    cached_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    admin = await bearer(cached_app, "admin", ["read", "submit", "admin"])
    reader_key = await make_key(cached_app, "poller", ["read"])
    reader = {"Authorization": f"Bearer {reader_key}"}
    transport = httpx.ASGITransport(app=cached_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await create_outlet(client, admin)
        claim = await create_claim(client, admin)
        first = await client.get(f"/v1/claims/{claim['id']}", headers=reader)
        etag = first.headers["etag"]

        queries: list[str] = []
        engine = cached_app.state.context.engine.sync_engine
        from sqlalchemy import event

        def count(*args: Any) -> None:
            queries.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)
        with caplog.at_level(logging.INFO, logger="credscore.access"):
            again = await client.get(
                f"/v1/claims/{claim['id']}", headers=reader | {"If-None-Match": etag}
            )
        event.remove(engine, "before_cursor_execute", count)
        assert again.status_code == 304
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == "no-cache"
        assert queries == []
        fields = caplog.records[-1].fields  # type: ignore[attr-defined]
        assert fields["route"] == "/v1/claims/{claim_id}"
        assert fields["key_name"] == "poller"
        assert reader_key not in caplog.text

        # A verdict on the outlet marks the claim stale: the same ETag no longer matches.
        other = await create_claim(client, admin)
        await record_verdict(client, admin, other["id"], "false")
        changed = await client.get(
            f"/v1/claims/{claim['id']}", headers=reader | {"If-None-Match": etag}
        )
        assert changed.status_code == 200
        assert changed.json()["score_stale"] is True
        assert changed.headers["etag"] != etag


async def test_fast_path_never_bypasses_auth(cached_app: Any) -> None:
    admin = await bearer(cached_app, "admin", ["read", "submit", "admin"])
    submitter = {"Authorization": f"Bearer {await make_key(cached_app, 'writer', ['submit'])}"}
    transport = httpx.ASGITransport(app=cached_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await create_outlet(client, admin)
        claim = await create_claim(client, admin)
        etag = (await client.get(f"/v1/claims/{claim['id']}", headers=admin)).headers["etag"]
        conditional = {"If-None-Match": etag}
        assert (
            await client.get(f"/v1/claims/{claim['id']}", headers=admin | conditional)
        ).status_code == 304
        under_scoped = await client.get(
            f"/v1/claims/{claim['id']}", headers=submitter | conditional
        )
        assert under_scoped.status_code == 403
        anonymous = await client.get(f"/v1/claims/{claim['id']}", headers=conditional)
        assert anonymous.status_code == 401
        forged = {"Authorization": admin["Authorization"][:-3] + "xyz"}
        assert (
            await client.get(f"/v1/claims/{claim['id']}", headers=forged | conditional)
        ).status_code == 401
        keys = (await client.get("/v1/api-keys", headers=admin)).json()["items"]
        admin_id = next(key["id"] for key in keys if key["name"] == "admin")
        await client.delete(f"/v1/api-keys/{admin_id}", headers=admin)
        revoked = await client.get(f"/v1/claims/{claim['id']}", headers=admin | conditional)
        assert revoked.status_code == 401
