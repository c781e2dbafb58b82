"""The event stream reconnects by itself (as an EventSource does): after a dropped connection it
resumes with Last-Event-ID = the last event's id, after the server's `retry:` wait or a backoff
with jitter; a refusal raises; reconnection can be bounded or turned off. Against httpx's
MockTransport, with the client's sleeps recorded instead of slept."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from itertools import islice

import httpx
import pytest

from credscore_client import AsyncClient, Client, CredscoreError, RetryPolicy
from credscore_client._core import EventStream
from credscore_client.models import StreamEvent
from tests.client.scripted import Chunks, Script, record_sleeps

UNAUTHORIZED = {
    "type": "https://credscore.example/problems/unauthorized",
    "title": "Unauthorized",
    "status": 401,
    "detail": "The API key was revoked.",
}


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return record_sleeps(monkeypatch)


def message(event_id: int, claim_id: int) -> bytes:
    data = {
        "type": "claim.scored",
        "timestamp": "2026-12-01T02:40:12Z",
        "data": {"claim_id": claim_id},
    }
    return f"id: {event_id}\nevent: claim.scored\ndata: {json.dumps(data)}\n\n".encode()


def events(*pieces: bytes, cut: Exception | None = None) -> httpx.Response:
    return httpx.Response(
        200, stream=Chunks(*pieces, cut=cut), headers={"Content-Type": "text/event-stream"}
    )


def dropped() -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError("peer closed connection without sending complete message body")


def refused(problem: dict[str, object], **headers: str) -> httpx.Response:
    return httpx.Response(
        int(str(problem["status"])),
        stream=Chunks(json.dumps(problem).encode()),
        headers={"Content-Type": "application/problem+json"} | headers,
    )


URL = "http://credscore.test"
RETRY = RetryPolicy(backoff=0.5, max_wait=30)


def sync_client(script: Script) -> Client:
    return Client(URL, "key", transport=httpx.MockTransport(script), retry=RETRY)


def async_client(script: Script) -> AsyncClient:
    return AsyncClient(URL, "key", transport=httpx.MockTransport(script), retry=RETRY)


def last_event_ids(script: Script) -> list[str | None]:
    return [request.headers.get("Last-Event-ID") for request in script.requests]


def take(stream: Iterator[StreamEvent], count: int) -> list[int]:
    try:
        return [event.id for event in islice(stream, count)]
    finally:
        stream.close()  # type: ignore[attr-defined]


async def take_async(stream: AsyncIterator[StreamEvent], count: int) -> list[int]:
    ids: list[int] = []
    try:
        async for event in stream:
            ids.append(event.id)
            if len(ids) == count:
                break
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    return ids


# The first connection: a keep-alive comment, two events, then half of a third when it drops.
CUT_AFTER_TWO = (b": ping\n\n", message(41, 7), message(42, 8), b"id: 43\nevent: claim.sc")


def test_a_stream_cut_after_two_events_resumes_after_the_second(sleeps: list[float]) -> None:
    first = Chunks(*CUT_AFTER_TWO, cut=dropped())
    script = Script(
        httpx.Response(200, stream=first),
        events(b": ping\n\n", message(43, 9), message(44, 10)),
    )
    stream = sync_client(script).stream_subscribe(outlet=["sohr"], last_event_id=40)
    assert take(stream, 4) == [41, 42, 43, 44]
    assert last_event_ids(script) == ["40", "42"]
    # The same subscription, resumed: only Last-Event-ID changed.
    assert script.requests[1].url == script.requests[0].url
    assert first.closed
    # No retry: field, no Retry-After: the backoff (0.5 s) less up to half of it (jitter).
    assert len(sleeps) == 1
    assert 0.25 <= sleeps[0] <= 0.5


def test_a_network_error_on_connecting_is_retried_from_the_callers_last_event_id(
    sleeps: list[float],
) -> None:
    script = Script(
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        events(message(41, 7)),
    )
    assert take(sync_client(script).stream_subscribe(last_event_id=40), 1) == [41]
    assert last_event_ids(script) == ["40", "40", "40"]
    # Two failures in a row: the backoff doubles (each less up to half of it).
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5
    assert 0.5 <= sleeps[1] <= 1.0


def test_the_servers_retry_field_is_the_wait(sleeps: list[float]) -> None:
    script = Script(
        # Ended by the server (a slow reader shed, a restart): not an error, still resumed.
        events(b"retry: 2500\n\n", message(41, 7)),
        events(message(42, 8), cut=httpx.ReadError("connection reset")),
        events(message(43, 9)),
    )
    assert take(sync_client(script).stream_subscribe(), 3) == [41, 42, 43]
    assert sleeps == [2.5, 2.5]
    # No last_event_id was given: the first request has none.
    assert last_event_ids(script) == [None, "41", "42"]


def test_a_503_on_reconnecting_waits_its_retry_after(sleeps: list[float]) -> None:
    unavailable = {"title": "Service Unavailable", "detail": "Restarting.", "status": 503}
    script = Script(
        events(b"retry: 1000\n\n", message(41, 7)),
        refused(unavailable, **{"Retry-After": "7"}),
        events(message(42, 8)),
    )
    assert take(sync_client(script).stream_subscribe(), 2) == [41, 42]
    # The server's retry: before reconnecting, then the client's RetryPolicy for the 503.
    assert sleeps == [1.0, 7.0]
    assert last_event_ids(script) == [None, "41", "41"]


def test_a_proxy_error_on_reconnecting_is_reconnected_after(sleeps: list[float]) -> None:
    script = Script(
        events(message(41, 7)),
        httpx.Response(502, text="<html>Bad Gateway</html>"),
        events(message(42, 8)),
    )
    assert take(sync_client(script).stream_subscribe(), 2) == [41, 42]
    assert len(sleeps) == 2
    assert last_event_ids(script) == [None, "41", "41"]


def test_a_401_on_reconnecting_raises(sleeps: list[float]) -> None:
    script = Script(events(message(41, 7), message(42, 8)), refused(UNAUTHORIZED))
    stream = sync_client(script).stream_subscribe()
    assert [event.id for event in islice(stream, 2)] == [41, 42]
    with pytest.raises(CredscoreError) as refusal:
        next(stream)
    assert (refusal.value.status, refusal.value.detail) == (401, "The API key was revoked.")
    assert last_event_ids(script) == [None, "42"]
    assert len(script.requests) == 2


def test_with_reconnection_off_the_stream_ends_with_its_connection(sleeps: list[float]) -> None:
    script = Script(events(message(41, 7), message(42, 8)))
    assert [e.id for e in sync_client(script).stream_subscribe(reconnect=False)] == [41, 42]
    assert len(script.requests) == 1
    assert sleeps == []
    # A network error is raised, as before reconnection existed.
    script = Script(events(message(41, 7), cut=dropped()))
    stream = sync_client(script).stream_subscribe(reconnect=False)
    assert next(stream).id == 41
    with pytest.raises(httpx.RemoteProtocolError):
        next(stream)
    assert len(script.requests) == 1


def test_reconnection_is_bounded_by_attempts_in_a_row_that_bring_nothing(
    sleeps: list[float],
) -> None:
    script = Script(
        events(message(41, 7)),
        httpx.ConnectError("connection refused"),
        # Delivered something (a keep-alive comment): the count starts again.
        events(b": ping\n\n"),
        httpx.ConnectError("connection refused"),
        httpx.ConnectError("connection refused"),
    )
    stream = sync_client(script).stream_subscribe(reconnect=2)
    assert next(stream).id == 41
    with pytest.raises(httpx.ConnectError):
        next(stream)
    assert len(script.requests) == 5
    assert len(sleeps) == 4
    # A server that keeps closing the stream at once ends the iteration at the bound.
    script = Script(events(message(41, 7)), events(), events())
    assert [e.id for e in sync_client(script).stream_subscribe(reconnect=1)] == [41]
    assert len(script.requests) == 2


def test_other_streams_do_not_reconnect(sleeps: list[float]) -> None:
    # A CSV export opened again would start over: its drop is raised.
    script = Script(httpx.Response(200, stream=Chunks(b"id,text\n1,a\n", cut=dropped())))
    lines = sync_client(script).export_csv("claims")
    assert next(lines) == "id,text\n"
    with pytest.raises(httpx.RemoteProtocolError):
        list(lines)
    assert len(script.requests) == 1


def test_the_decoder_keeps_the_last_id_and_the_retry_field() -> None:
    decoder = EventStream()
    decoder.feed("retry: soon\n\n")  # not digits: ignored
    assert (decoder.last_event_id, decoder.retry) == (None, None)
    decoder.feed("retry: 1500\n: ping\n\n")
    assert decoder.retry == 1.5
    assert [e.id for e in decoder.feed(message(41, 7).decode() + "id: 42\ndata: {cut")] == [41]
    # The half-sent event's id is not the last one until the event is dispatched.
    assert decoder.last_event_id == "41"
    assert decoder.end() == []
    assert decoder.feed(": ping\n\n") == []
    assert decoder.last_event_id == "41"


async def test_the_async_client_reconnects_the_same_way(sleeps: list[float]) -> None:
    script = Script(
        httpx.Response(200, stream=Chunks(*CUT_AFTER_TWO, cut=dropped())),
        httpx.ConnectError("connection refused"),
        events(b"retry: 3000\n\n", message(43, 9), message(44, 10)),
        refused(UNAUTHORIZED),
    )
    async with async_client(script) as client:
        assert await take_async(client.stream_subscribe(last_event_id=40), 4) == [41, 42, 43, 44]
        assert last_event_ids(script) == ["40", "42", "42"]
        assert len(sleeps) == 2
        assert 0.25 <= sleeps[0] <= 0.5 <= sleeps[1] <= 1.0
        # Reading on: the server ended the stream, the reconnection waits its retry: and is
        # refused.
        stream = client.stream_subscribe(last_event_id=44)
        script.responses = [events(b"retry: 3000\n\n", message(45, 11)), refused(UNAUTHORIZED)]
        assert (await anext(stream)).id == 45
        with pytest.raises(CredscoreError) as refusal:
            await anext(stream)
        assert refusal.value.status == 401
        assert sleeps[2:] == [3.0]
        assert last_event_ids(script)[3:] == ["44", "45"]


async def test_the_async_client_with_reconnection_off_ends_with_its_connection(
    sleeps: list[float],
) -> None:
    script = Script(events(message(41, 7), message(42, 8)))
    async with async_client(script) as client:
        ids = [event.id async for event in client.stream_subscribe(reconnect=False)]
    assert ids == [41, 42]
    assert len(script.requests) == 1
    assert sleeps == []
