"""Outlet reliability: a Beta-Binomial track record with time decay and hierarchical shrinkage.

Every piece of evidence about an outlet (a verdict on one of its claims, or a historical record an
admin entered: verified / refuted report counts, corrections, retractions, an external rating) is
turned into pseudo-successes and pseudo-failures with a date. Evidence is weighted by
0.5 ** (age / half_life) at the moment of scoring, and nothing dated after that moment counts.

The decayed counts update a Beta prior whose mean comes from the level above (topic -> outlet ->
outlet kind -> global) and whose strength is a fixed number of pseudo-observations, so an outlet
with little evidence sits near its kind's mean and one with none is "unrated" rather than credible.

Pure functions on numbers: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy.special import betaincinv

from scoring.contributions import Contribution
from scoring.wording import count_noun, outlet_kind_plural

SECONDS_PER_DAY = 86_400.0
DEFAULT_HALF_LIFE_DAYS = 730.0
DEFAULT_PRIOR_STRENGTH = 4.0
DEFAULT_CREDIBLE_LEVEL = 0.90
# Below this much decayed evidence an outlet is reported as unrated, whatever its mean.
DEFAULT_MIN_RATED_EVIDENCE = 1.0
# The global mean itself is shrunk toward an uninformative 0.5 by this many pseudo-observations.
GLOBAL_PRIOR_MEAN = 0.5
GLOBAL_PRIOR_STRENGTH = 2.0


class Rating(StrEnum):
    """The ordinal verdict scale, plus "unverifiable" which carries no evidence either way."""

    TRUE = "true"
    MOSTLY_TRUE = "mostly-true"
    MIXED = "mixed"
    MOSTLY_FALSE = "mostly-false"
    FALSE = "false"
    UNVERIFIABLE = "unverifiable"


# How much of one claim "held up" under each rating: the scale's points, evenly spaced.
RATING_CREDIT: dict[Rating, float] = {
    Rating.TRUE: 1.0,
    Rating.MOSTLY_TRUE: 0.75,
    Rating.MIXED: 0.5,
    Rating.MOSTLY_FALSE: 0.25,
    Rating.FALSE: 0.0,
}

# An external factual-reporting rating (Media Bias/Fact Check's scale and its synonyms) maps to a
# mean; it stands for EXTERNAL_RATING_WEIGHT observations, no more, because it is second-hand.
EXTERNAL_RATING_MEAN: dict[str, float] = {
    "very-high": 0.92,
    "high": 0.85,
    "mostly-factual": 0.72,
    "mixed": 0.5,
    "low": 0.3,
    "very-low": 0.15,
}
EXTERNAL_RATING_WEIGHT = 6.0
# A correction admits an error in a report that was otherwise kept: half a refuted report.
CORRECTION_FAILURE_WEIGHT = 0.5


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    UNRATED = "unrated"


# Lower bounds of each grade band on P(holds up).
GRADE_BANDS: tuple[tuple[float, Grade], ...] = (
    (0.80, Grade.A),
    (0.65, Grade.B),
    (0.50, Grade.C),
    (0.35, Grade.D),
    (0.0, Grade.E),
)

GRADE_MEANING: dict[Grade, str] = {
    Grade.A: "likely to hold up",
    Grade.B: "more likely than not to hold up",
    Grade.C: "uncertain, leaning to hold up",
    Grade.D: "uncertain, leaning not to hold up",
    Grade.E: "unlikely to hold up",
    Grade.UNRATED: "no track record: treat as unknown, not as credible",
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """Pseudo-counts from one source of evidence, dated when it became known."""

    successes: float
    failures: float
    known_at: datetime
    label: str = "verdict"

    def __post_init__(self) -> None:
        if self.successes < 0 or self.failures < 0:
            raise ValueError("evidence counts must be non-negative")
        if not (math.isfinite(self.successes) and math.isfinite(self.failures)):
            raise ValueError("evidence counts must be finite")


@dataclass(frozen=True, slots=True)
class Reliability:
    """A Beta posterior summarised: mean, equal-tailed credible interval, evidence behind it."""

    mean: float
    low: float
    high: float
    alpha: float
    beta: float
    evidence: float
    prior_mean: float
    prior_strength: float
    rated: bool
    level: float = DEFAULT_CREDIBLE_LEVEL
    breakdown: tuple[EvidenceSummary, ...] = field(default=())

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True, slots=True)
class EvidenceSummary:
    """Decayed totals of the evidence sharing one label, for explanations."""

    label: str
    successes: float
    failures: float
    raw_count: int


def evidence_from_rating(rating: Rating | str, known_at: datetime) -> Evidence | None:
    """One verdict as evidence; ``None`` for unverifiable, which says nothing about the outlet."""
    rating = Rating(rating)
    if rating is Rating.UNVERIFIABLE:
        return None
    credit = RATING_CREDIT[rating]
    return Evidence(credit, 1.0 - credit, known_at, "verdict")


def evidence_from_history(
    *,
    known_at: datetime,
    verified: int = 0,
    refuted: int = 0,
    corrections: int = 0,
    retractions: int = 0,
    external_rating: str | None = None,
    label: str = "historical record",
) -> Evidence:
    """An admin-entered historical record as pseudo-counts.

    Verified reports count as held up, refuted and retracted ones as not, a correction as half a
    refuted report; an external rating stands for ``EXTERNAL_RATING_WEIGHT`` observations at its
    mapped mean.
    """
    if min(verified, refuted, corrections, retractions) < 0:
        raise ValueError("historical counts must be non-negative")
    successes = float(verified)
    failures = float(refuted + retractions) + CORRECTION_FAILURE_WEIGHT * corrections
    if external_rating is not None:
        key = external_rating.strip().lower().replace(" ", "-").replace("_", "-")
        if key not in EXTERNAL_RATING_MEAN:
            raise ValueError(
                f"unknown external rating {external_rating!r}; "
                f"expected one of {', '.join(EXTERNAL_RATING_MEAN)}"
            )
        mean = EXTERNAL_RATING_MEAN[key]
        successes += mean * EXTERNAL_RATING_WEIGHT
        failures += (1.0 - mean) * EXTERNAL_RATING_WEIGHT
    return Evidence(successes, failures, known_at, label)


def decay_weights(ages_days: np.ndarray, half_life_days: float) -> np.ndarray:
    """0.5 ** (age / half_life); evidence from the future (negative age) weighs nothing."""
    if half_life_days <= 0:
        raise ValueError("half-life must be positive")
    ages = np.asarray(ages_days, dtype=float)
    weights = np.exp2(-np.clip(ages, 0.0, None) / half_life_days)
    return np.where(ages < 0, 0.0, weights)


def decayed_counts(
    evidence: Iterable[Evidence], as_of: datetime, half_life_days: float = DEFAULT_HALF_LIFE_DAYS
) -> tuple[float, float, tuple[EvidenceSummary, ...]]:
    """Decayed (successes, failures) known at ``as_of``, with per-label totals."""
    if half_life_days <= 0:
        raise ValueError("half-life must be positive")
    by_label: dict[str, list[float]] = {}
    total_s = total_f = 0.0
    # A plain loop: an outlet has a handful of items, where numpy's per-call cost dominates.
    for item in evidence:
        if item.known_at > as_of:
            continue
        age = (as_of - item.known_at).total_seconds() / SECONDS_PER_DAY
        weight = math.exp2(-age / half_life_days)
        s, f = item.successes * weight, item.failures * weight
        total_s += s
        total_f += f
        totals = by_label.setdefault(item.label, [0.0, 0.0, 0])
        totals[0] += s
        totals[1] += f
        totals[2] += 1
    breakdown = tuple(
        EvidenceSummary(label, s, f, int(n)) for label, (s, f, n) in sorted(by_label.items())
    )
    return total_s, total_f, breakdown


def shrunk_mean(
    successes: float, failures: float, parent_mean: float, strength: float = DEFAULT_PRIOR_STRENGTH
) -> float:
    """Posterior mean of a group, pulled toward its parent's mean by ``strength`` observations."""
    return (successes + parent_mean * strength) / (successes + failures + strength)


