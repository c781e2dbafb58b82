"""The claim model: calibrated P(holds up) and ordinal class probabilities, explained, and fast.

``ClaimModel`` (``_estimator``) is a scikit-learn estimator over ``ClaimContext`` objects (see
``scoring.features``). Its design matrix (``_design``, built in that one place) is, in this
column order: the standardised numeric features, the label-history columns (``_history``, with
``history``), indicator tokens (outlet kind, topics, metadata), TF-IDF word n-grams and,
optionally, TF-IDF character n-grams.

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
calibration map is non-decreasing (``_calibration``: a sigmoid fitted with the wrong slope is
flattened), so the directions carry through to the calibrated probability, its fold average and
the compiled scorer.

Both are wrapped in ``CalibratedClassifierCV`` (an ensemble over ``cv`` folds: each fold's model
is fitted on the other folds and calibrated on its own); isotonic calibration when each fold holds
at least ``isotonic_min_samples`` claims, sigmoid otherwise. Folds are contiguous blocks of the
time-sorted claims when every claim has a date, stratified shuffled folds otherwise. ``fit`` only
fits: held-out metrics are ``scoring.evaluation.holdout``'s and ``scoring.model_selection``'s.

Scoring a claim through scikit-learn's sparse pipeline costs milliseconds, so fitting also builds
``compiled_`` (``_compiled``): a ``CompiledClaimModel`` holding the coefficients as one dense
array and the calibration maps as arrays, which scores one claim in plain Python/numpy from
``ClaimDesign.row``. Tests check it agrees with the scikit-learn path.

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

Before any model is trained, ``cold_start_score`` (``_cold_start``) scores from the track record.

Pure Python + numpy + scipy + scikit-learn: no FastAPI, no SQLAlchemy.
"""

from scoring.claim_model._cold_start import cold_start_score, track_record_probability
from scoring.claim_model._compiled import CompiledClaimModel
from scoring.claim_model._design import ClaimDesign
from scoring.claim_model._estimator import ClaimModel, date_order
from scoring.claim_model._score import (
    MODEL_FORMAT_VERSION,
    SERVICE_HOLDS_UP,
    SERVICE_LABELS,
    ClaimScore,
)
from scoring.contributions import Contribution

__all__ = [
    "MODEL_FORMAT_VERSION",
    "SERVICE_HOLDS_UP",
    "SERVICE_LABELS",
    "ClaimDesign",
    "ClaimModel",
    "ClaimScore",
    "CompiledClaimModel",
    "Contribution",
    "cold_start_score",
    "date_order",
    "track_record_probability",
]
