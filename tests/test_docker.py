"""Dockerfile and docker-compose.yml, read as a reviewer would (no Docker engine runs here)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_runs_as_non_root_and_migrates_before_serving() -> None:
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    assert keywords[0] == "FROM"
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users
    assert users[-1] not in {"root", "0"}
    assert keywords.index("USER") < keywords.index("CMD")
    cmd = next(rest for keyword, rest in instructions if keyword == "CMD")
    command = " ".join(shlex.split(cmd.strip("[]").replace('",', '"')))
    assert re.search(r"credscore migrate\s*&&.*credscore serve", command)
    assert "--host 0.0.0.0" in command
    assert "8000" in dict(instructions)["EXPOSE"]
    assert any(keyword == "HEALTHCHECK" for keyword in keywords)


def test_dockerfile_copies_what_exists_and_installs_pinned() -> None:
    for keyword, rest in dockerfile_instructions():
        if keyword == "COPY":
            *sources, _ = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: missing from the repository"
    run = " ".join(rest for keyword, rest in dockerfile_instructions() if keyword == "RUN")
    assert "-c requirements.lock" in run


def test_compose_runs_api_against_postgres_with_health_checks() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"api", "db"}
    db, api = services["db"], services["api"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert api["build"] == "."
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    url = api["environment"]["CREDSCORE_DATABASE_URL"]
    user, password, database = (
        db["environment"]["POSTGRES_USER"],
        db["environment"]["POSTGRES_PASSWORD"],
        db["environment"]["POSTGRES_DB"],
    )
    assert url == f"postgresql://{user}:{password}@db:5432/{database}"
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    assert "8000:8000" in api["ports"]
    assert "pgdata" in compose["volumes"]
