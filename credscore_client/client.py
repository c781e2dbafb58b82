"""`Client` (sync) and `AsyncClient` over httpx: one method per operation of the service.

Both get their methods from `Operations`, where each operation of credscore_client/operations.py
is listed once: `Endpoint` makes it a method that returns the result (awaitable on the async
client), `Paged` a method that iterates over every item of every page (`.page(...)` for one),
`Streamed` a method that iterates over the items of an answer read as it arrives (lines of a
CSV export, JSON lines, live events).
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Generic, ParamSpec, TypeVar, overload

import httpx

import credscore_client.operations as op
from credscore_client._core import (
    Call,
    Done,
    RetryPolicy,
    Step,
    StreamCall,
    StreamReading,
    exchange,
    must_read,
    resume,
    with_cursor,
)
from credscore_client.models import Model, Page

P = ParamSpec("P")
T = TypeVar("T")
ItemT = TypeVar("ItemT", bound=Model)

DEFAULT_URL = "http://127.0.0.1:8000"
USER_AGENT = "credscore-client/0.1"


class Endpoint(Generic[P, T]):
    """An operation as a method: `client.claims_get(1)` sends the call and returns its result."""

    def __init__(self, operation: Callable[P, Call[T]]) -> None:
        self.operation = operation
        self.operation_id = operation.__name__
        self.__doc__ = operation.__doc__

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Endpoint[P, T]: ...
    @overload
    def __get__(self, instance: Client, owner: type[Any]) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, instance: AsyncClient, owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, instance: Any, owner: type[Any]) -> Any:
        if instance is None:
            return self
        return instance.bind(self.operation)


class Paged(Generic[P, ItemT]):
    """A list operation as a method that iterates over every item, following next_cursor."""

    def __init__(self, operation: Callable[P, Call[Page[ItemT]]]) -> None:
        self.operation = operation
        self.operation_id = operation.__name__
        self.__doc__ = operation.__doc__

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Paged[P, ItemT]: ...
    @overload
    def __get__(self, instance: Client, owner: type[Any]) -> Pages[P, ItemT]: ...
    @overload
    def __get__(self, instance: AsyncClient, owner: type[Any]) -> AsyncPages[P, ItemT]: ...
    def __get__(self, instance: Any, owner: type[Any]) -> Any:
        if instance is None:
            return self
        pages = Pages if isinstance(instance, Client) else AsyncPages
        return pages(instance, self.operation)


class Streamed(Generic[P, T]):
    """A streamed operation as a method that iterates over its items as they arrive (`async
    for` on the async client); the answer is closed when the iteration ends or is dropped.
    An event stream (`stream_subscribe`) reconnects by itself when its connection drops,
    resuming after the last event (see `StreamReading`)."""

    def __init__(self, operation: Callable[P, StreamCall[T]]) -> None:
        self.operation = operation
        self.operation_id = operation.__name__
        self.__doc__ = operation.__doc__

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Streamed[P, T]: ...
    @overload
    def __get__(self, instance: Client, owner: type[Any]) -> Callable[P, Iterator[T]]: ...
    @overload
    def __get__(self, instance: AsyncClient, owner: type[Any]) -> Callable[P, AsyncIterator[T]]: ...
    def __get__(self, instance: Any, owner: type[Any]) -> Any:
        if instance is None:
            return self
        return instance.bind_stream(self.operation)


class Pages(Generic[P, ItemT]):
    def __init__(self, client: Client, operation: Callable[P, Call[Page[ItemT]]]) -> None:
        self._client = client
        self._operation = operation

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Iterator[ItemT]:
        """Every item, page after page (``limit`` is the page size)."""
        call = self._operation(*args, **kwargs)
        while True:
            page = self._client.send(call)
            yield from page.items
            if page.next_cursor is None:
                return
            call = with_cursor(call, page.next_cursor)

    def page(self, *args: P.args, **kwargs: P.kwargs) -> Page[ItemT]:
        """One page; pass its ``next_cursor`` as ``cursor`` for the next."""
        return self._client.send(self._operation(*args, **kwargs))


class AsyncPages(Generic[P, ItemT]):
    def __init__(self, client: AsyncClient, operation: Callable[P, Call[Page[ItemT]]]) -> None:
        self._client = client
        self._operation = operation

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[ItemT]:
        """Every item, page after page (``limit`` is the page size)."""
        call = self._operation(*args, **kwargs)
        while True:
            page = await self._client.send(call)
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            call = with_cursor(call, page.next_cursor)

    async def page(self, *args: P.args, **kwargs: P.kwargs) -> Page[ItemT]:
        """One page; pass its ``next_cursor`` as ``cursor`` for the next."""
        return await self._client.send(self._operation(*args, **kwargs))


class Operations:
    """Every operation of the service, named by its OpenAPI operation id."""

    health_liveness = Endpoint(op.health_liveness)
    health_readiness = Endpoint(op.health_readiness)

    outlets_create = Endpoint(op.outlets_create)
    outlets_list = Paged(op.outlets_list)
    outlets_get = Endpoint(op.outlets_get)
    outlets_update = Endpoint(op.outlets_update)
    outlets_archive = Endpoint(op.outlets_archive)
    outlets_unarchive = Endpoint(op.outlets_unarchive)
    outlets_get_reliability = Endpoint(op.outlets_get_reliability)
    outlets_reliability_history = Paged(op.outlets_reliability_history)
    outlets_list_dependencies = Paged(op.outlets_list_dependencies)
    outlets_list_records = Paged(op.outlets_list_records)
    outlets_add_record = Endpoint(op.outlets_add_record)
    outlets_delete_record = Endpoint(op.outlets_delete_record)

    claims_create = Endpoint(op.claims_create)
    claims_create_batch = Endpoint(op.claims_create_batch)
    claims_preview_score = Endpoint(op.claims_preview_score)
    claims_list = Paged(op.claims_list)
    claims_get = Endpoint(op.claims_get)
    claims_list_scores = Paged(op.claims_list_scores)

    verdicts_record = Endpoint(op.verdicts_record)
    verdicts_list = Paged(op.verdicts_list)

    events_create = Endpoint(op.events_create)
    events_list = Paged(op.events_list)
    events_get = Endpoint(op.events_get)
    events_get_consensus = Endpoint(op.events_get_consensus)
    events_consensus_history = Paged(op.events_consensus_history)

    models_train = Endpoint(op.models_train)
    models_list = Paged(op.models_list)
    models_get_active = Endpoint(op.models_get_active)
    models_rollback = Endpoint(op.models_rollback)
    models_get = Endpoint(op.models_get)
    models_activate = Endpoint(op.models_activate)
    models_cancel = Endpoint(op.models_cancel)

    api_keys_create = Endpoint(op.api_keys_create)
    api_keys_list = Paged(op.api_keys_list)
    api_keys_revoke = Endpoint(op.api_keys_revoke)

    webhooks_create = Endpoint(op.webhooks_create)
    webhooks_list = Paged(op.webhooks_list)
    webhooks_get = Endpoint(op.webhooks_get)
    webhooks_update = Endpoint(op.webhooks_update)
    webhooks_delete = Endpoint(op.webhooks_delete)
    webhooks_list_deliveries = Paged(op.webhooks_list_deliveries)
    webhooks_replay_delivery = Endpoint(op.webhooks_replay_delivery)
    stream_subscribe = Streamed(op.stream_subscribe)

    outlets_import = Endpoint(op.outlets_import)
    verdicts_import = Endpoint(op.verdicts_import)
    claimreviews_get = Endpoint(op.claimreviews_get)
    claimreviews_list = Streamed(op.claimreviews_list)
    export_csv = Streamed(op.export_csv)

    metrics_scrape = Endpoint(op.metrics_scrape)


def operation_ids() -> set[str]:
    """The operation ids the clients cover (a test compares them with /openapi.json)."""
    return {
        attribute.operation_id
        for attribute in vars(Operations).values()
        if isinstance(attribute, Endpoint | Paged | Streamed)
    }


TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)


class _Connection(Operations, Generic[TransportT, HttpT]):
    """What both clients hold: an httpx client to the service, and when to retry."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: TransportT | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.http: HttpT = self._connect(transport, _http_options(url, api_key, timeout))

    def _connect(self, transport: TransportT | None, options: dict[str, Any]) -> HttpT:
        raise NotImplementedError


