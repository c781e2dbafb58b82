"""What the sync and async clients share: requests described once, retries decided once.

An operation is a function that returns a `Call` (method, path, query, body, headers, and how
to read the answer), or a `StreamCall` (a `Call` whose answer is read as it arrives, through a
`Decoder` that turns its text into items: lines, JSON lines, Server-Sent Events). `exchange`
drives one call as a generator: it yields the request to send, takes the response back, yields a
delay when the answer says "retry later", and returns the parsed result. The sync client
(time.sleep, httpx.Client) and the async one (asyncio.sleep, httpx.AsyncClient) each run that
generator in a handful of lines, so neither repeats the retry policy or any operation; each
reads a stream's text in a few more, through a `StreamReading`: the same decoders, and the same
decision whether (and when) a dropped event stream is opened again after its last event.
"""

from __future__ import annotations

import dataclasses
import json
import random
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
    """Text as it arrives in, items out; ``end`` gives what the last chunk left pending and
    starts afresh (for the next connection's text).

    ``last_event_id`` and ``retry`` are what a reconnection resumes with: the id of the last
    event and the wait the server asked for (seconds). Only Server-Sent Events carry them; for
    the other formats they stay None."""

    last_event_id: str | None
    retry: float | None

    def feed(self, text: str) -> Sequence[T_co]: ...
    def end(self) -> Sequence[T_co]: ...


class Lines:
    """Whole lines, each with its line ending (as a file's lines): writing them out again
    gives the answer byte for byte."""

    last_event_id: str | None = None
    retry: float | None = None

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

    last_event_id: str | None = None
    retry: float | None = None

    def __init__(self) -> None:
        self._lines = Lines()

    def feed(self, text: str) -> list[Any]:
        return [json.loads(line) for line in self._lines.feed(text) if line.strip()]

    def end(self) -> list[Any]:
        return [json.loads(line) for line in self._lines.end() if line.strip()]


class EventStream:
    """Server-Sent Events (the WHATWG event-stream format) as `StreamEvent`s: fields gather
    until a blank line dispatches them; comment lines (the server's keep-alive pings) are
    skipped.

    As an EventSource does, it keeps across connections the id of the last event dispatched
    (``last_event_id``, sent back as Last-Event-ID) and the server's ``retry:`` field (in
    ``retry``, as seconds)."""

    def __init__(self) -> None:
        self._lines = Lines()
        self._fields: dict[str, str] = {}
        self._data: list[str] = []
        # The format's "last event ID buffer": an id holds for the following events until
        # another replaces it; it becomes `last_event_id` when an event is dispatched.
        self._id: str | None = None
        self.last_event_id: str | None = None
        self.retry: float | None = None

    def feed(self, text: str) -> list[StreamEvent]:
        return [event for line in self._lines.feed(text) if (event := self._line(line))]

    def end(self) -> list[StreamEvent]:
        # An event without its closing blank line was cut off: per the format, it is dropped.
        self._lines.end()
        self._fields, self._data, self._id = {}, [], self.last_event_id
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
        elif name == "retry":
            # Milliseconds, ASCII digits only; anything else is ignored (as the format says).
            if value.isascii() and value.isdigit():
                self.retry = int(value) / 1000
        else:
            if name == "id" and "\0" not in value:
                self._id = value
            self._fields[name] = value
        return None

    def _dispatch(self) -> StreamEvent | None:
        fields, data = self._fields, self._data
        self._fields, self._data = {}, []
        self.last_event_id = self._id
        if not data:
            return None
        document = json.loads("\n".join(data))
        return StreamEvent.model_validate(
            document | {"id": fields.get("id"), "type": fields.get("event", document.get("type"))}
        )


@dataclass(frozen=True)
class StreamCall(Generic[T_co]):
    """A call whose answer is read as it arrives: ``decoder()`` turns its text into items.

    ``reconnects``: how many reconnections in a row may bring nothing before the stream gives
    up (None: no bound; 0, the default: a dropped connection ends the stream). Only an event
    stream, which resumes after its last event's id, should reconnect: a CSV export opened again
    would start over.
    """

    call: Call[httpx.Response]
    decoder: Callable[[], Decoder[T_co]]
    reconnects: int | None = 0


def streamed(
    method: str,
    path: str,
    decoder: Callable[[], Decoder[T]],
    *,
    query: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    reconnects: int | None = 0,
) -> StreamCall[T]:
    return StreamCall(
        Call(method, path, returns_open, query=query or {}, headers=headers or {}, stream=True),
        decoder,
        reconnects,
    )


