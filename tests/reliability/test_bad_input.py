"""Hostile and broken input: a clear 4xx problem+json, never a 5xx, and nothing stored.

tests/service/test_errors.py covers the basics (malformed JSON, invalid UTF-8 in an outlet, a
declared oversize body, deep arrays, form bodies, 10**400, SQL/HTML in outlet notes); this
module adds what it does not: bodies streamed without Content-Length, NaN and the infinities,
negative and huge counts, more content types, invalid UTF-8 and hostile text in every kind of
record, and regression tests for the bugs the fuzzing found.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from service.claims.models import Claim
from service.events.models import Event
from service.outlets.models import Outlet, OutletRecord
from service.settings import Settings
from service.verdicts.models import Verdict
from tests.conftest import in_process_client, make_key, running_app
from tests.reliability.conftest import ServerThread, count_rows, make_settings, seed_database
from tests.service.factories import claim_body, create_claim, create_outlet

PROBLEM = "application/problem+json"
JSON = {"content-type": "application/json"}
CHUNK = 64 * 1024
NOW = "2024-06-01T00:00:00Z"
PATHS = ("/v1/score", "/v1/claims")


async def count(app: Any, model: Any) -> int:
    """Rows of a table, read in a fresh session (no snapshot from earlier reads)."""
    async with app.state.context.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


def assert_problem(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = response.json()
    assert problem["status"] == response.status_code
    assert problem["detail"]
    assert problem["type"].startswith("/problems/")
    return problem


# --- Oversize bodies --------------------------------------------------------------------------


async def test_oversize_chunked_body_is_413_and_not_read_to_the_end(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    """No Content-Length: the body is counted as it streams and refused once over the limit."""
    await create_outlet(client, admin_headers)
    limit = app.state.context.settings.max_body_bytes
    total_chunks = (5 * limit) // CHUNK
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        head = b'{"outlet_slug": "test-wire", "published_at": "2024-05-01T12:00:00Z", "text": "'
        sent += len(head)
        yield head
        for _ in range(total_chunks):
            sent += CHUNK
            yield b"x" * CHUNK
        yield b'"}'

    response = await client.post("/v1/claims", content=body(), headers=admin_headers | JSON)
    assert "content-length" not in response.request.headers
    problem = assert_problem(response, 413)
    assert problem["type"] == "/problems/payload-too-large"
    # Refused at the read that crossed the limit, not after reading all 5x the limit.
    assert sent <= limit + 2 * CHUNK
    assert await count(app, Claim) == 0


async def test_oversize_batch_with_content_length_is_413(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    limit = app.state.context.settings.max_body_bytes
    items = [claim_body(text="y" * 5_000) for _ in range(limit // 5_000 + 10)]
    content = json.dumps({"claims": items}).encode()
    assert len(content) > limit
    response = await client.post("/v1/claims/batch", content=content, headers=admin_headers | JSON)
    assert_problem(response, 413)
    assert await count(app, Claim) == 0


async def test_lying_content_length_under_the_limit_does_not_let_more_in(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    """A small declared length with a large streamed body is still cut at the limit."""
    await create_outlet(client, admin_headers)
    limit = app.state.context.settings.max_body_bytes

    async def body() -> AsyncIterator[bytes]:
        yield b'{"outlet_slug": "test-wire", "published_at": "2024-05-01T12:00:00Z", "text": "'
        for _ in range((2 * limit) // CHUNK):
            yield b"z" * CHUNK
        yield b'"}'

    response = await client.post(
        "/v1/claims", content=body(), headers=admin_headers | JSON | {"content-length": "100"}
    )
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == PROBLEM
    assert await count(app, Claim) == 0


def test_oversize_bodies_over_the_wire_are_413(tmp_path: Path, sqlite_template: Path) -> None:
    """Under uvicorn, with Transfer-Encoding: chunked and with a declared Content-Length."""
    url = f"sqlite:///{tmp_path / 'wire.db'}"
    shutil.copyfile(sqlite_template, tmp_path / "wire.db")
    seeded = seed_database(url)
    before = count_rows(url, Claim)
    settings = make_settings(url)
    limit = settings.max_body_bytes
    head = b'{"outlet_slug": "test-wire", "published_at": "2024-05-01T12:00:00Z", "text": "'

    def chunked() -> Iterator[bytes]:
        yield head
        for _ in range((3 * limit) // CHUNK):
            yield b"x" * CHUNK
        yield b'"}'

    declared = head + b"x" * (limit + 1) + b'"}'
    with (
        ServerThread(settings) as server,
        httpx.Client(base_url=server.base_url, headers=seeded.headers | JSON, timeout=30) as client,
    ):
        streamed = client.post("/v1/claims", content=chunked())
        assert streamed.request.headers["transfer-encoding"] == "chunked"
        whole = client.post("/v1/claims", content=declared)
        assert whole.request.headers["content-length"] == str(len(declared))
        for response in (streamed, whole):
            problem = assert_problem(response, 413)
            assert problem["type"] == "/problems/payload-too-large"
        # The server is fine afterwards.
        assert client.get("/v1/outlets").status_code == 200
    assert count_rows(url, Claim) == before


# --- Numbers ----------------------------------------------------------------------------------


FIGURES = [
    '{"value": NaN}',
    '{"value": Infinity}',
    '{"value": -Infinity}',
    '{"low": -Infinity, "high": 5}',
    '{"low": 1, "high": Infinity}',
    '{"value": 1e309}',
    '{"value": -1e309}',
    '{"value": "Infinity"}',
    '{"value": "-Infinity"}',
    '{"value": "NaN"}',
    '{"value": 1e16}',
]


async def test_non_finite_and_out_of_range_figures_are_422(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    for figure in FIGURES:
        raw = (
            '{"outlet_slug": "test-wire", "text": "Strikes killed many.", '
            f'"published_at": "2024-05-01T12:00:00Z", "figure": {figure}}}'
        )
        for path, body in (
            ("/v1/claims", raw),
            ("/v1/claims/batch", f'{{"claims": [{raw}]}}'),
            ("/v1/score", raw),
        ):
            response = await client.post(path, content=body.encode(), headers=admin_headers | JSON)
            problem = assert_problem(response, 422)
            assert all("figure" in error["loc"] for error in problem["errors"]), (figure, problem)
    assert await count(app, Claim) == 0


BAD_COUNTS: list[dict[str, Any]] = [
    {"verified": -1},
    {"refuted": -3},
    {"corrections": -1, "retractions": -1},
    {"verified": 1_000_001},
    {"retractions": 10**20},
    {"verified": 10**400},
    {"refuted": 2.5},
    {"verified": "many"},
    {"corrections": None},
]


async def test_bad_counts_on_outlet_records_are_422(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    for counts in BAD_COUNTS:
        body = {"source": "checker", "as_of": "2024-01-01T00:00:00Z", **counts}
        response = await client.post(
            "/v1/outlets/test-wire/records", json=body, headers=admin_headers
        )
        problem = assert_problem(response, 422)
        assert {error["loc"][1] for error in problem["errors"]} == set(counts), problem
    for literal in ("NaN", "Infinity", "-Infinity"):
        raw = f'{{"source": "checker", "as_of": "2024-01-01T00:00:00Z", "verified": {literal}}}'
        response = await client.post(
            "/v1/outlets/test-wire/records", content=raw.encode(), headers=admin_headers | JSON
        )
        assert_problem(response, 422)
    assert await count(app, OutletRecord) == 0


async def test_out_of_range_ids_in_bodies_are_422(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    for field in ("outlet_id", "copy_of_claim_id", "event_id"):
        for value in (0, -1, 2**31, 2**63, 10**30):
            body = claim_body(**{field: value})
            if field == "outlet_id":
                body.pop("outlet_slug")
            for path, sent in (("/v1/claims", body), ("/v1/claims/batch", {"claims": [body]})):
                response = await client.post(path, json=sent, headers=admin_headers)
                assert_problem(response, 422)
    assert await count(app, Claim) == 0


BAD_PATHS = [
    "/v1/claims/2147483648",
    "/v1/claims/0",
    "/v1/claims/-1",
    "/v1/claims/99999999999999999999999",
    "/v1/claims/1e3",
    "/v1/events/2147483648",
    "/v1/claims/1/verdicts?limit=0",
    "/v1/claims?limit=-5",
    "/v1/claims?event_id=2147483648",
    "/v1/outlets?limit=1e3",
    "/v1/outlets/test-wire/records/2147483648",
    "/v1/api-keys/2147483648",
]


async def test_out_of_range_ids_in_paths_and_queries_are_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    for path in BAD_PATHS:
        method = "DELETE" if "/records/" in path or "/api-keys/" in path else "GET"
        response = await client.request(method, path, headers=admin_headers)
        assert_problem(response, 422)


async def test_a_limit_above_the_maximum_is_422_saying_the_maximum(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    """It used to be capped silently: a client asking for 1,000 got 500 and no hint."""
    maximum = app.state.context.settings.page_size_max
    for limit in (maximum + 1, 99999999999999999999):
        for path in _paginated_lists(app):
            response = await client.get(path, params={"limit": limit}, headers=admin_headers)
            problem = assert_problem(response, 422)
            assert problem["errors"][0]["loc"] == ["query", "limit"], (path, problem)
            assert str(maximum) in problem["detail"]
    assert (await client.get(f"/v1/claims?limit={maximum}", headers=admin_headers)).is_success


# --- Structure, encoding, content types ---------------------------------------------------------


async def test_deeply_nested_objects_in_a_claim_are_4xx(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    deep = '{"a":' * 50_000 + "1" + "}" * 50_000
    raw = (
        '{"outlet_slug": "test-wire", "text": "t", "published_at": "2024-05-01T12:00:00Z", '
        f'"figure": {deep}}}'
    )
    response = await client.post("/v1/claims", content=raw.encode(), headers=admin_headers | JSON)
    assert_problem(response, 400, 422)
    assert await count(app, Claim) == 0


_CLAIM_TAIL = b'", "published_at": "2024-05-01T12:00:00Z"}'
BAD_ENCODINGS = [
    b'{"outlet_slug": "test-wire", "text": "caf\xe9' + _CLAIM_TAIL,  # latin-1
    b'{"outlet_slug": "test-wire", "text": "\xed\xa0\x80' + _CLAIM_TAIL,  # encoded surrogate
    b'{"outlet_slug": "test-wire", "text": "\xc0\xaf' + _CLAIM_TAIL,  # overlong '/'
    b'{"outlet_slug": "test-wire", "text": "\\ud800' + _CLAIM_TAIL,  # escaped lone surrogate
    b'{"outlet_slug": "test-wire", "text": "nul\\u0000' + _CLAIM_TAIL,
    b'{"outlet_slug": "test-\xff\xfe", "text": "x' + _CLAIM_TAIL,
]


async def test_invalid_text_encodings_in_claims_are_4xx(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    for raw in BAD_ENCODINGS:
        for path, body in (
            ("/v1/claims", raw),
            ("/v1/claims/batch", b'{"claims": [' + raw + b"]}"),
        ):
            response = await client.post(path, content=body, headers=admin_headers | JSON)
            assert_problem(response, 400, 422)
    assert await count(app, Claim) == 0


NON_JSON_TYPES = [
    None,
    "text/plain",
    "application/xml",
    "multipart/form-data; boundary=zzz",
    "application/x-www-form-urlencoded",
    "application/octet-stream",
]


async def test_non_json_content_types_are_4xx_and_store_nothing(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    for content_type in NON_JSON_TYPES:
        headers = dict(admin_headers)
        if content_type is not None:
            headers["content-type"] = content_type
        for path, body in (("/v1/claims", claim_body()), ("/v1/events", {"title": "E"})):
            response = await client.post(path, content=json.dumps(body).encode(), headers=headers)
            assert_problem(response, 400, 415, 422)
    assert await count(app, Claim) == 0
    assert await count(app, Event) == 0


async def test_empty_and_non_object_bodies_are_4xx(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    for content in (b"", b"null", b"[]", b'"text"', b"42", b"{}", b"[" + b"1," * 10_000 + b"1]"):
        response = await client.post("/v1/claims", content=content, headers=admin_headers | JSON)
        assert_problem(response, 400, 422)
    assert await count(app, Claim) == 0


# --- Hostile text is stored and returned inert --------------------------------------------------

HOSTILE = [
    "Robert'); DROP TABLE claims;--",
    "' OR '1'='1' --",
    "<script>alert(document.cookie)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}} ${7*7} %s %n",
    "\u202eevil\u202c and \U0001f4a5 and \u0627\u0644\u0631\u0642\u0629",
]


async def test_hostile_text_is_stored_verbatim_everywhere(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    for index, text in enumerate(HOSTILE):
        event = await client.post(
            "/v1/events", json={"title": text, "place": text}, headers=admin_headers
        )
        assert event.status_code == 201, event.text
        claim = await create_claim(client, admin_headers, text=text, event_id=event.json()["id"])
        verdict = await client.post(
            f"/v1/claims/{claim['id']}/verdicts",
            json={"rating": "false", "source": text, "note": text, "decided_at": NOW},
            headers=admin_headers,
        )
        assert verdict.status_code == 201, verdict.text
        record = await client.post(
            "/v1/outlets/test-wire/records",
            json={"source": text, "note": text, "as_of": "2024-01-01T00:00:00Z", "verified": index},
            headers=admin_headers,
        )
        assert record.status_code == 201, record.text

        fetched = await client.get(f"/v1/claims/{claim['id']}", headers=admin_headers)
        assert fetched.headers["content-type"] == "application/json"
        assert fetched.json()["text"] == text
        fetched_event = await client.get(f"/v1/events/{event.json()['id']}", headers=admin_headers)
        assert fetched_event.json()["title"] == text
        assert fetched_event.json()["place"] == text
        verdicts = await client.get(f"/v1/claims/{claim['id']}/verdicts", headers=admin_headers)
        assert verdicts.json()["items"][0]["source"] == text
        assert verdicts.json()["items"][0]["note"] == text
    records = await client.get("/v1/outlets/test-wire/records", headers=admin_headers)
    assert [item["note"] for item in records.json()["items"]] == HOSTILE
    # Every table is still there and holds exactly what was written.
    assert await count(app, Outlet) == 1
    assert await count(app, Claim) == len(HOSTILE)
    assert await count(app, Event) == len(HOSTILE)
    assert await count(app, Verdict) == len(HOSTILE)
    assert await count(app, OutletRecord) == len(HOSTILE)


async def test_sql_in_search_and_filters_matches_nothing(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers, slug="wire-a")
    await create_outlet(client, admin_headers, slug="wire-b")
    for query in ("' OR 1=1 --", "x' UNION SELECT slug FROM outlets --", "\\"):
        await _search_matches_nothing(client, admin_headers, query)


async def _search_matches_nothing(
    client: httpx.AsyncClient, admin_headers: dict[str, str], query: str
) -> None:
    for params in ({"q": query}, {"conflict": query}):
        response = await client.get("/v1/outlets", params=params, headers=admin_headers)
        assert response.status_code in (200, 422), response.text
        if response.status_code == 200:
            assert response.json()["items"] == []
    claims = await client.get("/v1/claims", params={"outlet": query}, headers=admin_headers)
    assert claims.status_code in (200, 422)
    if claims.status_code == 200:
        assert claims.json()["items"] == []


# --- Regressions: bugs the fuzzing found, now fixed ----------------------------------------------

OUTLET_ROUTES = [
    ("GET", ""),
    ("GET", "/reliability"),
    ("GET", "/reliability/history"),
    ("GET", "/records"),
    ("POST", "/archive"),
    ("DELETE", "/records/1"),
]


async def test_superscript_digit_outlet_ref_is_404(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for reference in ("%C2%B9", "9%C2%B2"):
        for method, suffix in OUTLET_ROUTES:
            url = f"/v1/outlets/{reference}{suffix}"
            response = await client.request(method, url, headers=admin_headers)
            assert_problem(response, 404, 422)


async def test_superscript_digit_outlet_filter_on_claims_is_not_500(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.get("/v1/claims?outlet=%C2%B9", headers=admin_headers)
    assert response.status_code in (200, 404, 422), response.text[:300]


async def test_huge_numeric_outlet_ref_is_not_500(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for method, suffix in OUTLET_ROUTES:
        url = f"/v1/outlets/99999999999999999999{suffix}"
        response = await client.request(method, url, headers=admin_headers)
        assert_problem(response, 404, 422)
    listed = await client.get("/v1/claims?outlet=99999999999999999999", headers=admin_headers)
    assert listed.status_code in (200, 404, 422), listed.text[:300]


async def test_outlet_ref_just_past_int32_is_not_500(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    response = await client.get("/v1/outlets/2147483648", headers=admin_headers)
    assert_problem(response, 404, 422)
    listed = await client.get("/v1/claims?outlet=2147483648", headers=admin_headers)
    assert listed.status_code in (200, 404, 422)


EDGE_TIMESTAMPS = ["0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01"]


@pytest.mark.parametrize("moment", EDGE_TIMESTAMPS)
async def test_edge_timestamps_in_bodies_are_422(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str], moment: str
) -> None:
    await create_outlet(client, admin_headers)
    body = claim_body(published_at=moment)
    for path, sent in (
        ("/v1/claims", body),
        ("/v1/score", body),
        ("/v1/claims/batch", {"claims": [body]}),
        ("/v1/outlets/test-wire/records", {"source": "s", "as_of": moment}),
    ):
        response = await client.post(path, json=sent, headers=admin_headers)
        assert_problem(response, 422)
    assert await count(app, Claim) == 0


@pytest.mark.parametrize("moment", EDGE_TIMESTAMPS)
async def test_edge_timestamps_in_queries_are_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str], moment: str
) -> None:
    await create_outlet(client, admin_headers)
    for path, name in (("/v1/claims", "since"), ("/v1/outlets/test-wire/reliability", "as_of")):
        response = await client.get(path, params={name: moment}, headers=admin_headers)
        assert_problem(response, 422)


@pytest.mark.parametrize("query", ["%", "_"])
async def test_like_wildcards_in_q_are_literal(
    client: httpx.AsyncClient, admin_headers: dict[str, str], query: str
) -> None:
    await create_outlet(client, admin_headers, slug="wire-a")
    await create_outlet(client, admin_headers, slug="wire-b")
    response = await client.get("/v1/outlets", params={"q": query}, headers=admin_headers)
    assert response.status_code == 200
    assert response.json()["items"] == []


async def test_numbers_are_not_accepted_as_timestamps(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    for value in (384, "384", 1.5):
        claim = await client.post(
            "/v1/claims", json=claim_body(published_at=value), headers=admin_headers
        )
        assert_problem(claim, 422)
        event = await client.post(
            "/v1/events", json={"title": "E", "window_start": value}, headers=admin_headers
        )
        assert_problem(event, 422)
    assert await count(app, Claim) == 0
    assert await count(app, Event) == 0


async def test_strings_and_booleans_are_not_accepted_as_counts_or_flags(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    for counts in ({"verified": "5"}, {"refuted": True}):
        body = {"source": "checker", "as_of": "2024-01-01T00:00:00Z", **counts}
        response = await client.post(
            "/v1/outlets/test-wire/records", json=body, headers=admin_headers
        )
        assert_problem(response, 422)
    for flag in ("yes", 1):
        response = await client.post(
            "/v1/outlets",
            json={"slug": f"flag-{flag}", "name": "F", "kind": "wire", "on_the_ground": flag},
            headers=admin_headers,
        )
        assert_problem(response, 422)
    assert await count(app, OutletRecord) == 0
    assert await count(app, Outlet) == 1


# --- Regressions: what the outside review found (issue 10) -----------------------------------


def _paginated_lists(app: Any) -> list[str]:
    """Every GET operation with a ``cursor`` parameter, with 1 for each path parameter."""
    return [
        re.sub(r"\{[^}]+\}", "1", path)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
        if method == "get"
        and any(parameter["name"] == "cursor" for parameter in operation.get("parameters", []))
    ]


@pytest.mark.parametrize("after", [2**31, 2**63, 10**30, -1])
async def test_forged_out_of_range_cursors_are_422_on_every_list(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str], after: int
) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")
    lists = _paginated_lists(app)
    assert len(lists) >= 10, lists
    for path in lists:
        response = await client.get(path, params={"cursor": cursor}, headers=admin_headers)
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["loc"] == ["query", "cursor"], (path, problem)


async def test_idempotency_keys_of_single_and_batch_posts_never_collide(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    items = [claim_body(text=f"Batch item {index}.") for index in range(2)]
    batch = await client.post(
        "/v1/claims/batch", json={"claims": items}, headers=admin_headers | {"Idempotency-Key": "K"}
    )
    assert batch.status_code == 201, batch.text
    # The same body as the batch's item 1, under the key a batch item would have had.
    for key in ("K#1", "K"):
        single = await client.post(
            "/v1/claims", json=items[1], headers=admin_headers | {"Idempotency-Key": key}
        )
        assert single.status_code == 201, (key, single.text)
        assert "idempotent-replayed" not in single.headers
        assert single.json()["id"] not in {item["id"] for item in batch.json()["items"]}
    assert await count(app, Claim) == 4


async def test_empty_idempotency_key_is_422(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    for path, body in (
        ("/v1/claims", claim_body()),
        ("/v1/claims/batch", {"claims": [claim_body()]}),
    ):
        response = await client.post(
            path, json=body, headers=admin_headers | {"Idempotency-Key": ""}
        )
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["loc"] == ["header", "idempotency-key"]
    assert await count(app, Claim) == 0


async def test_longest_idempotency_key_works_for_a_batch(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    headers = admin_headers | {"Idempotency-Key": "k" * 200}
    body = {"claims": [claim_body(text=f"Item {index}.") for index in range(3)]}
    first = await client.post("/v1/claims/batch", json=body, headers=headers)
    again = await client.post("/v1/claims/batch", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200), (first.text, again.text)
    assert again.json() == first.json()
    assert await count(app, Claim) == 3


async def test_deep_json_and_rate_limits_on_the_fast_path_are_never_500(
    settings: Settings,
) -> None:
    """The review's case: ``[`` * 980 to POST /v1/score with a recently used key, within and
    over the key's rate limit (the fast path answered 500 to both)."""
    limited = settings.model_copy(
        update={"auth_cache_seconds": 5, "rate_limit_per_minute": 1, "rate_limit_burst": 3}
    )
    deep = b"[" * 980 + b"]" * 980
    async with running_app(limited) as application, in_process_client(application) as http:
        key = await make_key(application, "recent", ["read", "submit", "admin"])
        headers = {"Authorization": f"Bearer {key}"} | JSON
        await create_outlet(http, {"Authorization": f"Bearer {key}"})  # verified and cached
        responses = [await http.post(path, content=deep, headers=headers) for path in PATHS]
        for path in PATHS:  # the two tokens left, then over the limit
            responses.append(await http.post(path, json=claim_body(), headers=headers))
        responses += [await http.post(path, content=deep, headers=headers) for path in PATHS]
        over = [await http.post(path, json=claim_body(), headers=headers) for path in PATHS]
    statuses = [response.status_code for response in responses + over]
    assert statuses == [400, 400, 200, 201, 400, 400, 429, 429], statuses
    for response in responses[:2] + responses[4:] + over:
        assert_problem(response, 400, 429)


