"""Conditional GETs for pollers: ETags, If-None-Match, 304 Not Modified."""

from __future__ import annotations

from starlette.requests import Request

# Pollers may keep a copy but must revalidate it every time: cheap with If-None-Match.
POLL_CACHE = "no-cache"


def not_modified(request: Request, etag: str) -> bool:
    """True when the client's If-None-Match already names this representation (weakly)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    wanted = _opaque(etag)
    return any(
        candidate == "*" or _opaque(candidate) == wanted
        for candidate in (part.strip() for part in header.split(","))
    )


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")
