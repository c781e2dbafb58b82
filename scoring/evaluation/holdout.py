"""Measuring a fitted claim model on verdicted claims it never trained on.

``holdout_indices`` sets the claims aside (the latest when all are dated, a stratified random
share otherwise); ``holdout_metrics`` measures the model on them beside the track record alone.
``scoring.model_selection.fit_with_holdout`` runs both around the fit, as the service's training
does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scoring.claim_model import ClaimModel, track_record_probability
from scoring.evaluation.metrics import binary_metrics, multiclass_metrics
from scoring.features import ClaimContext


def holdout_indices(
    encoded: np.ndarray, n_holdout: int, *, time_ordered: bool, random_state: int
) -> tuple[np.ndarray, np.ndarray]:
    """(fit, held-out) indices: with ``time_ordered`` (claims sorted by date) the latest
    ``n_holdout``, otherwise a random split stratified by label."""
    n = encoded.shape[0]
    if time_ordered:
        return np.arange(n - n_holdout), np.arange(n - n_holdout, n)
    rng = np.random.default_rng(random_state)
    holdout: list[int] = []
    for label in np.unique(encoded):
        members = np.flatnonzero(encoded == label)
        take = round(len(members) * n_holdout / n)
        holdout.extend(rng.choice(members, size=take, replace=False).tolist())
    mask = np.zeros(n, dtype=bool)
    mask[holdout] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def holdout_metrics(
    model: ClaimModel, X: Sequence[ClaimContext], y: Sequence[str]
) -> dict[str, float | int | str]:
    """Metrics on verdicted claims the model never trained on, beside the track record's.

    The model's six-way and P(holds up) metrics, and ``track_record_*``: the same binary
    metrics of the cold-start score (the outlet's track record alone) on the same claims,
    which the activation gate compares with.
    """
    contexts = list(X)
    encoded = model.encode(y)
    credit = np.array([model.holds_up_[model.labels[i]] for i in encoded])
    metrics: dict[str, float | int | str] = {"n_holdout": len(contexts)}
    dates = [c.published_at for c in contexts if c.published_at is not None]
    if dates and len(dates) == len(contexts):
        metrics["holdout_from"] = min(dates).isoformat()
        metrics["holdout_to"] = max(dates).isoformat()
    metrics["calibration"] = model.calibration_method_
    metrics.update(
        multiclass_metrics(encoded, model.predict_proba(contexts), n_classes=len(model.labels))
    )
    metrics.update(binary_metrics(credit, model.predict_holds_up(contexts)))
    baseline = binary_metrics(credit, track_record_probability(contexts))
    metrics.update({f"track_record_{key}": value for key, value in baseline.items()})
    return metrics
