from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from service.claims.models import Claim
from service.scores.models import Score
from tests.service.factories import claim_body, create_claim, create_outlet, recent_track_record


async def count(session: Any, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)))


class TestCreateClaim:
    async def test_claim_comes_back_scored_and_explained(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        response = await client.post(
            "/v1/claims",
            json=claim_body(figure={"value": 12, "unit": "people"}, topic="civilian-casualties"),
            headers=admin_headers,
        )
        assert response.status_code == 201
        claim = response.json()
        assert claim["outlet_slug"] == "test-wire"
        assert claim["figure"] == {"value": 12.0, "low": None, "high": None, "unit": "people"}
        score = claim["score"]
        assert (
            0 <= score["interval"]["low"] <= score["probability"] <= score["interval"]["high"] <= 1
        )
        assert score["grade"] == "unrated"
        assert score["model_version"] == "track-record/2"
        assert score["trigger"] == "claim.created"
        assert score["as_of"].startswith("2024-05-01T12:00:00")
        features = [reason["feature"] for reason in score["reasons"]]
        assert features[:3] == ["method", "global_baseline", "outlet_kind_prior"]
        assert "unrated" in features

    async def test_submit_scope_suffices(
        self,
        client: httpx.AsyncClient,
        admin_headers: dict[str, str],
        submit_headers: dict[str, str],
    ) -> None:
        await create_outlet(client, admin_headers)
        response = await client.post("/v1/claims", json=claim_body(), headers=submit_headers)
        assert response.status_code == 201

    async def test_unknown_outlet_and_event_are_422_and_nothing_is_stored(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        response = await client.post(
            "/v1/claims", json=claim_body("nobody", event_id=77), headers=admin_headers
        )
        assert response.status_code == 422
        errors = {tuple(error["loc"]): error["type"] for error in response.json()["errors"]}
        assert errors == {
            ("body", "outlet_slug"): "unknown_outlet",
            ("body", "event_id"): "unknown_event",
        }
        assert await count(session, Claim) == 0

    @pytest.mark.parametrize(
        ("overrides", "loc"),
        [
            ({"published_at": "2024-05-01T12:00:00"}, ["body", "published_at"]),
            ({"published_at": "2999-01-01T00:00:00Z"}, ["body", "published_at"]),
            ({"text": ""}, ["body", "text"]),
            ({"text": "a\u0000b"}, ["body", "text"]),
            ({"figure": {"value": 1e300}}, ["body", "figure", "value"]),
            ({"figure": {"low": 10, "high": 5}}, ["body", "figure"]),
            ({"figure": {"low": 10}}, ["body", "figure"]),
            ({"outlet_id": 1}, ["body"]),
            ({"topic": "Not A Slug"}, ["body", "topic"]),
        ],
    )
    async def test_invalid_input_is_422_with_location(
        self,
        client: httpx.AsyncClient,
        admin_headers: dict[str, str],
        session: Any,
        overrides: dict[str, Any],
        loc: list[Any],
    ) -> None:
        await create_outlet(client, admin_headers)
        response = await client.post(
            "/v1/claims", json=claim_body(**overrides), headers=admin_headers
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert any(error["loc"][: len(loc)] == loc for error in response.json()["errors"])
        assert await count(session, Claim) == 0

    async def test_nan_figure_is_refused(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        await create_outlet(client, admin_headers)
        raw = (
            '{"outlet_slug": "test-wire", "text": "x", "published_at": "2024-05-01T12:00:00Z",'
            ' "figure": {"value": NaN}}'
        )
        response = await client.post(
            "/v1/claims", content=raw, headers=admin_headers | {"content-type": "application/json"}
        )
        assert response.status_code in (400, 422)
        assert await count(session, Claim) == 0


class TestIdempotency:
    async def test_retry_returns_the_same_claim(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        await create_outlet(client, admin_headers)
        headers = admin_headers | {"Idempotency-Key": "wire-123"}
        first = await client.post("/v1/claims", json=claim_body(), headers=headers)
        second = await client.post("/v1/claims", json=claim_body(), headers=headers)
        assert first.status_code == 201
        assert second.status_code == 200
        assert second.headers["Idempotent-Replayed"] == "true"
        assert second.json() == first.json()
        assert await count(session, Claim) == 1
        assert await count(session, Score) == 1

    async def test_same_key_other_body_is_422(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        await create_outlet(client, admin_headers)
        headers = admin_headers | {"Idempotency-Key": "wire-123"}
        await client.post("/v1/claims", json=claim_body(), headers=headers)
        other = await client.post(
            "/v1/claims", json=claim_body(text="Another claim"), headers=headers
        )
        assert other.status_code == 422
        assert other.json()["type"] == "/problems/idempotency-key-reused"
        assert await count(session, Claim) == 1

    async def test_keys_are_per_api_key(
        self,
        client: httpx.AsyncClient,
        admin_headers: dict[str, str],
        submit_headers: dict[str, str],
        session: Any,
    ) -> None:
        await create_outlet(client, admin_headers)
        await client.post(
            "/v1/claims", json=claim_body(), headers=admin_headers | {"Idempotency-Key": "k"}
        )
        await client.post(
            "/v1/claims", json=claim_body(), headers=submit_headers | {"Idempotency-Key": "k"}
        )
        assert await count(session, Claim) == 2


class TestBatch:
    # 30 claims go in one statement on PostgreSQL, 150 in two (SINGLE_STATEMENT_MAX_ROWS).
    @pytest.mark.parametrize("size", [30, 150])
    async def test_all_valid_are_stored_with_scores(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any, size: int
    ) -> None:
        await create_outlet(client, admin_headers)
        await create_outlet(client, admin_headers, "other-wire")
        claims = [
            claim_body("test-wire" if i % 2 else "other-wire", text=f"claim {i}")
            for i in range(size)
        ]
        response = await client.post(
            "/v1/claims/batch", json={"claims": claims}, headers=admin_headers
        )
        assert response.status_code == 201
        items = response.json()["items"]
        assert [item["text"] for item in items] == [f"claim {i}" for i in range(size)]
        assert await count(session, Claim) == size
        assert await count(session, Score) == size
        for item in items:
            stored = await session.get(Claim, item["id"])
            score = await session.get(Score, item["score"]["id"])
            assert (stored.text, stored.outlet_id) == (item["text"], item["outlet_id"])
            assert (score.claim_id, score.outlet_id) == (item["id"], item["outlet_id"])
            assert score.probability == item["score"]["probability"]
            assert score.reasons == item["score"]["reasons"]

    async def test_one_bad_item_stores_nothing_and_names_each(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        await create_outlet(client, admin_headers)
        claims = [claim_body(text=f"claim {i}") for i in range(5)]
        claims[1]["outlet_slug"] = "nobody"
        claims[3]["published_at"] = "2999-01-01T00:00:00Z"
        response = await client.post(
            "/v1/claims/batch", json={"claims": claims}, headers=admin_headers
        )
        assert response.status_code == 422
        problem = response.json()
        assert "2 of 5 claims are invalid" in problem["detail"]
        assert {tuple(error["loc"][:3]) for error in problem["errors"]} == {
            ("body", "claims", 1),
            ("body", "claims", 3),
        }
        assert await count(session, Claim) == 0

    async def test_schema_errors_carry_the_item_index(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        claims = [claim_body(), claim_body(text=123)]
        response = await client.post(
            "/v1/claims/batch", json={"claims": claims}, headers=admin_headers
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"][:4] == ["body", "claims", 1, "text"]

    async def test_too_many_is_422_and_empty_is_422(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        too_many = {"claims": [claim_body()] * 1001}
        response = await client.post("/v1/claims/batch", json=too_many, headers=admin_headers)
        assert response.status_code == 422
        assert "at most 1000" in response.json()["detail"]
        empty = await client.post("/v1/claims/batch", json={"claims": []}, headers=admin_headers)
        assert empty.status_code == 422

    async def test_batch_retry_is_idempotent(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        await create_outlet(client, admin_headers)
        body = {"claims": [claim_body(text=f"c{i}") for i in range(3)]}
        headers = admin_headers | {"Idempotency-Key": "batch-1"}
        first = await client.post("/v1/claims/batch", json=body, headers=headers)
        second = await client.post("/v1/claims/batch", json=body, headers=headers)
        assert second.status_code == 200
        assert second.json() == first.json()
        assert await count(session, Claim) == 3


class TestReadClaims:
    async def test_get_list_filters_and_history(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], read_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        await create_outlet(client, admin_headers, "other-wire")
        event = (await client.post("/v1/events", json={"title": "E"}, headers=admin_headers)).json()
        first = await create_claim(client, admin_headers, published_at="2024-01-01T00:00:00Z")
        second = await create_claim(
            client, admin_headers, "other-wire", event_id=event["id"], topic="elections"
        )
        fetched = await client.get(f"/v1/claims/{first['id']}", headers=read_headers)
        assert fetched.json() == first

        async def ids(**params: Any) -> list[int]:
            page = await client.get("/v1/claims", params=params, headers=read_headers)
            assert page.status_code == 200, page.text
            return [item["id"] for item in page.json()["items"]]

        assert await ids() == [first["id"], second["id"]]
        assert await ids(outlet="other-wire") == [second["id"]]
        assert await ids(event_id=event["id"]) == [second["id"]]
        assert await ids(topic="elections") == [second["id"]]
        assert await ids(since="2024-03-01T00:00:00Z") == [second["id"]]
        assert await ids(outlet="nobody") == []
        first_page = (await client.get("/v1/claims?limit=1", headers=read_headers)).json()
        second_page = (
            await client.get(
                f"/v1/claims?limit=1&cursor={first_page['next_cursor']}", headers=read_headers
            )
        ).json()
        assert [item["id"] for item in second_page["items"]] == [second["id"]]

        history = (
            await client.get(f"/v1/claims/{first['id']}/scores", headers=read_headers)
        ).json()
        assert [item["id"] for item in history["items"]] == [first["score"]["id"]]

    async def test_unknown_claim_is_404_and_bad_id_is_422(
        self, client: httpx.AsyncClient, read_headers: dict[str, str]
    ) -> None:
        assert (await client.get("/v1/claims/999", headers=read_headers)).status_code == 404
        assert (await client.get("/v1/claims/abc", headers=read_headers)).status_code == 422
        huge = await client.get(f"/v1/claims/{10**30}", headers=read_headers)
        assert huge.status_code == 422


class TestPreview:
    async def test_preview_scores_without_storing(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        await create_outlet(client, admin_headers)
        stored = await create_claim(client, admin_headers)
        response = await client.post("/v1/score", json=claim_body(), headers=admin_headers)
        assert response.status_code == 200
        preview = response.json()
        assert preview["id"] is None
        assert preview["trigger"] == "preview"
        assert preview["probability"] == stored["score"]["probability"]
        assert await count(session, Claim) == 1
        assert await count(session, Score) == 1


PEOPLE_KILLED = {"title": "Civilians killed", "quantity_kind": "civilian_deaths", "unit": "people"}


class TestUnits:
    """A figure in another unit than its event's is refused at intake, naming both units."""

    async def _event(self, client: httpx.AsyncClient, headers: dict[str, str]) -> int:
        await create_outlet(client, headers)
        response = await client.post("/v1/events", json=PEOPLE_KILLED, headers=headers)
        event_id: int = response.json()["id"]
        return event_id

    async def test_single_claim_in_another_unit_is_422(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        event_id = await self._event(client, admin_headers)
        body = claim_body(event_id=event_id, figure={"value": 12, "unit": "buildings"})
        for path in ("/v1/claims", "/v1/score"):
            response = await client.post(path, json=body, headers=admin_headers)
            assert response.status_code == 422, response.text
            assert response.headers["content-type"] == "application/problem+json"
            problem = response.json()
            assert problem["type"] == "/problems/invalid-input"
            [error] = problem["errors"]
            assert error["loc"] == ["body", "figure", "unit"]
            assert error["type"] == "unit_mismatch"
            assert "'buildings'" in error["message"]
            assert "'people'" in error["message"]
            assert "'buildings'" in problem["detail"]
            assert "'people'" in problem["detail"]
        assert await count(session, Claim) == 0

    async def test_the_same_unit_however_written_and_an_unstated_unit_pass(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        event_id = await self._event(client, admin_headers)
        for unit in (" People ", None):
            figure = {"value": 12} | ({"unit": unit} if unit else {})
            await create_claim(client, admin_headers, event_id=event_id, figure=figure)

    async def test_batch_names_the_claim_in_another_unit_and_stores_nothing(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        event_id = await self._event(client, admin_headers)
        claims = [
            claim_body(event_id=event_id, figure={"value": 12, "unit": "people"}),
            claim_body(event_id=event_id, figure={"low": 3, "high": 4, "unit": "buildings"}),
        ]
        response = await client.post(
            "/v1/claims/batch", json={"claims": claims}, headers=admin_headers
        )
        assert response.status_code == 422
        [error] = response.json()["errors"]
        assert error["loc"] == ["body", "claims", 1, "figure", "unit"]
        assert "'buildings'" in error["message"]
        assert "'people'" in error["message"]
        assert await count(session, Claim) == 0


class TestAdmiralty:
    async def test_every_claim_score_carries_an_admiralty_code(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        await create_outlet(client, admin_headers, "other-wire")
        await recent_track_record(client, admin_headers, "other-wire", ["true"] * 8)
        # No event: nothing to judge the information against; an unrated outlet: F.
        alone = await create_claim(client, admin_headers)
        assert alone["score"]["admiralty"] == {
            "code": "F6",
            "reliability": "F",
            "credibility": 6,
            "meaning": "source reliability cannot be judged; information truth cannot be judged",
        }
        event = (await client.post("/v1/events", json=PEOPLE_KILLED, headers=admin_headers)).json()
        # Published now: the record built over the last months counts.
        now = datetime.now(UTC).isoformat()
        first = await create_claim(
            client,
            admin_headers,
            "other-wire",
            event_id=event["id"],
            figure={"value": 40},
            published_at=now,
        )
        assert first["score"]["admiralty"]["code"] == "A6"
        await create_claim(
            client, admin_headers, event_id=event["id"], figure={"value": 40}, published_at=now
        )
        await app.state.context.jobs.drain()
        # Re-scored once the consensus is in: each confirms the other.
        rescored = (await client.get(f"/v1/claims/{first['id']}", headers=admin_headers)).json()
        assert rescored["score"]["admiralty"]["code"] == "A1"
        assert rescored["score"]["trigger"] == "consensus.updated"
        assert {
            "feature": "corroboration",
            "effect": 0.0,
            "text": "confirmed by 1 independent source",
        } in rescored["score"]["reasons"]
        preview = await client.post(
            "/v1/score",
            json=claim_body(
                "other-wire", event_id=event["id"], figure={"value": 90}, published_at=now
            ),
            headers=admin_headers,
        )
        assert preview.json()["admiralty"]["code"] in {"A4", "A5"}
        history = (
            await client.get(f"/v1/claims/{first['id']}/scores", headers=admin_headers)
        ).json()["items"]
        assert (history[0]["admiralty"]["code"], history[-1]["admiralty"]["code"]) == ("A6", "A1")
        outlet_scores = (
            await client.get("/v1/outlets/other-wire/reliability/history", headers=admin_headers)
        ).json()["items"]
        assert {item["admiralty"] for item in outlet_scores} == {None}
