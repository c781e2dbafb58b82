"""The active claim model, loaded once per process and swapped when another is activated.

Activation bumps the ``model`` generation in the database in the same transaction, so every
replica notices on its next score (one primary-key read it already makes for the evidence) and
loads the new artifact once, off the event loop. An artifact this process cannot load (another
scikit-learn version, a bad checksum) is refused with its reason, and scoring falls back to the
track record rather than serving a model it cannot vouch for.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from scoring.artifacts import ArtifactError, load_model
from scoring.claim_model import ClaimModel
from service.generations import GenerationCache, reads_committed_state
from service.model_registry.models import ModelVersion

logger = logging.getLogger("credscore.models")


@dataclass(frozen=True)
class LoadedModel:
    id: int
    version: str
    model: ClaimModel


@dataclass(frozen=True)
class ActiveModel:
    """What this process made of the active model: loaded, or refused with its reason."""

    loaded: LoadedModel | None
    load_error: str | None = None


class ModelStore:
    def __init__(self) -> None:
        self._active: GenerationCache[ActiveModel] = GenerationCache()

    @property
    def loaded(self) -> LoadedModel | None:
        active = self._active.latest
        return active.loaded if active is not None else None

    @property
    def load_error(self) -> str | None:
        active = self._active.latest
        return active.load_error if active is not None else None

    async def current(self, session: AsyncSession, generation: int) -> LoadedModel | None:
        async def load(previous: ActiveModel | None) -> ActiveModel:
            row = await session.scalar(
                select(ModelVersion)
                .options(undefer(ModelVersion.artifact))
                .where(ModelVersion.active.is_(True))
                .limit(1)
            )
            if row is None or row.artifact is None:
                return ActiveModel(None)
            kept = previous.loaded if previous is not None else None
            if kept is not None and kept.id == row.id:
                return ActiveModel(kept)
            try:
                model = await asyncio.to_thread(load_model, row.artifact)
            except ArtifactError as exc:
                error = f"active model {row.version} refused: {exc}"
                logger.error(error)
                return ActiveModel(None, error)
            return ActiveModel(LoadedModel(row.id, row.version, model))

        active = await self._active.get(generation, load, keep=reads_committed_state(session))
        return active.loaded
