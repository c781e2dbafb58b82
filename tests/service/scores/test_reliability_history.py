"""Every change of an outlet's reliability leaves a history entry that says what caused it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

import service.scores.history as history_module
from service.scores.schemas import ReliabilityCause
from tests.service.factories import create_claim, create_outlet, record_verdict


async def _history(
    client: httpx.AsyncClient, headers: dict[str, str], slug: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/v1/outlets/{slug}/reliability/history", params={"limit": 500}, headers=headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _verdict(
    client: httpx.AsyncClient, headers: dict[str, str], slug: str, rating: str, decided_at: str
) -> None:
    claim = await create_claim(client, headers, slug, published_at="2016-01-01T00:00:00Z")
    await record_verdict(client, headers, claim["id"], rating, decided_at)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_a_verdict_entry_is_dated_by_its_evidence_not_its_computation(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers, "monitor")
    await _verdict(client, admin_headers, "monitor", "true", "2017-03-01T12:00:00Z")
    [entry] = await _history(client, admin_headers, "monitor")
    assert entry["cause"] == "verdict"
    assert _at(entry["evidence_at"]) == datetime(2017, 3, 1, 12, tzinfo=UTC)
    assert _at(entry["computed_at"]) > datetime.now(UTC) - timedelta(minutes=5)


async def test_verdicts_on_others_of_its_kind_write_a_kind_prior_entry(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers, "monitor", kind="ngo_monitor")
    await create_outlet(client, admin_headers, "other-monitor", kind="ngo_monitor")
    await create_outlet(client, admin_headers, "a-wire", kind="wire")
    await _verdict(client, admin_headers, "monitor", "true", "2017-03-01T00:00:00Z")
    await _verdict(client, admin_headers, "a-wire", "true", "2017-03-01T00:00:00Z")
    await app.state.context.jobs.drain()
    before = await _history(client, admin_headers, "monitor")
    # The wire's verdict moved the baseline of all outlets a little: at most a kind_prior entry.
    assert before[0]["cause"] == "verdict"
    assert {entry["cause"] for entry in before[1:]} <= {"kind_prior"}

    for day in range(1, 6):
        await _verdict(client, admin_headers, "other-monitor", "false", f"2017-04-0{day}T00:00:00Z")
    await app.state.context.jobs.drain()

    history = await _history(client, admin_headers, "monitor")
    assert history[0]["cause"] == "verdict"
    assert {entry["cause"] for entry in history[1:]} == {"kind_prior"}
    assert len(history) > len(before)
    latest = history[-1]
    # The prior fell with the other monitor's false verdicts; the history now says so, and
    # agrees with the current figure (the issue: it said 0.80 while the outlet stood at 0.74).
    assert latest["probability"] < before[-1]["probability"] - 0.01
    current = (await client.get("/v1/outlets/monitor/reliability", headers=admin_headers)).json()
    assert latest["probability"] == pytest.approx(current["probability"], abs=0.001)
    # Its evidence is the other monitor's latest verdict, not the moment it was computed.
    assert _at(latest["evidence_at"]) == datetime(2017, 4, 5, tzinfo=UTC)
    # An outlet of another kind moved far less: its prior is its own kind's, only shrunk
    # towards the mean of all outlets.
    wire = await _history(client, admin_headers, "a-wire")
    assert {entry["cause"] for entry in wire[1:]} <= {"kind_prior"}
    wire_now = (await client.get("/v1/outlets/a-wire/reliability", headers=admin_headers)).json()
    # Measured on its current figure, which moves whether or not the move earned an entry.
    wire_drop = wire[0]["probability"] - wire_now["probability"]
    assert 0 < wire_drop < before[-1]["probability"] - latest["probability"]

    # The next verdict on the monitor costs it only its own effect.
    await _verdict(client, admin_headers, "monitor", "true", "2017-05-01T00:00:00Z")
    after = await _history(client, admin_headers, "monitor")
    assert after[-1]["cause"] == "verdict"
    assert after[-2] == latest
    assert after[-1]["probability"] > latest["probability"]


async def test_an_edited_record_writes_a_record_entry_for_it_and_its_kind(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers, "test-wire")
    await create_outlet(client, admin_headers, "other-wire")
    await _verdict(client, admin_headers, "other-wire", "true", "2017-03-01T00:00:00Z")
    response = await client.post(
        "/v1/outlets/test-wire/records",
        json={"source": "fact-checker", "as_of": "2016-06-01T00:00:00Z", "refuted": 30},
        headers=admin_headers,
    )
    assert response.status_code == 201, response.text
    [entry] = await _history(client, admin_headers, "test-wire")
    assert entry["cause"] == "record"
    # Dated by the record, as is the move it caused in the other wire's prior.
    assert _at(entry["evidence_at"]) == datetime(2016, 6, 1, tzinfo=UTC)
    other = await _history(client, admin_headers, "other-wire")
    assert [item["cause"] for item in other] == ["verdict", "kind_prior"]
    assert other[-1]["probability"] < other[0]["probability"]
    assert _at(other[-1]["evidence_at"]) == datetime(2016, 6, 1, tzinfo=UTC)

    deleted = await client.delete(
        f"/v1/outlets/test-wire/records/{response.json()['id']}", headers=admin_headers
    )
    assert deleted.status_code == 204
    assert [item["cause"] for item in await _history(client, admin_headers, "test-wire")] == [
        "record",
        "record",
    ]
    other = await _history(client, admin_headers, "other-wire")
    assert [item["cause"] for item in other] == ["verdict", "kind_prior", "kind_prior"]
    assert other[-1]["probability"] == pytest.approx(other[0]["probability"], abs=0.001)


async def test_time_passing_is_its_own_entry_before_the_next_verdict(
    client: httpx.AsyncClient, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_outlet(client, admin_headers, "monitor")
    for _ in range(4):
        await _verdict(client, admin_headers, "monitor", "false", "2017-03-01T00:00:00Z")
    before = await _history(client, admin_headers, "monitor")
    assert {entry["cause"] for entry in before} == {"verdict"}

    later = datetime.now(UTC) + timedelta(days=3 * 365)
    monkeypatch.setattr(history_module, "utcnow", lambda: later)
    await _verdict(client, admin_headers, "monitor", "false", "2017-03-02T00:00:00Z")

    history = await _history(client, admin_headers, "monitor")
    decay, verdict = history[-2:]
    assert (decay["cause"], verdict["cause"]) == ("time_decay", "verdict")
    # Three more years of decay: the old false verdicts weigh less, the figure rises.
    assert decay["probability"] > before[-1]["probability"] + 0.001
    assert _at(decay["evidence_at"]) == later
    assert verdict["probability"] < decay["probability"]


async def test_the_cause_is_a_typed_enum_in_the_openapi_document(
    client: httpx.AsyncClient,
) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    assert schemas["ReliabilityCause"]["enum"] == [cause.value for cause in ReliabilityCause]
    score = schemas["ScoreRead"]["properties"]
    assert {"$ref": "#/components/schemas/ReliabilityCause"} in score["cause"]["anyOf"]
    assert {"type": "string", "format": "date-time"} in score["evidence_at"]["anyOf"]


async def test_a_prior_move_not_yet_recorded_is_caught_up_before_the_next_verdict(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    """Without the background job (tests run it by hand), the prior's move is still not blamed
    on the next verdict: an entry for it comes first."""
    await create_outlet(client, admin_headers, "monitor", kind="ngo_monitor")
    await create_outlet(client, admin_headers, "other-monitor", kind="ngo_monitor")
    await _verdict(client, admin_headers, "monitor", "true", "2017-03-01T00:00:00Z")
    for day in range(1, 6):
        await _verdict(client, admin_headers, "other-monitor", "false", f"2017-04-0{day}T00:00:00Z")
    await _verdict(client, admin_headers, "monitor", "true", "2017-05-01T00:00:00Z")
    history = await _history(client, admin_headers, "monitor")
    assert [entry["cause"] for entry in history] == ["verdict", "kind_prior", "verdict"]
    first, prior, verdict = history
    assert prior["probability"] < first["probability"]
    assert verdict["probability"] > prior["probability"]
    assert _at(prior["evidence_at"]) == datetime(2017, 4, 5, tzinfo=UTC)
