"""The claim model: calibrated P(holds up) and ordinal class probabilities, explained, and fast.

``ClaimModel`` is a scikit-learn estimator over ``ClaimContext`` objects (see
``scoring.features``). Its design matrix is, in this column order: the standardised numeric
features, the label-history columns (with ``history``), indicator tokens (outlet kind, topics,
metadata), TF-IDF word n-grams and, optionally, TF-IDF character n-grams.

Label history: for the outlet, its kind, the topics and each metadata field, the smoothed share of
each label among the training claims with the same key (target encoding), plus log evidence.
Training claims get out-of-fold values (``history_folds``-fold, counts rescaled to the full
table's size), new claims the table of all training claims: a claim never sees its own label.

Two logistic regressions share the design matrix:

- ``ordinal_``: multinomial over the ordered label set (class probabilities);
- ``binary_``: P(holds up), trained on each label's ``holds_up`` credit (a label with credit 0.5,
  such as "mixed", enters once as held up and once as not, each with weight 0.5).

Directions a desk expects are enforced in ``binary_`` (``sign_constraints``): its coefficients
are held to the signs of ``features.FEATURE_SIGNS`` (a better outlet or topic record never
lowers P(holds up); being party to the conflict, a figure far from the consensus or dependence
on another source never raises it; independent corroboration never lowers it) and, for the
outlet's label history, to each label's credit (``linear.SignedLogisticRegression``). Every
calibration map is non-decreasing (a sigmoid fitted with the wrong slope is flattened), so the
directions carry through to the calibrated probability, its fold average and the fast path.

Both are wrapped in ``CalibratedClassifierCV`` (an ensemble over ``cv`` folds: each fold's model
is fitted on the other folds and calibrated on its own); isotonic calibration when each fold holds
at least ``isotonic_min_samples`` claims, sigmoid otherwise. Folds are contiguous blocks of the
time-sorted claims when every claim has a date, stratified shuffled folds otherwise.

Metrics come from a held-out split made before fitting: the latest ``holdout_fraction`` of claims
when all are dated, a stratified random split otherwise. With ``refit`` the model is then fitted
again on all claims, and ``metrics_`` describes the held-out run.

Scoring a claim through scikit-learn's sparse pipeline costs milliseconds, so fitting also builds
``compiled_``: a ``CompiledClaimModel`` holding the vocabularies as dicts, the coefficients as
one dense array and the calibration maps as arrays, which scores one claim in plain Python/numpy
and a batch with one sparse product. Tests check it agrees with the scikit-learn path.

Interval: P(holds up) is the mean over the fold models of calibrated decision values f_i. The
decision is given a standard deviation from two independent sources, added in quadrature:
  - model uncertainty: the delete-a-fold jackknife of the fold models' decisions,
    (k - 1) / k * sum_i (f_i - mean f)^2, each fold model having seen (k - 1) / k of the data;
  - track-record uncertainty: the posterior standard deviation of the outlet's (and topic's)
    Beta track record times the decision's slope in that feature (a missing record counts as a
    uniform Beta(1, 1)).
The interval is the mean over folds of each fold's calibration map applied to f_i -/+ z * sd,
with z the normal quantile of ``interval_level``; it always contains P(holds up).

Explanations: for each named feature group g and fold i, contribution c_ig = sum over the
group's columns of coef_ij * (x_j - baseline_j), baseline being the column mean of the training
design matrix (a typical claim). Its effect on the probability scale is P(holds up) minus the
probability recomputed with every f_i reduced by c_ig: how much this group moved the score away
from what a typical value would give. Effects are not additive (the calibration map is not
linear), but each is exact for its own group. Two references differ from the typical claim, so
that a reason's sign is the direction its features are held to: the groups of
``features.EXPLAINED_FROM_UNKNOWN`` (party, corroboration, consensus, dependence) are measured
from "unknown" (a party to the conflict shows a negative effect, never a positive one), and the
topic record from the outlet's own mean (the rest of that column's effect is the outlet's).

Pure Python + numpy + scipy + scikit-learn: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from scipy.stats import norm
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from scoring.evaluation.metrics import binary_metrics, multiclass_metrics
from scoring.features import (
    CHARACTERS,
    EXPLAINED_FROM_UNKNOWN,
    FEATURE_SIGNS,
    NUMERIC_FEATURE_INDEX,
    NUMERIC_FEATURE_NAMES,
    NUMERIC_FEATURES,
    OUTLET_KIND,
    OUTLET_RECORD,
    TOPIC_RECORD,
    TOPICS,
    WORDING,
    ClaimContext,
    FeatureRow,
    describe,
    featurize,
    token_group,
)
from scoring.linear import SignedLogisticRegression
from scoring.reliability import (
    DEFAULT_PRIOR_STRENGTH,
    GLOBAL_PRIOR_MEAN,
    Grade,
    Reliability,
    grade_for,
    posterior,
)
from scoring.text_features import char_ngrams, ngrams_of_tokens, word_ngrams

# Bump when the fitted model's structure changes; artifacts record it and refuse a mismatch.
MODEL_FORMAT_VERSION = 3

SERVICE_LABELS: tuple[str, ...] = ("true", "mostly-true", "mixed", "mostly-false", "false")
SERVICE_HOLDS_UP: Mapping[str, float] = {"true": 1.0, "mostly-true": 1.0, "mixed": 0.5}

# Standard deviation of a Beta(1, 1): the track-record uncertainty of an outlet with no record.
_UNIFORM_SD = math.sqrt(1.0 / 12.0)


@dataclass(frozen=True, slots=True)
class Contribution:
    """One feature group's effect on P(holds up), in words, relative to a typical claim."""

    group: str
    description: str
    effect: float


@dataclass(frozen=True, slots=True)
class ClaimScore:
    """A scored claim: P(holds up), its interval, grade band, class probabilities and reasons."""

    probability: float
    low: float
    high: float
    grade: Grade
    class_probabilities: Mapping[str, float]
    contributions: tuple[Contribution, ...]
    model_sd: float
    track_record_sd: float


def _identity_tokens(tokens: Sequence[str]) -> list[str]:
    return list(tokens)


