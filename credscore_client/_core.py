"""What the sync and async clients share: requests described once, retries decided once.

An operation is a function that returns a `Call` (method, path, query, body, headers, and how
to read the answer), or a `StreamCall` (a `Call` whose answer is read as it arrives, through a
`Decoder` that turns its text into items: lines, JSON lines, Server-Sent Events). `exchange`
drives one call as a generator: it yields the request to send, takes the response back, yields a
delay when the answer says "retry later", and returns the parsed result. The sync client
(time.sleep, httpx.Client) and the async one (asyncio.sleep, httpx.AsyncClient) each run that
generator in a handful of lines, so neither repeats the retry policy or any operation; each
reads a stream's text in a few more, through the same decoders.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

import httpx

from credscore_client.errors import CredscoreError, retry_after_seconds
from credscore_client.models import Input, Model, StreamEvent

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
ModelT = TypeVar("ModelT", bound=Model)
InputT = TypeVar("InputT", bound=Input)

QueryValue = str | int | float | bool | datetime | Enum | None


@dataclass(frozen=True)
class Call(Generic[T_co]):
    """One request to the service, and how to read a successful answer to it."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T_co]
    query: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    # A file's bytes, sent as they are (with a Content-Type header) instead of a JSON body.
    content: bytes | None = None
    # Read the answer as it arrives (the clients hand `parse` the open response).
    stream: bool = False

    def request(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        params = {
            name: (
                [_query_text(item) for item in value]
                if isinstance(value, Sequence) and not isinstance(value, str)
                else _query_text(value)
            )
            for name, value in self.query.items()
            if value is not None
        }
        return http.build_request(
            self.method,
            self.path,
            params=params,
            json=self.body if self.content is None else None,
            content=self.content,
            headers=dict(self.headers),
        )


def _query_text(value: QueryValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def path(template: str, *parts: str | int) -> str:
    """`template` with each `{}` filled by a path segment, quoted (a slug never escapes it)."""
    return template.format(*(quote(str(part), safe="") for part in parts))


def body(model: type[InputT], value: InputT | Mapping[str, Any]) -> dict[str, Any]:
    """A request body as JSON data: only the fields set, so the server's defaults apply."""
    document = value if isinstance(value, model) else model.model_validate(value)
    return document.model_dump(mode="json", exclude_unset=True)


def raise_for_problem(response: httpx.Response) -> None:
    if response.is_error:
        raise CredscoreError.from_response(response)


def returns(model: type[ModelT]) -> Callable[[httpx.Response], ModelT]:
    """Read a successful answer as ``model``, keeping its ETag (for If-Match on outlets)."""

    def parse(response: httpx.Response) -> ModelT:
        raise_for_problem(response)
        document = model.model_validate_json(response.content)
        document._etag = response.headers.get("ETag")
        return document

    return parse


def returns_nothing(response: httpx.Response) -> None:
    raise_for_problem(response)


def returns_json(response: httpx.Response) -> Any:
    """A JSON document the service has no schema for (JSON-LD)."""
    raise_for_problem(response)
    return json.loads(response.content)


def returns_text(response: httpx.Response) -> str:
    raise_for_problem(response)
    return response.text


def returns_open(response: httpx.Response) -> httpx.Response:
    """A streamed answer, still open: the client reads it through the call's decoder. (A
    refusal was read whole before it gets here, so it is raised with its problem.)"""
    raise_for_problem(response)
    return response


class Decoder(Protocol[T_co]):
    """Text as it arrives in, items out; ``end`` gives what the last chunk left pending."""

    def feed(self, text: str) -> Sequence[T_co]: ...
    def end(self) -> Sequence[T_co]: ...


class Lines:
    """Whole lines, each with its line ending (as a file's lines): writing them out again
    gives the answer byte for byte."""

    def __init__(self) -> None:
        self._rest = ""

    def feed(self, text: str) -> list[str]:
        *lines, self._rest = (self._rest + text).split("\n")
        return [line + "\n" for line in lines]

    def end(self) -> list[str]:
        rest, self._rest = self._rest, ""
        return [rest] if rest else []


class JsonLines:
    """One JSON document a line (application/x-ndjson); blank lines are skipped."""

    def __init__(self) -> None:
        self._lines = Lines()

    def feed(self, text: str) -> list[Any]:
        return [json.loads(line) for line in self._lines.feed(text) if line.strip()]

    def end(self) -> list[Any]:
        return [json.loads(line) for line in self._lines.end() if line.strip()]


class EventStream:
    """Server-Sent Events (the WHATWG event-stream format) as `StreamEvent`s: fields gather
    until a blank line dispatches them; comment lines (the server's keep-alive pings) are
    skipped."""

    def __init__(self) -> None:
        self._lines = Lines()
        self._fields: dict[str, str] = {}
        self._data: list[str] = []

    def feed(self, text: str) -> list[StreamEvent]:
        return [event for line in self._lines.feed(text) if (event := self._line(line))]

    def end(self) -> list[StreamEvent]:
        # An event without its closing blank line was cut off: per the format, it is dropped.
        return []

    def _line(self, line: str) -> StreamEvent | None:
        line = line.rstrip("\r\n")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        else:
            self._fields[name] = value
        return None

    def _dispatch(self) -> StreamEvent | None:
        fields, data = self._fields, self._data
        self._fields, self._data = {}, []
        if not data:
            return None
        document = json.loads("\n".join(data))
        return StreamEvent.model_validate(
            document | {"id": fields.get("id"), "type": fields.get("event", document.get("type"))}
        )


@dataclass(frozen=True)
class StreamCall(Generic[T_co]):
    """A call whose answer is read as it arrives: ``decoder()`` turns its text into items."""

    call: Call[httpx.Response]
    decoder: Callable[[], Decoder[T_co]]


def streamed(
    method: str,
    path: str,
    decoder: Callable[[], Decoder[T]],
    *,
    query: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> StreamCall[T]:
    return StreamCall(
        Call(method, path, returns_open, query=query or {}, headers=headers or {}, stream=True),
        decoder,
    )


@dataclass(frozen=True)
class RetryPolicy:
    """When a refused request is sent again: 429 and 503 only, at most ``attempts`` tries.

    The wait is the answer's Retry-After (seconds or an HTTP date), else an exponential backoff
    from ``backoff`` seconds. A Retry-After longer than ``max_wait`` is not waited out: the error
    is raised at once, with ``retry_after`` set, for the caller to decide.
    """

    attempts: int = 4
    backoff: float = 0.5
    max_wait: float = 30.0
    statuses: frozenset[int] = frozenset({429, 503})

    def delay(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before trying again after ``attempt`` (0-based), or None: don't."""
        if response.status_code not in self.statuses or attempt + 1 >= self.attempts:
            return None
        asked = retry_after_seconds(response.headers.get("Retry-After"))
        wait = asked if asked is not None else self.backoff * 2**attempt
        return wait if wait <= self.max_wait else None


# What exchange yields: a request to send (answer: the response) or seconds to wait (answer:
# None).
Step = httpx.Request | float


def exchange(
    call: Call[T], request: httpx.Request, retry: RetryPolicy
) -> Generator[Step, httpx.Response | None, T]:
    attempt = 0
    while True:
        response = yield request
        assert response is not None, "a request step is answered with its response"
        wait = retry.delay(response, attempt)
        if wait is None:
            return call.parse(response)
        # The answer was read in full (a streamed refusal too: see `must_read`): nothing is
        # left open.
        yield wait
        attempt += 1


@dataclass(frozen=True, slots=True)
class Done(Generic[T]):
    """The end of an exchange: its parsed result."""

    result: T


def resume(
    steps: Generator[Step, httpx.Response | None, T], reply: httpx.Response | None
) -> Step | Done[T]:
    """The exchange's next step after ``reply`` (None after a wait), or its end."""
    try:
        return steps.send(reply)
    except StopIteration as done:
        return Done(done.value)


def must_read(call: Call[Any], response: httpx.Response) -> bool:
    """Whether a streamed answer is read whole at once: a refusal is, to be parsed (or retried)
    and leave nothing open."""
    return call.stream and response.is_error


def with_cursor(call: Call[T], cursor: str) -> Call[T]:
    """The same list call, continued after ``cursor``."""
    return dataclasses.replace(call, query={**call.query, "cursor": cursor})
