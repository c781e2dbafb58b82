"""The fast path for POST /v1/score and POST /v1/claims answers exactly as the routes do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from service.claims import fast_path as claim_fast_path
from service.claims.models import Claim
from service.database.transaction import request_transaction
from service.scores.models import Score
from service.settings import Settings
from tests.conftest import in_process_client, make_key, running_app
from tests.service.factories import claim_body, create_outlet

# Fields that differ between two otherwise identical answers.
VOLATILE = {"id", "computed_at", "created_at"}


def stable(document: Any) -> Any:
    if isinstance(document, dict):
        return {key: stable(value) for key, value in document.items() if key not in VOLATILE}
    if isinstance(document, list):
        return [stable(item) for item in document]
    return document


class Served:
    """How many requests ClaimFastPath answered itself, in every app of the test."""

    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Served:
    """Counts the fast path's answers: it opens a request transaction of its own for each
    request it takes (before admitting it, so a refused one counts too)."""
    counter = Served()

    def counting(sessions: Any) -> Any:
        counter.count += 1
        return request_transaction(sessions)

    monkeypatch.setattr(claim_fast_path, "request_transaction", counting)
    return counter


@pytest.fixture
def cached_settings(settings: Settings) -> Settings:
    # Keys stay verified in memory, which the fast path needs (the suite's default is 0 s).
    return settings.model_copy(update={"auth_cache_seconds": 60})


@pytest.fixture
async def fast_app(cached_settings: Settings) -> AsyncIterator[Any]:
    async with running_app(cached_settings) as application:
        yield application


@pytest.fixture
async def fast(fast_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_client(fast_app) as http:
        yield http


@pytest.fixture
async def routed(cached_settings: Settings, fast_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The same database through the routes only (fast path off)."""
    routes_only = cached_settings.model_copy(update={"fast_path": False})
    async with running_app(routes_only) as application, in_process_client(application) as http:
        yield http


@pytest.fixture
async def headers(fast_app: Any, fast: httpx.AsyncClient) -> dict[str, str]:
    key = await make_key(fast_app, "fast-admin", ["read", "submit", "admin"])
    headers = {"Authorization": f"Bearer {key}"}
    await create_outlet(fast, headers)
    # The first request verifies the key against the database (the route's job); later
    # requests find it in memory.
    assert (await fast.get("/v1/outlets", headers=headers)).status_code == 200
    return headers


async def both(
    fast: httpx.AsyncClient,
    routed: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    **request: Any,
) -> tuple[httpx.Response, httpx.Response]:
    return (
        await fast.post(path, headers=headers, **request),
        await routed.post(path, headers=headers, **request),
    )


class TestSameAnswers:
    @pytest.mark.parametrize("path", ["/v1/score", "/v1/claims"])
    @pytest.mark.parametrize(
        "body",
        [
            claim_body(),
            claim_body(figure={"low": 10, "high": 20, "unit": "people"}, topic="casualties"),
            claim_body(text="Ünïcode <b>text</b>; DROP TABLE claims;--"),
        ],
    )
    async def test_valid_claims(
        self,
        fast_app: Any,
        fast: httpx.AsyncClient,
        routed: httpx.AsyncClient,
        headers: dict[str, str],
        path: str,
        body: dict[str, Any],
        served: Served,
    ) -> None:
        before = served.count
        quick, reference = await both(fast, routed, path, headers, json=body)
        assert served.count == before + 1
        assert quick.status_code == reference.status_code == (201 if path == "/v1/claims" else 200)
        assert quick.headers["content-type"] == reference.headers["content-type"]
        assert stable(quick.json()) == stable(reference.json())
        if path == "/v1/claims":
            assert quick.headers["location"] == f"/v1/claims/{quick.json()['id']}"
            stored = await fast.get(quick.headers["location"], headers=headers)
            assert stable(stored.json()) == stable(quick.json())

    @pytest.mark.parametrize("path", ["/v1/score", "/v1/claims"])
    @pytest.mark.parametrize(
        ("content", "content_type"),
        [
            (b'{"outlet_slug": "test-wire"}', "application/json"),
            (b'{"outlet_slug": "test-wire", "text": 5}', "application/json"),
            (b"{not json", "application/json"),
            (
                b'{"outlet_slug": "nobody", "text": "x", "published_at": "2024-01-01T00:00:00Z"}',
                "application/json",
            ),
            (
                b'{"outlet_slug": "test-wire", "text": "x", '
                b'"published_at": "2999-01-01T00:00:00Z"}',
                "application/json",
            ),
            (b'{"outlet_slug": "test-wire", "text": "x", "published_at": 1}', "application/json"),
            (b"outlet_slug=test-wire", "application/x-www-form-urlencoded"),
        ],
    )
    async def test_errors(
        self,
        fast: httpx.AsyncClient,
        routed: httpx.AsyncClient,
        headers: dict[str, str],
        session: Any,
        path: str,
        content: bytes,
        content_type: str,
    ) -> None:
        quick, reference = await both(
            fast, routed, path, {**headers, "Content-Type": content_type}, content=content
        )
        assert quick.status_code == reference.status_code
        assert quick.status_code in {400, 415, 422}
        assert quick.headers["content-type"] == "application/problem+json"
        assert stable_problem(quick.json()) == stable_problem(reference.json())
        assert await session.scalar(select(func.count()).select_from(Claim)) == 0

    @pytest.mark.parametrize("path", ["/v1/score", "/v1/claims"])
    @pytest.mark.parametrize("depth", [980, 5_000])
    async def test_deeply_nested_json(
        self,
        fast: httpx.AsyncClient,
        routed: httpx.AsyncClient,
        headers: dict[str, str],
        path: str,
        depth: int,
    ) -> None:
        """Was a 500 on the fast path (RecursionError) and a 400 on the route."""
        content = b"[" * depth + b"]" * depth
        quick, reference = await both(
            fast, routed, path, {**headers, "Content-Type": "application/json"}, content=content
        )
        assert quick.status_code == reference.status_code
        assert quick.status_code in {400, 422}
        assert stable_problem(quick.json()) == stable_problem(reference.json())


