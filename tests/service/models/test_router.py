"""The model registry end to end: train, activate, score with it, roll back, refuse, kill."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from service.models.models import ModelVersion
from service.models.service import ModelService
from service.models.training import TrainingError, train_model
from service.scores.models import Score
from service.settings import Settings
from tests.service.factories import create_outlet

NOW = datetime.now(UTC).replace(microsecond=0)


async def verdicted_history(
    client: httpx.AsyncClient, headers: dict[str, str], *, per_outlet: int = 36
) -> None:
    """Two outlets with opposite records and distinguishable wording: a learnable signal."""
    await create_outlet(client, headers, "careful-wire", kind="wire")
    await create_outlet(client, headers, "loose-tabloid", kind="online")
    for slug, rating, text in (
        ("careful-wire", "true", "Officials said 12 were injured, according to the ministry."),
        ("loose-tabloid", "false", "Everyone knows they never tell the truth about anything!"),
    ):
        claims = [
            {
                "outlet_slug": slug,
                "text": f"{text} Report {index}.",
                "published_at": (NOW - timedelta(days=400 - index)).isoformat(),
                "topic": "politics",
            }
            for index in range(per_outlet)
        ]
        created = await client.post("/v1/claims/batch", json={"claims": claims}, headers=headers)
        assert created.status_code == 201, created.text
        for index, claim in enumerate(created.json()["items"]):
            # A few surprises so both outlets have both kinds of verdict.
            verdict = rating if index % 6 else ("false" if rating == "true" else "mostly-true")
            response = await client.post(
                f"/v1/claims/{claim['id']}/verdicts",
                json={
                    "rating": verdict,
                    "source": "test desk",
                    "decided_at": (NOW - timedelta(days=390 - index)).isoformat(),
                },
                headers=headers,
            )
            assert response.status_code == 201, response.text


async def trained(settings: Settings, app: Any, *, activate: bool) -> ModelVersion:
    async with app.state.sessionmaker() as session:
        model = await ModelService(session).queue({"cv": 3}, activate=activate, actor=None)
        await session.commit()
    result = await train_model(settings, model.id)
    # Training runs elsewhere (its own process in production): the API process learns of an
    # activation at its next refresh of the generation counters; don't wait for the timer.
    await app.state.generations.refresh()
    return result


async def post_claim(client: httpx.AsyncClient, headers: dict[str, str], slug: str) -> Any:
    response = await client.post(
        "/v1/claims",
        json={
            "outlet_slug": slug,
            "text": "Officials said 3 people were injured, according to the ministry.",
            "published_at": (NOW - timedelta(hours=1)).isoformat(),
            "topic": "politics",
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


class TestRegistry:
    async def test_cold_start_then_model_scores_then_rollback(
        self,
        app: Any,
        settings: Settings,
        client: httpx.AsyncClient,
        admin_headers: dict[str, str],
        session: Any,
    ) -> None:
        await verdicted_history(client, admin_headers)
        cold = await post_claim(client, admin_headers, "careful-wire")
        assert cold["score"]["model_version"] == "track-record/1"
        active = (await client.get("/v1/models/active", headers=admin_headers)).json()
        assert active["method"] == "track-record"
        assert active["model"] is None

        model = await trained(settings, app, activate=True)
        assert model.status == "ready"
        assert model.n_train == 72
        assert model.data_from is not None
        assert model.data_to is not None
        assert model.data_from < model.data_to
        read = (await client.get(f"/v1/models/{model.id}", headers=admin_headers)).json()
        assert read["active"] is True
        assert {"roc_auc", "brier", "log_loss", "ece"} <= set(read["metrics"])
        assert read["sklearn_version"]
        assert read["numpy_version"]
        assert len(read["checksum"]) == 64

        careful = await post_claim(client, admin_headers, "careful-wire")
        loose = await post_claim(client, admin_headers, "loose-tabloid")
        for scored in (careful, loose):
            score = scored["score"]
            assert score["method"] == "claim-model"
            assert score["model_version"] == model.version
            assert score["interval"]["low"] <= score["probability"] <= score["interval"]["high"]
            assert score["reasons"][0]["text"] == f"scored by model {model.version}"
            assert len(score["reasons"]) > 1
        assert careful["score"]["probability"] > loose["score"]["probability"]
        stored = (
            await session.execute(select(Score).where(Score.id == careful["score"]["id"]))
        ).scalar_one()
        assert stored.model_version_id == model.id

        loaded = (await client.get("/v1/models/active", headers=admin_headers)).json()
        assert loaded["loaded_in_this_process"] is True

        rolled = await client.post("/v1/models/rollback", headers=admin_headers)
        assert rolled.status_code == 200
        after = await post_claim(client, admin_headers, "careful-wire")
        assert after["score"]["model_version"] == "track-record/1"
        assert (await client.post("/v1/models/rollback", headers=admin_headers)).status_code == 409

    async def test_activate_and_rollback_between_two_models(
        self, app: Any, settings: Settings, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await verdicted_history(client, admin_headers)
        first = await trained(settings, app, activate=True)
        second = await trained(settings, app, activate=False)
        activated = await client.post(f"/v1/models/{second.id}/activate", headers=admin_headers)
        assert activated.json()["active"] is True
        claim = await post_claim(client, admin_headers, "careful-wire")
        assert claim["score"]["model_version"] == second.version
        await client.post("/v1/models/rollback", headers=admin_headers)
        claim = await post_claim(client, admin_headers, "careful-wire")
        assert claim["score"]["model_version"] == first.version
        listed = (await client.get("/v1/models", headers=admin_headers)).json()["items"]
        assert [item["active"] for item in listed] == [True, False]

    async def test_too_few_verdicts_fails_clearly(
        self, app: Any, settings: Settings, session: Any
    ) -> None:
        with pytest.raises(TrainingError, match="training needs at least"):
            await trained(settings, app, activate=True)
        row = (await session.execute(select(ModelVersion))).scalar_one()
        assert row.status == "failed"
        assert "training needs at least" in row.error
        assert row.active is False

    async def test_other_sklearn_version_is_refused(
        self, app: Any, settings: Settings, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await verdicted_history(client, admin_headers)
        model = await trained(settings, app, activate=False)
        async with app.state.sessionmaker() as db:
            row = await db.get(ModelVersion, model.id)
            assert row is not None
            await db.refresh(row, ["artifact"])
            assert row.artifact is not None
            row.artifact = _with_sklearn_version(row.artifact, "0.24.2")
            await db.commit()
        response = await client.post(f"/v1/models/{model.id}/activate", headers=admin_headers)
        assert response.status_code == 409
        detail = response.json()["detail"]
        assert "scikit-learn 0.24.2" in detail
        assert "refusing" in detail

        # Made active behind the registry's back, it is still not loaded: scores fall back.
        async with app.state.sessionmaker() as db:
            row = await db.get(ModelVersion, model.id)
            assert row is not None
            row.active = True
            from service import generations

            await generations.bump(db, generations.MODEL)
            await db.commit()
        # Another process's change reaches this one at its next refresh (at most a second).
        await app.state.generations.refresh()
        claim = await post_claim(client, admin_headers, "careful-wire")
        assert claim["score"]["model_version"] == "track-record/1"
        assert "refused" in claim["score"]["reasons"][0]["text"]
        assert "scikit-learn 0.24.2" in claim["score"]["reasons"][0]["text"]

    async def test_unknown_params_are_422(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        response = await client.post(
            "/v1/models", json={"params": {"kernel": "rbf"}}, headers=admin_headers
        )
        assert response.status_code == 422


def _with_sklearn_version(artifact: bytes, version: str) -> bytes:
    """Rewrite the header as if another scikit-learn had saved it (with a valid checksum)."""
    import json

    from scoring import artifacts

    end = artifact.find(b"\n", len(artifacts.MAGIC))
    fields = json.loads(artifact[len(artifacts.MAGIC) : end])
    payload = artifact[end + 1 :]
    fields.pop("sha256")
    fields["sklearn"] = version
    fields["sha256"] = artifacts._checksum(fields, payload)
    return artifacts.MAGIC + json.dumps(fields, sort_keys=True).encode() + b"\n" + payload


class TestBackgroundTraining:
    async def test_api_training_runs_in_a_child_process_and_a_killed_run_changes_nothing(
        self, settings: Settings, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await verdicted_history(client, admin_headers)
        first = await trained(settings, app, activate=True)

        # A run held at its start long enough to kill it mid-way.
        app.state.training.settings = settings.model_copy(update={"training_delay_seconds": 30})
        import os

        os.environ["CREDSCORE_TRAINING_DELAY_SECONDS"] = "30"
        try:
            started = await client.post(
                "/v1/models", json={"activate": True}, headers=admin_headers
            )
            assert started.status_code == 202
            model_id = started.json()["id"]
            assert started.headers["Location"] == f"/v1/models/{model_id}"
            status = await _wait_for(client, admin_headers, model_id, {"training"})
            assert status["progress_message"].startswith("waiting")
            # Requests are served while it trains.
            assert (await client.get("/healthz")).status_code == 200
            assert app.state.training.kill(model_id) is True
            failed = await _wait_for(client, admin_headers, model_id, {"failed"})
            assert "killed by signal 9" in failed["error"]
        finally:
            os.environ.pop("CREDSCORE_TRAINING_DELAY_SECONDS", None)
        active = (await client.get("/v1/models/active", headers=admin_headers)).json()
        assert active["model"]["id"] == first.id
        claim = await post_claim(client, admin_headers, "careful-wire")
        assert claim["score"]["model_version"] == first.version

        # An unhindered run trains, saves and activates by itself.
        finished = await client.post("/v1/models", json={"activate": True}, headers=admin_headers)
        ready = await _wait_for(client, admin_headers, finished.json()["id"], {"ready"}, 120)
        assert ready["active"] is True
        assert ready["progress"] == 1.0


async def _wait_for(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    model_id: int,
    states: set[str],
    seconds: float = 60,
) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        body = (await client.get(f"/v1/models/{model_id}", headers=headers)).json()
        if body["status"] in states:
            return body
        assert body["status"] not in {"failed", "cancelled"} or "failed" in states, body
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting: {body}"
        await asyncio.sleep(0.2)
