"""A poller's conditional GET of a claim answered with 304 before the router runs."""

from __future__ import annotations

import re
from types import SimpleNamespace

from starlette.types import ASGIApp, Receive, Scope, Send

from service import generations
from service.auth.schemas import Scope as KeyScope
from service.auth.service import admit_cached, first_headers
from service.context import app_context
from service.errors import CredscoreError
from service.http_caching import POLL_CACHE, etag_matches

_CLAIM_PATH = re.compile(r"^/v1/claims/([1-9][0-9]{0,9})$")
_CLAIM_ROUTE = SimpleNamespace(path="/v1/claims/{claim_id}")


class NotModifiedFastPath:
    """Answers a poller's conditional GET of a claim with 304 before the router runs.

    Only when everything is already in memory: the counters, the claim's current ETag, and a
    key this process verified recently that ``admit_cached`` lets in (read scope, rate-limit
    room; the same checks as the route's ``admit``). Anything else (a query string, an unknown key,
    a refusal, a cache miss, a changed claim) falls through to the ordinary route, which
    answers it fully; so this path can only ever say "not modified" when the route would have
    said the same.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            match = _CLAIM_PATH.match(scope["path"])
            if match is not None and await self._not_modified(scope, int(match.group(1)), send):
                return
        await self.app(scope, receive, send)

    async def _not_modified(self, scope: Scope, claim_id: int, send: Send) -> bool:
        wanted = first_headers(scope["headers"]).get(b"if-none-match")
        context = app_context(scope["app"])
        counters = context.generations.values
        if wanted is None or counters is None:
            return False
        etag = context.claim_etags.peek(claim_id, counters[generations.CLAIM_VERSIONS])
        if etag is None or not etag_matches(wanted.decode("latin-1"), etag):
            return False
        try:
            if admit_cached(scope, KeyScope.READ, context.key_cache, context.rate_limiter) is None:
                return False
        except CredscoreError:
            return False  # the route refuses it the same way (admit took no token)
        scope["route"] = _CLAIM_ROUTE
        await send(
            {
                "type": "http.response.start",
                "status": 304,
                "headers": [
                    (b"etag", etag.encode()),
                    (b"cache-control", POLL_CACHE.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})
        return True