def _beta_sd(record: Reliability) -> float:
    total = record.alpha + record.beta
    return math.sqrt(record.alpha * record.beta / (total * total * (total + 1.0)))


def date_order(contexts: Sequence[ClaimContext]) -> np.ndarray | None:
    """Indices sorting the claims by date, or ``None`` when any claim is undated."""
    dates = [context.published_at for context in contexts]
    known = [date for date in dates if date is not None]
    if not dates or len(known) != len(dates):
        return None
    return np.array(sorted(range(len(known)), key=known.__getitem__), dtype=np.intp)


# --------------------------------------------------------------------------------------------
# Label history of categorical keys (target encoding)

_OUTLET_KEY = "outlet="


def _history_keys(context: ClaimContext, row: FeatureRow) -> list[str]:
    """The claim's categorical keys: its indicator tokens plus its outlet."""
    keys = list(row.tokens)
    outlet = context.outlet.strip().lower()
    if outlet:
        keys.append(_OUTLET_KEY + outlet)
    return keys


def _history_group(key: str) -> str:
    """The explanation group of a history key (the outlet's history is part of its record)."""
    if key.startswith(_OUTLET_KEY):
        return OUTLET_RECORD
    return token_group(key)


class _History:
    """Smoothed label distribution of every categorical key seen in training.

    For each group (outlet, outlet kind, topics, each metadata field) a claim gets the log of
    its key's label shares, shrunk toward the overall shares by ``strength`` pseudo-claims
    (averaged over the claim's keys in that group, e.g. several topics), and log(1 + claims
    behind it). A key never seen gets the overall shares and no evidence. ``scale`` multiplies
    the counts: a table built from (k - 1) of k folds uses k / (k - 1), so out-of-fold columns
    have the magnitudes the full table gives new claims.
    """

    def __init__(
        self,
        keys: Sequence[Sequence[str]],
        encoded: np.ndarray,
        *,
        n_classes: int,
        groups: tuple[str, ...],
        strength: float,
        scale: float = 1.0,
    ) -> None:
        self.groups = groups
        self.n_classes = n_classes
        self.strength = strength
        group_id = {group: i for i, group in enumerate(groups)}
        self.index: dict[str, int] = {}
        key_group: list[int] = []
        ids: list[int] = []
        labels: list[int] = []
        for row_keys, label in zip(keys, encoded.tolist(), strict=True):
            for key in row_keys:
                found = self.index.get(key)
                if found is None:
                    group = group_id.get(_history_group(key))
                    if group is None:
                        continue
                    found = self.index[key] = len(key_group)
                    key_group.append(group)
                ids.append(found)
                labels.append(label)
        self.key_group = np.asarray(key_group, dtype=np.intp)
        self.counts = np.zeros((len(key_group), n_classes))
        np.add.at(self.counts, (np.asarray(ids, dtype=np.intp), np.asarray(labels)), scale)
        frequencies = np.bincount(encoded, minlength=n_classes).astype(float)
        self.prior = (frequencies + 1.0) / (frequencies.sum() + n_classes)
        self.width = len(groups) * (n_classes + 1)

    def transform(self, keys: Sequence[Sequence[str]]) -> np.ndarray:
        """History columns of each claim: per group, log shares then log(1 + evidence)."""
        n = len(keys)
        n_groups = len(self.groups)
        index = self.index
        rows: list[int] = []
        ids: list[int] = []
        for i, row_keys in enumerate(keys):
            for key in row_keys:
                found = index.get(key)
                if found is not None:
                    rows.append(i)
                    ids.append(found)
        counts = np.zeros((n, n_groups, self.n_classes))
        if ids:
            id_array = np.asarray(ids, dtype=np.intp)
            # One cell per (claim, group); bincount sums far faster than np.add.at.
            cell = np.asarray(rows, dtype=np.intp) * n_groups + self.key_group[id_array]
            size = n * n_groups
            per_cell = np.bincount(cell, minlength=size).astype(float)
            gathered = self.counts[id_array]
            flat = counts.reshape(size, self.n_classes)
            for k in range(self.n_classes):
                flat[:, k] = np.bincount(cell, weights=gathered[:, k], minlength=size)
            flat /= np.maximum(per_cell, 1.0)[:, np.newaxis]
        total = counts.sum(axis=2)
        shares = (counts + self.strength * self.prior) / (total + self.strength)[:, :, np.newaxis]
        columns = np.concatenate([np.log(shares), np.log1p(total)[:, :, np.newaxis]], axis=2)
        return columns.reshape(n, self.width)


# --------------------------------------------------------------------------------------------
# The compiled (fast) path


@dataclass(frozen=True, slots=True)
class _Calibrator:
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


def _compile_calibrator(calibrator: Any) -> _Calibrator:
    if isinstance(calibrator, IsotonicRegression):
        x = np.asarray(calibrator.X_thresholds_, dtype=float)
        y = np.asarray(calibrator.y_thresholds_, dtype=float)
        if x.size == 1:
            x = np.array([x[0], x[0]])
            y = np.array([y[0], y[0]])
        # scikit-learn clips to the fitted range (the first and last thresholds) and interpolates
        # linearly; np.interp holds the end values outside the range, which is the same.
        return _Calibrator(0.0, 0.0, x, y)
    return _Calibrator(float(calibrator.a_), float(calibrator.b_), None, None)


@dataclass(frozen=True, slots=True)
class _Fold:
    """One fold of a calibrated ensemble: its decision columns, their classes, calibrators."""

    start: int
    stop: int
    class_index: np.ndarray
    calibrators: tuple[_Calibrator, ...]


