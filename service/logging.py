"""JSON logs, one line per request, and the request id that ties a response to its log line."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.auth.service import looks_like_key
from service.metrics.registry import observe_request

REQUEST_ID_HEADER = "x-request-id"
_NOSNIFF = (b"x-content-type-options", b"nosniff")
# A caller's own request id is kept only if it is short and plain, so it is safe to log, and
# not shaped like an API key: a client that mixed up its headers would have its key logged.
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

access_logger = logging.getLogger("credscore.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True


class RequestContextMiddleware:
    """Gives every request an id (echoed in X-Request-ID) and logs it once it is answered; every
    response also gets ``X-Content-Type-Options: nosniff``.

    A pure ASGI middleware: BaseHTTPMiddleware would cost a task and a copy per request.
    """

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status_holder = [500]
        header_value = request_id.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), header_value))
                # Every response says what it is: no browser may sniff a JSON body into HTML.
                # (This is the one place that sets it.)
                headers.append(_NOSNIFF)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            # Labelled by route template: raw paths (ids, slugs) would make a series per URL.
            route_label = getattr(route, "path", None) or "unmatched"
            latency = time.perf_counter() - started
            observe_request(scope["method"], route_label, status_holder[0], latency)
            if self.access_log:
                access_logger.info(
                    "request",
                    extra={
                        "fields": {
                            "request_id": request_id,
                            "method": scope["method"],
                            "route": route_label,
                            "status": status_holder[0],
                            "latency_ms": round(latency * 1000, 3),
                            "key_name": state.get("key_name"),
                        }
                    },
                )


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1")
            acceptable = _ACCEPTABLE_REQUEST_ID.match(candidate) and not looks_like_key(candidate)
            return candidate if acceptable else None
    return None


class BodySizeLimitMiddleware:
    """Refuses bodies over ``max_bytes`` with 413 before they are read into memory.

    A declared Content-Length over the limit is refused at once; a body without one is counted
    as it streams in, and the read that crosses the limit raises the 413 instead.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, larger: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Paths allowed bigger bodies than the rest (file uploads).
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.larger.get(scope["path"], self.max_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > max_bytes:
            await _send_problem(send, 413, "payload-too-large", self._detail(max_bytes))
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise HTTPException(status_code=413, detail=self._detail(max_bytes))
            return message

        await self.app(scope, limited_receive, send)

    @staticmethod
    def _detail(max_bytes: int) -> str:
        return f"The request body exceeds {max_bytes} bytes."


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_problem(send: Send, status: int, slug: str, detail: str) -> None:
    body = orjson.dumps(
        {
            "type": f"/problems/{slug}",
            "title": "Content Too Large",
            "status": status,
            "detail": detail,
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
