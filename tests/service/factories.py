"""Small builders for request bodies and common set-ups, shared by the service tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx


def outlet_body(slug: str = "test-wire", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": slug,
        "name": slug.replace("-", " ").title(),
        "kind": "wire",
        "country": "GB",
        "transparency": {"methodology": True, "corrections_policy": True},
    }
    body.update(overrides)
    return body


def claim_body(outlet_slug: str = "test-wire", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "outlet_slug": outlet_slug,
        "text": "Strikes killed 12 civilians in the town, according to local officials.",
        "published_at": "2024-05-01T12:00:00Z",
    }
    body.update(overrides)
    return body


async def create_outlet(
    client: httpx.AsyncClient, headers: dict[str, str], slug: str = "test-wire", **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/outlets", json=outlet_body(slug, **overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def create_claim(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    outlet_slug: str = "test-wire",
    **overrides: Any,
) -> dict[str, Any]:
    response = await client.post(
        "/v1/claims", json=claim_body(outlet_slug, **overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def record_verdict(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    claim_id: int,
    rating: str,
    decided_at: str = "2024-06-01T00:00:00Z",
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/claims/{claim_id}/verdicts",
        json={"rating": rating, "source": "test desk", "decided_at": decided_at},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def recent_track_record(
    client: httpx.AsyncClient, headers: dict[str, str], slug: str, ratings: list[str]
) -> None:
    """Verdicts on an outlet's claims from the last two months: decay leaves them nearly whole."""
    now = datetime.now(UTC).replace(microsecond=0)
    for rating in ratings:
        published = (now - timedelta(days=60)).isoformat()
        claim = await create_claim(client, headers, slug, published_at=published)
        await record_verdict(
            client, headers, claim["id"], rating, (now - timedelta(days=30)).isoformat()
        )
