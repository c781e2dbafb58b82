"""request_transaction: commit or roll back, which sessions are kept for the next request, and
the hooks run after a commit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from service.database.transaction import MAX_IDLE_SESSIONS, RequestSessions, request_transaction
from service.outlets.models import Outlet
from tests.service.factories import create_outlet


async def _outlet_count(app: Any) -> int:
    async with app.state.context.sessionmaker() as session:
        return int((await session.execute(select(func.count(Outlet.id)))).scalar_one())


class TestSessionReuse:
    async def test_a_session_that_never_touched_the_database_serves_the_next_request(
        self, app: Any
    ) -> None:
        async with request_transaction(app.state.context.sessions) as first:
            pass
        async with request_transaction(app.state.context.sessions) as second:
            assert second is first
            assert not second.in_transaction()

    async def test_a_committed_session_with_no_objects_left_is_reused_clean(self, app: Any) -> None:
        async with request_transaction(app.state.context.sessions) as first:
            await first.execute(select(func.count(Outlet.id)))
            assert first.in_transaction()
        assert not first.in_transaction()
        async with request_transaction(app.state.context.sessions) as second:
            assert second is first

    async def test_a_session_holding_objects_or_flags_is_not_reused(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        outlet = await create_outlet(client, admin_headers)
        app.state.context.sessions.idle.clear()
        async with request_transaction(app.state.context.sessions) as loaded:
            assert await loaded.get(Outlet, outlet["id"]) is not None
        async with request_transaction(app.state.context.sessions) as flagged:
            flagged.info["marker"] = True
        assert app.state.context.sessions.idle == []
        async with request_transaction(app.state.context.sessions) as fresh:
            assert fresh is not loaded
            assert fresh is not flagged
            assert fresh.info == {}

    async def test_a_failed_block_rolls_back_and_leaves_a_clean_session(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        before = await _outlet_count(app)

        async def flush_then_fail() -> None:
            async with request_transaction(app.state.context.sessions) as failed:
                failed.add(Outlet(slug="never-stored", name="Never", kind="wire"))
                await failed.flush()
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await flush_then_fail()
        assert await _outlet_count(app) == before
        async with request_transaction(app.state.context.sessions) as next_session:
            assert not next_session.in_transaction()
            assert not next_session.new
            assert await next_session.get(Outlet, 10**6) is None

    async def test_the_free_list_is_bounded(self, app: Any) -> None:
        app.state.context.sessions.idle.clear()
        blocks = [
            request_transaction(app.state.context.sessions) for _ in range(MAX_IDLE_SESSIONS + 5)
        ]
        for block in blocks:
            await block.__aenter__()
        for block in blocks:
            await block.__aexit__(None, None, None)
        assert len(app.state.context.sessions.idle) == MAX_IDLE_SESSIONS


class TestAfterCommitHooks:
    @staticmethod
    def _recording(app: Any, seen: list[dict[Any, Any]]) -> RequestSessions:
        async def record(info: dict[Any, Any]) -> None:
            seen.append(dict(info))
            info.pop("marker", None)

        return RequestSessions(app.state.context.sessionmaker, after_commit=[record])

    async def test_hooks_run_after_the_commit_with_the_flags_left(self, app: Any) -> None:
        seen: list[dict[Any, Any]] = []
        sessions = self._recording(app, seen)
        async with request_transaction(sessions) as session:
            await session.execute(select(func.count(Outlet.id)))
            session.info["marker"] = True
            assert seen == []
        assert seen == [{"marker": True}]
        assert sessions.idle == [session]  # the hook took its flag: the session is clean

    async def test_no_hook_runs_for_a_block_that_failed_or_left_no_flags(self, app: Any) -> None:
        seen: list[dict[Any, Any]] = []
        sessions = self._recording(app, seen)

        async def flag_then_fail() -> None:
            async with request_transaction(sessions) as failed:
                await failed.execute(select(func.count(Outlet.id)))
                failed.info["marker"] = True
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await flag_then_fail()
        async with request_transaction(sessions) as unflagged:
            await unflagged.execute(select(func.count(Outlet.id)))
        assert seen == []
