from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.service.factories import create_claim, create_outlet, record_verdict


async def test_cold_start_reads_the_outlets_record_on_the_claims_topic(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    # One cold-start score (scoring's): an outlet right on one topic and wrong on another is
    # scored on the claim's topic, not on its overall record alone.
    await create_outlet(client, admin_headers)
    now = datetime.now(UTC).replace(microsecond=0)
    published = (now - timedelta(days=60)).isoformat()
    decided = (now - timedelta(days=30)).isoformat()
    for topic, rating in (("economy", "true"), ("conflict", "false")):
        for _ in range(6):
            claim = await create_claim(client, admin_headers, topic=topic, published_at=published)
            await record_verdict(client, admin_headers, claim["id"], rating, decided)
    fresh = (now - timedelta(days=1)).isoformat()
    scores = {
        topic: (await create_claim(client, admin_headers, topic=topic, published_at=fresh))["score"]
        for topic in ("economy", "conflict", None)
    }
    assert all(score["model_version"] == "track-record/2" for score in scores.values())
    assert (
        scores["conflict"]["probability"]
        < scores[None]["probability"] - 0.05
        < scores["economy"]["probability"] - 0.1
    )
    for topic, sign in (("economy", 1), ("conflict", -1)):
        score = scores[topic]
        by_feature = {reason["feature"]: reason for reason in score["reasons"]}
        assert by_feature["topic_record"]["effect"] * sign > 0
        parts = [reason["effect"] for reason in score["reasons"] if reason["feature"] != "method"]
        assert abs(sum(parts) - score["probability"]) < 1e-5
    assert "topic_record" not in [reason["feature"] for reason in scores[None]["reasons"]]
