"""Conditional GETs for pollers: ETags, If-None-Match, 304 Not Modified."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import SimpleNamespace

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import generations
from service.auth.schemas import Scope as KeyScope
from service.auth.service import admit_cached, first_headers
from service.context import app_context
from service.errors import CredscoreError

# Pollers may keep a copy but must revalidate it every time: cheap with If-None-Match.
POLL_CACHE = "no-cache"


def not_modified(request: Request, etag: str) -> bool:
    """True when the client's If-None-Match already names this representation (weakly)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    return _matches(header, etag)


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


@dataclass(frozen=True, slots=True)
class Asset:
    """A static file the service ships (the dashboard's, the API docs'), read once."""

    body: bytes
    media_type: str
    etag: str


@cache
def load_asset(path: Path, media_type: str) -> Asset:
    body = path.read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:20]
    return Asset(body=body, media_type=media_type, etag=f'"{digest}"')


def serve_asset(request: Request, asset: Asset, headers: dict[str, str]) -> Response:
    """The asset with a strong ETag, revalidated on every use (a 304 while unchanged)."""
    all_headers = {"ETag": asset.etag, "Cache-Control": "no-cache", **headers}
    if not_modified(request, asset.etag):
        return Response(status_code=304, headers=all_headers)
    return Response(content=asset.body, media_type=asset.media_type, headers=all_headers)


class EtagCache:
    """ETags of polled resources, valid for one value of a generation counter.

    Pollers mostly ask about things that have not changed; answering their If-None-Match from
    here costs no query. Any change that could alter one of these resources bumps the counter,
    which empties the cache (in this process at once, in other replicas at their next refresh).
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._generation: int | None = None
        self._tags: dict[int, str] = {}

    def get(self, key: int, generation: int) -> str | None:
        if generation != self._generation:
            self._tags.clear()
            self._generation = generation
            return None
        return self._tags.get(key)

    def peek(self, key: int, generation: int) -> str | None:
        """Like ``get`` but never clears: for readers that must not change the cache."""
        return self._tags.get(key) if generation == self._generation else None

    def put(self, key: int, generation: int, etag: str) -> None:
        if generation != self._generation:
            return
        if len(self._tags) >= self.max_entries:
            # Oldest first: dicts keep insertion order, so this drops the earliest tenth.
            for stale in list(self._tags)[: self.max_entries // 10 or 1]:
                del self._tags[stale]
        self._tags[key] = etag


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
        if etag is None or not _matches(wanted.decode("latin-1"), etag):
            return False
        try:
            if admit_cached(scope, KeyScope.READ) is None:
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


class ResponseEtags:
    """An ETag (a hash of the body) and Cache-Control on every JSON 200 answer to a GET under
    /v1/ that has no ETag of its own (every list: a poller's unchanged list becomes a 304).

    The answer is still computed, but an unchanged one costs the poller no body.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith("/v1/")
        ):
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        chunks: list[bytes] = []

        async def send_tagged(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                if _taggable(message):
                    held = message
                    return
            elif held is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                await _send_tagged(scope, send, held, b"".join(chunks))
                return
            await send(message)

        await self.app(scope, receive, send_tagged)


def _taggable(start: Message) -> bool:
    if start["status"] != 200:
        return False
    headers = {name.lower(): value for name, value in start.get("headers", [])}
    media_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip()
    return b"etag" not in headers and media_type == b"application/json"


async def _send_tagged(scope: Scope, send: Send, start: Message, body: bytes) -> None:
    etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
    headers = [(name, value) for name, value in start.get("headers", [])]
    if all(name.lower() != b"cache-control" for name, _ in headers):
        headers.append((b"cache-control", POLL_CACHE.encode()))
    headers.append((b"etag", etag.encode()))
    wanted = first_headers(scope["headers"]).get(b"if-none-match")
    if wanted is not None and _matches(wanted.decode("latin-1"), etag):
        kept = {b"etag", b"cache-control", b"vary"}
        await send(
            {
                "type": "http.response.start",
                "status": 304,
                "headers": [(name, value) for name, value in headers if name.lower() in kept],
            }
        )
        await send({"type": "http.response.body", "body": b""})
        return
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _matches(header: str, etag: str) -> bool:
    wanted = _opaque(etag)
    return any(
        candidate == "*" or _opaque(candidate) == wanted
        for candidate in (part.strip() for part in header.split(","))
    )
