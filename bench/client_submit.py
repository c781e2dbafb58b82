"""Claims a second through the Python client, with and without an Idempotency-Key.

The client sends a key with every claim post (retries are then safe); a keyed post is stored by
its own transaction, an unkeyed one joins the service's group commit (service/claims/writer.py).
This prints both rates, sequential and with a few concurrent posters, against a server started
here (SQLite by default; --database-url for PostgreSQL).

    python bench/client_submit.py [--claims 300] [--concurrency 8] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from credscore_client import AsyncClient, Call
from credscore_client._core import body, returns
from credscore_client.models import ClaimCreate, ClaimRead

CLI = [sys.executable, "-m", "service.cli"]


def unkeyed(claim: dict[str, object]) -> Call[ClaimRead]:
    """The same post without the key the client always adds (for comparison only)."""
    return Call("POST", "/v1/claims", returns(ClaimRead), body=body(ClaimCreate, claim))


async def rate(client: AsyncClient, n: int, concurrency: int, keyed: bool, label: str) -> float:
    queue = list(range(n))

    async def poster() -> None:
        while queue:
            number = queue.pop()
            claim = {"outlet_slug": "bench", "text": f"{label} {number}", "figure": {"value": 1}}
            if keyed:
                await client.claims_create(claim)
            else:
                await client.send(unkeyed(claim))

    start = time.perf_counter()
    await asyncio.gather(*(poster() for _ in range(concurrency)))
    return n / (time.perf_counter() - start)


async def measure(url: str, key: str, n: int, concurrency: int) -> None:
    async with AsyncClient(url, key) as client:
        await client.outlets_create({"slug": "bench", "name": "Bench", "kind": "wire"})
        await rate(client, 20, 1, True, "warm-up")
        for parallel in (1, concurrency):
            for keyed in (False, True):
                per_second = await rate(client, n, parallel, keyed, f"{parallel}-{keyed}")
                name = "with Idempotency-Key" if keyed else "without a key      "
                print(f"{parallel:>2} poster(s), {name}: {per_second:7.1f} claims/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url_of_db = args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}"
        env = os.environ | {
            "CREDSCORE_DATABASE_URL": url_of_db,
            "CREDSCORE_LOG_LEVEL": "WARNING",
            "CREDSCORE_ACCESS_LOG": "false",
        }
        subprocess.run([*CLI, "migrate"], env=env, check=True, capture_output=True)
        made = subprocess.run(
            [*CLI, "create-api-key", "--name", f"bench {os.getpid()}", "--scopes", "submit,admin"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        key = made.stdout.strip().splitlines()[-1]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{url}/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            asyncio.run(measure(url, key, args.claims, args.concurrency))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
