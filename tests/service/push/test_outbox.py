"""Change events are written at commit, only for the changes that committed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.push.models import OutboxEvent
from service.push.outbox import VERDICT_RECORDED, emit


async def _outbox(app: Any) -> list[int]:
    async with app.state.context.sessionmaker() as session:
        rows = await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))
        return [row.payload["data"]["n"] for row in rows]


async def test_a_rolled_back_savepoint_takes_back_the_events_staged_within_it(app: Any) -> None:
    async with app.state.context.sessionmaker() as session:
        emit(session, VERDICT_RECORDED, {"n": 1})
        savepoint = await session.begin_nested()
        emit(session, VERDICT_RECORDED, {"n": 2})
        await savepoint.rollback()
        async with session.begin_nested():
            emit(session, VERDICT_RECORDED, {"n": 3})
        emit(session, VERDICT_RECORDED, {"n": 4})
        await session.commit()
    assert await _outbox(app) == [1, 3, 4]


async def test_a_rolled_back_transaction_writes_no_event(app: Any) -> None:
    async with app.state.context.sessionmaker() as session:
        await session.begin()
        emit(session, VERDICT_RECORDED, {"n": 1})
        await session.rollback()
        emit(session, VERDICT_RECORDED, {"n": 2})
        await session.commit()
    assert await _outbox(app) == [2]
