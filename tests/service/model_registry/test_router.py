"""The model registry end to end: train, the quality gate, activate, score with it, roll back,
refuse, kill."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from service.audit.models import AuditEntry
from service.model_registry.models import ModelVersion
from service.model_registry.service import ModelService
from service.model_registry.training import TrainingError, train_model
from service.scores.models import Score
from service.scores.track_records import touch_evidence
from service.settings import Settings
from service.verdicts.models import Verdict
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


async def learnable_beyond_the_record(
    app: Any, client: httpx.AsyncClient, headers: dict[str, str], *, n: int = 300
) -> None:
    """Two outlets whose records are a coin toss, with wording that tells which claims hold up:
    a model can beat the track record here, and by a wide margin."""
    await create_outlet(client, headers, "desk-a", kind="wire")
    await create_outlet(client, headers, "desk-b", kind="ngo_monitor")
    rng = np.random.default_rng(5)
    claims, ratings = [], []
    for index in range(n):
        careful = bool(rng.random() < 0.5)
        text = (
            f"Officials said {index % 40 + 2} were injured, according to the ministry."
            if careful
            else f"Everyone knows they never tell the truth about anything! Case {index}."
        )
        claims.append(
            {
                "outlet_slug": "desk-a" if index % 2 else "desk-b",
                "text": text,
                "published_at": (NOW - timedelta(days=600 - index)).isoformat(),
                "topic": "politics",
            }
        )
        held = careful if rng.random() < 0.9 else not careful
        ratings.append("true" if held else "false")
    created = await client.post("/v1/claims/batch", json={"claims": claims}, headers=headers)
    assert created.status_code == 201, created.text
    # Verdicts written directly: the API's one request per verdict is tested elsewhere.
    async with app.state.context.sessionmaker() as db:
        for index, (claim, rating) in enumerate(zip(created.json()["items"], ratings, strict=True)):
            db.add(
                Verdict(
                    claim_id=claim["id"],
                    rating=rating,
                    source="test desk",
                    decided_at=NOW - timedelta(days=599 - index),
                    created_by="test",
                )
            )
        await touch_evidence(db)
        await db.commit()


async def trained(
    settings: Settings, app: Any, *, activate: bool, force: bool = False
) -> ModelVersion:
    """Train a model; with ``force``, activate it past the quality gate afterwards."""
    async with app.state.context.sessionmaker() as session:
        model = await ModelService(session).queue({"cv": 3}, activate=activate, actor=None)
        await session.commit()
    result = await train_model(settings, model.id)
    if force:
        async with app.state.context.sessionmaker() as session:
            await ModelService(session).activate(model.id, actor=None, force=True)
            await session.commit()
    # Training runs elsewhere (its own process in production): the API process learns of an
    # activation at its next refresh of the generation counters; don't wait for the timer.
    await app.state.context.generations.refresh()
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
        assert cold["score"]["model_version"] == "track-record/2"
        active = (await client.get("/v1/models/active", headers=admin_headers)).json()
        assert active["method"] == "track-record"
        assert active["model"] is None

        model = await trained(settings, app, activate=False, force=True)
        assert model.status == "ready"
        # The latest 20% by date are held out; the model is the one fitted on the rest.
        assert model.n_train == 58
        assert model.metrics is not None
        assert model.metrics["n_holdout"] == 14
        assert model.data_from is not None
        assert model.data_to is not None
        assert model.data_from < model.data_to
        assert model.data_to.isoformat() < model.metrics["holdout_from"]
        read = (await client.get(f"/v1/models/{model.id}", headers=admin_headers)).json()
        assert read["active"] is True
        assert {"roc_auc", "brier", "log_loss", "ece"} <= set(read["metrics"])
        assert {"track_record_log_loss", "track_record_brier"} <= set(read["metrics"])
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
        assert after["score"]["model_version"] == "track-record/2"
        assert (await client.post("/v1/models/rollback", headers=admin_headers)).status_code == 409

    async def test_activate_and_rollback_between_two_models(
        self, app: Any, settings: Settings, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await verdicted_history(client, admin_headers)
        first = await trained(settings, app, activate=False, force=True)
        second = await trained(settings, app, activate=False)
        activated = await client.post(
            f"/v1/models/{second.id}/activate", params={"force": "true"}, headers=admin_headers
        )
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
        async with app.state.context.sessionmaker() as db:
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
        async with app.state.context.sessionmaker() as db:
            row = await db.get(ModelVersion, model.id)
            assert row is not None
            row.active = True
            from service import generations

            await generations.bump(db, generations.MODEL)
            await db.commit()
        # Another process's change reaches this one at its next refresh (at most a second).
        await app.state.context.generations.refresh()
        claim = await post_claim(client, admin_headers, "careful-wire")
        assert claim["score"]["model_version"] == "track-record/2"
        assert "refused" in claim["score"]["reasons"][0]["text"]
        assert "scikit-learn 0.24.2" in claim["score"]["reasons"][0]["text"]

    async def test_unknown_params_are_422(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        response = await client.post(
            "/v1/models", json={"params": {"kernel": "rbf"}}, headers=admin_headers
        )
        assert response.status_code == 422


class TestQualityGate:
    async def test_a_model_on_80_verdicts_is_refused_with_the_figures_and_can_be_forced(
        self,
        app: Any,
        settings: Settings,
        client: httpx.AsyncClient,
        admin_headers: dict[str, str],
        session: Any,
    ) -> None:
        await verdicted_history(client, admin_headers, per_outlet=40)
        model = await trained(settings, app, activate=True)
        assert model.status == "ready"
        assert model.active is False
        assert model.progress_message is not None
        assert model.progress_message.startswith("ready, not activated: did not pass")

        read = (await client.get(f"/v1/models/{model.id}", headers=admin_headers)).json()
        gate = read["quality_gate"]
        assert gate["passed"] is False
        assert gate["n_holdout"] == 16
        assert gate["rule"]["min_holdout"] == 50
        assert gate["model"]["log_loss"] == pytest.approx(read["metrics"]["log_loss"])
        assert gate["track_record"]["brier"] == pytest.approx(read["metrics"]["track_record_brier"])
        assert "16 held-out verdicts, fewer than the 50 needed" in gate["failures"]

        refused = await client.post(f"/v1/models/{model.id}/activate", headers=admin_headers)
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["type"] == "/problems/quality-gate"
        assert "did not pass the quality gate" in problem["detail"]
        assert "16 held-out verdicts" in problem["detail"]
        assert "force=true" in problem["detail"]
        assert problem["quality_gate"] == gate
        active = (await client.get("/v1/models/active", headers=admin_headers)).json()
        assert active["model"] is None

        forced = await client.post(
            f"/v1/models/{model.id}/activate", params={"force": "true"}, headers=admin_headers
        )
        assert forced.status_code == 200
        assert forced.json()["active"] is True
        entries = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(AuditEntry.subject_type == "model")
                    .order_by(AuditEntry.id)
                )
            )
            .scalars()
            .all()
        )
        assert [entry.action for entry in entries] == ["model.train", "model.force_activate"]
        forced_entry = entries[-1]
        assert forced_entry.actor == "test-admin"
        assert forced_entry.after["forced"] is True
        assert forced_entry.after["quality_gate"] == gate

    async def test_a_model_that_beats_the_track_record_passes_and_activates(
        self, app: Any, settings: Settings, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await learnable_beyond_the_record(app, client, admin_headers)
        model = await trained(settings, app, activate=True)
        assert model.active is True, model.progress_message
        assert model.progress_message == "ready and active"
        metrics = model.metrics
        assert metrics is not None
        assert metrics["n_holdout"] == 60
        assert model.n_train == 240
        assert metrics["holdout"] == "latest by date"
        assert metrics["log_loss"] < metrics["track_record_log_loss"] - 0.01
        assert metrics["brier"] < metrics["track_record_brier"] - 0.005
        # C was chosen by time-ordered cross-validation on the 240 earlier claims only.
        selection = metrics["selection"]
        assert selection["method"] == "time-ordered (expanding window)"
        assert selection["folds"] == 3
        assert len(selection["candidates"]) == 3
        best = min(selection["candidates"], key=lambda c: c["log_loss"])
        assert selection["chosen"] == best["params"]
        read = (await client.get(f"/v1/models/{model.id}", headers=admin_headers)).json()
        assert read["quality_gate"]["passed"] is True
        assert read["quality_gate"]["failures"] == []

    async def test_force_must_be_a_boolean(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        response = await client.post(
            "/v1/models/1/activate", params={"force": "perhaps"}, headers=admin_headers
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["query", "force"]


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
        first = await trained(settings, app, activate=False, force=True)

        # A run held at its start long enough to kill it mid-way.
        app.state.context.training.settings = settings.model_copy(
            update={"training_delay_seconds": 30}
        )
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
            assert app.state.context.training.kill(model_id) is True
            failed = await _wait_for(client, admin_headers, model_id, {"failed"})
            assert "killed by signal 9" in failed["error"]
        finally:
            os.environ.pop("CREDSCORE_TRAINING_DELAY_SECONDS", None)
        active = (await client.get("/v1/models/active", headers=admin_headers)).json()
        assert active["model"]["id"] == first.id
        claim = await post_claim(client, admin_headers, "careful-wire")
        assert claim["score"]["model_version"] == first.version

        # An unhindered run trains and saves; on 72 verdicts it cannot pass the quality gate,
        # so asking for activation leaves the active model in place and says why.
        finished = await client.post("/v1/models", json={"activate": True}, headers=admin_headers)
        ready = await _wait_for(client, admin_headers, finished.json()["id"], {"ready"}, 120)
        assert ready["active"] is False
        assert ready["progress"] == 1.0
        assert ready["progress_message"].startswith("ready, not activated: did not pass")
        assert ready["quality_gate"]["passed"] is False
        active = (await client.get("/v1/models/active", headers=admin_headers)).json()
        assert active["model"]["id"] == first.id


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
