"""Claim and outlet scores: computed from track records, stored append-only, read back."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.admiralty import AdmiraltyCode
from scoring.claim_model import ClaimScore, cold_start_score
from scoring.corroboration import describe
from scoring.features import ClaimContext
from scoring.reliability import (
    GRADE_MEANING,
    Grade,
    grade_for,
    reliability_contributions,
)
from service import generations
from service.claims.models import ClaimFields, StoredClaimFields
from service.claims.repository import ClaimRepository
from service.database.types import utcnow
from service.generations import Generations
from service.metrics.registry import SCORES_COMPUTED
from service.models.store import LoadedModel, ModelStore
from service.outlets.directory import OutletDirectory, OutletLike, Registry
from service.outlets.repository import OutletRepository
from service.push.outbox import emit_claim_scores
from service.scores.inputs import ScoringInput, admiralty, claim_context, scoring_inputs
from service.scores.models import ComputedScore, Score, ScoreFields
from service.scores.repository import CurrentScore, ScoreRepository
from service.scores.schemas import Interval, Reason, ReliabilityRead, ScoreRead
from service.scores.track_records import EvidenceSnapshot, TrackRecord, TrackRecordStore
from service.settings import Settings

TRACK_RECORD_METHOD = "track-record"
TRACK_RECORD_VERSION = "track-record/1"
MODEL_METHOD = "claim-model"
# How many contributions each model score lists as its reasons.
REASONS_SHOWN = 5
# Up to this many claims (about 0.6 ms of work) are scored on the event loop itself.
INLINE_SCORING_MAX_CLAIMS = 4


def count_scores(results: Sequence[ComputedScore]) -> None:
    """Count computed scores for /metrics (one label lookup per method and version)."""
    counts: dict[tuple[str, str], int] = {}
    for result in results:
        key = (result.method, result.method_version)
        counts[key] = counts.get(key, 0) + 1
    for (method, version), count in counts.items():
        SCORES_COMPUTED.labels(method, version).inc(count)


def model_score(
    result: ClaimScore,
    loaded: LoadedModel,
    context: ClaimContext,
    record: TrackRecord,
    level: float,
) -> ComputedScore:
    """A claim's score from the active model, with its largest contributions as reasons."""
    reasons = [
        {
            "feature": "method",
            "effect": 0.0,
            "text": f"scored by model {loaded.version}",
        }
    ]
    reasons += [contribution.reason() for contribution in result.contributions]
    reliability = record.reliability
    return ComputedScore(
        probability=result.probability,
        low=result.low,
        high=result.high,
        level=level,
        grade=result.grade.value,
        rated=reliability.rated,
        method=MODEL_METHOD,
        method_version=loaded.version,
        as_of=record.as_of,
        inputs={
            "outlet_record_mean": round(reliability.mean, 6),
            "outlet_record_evidence": round(reliability.evidence, 6),
            "party_to_conflict": context.party_to_conflict,
            "consensus_distance": context.consensus_distance,
            "independent_corroborations": context.independent_corroborations,
            "model_sd": round(result.model_sd, 6),
            "track_record_sd": round(result.track_record_sd, 6),
            "class_probabilities": {
                label: round(value, 6) for label, value in result.class_probabilities.items()
            },
        },
        reasons=reasons,
        model_version_id=loaded.id,
    )


def track_record_score(
    record: TrackRecord,
    outlet: OutletLike | None,
    settings: Settings,
    context: ClaimContext | None = None,
) -> ComputedScore:
    """A score from the track record alone (the cold-start method): scoring's cold start on the
    claim's ``context`` (its outlet's record on the claim's topic where it has one), or on the
    outlet's reliability at ``record.as_of`` without a claim."""
    reliability = record.reliability
    if context is None:
        context = ClaimContext(
            text="",
            outlet=outlet.slug if outlet is not None else "",
            outlet_kind=record.kind,
            outlet_record=reliability,
        )
    scored = cold_start_score(
        context,
        prior=record.prior,
        topic_prior_strength=settings.prior_strength,
        level=reliability.level,
    )
    name = outlet.name if outlet is not None else "this outlet"
    reasons = [
        {
            "feature": "method",
            "effect": 0.0,
            "text": f"score is {name}'s track record at claim time (no trained model is active)",
        },
        *(part.reason() for part in scored.contributions),
    ]
    return ComputedScore(
        probability=scored.probability,
        low=scored.low,
        high=scored.high,
        level=reliability.level,
        grade=scored.grade.value,
        rated=reliability.rated,
        method=TRACK_RECORD_METHOD,
        method_version=TRACK_RECORD_VERSION,
        as_of=record.as_of,
        inputs={
            "outlet_id": outlet.id if outlet is not None else None,
            "outlet_kind": record.kind,
            "evidence": round(reliability.evidence, 6),
            "alpha": round(reliability.alpha, 6),
            "beta": round(reliability.beta, 6),
            "kind_mean": round(record.prior.kind_mean, 6),
            "global_mean": round(record.prior.global_mean, 6),
            "half_life_days": settings.half_life_days,
            "prior_strength": settings.prior_strength,
        },
        reasons=reasons,
    )


