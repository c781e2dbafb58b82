"""The compiled claim scorer: a fitted ClaimModel reduced to dicts and arrays.

Scoring a claim through scikit-learn's sparse pipeline costs milliseconds; this scores one claim
in plain Python/numpy from the model's own ``ClaimDesign.row`` and the coefficients of both
calibrated ensembles stacked in one dense array. Tests check it agrees with the scikit-learn
path (scikit-learn's own fast inference object sits beside its estimator the same way).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import norm
from sklearn.calibration import CalibratedClassifierCV

from scoring.claim_model._calibration import compile_ensemble
from scoring.claim_model._design import ClaimDesign
from scoring.claim_model._score import UNIFORM_SD, ClaimScore, beta_sd
from scoring.contributions import Contribution
from scoring.features import (
    NUMERIC_FEATURE_INDEX,
    OUTLET_RECORD,
    TOPIC_RECORD,
    WORDING,
    ClaimContext,
    FeatureRow,
    describe,
)
from scoring.reliability import grade_for


class CompiledClaimModel:
    """A fitted ClaimModel reduced to dicts and arrays, scoring without scikit-learn's overhead.

    Built by ``ClaimModel.fit`` from its fitted parts: the design, the P(holds up) ensemble
    ``binary`` and the class-probability ensemble ``ordinal``.
    """

    def __init__(
        self,
        *,
        design: ClaimDesign,
        labels: Sequence[str],
        binary: CalibratedClassifierCV,
        ordinal: CalibratedClassifierCV,
        interval_level: float,
    ) -> None:
        self.design = design
        self.labels: tuple[str, ...] = tuple(labels)
        self.binary, binary_coef, binary_intercept = compile_ensemble(binary, design.n_features, 0)
        self.n_binary_columns = binary_coef.shape[0]
        self.ordinal, ordinal_coef, ordinal_intercept = compile_ensemble(
            ordinal, design.n_features, self.n_binary_columns
        )
        # Features x (binary columns, then ordinal columns): one gather scores everything.
        self.coef = np.ascontiguousarray(np.vstack([binary_coef, ordinal_coef]).T)
        self.intercept = np.concatenate([binary_intercept, ordinal_intercept])
        # Which class of the full label set each ordinal column of the model predicts.
        self.ordinal_labels = np.asarray(ordinal.classes_, dtype=np.intp)
        self.binary_calibrators = tuple(fold.calibrators[0] for fold in self.binary.folds)
        self.n_folds = len(self.binary.folds)
        self.z = float(norm.ppf(0.5 + interval_level / 2.0))
        # Slope of each binary fold's decision in the outlet's and topic's posterior means
        # (without a topic record the topic column holds the outlet's mean: both slopes apply).
        outlet_col = NUMERIC_FEATURE_INDEX["outlet_mean"]
        topic_col = NUMERIC_FEATURE_INDEX["topic_mean"]
        self.topic_col = topic_col
        scale = design.numeric_weight / np.asarray(design.scaler.scale_, dtype=float)
        self.outlet_slope = binary_coef[:, outlet_col] * scale[outlet_col]
        self.topic_slope = binary_coef[:, topic_col] * scale[topic_col]
        # Explanations: group of every column, and each group's baseline contribution per fold.
        self.group_names: tuple[str, ...] = design.group_names
        self.column_group = design.column_group
        baseline = np.asarray(design.baseline, dtype=float)
        self.group_baseline = np.zeros((len(self.group_names), self.n_binary_columns))
        np.add.at(self.group_baseline, self.column_group, baseline[:, None] * binary_coef.T)
        # The topic reason is measured from the outlet's own mean (a topic record no better or
        # worse than the outlet's overall one moves nothing); the rest of that column's effect
        # belongs to the outlet's record.
        self.topic_coef = binary_coef[:, topic_col].copy()
        self.topic_baseline = float(baseline[topic_col])
        self.outlet_group = self.group_names.index(OUTLET_RECORD)
        self.topic_group = self.group_names.index(TOPIC_RECORD)

    def _track_record_sd(self, context: ClaimContext, row: FeatureRow) -> np.ndarray:
        """Per fold: the decision's standard deviation from track-record uncertainty."""
        record = context.outlet_record
        outlet_sd = UNIFORM_SD if record is None else beta_sd(record)
        if row.topic_record is None:
            outlet_only: np.ndarray = np.abs((self.outlet_slope + self.topic_slope) * outlet_sd)
            return outlet_only
        topic_sd = beta_sd(row.topic_record)
        separate: np.ndarray = np.hypot(self.outlet_slope * outlet_sd, self.topic_slope * topic_sd)
        return separate

    def _binary_probability(self, decisions: np.ndarray) -> float:
        return (
            sum(
                calibrator.one(float(value))
                for calibrator, value in zip(self.binary_calibrators, decisions, strict=True)
            )
            / self.n_folds
        )

    def _interval(self, decisions: np.ndarray, record_sd: np.ndarray) -> tuple[float, float, float]:
        k = self.n_folds
        model_var = (
            (k - 1) / k * float(np.sum((decisions - decisions.mean()) ** 2)) if k > 1 else 0.0
        )
        record_var = float(np.mean(record_sd**2))
        sd = math.sqrt(model_var + record_var)
        low = high = 0.0
        for calibrator, value in zip(self.binary_calibrators, decisions, strict=True):
            down = calibrator.one(float(value) - self.z * sd)
            up = calibrator.one(float(value) + self.z * sd)
            low += min(down, up)
            high += max(down, up)
        return low / k, high / k, sd

    def holds_up_one(self, context: ClaimContext) -> float:
        """P(holds up) for one claim."""
        _, indices, values = self.design.row(context)
        decisions = np.asarray(values) @ self.coef[indices, : self.n_binary_columns]
        return self._binary_probability(decisions + self.intercept[: self.n_binary_columns])

    def score_one(self, context: ClaimContext, *, explain: int = 3) -> ClaimScore:
        """Score one claim: probability, interval, grade, class probabilities and reasons."""
        row, indices, values = self.design.row(context)
        value_array = np.asarray(values)
        gathered = self.coef[indices]
        decisions = value_array @ gathered + self.intercept
        nb = self.n_binary_columns
        binary = decisions[:nb]
        probability = self._binary_probability(binary)
        record_sd = self._track_record_sd(context, row)
        low, high, _ = self._interval(binary, record_sd)
        k = self.n_folds
        model_sd = math.sqrt((k - 1) / k * float(np.sum((binary - binary.mean()) ** 2)))
        classes = self._class_probabilities_one(decisions.tolist())
        contributions: tuple[Contribution, ...] = ()
        if explain > 0:
            contributions = self._explain(
                context, row, indices, value_array, gathered[:, :nb], binary, probability, explain
            )
        rated = context.outlet_record is not None and context.outlet_record.rated
        return ClaimScore(
            probability=probability,
            low=min(low, probability),
            high=max(high, probability),
            grade=grade_for(probability, rated=rated),
            class_probabilities=dict(zip(self.labels, classes, strict=True)),
            contributions=contributions,
            model_sd=model_sd,
            track_record_sd=math.sqrt(float(np.mean(record_sd**2))),
        )

    def _class_probabilities_one(self, decisions: list[float]) -> list[float]:
        full = [0.0] * len(self.labels)
        for position, value in zip(
            self.ordinal_labels.tolist(), self.ordinal.proba_one(decisions), strict=True
        ):
            full[position] = value
        return full

    def _explain(
        self,
        context: ClaimContext,
        row: FeatureRow,
        indices: list[int],
        values: np.ndarray,
        coef: np.ndarray,
        binary: np.ndarray,
        probability: float,
        top: int,
    ) -> tuple[Contribution, ...]:
        groups = self.column_group[indices]
        contributions = np.zeros((len(self.group_names), self.n_binary_columns))
        np.add.at(contributions, groups, values[:, None] * coef)
        contributions -= self.group_baseline
        # The topic column's scaled value had the topic record been no different from the
        # outlet's overall one (its mean then stands in, as without a topic record).
        outlet_value = self.design.scaled_numeric(
            row.numeric[NUMERIC_FEATURE_INDEX["outlet_mean"]], self.topic_col
        )
        moved = self.topic_coef * (outlet_value - self.topic_baseline)
        contributions[self.topic_group] -= moved
        contributions[self.outlet_group] += moved
        # P(holds up) with each group's contribution taken out, all groups at once: a column
        # of shifted decisions per fold, summed over folds in order as _binary_probability does.
        shifted = binary[np.newaxis, :] - contributions
        without = np.zeros(len(self.group_names))
        with np.errstate(over="ignore"):  # exp overflow is a probability of 0, as in .one()
            for fold, calibrator in enumerate(self.binary_calibrators):
                without = without + calibrator(shifted[:, fold])
        group_effects = (probability - without / self.n_folds).tolist()
        effects = [
            (effect, group) for group, effect in enumerate(group_effects) if abs(effect) > 1e-12
        ]
        effects.sort(key=lambda item: -abs(item[0]))
        result: list[Contribution] = []
        for effect, group in effects[:top]:
            name = self.group_names[group]
            text = describe(name, context, row)
            if name == WORDING:
                text = self._wording_detail(indices, values, coef, effect)
            result.append(Contribution(group=name, description=text, effect=effect))
        return tuple(result)

    def _wording_detail(
        self, indices: list[int], values: np.ndarray, coef: np.ndarray, effect: float
    ) -> str:
        mean_coef = coef.mean(axis=1)
        index_to_word = self.design.index_to_word
        scored = [
            (float(values[i] * mean_coef[i]), index_to_word[column])
            for i, column in enumerate(indices)
            if column in index_to_word
        ]
        same_sign = [item for item in scored if item[0] * effect > 0]
        same_sign.sort(key=lambda item: -abs(item[0]))
        words = ", ".join(f"'{gram}'" for _, gram in same_sign[:3])
        return f"claim wording ({words})" if words else "claim wording"
