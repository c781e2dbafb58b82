"""The in-memory evidence snapshot: catches up on new rows, reloads when it must."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import insert

from service import generations
from service.scores.track_records import TrackRecordStore
from service.verdicts.models import Verdict
from tests.service.factories import create_claim, create_outlet, record_verdict


async def snapshot_now(app: Any, store: TrackRecordStore) -> Any:
    async with app.state.context.sessionmaker() as session:
        values = await generations.read_generations(session)
        return await store.snapshot(
            session, values[generations.EVIDENCE], values[generations.EVIDENCE_RESET]
        )


async def fresh(app: Any) -> Any:
    return await snapshot_now(app, TrackRecordStore())


def evidence_of(snapshot: Any) -> list[tuple[int, float, float]]:
    return sorted((outlet, item.successes, item.failures) for outlet, item in snapshot.items)


async def test_catches_up_on_appended_verdicts_and_reloads_after_a_deletion(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    outlet = await create_outlet(client, admin_headers)
    claim = await create_claim(client, admin_headers)
    await record_verdict(client, admin_headers, claim["id"], "true")
    store = TrackRecordStore()
    first = await snapshot_now(app, store)
    assert first.verdict_rows == 1

    await record_verdict(client, admin_headers, claim["id"], "false")
    caught_up = await snapshot_now(app, store)
    assert caught_up.generation > first.generation
    assert caught_up.reset_generation == first.reset_generation
    assert caught_up.verdict_rows == 2
    assert caught_up.last_verdict_id > first.last_verdict_id
    assert evidence_of(caught_up) == evidence_of(await fresh(app))

    record = await client.post(
        f"/v1/outlets/{outlet['id']}/records",
        json={"source": "audit", "as_of": "2024-01-01T00:00:00Z", "verified": 5},
        headers=admin_headers,
    )
    await client.delete(
        f"/v1/outlets/{outlet['id']}/records/{record.json()['id']}", headers=admin_headers
    )
    reloaded = await snapshot_now(app, store)
    assert reloaded.reset_generation > caught_up.reset_generation
    assert evidence_of(reloaded) == evidence_of(await fresh(app))
    assert reloaded.record_rows == 0


async def test_a_row_committed_out_of_id_order_is_not_lost(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    claim = await create_claim(client, admin_headers)
    for _ in range(3):
        await record_verdict(client, admin_headers, claim["id"], "true")
    store = TrackRecordStore()
    seen = await snapshot_now(app, store)
    late = seen.items[0][1].known_at

    async def commit_verdict(verdict_id: int, source: str) -> None:
        async with app.state.context.sessionmaker() as session:
            await session.execute(
                insert(Verdict).values(
                    id=verdict_id,
                    claim_id=claim["id"],
                    rating="false",
                    source=source,
                    decided_at=late,
                )
            )
            await generations.bump(session, generations.EVIDENCE)
            await session.commit()

    await commit_verdict(seen.last_verdict_id + 100, "committed first")
    ahead = await snapshot_now(app, store)
    assert ahead.last_verdict_id == seen.last_verdict_id + 100
    # A writer that took a smaller id earlier commits only now: ids are not committed in order.
    await commit_verdict(seen.last_verdict_id + 50, "committed second, smaller id")
    after = await snapshot_now(app, store)
    assert after.verdict_rows == 5
    assert evidence_of(after) == evidence_of(await fresh(app))


async def test_rows_a_transaction_rolls_back_never_reach_the_process_snapshot(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    claim = await create_claim(client, admin_headers)
    await record_verdict(client, admin_headers, claim["id"], "true")
    store = TrackRecordStore()
    committed = await snapshot_now(app, store)
    async with app.state.context.sessionmaker() as session:
        await session.execute(
            insert(Verdict).values(
                claim_id=claim["id"],
                rating="false",
                source="dry run",
                decided_at=committed.items[0][1].known_at,
            )
        )
        await generations.bump(session, generations.EVIDENCE)
        values = await generations.read_generations(session)
        own = await store.snapshot(
            session, values[generations.EVIDENCE], values[generations.EVIDENCE_RESET]
        )
        assert own.verdict_rows == 2  # the transaction scores with its own change
        await session.rollback()
    # A later change that commits takes the same generation the rolled-back one had.
    await record_verdict(client, admin_headers, claim["id"], "mostly-true")
    after = await snapshot_now(app, store)
    assert after.verdict_rows == 2
    assert evidence_of(after) == evidence_of(await fresh(app))
