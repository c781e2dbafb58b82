from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from scoring.artifacts import dump_model
from scoring.claim_model import ClaimModel
from scoring.model_selection import fit_with_holdout
from service.audit.models import AuditEntry
from service.auth.models import ApiKey
from service.auth.service import hash_key
from service.cli import main
from service.model_registry.models import ModelVersion
from service.settings import get_settings
from tests.scoring.test_claim_model import make_claims


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


def test_models_activate_refuses_below_the_gate_unless_forced(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    contexts, labels, _ = make_claims(80, seed=3, dated=True)
    held = fit_with_holdout(ClaimModel(cv=2), contexts, labels, holdout_fraction=0.2)
    engine = create_engine(database)
    with Session(engine) as session:
        row = ModelVersion(
            version="claim-model/cli",
            status="ready",
            params={},
            metrics=held.metrics,
            artifact=dump_model(held.model, metrics=held.metrics),
        )
        session.add(row)
        session.commit()
        model_id = row.id
    capsys.readouterr()
    assert main(["models", "activate", str(model_id)]) == 1
    err = capsys.readouterr().err
    assert "did not pass the quality gate: 16 held-out verdicts, fewer than the 50 needed" in err
    assert main(["models", "activate", str(model_id), "--force"]) == 0
    assert "claim-model/cli is now active (forced past the quality gate)" in capsys.readouterr().err
    assert main(["models", "list"]) == 0
    assert capsys.readouterr().out.split("\t")[-1].strip() == "gate=failed"
    with Session(engine) as session:
        actions = session.execute(select(AuditEntry.action)).scalars().all()
    engine.dispose()
    assert actions == ["model.force_activate"]
