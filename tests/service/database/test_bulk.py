"""Bulk SQL helpers: many rows per statement on both databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.database.bulk import insert_returning_ids
from service.database.types import utcnow
from service.jobs.models import Job


class TestInsertReturningIds:
    async def test_each_id_is_the_row_inserted_from_the_parameters_at_its_place(
        self, session: Any
    ) -> None:
        # Several statements' worth of rows, on a table that already has some (ids do not
        # start at 1), so a mapping off by one row or one statement shows.
        await insert_returning_ids(session, Job, [_job(-1), _job(-2)])
        targets = [(n * 7919) % 2_503 for n in range(2_500)]
        ids = await insert_returning_ids(session, Job, [_job(target) for target in targets])
        stored = dict((await session.execute(select(Job.id, Job.target_id))).all())
        assert [stored[id_] for id_ in ids] == targets
        assert len(set(ids)) == len(ids)


def _job(target: int) -> dict[str, Any]:
    return {"kind": "test", "target_id": target, "reason": "test", "created_at": utcnow()}
