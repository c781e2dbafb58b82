"""GET /v1/stream against a real server (streams need a socket: the in-process transport
buffers whole responses)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from service.push.models import OutboxEvent
from service.settings import Settings
from tests.service.conftest import LiveServer
from tests.service.factories import claim_body, outlet_body

# Guards against a hang, not a timing assertion.
PATIENCE_SECONDS = 60


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[LiveServer]:
    server = LiveServer(
        settings.model_copy(
            update={
                "jobs_enabled": True,
                "jobs_poll_seconds": 0.2,
                "push_poll_seconds": 0.5,
                "stream_ping_seconds": 1.0,
            }
        )
    )
    await server.start()
    yield server
    await server.stop()


class Stream:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()
        self.comments = 0

    async def next(self) -> dict[str, Any]:
        """The next message: its id, event and decoded data."""
        return await asyncio.wait_for(self._next(), PATIENCE_SECONDS)

    async def _next(self) -> dict[str, Any]:
        fields: dict[str, str] = {}
        async for line in self.lines:
            if not line:
                if fields:
                    return {
                        "id": int(fields["id"]),
                        "event": fields["event"],
                        "data": orjson.loads(fields["data"]),
                    }
                continue
            if line.startswith(":"):
                self.comments += 1
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        raise AssertionError("the stream ended")

    async def until(self, predicate: Any) -> list[dict[str, Any]]:
        """Messages up to and including the first that ``predicate`` accepts."""
        seen = []
        while True:
            message = await self.next()
            seen.append(message)
            if predicate(message):
                return seen


@asynccontextmanager
async def open_stream(
    http: httpx.AsyncClient, headers: dict[str, str], query: str = "", **extra: str
) -> AsyncIterator[Stream]:
    async with http.stream(
        "GET", f"/v1/stream{query}", headers={**headers, **extra}, timeout=PATIENCE_SECONDS
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)


async def post(http: httpx.AsyncClient, headers: dict[str, str], path: str, body: Any) -> Any:
    response = await http.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_stream_gets_the_rescore_after_a_verdict_and_resumes_without_loss(
    live: LiveServer, admin_headers: dict[str, str], read_headers: dict[str, str], app: Any
) -> None:
    async with httpx.AsyncClient(base_url=live.url) as http:
        await post(http, admin_headers, "/v1/outlets", outlet_body("monitor"))
        await post(http, admin_headers, "/v1/outlets", outlet_body("other"))
        judged = await post(http, admin_headers, "/v1/claims", claim_body("monitor"))
        still_open = await post(
            http,
            admin_headers,
            "/v1/claims",
            claim_body("monitor", published_at="2024-07-01T00:00:00Z"),
        )
        async with open_stream(http, read_headers, "?outlet=monitor&types=claim.scored") as stream:
            verdict = await http.post(
                f"/v1/claims/{judged['id']}/verdicts",
                json={"rating": "false", "source": "desk", "decided_at": "2024-06-01T00:00:00Z"},
                headers=admin_headers,
            )
            assert verdict.status_code == 201
            await post(http, admin_headers, "/v1/claims", claim_body("other"))
            seen = await stream.until(
                lambda message: message["data"]["data"]["claim_id"] == still_open["id"]
            )
            # Only the filtered outlet and type: not the verdict, not the other outlet's claim.
            assert {message["event"] for message in seen} == {"claim.scored"}
            assert {message["data"]["data"]["outlet"] for message in seen} == {"monitor"}
            rescore = seen[-1]["data"]
            assert rescore["type"] == "claim.scored"
            assert rescore["data"]["trigger"] == "verdict.recorded"
            current = (
                await http.get(f"/v1/claims/{still_open['id']}", headers=read_headers)
            ).json()
            assert rescore["data"]["probability"] == current["score"]["probability"]

        # Disconnected; meanwhile three more claims are scored. Resuming from the last id seen
        # gets exactly the events after it, in order, then live ones.
        last_seen = seen[-1]["id"]
        missed = [
            await post(
                http,
                admin_headers,
                "/v1/claims",
                claim_body("monitor", text=f"Strikes killed {n} people."),
            )
            for n in range(3)
        ]
        async with open_stream(
            http, read_headers, "?outlet=monitor", **{"Last-Event-ID": str(last_seen)}
        ) as stream:
            resumed = [await stream.next() for _ in missed]
            live_claim = await post(http, admin_headers, "/v1/claims", claim_body("monitor"))
            after = await stream.next()
        assert [m["data"]["data"]["claim_id"] for m in resumed] == [c["id"] for c in missed]
        assert after["data"]["data"]["claim_id"] == live_claim["id"]
        ids = [message["id"] for message in [*resumed, after]]
        assert ids == sorted(set(ids))
        assert ids[0] > last_seen
        # The ids are the outbox's: nothing of this outlet lies between them unsent.
        async with app.state.context.sessionmaker() as session:
            stored = (
                await session.scalars(
                    select(OutboxEvent.id)
                    .where(OutboxEvent.id > last_seen, OutboxEvent.outlet_id == judged["outlet_id"])
                    .order_by(OutboxEvent.id)
                )
            ).all()
        assert ids == list(stored)


async def test_resume_by_query_parameter_and_event_filter(
    live: LiveServer, admin_headers: dict[str, str], read_headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=live.url) as http:
        await post(http, admin_headers, "/v1/outlets", outlet_body("monitor"))
        event = await post(
            http,
            admin_headers,
            "/v1/events",
            {"title": "Strike casualties", "quantity_kind": "civilian_deaths"},
        )
        await post(http, admin_headers, "/v1/claims", claim_body("monitor"))
        about = await post(
            http, admin_headers, "/v1/claims", claim_body("monitor", event_id=event["id"])
        )
        async with open_stream(
            http, read_headers, f"?event={event['id']}&types=claim.scored&last_event_id=0"
        ) as stream:
            first = await stream.next()
        assert first["data"]["data"]["claim_id"] == about["id"]
        assert first["data"]["data"]["event_id"] == event["id"]


async def test_keep_alive_comments_flow_while_nothing_changes(
    live: LiveServer, read_headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=live.url) as http:
        async with http.stream(
            "GET", "/v1/stream", headers=read_headers, timeout=PATIENCE_SECONDS
        ) as response:
            lines = response.aiter_lines()
            line = await asyncio.wait_for(anext(lines), PATIENCE_SECONDS)
        assert line.startswith(":")


async def test_stream_needs_a_read_key_and_valid_filters(
    client: httpx.AsyncClient, read_headers: dict[str, str], submit_headers: dict[str, str]
) -> None:
    assert (await client.get("/v1/stream")).status_code == 401
    assert (await client.get("/v1/stream", headers=submit_headers)).status_code == 403
    response = await client.get(
        "/v1/stream?outlet=nowhere&types=claim.scored,nonsense", headers=read_headers
    )
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [
        ["query", "outlet"],
        ["query", "types"],
    ]
    # Not ids: words, digits that are not ASCII ("²" passes str.isdigit), beyond the id range.
    for resume in (b"yesterday", "\u00b2".encode(), str(2**63).encode()):
        bad_resume = await client.get(
            "/v1/stream", headers={**read_headers, "Last-Event-ID": resume}
        )
        assert bad_resume.status_code == 422, resume
    for query in ("outlet=%C2%B2", f"last_event_id={2**63}"):
        response = await client.get(f"/v1/stream?{query}", headers=read_headers)
        assert response.status_code == 422, query


async def test_a_change_made_by_another_replica_reaches_the_stream(
    settings: Settings,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    read_headers: dict[str, str],
) -> None:
    """Two apps on one database: the change is committed by the in-process one (``client``).

    On PostgreSQL the streaming replica never polls here (an hour): only NOTIFY can wake it.
    On SQLite another process's commit is found by the poll.
    """
    postgres = settings.database_url.startswith("postgresql")
    server = LiveServer(
        settings.model_copy(update={"push_poll_seconds": 3600.0 if postgres else 0.2})
    )
    await server.start()
    try:
        await post(client, admin_headers, "/v1/outlets", outlet_body("monitor"))
        async with (
            httpx.AsyncClient(base_url=server.url) as http,
            open_stream(http, read_headers) as stream,
        ):
            claim = await post(client, admin_headers, "/v1/claims", claim_body("monitor"))
            message = await stream.next()
        assert message["data"]["data"]["claim_id"] == claim["id"]
    finally:
        await server.stop()
