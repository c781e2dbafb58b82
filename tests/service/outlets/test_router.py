from __future__ import annotations

import httpx

from tests.service.factories import create_outlet, outlet_body


class TestCreateOutlet:
    async def test_creates_and_returns_etag(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        response = await client.post("/v1/outlets", json=outlet_body(), headers=admin_headers)
        assert response.status_code == 201
        body = response.json()
        assert body["slug"] == "test-wire"
        assert body["version"] == 1
        assert response.headers["ETag"] == f'"outlet-{body["id"]}-v1"'
        assert response.headers["Location"] == f"/v1/outlets/{body['id']}"

    async def test_duplicate_slug_is_409(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        response = await client.post("/v1/outlets", json=outlet_body(), headers=admin_headers)
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        assert "already exists" in response.json()["detail"]