def stable_problem(problem: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in problem.items() if key not in {"instance", "request_id"}}


class TestWhatItServes:
    async def test_an_uncached_key_is_verified_as_by_the_route(
        self, fast_app: Any, fast: httpx.AsyncClient, served: Served
    ) -> None:
        admin = {"Authorization": f"Bearer {await make_key(fast_app, 'a', ['admin', 'read'])}"}
        await create_outlet(fast, admin)
        key = await make_key(fast_app, "submitter", ["submit"])
        headers = {"Authorization": f"Bearer {key}"}
        before = served.count
        for count in (1, 2):
            response = await fast.post("/v1/score", json=claim_body(), headers=headers)
            assert response.status_code == 200
            assert served.count == before + count

    async def test_missing_scope_and_bad_keys_are_refused_as_by_the_route(
        self, fast_app: Any, fast: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        reader = {"Authorization": f"Bearer {await make_key(fast_app, 'r', ['read'])}"}
        assert (await fast.get("/v1/outlets", headers=reader)).status_code == 200
        for path in ("/v1/score", "/v1/claims"):
            refused = await fast.post(path, json=claim_body(), headers=reader)
            assert refused.status_code == 403
            wrong = {"Authorization": headers["Authorization"][:-3] + "xyz"}
            assert (await fast.post(path, json=claim_body(), headers=wrong)).status_code == 401
            assert (await fast.post(path, json=claim_body())).status_code == 401

    @pytest.mark.parametrize("path", ["/v1/score", "/v1/claims"])
    async def test_repeated_key_headers_are_read_as_the_route_reads_them(
        self, fast: httpx.AsyncClient, headers: dict[str, str], path: str
    ) -> None:
        good = headers["Authorization"]
        bad = "Bearer cs_000000000000_not-a-key"
        first_bad = await fast.post(
            path, json=claim_body(), headers=[("Authorization", bad), ("Authorization", good)]
        )
        first_good = await fast.post(
            path, json=claim_body(), headers=[("Authorization", good), ("Authorization", bad)]
        )
        assert first_bad.status_code == 401
        assert first_good.status_code in {200, 201}

    async def test_idempotent_requests_take_the_route(
        self, fast: httpx.AsyncClient, headers: dict[str, str], session: Any, served: Served
    ) -> None:
        before = served.count
        keyed = {**headers, "Idempotency-Key": "once"}
        first = await fast.post("/v1/claims", json=claim_body(), headers=keyed)
        again = await fast.post("/v1/claims", json=claim_body(), headers=keyed)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.headers["idempotent-replayed"] == "true"
        assert served.count == before
        assert await session.scalar(select(func.count()).select_from(Claim)) == 1

    async def test_chunked_body_over_the_limit_is_413(
        self, fast: httpx.AsyncClient, headers: dict[str, str], cached_settings: Settings
    ) -> None:
        size = cached_settings.max_body_bytes + 10

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"text": "'
            yield b"x" * size
            yield b'"}'

        response = await fast.post(
            "/v1/claims",
            content=chunks(),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"

    @pytest.mark.parametrize("path", ["/v1/score", "/v1/claims"])
    async def test_over_the_rate_limit_is_429_as_on_the_route(
        self, cached_settings: Settings, path: str, served: Served
    ) -> None:
        """Was a 500 on the fast path for a body nested too deep to parse."""
        limited = cached_settings.model_copy(
            update={"rate_limit_per_minute": 1, "rate_limit_burst": 2}
        )
        deep = b"[" * 980 + b"]" * 980
        json_type = {"Content-Type": "application/json"}
        answers, answered = {}, {}
        for fast_path in (True, False):
            before = served.count
            settings = limited.model_copy(update={"fast_path": fast_path})
            async with running_app(settings) as application, in_process_client(application) as http:
                slug = f"wire-{int(fast_path)}"
                key = await make_key(application, slug, ["admin", "submit", "read"])
                headers = {"Authorization": f"Bearer {key}"}
                await create_outlet(http, headers, slug)  # first token: verifies, caches the key
                answers[fast_path] = [
                    await http.post(path, json=claim_body(slug), headers=headers),  # second token
                    await http.post(path, json=claim_body(slug), headers=headers),
                    await http.post(path, content=deep, headers=headers | json_type),
                ]
                answered[fast_path] = served.count - before
        for quick, reference in zip(answers[True], answers[False], strict=True):
            assert quick.status_code == reference.status_code
            if quick.status_code >= 400:
                assert stable_problem(quick.json()) == stable_problem(reference.json())
        assert [response.status_code for response in answers[True]][1:] == [429, 400]
        assert answers[True][1].headers["retry-after"] == answers[False][1].headers["retry-after"]
        assert answered == {True: 2, False: 0}  # the 429 too: refused by the same admit

    async def test_rate_limit_takes_one_token_per_request(
        self, cached_settings: Settings, session: Any, served: Served
    ) -> None:
        limited = cached_settings.model_copy(
            update={"rate_limit_per_minute": 1, "rate_limit_burst": 4}
        )
        async with running_app(limited) as application, in_process_client(application) as http:
            key = await make_key(application, "limited", ["admin", "submit", "read"])
            headers = {"Authorization": f"Bearer {key}"}
            await create_outlet(http, headers)  # first token: verifies and caches the key
            statuses = [
                (await http.post("/v1/claims", json=claim_body(), headers=headers)).status_code
                for _ in range(4)
            ]
            assert served.count >= 1
        assert statuses == [201, 201, 201, 429]
        assert await session.scalar(select(func.count()).select_from(Claim)) == 3
        assert await session.scalar(select(func.count()).select_from(Score)) == 3


class TestEventFigures:
    """Claims about an event: the unit check and the Admiralty code are the routes' own."""

    async def _event(self, fast: httpx.AsyncClient, headers: dict[str, str]) -> int:
        body = {"title": "Civilians killed", "quantity_kind": "civilian_deaths", "unit": "people"}
        response = await fast.post("/v1/events", json=body, headers=headers)
        assert response.status_code == 201
        event_id: int = response.json()["id"]
        return event_id

    @pytest.mark.parametrize("path", ["/v1/score", "/v1/claims"])
    async def test_a_figure_in_another_unit_is_refused_on_the_fast_path(
        self,
        fast_app: Any,
        fast: httpx.AsyncClient,
        routed: httpx.AsyncClient,
        headers: dict[str, str],
        session: Any,
        path: str,
        served: Served,
    ) -> None:
        event_id = await self._event(fast, headers)
        body = claim_body(event_id=event_id, figure={"value": 7, "unit": "buildings"})
        before = served.count
        quick, reference = await both(fast, routed, path, headers, json=body)
        assert served.count == before + 1
        assert quick.status_code == reference.status_code == 422
        assert quick.headers["content-type"] == "application/problem+json"
        assert stable_problem(quick.json()) == stable_problem(reference.json())
        [error] = quick.json()["errors"]
        assert error["type"] == "unit_mismatch"
        assert "'buildings'" in error["message"]
        assert "'people'" in error["message"]
        assert await session.scalar(select(func.count()).select_from(Claim)) == 0

    @pytest.mark.parametrize("path", ["/v1/score", "/v1/claims"])
    async def test_admiralty_codes_are_the_same(
        self,
        fast_app: Any,
        fast: httpx.AsyncClient,
        routed: httpx.AsyncClient,
        headers: dict[str, str],
        path: str,
        served: Served,
    ) -> None:
        event_id = await self._event(fast, headers)
        await create_outlet(fast, headers, "other-wire")
        for slug, value in (("test-wire", 40), ("other-wire", 41)):
            response = await fast.post(
                "/v1/claims",
                json=claim_body(slug, event_id=event_id, figure={"value": value}),
                headers=headers,
            )
            assert response.status_code == 201
        await fast_app.state.context.jobs.drain()
        body = claim_body(event_id=event_id, figure={"value": 40, "unit": "people"})
        before = served.count
        quick, reference = await both(fast, routed, path, headers, json=body)
        assert served.count == before + 1
        score = quick.json() if path == "/v1/score" else quick.json()["score"]
        assert score["admiralty"]["code"] == "F1"
        assert stable(quick.json()) == stable(reference.json())