@dataclass(frozen=True, slots=True)
class _CompiledEnsemble:
    """A CalibratedClassifierCV's predict_proba, over a slice of the shared coefficient matrix."""

    n_classes: int
    folds: tuple[_Fold, ...]

    def proba(self, decisions: np.ndarray) -> np.ndarray:
        """Class probabilities from decision values (n, columns), averaged over folds."""
        n = decisions.shape[0]
        total = np.zeros((n, self.n_classes))
        for fold in self.folds:
            proba = np.zeros((n, self.n_classes))
            for offset, (class_idx, calibrator) in enumerate(
                zip(fold.class_index, fold.calibrators, strict=True)
            ):
                target = class_idx + 1 if self.n_classes == 2 else class_idx
                proba[:, target] = calibrator(decisions[:, fold.start + offset])
            if self.n_classes == 2:
                proba[:, 0] = 1.0 - proba[:, 1]
            else:
                denominator = proba.sum(axis=1)[:, np.newaxis]
                uniform = np.full_like(proba, 1.0 / self.n_classes)
                proba = np.divide(proba, denominator, out=uniform, where=denominator != 0)
            proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
            total += proba
        return total / len(self.folds)

    def proba_one(self, decisions: Sequence[float]) -> list[float]:
        """``proba`` of one row, in plain floats: at one row numpy's per-call cost is most of it."""
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


def _compile_ensemble(
    calibrated: CalibratedClassifierCV, n_features: int, column_offset: int
) -> tuple[_CompiledEnsemble, np.ndarray, np.ndarray]:
    """The ensemble's fold structure plus its stacked coefficients (features x columns)."""
    classes = np.asarray(calibrated.classes_)
    folds: list[_Fold] = []
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
            _Fold(
                start=start,
                stop=start + columns,
                class_index=class_index,
                calibrators=tuple(_compile_calibrator(c) for c in pair.calibrators),
            )
        )
        coefs.append(coef)
        intercepts.append(np.asarray(estimator.intercept_, dtype=float).reshape(-1))
        start += columns
    return (
        _CompiledEnsemble(n_classes=classes.shape[0], folds=tuple(folds)),
        np.vstack(coefs),
        np.concatenate(intercepts),
    )


@dataclass(frozen=True, slots=True)
class BatchScores:
    """Scores of many claims as arrays (the fast batch path)."""

    probability: np.ndarray
    low: np.ndarray
    high: np.ndarray
    class_probabilities: np.ndarray
    grades: tuple[Grade, ...]


