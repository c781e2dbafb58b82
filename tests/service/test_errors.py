"""Bad input of every shape gets a clear problem+json 4xx, never a 500, never a partial write."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from service.claims.models import Claim
from service.outlets.models import Outlet
from tests.service.factories import claim_body, create_outlet, outlet_body

JSON = {"content-type": "application/json"}


async def stored(session: Any, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)))


async def test_malformed_json_is_400(
    client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
) -> None:
    response = await client.post(
        "/v1/outlets", content=b'{"slug": "x", ', headers=admin_headers | JSON
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/malformed-json"
    assert await stored(session, Outlet) == 0


async def test_invalid_utf8_is_4xx(
    client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
) -> None:
    response = await client.post(
        "/v1/outlets",
        content=b'{"slug": "\xff\xfe", "name": "x", "kind": "wire"}',
        headers=admin_headers | JSON,
    )
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"
    assert await stored(session, Outlet) == 0


async def test_wrong_types_name_each_field(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/outlets", json={"slug": 5, "name": ["x"], "kind": "wire"}, headers=admin_headers
    )
    assert response.status_code == 422
    problem = response.json()
    assert {tuple(error["loc"]) for error in problem["errors"]} == {
        ("body", "slug"),
        ("body", "name"),
    }
    assert problem["detail"] == "The request has 2 invalid fields."


async def test_oversize_body_is_413(
    client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
) -> None:
    await create_outlet(client, admin_headers)
    body = claim_body(text="x" * 3_000_000)
    response = await client.post("/v1/claims", json=body, headers=admin_headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert await stored(session, Claim) == 0


async def test_deeply_nested_json_is_4xx(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    response = await client.post("/v1/outlets", content=deep.encode(), headers=admin_headers | JSON)
    assert 400 <= response.status_code < 500


async def test_wrong_content_type_is_4xx(
    client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
) -> None:
    response = await client.post(
        "/v1/outlets",
        content=b"slug=x&name=y",
        headers=admin_headers | {"content-type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= response.status_code < 500
    assert await stored(session, Outlet) == 0


async def test_huge_integers_are_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    body = claim_body(figure={"value": 10**400})
    response = await client.post("/v1/claims", json=body, headers=admin_headers)
    assert response.status_code == 422
    body = claim_body(event_id=2**63)
    response = await client.post("/v1/claims", json=body, headers=admin_headers)
    assert response.status_code == 422


async def test_sql_and_html_are_stored_inert(
    client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
) -> None:
    hostile = "Robert'); DROP TABLE outlets;-- <script>alert(1)</script>"
    await create_outlet(client, admin_headers, notes=hostile)
    fetched = await client.get("/v1/outlets/test-wire", headers=admin_headers)
    assert fetched.json()["notes"] == hostile
    assert fetched.headers["content-type"] == "application/json"
    assert await stored(session, Outlet) == 1


async def test_unknown_route_and_method(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    missing = await client.get("/v1/nothing", headers=admin_headers)
    assert missing.status_code == 404
    assert missing.json()["type"] == "/problems/not-found"
    wrong_method = await client.put("/v1/outlets", json=outlet_body(), headers=admin_headers)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == "application/problem+json"


async def test_openapi_declares_problem_responses(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "Problem" in schema["components"]["schemas"]
    create = schema["paths"]["/v1/claims"]["post"]
    assert "application/problem+json" in create["responses"]["422"]["content"]
    assert "application/json" not in create["responses"]["422"]["content"]
    assert {"401", "403", "422"} <= set(create["responses"])
    header_names = {param["name"] for param in create["parameters"]}
    assert "Idempotency-Key" in header_names or "idempotency-key" in header_names
