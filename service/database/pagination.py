"""Keyset pagination: pages of a list ordered by id, resumed after the last id seen."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select

SelectT = TypeVar("SelectT", bound=Select[Any])


def keyset(
    statement: SelectT, column: Any, *, after: int | None, limit: int, descending: bool = False
) -> SelectT:
    """One page of a list ordered by id, increasing (or ``descending``): the rows that follow
    ``after`` in that order, at most ``limit``."""
    if descending:
        statement = statement.order_by(column.desc()).limit(limit)
        return statement if after is None else statement.where(column < after)
    statement = statement.order_by(column).limit(limit)
    return statement if after is None else statement.where(column > after)
