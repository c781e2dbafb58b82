"""The README's demo: different, explained scores per outlet; a verdict moves the next score."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.app import create_app
from service.cli import main
from service.settings import Settings, get_settings


@pytest.fixture
async def demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("CREDSCORE_DATABASE_URL", url)
    monkeypatch.setenv("CREDSCORE_DEMO_KEY_FILE", str(tmp_path / "demo-key"))
    get_settings.cache_clear()
    # The CLI runs its own event loop; keep it off the test's.
    assert await asyncio.to_thread(main, ["migrate"]) == 0
    assert await asyncio.to_thread(main, ["seed-demo"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    get_settings.cache_clear()
    app = create_app(Settings(database_url=url, log_level="WARNING", auth_cache_seconds=0))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            yield client, {"Authorization": f"Bearer {key}"}


async def post_claim(client: httpx.AsyncClient, headers: dict[str, str], slug: str, at: str) -> Any:
    response = await client.post(
        "/v1/claims",
        json={
            "outlet_slug": slug,
            "text": "Civilians were killed in the strikes.",
            "published_at": at,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_demo_answers(demo: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    client, headers = demo
    outlets = (await client.get("/v1/outlets", headers=headers)).json()["items"]
    assert {o["slug"] for o in outlets} == {"rbss", "sohr", "sana", "coalition-pao"}
    assert all("ILLUSTRATIVE" in o["notes"] for o in outlets)

    event = (await client.get("/v1/events/1", headers=headers)).json()
    figures = sorted(c["figure"]["value"] for c in event["claims"] if c["figure"])
    assert figures == [37, 42, 78]

    # seed-demo ran the reconciliation: near the independent sources, state media flagged.
    raqqa = (await client.get("/v1/events/1/consensus", headers=headers)).json()
    assert raqqa["status"] == "consensus"
    assert 37 <= raqqa["estimate"] <= 42
    # Three outlets gave a figure (the Coalition gave none): three independent reports.
    assert raqqa["independent_reports"] == 3
    assert raqqa["supporting_outlets"] == ["rbss", "sohr"]
    sources = {source["outlet_slug"]: source for source in raqqa["sources"]}
    assert sources["sana"]["party"] is True
    assert sources["sana"]["weight"] < sources["sohr"]["weight"] / 2
    [sana] = [row for row in raqqa["claims"] if row["outlet_slug"] == "sana"]
    assert "party to the conflict" in sana["discounts"]
    assert sana["admiralty"]["credibility"] == 5
    assert "Discounted: sana: party to the conflict" in raqqa["explanation"]["summary"]
    displaced = (await client.get("/v1/events/2/consensus", headers=headers)).json()
    assert displaced["status"] == "contested"
    assert displaced["estimate"] is None
    assert sorted(figure["estimate"] for figure in displaced["competing_figures"]) == [
        8_000,
        25_000,
    ]
    ground = (await client.get("/v1/events/3/consensus", headers=headers)).json()
    assert ground["status"] == "no_reports"

    now = datetime.now(UTC).replace(microsecond=0)
    state = await post_claim(client, headers, "sana", (now - timedelta(minutes=3)).isoformat())
    monitor = await post_claim(client, headers, "sohr", (now - timedelta(minutes=3)).isoformat())
    assert monitor["score"]["probability"] > state["score"]["probability"] + 0.2
    assert monitor["score"]["grade"] != state["score"]["grade"]
    assert any("NGO monitors" in reason["text"] for reason in monitor["score"]["reasons"])
    assert any("state media outlets" in reason["text"] for reason in state["score"]["reasons"])

    verdict = await client.post(
        f"/v1/claims/{monitor['id']}/verdicts",
        json={
            "rating": "false",
            "source": "desk",
            "decided_at": (now - timedelta(minutes=2)).isoformat(),
        },
        headers=headers,
    )
    assert verdict.status_code == 201
    after = await post_claim(client, headers, "sohr", (now - timedelta(minutes=1)).isoformat())
    assert after["score"]["probability"] < monitor["score"]["probability"]
    history = (await client.get(f"/v1/claims/{monitor['id']}/scores", headers=headers)).json()
    assert history["items"][0]["probability"] == monitor["score"]["probability"]


def test_seeding_again_keeps_one_copy_and_the_demo_key_clients_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every `make run` seeds again: the key printed the first time must go on working."""
    from sqlalchemy import create_engine, func, select
    from sqlalchemy.orm import Session

    from service.auth.models import ApiKey
    from service.auth.service import hash_key
    from service.outlets.models import Outlet

    url = f"sqlite:///{tmp_path / 'twice.db'}"
    key_file = tmp_path / "demo-key"
    monkeypatch.setenv("CREDSCORE_DATABASE_URL", url)
    monkeypatch.setenv("CREDSCORE_DEMO_KEY_FILE", str(key_file))
    get_settings.cache_clear()
    main(["migrate"])
    keys = []
    for _ in range(2):
        assert main(["seed-demo"]) == 0
        keys.append(capsys.readouterr().out.strip().splitlines()[-1])
    assert keys[0] == keys[1]
    assert key_file.read_text().strip() == keys[0]
    assert key_file.stat().st_mode & 0o077 == 0
    key_file.unlink()  # lost: the next run issues a new key and revokes the old one
    assert main(["seed-demo"]) == 0
    keys.append(capsys.readouterr().out.strip().splitlines()[-1])
    get_settings.cache_clear()
    engine = create_engine(url)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Outlet)) == 4
        active = session.scalars(select(ApiKey).where(ApiKey.revoked_at.is_(None))).all()
    engine.dispose()
    assert [key.name for key in active] == ["demo-admin"]
    assert keys[2] != keys[0]
    assert active[0].key_hash == hash_key(keys[2])