class CompiledClaimModel:
    """A fitted ClaimModel reduced to dicts and arrays, scoring without scikit-learn's overhead."""

    def __init__(self, model: ClaimModel) -> None:
        n_numeric = int(model.n_dense_)
        self.history: _History | None = model.history_
        self.labels: tuple[str, ...] = tuple(model.labels)
        self.topic_prior_strength = float(model.topic_prior_strength)
        self.numeric_mean = np.asarray(model.scaler_.mean_, dtype=float)
        self.numeric_scale = np.asarray(model.scaler_.scale_, dtype=float)
        self.numeric_weight = float(model.numeric_weight)
        self.token_weight = float(model.token_weight)
        self.text_weight = float(model.text_weight)
        offset = n_numeric
        self.token_index: dict[str, int] = {}
        if model.token_vectorizer_ is not None:
            self.token_index = {
                token: offset + int(i) for token, i in model.token_vectorizer_.vocabulary_.items()
            }
            offset += len(model.token_vectorizer_.vocabulary_)
        self.word_ngram_range: tuple[int, int] = model.word_ngram_range or (1, 1)
        self.word_index: dict[str, int] = {}
        self.word_idf = np.zeros(0)
        self._word_start = offset
        if model.word_vectorizer_ is not None:
            self.word_index = {
                gram: offset + int(i) for gram, i in model.word_vectorizer_.vocabulary_.items()
            }
            self.word_idf = np.zeros(offset + len(self.word_index))
            self.word_idf[offset:] = model.word_vectorizer_.idf_
            offset += len(self.word_index)
        self.char_ngram_range: tuple[int, int] | None = model.char_ngram_range
        self.char_index: dict[str, int] = {}
        self.char_idf = np.zeros(0)
        self._char_start = offset
        if model.char_vectorizer_ is not None:
            self.char_index = {
                gram: offset + int(i) for gram, i in model.char_vectorizer_.vocabulary_.items()
            }
            self.char_idf = np.zeros(offset + len(self.char_index))
            self.char_idf[offset:] = model.char_vectorizer_.idf_
            offset += len(self.char_index)
        self.n_features = offset
        self.binary, binary_coef, binary_intercept = _compile_ensemble(model.binary_, offset, 0)
        self.n_binary_columns = binary_coef.shape[0]
        self.ordinal, ordinal_coef, ordinal_intercept = _compile_ensemble(
            model.ordinal_, offset, self.n_binary_columns
        )
        # Features x (binary columns, then ordinal columns): one gather scores everything.
        self.coef = np.ascontiguousarray(np.vstack([binary_coef, ordinal_coef]).T)
        self.intercept = np.concatenate([binary_intercept, ordinal_intercept])
        # Which class of the full label set each ordinal column of the model predicts.
        self.ordinal_labels = np.asarray(model.ordinal_.classes_, dtype=np.intp)
        self.binary_calibrators = tuple(fold.calibrators[0] for fold in self.binary.folds)
        self.n_folds = len(self.binary.folds)
        self.z = float(norm.ppf(0.5 + model.interval_level / 2.0))
        # Slope of each binary fold's decision in the outlet's and topic's posterior means
        # (without a topic record the topic column holds the outlet's mean: both slopes apply).
        outlet_col = NUMERIC_FEATURE_INDEX["outlet_mean"]
        topic_col = NUMERIC_FEATURE_INDEX["topic_mean"]
        self.topic_col = topic_col
        scale = self.numeric_weight / self.numeric_scale
        self.outlet_slope = binary_coef[:, outlet_col] * scale[outlet_col]
        self.topic_slope = binary_coef[:, topic_col] * scale[topic_col]
        # Explanations: group of every column, and each group's baseline contribution per fold.
        self.group_names: tuple[str, ...] = tuple(model.group_names_)
        self.column_group = np.asarray(model.column_group_, dtype=np.intp)
        baseline = np.asarray(model.baseline_, dtype=float)
        self.group_baseline = np.zeros((len(self.group_names), self.n_binary_columns))
        np.add.at(self.group_baseline, self.column_group, baseline[:, None] * binary_coef.T)
        # The topic reason is measured from the outlet's own mean (a topic record no better or
        # worse than the outlet's overall one moves nothing); the rest of that column's effect
        # belongs to the outlet's record.
        self.topic_coef = binary_coef[:, topic_col].copy()
        self.topic_baseline = float(baseline[topic_col])
        self.outlet_group = self.group_names.index(OUTLET_RECORD)
        self.topic_group = self.group_names.index(TOPIC_RECORD)
        self.index_to_word = {i: gram for gram, i in self.word_index.items()}

    # -- features ------------------------------------------------------------------------

    def sparse_row(self, context: ClaimContext) -> tuple[FeatureRow, list[int], list[float]]:
        """The claim's non-zero design-matrix columns and values, exactly as the pipeline's."""
        row = featurize(context, topic_prior_strength=self.topic_prior_strength)
        dense = np.asarray(row.numeric)
        if self.history is not None:
            history = self.history.transform([_history_keys(context, row)])[0]
            dense = np.concatenate([dense, history])
        n_numeric = dense.shape[0]
        numeric = (dense - self.numeric_mean) / self.numeric_scale
        numeric *= self.numeric_weight
        indices: list[int] = list(range(n_numeric))
        values: list[float] = numeric.tolist()
        token_weight = self.token_weight
        seen: set[int] = set()
        for token in row.tokens:
            column = self.token_index.get(token)
            if column is not None and column not in seen:
                seen.add(column)
                indices.append(column)
                values.append(token_weight)
        if self.word_index:
            self._tfidf(
                ngrams_of_tokens(row.words, self.word_ngram_range),
                self.word_index,
                self.word_idf,
                indices,
                values,
            )
        if self.char_index and self.char_ngram_range is not None:
            self._tfidf(
                char_ngrams(row.text, self.char_ngram_range),
                self.char_index,
                self.char_idf,
                indices,
                values,
            )
        return row, indices, values

    def _tfidf(
        self,
        grams: list[str],
        vocabulary: dict[str, int],
        idf: np.ndarray,
        indices: list[int],
        values: list[float],
    ) -> None:
        counts: dict[int, int] = {}
        for gram in grams:
            column = vocabulary.get(gram)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        if not counts:
            return
        columns = list(counts)
        weights = [(1.0 + math.log(counts[c])) * idf[c] for c in columns]
        norm_ = math.sqrt(sum(w * w for w in weights))
        text_weight = self.text_weight
        indices.extend(columns)
        values.extend(w / norm_ * text_weight for w in weights)

    def design_matrix(
        self, contexts: Sequence[ClaimContext]
    ) -> tuple[list[FeatureRow], np.ndarray, sp.csr_matrix]:
        """Rows, the dense numeric block and the sparse rest of the design matrix, vectorised."""
        strength = self.topic_prior_strength
        rows = [featurize(context, topic_prior_strength=strength) for context in contexts]
        numeric = np.array([row.numeric for row in rows], dtype=float).reshape(len(rows), -1)
        if self.history is not None:
            keys = [_history_keys(c, row) for c, row in zip(contexts, rows, strict=True)]
            numeric = np.hstack([numeric, self.history.transform(keys)])
        numeric = (numeric - self.numeric_mean) / self.numeric_scale * self.numeric_weight
        row_ids: list[int] = []
        columns: list[int] = []
        counts: list[int] = []
        token_index = self.token_index
        word_index = self.word_index
        char_index = self.char_index
        word_range = self.word_ngram_range
        char_range = self.char_ngram_range
        for i, row in enumerate(rows):
            present = {token_index[t] for t in row.tokens if t in token_index}
            row_ids.extend([i] * len(present))
            columns.extend(present)
            counts.extend([0] * len(present))
            for index, grams in (
                (word_index, ngrams_of_tokens(row.words, word_range) if word_index else ()),
                (
                    char_index,
                    char_ngrams(row.text, char_range) if char_index and char_range else (),
                ),
            ):
                # Column indices are never 0 (the numeric block comes first).
                found = Counter(filter(None, map(index.get, grams)))
                row_ids.extend([i] * len(found))
                columns.extend(found)
                counts.extend(found.values())
        row_array = np.asarray(row_ids, dtype=np.intp)
        column_array = np.asarray(columns, dtype=np.intp)
        count_array = np.asarray(counts, dtype=float)
        values = np.full(count_array.shape, self.token_weight)
        for idf, lowest in ((self.word_idf, self._word_start), (self.char_idf, self._char_start)):
            if idf.size == 0:
                continue
            block = (column_array >= lowest) & (column_array < idf.size) & (count_array > 0)
            weights = (1.0 + np.log(count_array[block])) * idf[column_array[block]]
            norms = np.sqrt(np.bincount(row_array[block], weights * weights, minlength=len(rows)))
            values[block] = weights / norms[row_array[block]] * self.text_weight
        sparse = sp.csr_matrix(
            (values, (row_array, column_array)), shape=(len(rows), self.n_features)
        )
        return rows, numeric, sparse

    # -- scoring -------------------------------------------------------------------------

    def _track_record_sd(self, context: ClaimContext, row: FeatureRow) -> np.ndarray:
        """Per fold: the decision's standard deviation from track-record uncertainty."""
        record = context.outlet_record
        outlet_sd = _UNIFORM_SD if record is None else _beta_sd(record)
        if row.topic_record is None:
            outlet_only: np.ndarray = np.abs((self.outlet_slope + self.topic_slope) * outlet_sd)
            return outlet_only
        topic_sd = _beta_sd(row.topic_record)
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
        _, indices, values = self.sparse_row(context)
        decisions = np.asarray(values) @ self.coef[indices, : self.n_binary_columns]
        return self._binary_probability(decisions + self.intercept[: self.n_binary_columns])

    def score_one(self, context: ClaimContext, *, explain: int = 3) -> ClaimScore:
        """Score one claim: probability, interval, grade, class probabilities and reasons."""
        row, indices, values = self.sparse_row(context)
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

    def _class_probabilities(self, decisions: np.ndarray) -> np.ndarray:
        proba = self.ordinal.proba(decisions)
        full = np.zeros((decisions.shape[0], len(self.labels)))
        full[:, self.ordinal_labels] = proba
        return full

    def score_batch(self, contexts: Sequence[ClaimContext]) -> BatchScores:
        """Score many claims with one sparse product (no explanations)."""
        rows, numeric, sparse = self.design_matrix(contexts)
        n_numeric = numeric.shape[1]
        decisions = numeric @ self.coef[:n_numeric] + np.asarray(sparse @ self.coef)
        decisions += self.intercept
        nb = self.n_binary_columns
        binary = decisions[:, :nb]
        probability = self.binary.proba(binary)[:, 1]
        k = self.n_folds
        model_var = (
            (k - 1) / k * np.sum((binary - binary.mean(axis=1, keepdims=True)) ** 2, axis=1)
            if k > 1
            else np.zeros(len(rows))
        )
        # mean over folds of (slope_o sd_o)^2 + (slope_t sd_t)^2 with a topic record, and of
        # ((slope_o + slope_t) sd_o)^2 without one (the topic column is then the outlet's mean).
        outlet_sd = np.array(
            [
                _UNIFORM_SD if context.outlet_record is None else _beta_sd(context.outlet_record)
                for context in contexts
            ]
        )
        has_topic = np.array([row.topic_record is not None for row in rows])
        topic_sd = np.array(
            [0.0 if row.topic_record is None else _beta_sd(row.topic_record) for row in rows]
        )
        outlet_slope_sq = np.where(
            has_topic,
            float(np.mean(self.outlet_slope**2)),
            float(np.mean((self.outlet_slope + self.topic_slope) ** 2)),
        )
        record_var = outlet_sd**2 * outlet_slope_sq + topic_sd**2 * float(
            np.mean(self.topic_slope**2)
        )
        sd = np.sqrt(model_var + record_var)[:, np.newaxis]
        down = self.binary.proba(binary - self.z * sd)[:, 1]
        up = self.binary.proba(binary + self.z * sd)[:, 1]
        # Per fold min/max matters only for a decreasing map, which a fitted sigmoid rarely is.
        low = np.minimum(np.minimum(down, up), probability)
        high = np.maximum(np.maximum(down, up), probability)
        grades = tuple(
            grade_for(
                float(p),
                rated=context.outlet_record is not None and context.outlet_record.rated,
            )
            for p, context in zip(probability, contexts, strict=True)
        )
        return BatchScores(
            probability=probability,
            low=low,
            high=high,
            class_probabilities=self._class_probabilities(decisions),
            grades=grades,
        )

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
        outlet_value = (
            (row.numeric[NUMERIC_FEATURE_INDEX["outlet_mean"]] - self.numeric_mean[self.topic_col])
            / self.numeric_scale[self.topic_col]
            * self.numeric_weight
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
        scored = [
            (float(values[i] * mean_coef[i]), self.index_to_word[column])
            for i, column in enumerate(indices)
            if column in self.index_to_word
        ]
        same_sign = [item for item in scored if item[0] * effect > 0]
        same_sign.sort(key=lambda item: -abs(item[0]))
        words = ", ".join(f"'{gram}'" for _, gram in same_sign[:3])
        return f"claim wording ({words})" if words else "claim wording"


# --------------------------------------------------------------------------------------------
# The estimator


class ClaimModel(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Calibrated, explained claim scoring over an ordered label set.

    ``labels`` lists the verdicts from best to worst; ``holds_up`` maps labels to how much they
    count as holding up (missing labels count 0; ``None`` means the service's scale, where
    "mixed" counts half). ``fit(X, y)`` takes ``ClaimContext`` objects and label strings.
    """

    def __init__(
        self,
        labels: Sequence[str] = SERVICE_LABELS,
        holds_up: Mapping[str, float] | None = None,
        *,
        C: float = 1.0,
        binary_C: float | None = None,
        word_ngram_range: tuple[int, int] | None = (1, 2),
        char_ngram_range: tuple[int, int] | None = None,
        min_df: int = 2,
        max_features: int | None = None,
        numeric_weight: float = 1.0,
        token_weight: float = 1.0,
        text_weight: float = 1.0,
        topic_prior_strength: float = DEFAULT_PRIOR_STRENGTH,
        history: bool = True,
        history_strength: float = 10.0,
        history_folds: int = 10,
        calibration: str = "auto",
        isotonic_min_samples: int = 1000,
        cv: int = 5,
        holdout_fraction: float = 0.2,
        refit: bool = True,
        interval_level: float = 0.9,
        sign_constraints: bool = True,
        max_iter: int = 2000,
        random_state: int = 0,
    ) -> None:
        self.labels = labels
        self.holds_up = holds_up
        self.C = C
        self.binary_C = binary_C
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.numeric_weight = numeric_weight
        self.token_weight = token_weight
        self.text_weight = text_weight
        self.topic_prior_strength = topic_prior_strength
        self.history = history
        self.history_strength = history_strength
        self.history_folds = history_folds
        self.calibration = calibration
        self.isotonic_min_samples = isotonic_min_samples
        self.cv = cv
        self.holdout_fraction = holdout_fraction
        self.refit = refit
        self.interval_level = interval_level
        self.sign_constraints = sign_constraints
        self.max_iter = max_iter
        self.random_state = random_state

    # -- fitting -------------------------------------------------------------------------

    def _check_params(self) -> None:
        if len(set(self.labels)) != len(self.labels) or len(self.labels) < 2:
            raise ValueError("labels must be at least two distinct verdicts, best first")
        credit = self.credits()
        if not any(value > 0 for value in credit.values()) or all(
            value >= 1 for value in credit.values()
        ):
            raise ValueError("holds_up must make some labels hold up and others not")
        if self.calibration not in ("auto", "sigmoid", "isotonic"):
            raise ValueError("calibration must be 'auto', 'sigmoid' or 'isotonic'")
        if self.cv < 2:
            raise ValueError("cv must be at least 2")
        if self.history_folds < 2:
            raise ValueError("history_folds must be at least 2")
        if self.history_strength <= 0:
            raise ValueError("history_strength must be positive")
        if not 0.0 <= self.holdout_fraction < 1.0:
            raise ValueError("holdout_fraction must lie in [0, 1)")
        if not 0.0 < self.interval_level < 1.0:
            raise ValueError("interval_level must lie strictly between 0 and 1")

    def credits(self) -> dict[str, float]:
        """How much each label counts as holding up (``holds_up`` checked against ``labels``)."""
        source = SERVICE_HOLDS_UP if self.holds_up is None else self.holds_up
        unknown = set(source) - set(self.labels)
        if unknown:
            raise ValueError(f"holds_up names labels not in labels: {sorted(unknown)}")
        credit = {label: float(source.get(label, 0.0)) for label in self.labels}
        if any(not 0.0 <= value <= 1.0 for value in credit.values()):
            raise ValueError("holds_up credits must lie in [0, 1]")
        return credit

    def encode(self, y: Sequence[str]) -> np.ndarray:
        """Each label's position in ``labels`` (a label not in it is a ``ValueError``)."""
        index = {label: i for i, label in enumerate(self.labels)}
        try:
            return np.array([index[label] for label in y], dtype=np.intp)
        except KeyError as error:
            raise ValueError(
                f"label {error.args[0]!r} is not one of {', '.join(self.labels)}"
            ) from None

    def fit(self, X: Sequence[ClaimContext], y: Sequence[str]) -> ClaimModel:
        """Fit on verdicted claims; metrics on a held-out split, then (``refit``) on all."""
        self._check_params()
        contexts = list(X)
        if len(contexts) != len(y):
            raise ValueError("X and y have different lengths")
        encoded = self.encode(y)
        self.classes_ = np.asarray(self.labels)
        self.holds_up_ = self.credits()
        order = date_order(contexts)
        self.time_ordered_ = order is not None
        if order is not None:
            contexts = [contexts[i] for i in order]
            encoded = encoded[order]
        rows = [featurize(c, topic_prior_strength=self.topic_prior_strength) for c in contexts]
        keys = [_history_keys(c, row) for c, row in zip(contexts, rows, strict=True)]
        self.metrics_: dict[str, float | int | str] | None = None
        n_holdout = round(self.holdout_fraction * len(rows))
        if n_holdout > 0:
            fit_idx, holdout_idx = self._holdout_split(encoded, n_holdout)
            self._fit_rows([rows[i] for i in fit_idx], [keys[i] for i in fit_idx], encoded[fit_idx])
            self.metrics_ = self._holdout_metrics(
                [contexts[i] for i in holdout_idx], encoded[holdout_idx]
            )
            if not self.refit:
                self.n_train_ = len(fit_idx)
                self.compiled_ = CompiledClaimModel(self)
                return self
        self._fit_rows(rows, keys, encoded)
        self.n_train_ = len(rows)
        self.compiled_ = CompiledClaimModel(self)
        return self

    def _holdout_split(self, encoded: np.ndarray, n_holdout: int) -> tuple[np.ndarray, np.ndarray]:
        return holdout_indices(
            encoded, n_holdout, time_ordered=self.time_ordered_, random_state=self.random_state
        )

    def _folds(self, encoded: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        n = encoded.shape[0]
        counts = np.bincount(encoded)
        if self.time_ordered_ or counts[counts > 0].min() < self.cv:
            splitter: KFold | StratifiedKFold = KFold(
                self.cv,
                shuffle=not self.time_ordered_,
                random_state=None if self.time_ordered_ else self.random_state,
            )
        else:
            splitter = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        return list(splitter.split(np.zeros(n), encoded))

    def _calibration_method(self, n: int) -> str:
        if self.calibration != "auto":
            return str(self.calibration)
        per_fold = n / self.cv
        return "isotonic" if per_fold >= self.isotonic_min_samples else "sigmoid"

    def history_groups(self, keys: Sequence[Sequence[str]]) -> tuple[str, ...]:
        """The history groups of a training set: outlet, kind, topics, then metadata fields."""
        metadata = sorted(
            {_history_group(key) for row_keys in keys for key in row_keys}
            - {OUTLET_RECORD, OUTLET_KIND, TOPICS}
        )
        return (OUTLET_RECORD, OUTLET_KIND, TOPICS, *metadata)

    def out_of_fold_history(
        self, keys: Sequence[Sequence[str]], encoded: np.ndarray, groups: tuple[str, ...]
    ) -> np.ndarray:
        """History columns of training claims, each computed without its own fold's labels.

        K-fold (``history_folds``), not leave-one-out: a leave-one-out share moves by a fixed
        amount with the claim's own label, which a flexible model can learn.
        """
        n = len(keys)
        k = min(self.history_folds, n)
        folds = KFold(k, shuffle=True, random_state=self.random_state)
        result = np.zeros((n, len(groups) * (len(self.labels) + 1)))
        for train, test in folds.split(np.zeros(n)):
            table = _History(
                [keys[i] for i in train],
                encoded[train],
                n_classes=len(self.labels),
                groups=groups,
                strength=self.history_strength,
                scale=k / (k - 1),
            )
            result[test] = table.transform([keys[i] for i in test])
        return result

    def training_history(
        self, X: Sequence[ClaimContext], y: Sequence[str]
    ) -> tuple[tuple[str, ...], np.ndarray]:
        """Column names and out-of-fold history columns of training claims, as ``fit`` builds
        them for undated claims (for leakage checks); the model need not be fitted."""
        contexts = list(X)
        rows = [featurize(c, topic_prior_strength=self.topic_prior_strength) for c in contexts]
        keys = [_history_keys(c, row) for c, row in zip(contexts, rows, strict=True)]
        groups = self.history_groups(keys)
        names = tuple(
            f"history {group} {part}"
            for group in groups
            for part in (*(f"log share {label}" for label in self.labels), "log evidence")
        )
        return names, self.out_of_fold_history(keys, self.encode(y), groups)

    def _fit_rows(
        self, rows: Sequence[FeatureRow], keys: Sequence[Sequence[str]], encoded: np.ndarray
    ) -> None:
        n_numeric = len(NUMERIC_FEATURE_NAMES)
        numeric = np.array([row.numeric for row in rows], dtype=float)
        groups: list[str] = [group for _, group in NUMERIC_FEATURES]
        self.history_: _History | None = None
        history_groups: tuple[str, ...] = ()
        if self.history:
            history_groups = self.history_groups(keys)
            numeric = np.hstack([numeric, self.out_of_fold_history(keys, encoded, history_groups)])
            self.history_ = _History(
                keys,
                encoded,
                n_classes=len(self.labels),
                groups=history_groups,
                strength=self.history_strength,
            )
            for group in history_groups:
                groups.extend([group] * (len(self.labels) + 1))
        self.n_dense_ = numeric.shape[1]
        self.scaler_ = StandardScaler().fit(numeric)
        # History columns are centred but not rescaled: a column that barely varies out of fold
        # (one topic for every claim) would otherwise be blown up into a large, spurious effect.
        self.scaler_.scale_[n_numeric:] = 1.0

        self.token_vectorizer_: CountVectorizer | None = CountVectorizer(
            analyzer=_identity_tokens, binary=True, min_df=self.min_df, dtype=np.float64
        )
        try:
            self.token_vectorizer_.fit([row.tokens for row in rows])
            tokens = self.token_vectorizer_.get_feature_names_out()
            groups.extend(token_group(str(token)) for token in tokens)
        except ValueError:  # no token frequent enough
            self.token_vectorizer_ = None

        self.word_vectorizer_ = self._text_vectorizer(
            rows, word_ngrams, self.word_ngram_range, WORDING, groups
        )
        self.char_vectorizer_ = self._text_vectorizer(
            rows, char_ngrams, self.char_ngram_range, CHARACTERS, groups
        )
        matrix = self._design_matrix(rows, numeric)
        self.n_features_ = matrix.shape[1]
        assert self.n_features_ == len(groups)
        assert len(groups) >= n_numeric
        self.group_names_ = tuple(dict.fromkeys(groups))
        group_id = {name: i for i, name in enumerate(self.group_names_)}
        self.column_group_ = np.array([group_id[name] for name in groups], dtype=np.intp)
        self.baseline_ = np.asarray(matrix.mean(axis=0)).ravel()
        # Reasons from these groups are measured from "unknown", where their raw columns are 0.
        unknown = [
            j for j, (_, group) in enumerate(NUMERIC_FEATURES) if group in EXPLAINED_FROM_UNKNOWN
        ]
        self.baseline_[unknown] = (
            -self.scaler_.mean_[unknown] / self.scaler_.scale_[unknown] * self.numeric_weight
        )
        signs = self._signs(len(groups), history_groups) if self.sign_constraints else None

        folds = self._folds(encoded)
        method = self._calibration_method(len(rows))
        self.calibration_method_ = method
        self.ordinal_ = CalibratedClassifierCV(
            LogisticRegression(C=self.C, max_iter=self.max_iter),
            method=method,
            cv=folds,
        ).fit(matrix, encoded)

        credit = np.array([self.holds_up_[self.labels[i]] for i in encoded])
        binary_matrix, target, weight, binary_folds = _expand_credit(matrix, credit, folds)
        binary_c = self.C if self.binary_C is None else self.binary_C
        self.binary_ = CalibratedClassifierCV(
            SignedLogisticRegression(
                C=binary_c,
                signs=signs,
                max_iter=self.max_iter,
            ),
            method=method,
            cv=binary_folds,
        ).fit(binary_matrix, target, sample_weight=weight)
        _keep_calibration_increasing(self.binary_, binary_matrix, binary_folds)

    def _signs(self, n_columns: int, history_groups: Sequence[str]) -> np.ndarray:
        """+1 / -1 / 0 per design column: the direction each coefficient of P(holds up) is held
        to. Numeric features as ``FEATURE_SIGNS`` says; the outlet's label history by each
        label's credit (a share of held-up labels never lowers the score, of failed ones never
        raises it; partial credits are free); everything else free."""
        signs = np.zeros(n_columns, dtype=np.int8)
        for name, sign in FEATURE_SIGNS.items():
            signs[NUMERIC_FEATURE_INDEX[name]] = sign
        width = len(self.labels) + 1
        for g, group in enumerate(history_groups):
            if group != OUTLET_RECORD:
                continue
            start = len(NUMERIC_FEATURE_NAMES) + g * width
            for k, label in enumerate(self.labels):
                credit = self.holds_up_[label]
                signs[start + k] = 1 if credit >= 1.0 else -1 if credit <= 0.0 else 0
        return signs

    def _text_vectorizer(
        self,
        rows: Sequence[FeatureRow],
        analyzer: Callable[..., list[str]],
        ngram_range: tuple[int, int] | None,
        group: str,
        groups: list[str],
    ) -> TfidfVectorizer | None:
        if ngram_range is None:
            return None
        vectorizer = TfidfVectorizer(
            analyzer=partial(analyzer, ngram_range=tuple(ngram_range)),
            min_df=self.min_df,
            max_features=self.max_features,
            sublinear_tf=True,
            dtype=np.float64,
        )
        try:
            vectorizer.fit([row.text for row in rows])
        except ValueError:  # empty vocabulary
            return None
        groups.extend([group] * len(vectorizer.vocabulary_))
        return vectorizer

    def _dense(self, X: Sequence[ClaimContext], rows: Sequence[FeatureRow]) -> np.ndarray:
        """The numeric features and, with ``history``, the history columns (unscaled)."""
        numeric = np.array([row.numeric for row in rows], dtype=float)
        if self.history_ is None:
            return numeric
        keys = [_history_keys(c, row) for c, row in zip(X, rows, strict=True)]
        return np.hstack([numeric, self.history_.transform(keys)])

    def _design_matrix(self, rows: Sequence[FeatureRow], dense: np.ndarray) -> sp.csr_matrix:
        """The design matrix through the fitted scikit-learn transformers (the reference path)."""
        numeric = self.scaler_.transform(dense)
        blocks: list[sp.spmatrix] = [sp.csr_matrix(numeric * self.numeric_weight)]
        if self.token_vectorizer_ is not None:
            blocks.append(
                self.token_vectorizer_.transform([row.tokens for row in rows]) * self.token_weight
            )
        texts = [row.text for row in rows]
        if self.word_vectorizer_ is not None:
            blocks.append(self.word_vectorizer_.transform(texts) * self.text_weight)
        if self.char_vectorizer_ is not None:
            blocks.append(self.char_vectorizer_.transform(texts) * self.text_weight)
        return sp.hstack(blocks, format="csr", dtype=np.float64)

    def evaluate(self, X: Sequence[ClaimContext], y: Sequence[str]) -> dict[str, float | int | str]:
        """Metrics on verdicted claims the model never trained on, beside the track record's.

        The model's six-way and P(holds up) metrics, and ``track_record_*``: the same binary
        metrics of the cold-start score (the outlet's track record alone) on the same claims,
        which the activation gate compares with.
        """
        contexts = list(X)
        encoded = self.encode(y)
        credit = np.array([self.holds_up_[self.labels[i]] for i in encoded])
        metrics: dict[str, float | int | str] = {"n_holdout": len(contexts)}
        dates = [c.published_at for c in contexts if c.published_at is not None]
        if dates and len(dates) == len(contexts):
            metrics["holdout_from"] = min(dates).isoformat()
            metrics["holdout_to"] = max(dates).isoformat()
        metrics["calibration"] = self.calibration_method_
        metrics.update(
            multiclass_metrics(encoded, self.predict_proba(contexts), n_classes=len(self.labels))
        )
        metrics.update(binary_metrics(credit, self.predict_holds_up(contexts)))
        baseline = binary_metrics(credit, track_record_probability(contexts))
        metrics.update({f"track_record_{key}": value for key, value in baseline.items()})
        return metrics

    def _holdout_metrics(
        self, contexts: Sequence[ClaimContext], encoded: np.ndarray
    ) -> dict[str, float | int | str]:
        metrics = self.evaluate(contexts, [self.labels[i] for i in encoded])
        metrics["holdout"] = "latest by date" if self.time_ordered_ else "stratified random"
        return metrics

    # -- prediction (scikit-learn path) --------------------------------------------------

    def _rows(self, X: Sequence[ClaimContext]) -> list[FeatureRow]:
        return [featurize(c, topic_prior_strength=self.topic_prior_strength) for c in X]

    def predict_proba(self, X: Sequence[ClaimContext]) -> np.ndarray:
        """Class probabilities, columns in ``labels`` order (the scikit-learn path)."""
        rows = self._rows(X)
        matrix = self._design_matrix(rows, self._dense(X, rows))
        proba = self.ordinal_.predict_proba(matrix)
        full = np.zeros((matrix.shape[0], len(self.labels)))
        full[:, np.asarray(self.ordinal_.classes_, dtype=np.intp)] = proba
        return full

    def predict(self, X: Sequence[ClaimContext]) -> np.ndarray:
        """The most probable label of each claim."""
        labels: np.ndarray = np.asarray(self.labels)[np.argmax(self.predict_proba(X), axis=1)]
        return labels

    def predict_holds_up(self, X: Sequence[ClaimContext]) -> np.ndarray:
        """Calibrated P(holds up) per claim (the scikit-learn path)."""
        rows = self._rows(X)
        matrix = self._design_matrix(rows, self._dense(X, rows))
        return np.asarray(self.binary_.predict_proba(matrix)[:, 1])

    # -- prediction (fast path) ----------------------------------------------------------

    def score_claim(self, context: ClaimContext, *, explain: int = 3) -> ClaimScore:
        """One claim through the compiled path, with ``explain`` reasons."""
        return self.compiled_.score_one(context, explain=explain)

    def score_claims(self, contexts: Sequence[ClaimContext]) -> BatchScores:
        """Many claims through the compiled path (arrays, no reasons)."""
        return self.compiled_.score_batch(contexts)

    def explain(self, context: ClaimContext, *, top: int = 5) -> tuple[Contribution, ...]:
        """The ``top`` feature groups that moved this claim's P(holds up) most, in words."""
        return self.compiled_.score_one(context, explain=top).contributions


def _keep_calibration_increasing(
    calibrated: CalibratedClassifierCV,
    matrix: sp.csr_matrix,
    folds: list[tuple[np.ndarray, np.ndarray]],
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


def _expand_credit(
    matrix: sp.csr_matrix, credit: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray | None, list[tuple[np.ndarray, np.ndarray]]]:
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


def track_record_probability(contexts: Sequence[ClaimContext]) -> np.ndarray:
    """P(holds up) as the service's cold start gives it: the outlet's track record at claim time
    (its posterior mean; the uninformative 0.5 without one)."""
    return np.array(
        [GLOBAL_PRIOR_MEAN if c.outlet_record is None else c.outlet_record.mean for c in contexts]
    )


def cold_start_score(
    context: ClaimContext, *, topic_prior_strength: float = DEFAULT_PRIOR_STRENGTH
) -> ClaimScore:
    """A score from the track record alone, for before any model is trained.

    P(holds up) is the outlet's record on the claim's topics (shrunk toward its overall record)
    or its overall record, with that posterior's credible interval; an outlet with no record
    gets the uninformative prior and the grade "unrated".
    """
    row = featurize(context, topic_prior_strength=topic_prior_strength)
    record = row.topic_record or context.outlet_record
    if record is None:
        record = posterior(0.0, 0.0, GLOBAL_PRIOR_MEAN, DEFAULT_PRIOR_STRENGTH)
    group = TOPIC_RECORD if row.topic_record is not None else OUTLET_RECORD
    rated = context.outlet_record is not None and context.outlet_record.rated
    return ClaimScore(
        probability=record.mean,
        low=record.low,
        high=record.high,
        grade=grade_for(record.mean, rated=rated),
        class_probabilities={},
        contributions=(
            Contribution(group, describe(group, context, row), record.mean - GLOBAL_PRIOR_MEAN),
        ),
        model_sd=0.0,
        track_record_sd=_beta_sd(record),
    )
