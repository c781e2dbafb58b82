"""What the sync and async clients share: requests described once, retries decided once.

An operation is a function that returns a `Call` (method, path, query, body, headers, and how
to read the answer). `exchange` drives one call as a generator: it yields the request to send,
takes the response back, yields a delay when the answer says "retry later", and returns the
parsed result. The sync client (time.sleep, httpx.Client) and the async one (asyncio.sleep,
httpx.AsyncClient) each run that generator in a handful of lines, so neither repeats the
retry policy or any operation.
"""

from __future__ import annotations

import dataclasses
import email.utils
import math
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from credscore_client.errors import CredscoreError
from credscore_client.models import Input, Model

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

    def request(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        params = {
            name: _query_text(value) for name, value in self.query.items() if value is not None
        }
        return http.build_request(
            self.method,
            self.path,
            params=params,
            json=self.body,
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


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds) if math.isfinite(seconds) else None


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
        # The answer was read in full (the clients do not stream): nothing is left open.
        yield wait
        attempt += 1


def with_cursor(call: Call[T], cursor: str) -> Call[T]:
    """The same list call, continued after ``cursor``."""
    return dataclasses.replace(call, query={**call.query, "cursor": cursor})
