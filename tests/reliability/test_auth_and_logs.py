"""Auth on every operation of the live OpenAPI document, with the key cache on; no key in logs.

tests/service/auth/test_router.py checks a hand-kept list of routes with the cache off. This
module walks every operation the app publishes (so a new route is covered without being listed)
with the key cache at its default TTL: a missing, malformed, unknown, revoked or under-scoped
key is refused, the revoking replica forgets the key at once (also while 16 clients use it:
tests/service/auth/test_service.py replays the interleavings that used to cache it again), and
another replica forgets it within its TTL. Then it checks that no key material ever reaches the
logs.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.app import create_app
from service.logging import JsonFormatter
from service.settings import Settings
from tests.conftest import make_key
from tests.reliability.conftest import ServerThread, make_settings, seed_database
from tests.service.factories import create_claim, create_outlet

# /metrics is open to scrapers: operators keep it on an internal address (docs/push.md).
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
SCOPES = ("read", "submit", "admin")
# An id that is valid for every path parameter and names nothing: no route acts on real data.
ABSENT_ID = "2147483647"


# Probes that pass auth must end: the live stream with a filter it refuses answers 422 (after
# checking the key) instead of streaming for ever.
ENDING_PROBES = {"/v1/stream": "/v1/stream?types=reliability-probe"}


def _operations(app: Any) -> list[tuple[str, str]]:
    return [
        (method.upper(), ENDING_PROBES.get(path, re.sub(r"\{[^}]+\}", ABSENT_ID, path)))
        for path, item in app.openapi()["paths"].items()
        for method in item
        if (method.upper(), path) not in PUBLIC
    ]


async def _call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    # A body with an unknown field: input models forbid extra fields, so a request that passes
    # auth is refused with 422 and never acts (an empty object would start a training run).
    body = {"reliability_probe": True} if method in ("POST", "PATCH", "PUT") else None
    return await client.request(method, path, json=body, headers=headers)


@pytest.fixture
def cached_settings(database_url: str) -> Settings:
    """The key cache at its default TTL (the shared fixture turns it off)."""
    return Settings(
        database_url=database_url, environment="test", log_level="WARNING", jobs_enabled=False
    )


@pytest.fixture
async def cached_app(cached_settings: Settings) -> AsyncIterator[Any]:
    assert cached_settings.auth_cache_seconds == Settings.model_fields["auth_cache_seconds"].default
    assert cached_settings.auth_cache_seconds > 0
    application = create_app(cached_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def cached_client(cached_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=cached_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_every_operation_refuses_missing_malformed_and_unknown_keys(
    cached_app: Any, cached_client: httpx.AsyncClient
) -> None:
    operations = _operations(cached_app)
    assert len(operations) > 20
    real = await make_key(cached_app, "real", list(SCOPES))
    unknown = "cs_000000000000_" + real.split("_", 2)[2]
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    cases = {
        "missing": {},
        "empty bearer": {"Authorization": "Bearer "},
        "malformed": {"Authorization": "Bearer not-a-key"},
        "unknown prefix": {"Authorization": f"Bearer {unknown}"},
        "wrong secret": {"X-API-Key": forged},
        "basic scheme": {"Authorization": f"Basic {real}"},
    }
    # Warm the cache with the real key first: a forged secret must not ride on it.
    assert (await cached_client.get("/v1/outlets", headers={"X-API-Key": real})).status_code == 200
    for method, path in operations:
        for name, headers in cases.items():
            response = await _call(cached_client, method, path, headers)
            assert response.status_code == 401, (method, path, name, response.text[:200])
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["www-authenticate"].startswith("Bearer")
    for method, path in PUBLIC:
        assert (await cached_client.request(method, path)).status_code == 200


async def test_every_operation_needs_exactly_one_scope(
    cached_app: Any, cached_client: httpx.AsyncClient
) -> None:
    single = {scope: await make_key(cached_app, f"only-{scope}", [scope]) for scope in SCOPES}
    all_but = {
        scope: await make_key(cached_app, f"all-but-{scope}", [s for s in SCOPES if s != scope])
        for scope in SCOPES
    }
    for method, path in _operations(cached_app):
        allowed = []
        last_allowed_status = [0]
        for scope, key in single.items():
            response = await _call(cached_client, method, path, {"X-API-Key": key})
            assert response.status_code != 401, (method, path, scope)
            if response.status_code != 403:
                allowed.append(scope)
                last_allowed_status[0] = response.status_code
            else:
                assert response.headers["content-type"] == "application/problem+json"
        assert len(allowed) == 1, (method, path, allowed)
        if method != "GET":  # the probe never changes anything
            assert last_allowed_status[0] in (404, 409, 422), (method, path, last_allowed_status)
        (needed,) = allowed
        refused = await _call(
            cached_client, method, path, {"Authorization": f"Bearer {all_but[needed]}"}
        )
        assert refused.status_code == 403, (method, path)
        assert needed in refused.json()["detail"]


async def test_revoked_key_is_refused_at_once_on_every_operation_with_the_cache_on(
    cached_app: Any, cached_client: httpx.AsyncClient
) -> None:
    admin = {"Authorization": f"Bearer {await make_key(cached_app, 'admin', ['admin'])}"}
    operations = _operations(cached_app)
    for header in ("Authorization", "X-API-Key"):
        created = await cached_client.post(
            "/v1/api-keys", json={"name": "soon-revoked", "scopes": list(SCOPES)}, headers=admin
        )
        assert created.status_code == 201
        key = created.json()
        headers = {header: f"Bearer {key['key']}" if header == "Authorization" else key["key"]}
        # Cached now: the next requests within the TTL would not ask the database.
        assert (await cached_client.get("/v1/outlets", headers=headers)).status_code == 200
        assert cached_app.state.context.key_cache.get(key["prefix"]) is not None
        revoked = await cached_client.delete(f"/v1/api-keys/{key['id']}", headers=admin)
        assert revoked.status_code == 200
        assert cached_app.state.context.key_cache.get(key["prefix"]) is None
        for method, path in operations:
            response = await _call(cached_client, method, path, headers)
            assert response.status_code == 401, (method, path, response.text[:200])
            assert "revoked" in response.json()["detail"]


async def test_other_replica_forgets_a_revoked_key_within_its_ttl(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """Two replicas on one database: the revoking one refuses at once, the other after its TTL."""
    path = tmp_path / "replicas.db"
    shutil.copyfile(sqlite_template, path)
    settings = Settings(
        database_url=f"sqlite:///{path}",
        environment="test",
        log_level="WARNING",
        jobs_enabled=False,
    )
    ttl = settings.auth_cache_seconds
    first, second = create_app(settings), create_app(settings)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        admin = {"Authorization": f"Bearer {await make_key(first, 'admin', ['admin'])}"}
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
            for app in (first, second)
        ]
        async with clients[0] as one, clients[1] as two:
            created = (
                await one.post(
                    "/v1/api-keys", json={"name": "shared", "scopes": ["read"]}, headers=admin
                )
            ).json()
            headers = {"X-API-Key": created["key"]}
            assert (await one.get("/v1/outlets", headers=headers)).status_code == 200
            assert (await two.get("/v1/outlets", headers=headers)).status_code == 200
            loop = asyncio.get_running_loop()
            revoked_at = loop.time()
            assert (
                await one.delete(f"/v1/api-keys/{created['id']}", headers=admin)
            ).status_code == 200
            assert (await one.get("/v1/outlets", headers=headers)).status_code == 401
            # Documented: the other replica may still trust its cached entry within the TTL ...
            still = await two.get("/v1/outlets", headers=headers)
            assert still.status_code in (200, 401)
            # ... and never after it.
            await asyncio.sleep(max(0.0, ttl - (loop.time() - revoked_at)) + 0.2)
            late = await two.get("/v1/outlets", headers=headers)
            assert late.status_code == 401
            assert "revoked" in late.json()["detail"]


REVOCATION_TRIALS = 5
REVOCATION_CLIENTS = 16
REQUESTS_AFTER_REVOCATION = 2


@pytest.fixture(params=["sqlite", "postgresql"])
def server_database(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A database of its own for a real server: a copied SQLite file or a new PostgreSQL one."""
    if request.param == "sqlite":
        shutil.copyfile(sqlite_template, tmp_path / "server.db")
        return f"sqlite:///{tmp_path / 'server.db'}"
    url: str = request.getfixturevalue("own_postgres_database")
    return url


