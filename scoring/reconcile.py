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
  source whose own vote decides an event would otherwise grade itself.
* Copies count once: claims that share a copy group (syndicated or same-owner copies, or several
  reports by one source) split one vote between them and are left out together.
* Numeric claims may be ranges; a range supports every figure inside it. Figures within a small
  relative tolerance of each other (rounding, a typo in the last digit) lend each other part of
  their support. Claims that chain together within a wider tolerance form a cluster; two clusters
  of comparable weight mean the evidence supports no single figure ("contested").

Everything runs on flat numpy arrays with group indices: the claim structure (candidates, sort
orders, ranks) is computed once and each iteration is a handful of bincounts and cumulative sums.

Pure numpy: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, Self

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# A source without a track record is no better or worse than a coin: the neutral prior.
NEUTRAL_RELIABILITY = 0.5
# Accuracies are kept off 0 and 1 so log-odds stay finite however lopsided the evidence.
_ACCURACY_FLOOR = 1e-4


class Status(StrEnum):
    CONSENSUS = "consensus"
    CONTESTED = "contested"
    INSUFFICIENT = "insufficient"


STATUS_MEANING: dict[Status, str] = {
    Status.CONSENSUS: "the credible reports agree on one figure (or within its interval)",
    Status.CONTESTED: "credible reports support far-apart figures of comparable weight",
    Status.INSUFFICIENT: "only one independent report: nothing to reconcile it against",
}

_STATUS_CODES: tuple[Status, ...] = (Status.CONSENSUS, Status.CONTESTED, Status.INSUFFICIENT)


@dataclass(frozen=True, slots=True)
class NumericClaim:
    """A figure one source reported for one event: a single ``value`` or a ``low``-``high`` range.

    ``copy_group`` marks claims that are not independent (a wire story and its syndicated copies,
    outlets with one owner): claims of one event sharing it count as one vote. ``party`` marks a
    source that is party to the conflict the figure is about.
    """

    source: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    copy_group: str | None = None
    party: bool = False

    def __post_init__(self) -> None:
        if self.value is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either value or low/high, not both")
            if not math.isfinite(self.value):
                raise ValueError("value must be finite")
            return
        if self.low is None or self.high is None:
            raise ValueError("a numeric claim needs a value or both low and high")
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("range bounds must be finite")
        if self.low > self.high:
            raise ValueError("low must not exceed high")

    @property
    def bounds(self) -> tuple[float, float]:
        if self.value is not None:
            return float(self.value), float(self.value)
        assert self.low is not None
        assert self.high is not None
        return float(self.low), float(self.high)

    @property
    def point(self) -> float:
        low, high = self.bounds
        return (low + high) / 2.0


@dataclass(frozen=True, slots=True)
class CategoricalClaim:
    """A categorical answer (a name, a list of authors normalised to one string, yes/no)."""

    source: str
    value: str
    copy_group: str | None = None
    party: bool = False


Claim = NumericClaim | CategoricalClaim


@dataclass(frozen=True, slots=True)
class SourcePrior:
    """What is known about a source before these claims: its track record.

    ``reliability`` is the record's mean in (0, 1), ``evidence`` how many observations it stands
    for (``None``: the estimator's ``prior_strength``). A strong record moves little on the claims
    of a few events; a weak one is soon overruled by what the source is seen to get right.
    """

    reliability: float
    evidence: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.reliability < 1.0:
            raise ValueError("reliability must lie strictly between 0 and 1")
        if self.evidence is not None and not (math.isfinite(self.evidence) and self.evidence > 0):
            raise ValueError("evidence must be positive and finite")


