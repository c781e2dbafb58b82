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
from service.models.models import ModelVersion

logger = logging.getLogger("credscore.models")


@dataclass(frozen=True)
class LoadedModel:
    id: int
    version: str
    model: ClaimModel


class ModelStore:
    def __init__(self) -> None:
        self._generation: int | None = None
        self._loaded: LoadedModel | None = None
        self.load_error: str | None = None
        self._lock = asyncio.Lock()

    @property
    def loaded(self) -> LoadedModel | None:
        return self._loaded

    async def current(self, session: AsyncSession, generation: int) -> LoadedModel | None:
        if generation == self._generation:
            return self._loaded
        async with self._lock:
            if generation == self._generation:
                return self._loaded
            row = await session.scalar(
                select(ModelVersion)
                .options(undefer(ModelVersion.artifact))
                .where(ModelVersion.active.is_(True))
                .limit(1)
            )
            loaded = None
            error = None
            if row is not None and row.artifact is not None:
                if self._loaded is not None and self._loaded.id == row.id:
                    loaded = self._loaded
                else:
                    try:
                        model = await asyncio.to_thread(load_model, row.artifact)
                        loaded = LoadedModel(row.id, row.version, model)
                    except ArtifactError as exc:
                        error = f"active model {row.version} refused: {exc}"
                        logger.error(error)
            self._loaded, self.load_error, self._generation = loaded, error, generation
            return loaded