async def test_revocation_holds_at_once_under_concurrent_requests(server_database: str) -> None:
    """16 clients use a key while it is revoked: every request sent after the DELETE returned
    is refused, on the replica that revoked it, with the key cache on (its default TTL)."""
    seeded = seed_database(server_database)
    with ServerThread(make_settings(server_database, auth_cache_seconds=5)) as server:
        async with httpx.AsyncClient(
            base_url=server.base_url, headers=seeded.headers, timeout=30
        ) as admin:
            for trial in range(REVOCATION_TRIALS):
                late = await _revoke_while_in_use(server.base_url, admin, f"victim-{trial}")
                assert len(late) == REVOCATION_CLIENTS * REQUESTS_AFTER_REVOCATION
                assert set(late) == {401}, (trial, sorted(late))


async def _revoke_while_in_use(base_url: str, admin: httpx.AsyncClient, name: str) -> list[int]:
    """Revoke a new key once every client has used it; the statuses of requests sent after."""
    created = await admin.post("/v1/api-keys", json={"name": name, "scopes": ["read"]})
    assert created.status_code == 201, created.text
    key = created.json()
    revoked, all_warm = asyncio.Event(), asyncio.Event()
    warm: set[int] = set()
    late: list[int] = []

    async def use_key(index: int, http: httpx.AsyncClient) -> None:
        after = 0
        for _ in range(500):  # bounded; ends long before in practice
            sent_after_revocation = revoked.is_set()
            response = await http.get("/v1/outlets", headers={"X-API-Key": key["key"]})
            warm.add(index)
            if len(warm) == REVOCATION_CLIENTS:
                all_warm.set()
            if sent_after_revocation:
                late.append(response.status_code)
                after += 1
                if after == REQUESTS_AFTER_REVOCATION:
                    return

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30)
        for _ in range(REVOCATION_CLIENTS)
    ]
    try:
        async with asyncio.timeout(60):
            tasks = [asyncio.create_task(use_key(n, http)) for n, http in enumerate(clients)]
            await all_warm.wait()
            deleted = await admin.delete(f"/v1/api-keys/{key['id']}")
            revoked.set()
            await asyncio.gather(*tasks)
    finally:
        for http in clients:
            await http.aclose()
    assert deleted.status_code == 200, deleted.text
    return late


