"""Calibration of the claim model: P(holds up) targets from label credits, non-decreasing maps,
and the fitted CalibratedClassifierCV ensembles reduced to arrays for the compiled scorer."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.isotonic import IsotonicRegression

Folds = list[tuple[np.ndarray, np.ndarray]]


def expand_credit(
    matrix: sp.csr_matrix, credit: np.ndarray, folds: Folds
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray | None, Folds]:
    """Binary targets from credits: a partial credit c becomes a held-up copy weighted c and a
    not-held-up copy weighted 1 - c, both kept in the claim's own fold."""
    partial_rows = np.flatnonzero((credit > 0.0) & (credit < 1.0))
    if partial_rows.size == 0:
        return matrix, (credit >= 1.0).astype(np.intp), None, folds
    n = matrix.shape[0]
    extra = partial_rows.size
    expanded = sp.vstack([matrix, matrix[partial_rows]], format="csr")
    target = np.concatenate([(credit > 0.0).astype(np.intp), np.zeros(extra, dtype=np.intp)])
    weight = np.concatenate([np.where(credit > 0.0, credit, 1.0), 1.0 - credit[partial_rows]])
    copy_of = np.full(n, -1, dtype=np.intp)
    copy_of[partial_rows] = n + np.arange(extra)

    def with_copies(indices: np.ndarray) -> np.ndarray:
        copies = copy_of[indices]
        return np.concatenate([indices, copies[copies >= 0]])

    return (
        expanded,
        target,
        weight,
        [(with_copies(train), with_copies(test)) for train, test in folds],
    )


def keep_calibration_increasing(
    calibrated: CalibratedClassifierCV, matrix: sp.csr_matrix, folds: Folds
) -> None:
    """Flatten any sigmoid calibration map that came out decreasing.

    A fold whose decisions happen to rank its calibration claims backwards gets a sigmoid with
    a positive slope, which would turn every signed coefficient around; such a map becomes the
    constant it averages to on its own fold. Isotonic maps are non-decreasing by construction.
    """
    for pair, (_, test) in zip(calibrated.calibrated_classifiers_, folds, strict=True):
        for calibrator in pair.calibrators:
            if isinstance(calibrator, IsotonicRegression) or calibrator.a_ <= 0.0:
                continue
            decisions = pair.estimator.decision_function(matrix[test])
            mean = float(np.mean(expit(-(calibrator.a_ * decisions + calibrator.b_))))
            mean = min(max(mean, 1e-6), 1.0 - 1e-6)
            calibrator.a_ = 0.0
            calibrator.b_ = math.log((1.0 - mean) / mean)


@dataclass(frozen=True, slots=True)
class Calibrator:
    """A fitted calibration map: sigmoid 1 / (1 + exp(a f + b)) or isotonic interpolation."""

    a: float
    b: float
    x: np.ndarray | None
    y: np.ndarray | None

    def __call__(self, values: np.ndarray) -> np.ndarray:
        if self.x is None or self.y is None:
            result: np.ndarray = 1.0 / (1.0 + np.exp(self.a * values + self.b))
            return result
        interpolated: np.ndarray = np.interp(values, self.x, self.y)
        return interpolated

    def one(self, value: float) -> float:
        if self.x is None or self.y is None:
            exponent = self.a * value + self.b
            if exponent > 700.0:
                return 0.0
            return 1.0 / (1.0 + math.exp(exponent))
        return float(np.interp(value, self.x, self.y))


def compile_calibrator(calibrator: Any) -> Calibrator:
    if isinstance(calibrator, IsotonicRegression):
        x = np.asarray(calibrator.X_thresholds_, dtype=float)
        y = np.asarray(calibrator.y_thresholds_, dtype=float)
        if x.size == 1:
            x = np.array([x[0], x[0]])
            y = np.array([y[0], y[0]])
        # scikit-learn clips to the fitted range (the first and last thresholds) and interpolates
        # linearly; np.interp holds the end values outside the range, which is the same.
        return Calibrator(0.0, 0.0, x, y)
    return Calibrator(float(calibrator.a_), float(calibrator.b_), None, None)


@dataclass(frozen=True, slots=True)
class Fold:
    """One fold of a calibrated ensemble: its decision columns, their classes, calibrators."""

    start: int
    stop: int
    class_index: np.ndarray
    calibrators: tuple[Calibrator, ...]


@dataclass(frozen=True, slots=True)
class CompiledEnsemble:
    """A CalibratedClassifierCV's predict_proba, over a slice of the shared coefficient matrix."""

    n_classes: int
    folds: tuple[Fold, ...]

    def proba_one(self, decisions: Sequence[float]) -> list[float]:
        """Class probabilities of one row of decision values, averaged over folds, in plain
        floats: at one row numpy's per-call cost is most of it."""
        n_classes = self.n_classes
        total = [0.0] * n_classes
        for fold in self.folds:
            proba = [0.0] * n_classes
            for offset, (class_idx, calibrator) in enumerate(
                zip(fold.class_index.tolist(), fold.calibrators, strict=True)
            ):
                target = class_idx + 1 if n_classes == 2 else class_idx
                proba[target] = calibrator.one(decisions[fold.start + offset])
            if n_classes == 2:
                proba[0] = 1.0 - proba[1]
            else:
                denominator = sum(proba)
                proba = (
                    [value / denominator for value in proba]
                    if denominator != 0
                    else [1.0 / n_classes] * n_classes
                )
            for k, value in enumerate(proba):
                total[k] += 1.0 if 1.0 < value <= 1.0 + 1e-5 else value
        return [value / len(self.folds) for value in total]


def compile_ensemble(
    calibrated: CalibratedClassifierCV, n_features: int, column_offset: int
) -> tuple[CompiledEnsemble, np.ndarray, np.ndarray]:
    """The ensemble's fold structure plus its stacked coefficients (features x columns)."""
    classes = np.asarray(calibrated.classes_)
    folds: list[Fold] = []
    coefs: list[np.ndarray] = []
    intercepts: list[np.ndarray] = []
    start = column_offset
    for pair in calibrated.calibrated_classifiers_:
        estimator = pair.estimator
        coef = np.asarray(estimator.coef_, dtype=float).reshape(-1, n_features)
        columns = coef.shape[0]
        class_index = np.searchsorted(classes, np.asarray(estimator.classes_))
        if columns == 1:
            class_index = class_index[:1]
        folds.append(
            Fold(
                start=start,
                stop=start + columns,
                class_index=class_index,
                calibrators=tuple(compile_calibrator(c) for c in pair.calibrators),
            )
        )
        coefs.append(coef)
        intercepts.append(np.asarray(estimator.intercept_, dtype=float).reshape(-1))
        start += columns
    return (
        CompiledEnsemble(n_classes=classes.shape[0], folds=tuple(folds)),
        np.vstack(coefs),
        np.concatenate(intercepts),
    )
