from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import make_key

# Every route of every router, with the scope it needs. A new route must be added here:
# test_every_route_is_listed fails otherwise.
ROUTES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/outlets", "read", None),
    ("POST", "/v1/outlets", "admin", {"slug": "x", "name": "X", "kind": "wire"}),
    ("GET", "/v1/outlets/1", "read", None),
    ("PATCH", "/v1/outlets/1", "admin", {"name": "Y"}),
    ("POST", "/v1/outlets/1/archive", "admin", None),
    ("POST", "/v1/outlets/1/unarchive", "admin", None),
    ("GET", "/v1/outlets/1/reliability", "read", None),
    ("GET", "/v1/outlets/1/reliability/history", "read", None),
    ("GET", "/v1/outlets/1/dependencies", "read", None),
    ("GET", "/v1/outlets/1/records", "read", None),
    ("POST", "/v1/outlets/1/records", "admin", {"source": "s", "as_of": "2020-01-01T00:00:00Z"}),
    ("DELETE", "/v1/outlets/1/records/1", "admin", None),
    ("POST", "/v1/outlets/import", "admin", None),
    ("POST", "/v1/verdicts/import", "admin", None),
    ("GET", "/v1/claims/1/claimreview", "read", None),
    ("GET", "/v1/claimreviews", "read", None),
    ("GET", "/v1/export/claims.csv", "read", None),
    ("GET", "/v1/claims", "read", None),
    (
        "POST",
        "/v1/claims",
        "submit",
        {"outlet_id": 1, "text": "t", "published_at": "2020-01-01T00:00:00Z"},
    ),
    (
        "POST",
        "/v1/claims/batch",
        "submit",
        {"claims": [{"outlet_id": 1, "text": "t", "published_at": "2020-01-01T00:00:00Z"}]},
    ),
    (
        "POST",
        "/v1/score",
        "submit",
        {"outlet_id": 1, "text": "t", "published_at": "2020-01-01T00:00:00Z"},
    ),
    ("GET", "/v1/claims/1", "read", None),
    ("GET", "/v1/claims/1/scores", "read", None),
    ("GET", "/v1/claims/1/verdicts", "read", None),
    (
        "POST",
        "/v1/claims/1/verdicts",
        "admin",
        {"rating": "true", "source": "s", "decided_at": "2020-01-01T00:00:00Z"},
    ),
    ("GET", "/v1/events", "read", None),
    ("POST", "/v1/events", "submit", {"title": "E"}),
    ("GET", "/v1/events/1", "read", None),
    ("GET", "/v1/events/1/consensus", "read", None),
    ("GET", "/v1/events/1/consensus/history", "read", None),
    ("GET", "/v1/models", "admin", None),
    ("POST", "/v1/models", "admin", {"activate": False}),
    ("GET", "/v1/models/active", "admin", None),
    ("POST", "/v1/models/rollback", "admin", None),
    ("GET", "/v1/models/1", "admin", None),
    ("POST", "/v1/models/1/activate", "admin", None),
    ("POST", "/v1/models/1/cancel", "admin", None),
    ("GET", "/v1/api-keys", "admin", None),
    ("POST", "/v1/api-keys", "admin", {"name": "k", "scopes": ["read"]}),
    ("DELETE", "/v1/api-keys/999", "admin", None),
    ("GET", "/v1/stream", "read", None),
    ("GET", "/v1/webhooks", "admin", None),
    ("POST", "/v1/webhooks", "admin", {"url": "http://h/x", "event_types": ["claim.scored"]}),
    ("GET", "/v1/webhooks/1", "admin", None),
    ("PATCH", "/v1/webhooks/1", "admin", {"enabled": False}),
    ("DELETE", "/v1/webhooks/1", "admin", None),
    ("GET", "/v1/webhooks/1/deliveries", "admin", None),
    ("POST", "/v1/webhooks/1/deliveries/1/replay", "admin", None),
]
# /metrics is for Prometheus, which scrapes without a key (docs/push.md: keep it internal).
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
ROUTE_IDS = [f"{method} {path}" for method, path, _, _ in ROUTES]


