"""Shared pieces of the reliability tests: a seeded database, a real server, a private cluster.

Everything here is bounded in time: servers and clusters are started on 127.0.0.1 with a free
port, waited for with deadlines, and always stopped in a ``finally``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from service.app import create_app
from service.migrate import upgrade
from service.settings import Settings
from tests.service.factories import claim_body, outlet_body

NOW = "2024-05-01T12:00:00Z"


@dataclass
class Seeded:
    """What a seeded database holds: an admin key and ids that resolve."""

    admin_key: str
    admin_key_id: int
    decoy_key_ids: list[int] = field(default_factory=list)
    outlet_refs: list[str] = field(default_factory=list)
    claim_ids: list[int] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    record_ids: list[int] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "environment": "test",
        "log_level": "WARNING",
        "auth_cache_seconds": 0,
        "jobs_enabled": False,
    }
    values.update(overrides)
    return Settings(**values)


async def _seed(database_url: str) -> Seeded:
    from service.auth.service import create_key

    app = create_app(make_settings(database_url))
    async with app.router.lifespan_context(app):
        async with app.state.context.sessionmaker() as session:
            decoys = [
                (await create_key(session, name=f"decoy-{n}", scopes=["read"]))[0].id
                for n in range(3)
            ]
            admin, secret = await create_key(
                session, name="fuzz-admin", scopes=["read", "submit", "admin"]
            )
            await session.commit()
        seeded = Seeded(admin_key=secret, admin_key_id=admin.id, decoy_key_ids=decoys)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=seeded.headers
        ) as client:
            for slug, kind in (("test-wire", "wire"), ("state-tv", "state_media")):
                created = await client.post("/v1/outlets", json=outlet_body(slug, kind=kind))
                assert created.status_code == 201, created.text
                seeded.outlet_refs += [slug, str(created.json()["id"])]
            event = await client.post(
                "/v1/events", json={"title": "Strikes on the town", "unit": "people"}
            )
            assert event.status_code == 201, event.text
            seeded.event_ids.append(event.json()["id"])
            for slug, figure in (("test-wire", 12), ("state-tv", 40)):
                body = claim_body(slug, event_id=seeded.event_ids[0], figure={"value": figure})
                claim = await client.post("/v1/claims", json=body)
                assert claim.status_code == 201, claim.text
                seeded.claim_ids.append(claim.json()["id"])
            verdict = await client.post(
                f"/v1/claims/{seeded.claim_ids[0]}/verdicts",
                json={"rating": "true", "source": "desk", "decided_at": "2024-06-01T00:00:00Z"},
            )
            assert verdict.status_code == 201, verdict.text
            record = await client.post(
                "/v1/outlets/test-wire/records",
                json={"source": "checker", "as_of": NOW, "verified": 3, "refuted": 1},
            )
            assert record.status_code == 201, record.text
            seeded.record_ids.append(record.json()["id"])
    return seeded


def seed_database(database_url: str) -> Seeded:
    """Seed from synchronous code, on a thread of its own (no event loop is disturbed)."""
    result: list[Seeded] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(_seed(database_url)))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, name="seed")
    thread.start()
    thread.join(timeout=60)
    if errors:
        raise errors[0]
    assert result, "seeding did not finish within 60 s"
    return result[0]


def sync_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url)


def count_rows(database_url: str, model: Any, *where: Any) -> int:
    engine = sync_engine(database_url)
    try:
        with engine.connect() as connection:
            statement = select(func.count()).select_from(model)
            for condition in where:
                statement = statement.where(condition)
            return int(connection.scalar(statement) or 0)
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerThread:
    """The app under uvicorn on 127.0.0.1:<free port>, in a daemon thread with its own loop."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        self.port = free_port()
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            # Many concurrent clients: keep the listen backlog and connection limit generous.
            backlog=512,
            timeout_keep_alive=5,
        )
        self.server = uvicorn.Server(config)
        # uvicorn would install signal handlers; not ours to take over inside pytest.
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start within 20 s")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout=5)


@pytest.fixture
def own_postgres_database(postgres_database: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test, dropped afterwards.

    On the server of the shared test database (``postgres_database`` decides whether that server
    is required or the test is skipped), but its own database: these tests run real servers and
    many connections, and must not see or leave rows in the shared one. Migrating costs ~0.2 s.
    """
    server = make_url(postgres_database)
    name = f"credscore_rel_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- A private, throw-away PostgreSQL cluster (for fault injection) -----------------------------


def _postgres_bin_dir() -> Path | None:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    for name in ("initdb", "pg_ctl"):
        if shutil.which(name) is None:
            return None
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


class PrivateCluster:
    """initdb + pg_ctl in a temporary directory, on 127.0.0.1 and a free port.

    Run as the ``postgres`` OS user when this process is root (PostgreSQL refuses root).
    """

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="credscore-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.as_user: str | None = None
        if os.geteuid() == 0:
            self.as_user = "postgres"
            shutil.chown(self.root, user="postgres")
        self.root.chmod(0o700)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_user is not None:
            command = ["runuser", "-u", self.as_user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    def init(self) -> None:
        done = self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr[-2000:]}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=60"
        )
        done = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "30",
            "start",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {done.stderr[-2000:]} {self.log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        done = self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {done.stderr[-2000:]}")

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status").returncode == 0

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text()[-2000:]
        return ""

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            if self.is_running():
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' OS user to run the cluster")
    cluster = PrivateCluster(bin_dir)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