@dataclass(frozen=True, slots=True)
class ClaimAssessment:
    """One claim measured against its event's consensus."""

    source: str
    value: float | str
    low: float | None
    high: float | None
    agreement: float
    relative_distance: float
    weight: float
    party: bool
    copy_group: str | None


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The reconciled view of one event.

    ``estimate`` is the best-supported claimed figure, ``confidence`` its posterior probability
    among the claimed figures, ``interval`` the span of the credible reports around it (both
    clusters when contested). ``claims`` follow the input order; ``source_weights`` are the votes
    the sources actually cast here (after party discount and copy sharing).
    """

    kind: Literal["numeric", "categorical"]
    estimate: float | str
    interval: tuple[float, float] | None
    status: Status
    confidence: float
    claims: tuple[ClaimAssessment, ...]
    source_weights: Mapping[str, float]
    parties: tuple[str, ...]
    independent_reports: int

    @property
    def agreements(self) -> tuple[float, ...]:
        return tuple(claim.agreement for claim in self.claims)

    @property
    def relative_distances(self) -> tuple[float, ...]:
        return tuple(claim.relative_distance for claim in self.claims)


@dataclass(frozen=True)
class ClaimTable:
    """Claims of many events as flat arrays: what the estimator works on.

    Codes index ``events``, ``sources`` and ``copy_groups`` (-1: no copy group). Categorical events
    carry their answers as codes into ``categories`` in both ``low`` and ``high``. Loaders of large
    data sets build this directly; ``from_events`` builds it from claim dataclasses.
    """

    event: IntArray
    source: IntArray
    low: FloatArray
    high: FloatArray
    copy_group: IntArray
    party: BoolArray
    events: tuple[Hashable, ...]
    sources: tuple[str, ...]
    copy_groups: tuple[str, ...]
    categorical_events: BoolArray
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = self.event.shape[0]
        for name in ("source", "low", "high", "copy_group", "party"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} must have one entry per claim")
        if self.categorical_events.shape != (len(self.events),):
            raise ValueError("categorical_events must have one entry per event")
        if n and (self.event.min() < 0 or self.event.max() >= len(self.events)):
            raise ValueError("event codes out of range")
        if n and (self.source.min() < 0 or self.source.max() >= len(self.sources)):
            raise ValueError("source codes out of range")
        if not (np.isfinite(self.low).all() and np.isfinite(self.high).all()):
            raise ValueError("claim values must be finite")
        if (self.low > self.high).any():
            raise ValueError("low must not exceed high")

    @property
    def n_claims(self) -> int:
        return int(self.event.shape[0])

    @classmethod
    def from_events(cls, events: Mapping[Any, Sequence[Claim]]) -> ClaimTable:
        """Flatten ``{event: [claims]}``; one event's claims are all numeric or all categorical."""
        event_keys = tuple(events)
        source_index: dict[str, int] = {}
        group_index: dict[str, int] = {}
        category_index: dict[str, int] = {}
        event_codes: list[int] = []
        source_codes: list[int] = []
        lows: list[float] = []
        highs: list[float] = []
        groups: list[int] = []
        parties: list[bool] = []
        categorical = np.zeros(len(event_keys), dtype=bool)
        for code, key in enumerate(event_keys):
            claims = events[key]
            kinds = {isinstance(claim, CategoricalClaim) for claim in claims}
            if len(kinds) > 1:
                raise ValueError(f"event {key!r} mixes numeric and categorical claims")
            categorical[code] = kinds == {True}
            for claim in claims:
                event_codes.append(code)
                source_codes.append(source_index.setdefault(claim.source, len(source_index)))
                if isinstance(claim, CategoricalClaim):
                    low = high = float(category_index.setdefault(claim.value, len(category_index)))
                else:
                    low, high = claim.bounds
                lows.append(low)
                highs.append(high)
                groups.append(
                    -1
                    if claim.copy_group is None
                    else group_index.setdefault(claim.copy_group, len(group_index))
                )
                parties.append(claim.party)
        return cls(
            event=np.asarray(event_codes, dtype=np.int64),
            source=np.asarray(source_codes, dtype=np.int64),
            low=np.asarray(lows, dtype=np.float64),
            high=np.asarray(highs, dtype=np.float64),
            copy_group=np.asarray(groups, dtype=np.int64),
            party=np.asarray(parties, dtype=bool),
            events=event_keys,
            sources=tuple(source_index),
            copy_groups=tuple(group_index),
            categorical_events=categorical,
            categories=tuple(category_index),
        )


def _segment_starts(sorted_keys: IntArray) -> IntArray:
    """Start offsets of the runs of equal keys in a sorted array."""
    if sorted_keys.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
    return np.concatenate(([0], change)).astype(np.int64)


def _relative_gap(a: FloatArray, b: FloatArray) -> FloatArray:
    """|a - b| relative to the larger magnitude; 0 when both are 0."""
    scale = np.maximum(np.abs(a), np.abs(b))
    diff = np.abs(a - b)
    gap: FloatArray = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
    return gap


@dataclass(frozen=True)
class _Structure:
    """Everything about the claims that does not change between iterations."""

    order: IntArray  # canonical claim order -> original index
    n_events: int
    n_sources: int
    event: IntArray
    source: IntArray
    low: FloatArray
    high: FloatArray
    party: BoolArray
    categorical_claim: BoolArray
    indep: IntArray  # independent-report id, unique across events
    indep_size: FloatArray  # claims per independent report
    indep_count: IntArray  # independent reports per event
    cand: IntArray  # candidate of each claim (its own point)
    cand_event: IntArray
    cand_value: FloatArray
    cand_starts: IntArray  # first candidate of each event that has claims
    cand_segment: IntArray  # index into cand_starts of each candidate
    n_false: FloatArray  # false values a source could have given, per claim
    indep_cand: IntArray  # (independent report, candidate) pair of each claim
    shared: BoolArray  # another independent report of the event gives the same figure
    # Interval support: sorted claim orders and, per candidate, positions in them.
    lo_order: IntArray
    hi_order: IntArray
    exact_lo_pos: IntArray
    exact_hi_pos: IntArray
    near_lo_pos: IntArray
    near_hi_pos: IntArray
    lo_event_start: IntArray
    hi_event_start: IntArray


