"""Fault injection: PostgreSQL stops under a steady stream of writes, then comes back.

The database is a private throw-away cluster (initdb + pg_ctl in a temporary directory, on
127.0.0.1 and a free port), never the shared server. The service runs under uvicorn against it
and is not restarted: while the database is down every request must fail fast with 503 and
Retry-After; once it is back the service must recover by itself; and every claim that was
answered with a 2xx must be in the database.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from service.claims.models import Claim
from service.migrate import upgrade
from tests.reliability.conftest import (
    PrivateCluster,
    ServerThread,
    make_settings,
    seed_database,
    sync_engine,
)
from tests.service.factories import claim_body

pytestmark = pytest.mark.postgres

WORKERS = 4
DOWN_SECONDS = 3.0
FAIL_FAST_SECONDS = 5.0  # a request while the database is down is answered within this
RECOVERY_SECONDS = 10.0  # after the database is back, writes succeed again within this
TEST_DEADLINE_SECONDS = 60.0


@dataclass(frozen=True)
class Outcome:
    started: float
    finished: float
    status: int  # 0: no HTTP response at all (client-side error)
    claim_id: int | None
    retry_after: str | None
    content_type: str | None
    error: str | None

    @property
    def latency(self) -> float:
        return self.finished - self.started


async def _writer(
    client: httpx.AsyncClient, worker: int, stop: asyncio.Event, outcomes: list[Outcome]
) -> None:
    sequence = 0
    while not stop.is_set():
        sequence += 1
        body = claim_body(text=f"Load claim {worker}-{sequence}.")
        started = time.monotonic()
        try:
            response = await client.post("/v1/claims", json=body)
        except httpx.HTTPError as exc:
            outcomes.append(
                Outcome(started, time.monotonic(), 0, None, None, None, type(exc).__name__)
            )
            await asyncio.sleep(0.05)
            continue
        claim_id = response.json().get("id") if response.status_code == 201 else None
        outcomes.append(
            Outcome(
                started,
                time.monotonic(),
                response.status_code,
                claim_id,
                response.headers.get("retry-after"),
                response.headers.get("content-type"),
                None if response.status_code in (201, 503) else response.text[:300],
            )
        )
        # A steady stream, not a flood: ~20 requests per second per worker at most.
        await asyncio.sleep(0.05)


def _stored_ids(url: str) -> set[int]:
    engine = sync_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.scalars(select(Claim.id)))
    finally:
        engine.dispose()


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_database_outage_fails_fast_and_recovers(
    private_cluster: PrivateCluster, mode: str
) -> None:
    """``fast``: a clean shutdown that ends every session; ``immediate``: like a crash (the
    server recovers from its WAL on the next start)."""
    url = private_cluster.url
    upgrade(url)
    seeded = seed_database(url)
    settings = make_settings(url, database_connect_timeout_seconds=1, database_pool_size=WORKERS)
    outcomes: list[Outcome] = []
    stop = asyncio.Event()
    timeline: dict[str, float] = {}
    async with asyncio.timeout(TEST_DEADLINE_SECONDS):
        with ServerThread(settings) as server:
            async with httpx.AsyncClient(
                base_url=server.base_url, headers=seeded.headers, timeout=30
            ) as client:
                writers = [
                    asyncio.create_task(_writer(client, worker, stop, outcomes))
                    for worker in range(WORKERS)
                ]
                try:
                    await asyncio.sleep(1.5)
                    timeline["stop_requested"] = time.monotonic()
                    await asyncio.to_thread(private_cluster.stop, mode)
                    timeline["stopped"] = time.monotonic()
                    await asyncio.sleep(DOWN_SECONDS)
                    timeline["start_requested"] = time.monotonic()
                    await asyncio.to_thread(private_cluster.start)
                    timeline["started"] = time.monotonic()
                    # Keep writing until writes succeed again (or give up), then a little more.
                    recovery_deadline = timeline["started"] + RECOVERY_SECONDS
                    while time.monotonic() < recovery_deadline:
                        if any(
                            o.status == 201 and o.started > timeline["started"] for o in outcomes
                        ):
                            break
                        await asyncio.sleep(0.05)
                    await asyncio.sleep(1.5)
                finally:
                    stop.set()
                    await asyncio.gather(*writers)
                timeline["ready_status"] = (await client.get("/readyz")).status_code

    report = f"[{mode}] " + _summarize(outcomes, timeline)
    print(report)  # shown with -s or on failure: how fast the service failed and recovered

    unexpected = [o for o in outcomes if o.status not in (201, 503)]
    assert not unexpected, f"responses other than 201/503: {unexpected[:5]}\n{report}"

    before_stop = [o for o in outcomes if o.finished < timeline["stop_requested"]]
    assert before_stop, report
    assert all(o.status == 201 for o in before_stop), report

    # While the database was down (from the moment it was stopped until it was started again):
    down = [
        o
        for o in outcomes
        if o.started >= timeline["stopped"] and o.finished <= timeline["start_requested"]
    ]
    assert len(down) >= WORKERS, f"too few requests while the database was down\n{report}"
    for outcome in down:
        assert outcome.status == 503, report
        assert outcome.content_type == "application/problem+json", report
        assert outcome.retry_after is not None, report
        assert int(outcome.retry_after) >= 1, report
        assert outcome.latency < FAIL_FAST_SECONDS, report
    # Every 503 anywhere carries Retry-After.
    assert all(o.retry_after for o in outcomes if o.status == 503), report

    # Recovery without a restart: a write succeeds soon after the database is back, and from
    # then on every write succeeds.
    after = sorted(
        (o for o in outcomes if o.started >= timeline["started"]), key=lambda o: o.started
    )
    first_ok = next((o for o in after if o.status == 201), None)
    assert first_ok is not None, f"no successful write after the database came back\n{report}"
    assert first_ok.finished - timeline["started"] < RECOVERY_SECONDS, report
    settled = [o for o in after if o.started >= first_ok.finished]
    assert settled, report
    assert all(o.status == 201 for o in settled), report

    # Durability: every claim answered 2xx is stored.
    acknowledged = {o.claim_id for o in outcomes if o.status == 201}
    assert None not in acknowledged
    stored = _stored_ids(url)
    missing = acknowledged - stored
    load_rows = stored - set(seeded.claim_ids)
    print(
        f"[{mode}] acknowledged {len(acknowledged)} claims, all stored: {not missing}; "
        f"stored without a 2xx: {len(load_rows - acknowledged)}"
    )
    assert not missing, f"acknowledged claims missing from the database: {sorted(missing)}"
    assert timeline["ready_status"] == 200, report


def _summarize(outcomes: list[Outcome], timeline: dict[str, float]) -> str:
    origin = min(o.started for o in outcomes) if outcomes else 0.0
    statuses: dict[int, int] = {}
    for outcome in outcomes:
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
    failures = [o for o in outcomes if o.status != 201]
    lines = [
        "database outage:",
        "  timeline (s): "
        + ", ".join(
            f"{name}={moment - origin:.2f}"
            for name, moment in timeline.items()
            if name != "ready_status"
        ),
        f"  responses: {statuses}",
    ]
    if failures:
        lines.append(
            f"  failed requests: first started {min(o.started for o in failures) - origin:.2f}, "
            f"last finished {max(o.finished for o in failures) - origin:.2f}, "
            f"slowest {max(o.latency for o in failures):.3f} s, "
            f"Retry-After {sorted({o.retry_after for o in failures if o.retry_after})}"
        )
    if "started" in timeline:
        ok_after = [o for o in outcomes if o.status == 201 and o.started >= timeline["started"]]
        if ok_after:
            first = min(ok_after, key=lambda o: o.finished)
            lines.append(
                f"  first 201 after restart: {first.finished - timeline['started']:.3f} s "
                "after pg_ctl start returned"
            )
    return "\n".join(lines)