def _http_options(url: str | None, api_key: str | None, timeout: float) -> dict[str, Any]:
    headers = {"User-Agent": USER_AGENT}
    api_key = api_key or os.environ.get("CREDSCORE_API_KEY")
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return {
        "base_url": url or os.environ.get("CREDSCORE_URL") or DEFAULT_URL,
        "headers": headers,
        "timeout": timeout,
    }


class Client(_Connection[httpx.BaseTransport, httpx.Client]):
    """The sync client. ``url`` and ``api_key`` default to $CREDSCORE_URL, $CREDSCORE_API_KEY.

    Use it as a context manager (or call close()). ``transport`` is httpx's (tests pass a
    MockTransport); ``retry`` says when 429 and 503 answers are retried.
    """

    def _connect(
        self, transport: httpx.BaseTransport | None, options: dict[str, Any]
    ) -> httpx.Client:
        return httpx.Client(transport=transport, **options)

    def send(self, call: Call[T]) -> T:
        steps = exchange(call, call.request(self.http), self.retry)
        step: Step | Done[T] = next(steps)
        while not isinstance(step, Done):
            reply = None
            if isinstance(step, httpx.Request):
                reply = self.http.send(step, stream=call.stream)
                if must_read(call, reply):
                    reply.read()
            else:
                time.sleep(step)
            step = resume(steps, reply)
        return step.result

    def bind(self, operation: Callable[P, Call[T]]) -> Callable[P, T]:
        @functools.wraps(operation)
        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return self.send(operation(*args, **kwargs))

        return method

    def bind_stream(self, operation: Callable[P, StreamCall[T]]) -> Callable[P, Iterator[T]]:
        @functools.wraps(operation)
        def method(*args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
            reading = StreamReading(operation(*args, **kwargs), self.retry)
            while True:
                error: Exception | None = None
                try:
                    response = self.send(reading.call())
                    try:
                        for text in response.iter_text():
                            yield from reading.feed(text)
                        yield from reading.end()
                    finally:
                        response.close()
                except Exception as dropped:
                    error = dropped
                wait = reading.reconnect_after(error)
                if wait is None:
                    return
                time.sleep(wait)

        return method

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncClient(_Connection[httpx.AsyncBaseTransport, httpx.AsyncClient]):
    """The async client: the same methods as `Client`, awaited (lists: `async for`)."""

    def _connect(
        self, transport: httpx.AsyncBaseTransport | None, options: dict[str, Any]
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transport, **options)

    async def send(self, call: Call[T]) -> T:
        steps = exchange(call, call.request(self.http), self.retry)
        step: Step | Done[T] = next(steps)
        while not isinstance(step, Done):
            reply = None
            if isinstance(step, httpx.Request):
                reply = await self.http.send(step, stream=call.stream)
                if must_read(call, reply):
                    await reply.aread()
            else:
                await asyncio.sleep(step)
            step = resume(steps, reply)
        return step.result

    def bind(self, operation: Callable[P, Call[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
        @functools.wraps(operation)
        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return await self.send(operation(*args, **kwargs))

        return method

    def bind_stream(self, operation: Callable[P, StreamCall[T]]) -> Callable[P, AsyncIterator[T]]:
        @functools.wraps(operation)
        async def method(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
            reading = StreamReading(operation(*args, **kwargs), self.retry)
            while True:
                error: Exception | None = None
                try:
                    response = await self.send(reading.call())
                    try:
                        async for text in response.aiter_text():
                            for item in reading.feed(text):
                                yield item
                        for item in reading.end():
                            yield item
                    finally:
                        await response.aclose()
                except Exception as dropped:
                    error = dropped
                wait = reading.reconnect_after(error)
                if wait is None:
                    return
                await asyncio.sleep(wait)

        return method

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