def score_values(
    computed: ComputedScore,
    *,
    subject: str,
    outlet_id: int,
    claim_id: int | None,
    trigger: str,
) -> dict[str, Any]:
    """The columns of a ``scores`` row for ``computed`` (all but ``id``)."""
    return {
        "subject": subject,
        "claim_id": claim_id,
        "outlet_id": outlet_id,
        "probability": computed.probability,
        "low": computed.low,
        "high": computed.high,
        "level": computed.level,
        "grade": computed.grade,
        "rated": computed.rated,
        "method": computed.method,
        "method_version": computed.method_version,
        "model_version_id": computed.model_version_id,
        "as_of": computed.as_of,
        "computed_at": utcnow(),
        "trigger": trigger,
        "inputs": computed.inputs,
        "reasons": computed.reasons,
        "admiralty": computed.admiralty,
    }


def score_row(
    computed: ComputedScore,
    *,
    subject: str,
    outlet_id: int,
    claim_id: int | None,
    trigger: str,
) -> Score:
    return Score(
        **score_values(
            computed, subject=subject, outlet_id=outlet_id, claim_id=claim_id, trigger=trigger
        )
    )


def score_read(score: ScoreFields) -> ScoreRead:
    return ScoreRead.model_validate(score_document(score))


def score_document(score: ScoreFields) -> dict[str, Any]:
    """A stored score as the plain data of a ``ScoreRead``, to nest in another read model."""
    document = _document(
        score,
        id=score.id,
        subject="claim" if score.subject == "claim" else "outlet",
        computed_at=score.computed_at,
        trigger=score.trigger,
    )
    document["cause"] = score.cause
    document["evidence_at"] = score.evidence_at
    return document


def preview_read(computed: ComputedScore) -> ScoreRead:
    return ScoreRead.model_validate(
        _document(computed, id=None, subject="claim", computed_at=utcnow(), trigger="preview")
    )


def _document(
    score: ScoreFields | ComputedScore,
    *,
    id: int | None,
    subject: str,
    computed_at: datetime,
    trigger: str,
) -> dict[str, Any]:
    # Read models are validated from plain data in one call: building the nested models one by
    # one costs about twice as much (a score is read on every claim response).
    return {
        "id": id,
        "subject": subject,
        "probability": score.probability,
        "interval": {"low": score.low, "high": score.high, "level": score.level},
        "grade": score.grade,
        "grade_meaning": GRADE_MEANING[Grade(score.grade)],
        "rated": score.rated,
        "method": score.method,
        "model_version": score.method_version,
        "as_of": score.as_of,
        "computed_at": computed_at,
        "trigger": trigger,
        "reasons": score.reasons,
        "admiralty": score.admiralty,
    }


def admiralty_document(code: AdmiraltyCode) -> dict[str, Any]:
    """An Admiralty code as the API shows it (``AdmiraltyRead``)."""
    return {
        "code": code.code,
        "reliability": code.reliability,
        "credibility": code.credibility,
        "meaning": code.meaning,
    }


def with_admiralty(
    computed: ComputedScore, item: ScoringInput, record: TrackRecord
) -> ComputedScore:
    """``computed`` with the claim's Admiralty code, and its corroboration said in desk words
    among the reasons (in place of the model's wording of it, if the model gave one)."""
    reasons = list(computed.reasons)
    if item.standing is not None:
        text = describe(item.standing.corroboration)
        position = next(
            (i for i, reason in enumerate(reasons) if reason["feature"] == "corroboration"), None
        )
        if position is None:
            reasons.append({"feature": "corroboration", "effect": 0.0, "text": text})
        else:
            reasons[position] = {**reasons[position], "text": text}
    code = admiralty(item, record.reliability)
    return replace(computed, reasons=reasons, admiralty=admiralty_document(code))


