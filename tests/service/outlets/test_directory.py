"""The outlet registry kept in memory, one per ``outlets`` generation."""

from __future__ import annotations

from typing import Any

from service import generations
from service.outlets.directory import OutletDirectory
from service.outlets.models import Outlet


async def _add_outlet(session: Any, slug: str) -> int:
    await generations.bump(session, generations.OUTLETS)
    session.add(Outlet(slug=slug, name=slug.title(), kind="wire"))
    await session.flush()
    return (await generations.read_generations(session))[generations.OUTLETS]


async def test_a_registry_read_by_a_rolled_back_change_is_not_served_later(app: Any) -> None:
    directory = OutletDirectory()
    sessions = app.state.context.sessionmaker
    async with sessions() as session:
        phantom_generation = await _add_outlet(session, "rolled-back")
        seen = await directory.registry(session, phantom_generation)
        assert "rolled-back" in seen.by_slug  # the transaction sees its own outlet
        await session.rollback()
    async with sessions() as session:
        # The next change that commits takes the same counter value.
        generation = await _add_outlet(session, "committed")
        await session.commit()
    assert generation == phantom_generation
    async with sessions() as session:
        registry = await directory.registry(session, generation)
    assert "committed" in registry.by_slug
    assert "rolled-back" not in registry.by_slug


async def test_a_committed_registry_is_read_once_per_generation(app: Any) -> None:
    directory = OutletDirectory()
    sessions = app.state.context.sessionmaker
    async with sessions() as session:
        generation = await _add_outlet(session, "first")
        await session.commit()
    async with sessions() as session:
        first = await directory.registry(session, generation)
        again = await directory.registry(session, generation)
    assert again is first
