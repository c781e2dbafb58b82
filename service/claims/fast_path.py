"""POST /v1/score and POST /v1/claims for the plain request, without FastAPI's per-request work.

Profiling these two routes under load (bench/README.md) showed FastAPI's dependency solving,
route matching and response re-validation costing more than the scoring itself. For the plain
request (a JSON body that is a valid claim, no query string, no Idempotency-Key) this
middleware does what the route does, with the same functions: ``admit`` (key, scope, rate
limit; service/auth/service.py) and the claim handlers ``submit_claim`` / ``preview_claim``
(service/claims/router.py), in a request transaction of its own that commits before the
response. Errors raised there are rendered by the app's own exception handlers
(``error_response``), so they read exactly as the route's would.

Everything else is handed on unchanged (the body replayed) to the route, which answers it
fully, before any work is done and before a rate-limit token is taken: other content types, a
query string, an Idempotency-Key, and any body that does not parse and validate as a claim (so
every malformed-input error, however deep the JSON nests, is the route's own). The route reads
a valid body first too (FastAPI parses before it solves dependencies), so both admit, refuse
and answer in the same order.

The routes stay the documented interface (OpenAPI comes from them) and the reference; a test
checks that both paths give the same answers. ``CREDSCORE_FAST_PATH=false`` turns this off.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from types import SimpleNamespace

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.auth.schemas import Scope as KeyScope
from service.auth.service import Principal, admit, first_headers
from service.claims.router import preview_claim, submit_claim
from service.claims.schemas import ClaimCreate, ClaimRead
from service.context import AppContext, app_context
from service.database.transaction import request_transaction
from service.errors import error_response
from service.scores.schemas import ScoreRead

# Validated and serialised as FastAPI does for a body parameter and a response model.
_CLAIM_CREATE = TypeAdapter(ClaimCreate)
_CLAIM_READ = TypeAdapter(ClaimRead)
_SCORE_READ = TypeAdapter(ScoreRead)

Handler = Callable[[AppContext, AsyncSession, ClaimCreate, Principal], Awaitable[Response]]


async def _preview(
    context: AppContext, session: AsyncSession, item: ClaimCreate, _: Principal
) -> Response:
    read = await preview_claim(context, session, item)
    return Response(_SCORE_READ.dump_json(read), media_type="application/json")


async def _create(
    context: AppContext, session: AsyncSession, item: ClaimCreate, principal: Principal
) -> Response:
    created, _ = await submit_claim(context, session, item, principal, None)
    return Response(
        _CLAIM_READ.dump_json(created),
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/v1/claims/{created.id}"},
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
        if route is None or not self._plain(scope):
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except Exception as exc:  # the body-size limit's 413, raised while reading
            await (await error_response(Request(scope), exc))(scope, receive, send)
            return
        item = _parse(body)
        if item is None:
            await self.app(scope, _replay(body, receive), send)
            return
        handler, route_record = route
        context = app_context(scope["app"])
        scope["route"] = route_record
        try:
            async with request_transaction(context.sessions) as session:
                principal = await admit(
                    scope, KeyScope.SUBMIT, session, context.key_cache, context.rate_limiter
                )
                response = await handler(context, session, item, principal)
        except Exception as exc:  # rendered exactly as the app's handlers render it
            response = await error_response(Request(scope), exc)
        await response(scope, receive, send)

    @staticmethod
    def _plain(scope: Scope) -> bool:
        """Whether this is a request this path serves, from what is known before the body."""
        if scope["method"] != "POST" or scope["query_string"]:
            return False
        if not app_context(scope["app"]).settings.fast_path:
            return False
        headers = first_headers(scope["headers"])
        return b"idempotency-key" not in headers and _is_json(headers.get(b"content-type"))


def _is_json(content_type: bytes | None) -> bool:
    if content_type is None:
        return False
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json"


def _parse(body: bytes) -> ClaimCreate | None:
    """The body as a claim (``json.loads`` and validation, as FastAPI reads it); None when it
    is not one, whatever the reason (bad JSON, nesting too deep to parse, invalid fields)."""
    try:
        return _CLAIM_CREATE.validate_python(json.loads(body), from_attributes=True)
    except Exception:  # every refusal is the route's to give
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