class ScoringService:
    """Everything that turns evidence into scores; one per process, sharing its caches."""

    def __init__(
        self,
        settings: Settings,
        store: TrackRecordStore,
        models: ModelStore | None = None,
        counters: Generations | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.models = models or ModelStore()
        self.directory = OutletDirectory()
        # Without an in-memory view (CLI, training) every score reads the counters.
        self.counters = counters or Generations(None, 0)

    async def _state(self, session: AsyncSession) -> tuple[EvidenceSnapshot, LoadedModel | None]:
        values = await self.counters.current(session)
        snapshot = await self.store.snapshot(
            session, values[generations.EVIDENCE], values[generations.EVIDENCE_RESET]
        )
        loaded = await self.models.current(session, values[generations.MODEL])
        return snapshot, loaded

    async def outlets(self, session: AsyncSession) -> Registry:
        """The outlet registry as of the ``outlets`` generation (in memory, rarely reloaded)."""
        values = await self.counters.current(session)
        return await self.directory.registry(session, values[generations.OUTLETS])

    async def model_active(self, session: AsyncSession) -> bool:
        _, loaded = await self._state(session)
        return loaded is not None

    async def track_record(
        self, session: AsyncSession, outlet: OutletLike, as_of: datetime
    ) -> TrackRecord:
        snapshot, _ = await self._state(session)
        return snapshot.track_record(outlet.id, outlet.kind, as_of, self.settings)

    async def track_records(
        self, session: AsyncSession, outlets: Sequence[OutletLike], as_of: datetime
    ) -> dict[int, TrackRecord]:
        """``track_record`` of many outlets from one snapshot (one read of the counters)."""
        snapshot, _ = await self._state(session)
        return {
            outlet.id: snapshot.track_record(outlet.id, outlet.kind, as_of, self.settings)
            for outlet in outlets
        }

    async def score_claims(
        self,
        session: AsyncSession,
        claims: Sequence[ClaimFields],
        outlets: Mapping[int, OutletLike],
        *,
        as_of: datetime | None = None,
    ) -> list[ComputedScore]:
        """Scores for claims from one evidence snapshot and the active model (if any).

        Each claim's track record is taken at ``as_of`` (default: the claim's own time).
        """
        snapshot, loaded = await self._state(session)
        if as_of is None:
            records = [
                snapshot.track_record(
                    claim.outlet_id,
                    outlets[claim.outlet_id].kind,
                    claim.published_at,
                    self.settings,
                )
                for claim in claims
            ]
        else:
            # One moment for all: one track record per outlet (re-scores are thousands of
            # claims of a few outlets).
            by_outlet = {
                outlet_id: snapshot.track_record(
                    outlet_id, outlets[outlet_id].kind, as_of, self.settings
                )
                for outlet_id in {claim.outlet_id for claim in claims}
            }
            records = [by_outlet[claim.outlet_id] for claim in claims]
        # Every claim score carries its Admiralty code, which reads the event's consensus.
        inputs = await scoring_inputs(session, claims, outlets)
        contexts = [
            claim_context(
                item,
                record.reliability,
                snapshot.topic_records(
                    item.outlet.id,
                    (item.claim.topic,) if item.claim.topic else (),
                    record.as_of,
                    record.reliability.mean,
                    self.settings,
                ),
            )
            for item, record in zip(inputs, records, strict=True)
        ]
        if loaded is None:
            fallback_reason = self.models.load_error
            results = [
                track_record_score(record, item.outlet, self.settings, context)
                for item, record, context in zip(inputs, records, contexts, strict=True)
            ]
            if fallback_reason:
                for result in results:
                    result.reasons[0]["text"] += f"; {fallback_reason}"
        else:
            results = await self._model_scores(loaded, contexts, records)
        count_scores(results)
        return [
            with_admiralty(result, item, record)
            for result, item, record in zip(results, inputs, records, strict=True)
        ]

    async def _model_scores(
        self,
        loaded: LoadedModel,
        contexts: Sequence[ClaimContext],
        records: Sequence[TrackRecord],
    ) -> list[ComputedScore]:
        compiled = loaded.model.compiled_

        def score_all() -> list[ClaimScore]:
            return [compiled.score_one(context, explain=REASONS_SHOWN) for context in contexts]

        # Model scoring is CPU work: off the event loop, unless it is shorter than the hop to a
        # thread and back (about 0.15 ms a claim; the hop costs about as much under load).
        if len(contexts) <= INLINE_SCORING_MAX_CLAIMS:
            scored = score_all()
        else:
            scored = await asyncio.to_thread(score_all)
        level = float(loaded.model.interval_level)
        return [
            model_score(result, loaded, context, record, level)
            for result, context, record in zip(scored, contexts, records, strict=True)
        ]

    async def evidence(self, session: AsyncSession) -> EvidenceSnapshot:
        """The evidence snapshot every track record is computed from (current generation)."""
        snapshot, _ = await self._state(session)
        return snapshot

    async def reliability(
        self, session: AsyncSession, outlet: OutletLike, as_of: datetime
    ) -> ReliabilityRead:
        record = await self.track_record(session, outlet, as_of)
        reliability = record.reliability
        grade = grade_for(reliability.mean, rated=reliability.rated)
        return ReliabilityRead(
            outlet_id=outlet.id,
            outlet_slug=outlet.slug,
            kind=outlet.kind,
            probability=reliability.mean,
            interval=Interval(low=reliability.low, high=reliability.high, level=reliability.level),
            grade=grade.value,
            grade_meaning=GRADE_MEANING[grade],
            rated=reliability.rated,
            evidence=reliability.evidence,
            prior_mean=record.prior.kind_mean,
            half_life_days=self.settings.half_life_days,
            as_of=as_of,
            reasons=[
                Reason(**part.reason(digits=None))
                for part in reliability_contributions(reliability, record.prior, record.kind)
            ],
        )


async def rescore_claims(
    session: AsyncSession,
    scoring: ScoringService,
    claims: Sequence[StoredClaimFields],
    outlets: Mapping[int, OutletLike],
    *,
    trigger: str,
    queued_before: datetime,
) -> int:
    """Re-score claims with everything known now; returns how many new score rows were written.

    A claim whose score would not change gets no new row (history stays meaningful), but its
    stale flag is cleared either way.
    """
    if not claims:
        return 0
    scores = ScoreRepository(session)
    computed = await scoring.score_claims(session, claims, outlets, as_of=utcnow())
    current = await scores.current_values([claim.id for claim in claims])
    rows = [
        score_values(
            result, subject="claim", outlet_id=claim.outlet_id, claim_id=claim.id, trigger=trigger
        )
        for claim, result in zip(claims, computed, strict=True)
        if _changed(current.get(claim.id), result)
    ]
    # Ids come back (one multi-row RETURNING) because each claim.scored event names its score.
    stored = await scores.insert(rows)
    by_id = {claim.id: claim for claim in claims}
    emit_claim_scores(
        session,
        [(by_id[row.claim_id], outlets[row.outlet_id], row) for row in stored if row.claim_id],
    )
    # Clearing the flags also tells pollers' ETag caches that these claims changed.
    await ClaimRepository(session).clear_stale(
        [claim.id for claim in claims], queued_before=queued_before
    )
    return len(rows)


async def rescore_open_claims(
    session: AsyncSession,
    scoring: ScoringService,
    outlet_id: int,
    *,
    trigger: str,
    queued_before: datetime,
    chunk: int = 1_000,
) -> int:
    """Re-score an outlet's open claims (those without a verdict), a chunk at a time."""
    outlet = await OutletRepository(session).by_id(outlet_id)
    if outlet is None:
        return 0
    repository = ClaimRepository(session)
    written = 0
    after = 0
    while claims := await repository.open_claims(outlet_id, after=after, limit=chunk):
        written += await rescore_claims(
            session,
            scoring,
            claims,
            {outlet.id: outlet},
            trigger=trigger,
            queued_before=queued_before,
        )
        after = claims[-1].id
    return written


async def rescore_open_claims_of_outlets(
    session: AsyncSession,
    scoring: ScoringService,
    outlet_ids: Sequence[int],
    *,
    trigger: str,
    queued_before: datetime,
    without_event: bool = False,
    chunk: int = 1_000,
) -> int:
    """Re-score the open claims of many outlets, ``chunk`` claims at a time across outlets
    (``without_event``: only those about no event)."""
    from service.claims.repository import ClaimRepository
    from service.outlets.repository import OutletRepository

    outlets = await OutletRepository(session).by_ids(outlet_ids)
    repository = ClaimRepository(session)
    written = 0
    after = 0
    while claims := await repository.open_claims_of_outlets(
        list(outlets), after=after, limit=chunk, without_event=without_event
    ):
        written += await rescore_claims(
            session, scoring, claims, outlets, trigger=trigger, queued_before=queued_before
        )
        after = claims[-1].id
    return written


def _changed(current: CurrentScore | None, computed: ComputedScore) -> bool:
    if current is None:
        return True
    return (
        abs(current.probability - computed.probability) > 1e-9
        or abs(current.low - computed.low) > 1e-9
        or abs(current.high - computed.high) > 1e-9
        or current.method_version != computed.method_version
        or current.admiralty != computed.admiralty
    )