@dataclass(frozen=True)
class RetryPolicy:
    """When a refused request is sent again: 429 and 503 only, at most ``attempts`` tries.

    The wait is the answer's Retry-After (seconds or an HTTP date), else an exponential backoff
    from ``backoff`` seconds. A Retry-After longer than ``max_wait`` is not waited out: the error
    is raised at once, with ``retry_after`` set, for the caller to decide.

    A 429 refused the request before any work. A 503 may come after a write landed (the
    database connection lost during its commit): it is retried only for a request that is safe
    to send twice, one that changes nothing or carries an Idempotency-Key.
    """

    attempts: int = 4
    backoff: float = 0.5
    max_wait: float = 30.0
    statuses: frozenset[int] = frozenset({429, 503})

    def delay(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before trying again after ``attempt`` (0-based), or None: don't."""
        if response.status_code not in self.statuses or attempt + 1 >= self.attempts:
            return None
        if response.status_code == 503 and not _safe_to_repeat(response.request):
            return None
        asked = retry_after_seconds(response.headers.get("Retry-After"))
        wait = asked if asked is not None else self._backoff(attempt)
        return wait if wait <= self.max_wait else None

    def reconnect_delay(self, attempt: int) -> float:
        """Seconds before a dropped stream is opened again (``attempt``: 0-based, counting the
        reconnections in a row that brought nothing) when no one named a wait: the backoff,
        capped at ``max_wait``, less a random part of up to half of it, so that the clients one
        restart dropped together do not all come back at the same instant."""
        return min(self._backoff(attempt), self.max_wait) * random.uniform(0.5, 1.0)

    def _backoff(self, attempt: int) -> float:
        return self.backoff * 2.0**attempt


def _safe_to_repeat(request: httpx.Request) -> bool:
    return request.method in {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"} or (
        "Idempotency-Key" in request.headers
    )


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


# What may end a connection that opening it again cures: the network (a reset, a refused or
# timed-out connection, a read that waited longer than the keep-alive pings' period, an answer
# cut mid-chunk). A refusal is a `CredscoreError`, a bad URL or a malformed event not cured.
DROPPED = (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)


class StreamReading(Generic[T]):
    """A streamed call read across connections, as an EventSource reads one.

    A client opens ``call()``, hands each piece of text to ``feed`` and the end of the answer
    to ``end``, then asks ``reconnect_after(error)`` (``error``: what ended the connection, None
    if the answer just ended) how long to wait before opening ``call()`` again; None ends the
    iteration. The new connection resumes after the last event with Last-Event-ID (the caller's
    ``last_event_id`` until an event came). It reconnects after the answer ended, a network
    error or a 5xx answer (a proxy's 502 while the service restarts), at most
    ``StreamCall.reconnects`` times in a row without receiving anything (an event or a
    keep-alive comment). A 4xx refusal is raised (401, 403, 422: opening again would not
    help); 429 and 503 were already retried by the client's `RetryPolicy`, and a Retry-After
    beyond its ``max_wait`` is raised as everywhere else.

    The wait is the answer's Retry-After, else the server's ``retry:`` field, else the policy's
    backoff with jitter (`RetryPolicy.reconnect_delay`).
    """

    def __init__(self, streaming: StreamCall[T], retry: RetryPolicy) -> None:
        self._streaming = streaming
        self._retry = retry
        self._decoder = streaming.decoder()
        self._failures = 0
        self._received = False

    def call(self) -> Call[httpx.Response]:
        self._received = False
        call = self._streaming.call
        last_event_id = self._decoder.last_event_id
        if last_event_id is None:
            return call
        return dataclasses.replace(call, headers={**call.headers, "Last-Event-ID": last_event_id})

    def feed(self, text: str) -> Sequence[T]:
        self._received = self._received or bool(text)
        return self._decoder.feed(text)

    def end(self) -> Sequence[T]:
        return self._decoder.end()

    def reconnect_after(self, error: Exception | None) -> float | None:
        """Seconds to wait before opening the stream again, or None: it has ended. Raises
        ``error`` when reconnecting would not cure it, or when the bound is reached."""
        if error is not None:
            self._decoder.end()  # what the cut connection left half-sent is dropped
            if not self._cured_by_reconnecting(error):
                raise error
        if self._received:
            self._failures = 0
        bound = self._streaming.reconnects
        if bound is not None and self._failures >= bound:
            if error is not None:
                raise error
            return None
        self._failures += 1
        if isinstance(error, CredscoreError) and error.retry_after is not None:
            return error.retry_after
        if self._decoder.retry is not None:
            return self._decoder.retry
        return self._retry.reconnect_delay(self._failures - 1)

    def _cured_by_reconnecting(self, error: Exception) -> bool:
        if isinstance(error, CredscoreError):
            return error.status >= 500 and (error.retry_after or 0) <= self._retry.max_wait
        return isinstance(error, DROPPED)
