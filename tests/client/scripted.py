"""A scripted service for client tests over httpx's MockTransport: answers given in advance,
bodies that arrive in pieces (and may break off), sleeps recorded instead of slept."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from credscore_client import client as client_module


class Script:
    """Answers each request with the next response (or raises the next exception, as a
    failed connection does); remembers the requests."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that arrives in the given pieces (cut anywhere, as a network cuts it), then
    raises ``cut`` if given (the connection dropped); records whether the client closed it."""

    def __init__(self, *pieces: bytes, cut: Exception | None = None) -> None:
        self.pieces = pieces
        self.cut = cut
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces
        if self.cut is not None:
            raise self.cut

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece
        if self.cut is not None:
            raise self.cut

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def record_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The client's sleeps (sync and async), recorded and not slept."""
    slept: list[float] = []

    async def async_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(client_module.time, "sleep", slept.append)
    monkeypatch.setattr(client_module.asyncio, "sleep", async_sleep)
    return slept
