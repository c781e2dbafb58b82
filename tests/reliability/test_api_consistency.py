"""One consistent API: what a first-time user tripped over (issue 10).

Unknown query parameters are refused by name; one thing has one name; lists read newest first
and revalidate with ETags; timestamps a client leaves out default to the time of receipt.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.reliability.test_bad_input import assert_problem
from tests.service.factories import create_claim, create_outlet


def _get_operations(app: Any) -> list[str]:
    return [
        re.sub(r"\{[^}]+\}", "1", path)
        for path, item in app.openapi()["paths"].items()
        if "get" in item and path.startswith("/v1/")
    ]


async def test_unknown_query_parameters_are_422_naming_them(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    await create_claim(client, admin_headers)
    for path in _get_operations(app):
        response = await client.get(
            path, params={"outlt": "sohr", "sort": "x"}, headers=admin_headers
        )
        problem = assert_problem(response, 422)
        assert [error["loc"] for error in problem["errors"]] == [
            ["query", "outlt"],
            ["query", "sort"],
        ], path
        assert "outlt" in problem["detail"]
        assert "sort" in problem["detail"]
    # Known parameters still work, and a POST's query string is checked as well.
    assert (await client.get("/v1/claims?limit=5", headers=admin_headers)).status_code == 200
    posted = await client.post("/v1/events?dry_run=1", json={"title": "E"}, headers=admin_headers)
    assert assert_problem(posted, 422)["errors"][0]["loc"] == ["query", "dry_run"]


async def test_claims_are_filtered_by_the_outlet_reference_they_are_created_with(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    wire = await create_outlet(client, admin_headers, "sohr")
    await create_outlet(client, admin_headers, "sana")
    mine = await create_claim(client, admin_headers, "sohr")
    await create_claim(client, admin_headers, "sana")

    async def ids(**params: Any) -> list[int]:
        page = await client.get("/v1/claims", params=params, headers=admin_headers)
        assert page.status_code == 200, page.text
        return [item["id"] for item in page.json()["items"]]

    expected = [mine["id"]]
    assert await ids(outlet_slug="sohr") == expected  # was ignored: every claim came back
    assert await ids(outlet_id=wire["id"]) == expected
    assert await ids(outlet="sohr") == await ids(outlet=str(wire["id"])) == expected
    assert await ids(outlet_slug="nobody") == []
    both = await client.get(
        "/v1/claims", params={"outlet_slug": "sohr", "outlet_id": wire["id"]}, headers=admin_headers
    )
    assert assert_problem(both, 422)["errors"][0]["loc"][0] == "query"


async def test_an_outlets_reliability_has_one_name_everywhere(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    claim = await create_claim(client, admin_headers)
    verdict = await client.post(
        f"/v1/claims/{claim['id']}/verdicts",
        json={"rating": "true", "source": "desk", "decided_at": "2024-06-01T00:00:00Z"},
        headers=admin_headers,
    )
    assert verdict.status_code == 201, verdict.text
    embedded = verdict.json()["outlet_reliability"]
    now = (await client.get("/v1/outlets/test-wire/reliability", headers=admin_headers)).json()
    history = await client.get("/v1/outlets/test-wire/reliability/history", headers=admin_headers)
    stored = history.json()["items"][-1]
    for document in (embedded, now, stored):
        assert 0 <= document["probability"] <= 1
        assert "mean" not in document
    assert embedded["probability"] == stored["probability"]
    schemas = app.openapi()["components"]["schemas"]
    assert "probability" in schemas["ReliabilityRead"]["properties"]
    assert "mean" not in schemas["ReliabilityRead"]["properties"]


def _lists(app: Any) -> list[str]:
    return [
        re.sub(r"\{[^}]+\}", "1", path)
        for path, item in app.openapi()["paths"].items()
        if "get" in item
        and any(parameter["name"] == "order" for parameter in item["get"].get("parameters", []))
    ]


async def test_every_list_reads_newest_first_with_order_desc(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    assert len(_lists(app)) >= 10
    await create_outlet(client, admin_headers)
    created = [
        (await create_claim(client, admin_headers, text=f"Claim {n}."))["id"] for n in range(5)
    ]
    newest_first: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"order": "desc", "limit": 2} | (
            {"cursor": cursor} if cursor else {}
        )
        page = (await client.get("/v1/claims", params=params, headers=admin_headers)).json()
        newest_first += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert newest_first == sorted(created, reverse=True)
    oldest_first = await client.get("/v1/claims", params={"limit": 2}, headers=admin_headers)
    assert [item["id"] for item in oldest_first.json()["items"]] == sorted(created)[:2]
    # A cursor continues in the order it was issued for, never silently in the other one.
    asc_cursor = oldest_first.json()["next_cursor"]
    mixed = await client.get(
        "/v1/claims", params={"order": "desc", "cursor": asc_cursor}, headers=admin_headers
    )
    assert assert_problem(mixed, 422)["errors"][0]["loc"] == ["query", "cursor"]
    await create_outlet(client, admin_headers, "second-wire")
    for title in ("First event", "Second event"):
        await client.post("/v1/events", json={"title": title}, headers=admin_headers)
    await client.post(
        "/v1/api-keys", json={"name": "other", "scopes": ["read"]}, headers=admin_headers
    )
    seen = 0
    for path in _lists(app):  # every list takes it (404 where the parent does not exist)
        path = path.replace("/claims/1/", f"/claims/{created[0]}/").replace(
            "/outlets/1/", "/outlets/test-wire/"
        )
        answers = [
            await client.get(path, params={"order": order}, headers=admin_headers)
            for order in ("asc", "desc")
        ]
        assert {answer.status_code for answer in answers} <= {200, 404}, path
        if answers[0].status_code == 200:
            ids = [[item["id"] for item in answer.json()["items"]] for answer in answers]
            assert ids[1] == sorted(ids[0], reverse=True), (path, ids)
            seen += len(ids[0]) >= 2
    assert seen >= 4  # outlets, claims, events, api keys at least
    bad = await client.get("/v1/claims", params={"order": "newest"}, headers=admin_headers)
    assert assert_problem(bad, 422)["errors"][0]["loc"] == ["query", "order"]


async def test_an_unchanged_list_revalidates_as_304(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    claim = await create_claim(client, admin_headers)
    for path in _lists(app):
        path = path.replace("/claims/1", f"/claims/{claim['id']}").replace(
            "/outlets/1", "/outlets/test-wire"
        )
        first = await client.get(path, headers=admin_headers)
        if first.status_code == 404:  # an event list of an event that does not exist
            continue
        assert first.status_code == 200, (path, first.text)
        assert first.headers["cache-control"] == "no-cache", path
        etag = first.headers["etag"]
        again = await client.get(path, headers=admin_headers | {"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.content == b""
        assert again.headers["etag"] == etag
    url = "/v1/claims?order=desc&limit=10"
    before = await client.get(url, headers=admin_headers)
    await create_claim(client, admin_headers, text="A new claim.")
    after = await client.get(url, headers=admin_headers | {"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert len(after.json()["items"]) == 2
    assert "304" in app.openapi()["paths"]["/v1/claims"]["get"]["responses"]


async def test_published_at_and_decided_at_default_to_the_time_of_receipt(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    body = {"outlet_slug": "test-wire", "text": "Strikes killed 12 civilians, officials said."}
    before = datetime.now(UTC)
    single = await client.post("/v1/claims", json=body, headers=admin_headers)
    batch = await client.post("/v1/claims/batch", json={"claims": [body]}, headers=admin_headers)
    preview = await client.post("/v1/score", json=body, headers=admin_headers)
    assert (single.status_code, batch.status_code, preview.status_code) == (201, 201, 200)
    verdict = await client.post(
        f"/v1/claims/{single.json()['id']}/verdicts",
        json={"rating": "mostly-true", "source": "desk"},
        headers=admin_headers,
    )
    assert verdict.status_code == 201, verdict.text
    after = datetime.now(UTC)
    for moment in (
        single.json()["published_at"],
        batch.json()["items"][0]["published_at"],
        preview.json()["as_of"],
        verdict.json()["decided_at"],
    ):
        assert before <= datetime.fromisoformat(moment) <= after, moment
    # Explicit values are checked as before.
    future = (after + timedelta(days=1)).isoformat()
    late = await client.post(
        "/v1/claims", json=body | {"published_at": future}, headers=admin_headers
    )
    assert assert_problem(late, 422)["errors"][0]["loc"] == ["body", "published_at"]
    early = await client.post(
        f"/v1/claims/{single.json()['id']}/verdicts",
        json={"rating": "true", "source": "desk", "decided_at": "2000-01-01T00:00:00Z"},
        headers=admin_headers,
    )
    assert assert_problem(early, 422)["errors"][0]["loc"] == ["body", "decided_at"]
    claim_schema = app.openapi()["components"]["schemas"]["ClaimCreate"]
    assert "published_at" not in claim_schema.get("required", [])