def test_every_route_is_listed(app: Any) -> None:
    listed = {(method, _template(path)) for method, path, _, _ in ROUTES}
    operations = {
        (method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item
    }
    assert len(operations) > 20
    unlisted = operations - listed - PUBLIC
    assert not unlisted, f"routes without auth tests: {sorted(unlisted)}"


def _template(path: str) -> str:
    replacements = {
        "/v1/outlets/1": "/v1/outlets/{outlet_ref}",
        "/v1/claims/1": "/v1/claims/{claim_id}",
        "/v1/events/1": "/v1/events/{event_id}",
        "/v1/api-keys/999": "/v1/api-keys/{key_id}",
        "/v1/models/1": "/v1/models/{model_id}",
        "/records/1": "/records/{record_id}",
        "/v1/webhooks/1": "/v1/webhooks/{subscription_id}",
        "/deliveries/1": "/deliveries/{delivery_id}",
        "/v1/export/claims.csv": "/v1/export/{kind}.csv",
    }
    for concrete, template in replacements.items():
        path = path.replace(concrete, template)
    return path


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES, ids=ROUTE_IDS)
async def test_missing_key_is_401(
    client: httpx.AsyncClient, method: str, path: str, scope: str, body: dict[str, Any] | None
) -> None:
    response = await client.request(method, path, json=body)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES, ids=ROUTE_IDS)
async def test_other_scopes_are_403(
    app: Any,
    client: httpx.AsyncClient,
    method: str,
    path: str,
    scope: str,
    body: dict[str, Any] | None,
) -> None:
    others = [name for name in ("read", "submit", "admin") if name != scope]
    key = await make_key(app, "under-scoped", others)
    response = await client.request(
        method, path, json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 403
    assert scope in response.json()["detail"]


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES[:3], ids=ROUTE_IDS[:3])
async def test_revoked_key_is_401(
    app: Any,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    method: str,
    path: str,
    scope: str,
    body: dict[str, Any] | None,
) -> None:
    created = await client.post(
        "/v1/api-keys", json={"name": "soon-revoked", "scopes": [scope]}, headers=admin_headers
    )
    key = created.json()
    assert (
        await client.delete(f"/v1/api-keys/{key['id']}", headers=admin_headers)
    ).status_code == 200
    response = await client.request(
        method, path, json=body, headers={"Authorization": f"Bearer {key['key']}"}
    )
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


async def test_wrong_secret_with_known_prefix_is_401(app: Any, client: httpx.AsyncClient) -> None:
    key = await make_key(app, "real", ["read"])
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    response = await client.get("/v1/outlets", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_x_api_key_header_works(app: Any, client: httpx.AsyncClient) -> None:
    key = await make_key(app, "header-user", ["read"])
    response = await client.get("/v1/outlets", headers={"X-API-Key": key})
    assert response.status_code == 200


class TestApiKeys:
    async def test_create_list_revoke(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        from sqlalchemy import select

        from service.audit.models import AuditEntry
        from service.auth.models import ApiKey

        created = await client.post(
            "/v1/api-keys",
            json={"name": "wire-desk", "scopes": ["submit", "read"]},
            headers=admin_headers,
        )
        assert created.status_code == 201
        body = created.json()
        assert body["scopes"] == ["read", "submit"]
        assert body["key"].startswith(f"cs_{body['prefix']}_")

        stored = (await session.execute(select(ApiKey).where(ApiKey.id == body["id"]))).scalar_one()
        assert body["key"] not in stored.key_hash
        assert len(stored.key_hash) == 64

        listed = await client.get("/v1/api-keys", headers=admin_headers)
        assert all("key" not in item for item in listed.json()["items"])
        assert any(item["name"] == "wire-desk" for item in listed.json()["items"])

        revoked = await client.delete(f"/v1/api-keys/{body['id']}", headers=admin_headers)
        assert revoked.json()["revoked_at"] is not None
        actions = (await session.execute(select(AuditEntry.action))).scalars().all()
        assert "api_key.create" in actions
        assert "api_key.revoke" in actions

    async def test_unknown_scope_is_422(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        response = await client.post(
            "/v1/api-keys", json={"name": "x", "scopes": ["root"]}, headers=admin_headers
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"][:3] == ["body", "scopes", 0]