def _query_parameters(app: Any) -> list[tuple[str, str]]:
    """(path, query parameter) of every GET operation, with 1 for each path parameter."""
    return [
        (re.sub(r"\{[^}]+\}", "1", path), parameter["name"])
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
        if method == "get"
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    ]


async def test_nul_in_any_query_or_path_parameter_is_422(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    """PostgreSQL text cannot hold NUL: ``?q=%00`` on GET /v1/outlets was a 500 there."""
    await create_outlet(client, admin_headers)
    cases = _query_parameters(app)
    assert len(cases) >= 20, cases
    for path, name in cases:
        response = await client.get(f"{path}?{name}=a%00b", headers=admin_headers)
        problem = assert_problem(response, 422)
        assert ["query", name] in [error["loc"] for error in problem["errors"]], (path, name)
    for path in ("/v1/outlets/%00", "/v1/outlets/test-wire%00/records"):
        problem = assert_problem(await client.get(path, headers=admin_headers), 422)
        assert problem["errors"][0]["loc"] == ["path", "outlet_ref"]


async def test_json_responses_are_nosniff(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for response in (
        await client.get("/v1/outlets", headers=admin_headers),
        await client.get("/v1/outlets"),  # 401 problem+json
        await client.get("/v1/nowhere", headers=admin_headers),
        await client.get("/healthz"),
        await client.get("/openapi.json"),
    ):
        assert "json" in response.headers["content-type"]
        assert response.headers.get_list("x-content-type-options") == ["nosniff"]


async def test_405_lists_every_allowed_method(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for path, item in app.openapi()["paths"].items():
        allowed = sorted(method.upper() for method in item)
        refused = next(m for m in ("PUT", "PATCH", "DELETE", "POST") if m not in allowed)
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        response = await client.request(refused, concrete, headers=admin_headers)
        assert_problem(response, 405)
        assert response.headers["allow"] == ", ".join(allowed), (path, response.headers["allow"])


async def test_dashboard_slash_redirect_is_relative(client: httpx.AsyncClient) -> None:
    response = await client.get("/dashboard/", headers={"Host": "attacker.example"})
    assert response.is_redirect
    assert response.headers["location"] == "/dashboard"
