"""The application's context: what a process builds once at start-up and every request shares.

Built by the app's lifespan (service/app.py), in the order its parts need each other, and kept
in ``app.state.context``. Code reads it through ``app_context`` (middleware, which sees the
ASGI app) or the ``ContextDep`` dependency (routes, service/dependencies.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from service.auth.rate_limit import RateLimiter
    from service.auth.service import KeyCache
    from service.claims.writer import ClaimWriter
    from service.database.transaction import RequestSessions
    from service.generations import Generations
    from service.http_caching import EtagCache
    from service.interchange.ratings import RatingMapping
    from service.jobs.runner import JobRunner
    from service.model_registry.launcher import TrainingLauncher
    from service.push.hub import PushHub
    from service.scores.service import ScoringService
    from service.settings import Settings


@dataclass(eq=False)
class AppContext:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # Requests' sessions: idle ones kept for reuse, and the hooks run after each commit.
    sessions: RequestSessions
    generations: Generations
    scoring: ScoringService
    push: PushHub
    jobs: JobRunner
    training: TrainingLauncher
    key_cache: KeyCache
    rate_limiter: RateLimiter
    claim_etags: EtagCache
    rating_mapping: RatingMapping
    claim_writer: ClaimWriter

    def start(self) -> None:
        """Start the background work: counters' refresh, the worker, push consumers."""
        self.generations.start()
        if self.settings.jobs_enabled:
            self.jobs.start()
        # Webhooks are sent by the background worker; streams are served whenever it runs.
        self.push.start(webhooks=self.settings.jobs_enabled)

    async def stop(self) -> None:
        await self.training.stop()
        await self.claim_writer.stop()
        await self.generations.stop()
        await self.jobs.stop()
        await self.push.stop()
        await self.engine.dispose()


def app_context(app: Any) -> AppContext:
    """The context of a running app (``app``: the ASGI app, e.g. ``scope["app"]``)."""
    context: AppContext = app.state.context
    return context