def global_mean(counts: Sequence[tuple[float, float]]) -> float:
    """Mean over all outlets' decayed evidence, shrunk toward 0.5 so an empty service is neutral."""
    successes = sum(s for s, _ in counts)
    failures = sum(f for _, f in counts)
    return shrunk_mean(successes, failures, GLOBAL_PRIOR_MEAN, GLOBAL_PRIOR_STRENGTH)


@lru_cache(maxsize=65_536)
def credible_interval(
    alpha: float, beta: float, level: float = DEFAULT_CREDIBLE_LEVEL
) -> tuple[float, float]:
    """Equal-tailed credible interval of Beta(alpha, beta)."""
    tail = (1.0 - level) / 2.0
    # The Beta quantile function itself: scipy.stats' beta.ppf calls it after argument checks
    # that cost far more than the evaluation (docs/scaling.md has the figure).
    # One call for both tails: a ufunc call costs more than the two evaluations.
    low, high = betaincinv(alpha, beta, np.array((tail, 1.0 - tail))).tolist()
    return low, high


def posterior(
    successes: float,
    failures: float,
    prior_mean: float,
    prior_strength: float = DEFAULT_PRIOR_STRENGTH,
    *,
    level: float = DEFAULT_CREDIBLE_LEVEL,
    min_rated_evidence: float = DEFAULT_MIN_RATED_EVIDENCE,
    breakdown: tuple[EvidenceSummary, ...] = (),
) -> Reliability:
    """Beta(prior_mean * strength + s, (1 - prior_mean) * strength + f) summarised."""
    if not 0.0 < prior_mean < 1.0:
        raise ValueError("prior mean must lie strictly between 0 and 1")
    if prior_strength <= 0:
        raise ValueError("prior strength must be positive")
    if successes < 0 or failures < 0:
        raise ValueError("counts must be non-negative")
    alpha = prior_mean * prior_strength + successes
    beta = (1.0 - prior_mean) * prior_strength + failures
    # Rounding keeps the interval cache effective for the many outlets sharing a prior.
    low, high = credible_interval(round(alpha, 9), round(beta, 9), level)
    evidence = successes + failures
    return Reliability(
        mean=alpha / (alpha + beta),
        low=low,
        high=high,
        alpha=alpha,
        beta=beta,
        evidence=evidence,
        prior_mean=prior_mean,
        prior_strength=prior_strength,
        rated=evidence >= min_rated_evidence,
        level=level,
        breakdown=breakdown,
    )


