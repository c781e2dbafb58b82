"""Reconciliation: truth discovery over conflicting claims about the same events.

Several sources report a figure for one event (civilians killed by one night's strikes: 37, 42,
78). Which figure does the evidence support, how wide is the plausible range, and is there one
figure at all? A source's word counts for as much as its record of being right, and its record is
learned from every event it reported on, so the estimator fits source accuracies and per-event
consensus together (the truth-discovery family of TruthFinder, ACCU and CRH).

The model is ACCU's Bayesian vote (Dong, Berti-Equille and Srivastava, VLDB 2009) made robust:

* A source with accuracy ``A`` that reports on an event with ``n`` plausible false values casts a
  vote of ``log(n * A / (1 - A))`` for its value: the log-likelihood ratio of that value being true
  given that this source said it. A source no better than chance casts no vote, which is what keeps
  one extreme or vandal source from moving the estimate: its figure simply gathers no support.
* The posterior over the claimed values of an event is the softmax of their summed votes, so the
  consensus is a claimed figure (a count stays a count) and its posterior is a confidence.
* Accuracies are Beta posteriors: a prior (the outlet's track record, or a neutral one) plus, for
  each claim, the probability that the claim is right given the OTHER independent reports of the
  event. Leaving the claim out matters: a source alone on an event confirms only itself, and a
  source whose own vote decides an event would otherwise grade itself. For the same reason a
  source's vote on an event uses its accuracy learned from its other events.

Only independent evidence counts:

* One source, one vote: a source's several claims on one event are one report. With claim times,
  only its latest figure counts (outlets revise tolls); the earlier ones are kept as superseded.
* Declared copies count once: claims that share a copy group (syndicated copies, one owner's
  outlets) split one vote between them.
* Learned copies count once too: sources that keep sharing values, above all the same false
  values, are probably copying (``scoring.dependence``); a copy's vote is cut by the probability
  that it depends on a more accurate source that gave the same value.

Figures: numeric claims may be ranges; a range supports every figure inside it. Figures within a
property's tolerance (learned from the claims' spread, ``scoring.closeness``) lend each other part
of their support. Claims that chain together within a wider tolerance form a cluster; two
clusters of comparable weight mean the evidence supports no single figure ("contested").

Everything runs on flat numpy arrays with group indices: the claim structure (candidates, sort
orders, ranks, co-reporting pairs) is computed once and each iteration is a handful of bincounts
and cumulative sums.

Modules: ``_claims`` (claims, the claim table grouped by event, source and copy group, statuses),
``_structure`` (what every round reuses), ``_estimator`` (the EM fit), ``_summaries`` (estimate,
confidence, status and interval per event), ``_explain`` (results: each claim assessed and
explained).

Pure numpy: no FastAPI, no SQLAlchemy.
"""

from scoring.reconcile._claims import (
    CONSENSUS_CONFIDENCE,
    CONSENSUS_MIN_REPORTS,
    NEUTRAL_RELIABILITY,
    STATUS_MEANING,
    BoolArray,
    CategoricalClaim,
    Claim,
    ClaimTable,
    FloatArray,
    IntArray,
    NumericClaim,
    SourcePrior,
    Status,
)
from scoring.reconcile._estimator import TruthDiscovery, reconcile
from scoring.reconcile._results import (
    ClaimAssessment,
    CompetingFigure,
    Dependency,
    DependentGroup,
    Reconciliation,
)

__all__ = [
    "CONSENSUS_CONFIDENCE",
    "CONSENSUS_MIN_REPORTS",
    "NEUTRAL_RELIABILITY",
    "STATUS_MEANING",
    "BoolArray",
    "CategoricalClaim",
    "Claim",
    "ClaimAssessment",
    "ClaimTable",
    "CompetingFigure",
    "Dependency",
    "DependentGroup",
    "FloatArray",
    "IntArray",
    "NumericClaim",
    "Reconciliation",
    "SourcePrior",
    "Status",
    "TruthDiscovery",
    "reconcile",
]
