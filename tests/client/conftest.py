"""A live credscore server process per database backend, and an admin key for it.

The client is tested the way it is used: over HTTP against `credscore serve` in a subprocess,
on a migrated database (SQLite file or the session's PostgreSQL database), with a key made by
`credscore create-api-key`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from tests.conftest import _empty_all_tables

CLI = [sys.executable, "-m", "service.cli"]


@dataclass(frozen=True)
class LiveService:
    url: str
    admin_key: str
    env: dict[str, str]

    def credscore(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """`credscore ARGS` with --url/--api-key from the environment, as a user would."""
        return subprocess.run(
            [*CLI, *args],
            env=self.env | {"CREDSCORE_URL": self.url, "CREDSCORE_API_KEY": self.admin_key},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"credscore serve exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"credscore serve never became ready at {url}")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_service(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[LiveService]:
    cleaner: Engine | None = None
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("live") / "live.db"
        shutil.copyfile(sqlite_template, path)
        database_url = f"sqlite:///{path}"
    else:
        database_url = request.getfixturevalue("postgres_database")
        cleaner = request.getfixturevalue("postgres_cleaner")
    env = os.environ | {
        "CREDSCORE_DATABASE_URL": database_url,
        "CREDSCORE_ENVIRONMENT": "test",
        "CREDSCORE_LOG_LEVEL": "WARNING",
        "CREDSCORE_ACCESS_LOG": "false",
        "CREDSCORE_AUTH_CACHE_SECONDS": "0",
        "CREDSCORE_JOBS_POLL_SECONDS": "0.2",
        # A training run the tests start waits here (before reading data) until cancelled.
        "CREDSCORE_TRAINING_DELAY_SECONDS": "600",
    }
    env.pop("CREDSCORE_URL", None)
    env.pop("CREDSCORE_API_KEY", None)
    created = subprocess.run(
        [*CLI, "create-api-key", "--name", "client tests", "--scopes", "read,submit,admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    admin_key = created.stdout.strip().splitlines()[-1]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(url, process, time.monotonic() + 120)
        yield LiveService(url, admin_key, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if cleaner is not None:
            _empty_all_tables(cleaner)
