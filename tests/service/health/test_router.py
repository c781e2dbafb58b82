from __future__ import annotations

from pathlib import Path

import httpx

from service.app import create_app
from service.settings import Settings


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["migration"] == body["expected_migration"] is not None


async def test_readyz_is_503_before_migrations(tmp_path: Path) -> None:
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", log_level="WARNING")
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "migrations pending"


async def test_readyz_is_503_when_database_unreachable() -> None:
    settings = Settings(
        database_url="postgresql://nobody@127.0.0.1:1/none",
        log_level="WARNING",
        database_connect_timeout_seconds=1,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            ready = await client.get("/readyz")
            outlets = await client.get(
                "/v1/outlets", headers={"Authorization": "Bearer cs_aaaaaaaaaaaa_x"}
            )
    assert ready.status_code == 503
    assert ready.headers["retry-after"] == "5"
    assert outlets.status_code == 503
    assert outlets.headers["retry-after"]
    assert outlets.json()["type"] == "/problems/database-unavailable"
