"""Conditional GETs for pollers: ETags, If-None-Match, 304 Not Modified."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import generations
from service.auth.service import first_headers

# Pollers may keep a copy but must revalidate it every time: cheap with If-None-Match.
POLL_CACHE = "no-cache"


def not_modified(request: Request, etag: str) -> bool:
    """True when the client's If-None-Match already names this representation (weakly)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    return etag_matches(header, etag)


def revalidate(request: Request, response: Response, etag: str) -> Response | None:
    """A poller's conditional GET of a resource whose current ETag is ``etag``.

    Returns the 304 to send when the client's copy is current; else None, having put the ETag
    and Cache-Control on ``response`` for the full answer the route goes on to build.
    """
    if not_modified(request, etag):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": POLL_CACHE})
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = POLL_CACHE
    return None


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
        self._tags: generations.GenerationCache[dict[int, str]] = generations.GenerationCache()

    async def get(self, key: int, generation: int) -> str | None:
        return (await self._tags.get(generation, _no_tags)).get(key)

    def peek(self, key: int, generation: int) -> str | None:
        """Like ``get`` but never clears: for readers that must not change the cache."""
        tags = self._tags.peek(generation)
        return tags.get(key) if tags is not None else None

    def put(self, key: int, generation: int, etag: str) -> None:
        tags = self._tags.peek(generation)
        if tags is None:
            return
        if len(tags) >= self.max_entries:
            # Oldest first: dicts keep insertion order, so this drops the earliest tenth.
            for stale in list(tags)[: self.max_entries // 10 or 1]:
                del tags[stale]
        tags[key] = etag


async def _no_tags(_previous: dict[int, str] | None) -> dict[int, str]:
    return {}


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
    if wanted is not None and etag_matches(wanted.decode("latin-1"), etag):
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


def etag_matches(header: str, etag: str) -> bool:
    """True when an If-None-Match ``header`` names ``etag`` (weak comparison, ``*``, lists)."""
    wanted = _opaque(etag)
    return any(
        candidate == "*" or _opaque(candidate) == wanted
        for candidate in (part.strip() for part in header.split(","))
    )
