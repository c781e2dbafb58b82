"""The FastAPI application: routers, error handling, request logging, and the context its
requests share (service/context.py), built here."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from service.auth.rate_limit import RateLimiter
from service.auth.router import router as auth_router
from service.auth.service import KeyCache
from service.claims.fast_path import ClaimFastPath
from service.claims.not_modified import NotModifiedFastPath
from service.claims.router import router as claims_router
from service.claims.writer import ClaimWriter
from service.context import AppContext
from service.dashboard.router import router as dashboard_router
from service.database.engine import create_engine, create_sessionmaker
from service.database.transaction import RequestSessions
from service.dependencies import checked_parameters
from service.docs.router import router as docs_router
from service.errors import PROBLEM_MEDIA_TYPE, install_error_handlers
from service.events.router import router as events_router
from service.generations import Generations
from service.health.router import router as health_router
from service.http_caching import EtagCache, ResponseEtags
from service.interchange.ratings import RatingMapping
from service.interchange.router import IMPORT_PATHS
from service.interchange.router import router as interchange_router
from service.jobs.handlers import job_runner
from service.logging import BodySizeLimitMiddleware, RequestContextMiddleware, configure_logging
from service.metrics.router import forget_process_metrics
from service.metrics.router import router as metrics_router
from service.model_registry.launcher import TrainingLauncher
from service.model_registry.router import router as models_router
from service.openapi import operation_id
from service.outlets.router import router as outlets_router
from service.push.hub import PushHub
from service.push.router import stream_router, webhooks_router
from service.scores.service import ScoringService
from service.scores.track_records import TrackRecordStore
from service.settings import Settings, get_settings
from service.verdicts.router import router as verdicts_router

API_DESCRIPTION = """
Source-credibility scores for newsrooms: outlet track records, calibrated claim scores with
reasons, and reconciliation of conflicting figures.

Authenticate with an API key: `Authorization: Bearer <key>` (or `X-API-Key`). Scopes: `read`
(GET), `submit` (claims, events, previews), `admin` (outlets, verdicts, keys, webhooks).
Changes are pushed: `GET /v1/stream` (Server-Sent Events) and webhooks (`/v1/webhooks`,
signed per Standard Webhooks). `GET /metrics` serves Prometheus metrics.
Errors are RFC 9457 `application/problem+json` documents; a query parameter an operation does
not list is one of them (422), never silently ignored.

Lists are oldest first, or newest first with `order=desc`; follow `next_cursor` (`limit` at
most 500). Every GET under `/v1` carries an `ETag`: send it as `If-None-Match` for a 304.
"""


def build_context(settings: Settings, rating_mapping: RatingMapping) -> AppContext:
    """Everything a process shares between requests, each part built after what it needs."""
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    generations = Generations(sessionmaker, settings.cache_refresh_seconds)
    scoring = ScoringService(settings, TrackRecordStore(), counters=generations)
    push = PushHub(sessionmaker, settings)
    key_cache = KeyCache(settings.auth_cache_seconds)
    # After a job's commit: the counters refreshed, then what it pushed sent at once (the
    # worker runs the jobs it queued itself without being woken).
    jobs = job_runner(
        sessionmaker,
        scoring,
        poll_seconds=settings.jobs_poll_seconds,
        after_commit=(generations.after_commit, push.after_commit),
    )
    # After a request's commit: revoked keys are forgotten, then the counters refreshed before
    # the worker is woken (a job that read the old counters would score with the evidence from
    # before the change and clear its stale flags).
    sessions = RequestSessions(
        sessionmaker,
        after_commit=(
            key_cache.after_commit,
            generations.after_commit,
            jobs.after_commit,
            push.after_commit,
        ),
    )
    return AppContext(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker,
        sessions=sessions,
        generations=generations,
        scoring=scoring,
        push=push,
        jobs=jobs,
        training=TrainingLauncher(settings, sessionmaker),
        key_cache=key_cache,
        rate_limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst),
        claim_etags=EtagCache(),
        rating_mapping=rating_mapping,
        claim_writer=ClaimWriter(sessions, scoring, settings),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    # Read now, so that an unreadable mapping file stops the app before it is served.
    rating_mapping = RatingMapping.load(settings.rating_mapping_file)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = build_context(settings, rating_mapping)
        app.state.context = context
        context.start()
        # Everything imported and built so far (FastAPI, SQLAlchemy, scipy, scikit-learn: some
        # 200,000 objects) lives as long as the process. Frozen, the collector stops walking it
        # on every full collection: those took 110-140 ms under load (10 ms after) and set p99.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await context.stop()
            forget_process_metrics()

    app = FastAPI(
        title="credscore",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        # Starlette's slash redirects build an absolute Location from the Host header.
        redirect_slashes=False,
        # Served offline by service/docs/router.py (FastAPI's own pages load from a CDN).
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(ResponseEtags)
    app.add_middleware(ClaimFastPath)
    app.add_middleware(NotModifiedFastPath)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        # Imports take whole files (an outlet list, a fact-checker's archive).
        larger=dict.fromkeys(IMPORT_PATHS, settings.max_import_bytes),
    )
    app.add_middleware(RequestContextMiddleware, access_log=settings.access_log)
    app.include_router(health_router)
    # The import routes first: `/v1/outlets/import` also fits `/v1/outlets/{outlet_ref}`, and a
    # wrong method on it must be answered with the import's Allow header, not the outlet's.
    for router in (
        interchange_router,
        outlets_router,
        claims_router,
        verdicts_router,
        events_router,
        models_router,
        auth_router,
        webhooks_router,
        stream_router,
    ):
        app.include_router(router, dependencies=[Depends(checked_parameters)])
    app.include_router(metrics_router)
    app.include_router(dashboard_router)
    app.include_router(docs_router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema, with error responses declared as problem+json only."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for path, path_item in schema.get("paths", {}).items():
        for method, operation in path_item.items():
            for status_code, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status_code[0] in "45" and PROBLEM_MEDIA_TYPE in content:
                    content.pop("application/json", None)
            # Streamed, CSV and JSON-LD answers (the live stream, exports) carry no ETag.
            ok = operation.get("responses", {}).get("200", {}).get("content", {})
            if method == "get" and path.startswith("/v1/") and "application/json" in ok:
                _declare_etags(operation["responses"])
    app.openapi_schema = schema
    return schema


def _declare_etags(responses: dict[str, Any]) -> None:
    """Every GET under /v1 answers with an ETag and Cache-Control (service/http_caching.py)."""
    responses.setdefault(
        "304", {"description": "Not modified: the ETag sent in If-None-Match is still current."}
    )
    responses["200"].setdefault("headers", {}).update(
        {
            "ETag": {"description": "Send it as If-None-Match to get a 304 while unchanged."},
            "Cache-Control": {"description": "`no-cache`: revalidate before each reuse."},
        }
    )
