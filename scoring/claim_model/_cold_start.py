"""The score before any model is trained: the track record alone."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scoring.claim_model._score import ClaimScore, beta_sd
from scoring.contributions import Contribution
from scoring.features import (
    OUTLET_RECORD,
    TOPIC_RECORD,
    ClaimContext,
    outlet_record_phrase,
    topic_record_phrase,
    topic_reliability,
)
from scoring.reliability import (
    DEFAULT_CREDIBLE_LEVEL,
    DEFAULT_PRIOR_STRENGTH,
    GLOBAL_PRIOR_MEAN,
    PopulationPrior,
    grade_for,
    posterior,
    reliability_contributions,
)


def track_record_probability(contexts: Sequence[ClaimContext]) -> np.ndarray:
    """P(holds up) as the service's cold start gives it without topic records: the outlet's
    track record at claim time (its posterior mean; the uninformative 0.5 without one)."""
    return np.array(
        [GLOBAL_PRIOR_MEAN if c.outlet_record is None else c.outlet_record.mean for c in contexts]
    )


def cold_start_score(
    context: ClaimContext,
    *,
    prior: PopulationPrior | None = None,
    topic_prior_strength: float = DEFAULT_PRIOR_STRENGTH,
    level: float = DEFAULT_CREDIBLE_LEVEL,
) -> ClaimScore:
    """A score from the track record alone, for before any model is trained.

    P(holds up) is the outlet's record on the claim's topics (shrunk toward its overall record)
    or its overall record, with that posterior's credible interval; an outlet with no record
    gets the uninformative prior and the grade "unrated". ``level`` is the topic record's credible
    level (the outlet's record comes with its own).

    Its reasons add up to P(holds up): the outlet's record from the global baseline (split into
    its kind's prior and each kind of evidence when ``prior``, the population prior the record
    was computed on, is given), then the topic record's shift from the outlet's.
    """
    # The claim's wording plays no part here: nothing is featurized (re-scores after a batch of
    # verdicts run this on every open claim).
    outlet = context.outlet_record
    if outlet is None:
        outlet = posterior(0.0, 0.0, GLOBAL_PRIOR_MEAN, DEFAULT_PRIOR_STRENGTH)
    topic = topic_reliability(context, topic_prior_strength, level=level)
    record = topic or outlet
    if prior is not None and context.outlet_record is not None:
        parts = reliability_contributions(outlet, prior, context.outlet_kind or "")
    else:
        description = outlet_record_phrase(context.outlet_record)
        parts = [Contribution(OUTLET_RECORD, description, outlet.mean - GLOBAL_PRIOR_MEAN)]
    if topic is not None:
        description = topic_record_phrase(context.topics, topic)
        parts.append(Contribution(TOPIC_RECORD, description, topic.mean - outlet.mean))
    rated = context.outlet_record is not None and context.outlet_record.rated
    return ClaimScore(
        probability=record.mean,
        low=record.low,
        high=record.high,
        grade=grade_for(record.mean, rated=rated),
        class_probabilities={},
        contributions=tuple(parts),
        model_sd=0.0,
        track_record_sd=beta_sd(record),
    )
