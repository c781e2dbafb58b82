"""request_transaction: commit or roll back, and which sessions are kept for the next request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from service.db import MAX_IDLE_SESSIONS, insert_returning_ids, request_transaction, utcnow
from service.jobs.models import Job
from service.outlets.models import Outlet
from tests.service.factories import create_outlet


async def _outlet_count(app: Any) -> int:
    async with app.state.sessionmaker() as session:
        return int((await session.execute(select(func.count(Outlet.id)))).scalar_one())


class TestSessionReuse:
    async def test_a_session_that_never_touched_the_database_serves_the_next_request(
        self, app: Any
    ) -> None:
        async with request_transaction(app.state) as first:
            pass
        async with request_transaction(app.state) as second:
            assert second is first
            assert not second.in_transaction()

    async def test_a_committed_session_with_no_objects_left_is_reused_clean(self, app: Any) -> None:
        async with request_transaction(app.state) as first:
            await first.execute(select(func.count(Outlet.id)))
            assert first.in_transaction()
        assert not first.in_transaction()
        async with request_transaction(app.state) as second:
            assert second is first

    async def test_a_session_holding_objects_or_flags_is_not_reused(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        outlet = await create_outlet(client, admin_headers)
        app.state.idle_sessions.clear()
        async with request_transaction(app.state) as loaded:
            assert await loaded.get(Outlet, outlet["id"]) is not None
        async with request_transaction(app.state) as flagged:
            flagged.info["marker"] = True
        assert app.state.idle_sessions == []
        async with request_transaction(app.state) as fresh:
            assert fresh is not loaded
            assert fresh is not flagged
            assert fresh.info == {}

    async def test_a_failed_block_rolls_back_and_leaves_a_clean_session(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        before = await _outlet_count(app)

        async def flush_then_fail() -> None:
            async with request_transaction(app.state) as failed:
                failed.add(Outlet(slug="never-stored", name="Never", kind="wire"))
                await failed.flush()
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await flush_then_fail()
        assert await _outlet_count(app) == before
        async with request_transaction(app.state) as next_session:
            assert not next_session.in_transaction()
            assert not next_session.new
            assert await next_session.get(Outlet, 10**6) is None

    async def test_the_free_list_is_bounded(self, app: Any) -> None:
        app.state.idle_sessions.clear()
        blocks = [request_transaction(app.state) for _ in range(MAX_IDLE_SESSIONS + 5)]
        for block in blocks:
            await block.__aenter__()
        for block in blocks:
            await block.__aexit__(None, None, None)
        assert len(app.state.idle_sessions) == MAX_IDLE_SESSIONS


class TestInsertReturningIds:
    async def test_each_id_is_the_row_inserted_from_the_parameters_at_its_place(
        self, session: Any
    ) -> None:
        # Several statements' worth of rows, on a table that already has some (ids do not
        # start at 1), so a mapping off by one row or one statement shows.
        await insert_returning_ids(session, Job, [_job(-1), _job(-2)])
        targets = [(n * 7919) % 2_503 for n in range(2_500)]
        ids = await insert_returning_ids(session, Job, [_job(target) for target in targets])
        stored = dict((await session.execute(select(Job.id, Job.target_id))).tuples().all())
        assert [stored[id_] for id_ in ids] == targets
        assert len(set(ids)) == len(ids)


def _job(target: int) -> dict[str, Any]:
    return {"kind": "test", "target_id": target, "reason": "test", "created_at": utcnow()}