def outlet_reliability(
    evidence: Iterable[Evidence],
    as_of: datetime,
    *,
    kind_mean: float,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    prior_strength: float = DEFAULT_PRIOR_STRENGTH,
    level: float = DEFAULT_CREDIBLE_LEVEL,
    min_rated_evidence: float = DEFAULT_MIN_RATED_EVIDENCE,
) -> Reliability:
    """An outlet's reliability at ``as_of``: its decayed evidence on its kind's prior."""
    successes, failures, breakdown = decayed_counts(evidence, as_of, half_life_days)
    return posterior(
        successes,
        failures,
        kind_mean,
        prior_strength,
        level=level,
        min_rated_evidence=min_rated_evidence,
        breakdown=breakdown,
    )


def grade_for(probability: float, *, rated: bool = True) -> Grade:
    """The grade band of a probability; an outlet without a record is never graded as credible."""
    if not rated:
        return Grade.UNRATED
    for lower_bound, grade in GRADE_BANDS:
        if probability >= lower_bound:
            return grade
    return Grade.E


def decayed_group_totals(
    group_index: np.ndarray,
    successes: np.ndarray,
    failures: np.ndarray,
    known_at_days: np.ndarray,
    as_of_days: float,
    half_life_days: float,
    n_groups: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Decayed successes and failures per group (outlet, kind...) of evidence known at ``as_of``.

    Vectorised twin of ``decayed_counts`` for whole registries: one pass, no Python loop.
    """
    weights = decay_weights(as_of_days - np.asarray(known_at_days, dtype=float), half_life_days)
    s = np.bincount(group_index, weights=successes * weights, minlength=n_groups)
    f = np.bincount(group_index, weights=failures * weights, minlength=n_groups)
    return s, f


# Beyond this many half-lives between the oldest and newest evidence the rescaled weights of
# ``DecayedGroupTotals`` would underflow (float64 reaches 2 ** -1022), so it sums directly.
_MAX_RESCALED_HALF_LIVES = 900.0


class DecayedGroupTotals:
    """``decayed_group_totals`` for many moments: a binary search per moment, not a pass.

    The weight 2 ** ((t_i - as_of) / h) factors into 2 ** ((t_i - newest) / h), fixed per item,
    and 2 ** ((newest - as_of) / h), fixed per query. So with the evidence sorted by time, the
    totals at any moment are a prefix sum (everything known by then) times one factor. The
    prefix sums only add positive terms, so their relative error stays at a few ulps.
    """

    def __init__(
        self,
        group_index: np.ndarray,
        successes: np.ndarray,
        failures: np.ndarray,
        known_at_days: np.ndarray,
        half_life_days: float,
        n_groups: int,
    ) -> None:
        if half_life_days <= 0:
            raise ValueError("half-life must be positive")
        self.half_life_days = float(half_life_days)
        self.n_groups = n_groups
        known = np.asarray(known_at_days, dtype=float)
        order = np.argsort(known, kind="stable")
        self._known = known[order]
        self._newest = float(self._known[-1]) if len(known) else 0.0
        span = (self._newest - float(self._known[0])) if len(known) else 0.0
        self._direct: tuple[np.ndarray, ...] | None = None
        if span / self.half_life_days > _MAX_RESCALED_HALF_LIVES:
            self._direct = (group_index, successes, failures, known)
            return
        scale = np.exp2((self._known - self._newest) / self.half_life_days)
        groups = np.asarray(group_index)[order]
        rows = np.arange(len(known))
        per_item_s = np.zeros((len(known) + 1, n_groups))
        per_item_f = np.zeros((len(known) + 1, n_groups))
        per_item_s[rows + 1, groups] = np.asarray(successes, dtype=float)[order] * scale
        per_item_f[rows + 1, groups] = np.asarray(failures, dtype=float)[order] * scale
        self._cumulative_s = np.cumsum(per_item_s, axis=0)
        self._cumulative_f = np.cumsum(per_item_f, axis=0)
        # Per-row totals over all groups, for ``group_at`` (one lookup instead of a row sum).
        self._cumulative_all_s = np.cumsum(per_item_s.sum(axis=1))
        self._cumulative_all_f = np.cumsum(per_item_f.sum(axis=1))

    def at(self, as_of_days: float) -> tuple[np.ndarray, np.ndarray]:
        """Decayed (successes, failures) per group of the evidence known at ``as_of_days``."""
        if self._direct is not None:
            group_index, successes, failures, known = self._direct
            return decayed_group_totals(
                group_index,
                successes,
                failures,
                known,
                as_of_days,
                self.half_life_days,
                self.n_groups,
            )
        known_count = int(self._known.searchsorted(as_of_days, side="right"))
        if known_count == 0:
            return np.zeros(self.n_groups), np.zeros(self.n_groups)
        factor = 2.0 ** ((self._newest - as_of_days) / self.half_life_days)
        return (
            self._cumulative_s[known_count] * factor,
            self._cumulative_f[known_count] * factor,
        )

    def group_at(self, as_of_days: float, group: int | None) -> GroupTotals:
        """One group's decayed totals and all groups' together, as plain floats.

        What a single score needs, without building per-group arrays (a claim is scored in
        tens of microseconds, where numpy's per-call cost would dominate). ``group`` None
        (a group with no evidence yet) gives zeros for the group.
        """
        if self._direct is not None:
            successes, failures = self.at(as_of_days)
            return GroupTotals(
                float(successes[group]) if group is not None else 0.0,
                float(failures[group]) if group is not None else 0.0,
                float(successes.sum()),
                float(failures.sum()),
            )
        known_count = int(self._known.searchsorted(as_of_days, side="right"))
        if known_count == 0:
            return GroupTotals(0.0, 0.0, 0.0, 0.0)
        factor = 2.0 ** ((self._newest - as_of_days) / self.half_life_days)
        return GroupTotals(
            float(self._cumulative_s[known_count, group]) * factor if group is not None else 0.0,
            float(self._cumulative_f[known_count, group]) * factor if group is not None else 0.0,
            float(self._cumulative_all_s[known_count]) * factor,
            float(self._cumulative_all_f[known_count]) * factor,
        )


class GroupTotals(NamedTuple):
    """Decayed evidence of one group and of all groups at one moment."""

    successes: float
    failures: float
    all_successes: float
    all_failures: float


@dataclass(frozen=True, slots=True)
class PopulationPrior:
    """Where an outlet's prior comes from: other outlets of its kind, then all other outlets."""

    global_mean: float
    kind_mean: float
    kind_evidence: float


def population_prior(
    *,
    kind_successes: float,
    kind_failures: float,
    all_successes: float,
    all_failures: float,
    own_successes: float = 0.0,
    own_failures: float = 0.0,
    strength: float = DEFAULT_PRIOR_STRENGTH,
) -> PopulationPrior:
    """Kind mean shrunk to the global mean, both leaving the outlet's own evidence out.

    Leaving it out keeps an outlet from being its own prior: with one outlet of a kind, the kind
    mean would otherwise echo the outlet and shrinkage would mean nothing.
    """
    other_all_s = max(all_successes - own_successes, 0.0)
    other_all_f = max(all_failures - own_failures, 0.0)
    other_kind_s = max(kind_successes - own_successes, 0.0)
    other_kind_f = max(kind_failures - own_failures, 0.0)
    g = shrunk_mean(other_all_s, other_all_f, GLOBAL_PRIOR_MEAN, GLOBAL_PRIOR_STRENGTH)
    k = shrunk_mean(other_kind_s, other_kind_f, g, strength)
    return PopulationPrior(global_mean=g, kind_mean=k, kind_evidence=other_kind_s + other_kind_f)


def reliability_contributions(
    reliability: Reliability, prior: PopulationPrior, kind: str
) -> list[Contribution]:
    """The outlet's mean as the global baseline plus the kind's shift and each evidence label's
    shift.

    posterior mean - prior mean = sum over labels of (s_l - m * n_l) / (a + b), so the parts are
    exact and add up to the reported mean.
    """
    total = reliability.alpha + reliability.beta
    parts = [
        Contribution(
            group="global_baseline",
            description=f"baseline across all other outlets: {prior.global_mean:.2f}",
            effect=prior.global_mean,
        ),
        Contribution(
            group="outlet_kind_prior",
            description=f"{outlet_kind_plural(kind)} (evidence {prior.kind_evidence:.1f}) "
            f"average {prior.kind_mean:.2f}",
            effect=prior.kind_mean - prior.global_mean,
        ),
    ]
    for summary in reliability.breakdown:
        n = summary.successes + summary.failures
        effect = (summary.successes - reliability.prior_mean * n) / total
        held = summary.successes / n if n > 0 else 0.0
        parts.append(
            Contribution(
                group=f"track_record:{summary.label}",
                description=f"{summary.label}: {count_noun(summary.raw_count, 'item')}, "
                f"weight {n:.1f} after decay, "
                f"{held:.0%} held up",
                effect=effect,
            )
        )
    if not reliability.rated:
        parts.append(
            Contribution(
                group="unrated",
                description="no track record: the score is the prior of its kind, "
                "not evidence of credibility",
                effect=0.0,
            )
        )
    return parts
