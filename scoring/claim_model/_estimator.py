"""The claim model estimator (see the package docstring for what it fits)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions

from scoring.claim_model._calibration import Folds, expand_credit, keep_calibration_increasing
from scoring.claim_model._compiled import CompiledClaimModel
from scoring.claim_model._design import ClaimDesign
from scoring.claim_model._score import SERVICE_HOLDS_UP, SERVICE_LABELS, ClaimScore
from scoring.contributions import Contribution
from scoring.features import (
    FEATURE_SIGNS,
    NUMERIC_FEATURE_INDEX,
    NUMERIC_FEATURE_NAMES,
    OUTLET_RECORD,
    ClaimContext,
)
from scoring.linear import SignedLogisticRegression
from scoring.reliability import DEFAULT_PRIOR_STRENGTH


def date_order(contexts: Sequence[ClaimContext]) -> np.ndarray | None:
    """Indices sorting the claims by date, or ``None`` when any claim is undated."""
    dates = [context.published_at for context in contexts]
    known = [date for date in dates if date is not None]
    if not dates or len(known) != len(dates):
        return None
    return np.array(sorted(range(len(known)), key=known.__getitem__), dtype=np.intp)


_POSITIVE = Interval(Real, 0, None, closed="neither")
_NON_NEGATIVE = Interval(Real, 0, None, closed="left")


class ClaimModel(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Calibrated, explained claim scoring over an ordered label set.

    ``labels`` lists the verdicts from best to worst; ``holds_up`` maps labels to how much they
    count as holding up (missing labels count 0; ``None`` means the service's scale, where
    "mixed" counts half). ``fit(X, y)`` takes ``ClaimContext`` objects and label strings.
    """

    _parameter_constraints: dict[str, list[object]] = {
        "labels": [tuple, list],
        "holds_up": [Mapping, None],
        "C": [_POSITIVE],
        "binary_C": [_POSITIVE, None],
        "word_ngram_range": [tuple, None],
        "char_ngram_range": [tuple, None],
        # As scikit-learn's vectorizers take it: a count of claims or a share of them.
        "min_df": [
            Interval(RealNotInt, 0, 1, closed="both"),
            Interval(Integral, 0, None, closed="left"),
        ],
        "max_features": [Interval(Integral, 1, None, closed="left"), None],
        "numeric_weight": [_NON_NEGATIVE],
        "token_weight": [_NON_NEGATIVE],
        "text_weight": [_NON_NEGATIVE],
        "topic_prior_strength": [_POSITIVE],
        "history": ["boolean"],
        "history_strength": [_POSITIVE],
        "history_folds": [Interval(Integral, 2, None, closed="left")],
        "calibration": [StrOptions({"auto", "sigmoid", "isotonic"})],
        "isotonic_min_samples": [Interval(Integral, 0, None, closed="left")],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "interval_level": [Interval(Real, 0, 1, closed="neither")],
        "sign_constraints": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        labels: Sequence[str] = SERVICE_LABELS,
        holds_up: Mapping[str, float] | None = None,
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
        self.interval_level = interval_level
        self.sign_constraints = sign_constraints
        self.max_iter = max_iter
        self.random_state = random_state

    # -- labels --------------------------------------------------------------------------

    def credits(self) -> dict[str, float]:
        """How much each label counts as holding up (``holds_up`` checked against ``labels``)."""
        if len(set(self.labels)) != len(self.labels) or len(self.labels) < 2:
            raise ValueError("labels must be at least two distinct verdicts, best first")
        source = SERVICE_HOLDS_UP if self.holds_up is None else self.holds_up
        unknown = set(source) - set(self.labels)
        if unknown:
            raise ValueError(f"holds_up names labels not in labels: {sorted(unknown)}")
        credit = {label: float(source.get(label, 0.0)) for label in self.labels}
        if any(not 0.0 <= value <= 1.0 for value in credit.values()):
            raise ValueError("holds_up credits must lie in [0, 1]")
        if not any(value > 0 for value in credit.values()) or all(
            value >= 1 for value in credit.values()
        ):
            raise ValueError("holds_up must make some labels hold up and others not")
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

    # -- fitting -------------------------------------------------------------------------

    def _design(self) -> ClaimDesign:
        return ClaimDesign(
            n_classes=len(self.labels),
            topic_prior_strength=self.topic_prior_strength,
            numeric_weight=self.numeric_weight,
            token_weight=self.token_weight,
            text_weight=self.text_weight,
            word_ngram_range=self.word_ngram_range,
            char_ngram_range=self.char_ngram_range,
            min_df=self.min_df,
            max_features=self.max_features,
            history=self.history,
            history_strength=self.history_strength,
            history_folds=self.history_folds,
            random_state=self.random_state,
        )

    @_fit_context(prefer_skip_nested_validation=True)  # type: ignore[untyped-decorator]
    def fit(self, X: Sequence[ClaimContext], y: Sequence[str]) -> ClaimModel:
        """Fit on verdicted claims (measuring it on held-out ones is
        ``scoring.evaluation.holdout``'s work)."""
        self.holds_up_ = self.credits()
        contexts = list(X)
        if len(contexts) != len(y):
            raise ValueError("X and y have different lengths")
        encoded = self.encode(y)
        self.classes_ = np.asarray(self.labels)
        order = date_order(contexts)
        self.time_ordered_ = order is not None
        if order is not None:
            contexts = [contexts[i] for i in order]
            encoded = encoded[order]
        self.design_ = self._design()
        rows, keys = self.design_.featurize(contexts)
        matrix = self.design_.fit_transform(rows, keys, encoded)
        signs = self._signs(matrix.shape[1]) if self.sign_constraints else None

        folds = self._folds(encoded)
        method = self._calibration_method(len(rows))
        self.calibration_method_ = method
        self.ordinal_ = CalibratedClassifierCV(
            LogisticRegression(C=self.C, max_iter=self.max_iter),
            method=method,
            cv=folds,
        ).fit(matrix, encoded)

        credit = np.array([self.holds_up_[self.labels[i]] for i in encoded])
        binary_matrix, target, weight, binary_folds = expand_credit(matrix, credit, folds)
        binary_c = self.C if self.binary_C is None else self.binary_C
        self.binary_ = CalibratedClassifierCV(
            SignedLogisticRegression(C=binary_c, signs=signs, max_iter=self.max_iter),
            method=method,
            cv=binary_folds,
        ).fit(binary_matrix, target, sample_weight=weight)
        keep_calibration_increasing(self.binary_, binary_matrix, binary_folds)
        self.n_train_ = len(rows)
        self.compiled_ = CompiledClaimModel(
            design=self.design_,
            labels=self.labels,
            binary=self.binary_,
            ordinal=self.ordinal_,
            interval_level=self.interval_level,
        )
        return self

    def _folds(self, encoded: np.ndarray) -> Folds:
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

    def _signs(self, n_columns: int) -> np.ndarray:
        """+1 / -1 / 0 per design column: the direction each coefficient of P(holds up) is held
        to. Numeric features as ``FEATURE_SIGNS`` says; the outlet's label history by each
        label's credit (a share of held-up labels never lowers the score, of failed ones never
        raises it; partial credits are free); everything else free."""
        signs = np.zeros(n_columns, dtype=np.int8)
        for name, sign in FEATURE_SIGNS.items():
            signs[NUMERIC_FEATURE_INDEX[name]] = sign
        width = len(self.labels) + 1
        for g, group in enumerate(self.design_.history_groups):
            if group != OUTLET_RECORD:
                continue
            start = len(NUMERIC_FEATURE_NAMES) + g * width
            for k, label in enumerate(self.labels):
                credit = self.holds_up_[label]
                signs[start + k] = 1 if credit >= 1.0 else -1 if credit <= 0.0 else 0
        return signs

    def training_history(
        self, X: Sequence[ClaimContext], y: Sequence[str]
    ) -> tuple[tuple[str, ...], np.ndarray]:
        """Column names and out-of-fold history columns of training claims, as ``fit`` builds
        them for undated claims (for leakage checks); the model need not be fitted."""
        design = self._design()
        _, keys = design.featurize(list(X))
        groups, columns = design.training_history(keys, self.encode(y))
        return design.history_column_names(groups, self.labels), columns

    # -- prediction (scikit-learn path) --------------------------------------------------

    def predict_proba(self, X: Sequence[ClaimContext]) -> np.ndarray:
        """Class probabilities, columns in ``labels`` order (the scikit-learn path)."""
        _, matrix = self.design_.transform(X)
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
        _, matrix = self.design_.transform(X)
        return np.asarray(self.binary_.predict_proba(matrix)[:, 1])

    # -- prediction (compiled path) ------------------------------------------------------

    def score_claim(self, context: ClaimContext, *, explain: int = 3) -> ClaimScore:
        """One claim through the compiled path, with ``explain`` reasons."""
        return self.compiled_.score_one(context, explain=explain)

    def explain(self, context: ClaimContext, *, top: int = 5) -> tuple[Contribution, ...]:
        """The ``top`` feature groups that moved this claim's P(holds up) most, in words."""
        return self.compiled_.score_one(context, explain=top).contributions
