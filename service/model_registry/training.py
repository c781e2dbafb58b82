"""Training a claim model from the verdicts in the database, outside the request path.

Runs in its own process (`credscore train`, which POST /v1/models spawns), writes its progress
and a heartbeat to its registry row, and only touches the active model at its very last step,
in one transaction: a run that fails or is killed leaves the active model as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scoring.artifacts import dump_model, read_header
from scoring.claim_model import SERVICE_LABELS, ClaimModel
from scoring.features import ClaimContext
from scoring.model_selection import SERVICE_CANDIDATES, HeldOutFit, fit_with_holdout
from scoring.reliability import Rating
from service import generations
from service.claims.models import Claim
from service.database.engine import create_engine, create_sessionmaker
from service.database.types import utcnow
from service.model_registry.models import ModelVersion
from service.model_registry.service import ModelService, QualityGateFailed
from service.outlets.repository import OutletRepository
from service.scores.inputs import claim_context, scoring_inputs
from service.scores.service import ScoringService
from service.scores.track_records import TrackRecordStore
from service.settings import Settings
from service.verdicts.models import Verdict

# Fewer verdicted claims than this cannot support a held-out split and calibration folds.
MIN_TRAINING_CLAIMS = 60
# The latest claims by date held out for the activation gate, unless the run sets its own.
DEFAULT_HOLDOUT_FRACTION = 0.2
HEARTBEAT_SECONDS = 2.0

Progress = Callable[[float, str], Awaitable[None]]


class TrainingError(Exception):
    """A training run cannot proceed; the message says why, for the registry row."""


@dataclass(frozen=True)
class TrainingSet:
    contexts: list[ClaimContext]
    labels: list[str]
    claims: list[Claim]


async def build_training_set(
    session: AsyncSession, scoring: ScoringService, settings: Settings
) -> TrainingSet:
    """Every claim with a verdict (its newest usable one), in context as of its own time.

    Track records are taken at the claim's publication; verdicts must be decided after it, so
    the claim's own verdict never feeds its own features.
    """
    rows = await session.execute(
        select(Verdict.claim_id, Verdict.rating)
        .where(Verdict.rating != Rating.UNVERIFIABLE.value)
        .order_by(Verdict.id)
    )
    labels: dict[int, str] = {}
    for claim_id, rating in rows.all():
        labels[claim_id] = rating
    if len(labels) < MIN_TRAINING_CLAIMS:
        raise TrainingError(
            f"only {len(labels)} claims have a verdict; training needs at least "
            f"{MIN_TRAINING_CLAIMS}"
        )
    claims = list(
        (await session.execute(select(Claim).where(Claim.id.in_(labels)).order_by(Claim.id)))
        .scalars()
        .all()
    )
    outlets = await OutletRepository(session).by_ids([claim.outlet_id for claim in claims])
    counters = await generations.read_generations(session)
    snapshot = await scoring.store.snapshot(
        session, counters[generations.EVIDENCE], counters[generations.EVIDENCE_RESET]
    )
    inputs = await scoring_inputs(session, claims, outlets)
    contexts = []
    for item in inputs:
        claim = item.claim
        record = snapshot.track_record(
            claim.outlet_id, item.outlet.kind, claim.published_at, settings
        )
        topics = snapshot.topic_records(
            claim.outlet_id,
            (claim.topic,) if claim.topic else (),
            claim.published_at,
            record.reliability.mean,
            settings,
        )
        contexts.append(claim_context(item, record.reliability, topics))
    present = {labels[claim.id] for claim in claims}
    if len(present) < 2:
        raise TrainingError(f"all verdicts say {present.pop()!r}; training needs at least two")
    return TrainingSet(contexts, [labels[claim.id] for claim in claims], claims)


async def train_model(settings: Settings, model_id: int, *, echo: bool = False) -> ModelVersion:
    """Train the queued registry row ``model_id`` to completion (or failure), with progress."""
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    try:
        return await _train(settings, sessionmaker, model_id, echo=echo)
    finally:
        await engine.dispose()


async def _train(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    model_id: int,
    *,
    echo: bool,
) -> ModelVersion:
    async def progress(fraction: float, message: str) -> None:
        if echo:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)
        async with sessionmaker() as session:
            row = await session.get(ModelVersion, model_id)
            assert row is not None
            row.progress = fraction
            row.progress_message = message
            row.heartbeat_at = utcnow()
            await session.commit()

    async with sessionmaker() as session:
        row = await session.get(ModelVersion, model_id)
        if row is None:
            raise TrainingError(f"no model {model_id} in the registry")
        if row.status != "queued":
            raise TrainingError(f"model {row.version} is {row.status}, not queued")
        delay = settings.training_delay_seconds
        # The first message is committed with the status, so that a poller never sees
        # "training" without saying what it is doing.
        row.status = "training"
        first_message = (
            f"waiting {delay:g} s (CREDSCORE_TRAINING_DELAY_SECONDS)" if delay else "starting"
        )
        row.progress = 0.02 if delay else 0.0
        row.progress_message = first_message
        row.started_at = utcnow()
        row.heartbeat_at = utcnow()
        params: dict[str, Any] = dict(row.params.get("model", {}))
        activate = bool(row.params.get("activate", False))
        version = row.version
        await session.commit()

    heartbeat: asyncio.Task[None] | None = None
    try:
        if echo:
            print(f"[{0.02 if delay else 0:4.0%}] {first_message}", file=sys.stderr, flush=True)
        if delay:
            await asyncio.sleep(delay)
        await progress(0.05, "reading verdicted claims")
        async with sessionmaker() as session:
            scoring = ScoringService(settings, TrackRecordStore())
            training_set = await build_training_set(session, scoring, settings)
        n = len(training_set.contexts)
        await progress(
            0.3,
            f"choosing parameters and fitting on the earlier of {n} claims "
            "(time-ordered cross-validation), then scoring the latest against the track record",
        )
        heartbeat = asyncio.create_task(_beat(sessionmaker, model_id))
        fitted = await asyncio.to_thread(_fit, params, training_set)
        await progress(0.9, "saving the artifact")
        dates = [training_set.claims[i].published_at for i in fitted.train_index]
        artifact = dump_model(
            fitted.model,
            info={
                "version": version,
                "n_train": len(dates),
                "from": min(dates),
                "to": max(dates),
            },
            metrics=fitted.metrics,
        )
        header, _ = read_header(artifact)
    except Exception as exc:
        if heartbeat is not None:
            heartbeat.cancel()
        await _fail(sessionmaker, model_id, exc)
        raise
    heartbeat.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await heartbeat

    async with sessionmaker() as session:
        row = await session.get(ModelVersion, model_id)
        assert row is not None
        if row.status != "training":
            raise TrainingError(f"model {version} was {row.status} while training; not saved")
        row.artifact = artifact
        row.checksum = hashlib.sha256(artifact).hexdigest()
        row.metrics = dict(header.metrics)
        row.n_train = len(dates)
        row.data_from = min(dates)
        row.data_to = max(dates)
        row.python_version = header.python
        row.sklearn_version = header.sklearn
        row.numpy_version = header.numpy
        row.status = "ready"
        row.progress = 1.0
        row.progress_message = "ready"
        row.finished_at = utcnow()
        await session.flush()
        if activate:
            # The gate is judged where every activation is: in ModelService.activate.
            try:
                await ModelService(session).activate(model_id, actor=None)
            except QualityGateFailed as refused:
                row.progress_message = f"ready, not activated: {refused.verdict.explain()}"[:200]
            else:
                row.progress_message = "ready and active"
        await session.commit()
        if echo:
            print(f"[100%] {version} {row.progress_message}", file=sys.stderr)
        return row


def _fit(params: dict[str, Any], training_set: TrainingSet) -> HeldOutFit:
    """Hold out the latest claims, choose C by time-ordered CV on the rest, fit, evaluate."""
    model_params = dict(params)
    holdout_fraction = float(model_params.pop("holdout_fraction", DEFAULT_HOLDOUT_FRACTION))
    chosen_by_admin = {"C", "binary_C"} & set(model_params)
    return fit_with_holdout(
        ClaimModel(labels=SERVICE_LABELS, **model_params),
        training_set.contexts,
        training_set.labels,
        holdout_fraction=holdout_fraction,
        candidates=() if chosen_by_admin else SERVICE_CANDIDATES,
    )


async def _beat(sessionmaker: async_sessionmaker[AsyncSession], model_id: int) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        async with sessionmaker() as session:
            row = await session.get(ModelVersion, model_id)
            if row is None:
                return
            row.heartbeat_at = utcnow()
            await session.commit()


async def _fail(
    sessionmaker: async_sessionmaker[AsyncSession], model_id: int, exc: BaseException
) -> None:
    async with sessionmaker() as session:
        row = await session.get(ModelVersion, model_id)
        if row is not None and row.status in ("queued", "training"):
            row.status = "failed"
            row.error = f"{type(exc).__name__}: {exc}"[:2000]
            row.finished_at = utcnow()
            await session.commit()
