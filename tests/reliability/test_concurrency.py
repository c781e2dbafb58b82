"""Real concurrent requests against the service under uvicorn, on PostgreSQL.

The app runs in a background thread on 127.0.0.1:<free port>; the test fires many requests at
once, each on its own HTTP connection, so they really overlap inside the server and in the
database (row locks, unique indexes), as they would from several clients.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from service.audit.models import AuditEntry
from service.claims.models import Claim
from service.claims.service import stored_idempotency_keys
from service.scores.models import Score
from tests.reliability.conftest import ServerThread, count_rows, make_settings, seed_database
from tests.service.factories import claim_body

pytestmark = pytest.mark.postgres

WRITERS = 16
ROUNDS = 3


def _client(base_url: str, headers: dict[str, str]) -> httpx.AsyncClient:
    # One connection per in-flight request: no request waits behind another on the client side.
    limits = httpx.Limits(max_connections=WRITERS * 2, max_keepalive_connections=0)
    return httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=30)


async def _all_at_once(calls: list[Any]) -> list[httpx.Response]:
    async with asyncio.timeout(60):
        return list(await asyncio.gather(*calls))


async def test_concurrent_patches_with_one_etag_have_exactly_one_winner(
    own_postgres_database: str,
) -> None:
    url = own_postgres_database
    seeded = seed_database(url)
    with ServerThread(make_settings(url)) as server:
        async with _client(server.base_url, seeded.headers) as client:
            for round_number in range(ROUNDS):
                current = await client.get("/v1/outlets/test-wire")
                assert current.status_code == 200
                etag = current.headers["etag"]
                version = current.json()["version"]
                names = [f"Writer {round_number}-{index}" for index in range(WRITERS)]
                responses = await _all_at_once(
                    [
                        client.patch(
                            "/v1/outlets/test-wire",
                            json={"name": name, "notes": f"by {name}"},
                            headers={"If-Match": etag},
                        )
                        for name in names
                    ]
                )
                statuses = Counter(response.status_code for response in responses)
                assert statuses == {200: 1, 412: WRITERS - 1}, statuses
                for response in responses:
                    if response.status_code == 412:
                        assert response.headers["content-type"] == "application/problem+json"
                        assert response.json()["type"] == "/problems/precondition-failed"
                (winner,) = [response for response in responses if response.status_code == 200]
                won = winner.json()
                assert won["version"] == version + 1
                # No lost update: what is stored is exactly the winner's write, whole.
                final = await client.get("/v1/outlets/test-wire")
                assert final.json()["name"] == won["name"]
                assert final.json()["notes"] == f"by {won['name']}"
                assert final.json()["version"] == version + 1
                assert final.headers["etag"] == winner.headers["etag"] != etag
    updates = count_rows(url, AuditEntry, AuditEntry.action == "outlet.update")
    assert updates == ROUNDS


async def test_concurrent_retries_with_one_idempotency_key_store_one_claim(
    own_postgres_database: str,
) -> None:
    url = own_postgres_database
    seeded = seed_database(url)
    claims_before = count_rows(url, Claim)
    scores_before = count_rows(url, Score)
    body = claim_body(text="Retried under a flaky network: must be stored once.")
    with ServerThread(make_settings(url)) as server:
        async with _client(server.base_url, seeded.headers) as client:
            responses = await _all_at_once(
                [
                    client.post("/v1/claims", json=body, headers={"Idempotency-Key": "retry-1"})
                    for _ in range(WRITERS)
                ]
            )
            statuses = Counter(response.status_code for response in responses)
            assert statuses == {201: 1, 200: WRITERS - 1}, (
                statuses,
                [response.text[:200] for response in responses if response.status_code >= 300],
            )
            assert {response.json()["id"] for response in responses} == {responses[0].json()["id"]}
            replays = [response for response in responses if response.status_code == 200]
            assert all(response.headers["idempotent-replayed"] == "true" for response in replays)

            batch = {"claims": [claim_body(text=f"Batch item {index}.") for index in range(3)]}
            batches = await _all_at_once(
                [
                    client.post(
                        "/v1/claims/batch", json=batch, headers={"Idempotency-Key": "batch-1"}
                    )
                    for _ in range(WRITERS)
                ]
            )
            statuses = Counter(response.status_code for response in batches)
            assert statuses == {201: 1, 200: WRITERS - 1}, statuses
            ids = {tuple(item["id"] for item in r.json()["items"]) for r in batches}
            assert len(ids) == 1

    claim_id = responses[0].json()["id"]
    assert count_rows(url, Claim) == claims_before + 1 + 3
    (single,) = stored_idempotency_keys("retry-1", 1, batch=False)
    assert count_rows(url, Claim, Claim.idempotency_key == single) == 1
    batch_keys = stored_idempotency_keys("batch-1", 3, batch=True)
    assert count_rows(url, Claim, Claim.idempotency_key.in_(batch_keys)) == 3
    # Each stored claim was scored once: the losers' work was rolled back, not half-kept.
    assert count_rows(url, Score) == scores_before + 1 + 3
    assert count_rows(url, Score, Score.claim_id == claim_id) == 1


async def test_concurrent_different_bodies_with_one_key_store_one_and_refuse_the_rest(
    own_postgres_database: str,
) -> None:
    url = own_postgres_database
    seeded = seed_database(url)
    before = count_rows(url, Claim)
    with ServerThread(make_settings(url)) as server:
        async with _client(server.base_url, seeded.headers) as client:
            responses = await _all_at_once(
                [
                    client.post(
                        "/v1/claims",
                        json=claim_body(text=f"Different body {index}."),
                        headers={"Idempotency-Key": "reused"},
                    )
                    for index in range(WRITERS)
                ]
            )
    statuses = Counter(response.status_code for response in responses)
    assert statuses[201] == 1, statuses
    assert statuses[201] + statuses[422] == WRITERS, statuses
    refused = [response.json() for response in responses if response.status_code == 422]
    assert {problem["type"] for problem in refused} == {"/problems/idempotency-key-reused"}
    (stored,) = [response.json() for response in responses if response.status_code == 201]
    assert count_rows(url, Claim) == before + 1
    assert count_rows(url, Claim, Claim.text == stored["text"]) == 1