# --- No key material in logs --------------------------------------------------------------------


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_keys_never_appear_in_logs(database_url: str) -> None:
    settings = Settings(
        database_url=database_url,
        environment="test",
        log_level="DEBUG",
        access_log=True,
        jobs_enabled=False,
    )
    app = create_app(settings)
    collect = _Collect()
    root = logging.getLogger()
    root.addHandler(collect)
    secrets: list[str] = []
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                admin_key = await make_key(app, "log-admin", list(SCOPES))
                secrets.append(admin_key)
                admin = {"Authorization": f"Bearer {admin_key}"}
                await create_outlet(client, admin)
                claim = await create_claim(client, admin)
                created = await client.post(
                    "/v1/api-keys", json={"name": "logged", "scopes": ["read"]}, headers=admin
                )
                reader_key = created.json()["key"]
                secrets.append(reader_key)
                reader = {"X-API-Key": reader_key}
                broken = admin | {"content-type": "application/json"}
                requests = [
                    ("GET", f"/v1/claims/{claim['id']}", reader, None),  # 200
                    ("POST", "/v1/outlets", reader, {}),  # 403
                    ("GET", "/v1/outlets", {"X-API-Key": reader_key + "x"}, None),  # 401
                    ("GET", "/v1/outlets", {"Authorization": f"Bearer x{reader_key}"}, None),
                    ("GET", "/v1/outlets", {"Authorization": f"Token {reader_key}"}, None),
                    ("POST", "/v1/claims", admin, {"text": "missing fields"}),  # 422
                    ("GET", "/v1/outlets/%C2%B9", admin, None),  # 500 today (a bug), else 404
                    ("GET", "/v1/nowhere", admin, None),  # 404
                ]
                statuses = [
                    (await client.request(method, url, headers=headers, json=body)).status_code
                    for method, url, headers, body in requests
                ]
                statuses.append(
                    (
                        await client.post("/v1/claims", content=b'{"broken', headers=broken)
                    ).status_code
                )
                await client.delete(f"/v1/api-keys/{created.json()['id']}", headers=admin)
                statuses.append((await client.get("/v1/outlets", headers=reader)).status_code)
    finally:
        root.removeHandler(collect)
    assert {200, 400, 401, 403, 404, 422} <= set(statuses), statuses
    text = "\n".join(collect.lines)
    assert '"logger":"credscore.access"' in text, "the access log was not captured"
    assert any('"status":401' in line for line in collect.lines)
    assert any('"status":422' in line for line in collect.lines)
    for secret in secrets:
        secret_part = secret.split("_", 2)[2]
        assert secret not in text
        assert secret_part not in text
        assert secret_part[:24] not in text


