"""Scores as they are stored (the columns of a ``scores`` row) and as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scoring.admiralty import AdmiraltyCode
from scoring.reliability import (
    GRADE_MEANING,
    Grade,
)
from service.database.types import utcnow
from service.scores.models import ComputedScore, ScoreFields
from service.scores.schemas import ScoreRead


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
    # Read models are validated from plain data in one call, cheaper than building the nested
    # models one by one (a score is read on every claim response; docs/scaling.md).
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
