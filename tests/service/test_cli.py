from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from service.auth.models import ApiKey
from service.auth.service import hash_key
from service.cli import main
from service.settings import get_settings


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CREDSCORE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_migrate_then_create_api_key_prints_key_last(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert main(["create-api-key", "--name", "ops", "--scopes", "read,admin"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    key = out[-1]
    engine = create_engine(database)
    with Session(engine) as session:
        stored = session.execute(select(ApiKey)).scalar_one()
    engine.dispose()
    assert stored.key_hash == hash_key(key)
    assert stored.scopes == ["admin", "read"]
    assert stored.name == "ops"


def test_unknown_scope_is_refused(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert main(["create-api-key", "--name", "ops", "--scopes", "read,root"]) == 2
    assert "unknown scope" in capsys.readouterr().err


def test_a_taken_or_reserved_key_name_is_refused(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert main(["create-api-key", "--name", "ops", "--scopes", "read"]) == 0
    assert main(["create-api-key", "--name", "ops", "--scopes", "admin"]) == 1
    assert "already named 'ops'" in capsys.readouterr().err
    assert main(["create-api-key", "--name", "cli", "--scopes", "admin"]) == 1
    assert "command line" in capsys.readouterr().err
