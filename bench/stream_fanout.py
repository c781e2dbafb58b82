"""Stream fan-out benchmark: 1,000 SSE subscribers on one API process while claims are posted.

Creates a fresh PostgreSQL database (or a SQLite file with --sqlite), migrates it, starts one
API process (`credscore serve`, workers 1, jobs on), registers outlets, then runs the same claim
load twice for --duration seconds each:

    1. without subscribers;
    2. with --subscribers open GET /v1/stream connections, held by --client-processes separate
       processes. Each subscriber filters on one outlet (round robin: a desk following its
       sources), and --unfiltered of them take every event.

It prints the claims throughput of both runs (POST /v1/claims answered per second, from
--concurrency concurrent posters) and, for the second, the delivery latency of the claim.scored
events: from the event's timestamp (taken in the transaction, just before its commit) to its
arrival at a subscriber, p50/p99 over every delivery, and how many deliveries arrived of those
expected (every subscriber must get each event its filter takes, exactly once).

    .venv/bin/python bench/stream_fanout.py [--subscribers 1000] [--duration 15] [--sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "credscore_bench_stream"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def fresh_database(sqlite: bool, directory: Path) -> str:
    if sqlite:
        return f"sqlite:///{directory / 'bench.db'}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    return f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"


@contextlib.contextmanager
def api_server(database_url: str, port: int) -> Iterator[dict[str, str]]:
    env = {
        **os.environ,
        "CREDSCORE_DATABASE_URL": database_url,
        "CREDSCORE_ACCESS_LOG": "false",
        "CREDSCORE_LOG_LEVEL": "WARNING",
        "CREDSCORE_STREAM_QUEUE_SIZE": "10000",
    }
    cli = [str(BIN / "credscore")]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    created = subprocess.run(
        [*cli, "create-api-key", "--name", "bench", "--scopes", "read,submit,admin"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    process = subprocess.Popen(
        [*cli, "serve", "--host", HOST, "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://{HOST}:{port}/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("the API did not start")
        yield {"Authorization": f"Bearer {key}"}
    finally:
        process.terminate()
        process.wait(timeout=30)


async def create_outlets(base: str, headers: dict[str, str], count: int) -> list[str]:
    slugs = [f"outlet-{n:03d}" for n in range(count)]
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        for slug in slugs:
            response = await http.post(
                "/v1/outlets",
                json={"slug": slug, "name": slug.title(), "kind": "newspaper", "country": "GB"},
            )
            response.raise_for_status()
    return slugs


async def post_claims(
    base: str, headers: dict[str, str], slugs: list[str], duration: float, concurrency: int
) -> tuple[int, float, dict[str, int]]:
    """Posts claims for ``duration`` seconds; returns (claims, seconds, claims per outlet)."""
    posted: dict[str, int] = dict.fromkeys(slugs, 0)
    stop_at = time.monotonic() + duration
    counter = 0

    async def poster(http: httpx.AsyncClient) -> None:
        nonlocal counter
        while time.monotonic() < stop_at:
            counter += 1
            slug = slugs[counter % len(slugs)]
            response = await http.post(
                "/v1/claims",
                json={
                    "outlet_slug": slug,
                    "text": f"Officials said {counter} people were killed in the strike.",
                },
            )
            response.raise_for_status()
            posted[slug] += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as http:
        started = time.monotonic()
        await asyncio.gather(*(poster(http) for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    return sum(posted.values()), elapsed, posted


def subscriber_process(
    base: str,
    headers: dict[str, str],
    filters: list[str | None],
    connected: Any,
    stop: Any,
    results: Any,
) -> None:
    """Holds one stream per filter (an outlet slug, or None for everything) until ``stop``."""

    async def main() -> None:
        latencies: list[float] = []
        received: dict[str | None, list[int]] = {}
        limits = httpx.Limits(max_connections=len(filters) + 10)
        timeout = httpx.Timeout(30, read=None)
        async with httpx.AsyncClient(
            base_url=base, headers=headers, limits=limits, timeout=timeout
        ) as http:

            async def subscribe(index: int, outlet: str | None) -> None:
                query = f"?types=claim.scored&outlet={outlet}" if outlet else "?types=claim.scored"
                ids: list[int] = []
                received[f"{index}:{outlet}"] = ids  # type: ignore[index]
                async with http.stream("GET", f"/v1/stream{query}") as response:
                    with connected.get_lock():
                        connected.value += 1
                    data = None
                    async for line in response.aiter_lines():
                        if line.startswith("data:"):
                            data = line[5:].strip()
                        elif line.startswith("id:"):
                            ids.append(int(line[3:].strip()))
                        elif not line and data is not None:
                            now = time.time()
                            stamp = orjson.loads(data)["timestamp"]
                            sent = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                            latencies.append(now - sent.timestamp())
                            data = None

            tasks = [
                asyncio.create_task(subscribe(index, outlet))
                for index, outlet in enumerate(filters)
            ]
            # ``stop`` is a process-shared event: waited for in a thread, not the loop.
            await asyncio.to_thread(stop.wait)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        counts = {key: (len(ids), len(set(ids))) for key, ids in received.items()}
        results.put((latencies, counts))

    asyncio.run(main())


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def stream_subscribers(base: str, headers: dict[str, str]) -> int:
    text = httpx.get(f"{base}/metrics", timeout=30).text
    for line in text.splitlines():
        if line.startswith("credscore_stream_subscribers"):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--unfiltered", type=int, default=10)
    parser.add_argument("--outlets", type=int, default=100)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        database_url = fresh_database(args.sqlite, Path(directory))
        port = free_port()
        base = f"http://{HOST}:{port}"
        with api_server(database_url, port) as headers:
            slugs = asyncio.run(create_outlets(base, headers, args.outlets))
            # Warm-up (model, registry, connections), then the run without subscribers.
            asyncio.run(post_claims(base, headers, slugs, 3, args.concurrency))
            alone, alone_seconds, _ = asyncio.run(
                post_claims(base, headers, slugs, args.duration, args.concurrency)
            )

            filters: list[str | None] = [None] * args.unfiltered + [
                slugs[n % len(slugs)] for n in range(args.subscribers - args.unfiltered)
            ]
            context = multiprocessing.get_context("spawn")
            connected = context.Value("i", 0)
            stop = context.Event()
            results = context.Queue()
            share = -(-len(filters) // args.client_processes)
            processes = [
                context.Process(
                    target=subscriber_process,
                    args=(base, headers, filters[n : n + share], connected, stop, results),
                )
                for n in range(0, len(filters), share)
            ]
            for process in processes:
                process.start()
            deadline = time.monotonic() + 120
            while stream_subscribers(base, headers) < len(filters):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {connected.value} streams connected")
                time.sleep(0.5)
            with_subscribers, with_seconds, posted = asyncio.run(
                post_claims(base, headers, slugs, args.duration, args.concurrency)
            )
            time.sleep(3)  # let the last events arrive
            stop.set()
            latencies: list[float] = []
            counts: dict[str, tuple[int, int]] = {}
            for _ in processes:
                batch, batch_counts = results.get(timeout=120)
                latencies += batch
                counts.update(batch_counts)
            for process in processes:
                process.join(timeout=60)

    expected = sum(
        with_subscribers if outlet == "None" else posted[outlet]
        for outlet in (key.split(":", 1)[1] for key in counts)
    )
    delivered = sum(total for total, _ in counts.values())
    unique = sum(distinct for _, distinct in counts.values())
    backend = "SQLite" if args.sqlite else "PostgreSQL"
    print(f"stream fan-out on one API process ({backend}), {args.concurrency} concurrent posters")
    print(f"  {'run':<34} {'claims':>8} {'claims/s':>10}")
    print(f"  {'no subscribers':<34} {alone:>8} {alone / alone_seconds:>10.1f}")
    label = f"{len(filters)} subscribers ({args.unfiltered} unfiltered)"
    print(f"  {label:<34} {with_subscribers:>8} {with_subscribers / with_seconds:>10.1f}")
    print(
        f"  deliveries: {delivered} received, {unique} distinct, {expected} expected "
        f"({expected - unique} missing, {delivered - unique} duplicated)"
    )
    print(
        f"  latency event timestamp -> received: p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
