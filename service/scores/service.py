"""The scoring service: every claim score computed from one evidence snapshot and the active
model, with the caches one process shares."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.claim_model import ClaimScore
from scoring.features import ClaimContext
from scoring.reliability import (
    GRADE_MEANING,
    Reliability,
    grade_for,
    reliability_contributions,
)
from service import generations
from service.claims.models import ClaimFields
from service.generations import Generations
from service.model_registry.store import LoadedModel, ModelStore
from service.outlets.directory import OutletDirectory, OutletLike, Registry
from service.scores.computed import count_scores, model_score, track_record_score, with_admiralty
from service.scores.inputs import ScoringInput, claim_context, scoring_inputs
from service.scores.models import ComputedScore
from service.scores.schemas import Interval, Reason, ReliabilityRead
from service.scores.track_records import EvidenceSnapshot, TrackRecord, TrackRecordStore
from service.settings import Settings

# How many contributions each model score lists as its reasons.
REASONS_SHOWN = 5
# Up to this many claims are scored on the event loop itself (docs/scaling.md: their work costs
# about what the hop to a thread and back does).
INLINE_SCORING_MAX_CLAIMS = 4


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
        if loaded is None:
            results = self._cold_start_scores(snapshot, inputs, records)
        else:
            contexts = [
                claim_context(item, record.reliability, self._topic_records(snapshot, item, record))
                for item, record in zip(inputs, records, strict=True)
            ]
            results = await self._model_scores(loaded, contexts, records)
        count_scores(results)
        # A claim about no event has no corroboration to read: its Admiralty code is its
        # outlet's, and a shared cold-start score stays shared with it.
        without_event: dict[tuple[int, int], ComputedScore] = {}
        scored = []
        for result, item, record in zip(results, inputs, records, strict=True):
            if item.standing is not None:
                scored.append(with_admiralty(result, item, record))
                continue
            key = (id(result), id(record))
            if key not in without_event:
                without_event[key] = with_admiralty(result, item, record)
            scored.append(without_event[key])
        return scored

    def _topic_records(
        self, snapshot: EvidenceSnapshot, item: ScoringInput, record: TrackRecord
    ) -> dict[str, Reliability]:
        """The outlet's records on the claim's topic at ``record.as_of``."""
        return snapshot.topic_records(
            item.outlet.id,
            (item.claim.topic,) if item.claim.topic else (),
            record.as_of,
            record.reliability.mean,
            self.settings,
        )

    def _cold_start_scores(
        self,
        snapshot: EvidenceSnapshot,
        inputs: Sequence[ScoringInput],
        records: Sequence[TrackRecord],
    ) -> list[ComputedScore]:
        """Track-record scores: the cold start reads only the outlet's records (overall and on
        the claim's topic), so the claims of one outlet on one topic at one moment share one
        score, computed once (a re-score after verdicts is thousands of such claims)."""
        fallback_reason = self.models.load_error
        shared: dict[tuple[int, str | None, datetime], ComputedScore] = {}
        results = []
        for item, record in zip(inputs, records, strict=True):
            key = (item.outlet.id, item.claim.topic, record.as_of)
            result = shared.get(key)
            if result is None:
                context = ClaimContext(
                    text="",
                    outlet=item.outlet.slug,
                    outlet_kind=item.outlet.kind,
                    topics=(item.claim.topic,) if item.claim.topic else (),
                    outlet_record=record.reliability,
                    topic_records=self._topic_records(snapshot, item, record),
                )
                result = track_record_score(record, item.outlet, self.settings, context)
                if fallback_reason:
                    result.reasons[0]["text"] += f"; {fallback_reason}"
                shared[key] = result
            results.append(result)
        return results

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
        # thread and back.
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
