"""Reconciliation through the API, and the verdict feedback loop that keeps it current."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from service.app import create_app
from service.jobs.models import Job
from service.scores.models import Score
from service.settings import Settings
from tests.service.factories import (
    create_claim,
    create_outlet,
    recent_track_record,
    record_verdict,
)

STRIKES = {
    "title": "Civilians killed by strikes, night of 2017-08-21",
    "quantity_kind": "civilian_deaths",
    "unit": "people",
    "conflict": "syria-2017",
}


async def raqqa(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    await create_outlet(client, headers, "activists", kind="activist_network")
    await create_outlet(client, headers, "monitor", kind="ngo_monitor")
    await create_outlet(
        client, headers, "state-tv", kind="state_media", conflict_parties=["syria-2017"]
    )
    await recent_track_record(client, headers, "activists", ["true"] * 6)
    await recent_track_record(client, headers, "monitor", ["true"] * 6)
    await recent_track_record(client, headers, "state-tv", ["false"] * 6)
    event: dict[str, Any] = (await client.post("/v1/events", json=STRIKES, headers=headers)).json()
    for slug, value in (("activists", 37), ("monitor", 42), ("state-tv", 78)):
        await create_claim(
            client,
            headers,
            slug,
            event_id=event["id"],
            figure={"value": value},
            published_at="2017-08-22T10:00:00Z",
        )
    return event


async def consensus(client: httpx.AsyncClient, headers: dict[str, str], event_id: int) -> Any:
    response = await client.get(f"/v1/events/{event_id}/consensus", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


class TestConsensus:
    async def test_raqqa_consensus_near_independent_sources_state_media_down_weighted(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        event = await raqqa(client, admin_headers)
        pending = await consensus(client, admin_headers, event["id"])
        assert pending["status"] == "pending"
        assert pending["stale"] is True

        await app.state.jobs.drain()
        result = await consensus(client, admin_headers, event["id"])
        assert result["status"] == "consensus"
        assert result["stale"] is False
        assert 37 <= result["estimate"] <= 42
        assert result["interval"]["high"] < 78
        weights = {source["outlet_slug"]: source for source in result["sources"]}
        assert weights["state-tv"]["party"] is True
        assert weights["monitor"]["party"] is False
        assert weights["state-tv"]["weight"] < weights["monitor"]["weight"] / 3
        by_outlet = {claim["outlet_slug"]: claim for claim in result["claims"]}
        assert by_outlet["state-tv"]["agreement"] < 0.1
        assert by_outlet["state-tv"]["relative_distance"] > 0.4
        assert by_outlet["activists"]["agreement"] > 0.5

        listed = await client.get(
            "/v1/events", params={"status": "consensus"}, headers=admin_headers
        )
        assert [item["id"] for item in listed.json()["items"]] == [event["id"]]

    async def test_two_credible_far_apart_figures_are_contested(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers, "wire-a")
        await create_outlet(client, admin_headers, "wire-b")
        await recent_track_record(client, admin_headers, "wire-a", ["true"] * 5)
        await recent_track_record(client, admin_headers, "wire-b", ["true"] * 5)
        event = (await client.post("/v1/events", json=STRIKES, headers=admin_headers)).json()
        for slug, value in (("wire-a", 12), ("wire-b", 300)):
            await create_claim(
                client, admin_headers, slug, event_id=event["id"], figure={"value": value}
            )
        await app.state.jobs.drain()
        assert (await consensus(client, admin_headers, event["id"]))["status"] == "contested"

    async def test_one_source_is_insufficient(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        event = (await client.post("/v1/events", json=STRIKES, headers=admin_headers)).json()
        await create_claim(
            client, admin_headers, event_id=event["id"], figure={"low": 10, "high": 20}
        )
        await app.state.jobs.drain()
        result = await consensus(client, admin_headers, event["id"])
        assert result["status"] == "insufficient"
        assert result["independent_reports"] == 1

    async def test_owner_copies_count_once(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        for slug in ("chain-1", "chain-2", "chain-3"):
            await create_outlet(client, admin_headers, slug, owner="one media group")
        await create_outlet(client, admin_headers, "independent-a")
        await create_outlet(client, admin_headers, "independent-b")
        event = (await client.post("/v1/events", json=STRIKES, headers=admin_headers)).json()
        for slug, value in (("chain-1", 90), ("chain-2", 90), ("chain-3", 90)):
            await create_claim(
                client, admin_headers, slug, event_id=event["id"], figure={"value": value}
            )
        for slug in ("independent-a", "independent-b"):
            await create_claim(
                client, admin_headers, slug, event_id=event["id"], figure={"value": 40}
            )
        await app.state.jobs.drain()
        result = await consensus(client, admin_headers, event["id"])
        assert result["independent_reports"] == 3
        assert result["estimate"] == 40

    async def test_conditional_get_gives_304(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        event = await raqqa(client, admin_headers)
        await app.state.jobs.drain()
        first = await client.get(f"/v1/events/{event['id']}/consensus", headers=admin_headers)
        again = await client.get(
            f"/v1/events/{event['id']}/consensus",
            headers=admin_headers | {"If-None-Match": first.headers["ETag"]},
        )
        assert again.status_code == 304
        assert again.content == b""


class TestFeedbackLoop:
    async def test_verdict_rescores_open_claims_and_recomputes_consensus(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        event = await raqqa(client, admin_headers)
        await app.state.jobs.drain()
        before = await consensus(client, admin_headers, event["id"])
        monitor_claim = next(c for c in before["claims"] if c["outlet_slug"] == "monitor")
        open_claim = (
            await client.get(f"/v1/claims/{monitor_claim['claim_id']}", headers=admin_headers)
        ).json()
        other_open = await create_claim(
            client,
            admin_headers,
            "monitor",
            text="Another report",
            published_at=(datetime.now(UTC) - timedelta(days=1)).isoformat(),
        )
        assert other_open["score_stale"] is False

        # The monitor's earlier claims turn out false, one after the other.
        past = (
            await client.get(
                "/v1/claims", params={"outlet": "monitor", "limit": 3}, headers=admin_headers
            )
        ).json()["items"]
        for claim in past:
            await record_verdict(
                client, admin_headers, claim["id"], "false", datetime.now(UTC).isoformat()
            )

        # Until the background jobs run, the API says which scores and consensus are stale.
        stale = (await client.get(f"/v1/claims/{other_open['id']}", headers=admin_headers)).json()
        assert stale["score_stale"] is True
        assert stale["score"] == other_open["score"]
        assert (await consensus(client, admin_headers, event["id"]))["stale"] is True
        pending = await session.scalar(
            select(func.count()).select_from(Job).where(Job.status == "pending")
        )
        assert pending >= 2

        await app.state.jobs.drain()

        fresh = (await client.get(f"/v1/claims/{other_open['id']}", headers=admin_headers)).json()
        assert fresh["score_stale"] is False
        assert fresh["score"]["probability"] < other_open["score"]["probability"]
        assert fresh["score"]["trigger"] == "verdict.recorded"
        history = (
            await client.get(f"/v1/claims/{other_open['id']}/scores", headers=admin_headers)
        ).json()["items"]
        assert history[0] == other_open["score"]
        assert len(history) >= 2

        event_claim = (
            await client.get(f"/v1/claims/{open_claim['id']}", headers=admin_headers)
        ).json()
        assert event_claim["score"]["probability"] < open_claim["score"]["probability"]

        after = await consensus(client, admin_headers, event["id"])
        assert after["stale"] is False
        assert after["id"] > before["id"]
        weight = {s["outlet_slug"]: s["weight"] for s in after["sources"]}
        old_weight = {s["outlet_slug"]: s["weight"] for s in before["sources"]}
        assert weight["monitor"] < old_weight["monitor"]
        history_rows = (
            await client.get(f"/v1/events/{event['id']}/consensus/history", headers=admin_headers)
        ).json()["items"]
        assert history_rows[0]["id"] == before["id"]
        assert history_rows[-1]["id"] == after["id"]

        # Claims with their own verdict are closed: not re-scored.
        closed_history = (
            await client.get(f"/v1/claims/{past[0]['id']}/scores", headers=admin_headers)
        ).json()["items"]
        assert len(closed_history) == 1

    async def test_unchanged_scores_get_no_new_rows(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        await create_outlet(client, admin_headers)
        claim = await create_claim(client, admin_headers)
        other = await create_claim(client, admin_headers)
        await record_verdict(client, admin_headers, other["id"], "unverifiable")
        rows_before = await session.scalar(select(func.count()).select_from(Score))
        await app.state.jobs.drain()
        rows_after = await session.scalar(select(func.count()).select_from(Score))
        assert rows_after == rows_before
        fetched = (await client.get(f"/v1/claims/{claim['id']}", headers=admin_headers)).json()
        assert fetched["score_stale"] is False


async def test_worker_runs_in_the_background(settings: Settings) -> None:
    background = settings.model_copy(update={"jobs_enabled": True, "jobs_poll_seconds": 0.2})
    app = create_app(background)
    async with app.router.lifespan_context(app):
        from tests.conftest import make_key

        key = await make_key(app, "bg-admin", ["read", "submit", "admin"])
        headers = {"Authorization": f"Bearer {key}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            event = await raqqa(client, headers)
            for _ in range(100):
                result = await consensus(client, headers, event["id"])
                if result["status"] != "pending" and not result["stale"]:
                    break
                await asyncio.sleep(0.05)
            assert result["status"] == "consensus"
