"""Metrics for claim scores: accuracy, macro-F1, ROC AUC, Brier, log loss and calibration error.

Binary targets may be fractional (a "mixed" verdict counting half): such a claim is scored as a
held-up copy weighted by its credit and a not-held-up copy weighted by the rest, so every metric
below is the ordinary one on that weighted expansion and equals it for 0/1 targets.

ECE uses ``n_bins`` equal-width bins over [0, 1] (the last bin includes 1.0): the weighted mean
over bins of |mean outcome - mean predicted probability|.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    roc_auc_score,
)

BINARY_METRICS = ("binary_accuracy", "roc_auc", "brier", "log_loss", "ece")
MULTICLASS_METRICS = ("accuracy", "macro_f1")


def _expand(
    y_true: np.ndarray, probability: np.ndarray, sample_weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(probability, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError("targets and probabilities have different lengths")
    if y.size == 0:
        raise ValueError("no samples")
    if np.any((y < 0) | (y > 1)) or np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError("targets and probabilities must lie in [0, 1]")
    w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    partial = (y > 0) & (y < 1)
    labels = np.concatenate([(y > 0).astype(int), np.zeros(int(partial.sum()), dtype=int)])
    weights = np.concatenate([np.where(partial, y, 1.0) * w, (1.0 - y[partial]) * w[partial]])
    return labels, np.concatenate([p, p[partial]]), weights


def expected_calibration_error(
    y_true: np.ndarray,
    probability: np.ndarray,
    *,
    n_bins: int = 10,
    sample_weight: np.ndarray | None = None,
) -> float:
    """Expected calibration error over ``n_bins`` equal-width bins of the predicted probability."""
    labels, p, w = _expand(y_true, probability, sample_weight)
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    total = w.sum()
    error = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        weight = w[in_bin].sum()
        if weight > 0:
            gap = np.average(labels[in_bin], weights=w[in_bin]) - np.average(
                p[in_bin], weights=w[in_bin]
            )
            error += weight / total * abs(gap)
    return float(error)


def binary_metrics(
    y_true: np.ndarray,
    probability: np.ndarray,
    *,
    threshold: float = 0.5,
    sample_weight: np.ndarray | None = None,
) -> dict[str, float]:
    """Accuracy at ``threshold``, ROC AUC, Brier score, log loss and ECE (10 bins)."""
    labels, p, w = _expand(y_true, probability, sample_weight)
    single_class = np.unique(labels).size < 2
    return {
        "binary_accuracy": float(
            accuracy_score(labels, (p >= threshold).astype(int), sample_weight=w)
        ),
        "roc_auc": float("nan")
        if single_class
        else float(roc_auc_score(labels, p, sample_weight=w)),
        "brier": float(brier_score_loss(labels, p, sample_weight=w, pos_label=1)),
        "log_loss": float(
            log_loss(labels, np.clip(p, 1e-15, 1 - 1e-15), sample_weight=w, labels=[0, 1])
        ),
        "ece": expected_calibration_error(labels, p, sample_weight=w),
    }


def multiclass_metrics(
    y_true: np.ndarray, probabilities: np.ndarray, *, n_classes: int
) -> dict[str, float]:
    """Accuracy and macro-F1 of the most probable class; ``y_true`` holds class indices."""
    y = np.asarray(y_true, dtype=int).ravel()
    proba = np.asarray(probabilities, dtype=float)
    if proba.shape != (y.size, n_classes):
        raise ValueError(f"probabilities must have shape ({y.size}, {n_classes})")
    predicted = np.argmax(proba, axis=1)
    return {
        "accuracy": float(accuracy_score(y, predicted)),
        "macro_f1": float(
            f1_score(y, predicted, average="macro", labels=np.arange(n_classes), zero_division=0)
        ),
    }
