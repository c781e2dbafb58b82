"""Retries on 429 and 503 (Retry-After honoured, bounded), idempotency keys, typed errors:
against httpx's MockTransport, with the client's sleeps recorded instead of slept."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from credscore_client import AsyncClient, Client, CredscoreError, RetryPolicy
from credscore_client.errors import retry_after_seconds
from credscore_client.models import STREAM_GAP
from tests.client.scripted import Chunks, Script, record_sleeps

CLAIM = {
    "id": 7,
    "outlet_id": 1,
    "outlet_slug": "sohr",
    "event_id": None,
    "text": "42 killed",
    "published_at": "2017-08-21T22:00:00Z",
    "topic": None,
    "figure": None,
    "copy_of_claim_id": None,
    "created_at": "2017-08-21T22:00:01Z",
    "score": None,
    "score_stale": False,
}
PROBLEM = {
    "type": "https://credscore.example/problems/too-many-requests",
    "title": "Too Many Requests",
    "status": 429,
    "detail": "Rate limit reached.",
    "request_id": "req-1",
}


def too_many(retry_after: str | None = "2") -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(
        429, json=PROBLEM, headers=headers | {"Content-Type": "application/problem+json"}
    )


def unavailable() -> httpx.Response:
    return httpx.Response(503, json=PROBLEM | {"status": 503, "title": "Service Unavailable"})


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return record_sleeps(monkeypatch)


def sync_client(script: Callable[[httpx.Request], httpx.Response], **retry: float) -> Client:
    return Client(
        "http://credscore.test",
        "key",
        transport=httpx.MockTransport(script),
        retry=RetryPolicy(**retry),  # type: ignore[arg-type]
    )


def test_a_429_is_retried_after_retry_after_with_the_same_idempotency_key(
    sleeps: list[float],
) -> None:
    script = Script(too_many("2"), httpx.Response(201, json=CLAIM))
    claim = sync_client(script).claims_create({"outlet_slug": "sohr", "text": "42 killed"})
    assert claim.id == 7
    assert sleeps == [2.0]
    keys = [request.headers["Idempotency-Key"] for request in script.requests]
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert json.loads(script.requests[1].content) == {"outlet_slug": "sohr", "text": "42 killed"}


def test_a_503_without_retry_after_backs_off_exponentially(sleeps: list[float]) -> None:
    script = Script(unavailable(), unavailable(), httpx.Response(201, json=CLAIM))
    assert sync_client(script, backoff=0.25).claims_get(7).id == 7
    assert sleeps == [0.25, 0.5]


def test_a_503_is_retried_only_for_a_write_that_is_safe_to_send_twice(
    sleeps: list[float],
) -> None:
    # A claim post carries an Idempotency-Key: sent again, it cannot be stored twice.
    script = Script(unavailable(), httpx.Response(201, json=CLAIM))
    assert sync_client(script).claims_create({"outlet_slug": "sohr", "text": "42 killed"}).id == 7
    assert len(script.requests) == 2
    # A key's creation carries none: the 503 may have come after it was stored.
    script = Script(unavailable(), httpx.Response(201, json={}))
    with pytest.raises(CredscoreError) as refused:
        sync_client(script).api_keys_create({"name": "desk", "scopes": ["read"]})
    assert refused.value.status == 503
    assert len(script.requests) == 1


def test_retries_are_bounded_and_then_the_problem_is_raised(sleeps: list[float]) -> None:
    script = Script(*(too_many("1") for _ in range(3)))
    with pytest.raises(CredscoreError) as refused:
        sync_client(script, attempts=3).claims_get(7)
    assert len(script.requests) == 3
    assert sleeps == [1.0, 1.0]
    problem = refused.value
    assert (problem.status, problem.title, problem.detail) == (
        429,
        "Too Many Requests",
        "Rate limit reached.",
    )
    assert problem.type == PROBLEM["type"]
    assert problem.extra == {"request_id": "req-1"}
    assert problem.retry_after == 1.0


def test_a_retry_after_beyond_the_bound_is_not_waited_out(sleeps: list[float]) -> None:
    script = Script(too_many("3600"))
    with pytest.raises(CredscoreError) as refused:
        sync_client(script, max_wait=30).claims_get(7)
    assert sleeps == []
    assert refused.value.retry_after == 3600.0


def test_other_errors_are_not_retried(sleeps: list[float]) -> None:
    script = Script(httpx.Response(500, text="<html>proxy error</html>"))
    with pytest.raises(CredscoreError) as failed:
        sync_client(script).claims_get(7)
    assert len(script.requests) == 1
    assert (failed.value.status, failed.value.type) == (500, "about:blank")
    assert failed.value.title == "Internal Server Error"
    assert "proxy error" in failed.value.detail


def test_every_claim_post_gets_its_own_key(sleeps: list[float]) -> None:
    script = Script(*(httpx.Response(201, json=CLAIM) for _ in range(2)))
    script.responses.append(httpx.Response(201, json={"items": [CLAIM]}))
    client = sync_client(script)
    client.claims_create({"outlet_slug": "sohr", "text": "a"})
    client.claims_create({"outlet_slug": "sohr", "text": "a"})
    client.claims_create_batch([{"outlet_slug": "sohr", "text": "a"}])
    keys = [request.headers.get("Idempotency-Key") for request in script.requests]
    assert all(keys)
    assert len(set(keys)) == 3


def test_retry_after_may_be_an_http_date() -> None:
    later = datetime.now(UTC) + timedelta(seconds=120)
    seconds = retry_after_seconds(format_datetime(later, usegmt=True))
    assert seconds is not None
    assert 100 < seconds <= 120
    assert retry_after_seconds(format_datetime(later - timedelta(days=1), usegmt=True)) == 0
    assert retry_after_seconds("soon") is None


async def test_the_async_client_retries_the_same_way(sleeps: list[float]) -> None:
    script = Script(too_many("2"), unavailable(), httpx.Response(201, json=CLAIM))
    async with AsyncClient(
        "http://credscore.test", "key", transport=httpx.MockTransport(script)
    ) as client:
        claim = await client.claims_create({"outlet_slug": "sohr", "text": "42 killed"})
    assert claim.id == 7
    assert sleeps == [2.0, 1.0]
    assert len({request.headers["Idempotency-Key"] for request in script.requests}) == 1
    assert script.requests[0].headers["Authorization"] == "Bearer key"


EVENTS = (
    b": ping\r\n\r\n"
    b'id: 41\r\nevent: claim.scored\r\ndata: {"type": "claim.scored", "timestamp": '
    b'"2026-12-01T02:40:12Z", "data": {"claim_id": 7}}\r\n\r\n'
    b'id: 42\r\nevent: verdict.recorded\r\ndata: {"type": "verdict.recorded", "timestamp": '
    b'"2026-12-01T02:40:13Z", "data": {"verdict_id": 3}}\r\n\r\n'
    b"id: 43\r\nevent: claim.scored\r\ndata: {cut off before its blank line"
)


def test_a_stream_is_retried_then_decoded_across_arbitrary_chunk_boundaries(
    sleeps: list[float],
) -> None:
    refused = Chunks(json.dumps(PROBLEM).encode())
    body = Chunks(*(EVENTS[i : i + 7] for i in range(0, len(EVENTS), 7)))
    script = Script(
        httpx.Response(429, stream=refused, headers={"Retry-After": "1"}),
        httpx.Response(200, stream=body, headers={"Content-Type": "text/event-stream"}),
    )
    # Reconnection off: the stream ends with its answer (tests/client/test_stream_reconnection.py
    # reads on).
    subscribed = sync_client(script).stream_subscribe(
        types=["claim.scored"], last_event_id=40, reconnect=False
    )
    events = list(subscribed)
    assert [(e.id, e.type, e.data) for e in events] == [
        (41, "claim.scored", {"claim_id": 7}),
        (42, "verdict.recorded", {"verdict_id": 3}),
    ]
    assert sleeps == [1.0]
    assert refused.closed
    assert body.closed
    assert [r.headers["Last-Event-ID"] for r in script.requests] == ["40", "40"]
    assert script.requests[0].url.params["types"] == "claim.scored"


def test_the_streams_gap_message_decodes_as_a_stream_event(sleeps: list[float]) -> None:
    gap = (
        b'id: 5120\nevent: stream.gap\ndata: {"type": "stream.gap", "timestamp": '
        b'"2026-12-01T02:40:12Z", "data": {"last_event_id": 4800, "pruned_through": 5120}}\n\n'
    )
    script = Script(
        httpx.Response(200, stream=Chunks(gap), headers={"Content-Type": "text/event-stream"})
    )
    [event] = list(sync_client(script).stream_subscribe(last_event_id=4800, reconnect=False))
    assert (event.id, event.type) == (5120, STREAM_GAP)
    assert event.data == {"last_event_id": 4800, "pruned_through": 5120}
    assert sleeps == []


def test_a_refused_stream_raises_its_problem(sleeps: list[float]) -> None:
    missing = PROBLEM | {"status": 404, "title": "Not Found", "detail": "No outlet 'x'."}
    script = Script(httpx.Response(404, stream=Chunks(json.dumps(missing).encode())))
    script.responses[0].headers["Content-Type"] = "application/problem+json"
    lines = sync_client(script).export_csv("claims", outlet="x")
    with pytest.raises(CredscoreError) as refused:
        next(lines)
    assert (refused.value.status, refused.value.detail) == (404, "No outlet 'x'.")
    assert str(script.requests[0].url).endswith("/v1/export/claims.csv?outlet=x")


async def test_the_async_client_streams_json_lines_the_same_way(sleeps: list[float]) -> None:
    body = Chunks(b'{"@type": "ClaimReview", "n": 1}\n\n{"@type": "Claim', b'Review", "n": 2}')
    script = Script(unavailable(), httpx.Response(200, stream=body))
    async with AsyncClient(
        "http://credscore.test", "key", transport=httpx.MockTransport(script)
    ) as client:
        reviews = [review async for review in client.claimreviews_list(outlet="sohr")]
    assert [review["n"] for review in reviews] == [1, 2]
    assert sleeps == [0.5]
    assert body.closed
