from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.service.factories import create_claim, create_outlet, record_verdict


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


async def test_metrics_expose_requests_scores_jobs_webhooks_and_streams(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers, "monitor")
    claim = await create_claim(client, admin_headers, "monitor")
    await record_verdict(client, admin_headers, claim["id"], "true")
    await client.get("/v1/outlets/monitor", headers=admin_headers)

    response = await client.get("/metrics")  # no API key
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)

    requests = found["credscore_http_requests_total"]
    # Labelled by route template, never by the raw path.
    assert any(
        labels == {"method": "GET", "route": "/v1/outlets/{outlet_ref}", "status": "200"}
        and value >= 1
        for labels, value in requests
    )
    assert not any("monitor" in labels["route"] for labels, _ in requests)
    assert any(
        labels["route"] == "/v1/claims/{claim_id}/verdicts"
        for labels, _ in found["credscore_http_request_duration_seconds_count"]
    )
    assert any(
        labels == {"method": "track-record", "model_version": "track-record/2"} and value >= 1
        for labels, value in found["credscore_scores_computed_total"]
    )
    # The verdict queued the outlet's re-scoring: one job, counted at scrape time.
    assert found["credscore_jobs_pending"] == [({}, 1.0)]
    assert found["credscore_jobs_oldest_pending_age_seconds"][0][1] >= 0
    assert found["credscore_webhook_deliveries_pending"] == [({}, 0.0)]
    assert "credscore_stream_subscribers" in found
    assert "# TYPE credscore_webhook_delivery_attempts_total counter" in response.text
    assert "# TYPE credscore_webhook_deliveries_failed_total counter" in response.text
