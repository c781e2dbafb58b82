"""`credscore import` and `credscore export` on a SQLite file (the CLI reads the settings)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from service.audit.models import AuditEntry
from service.cli import main
from service.outlets.models import Outlet
from service.settings import get_settings
from service.verdicts.models import Verdict


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CREDSCORE_DATABASE_URL", url)
    get_settings.cache_clear()
    assert main(["migrate"]) == 0
    yield url
    get_settings.cache_clear()


def _stored(url: str, model: type) -> list[object]:
    engine = create_engine(url)
    with Session(engine) as session:
        rows = list(session.execute(select(model)).scalars())
    engine.dispose()
    return rows


def test_import_outlets_dry_run_then_for_real_then_export(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "outlets.tsv"
    path.write_text(
        "source_url\tfact\nhttps://bugle.example/\tlow\nhttps://planet.example/\thigh\n"
    )
    capsys.readouterr()
    assert main(["import", "outlets", str(path), "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out)["created"] == 2
    assert _stored(database, Outlet) == []
    assert main(["import", "outlets", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["ratings_recorded"] == 2
    assert [entry.actor for entry in _stored(database, AuditEntry)] == ["cli"] * 4
    assert main(["export", "outlets"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["slug"] for row in rows] == ["bugle-example", "planet-example"]


def test_import_verdicts_reports_each_problem_and_stores_nothing(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "verdicts.csv"
    path.write_text(
        "outlet,text,published_at,rating,source,decided_at\n"
        "https://bugle.example,Taxes doubled.,2024-01-01,Sort of,desk,2024-02-01\n"
        "https://bugle.example,Taxes halved.,2024-01-01,False,desk,2024-02-01\n"
    )
    assert main(["import", "verdicts", str(path)]) == 1
    err = capsys.readouterr().err
    assert "row 2 rating" in err
    assert "Sort of" in err
    assert _stored(database, Verdict) == []

    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"sort of": "mixed"}))
    assert (
        main(["import", "verdicts", str(path), "--rating-mapping", str(mapping), "--rescore"]) == 0
    )
    report = json.loads(capsys.readouterr().out.split("\nran ")[0])
    assert (report["verdicts_created"], report["claims_created"]) == (2, 2)
    assert sorted(verdict.rating for verdict in _stored(database, Verdict)) == ["false", "mixed"]
    assert main(["export", "claimreviews"]) == 0
    reviews = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [review["reviewRating"]["alternateName"] for review in reviews] == ["Mixed", "False"]
