"""POST /v1/score and POST /v1/claims for the plain request, without FastAPI's per-request work.

Profiling these two routes under load (bench/README.md) showed FastAPI's dependency solving,
route matching and response re-validation costing more than the scoring itself. For the plain
request (a key this process verified recently, with the submit scope and rate-limit room, a
JSON body that validates, no Idempotency-Key) this middleware runs the same service code with
the same models and the same transaction rule (commit before the response) and answers
directly. Everything else, before any work is done and before a rate-limit token is taken, is
handed on unchanged (the body replayed) to the ordinary route, which answers it fully: unknown
or uncached keys, missing scopes, rate limits, bad or non-JSON bodies, validation errors,
idempotent retries. Errors raised once the work has started are rendered by the app's own
exception handlers (``error_response``), so they read exactly as the route's would.

The routes stay the documented interface (OpenAPI comes from them) and the reference; a test
checks that both paths give the same answers. ``CREDSCORE_FAST_PATH=false`` turns this off.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.auth.service import Principal, cached_principal, first_headers, presented_key
from service.claims.router import claim_read
from service.claims.schemas import ClaimCreate, ClaimRead
from service.claims.service import ClaimService
from service.db import request_transaction
from service.errors import error_response
from service.scores.schemas import ScoreRead
from service.scores.service import preview_read

# Validated and serialised as FastAPI does for a body parameter and a response model.
_CLAIM_CREATE = TypeAdapter(ClaimCreate)
_CLAIM_READ = TypeAdapter(ClaimRead)
_SCORE_READ = TypeAdapter(ScoreRead)

Handler = Callable[[Any, ClaimCreate, Principal], Awaitable[Response]]


async def _preview(state: Any, item: ClaimCreate, principal: Principal) -> Response:
    async with request_transaction(state) as session:
        computed = await ClaimService(session, state.scoring, state.settings).preview(item)
    return Response(_SCORE_READ.dump_json(preview_read(computed)), media_type="application/json")


async def _create(state: Any, item: ClaimCreate, principal: Principal) -> Response:
    async with request_transaction(state) as session:
        service = ClaimService(session, state.scoring, state.settings)
        pending = await service.check_one(item, submitter=principal)
    stored = await state.claim_writer.submit(pending)
    return Response(
        _CLAIM_READ.dump_json(claim_read(stored)),
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/v1/claims/{stored.claim.id}"},
    )


_ROUTES: dict[str, tuple[Handler, SimpleNamespace]] = {
    "/v1/score": (_preview, SimpleNamespace(path="/v1/score")),
    "/v1/claims": (_create, SimpleNamespace(path="/v1/claims")),
}


class ClaimFastPath:
    """See the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _ROUTES.get(scope["path"]) if scope["type"] == "http" else None
        if route is None or scope["method"] != "POST" or not scope["app"].state.settings.fast_path:
            await self.app(scope, receive, send)
            return
        headers = first_headers(scope["headers"])
        principal = self._plain_caller(scope, headers)
        if principal is None:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        try:
            body = await _read_body(receive)
        except Exception as exc:  # the body-size limit's 413, raised while reading
            await (await error_response(Request(scope), exc))(scope, receive, send)
            return
        item = _parse(body)
        if item is None or state.rate_limiter.retry_after(principal.key_id) > 0:
            await self.app(scope, _replay(body, receive), send)
            return
        handler, route_record = route
        state.fast_path_served += 1
        scope.setdefault("state", {})["key_name"] = principal.name
        scope["route"] = route_record
        try:
            response = await handler(state, item, principal)
        except Exception as exc:  # rendered exactly as the app's handlers render it
            response = await error_response(Request(scope), exc)
        await response(scope, receive, send)

    @staticmethod
    def _plain_caller(scope: Scope, headers: dict[bytes, bytes]) -> Principal | None:
        """The caller when the request is one this path serves; None hands it to the route."""
        if b"idempotency-key" in headers or not _is_json(headers.get(b"content-type")):
            return None
        presented = presented_key(headers)
        if presented is None:
            return None
        principal = cached_principal(scope["app"].state.key_cache, presented)
        if principal is None or "submit" not in principal.scopes:
            return None
        return principal


def _is_json(content_type: bytes | None) -> bool:
    if content_type is None:
        return False
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json"


def _parse(body: bytes) -> ClaimCreate | None:
    """The body as FastAPI would read it (``json.loads``, then validation); None if it fails."""
    try:
        return _CLAIM_CREATE.validate_python(json.loads(body), from_attributes=True)
    except (ValueError, ValidationError):
        return None


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that yields ``body`` once, then waits on the real one (for disconnects)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