async def test_a_key_sent_as_request_id_is_neither_echoed_nor_logged(database_url: str) -> None:
    settings = Settings(
        database_url=database_url, environment="test", log_level="INFO", jobs_enabled=False
    )
    app = create_app(settings)
    collect = _Collect()
    root = logging.getLogger()
    root.addHandler(collect)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                key = await make_key(app, "mixed-up", list(SCOPES))
                responses = [
                    await client.get("/v1/outlets", headers={"X-Request-ID": key} | auth)
                    for auth in ({"X-API-Key": key}, {})
                ]
                plain = await client.get("/healthz", headers={"X-Request-ID": "desk-42"})
    finally:
        root.removeHandler(collect)
    assert [response.status_code for response in responses] == [200, 401]
    for response in responses:
        echoed = response.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", echoed), echoed
        assert response.headers.get("content-type", "").endswith("json")
        assert key not in response.text
    assert plain.headers["x-request-id"] == "desk-42"
    text = "\n".join(collect.lines)
    assert '"logger":"credscore.access"' in text
    assert key.split("_", 2)[2] not in text


async def test_names_of_active_keys_are_unique(
    cached_app: Any, cached_client: httpx.AsyncClient
) -> None:
    """Names show as created_by: an admin cannot take the demo key's name, or the CLI's."""
    admin = {"X-API-Key": await make_key(cached_app, "demo-admin", ["admin"])}

    async def create(name: str) -> httpx.Response:
        return await cached_client.post(
            "/v1/api-keys", json={"name": name, "scopes": ["read"]}, headers=admin
        )

    for name in ("demo-admin", "cli"):
        refused = await create(name)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    racing = await asyncio.gather(*(create("desk-tool") for _ in range(8)))
    assert sorted(response.status_code for response in racing) == [201] + [409] * 7
    (winner,) = [response.json() for response in racing if response.status_code == 201]
    assert winner["created_by"] == "demo-admin"
    assert (await create("desk-tool")).status_code == 409
    revoked = await cached_client.delete(f"/v1/api-keys/{winner['id']}", headers=admin)
    assert revoked.status_code == 200
    assert (await create("desk-tool")).status_code == 201  # free again once revoked
    listed = (await cached_client.get("/v1/api-keys?limit=100", headers=admin)).json()["items"]
    active = [key["name"] for key in listed if key["revoked_at"] is None]
    assert len(active) == len(set(active))
