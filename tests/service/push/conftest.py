"""A webhook receiver on a real socket: a small Starlette app under uvicorn in a thread."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


@dataclass
class Received:
    body: str
    headers: dict[str, str]


@dataclass
class Receiver:
    """Records every POST; answers with ``statuses`` in turn, then ``default_status``."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    default_status: int = 200

    async def handle(self, request: Request) -> PlainTextResponse:
        body = (await request.body()).decode()
        self.received.append(Received(body, dict(request.headers)))
        status = self.statuses.pop(0) if self.statuses else self.default_status
        return PlainTextResponse(f"receiver says {status}", status_code=status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    app = Starlette(routes=[Route("/hook", state.handle, methods=["POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    state.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    yield state
    server.should_exit = True
    await asyncio.to_thread(thread.join, 10)
    sock.close()