class TruthDiscovery(BaseEstimator):  # type: ignore[misc]
    """Learn source accuracies and per-event consensus together.

    Parameters
    ----------
    prior_strength:
        Pseudo-observations behind a prior that does not state its own evidence, and behind the
        neutral prior of sources without a record.
    party_factor:
        Multiplier on the vote of a claim marked as coming from a party to the conflict.
    tolerance:
        Relative distance under which two figures are the same report up to rounding or a typo;
        such neighbours lend each other ``near_support`` of their vote.
    near_support:
        Share of a vote that counts for figures within ``tolerance`` (exact matches count fully).
    cluster_tolerance:
        Relative gap that separates clusters of figures; also where a claim's agreement with the
        consensus falls to zero.
    contested_ratio:
        An event is contested when another cluster weighs more than this share of the leading one.
    copy_prior, copy_rate:
        Source dependence (Dong, Berti-Equille and Srivastava, VLDB 2009): ``copy_prior`` is the
        prior probability that a source copies figures from other reports rather than finding
        them itself, ``copy_rate`` the share of its claims a copier copies. Evidence that a source
        copies is a figure it shares with other reports that those reports judge false
        (independent sources seldom make the same mistake); a figure no one else gave is evidence
        of independence. A likely copier's vote for a figure someone else also gave is cut by
        ``copy_rate`` times that probability. Off by default (``copy_prior=0``): it helps where
        copiers repeat other reports' mistakes (the synthetic test) but did not improve the
        population and book data sets, and on the scaling benchmark it cost accuracy and did not
        converge within ``max_iter``; ``copy_prior=0.05, copy_rate=0.8`` is the setting tried.
    min_vote:
        Floor on every vote, so that among sources about whom nothing is known the majority
        decides rather than an arbitrary tie-break.
    max_iter, tol:
        Iterate until no accuracy moves by more than ``tol``, at most ``max_iter`` times.
    """

    def __init__(
        self,
        *,
        prior_strength: float = 2.0,
        party_factor: float = 0.5,
        tolerance: float = 0.01,
        near_support: float = 0.5,
        cluster_tolerance: float = 0.25,
        contested_ratio: float = 0.5,
        copy_prior: float = 0.0,
        copy_rate: float = 0.8,
        min_vote: float = 1e-3,
        max_iter: int = 50,
        tol: float = 1e-5,
    ) -> None:
        self.prior_strength = prior_strength
        self.party_factor = party_factor
        self.tolerance = tolerance
        self.near_support = near_support
        self.cluster_tolerance = cluster_tolerance
        self.contested_ratio = contested_ratio
        self.copy_prior = copy_prior
        self.copy_rate = copy_rate
        self.min_vote = min_vote
        self.max_iter = max_iter
        self.tol = tol

    # -- fitting ---------------------------------------------------------------------------------

    def fit(
        self,
        claims: ClaimTable | Mapping[Any, Sequence[Claim]],
        priors: Mapping[str, SourcePrior] | None = None,
        source_groups: Mapping[str, str] | None = None,
    ) -> Self:
        """Fit on the claims of many events.

        ``priors`` are the track records of the sources that have one. ``source_groups`` (an
        outlet kind, registered vs anonymous) let a source without a record start from what its
        group is seen to get right, learned here, instead of from the neutral prior.
        """
        self._check_params()
        table = claims if isinstance(claims, ClaimTable) else ClaimTable.from_events(claims)
        if table.n_claims == 0:
            raise ValueError("nothing to fit: no claims")
        structure = self._structure(table)
        prior_mean, prior_strength, learned_group = self._priors(table, priors, source_groups)
        n_sources = structure.n_sources
        accuracy = prior_mean.copy()
        group_mean = np.full(int(learned_group.max(initial=-1)) + 1, NEUTRAL_RELIABILITY)
        has_group = learned_group >= 0
        evidence: FloatArray = np.zeros(n_sources)
        copying: FloatArray = np.zeros(n_sources)
        copy_weight: FloatArray | None = None
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):  # noqa: B007 - n_iter is reported
            votes = self._votes(structure, accuracy, copy_weight)
            support = self._support(structure, votes)
            posterior, loo = self._posteriors(structure, votes, support)
            if self.copy_prior > 0:
                copying = self._copying(structure, accuracy, loo)
                copy_weight = np.where(
                    structure.shared, 1.0 - self.copy_rate * copying[structure.source], 1.0
                )
            informative = (structure.indep_count[structure.event] >= 2).astype(np.float64)
            evidence = np.bincount(structure.source, informative, minlength=n_sources).astype(
                np.float64
            )
            correct = np.bincount(structure.source, informative * loo, minlength=n_sources)
            if group_mean.shape[0]:
                # A group's mean is pooled over its members' claims, shrunk to neutral.
                group_evidence = np.bincount(
                    learned_group[has_group], evidence[has_group], minlength=group_mean.shape[0]
                )
                group_correct = np.bincount(
                    learned_group[has_group], correct[has_group], minlength=group_mean.shape[0]
                )
                group_mean = (group_correct + self.prior_strength * NEUTRAL_RELIABILITY) / (
                    group_evidence + self.prior_strength
                )
                prior_mean = np.where(
                    has_group, group_mean[np.maximum(learned_group, 0)], prior_mean
                )
            new_accuracy = (correct + prior_strength * prior_mean) / (evidence + prior_strength)
            new_accuracy = np.clip(new_accuracy, _ACCURACY_FLOOR, 1.0 - _ACCURACY_FLOOR)
            change = float(np.max(np.abs(new_accuracy - accuracy), initial=0.0))
            accuracy = new_accuracy
            if change <= self.tol:
                break
        votes = self._votes(structure, accuracy, copy_weight)
        support = self._support(structure, votes)
        posterior, _ = self._posteriors(structure, votes, support)
        self._summarise(table, structure, votes, support, posterior)
        self.n_iter_ = n_iter
        self.table_ = table
        self.sources_ = table.sources
        self.source_accuracy_ = accuracy
        self.source_evidence_ = evidence
        self.source_prior_strength_ = prior_strength
        self.group_accuracy_ = group_mean
        self.source_copying_ = copying
        self.source_weights_ = dict(
            zip(
                table.sources,
                np.maximum(np.log(accuracy / (1.0 - accuracy)), 0.0).tolist(),
                strict=True,
            )
        )
        return self

    def _check_params(self) -> None:
        if not self.prior_strength > 0:
            raise ValueError("prior_strength must be positive")
        if not 0.0 <= self.party_factor <= 1.0:
            raise ValueError("party_factor must lie in [0, 1]")
        if not (self.tolerance >= 0 and self.cluster_tolerance >= self.tolerance):
            raise ValueError("need 0 <= tolerance <= cluster_tolerance")
        if not 0.0 <= self.near_support <= 1.0:
            raise ValueError("near_support must lie in [0, 1]")
        if not self.contested_ratio > 0:
            raise ValueError("contested_ratio must be positive")
        if self.min_vote < 0 or self.max_iter < 1:
            raise ValueError("min_vote must be non-negative and max_iter at least 1")
        if not (0.0 <= self.copy_prior < 1.0 and 0.0 <= self.copy_rate < 1.0):
            raise ValueError("copy_prior and copy_rate must lie in [0, 1)")

    def _priors(
        self,
        table: ClaimTable,
        priors: Mapping[str, SourcePrior] | None,
        source_groups: Mapping[str, str] | None,
    ) -> tuple[FloatArray, FloatArray, IntArray]:
        """Per source: prior mean, prior strength, and the learned group (-1: none) it draws on."""
        n_sources = len(table.sources)
        mean = np.full(n_sources, NEUTRAL_RELIABILITY)
        strength = np.full(n_sources, float(self.prior_strength))
        group = np.full(n_sources, -1, dtype=np.int64)
        group_index: dict[str, int] = {}
        for code, name in enumerate(table.sources):
            prior = priors.get(name) if priors else None
            if prior is not None:
                mean[code] = prior.reliability
                if prior.evidence is not None:
                    strength[code] = prior.evidence
            elif source_groups and name in source_groups:
                group[code] = group_index.setdefault(source_groups[name], len(group_index))
        return mean, strength, group

    def _structure(self, table: ClaimTable) -> _Structure:
        # Canonical order makes every sum, and so every tie-break, independent of input order.
        order = np.lexsort(
            (table.party, table.copy_group, table.high, table.low, table.source, table.event)
        ).astype(np.int64)
        event = table.event[order]
        source = table.source[order]
        low = table.low[order]
        high = table.high[order]
        party = table.party[order]
        copy_group = table.copy_group[order]
        n_events = len(table.events)
        n_claims = event.shape[0]
        categorical_claim = table.categorical_events[event]

        # Independent reports: a copy group, else the source itself (a source repeating itself
        # in one event is still one report).
        n_sources = len(table.sources)
        report_key = np.where(copy_group >= 0, copy_group, len(table.copy_groups) + source)
        key_space = np.int64(len(table.copy_groups) + n_sources)
        _, indep = np.unique(event * key_space + report_key, return_inverse=True)
        indep = indep.reshape(-1).astype(np.int64)
        indep_size = np.bincount(indep).astype(np.float64)
        indep_event = np.zeros(indep_size.shape[0], dtype=np.int64)
        indep_event[indep] = event
        indep_count = np.bincount(indep_event, minlength=n_events).astype(np.int64)

        # Candidates: each claim's point (a range's midpoint), distinct per event.
        point = (low + high) / 2.0
        cand_order = np.lexsort((point, event))
        sorted_event = event[cand_order]
        sorted_point = point[cand_order]
        new = np.ones(n_claims, dtype=bool)
        new[1:] = (sorted_event[1:] != sorted_event[:-1]) | (sorted_point[1:] != sorted_point[:-1])
        cand_sorted = np.cumsum(new) - 1
        cand = np.empty(n_claims, dtype=np.int64)
        cand[cand_order] = cand_sorted
        cand_event = sorted_event[new]
        cand_value = sorted_point[new]
        cand_starts = _segment_starts(cand_event)
        cand_segment = np.cumsum(np.isin(np.arange(cand_event.shape[0]), cand_starts)) - 1
        n_cand_event = np.bincount(cand_event, minlength=n_events)
        # ACCU's n is the number of false values a source could have given. The claimed figures
        # other than the true one are a lower bound; one more stands for those nobody claimed.
        # With n = distinct - 1, fresh sources in a two-figure event would cast no vote at all,
        # and agreement among them could never teach the estimator anything.
        n_false = n_cand_event[event].astype(np.float64)
        _, pair_first, indep_cand = np.unique(
            indep * np.int64(cand_value.shape[0]) + cand, return_index=True, return_inverse=True
        )
        reports_per_cand = np.bincount(cand[pair_first], minlength=cand_value.shape[0])
        shared = reports_per_cand[cand] > 1

        # Support of a candidate v from claim [lo, hi] of its event: full when lo <= v <= hi,
        # near_support when the claim lies within tolerance of v. Counting claims with lo <= x
        # minus claims with hi < y turns both into cumulative sums over two sort orders, with
        # every bound ranked once (events offset so one searchsorted serves all of them).
        cand_tol = np.where(table.categorical_events[cand_event], 0.0, self.tolerance)
        spread = cand_tol * np.abs(cand_value)
        near_low = cand_value - spread
        near_high = cand_value + spread
        ranks_of = np.unique(np.concatenate((low, high, near_low, near_high)))
        stride = np.int64(ranks_of.shape[0] + 1)

        def key(events: IntArray, values: FloatArray) -> IntArray:
            return events * stride + np.searchsorted(ranks_of, values).astype(np.int64)

        lo_keys = key(event, low)
        hi_keys = key(event, high)
        lo_order = np.argsort(lo_keys, kind="stable").astype(np.int64)
        hi_order = np.argsort(hi_keys, kind="stable").astype(np.int64)
        lo_sorted = lo_keys[lo_order]
        hi_sorted = hi_keys[hi_order]
        event_base = cand_event * stride
        exact_lo_pos = np.searchsorted(lo_sorted, key(cand_event, cand_value), side="right")
        exact_hi_pos = np.searchsorted(hi_sorted, key(cand_event, cand_value), side="left")
        near_lo_pos = np.searchsorted(lo_sorted, key(cand_event, near_high), side="right")
        near_hi_pos = np.searchsorted(hi_sorted, key(cand_event, near_low), side="left")
        lo_event_start = np.searchsorted(lo_sorted, event_base, side="left")
        hi_event_start = np.searchsorted(hi_sorted, event_base, side="left")
        return _Structure(
            order=order,
            n_events=n_events,
            n_sources=n_sources,
            event=event,
            source=source,
            low=low,
            high=high,
            party=party,
            categorical_claim=categorical_claim,
            indep=indep,
            indep_size=indep_size,
            indep_count=indep_count,
            cand=cand,
            cand_event=cand_event,
            cand_value=cand_value,
            cand_starts=cand_starts,
            cand_segment=cand_segment.astype(np.int64),
            n_false=n_false,
            indep_cand=indep_cand.reshape(-1).astype(np.int64),
            shared=shared,
            lo_order=lo_order,
            hi_order=hi_order,
            exact_lo_pos=exact_lo_pos.astype(np.int64),
            exact_hi_pos=exact_hi_pos.astype(np.int64),
            near_lo_pos=near_lo_pos.astype(np.int64),
            near_hi_pos=near_hi_pos.astype(np.int64),
            lo_event_start=lo_event_start.astype(np.int64),
            hi_event_start=hi_event_start.astype(np.int64),
        )

    def _copying(self, s: _Structure, accuracy: FloatArray, loo: FloatArray) -> FloatArray:
        """Posterior probability that each source copies, from the figures it shares.

        DEPEN's likelihood ratio of dependence, taken per source against the other reports of
        each event rather than per pair (most sources meet any one other source only once). For
        a claim with ``k`` other reports of mean accuracy ``B``, its figure's posterior ``q``
        from those reports, the source's accuracy ``A`` and ``n`` false figures: independently,
        the claim is a false figure someone else also gave with probability
        ``(1 - q)(1 - A) p``, ``p = 1 - (1 - (1 - B) / n) ** k`` the chance that one of the others
        made the same mistake; a copier repeats one of the others with probability ``c``, a
        mistake with ``1 - B``. Agreeing on the truth counts as no evidence either way (accurate
        independent sources agree on it all the time; counting it would brand every accurate
        source that sides with the majority a copier). A figure no other report gives has
        likelihood ratio ``1 - c``: a copier seldom gives one.
        """
        c = self.copy_rate
        informative = s.indep_count[s.event] >= 2
        a = accuracy[s.source]
        # Mean accuracy of the event's other reports (a report: the mean of its claims).
        report_a = np.bincount(s.indep, accuracy[s.source]) / s.indep_size
        report_event = np.zeros(report_a.shape[0], dtype=np.int64)
        report_event[s.indep] = s.event
        event_a = np.bincount(report_event, report_a, minlength=s.n_events)
        k = np.maximum(s.indep_count[s.event] - 1, 1).astype(np.float64)
        b = np.clip((event_a[s.event] - report_a[s.indep]) / k, 0.0, 1.0)
        q = loo
        one_mistake = np.clip((1.0 - b) / s.n_false, 0.0, 1.0 - 1e-12)
        same_mistake = -np.expm1(k * np.log1p(-one_mistake))
        independent = (1.0 - q) * (1.0 - a) * same_mistake + q * a
        copied = (1.0 - q) * ((1.0 - b) - (1.0 - a) * same_mistake)
        ratio = np.log1p(np.maximum(c * copied, 0.0) / np.maximum(independent, 1e-12))
        evidence = np.where(s.shared, ratio, math.log1p(-c))
        evidence = np.where(informative, evidence, 0.0)
        log_odds = math.log(self.copy_prior / (1.0 - self.copy_prior)) + np.bincount(
            s.source, evidence, minlength=s.n_sources
        )
        copying: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * log_odds))  # logistic, overflow-free
        return copying

    def _votes(
        self, s: _Structure, accuracy: FloatArray, copy_weight: FloatArray | None = None
    ) -> FloatArray:
        """Each claim's share of its report's vote."""
        a = accuracy[s.source]
        vote = np.maximum(np.log(s.n_false) + np.log(a) - np.log1p(-a), 0.0) + self.min_vote
        vote = np.where(s.party, vote * self.party_factor, vote)
        if copy_weight is not None:
            vote = vote * copy_weight
        # A report's vote is the mean of its copies' votes, split between the copies.
        report_vote = np.bincount(s.indep, vote) / s.indep_size
        return report_vote[s.indep] / s.indep_size[s.indep]

    def _support(self, s: _Structure, votes: FloatArray) -> FloatArray:
        """Summed votes behind each candidate figure."""
        lo_cum = np.concatenate(([0.0], np.cumsum(votes[s.lo_order])))
        hi_cum = np.concatenate(([0.0], np.cumsum(votes[s.hi_order])))
        lo_base = lo_cum[s.lo_event_start]
        hi_base = hi_cum[s.hi_event_start]
        exact = (lo_cum[s.exact_lo_pos] - lo_base) - (hi_cum[s.exact_hi_pos] - hi_base)
        near = (lo_cum[s.near_lo_pos] - lo_base) - (hi_cum[s.near_hi_pos] - hi_base)
        # Cumulative sums of floats leave dust where the two counts should cancel.
        exact = np.maximum(exact, 0.0)
        near = np.maximum(near, exact)
        support: FloatArray = exact + self.near_support * (near - exact)
        return support

    def _posteriors(
        self, s: _Structure, votes: FloatArray, support: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Posterior of each candidate, and of each claim's figure with its own report left out."""
        top = np.maximum.reduceat(support, s.cand_starts)[s.cand_segment]
        mass = np.exp(support - top)
        total = np.bincount(s.cand_event, mass, minlength=s.n_events)
        posterior = mass / total[s.cand_event]
        # Leaving a report out changes its own figure's support; the spill-over of its near
        # support onto neighbouring figures is small and ignored.
        own = np.bincount(s.indep_cand, votes)[s.indep_cand]
        claim_support = support[s.cand]
        claim_top = top[s.cand]
        kept = np.exp(claim_support - own - claim_top)
        rest = total[s.event] - mass[s.cand] + kept
        loo = np.divide(kept, rest, out=np.zeros_like(kept), where=rest > 0)
        return posterior, np.clip(loo, 0.0, 1.0)

    # -- summaries -------------------------------------------------------------------------------

    def _summarise(
        self,
        table: ClaimTable,
        s: _Structure,
        votes: FloatArray,
        support: FloatArray,
        posterior: FloatArray,
    ) -> None:
        n_events = s.n_events
        has_claims = np.bincount(s.event, minlength=n_events) > 0
        # Best candidate: highest support, ties to the first (lowest figure) in canonical order.
        # Supports within float dust of the top are ties: cumulative sums taken in another claim
        # order differ in the last bits, and the estimate must not depend on claim order.
        top = np.maximum.reduceat(support, s.cand_starts)[s.cand_segment]
        at_top = np.flatnonzero(support >= top - 1e-9 * np.maximum(1.0, np.abs(top)))
        first = np.ones(at_top.shape[0], dtype=bool)
        first[1:] = s.cand_event[at_top[1:]] != s.cand_event[at_top[:-1]]
        best = np.full(n_events, -1, dtype=np.int64)
        best[s.cand_event[at_top[first]]] = at_top[first]
        estimate = np.full(n_events, np.nan)
        confidence = np.full(n_events, np.nan)
        estimate[has_claims] = s.cand_value[best[has_claims]]
        confidence[has_claims] = posterior[best[has_claims]]

        # Distance of each claim's range from the estimate, relative to the larger magnitude.
        est = estimate[s.event]
        nearest = np.clip(est, s.low, s.high)
        distance = _relative_gap(est, nearest)
        categorical = s.categorical_claim
        distance = np.where(categorical, (nearest != est).astype(np.float64), distance)
        if self.cluster_tolerance > 0:
            agreement = np.clip(1.0 - distance / self.cluster_tolerance, 0.0, 1.0)
        else:
            agreement = (distance == 0).astype(np.float64)
        agreement = np.where(categorical, 1.0 - distance, agreement)

        cluster = self._clusters(s)
        cluster_weight = np.bincount(cluster, votes)
        cluster_event = np.zeros(cluster_weight.shape[0], dtype=np.int64)
        cluster_event[cluster] = s.event
        best_claim = np.flatnonzero(
            (s.cand == best[s.event]) & (best[s.event] >= 0)
        )  # claims whose own figure is the estimate
        lead = np.full(n_events, -1, dtype=np.int64)
        lead[s.event[best_claim]] = cluster[best_claim]
        # A range containing the estimate may be the only claim: fall back to the nearest claim.
        missing = has_claims & (lead < 0)
        if missing.any():
            closest = np.lexsort((distance, s.event))
            first_of_event = closest[_segment_starts(s.event[closest])]
            lead[s.event[first_of_event]] = np.where(
                missing[s.event[first_of_event]],
                cluster[first_of_event],
                lead[s.event[first_of_event]],
            )
        lead_weight = np.zeros(n_events)
        lead_weight[has_claims] = cluster_weight[lead[has_claims]]
        rival = cluster_weight > self.contested_ratio * lead_weight[cluster_event]
        rival[lead[has_claims]] = False
        contested = np.bincount(cluster_event[rival], minlength=n_events) > 0
        status = np.zeros(n_events, dtype=np.int64)
        status[contested] = 1
        status[s.indep_count < 2] = 2

        # Interval: the credible claims of the leading cluster, and of its rivals if contested.
        in_span = rival.copy()
        in_span[lead[has_claims]] = True
        span_claim = in_span[cluster] & ~categorical
        weighty = votes > self.min_vote * 1.5
        cluster_has_weight = np.bincount(cluster, weighty.astype(np.float64)) > 0
        span_claim &= weighty | ~cluster_has_weight[cluster]
        low = np.full(n_events, np.inf)
        high = np.full(n_events, -np.inf)
        np.minimum.at(low, s.event[span_claim], s.low[span_claim])
        np.maximum.at(high, s.event[span_claim], s.high[span_claim])
        numeric_event = has_claims & ~table.categorical_events
        low = np.where(numeric_event, np.minimum(low, estimate), np.nan)
        high = np.where(numeric_event, np.maximum(high, estimate), np.nan)

        inverse = np.empty_like(s.order)
        inverse[s.order] = np.arange(s.order.shape[0])
        self.events_ = table.events
        self.estimates_ = estimate
        self.confidence_ = confidence
        self.intervals_ = np.stack((low, high), axis=1)
        self.status_ = status
        self.has_claims_ = has_claims
        self.claim_agreement_ = agreement[inverse]
        self.claim_distance_ = distance[inverse]
        self.claim_votes_ = votes[inverse]
        self.independent_reports_ = s.indep_count

    def _clusters(self, s: _Structure) -> IntArray:
        """Single-linkage clusters of claims per event, in canonical claim order."""
        by_low = np.lexsort((s.high, s.low, s.event))
        event = s.event[by_low]
        low = s.low[by_low]
        high = s.high[by_low]
        # Running maximum of `high` within each event: ranks offset by event keep it segmented.
        ranks_of = np.unique(high)
        stride = np.int64(ranks_of.shape[0] + 1)
        running = np.maximum.accumulate(event * stride + np.searchsorted(ranks_of, high))
        reach = ranks_of[running - event * stride]
        previous_reach = np.empty_like(reach)
        previous_reach[1:] = reach[:-1]
        gap_tol = np.where(s.categorical_claim[by_low], 0.0, self.cluster_tolerance)
        new = np.ones(event.shape[0], dtype=bool)
        if event.shape[0] > 1:
            gap = _relative_gap(low[1:], previous_reach[1:])
            new[1:] = (event[1:] != event[:-1]) | (
                (low[1:] > previous_reach[1:]) & (gap > gap_tol[1:])
            )
        cluster = np.empty(event.shape[0], dtype=np.int64)
        cluster[by_low] = np.cumsum(new) - 1
        return cluster

    # -- results ---------------------------------------------------------------------------------

    def result(self, event: Hashable) -> Reconciliation:
        """The reconciliation of one fitted event."""
        code = self._event_code(event)
        table: ClaimTable = self.table_
        if not self.has_claims_[code]:
            raise ValueError(f"event {event!r} has no claims")
        claim_index = np.flatnonzero(table.event == code)
        categorical = bool(table.categorical_events[code])
        assessments = []
        weights: dict[str, float] = {}
        parties: list[str] = []
        for i in claim_index.tolist():
            name = table.sources[int(table.source[i])]
            group = int(table.copy_group[i])
            low = float(table.low[i])
            high = float(table.high[i])
            value: float | str
            if categorical:
                value = table.categories[int(low)]
            else:
                value = low if low == high else (low + high) / 2.0
            vote = float(self.claim_votes_[i])
            weights[name] = weights.get(name, 0.0) + vote
            if table.party[i] and name not in parties:
                parties.append(name)
            assessments.append(
                ClaimAssessment(
                    source=name,
                    value=value,
                    low=None if categorical else low,
                    high=None if categorical else high,
                    agreement=float(self.claim_agreement_[i]),
                    relative_distance=float(self.claim_distance_[i]),
                    weight=vote,
                    party=bool(table.party[i]),
                    copy_group=None if group < 0 else table.copy_groups[group],
                )
            )
        estimate: float | str
        interval: tuple[float, float] | None
        if categorical:
            estimate = table.categories[int(self.estimates_[code])]
            interval = None
        else:
            estimate = float(self.estimates_[code])
            interval = (float(self.intervals_[code, 0]), float(self.intervals_[code, 1]))
        return Reconciliation(
            kind="categorical" if categorical else "numeric",
            estimate=estimate,
            interval=interval,
            status=_STATUS_CODES[int(self.status_[code])],
            confidence=float(self.confidence_[code]),
            claims=tuple(assessments),
            source_weights=weights,
            parties=tuple(parties),
            independent_reports=int(self.independent_reports_[code]),
        )

    def results(self) -> Iterator[tuple[Hashable, Reconciliation]]:
        for code, event in enumerate(self.events_):
            if self.has_claims_[code]:
                yield event, self.result(event)

    def estimate(self, event: Hashable) -> float | str:
        """The consensus figure of one fitted event (the category for categorical events)."""
        code = self._event_code(event)
        value = float(self.estimates_[code])
        table: ClaimTable = self.table_
        if table.categorical_events[code]:
            return table.categories[int(value)]
        return value

    def learned_priors(self) -> dict[str, SourcePrior]:
        """The fitted accuracies as priors, to reconcile new events with what was learned here."""
        strength = self.source_prior_strength_ + self.source_evidence_
        return {
            name: SourcePrior(float(a), float(k))
            for name, a, k in zip(self.sources_, self.source_accuracy_, strength, strict=True)
        }

    def _event_code(self, event: Hashable) -> int:
        index: dict[Hashable, int] | None = getattr(self, "_event_index", None)
        if index is None:
            index = {key: code for code, key in enumerate(self.events_)}
            self._event_index = index
        try:
            return index[event]
        except KeyError:
            raise KeyError(f"unknown event {event!r}") from None


def reconcile(
    claims: Sequence[Claim],
    priors: Mapping[str, SourcePrior] | None = None,
    **params: Any,
) -> Reconciliation:
    """Reconcile the claims of ONE event.

    ``priors`` are the sources' track records; to use accuracies learned across many events pass
    ``TruthDiscovery.fit(...).learned_priors()`` (merged over the track records as you see fit).
    ``params`` are ``TruthDiscovery`` parameters.
    """
    if not claims:
        raise ValueError("nothing to reconcile: no claims")
    estimator = TruthDiscovery(**params).fit({"event": list(claims)}, priors=priors)
    return estimator.result("event")
