"""Reconciliation through the API, and the verdict feedback loop that keeps it current."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from service.app import create_app
from service.jobs.models import Job
from service.jobs.service import RESCORE_OUTLET
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


async def desk_outlets(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """Activists and a monitor with good records; state TV, a party, with a poor one."""
    await create_outlet(client, headers, "activists", kind="activist_network")
    await create_outlet(client, headers, "monitor", kind="ngo_monitor")
    await create_outlet(
        client, headers, "state-tv", kind="state_media", conflict_parties=["syria-2017"]
    )
    await recent_track_record(client, headers, "activists", ["true"] * 6)
    await recent_track_record(client, headers, "monitor", ["true"] * 6)
    await recent_track_record(client, headers, "state-tv", ["false"] * 6)


async def raqqa(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    await desk_outlets(client, headers)
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

        await app.state.context.jobs.drain()
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

    async def test_one_source_is_insufficient(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        event = (await client.post("/v1/events", json=STRIKES, headers=admin_headers)).json()
        await create_claim(
            client, admin_headers, event_id=event["id"], figure={"low": 10, "high": 20}
        )
        await app.state.context.jobs.drain()
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
        await app.state.context.jobs.drain()
        result = await consensus(client, admin_headers, event["id"])
        assert result["independent_reports"] == 3
        assert result["estimate"] == 40

    async def test_conditional_get_gives_304(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        event = await raqqa(client, admin_headers)
        await app.state.context.jobs.drain()
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
        await app.state.context.jobs.drain()
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
        # Three verdicts on one outlet's claims: one re-score job, however many verdicts.
        pending = await session.execute(select(Job.kind).where(Job.status == "pending"))
        assert pending.scalars().all() == [RESCORE_OUTLET]

        await app.state.context.jobs.drain()

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
        await app.state.context.jobs.drain()
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


async def _event(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> Any:
    response = await client.post("/v1/events", json=STRIKES | overrides, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _figures(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    event_id: int,
    figures: list[tuple[str, float]],
    published_at: str = "2017-08-22T10:00:00Z",
) -> list[Any]:
    return [
        await create_claim(
            client,
            headers,
            slug,
            event_id=event_id,
            figure={"value": value},
            published_at=published_at,
        )
        for slug, value in figures
    ]


class TestOneSourceOneVote:
    """Issue 9's live scenario: repetition by one source cannot capture the consensus."""

    async def test_state_media_repeating_its_figure_does_not_move_the_consensus(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await desk_outlets(client, admin_headers)
        event = await _event(client, admin_headers)
        await _figures(
            client,
            admin_headers,
            event["id"],
            [("activists", 30), ("monitor", 31), ("state-tv", 90)],
        )
        await app.state.context.jobs.drain()
        before = await consensus(client, admin_headers, event["id"])
        assert before["status"] == "consensus"
        assert 30 <= before["estimate"] <= 31
        assert before["interval"] == {"low": 30, "high": 31}
        assert before["independent_reports"] == 3

        # The same 90, eight more times (the same published_at: the later id is the later claim).
        repeats = await _figures(client, admin_headers, event["id"], [("state-tv", 90)] * 8)
        await app.state.context.jobs.drain()
        after = await consensus(client, admin_headers, event["id"])
        assert after["id"] > before["id"]
        assert after["status"] == "consensus"
        assert 30 <= after["estimate"] <= 31
        assert after["interval"] == {"low": 30, "high": 31}
        assert after["independent_reports"] == 3
        assert after["confidence"] == pytest.approx(before["confidence"], abs=1e-6)
        assert after["confidence"] >= 0.8
        assert after["supporting_outlets"] == ["activists", "monitor"]

        state = [row for row in after["claims"] if row["outlet_slug"] == "state-tv"]
        assert len(state) == 9
        current = [row for row in state if not row["superseded"]]
        assert [row["claim_id"] for row in current] == [repeats[-1]["id"]]
        assert current[0]["weight"] > 0
        for row in state:
            if row["superseded"]:
                assert row["weight"] == 0
                assert "superseded by a later figure from the same source" in row["discounts"]
        weights = {source["outlet_slug"]: source["weight"] for source in after["sources"]}
        old_weights = {source["outlet_slug"]: source["weight"] for source in before["sources"]}
        assert weights["state-tv"] == pytest.approx(old_weights["state-tv"], abs=1e-6)
        assert weights["state-tv"] < weights["monitor"] / 3

        # Admiralty codes: the two independent sources confirm each other; state media is
        # contradicted by the consensus and has a poor record.
        codes = {row["outlet_slug"]: row["admiralty"] for row in after["claims"]}
        assert codes["activists"]["credibility"] == codes["monitor"]["credibility"] == 1
        assert codes["activists"]["reliability"] in {"A", "B"}
        assert codes["state-tv"]["credibility"] == 5
        assert codes["state-tv"]["reliability"] in {"D", "E"}
        by_outlet = {row["outlet_slug"]: row for row in after["claims"]}
        assert by_outlet["activists"]["corroboration"] == {
            "confirmations": 1,
            "copies_ignored": 0,
            "independent_others": 2,
        }

        explanation = after["explanation"]
        assert "supported by 2 independent sources: activists, monitor" in explanation["summary"]
        discounted = {item["outlet_slug"]: item["reasons"] for item in explanation["discounted"]}
        assert set(discounted) == {"state-tv"}
        assert "party to the conflict" in discounted["state-tv"]
        assert any(reason.startswith("weak record") for reason in discounted["state-tv"])
        assert "8 earlier figures superseded by its latest" in discounted["state-tv"]

        # The claim's own score carries the same reading of the evidence.
        latest = (await client.get(f"/v1/claims/{repeats[-1]['id']}", headers=admin_headers)).json()
        assert latest["score"]["admiralty"]["credibility"] == 5
        assert latest["score"]["admiralty"]["code"] == codes["state-tv"]["code"]
        assert {"feature": "corroboration", "effect": 0.0} | {
            "text": "not confirmed by any other independent source"
        } in latest["score"]["reasons"]


class TestStatuses:
    async def test_uncertain_when_the_leading_figure_lacks_confidence(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        for slug in ("blog-a", "blog-b", "blog-c"):
            await create_outlet(client, admin_headers, slug, kind="online")
        event = await _event(client, admin_headers)
        await _figures(
            client, admin_headers, event["id"], [("blog-a", 30), ("blog-b", 31), ("blog-c", 60)]
        )
        await app.state.context.jobs.drain()
        result = await consensus(client, admin_headers, event["id"])
        assert result["status"] == "uncertain"
        assert result["status_meaning"].startswith("the leading figure has less than 80%")
        assert result["confidence"] < 0.8
        assert 30 <= result["estimate"] <= 31
        assert result["competing_figures"] == []
        assert result["explanation"]["summary"].startswith("Uncertain: estimate")
        listed = await client.get(
            "/v1/events", params={"status": "uncertain"}, headers=admin_headers
        )
        assert [item["id"] for item in listed.json()["items"]] == [event["id"]]

    async def test_contested_shows_the_competing_figures_not_one_estimate(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers, "wire-a")
        await create_outlet(client, admin_headers, "wire-b")
        await recent_track_record(client, admin_headers, "wire-a", ["true"] * 5)
        await recent_track_record(client, admin_headers, "wire-b", ["true"] * 5)
        event = await _event(client, admin_headers)
        await _figures(client, admin_headers, event["id"], [("wire-a", 12), ("wire-b", 300)])
        await app.state.context.jobs.drain()
        result = await consensus(client, admin_headers, event["id"])
        assert result["status"] == "contested"
        assert result["estimate"] is None
        assert result["interval"] == {"low": 12, "high": 300}
        figures = {figure["estimate"]: figure for figure in result["competing_figures"]}
        assert set(figures) == {12, 300}
        assert figures[12]["outlet_slugs"] == ["wire-a"]
        assert figures[300]["outlet_slugs"] == ["wire-b"]
        assert all(0 < figure["support"] < 0.8 for figure in figures.values())
        assert result["explanation"]["summary"].startswith(
            "Contested: the independent evidence supports no single figure"
        )
        assert {row["admiralty"]["credibility"] for row in result["claims"]} == {3}

    async def test_one_source_is_insufficient_and_never_certain(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        await recent_track_record(client, admin_headers, "test-wire", ["true"] * 8)
        event = await _event(client, admin_headers)
        await _figures(client, admin_headers, event["id"], [("test-wire", 40)] * 3)
        await app.state.context.jobs.drain()
        result = await consensus(client, admin_headers, event["id"])
        assert result["status"] == "insufficient"
        assert result["independent_reports"] == 1
        assert result["estimate"] == 40
        assert 0 < result["confidence"] < 1
        assert [row["superseded"] for row in result["claims"]] == [True, True, False]
        assert {row["admiralty"]["credibility"] for row in result["claims"]} == {6}
        assert result["explanation"]["summary"].startswith("Insufficient: only one independent")

    async def test_an_event_without_figures_has_no_reports(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        event = await _event(client, admin_headers)
        assert event["consensus_status"] == "no_reports"
        untouched = await consensus(client, admin_headers, event["id"])
        assert (untouched["status"], untouched["id"]) == ("no_reports", None)
        assert untouched["status_meaning"] == "no source has reported a figure for this event yet"

        await create_claim(client, admin_headers, event_id=event["id"], text="No figure given.")
        await app.state.context.jobs.drain()
        result = await consensus(client, admin_headers, event["id"])
        assert result["id"] is not None
        assert result["status"] == "no_reports"
        assert result["estimate"] is None
        assert (result["confidence"], result["independent_reports"]) == (0, 0)
        listed = await client.get(
            "/v1/events", params={"status": "no_reports"}, headers=admin_headers
        )
        assert [item["id"] for item in listed.json()["items"]] == [event["id"]]


class TestCopies:
    async def test_a_chain_of_declared_copies_is_one_report(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        for slug in ("wire", "paper-1", "paper-2", "monitor", "activists"):
            await create_outlet(client, admin_headers, slug)
        event = await _event(client, admin_headers)
        original = (await _figures(client, admin_headers, event["id"], [("wire", 90)]))[0]
        copy = await create_claim(
            client,
            admin_headers,
            "paper-1",
            event_id=event["id"],
            figure={"value": 90},
            copy_of_claim_id=original["id"],
        )
        await create_claim(
            client,
            admin_headers,
            "paper-2",
            event_id=event["id"],
            figure={"value": 90},
            copy_of_claim_id=copy["id"],
        )
        await _figures(client, admin_headers, event["id"], [("monitor", 40), ("activists", 41)])
        await app.state.context.jobs.drain()
        result = await consensus(client, admin_headers, event["id"])
        assert result["independent_reports"] == 3
        assert 40 <= result["estimate"] <= 41
        groups = {row["outlet_slug"]: row["copy_group"] for row in result["claims"]}
        assert groups["wire"] == groups["paper-1"] == groups["paper-2"] == f"copy:{original['id']}"
        assert groups["monitor"] is None
        wire = next(row for row in result["claims"] if row["outlet_slug"] == "wire")
        assert wire["corroboration"]["copies_ignored"] == 2
        assert wire["corroboration"]["confirmations"] == 0
