from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from service.audit.models import AuditEntry
from tests.service.factories import create_claim, create_outlet, record_verdict


class TestRecordVerdict:
    async def test_false_verdict_lowers_later_scores_and_keeps_history(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        await create_outlet(client, admin_headers, "monitor", kind="ngo_monitor")
        for _ in range(4):
            past = await create_claim(
                client, admin_headers, "monitor", published_at="2023-01-01T00:00:00Z"
            )
            await record_verdict(client, admin_headers, past["id"], "true", "2023-02-01T00:00:00Z")
        before = await create_claim(
            client, admin_headers, "monitor", published_at="2024-03-01T00:00:00Z"
        )
        target = await create_claim(
            client, admin_headers, "monitor", published_at="2024-03-02T00:00:00Z"
        )

        recorded = await record_verdict(
            client, admin_headers, target["id"], "false", "2024-04-01T00:00:00Z"
        )
        assert recorded["rating"] == "false"
        assert recorded["outlet_reliability"]["trigger"] == "verdict.recorded"

        after = await create_claim(
            client, admin_headers, "monitor", published_at="2024-05-01T00:00:00Z"
        )
        assert after["score"]["probability"] < before["score"]["probability"]
        # The earlier claim's stored score is history: untouched by the later verdict.
        again = (await client.get(f"/v1/claims/{before['id']}", headers=admin_headers)).json()
        assert again["score"] == before["score"]
        history = (
            await client.get("/v1/outlets/monitor/reliability/history", headers=admin_headers)
        ).json()["items"]
        assert len(history) == 5
        assert history[-1]["probability"] < history[-2]["probability"]
        # Oldest first: without an ORDER BY, PostgreSQL may return rows in any order.
        rows = await session.execute(
            select(AuditEntry).where(AuditEntry.action == "verdict.create").order_by(AuditEntry.id)
        )
        audit = rows.scalars().all()
        assert len(audit) == 5
        assert audit[-1].after["rating"] == "false"

    async def test_no_future_leak(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        old = await create_claim(client, admin_headers, published_at="2020-01-01T00:00:00Z")
        for _ in range(3):
            await record_verdict(client, admin_headers, old["id"], "false", "2021-01-01T00:00:00Z")
        # A claim published before the verdicts were decided scores as if they did not exist.
        earlier = await create_claim(client, admin_headers, published_at="2020-06-01T00:00:00Z")
        later = await create_claim(client, admin_headers, published_at="2021-06-01T00:00:00Z")
        assert earlier["score"]["probability"] == old["score"]["probability"]
        assert earlier["score"]["grade"] == "unrated"
        assert later["score"]["probability"] < earlier["score"]["probability"]

    async def test_unverifiable_changes_nothing(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        claim = await create_claim(client, admin_headers)
        before = (
            await client.get("/v1/outlets/test-wire/reliability", headers=admin_headers)
        ).json()
        await record_verdict(client, admin_headers, claim["id"], "unverifiable")
        after = (
            await client.get("/v1/outlets/test-wire/reliability", headers=admin_headers)
        ).json()
        assert after["probability"] == before["probability"]
        assert after["evidence"] == 0

    async def test_verdict_before_claim_or_in_future_is_422(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        claim = await create_claim(client, admin_headers, published_at="2024-05-01T00:00:00Z")
        for decided_at, kind in (
            ("2024-04-01T00:00:00Z", "before_claim"),
            ("2999-01-01T00:00:00Z", "future_timestamp"),
        ):
            response = await client.post(
                f"/v1/claims/{claim['id']}/verdicts",
                json={"rating": "true", "source": "desk", "decided_at": decided_at},
                headers=admin_headers,
            )
            assert response.status_code == 422
            assert response.json()["errors"][0]["type"] == kind

    async def test_unknown_rating_and_claim(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        body = {"rating": "pants-on-fire", "source": "desk", "decided_at": "2024-01-01T00:00:00Z"}
        assert (
            await client.post("/v1/claims/1/verdicts", json=body, headers=admin_headers)
        ).status_code == 422
        body["rating"] = "false"
        assert (
            await client.post("/v1/claims/99/verdicts", json=body, headers=admin_headers)
        ).status_code == 404

    async def test_list_verdicts(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], read_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        claim = await create_claim(client, admin_headers)
        await record_verdict(client, admin_headers, claim["id"], "mostly-true")
        await record_verdict(client, admin_headers, claim["id"], "true")
        listed = (
            await client.get(f"/v1/claims/{claim['id']}/verdicts", headers=read_headers)
        ).json()
        assert [item["rating"] for item in listed["items"]] == ["mostly-true", "true"]
