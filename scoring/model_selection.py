"""Honest figures for a claim model: choices by time-ordered cross-validation inside the training
claims, metrics on the latest claims, which neither the fit nor any choice has seen.

``fit_with_holdout`` is what the service's training runs: sort the verdicted claims by date, set
the latest ``holdout_fraction`` aside, choose among ``candidates`` by time-ordered
cross-validation on the rest (expanding window: each fold is fitted on earlier claims and scored
on the next block), fit the chosen model on the rest, and evaluate it on the held-out claims
beside the track record (``scoring.evaluation.holdout``). The returned model is the one
evaluated: it is not refitted on the held-out claims, so the figures the activation gate reads
are its own.

Pure Python + numpy + scikit-learn: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold

from scoring.claim_model import ClaimModel, date_order
from scoring.evaluation.holdout import holdout_indices, holdout_metrics
from scoring.evaluation.metrics import binary_metrics
from scoring.features import ClaimContext

# The service chooses the regularisation of its two models among these (an admin's explicit
# C or binary_C is used as given instead).
SERVICE_CANDIDATES: Final[tuple[Mapping[str, float], ...]] = (
    {"C": 0.1, "binary_C": 0.1},
    {"C": 0.3, "binary_C": 0.3},
    {"C": 1.0, "binary_C": 1.0},
)
SELECTION_FOLDS: Final = 3
# A fold fitted on fewer claims than this says little about a model fitted on all of them.
MIN_FOLD_TRAIN: Final = 40


def time_ordered_folds(n: int, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window folds over ``n`` claims sorted by date: ``k + 1`` contiguous blocks,
    fold j fitted on blocks 0..j and scored on block j + 1 (never on anything earlier)."""
    blocks = np.array_split(np.arange(n), k + 1)
    return [(np.concatenate(blocks[: j + 1]), blocks[j + 1]) for j in range(k)]


def shuffled_folds(n: int, k: int, random_state: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """K-fold over undated claims (shuffled once, seeded)."""
    splitter = KFold(k, shuffle=True, random_state=random_state)
    return [(train, test) for train, test in splitter.split(np.zeros(n))]


@dataclass(frozen=True)
class Selection:
    """The chosen parameters and each candidate's cross-validated figures."""

    params: dict[str, Any]
    folds: int
    candidates: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.params,
            "folds": self.folds,
            "candidates": self.candidates,
            "note": self.note,
        }


def select_params(
    base: ClaimModel,
    contexts: Sequence[ClaimContext],
    labels: Sequence[str],
    candidates: Sequence[Mapping[str, Any]],
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    min_train: int = MIN_FOLD_TRAIN,
) -> Selection:
    """The candidate with the lowest mean log loss of P(holds up) over ``folds``.

    A fold whose training part is smaller than ``min_train``, or that a candidate cannot be
    fitted on (one label only), is left out for every candidate, so all are compared on the
    same claims. With no usable fold the first candidate is kept, and the note says why.
    """
    credit_of = base.credits()
    credit = np.array([credit_of[label] for label in labels])
    usable = [(train, test) for train, test in folds if len(train) >= min_train]
    # Per candidate: fold number -> (log loss, Brier) on that fold's later claims.
    scores: list[dict[int, tuple[float, float]]] = []
    for candidate in candidates:
        by_fold: dict[int, tuple[float, float]] = {}
        for j, (train, test) in enumerate(usable):
            model = clone(base).set_params(**candidate)
            try:
                model.fit([contexts[i] for i in train], [labels[i] for i in train])
            except ValueError:
                continue
            probability = model.predict_holds_up([contexts[i] for i in test])
            scored = binary_metrics(credit[test], probability)
            by_fold[j] = (scored["log_loss"], scored["brier"])
        scores.append(by_fold)
    complete = sorted(set.intersection(*(set(by_fold) for by_fold in scores)))
    if not complete:
        return Selection(
            params=dict(candidates[0]),
            folds=0,
            note=f"no time-ordered fold with at least {min_train} training claims and two "
            "outcomes: parameters not chosen, first candidate kept",
        )
    log_loss = [float(np.mean([by_fold[j][0] for j in complete])) for by_fold in scores]
    brier = [float(np.mean([by_fold[j][1] for j in complete])) for by_fold in scores]
    table = [
        {"params": dict(candidate), "log_loss": loss, "brier": score}
        for candidate, loss, score in zip(candidates, log_loss, brier, strict=True)
    ]
    best = int(np.argmin(log_loss))
    return Selection(params=dict(candidates[best]), folds=len(complete), candidates=table)


@dataclass(frozen=True)
class HeldOutFit:
    """A model fitted on the earlier claims and its metrics on the later ones."""

    model: ClaimModel
    metrics: dict[str, Any]
    train_index: np.ndarray
    holdout_index: np.ndarray


def fit_with_holdout(
    base: ClaimModel,
    contexts: Sequence[ClaimContext],
    labels: Sequence[str],
    *,
    holdout_fraction: float,
    candidates: Sequence[Mapping[str, Any]] = (),
    n_folds: int = SELECTION_FOLDS,
) -> HeldOutFit:
    """Hold out the latest claims, choose among ``candidates`` on the rest, fit, evaluate.

    Indices in the result refer to the order of ``contexts``.
    """
    n = len(contexts)
    order = date_order(contexts)
    dated = order is not None
    sorted_index = order if order is not None else np.arange(n)
    encoded = base.encode(labels)[sorted_index]
    fit_pos, holdout_pos = holdout_indices(
        encoded,
        round(holdout_fraction * n),
        time_ordered=dated,
        random_state=base.random_state,
    )
    train_index, holdout_index = sorted_index[fit_pos], sorted_index[holdout_pos]
    train_contexts = [contexts[i] for i in train_index]
    train_labels = [labels[i] for i in train_index]
    selection = Selection(params={}, folds=0, note="no candidates: parameters as given")
    if candidates:
        folds = (
            time_ordered_folds(len(train_index), n_folds)
            if dated
            else shuffled_folds(len(train_index), n_folds, base.random_state)
        )
        selection = select_params(base, train_contexts, train_labels, candidates, folds)
    model = clone(base).set_params(**selection.params)
    model.fit(train_contexts, train_labels)
    metrics: dict[str, Any] = {"n_train": len(train_index)}
    if len(holdout_index):
        metrics |= holdout_metrics(
            model, [contexts[i] for i in holdout_index], [labels[i] for i in holdout_index]
        )
        metrics["holdout"] = "latest by date" if dated else "stratified random"
    metrics["selection"] = selection.as_dict() | {
        "method": "time-ordered (expanding window)" if dated else "shuffled k-fold"
    }
    return HeldOutFit(model, metrics, train_index, holdout_index)
