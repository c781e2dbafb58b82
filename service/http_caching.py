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

    def put(self, key: int, generation: int, etag: str) -> None:
        if generation != self._generation:
            return
        if len(self._tags) >= self.max_entries:
            # Oldest first: dicts keep insertion order, so this drops the earliest tenth.
            for stale in list(self._tags)[: self.max_entries // 10 or 1]:
                del self._tags[stale]
        self._tags[key] = etag
