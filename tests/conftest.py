"""Test fixtures: every service test runs against SQLite and PostgreSQL, each built by migrations.

SQLite: one migrated template file per session, copied for each test.
PostgreSQL: one migrated database per session (and per xdist worker); tables are emptied after
each test. Set CREDSCORE_TEST_POSTGRES_URL to point elsewhere; with CREDSCORE_REQUIRE_POSTGRES=1
(CI) an unreachable server fails the run instead of skipping its half of the tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from service.app import create_app
from service.migrate import upgrade
from service.settings import Settings
from service.tables import Base

# Tests do not time things (bench/ does), and CI replays the same examples on every run so that a
# red build always means the code changed; locally hypothesis explores new examples each time.
hypothesis_settings.register_profile("default", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, database=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "default")

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _postgres_admin_url() -> str:
    return os.environ.get("CREDSCORE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _worker_suffix() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    admin_url = make_url(_postgres_admin_url()).set(drivername="postgresql+psycopg")
    # The pid keeps concurrent runs on one server (two checkouts, a developer and CI) apart.
    name = f"credscore_test_{_worker_suffix()}_{os.getpid()}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if os.environ.get("CREDSCORE_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"PostgreSQL not reachable at {admin_url.render_as_string(True)}: {exc}")
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_database")
    cleaner: Engine = request.getfixturevalue("postgres_cleaner")
    yield url
    _empty_all_tables(cleaner)


@pytest.fixture(scope="session")
def postgres_cleaner(postgres_database: str) -> Iterator[Engine]:
    engine = create_engine(make_url(postgres_database).set(drivername="postgresql+psycopg"))
    yield engine
    engine.dispose()


def _empty_all_tables(engine: Engine) -> None:
    # DELETE beats TRUNCATE on tables this small: TRUNCATE rewrites files, ~0.2 s per test.
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        environment="test",
        log_level="WARNING",
        auth_cache_seconds=0,
        # Tests run background jobs explicitly (context.jobs.drain()) to observe each step.
        jobs_enabled=False,
    )


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[Any]:
    """An app built from ``settings`` with its lifespan running."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@asynccontextmanager
async def in_process_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that calls ``app`` in process (app errors come back as responses)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    async with running_app(settings) as application:
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_client(app) as http:
        yield http


@pytest.fixture
async def session(app: Any) -> AsyncIterator[Any]:
    """A session on the test database, for setting up and checking state directly."""
    async with app.state.context.sessionmaker() as db_session:
        yield db_session


async def make_key(app: Any, name: str, scopes: list[str]) -> str:
    from service.auth.service import create_key

    async with app.state.context.sessionmaker() as db_session:
        _, secret = await create_key(db_session, name=name, scopes=scopes)
        await db_session.commit()
    return secret


@pytest.fixture
async def admin_headers(app: Any) -> dict[str, str]:
    key = await make_key(app, "test-admin", ["read", "submit", "admin"])
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def submit_headers(app: Any) -> dict[str, str]:
    key = await make_key(app, "test-submitter", ["submit"])
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def read_headers(app: Any) -> dict[str, str]:
    key = await make_key(app, "test-reader", ["read"])
    return {"Authorization": f"Bearer {key}"}
