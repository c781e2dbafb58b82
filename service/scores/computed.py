"""What a claim's or an outlet's score says, before it is stored: a model's score or the
track record alone (the cold start), with its Admiralty code and reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from scoring.claim_model import ClaimScore, cold_start_score
from scoring.corroboration import describe
from scoring.features import ClaimContext
from service.metrics.registry import SCORES_COMPUTED
from service.model_registry.store import LoadedModel
from service.outlets.directory import OutletLike
from service.scores.documents import admiralty_document
from service.scores.inputs import ScoringInput, admiralty
from service.scores.models import ComputedScore
from service.scores.track_records import TrackRecord
from service.settings import Settings

TRACK_RECORD_METHOD = "track-record"
# 2: the outlet's record on the claim's topic counts (scoring's one cold-start score).
TRACK_RECORD_VERSION = "track-record/2"
MODEL_METHOD = "claim-model"


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
