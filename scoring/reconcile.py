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

from scoring import closeness, dependence
from scoring.admiralty import information_credibility
from scoring.arrays import factorize, segment_starts, sort_order, sorted_unique
from scoring.corroboration import Corroboration, Report, corroboration
from scoring.figures import Figure

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# A source without a track record is no better or worse than a coin: the neutral prior.
NEUTRAL_RELIABILITY = 0.5
# Accuracies are kept off 0 and 1 so log-odds stay finite however lopsided the evidence.
_ACCURACY_FLOOR = 1e-4
# The confidence an event's leading figure needs before it is called a consensus: the posterior
# probability, among the claimed figures and "none of them", that the truth lies in its cluster.
CONSENSUS_CONFIDENCE = 0.8
# ... and the independent reports (own vote share at least one half each) that must support it.
CONSENSUS_MIN_REPORTS = 2


class Status(StrEnum):
    CONSENSUS = "consensus"
    CONTESTED = "contested"
    UNCERTAIN = "uncertain"
    INSUFFICIENT = "insufficient"
    NO_REPORTS = "no_reports"


STATUS_MEANING: dict[Status, str] = {
    Status.CONSENSUS: (
        f"at least {CONSENSUS_MIN_REPORTS} independent sources support one figure (or figures "
        f"within its interval) with confidence of at least {CONSENSUS_CONFIDENCE:.0%}"
    ),
    Status.CONTESTED: (
        "far-apart figures have comparable independent support: see the competing figures"
    ),
    Status.UNCERTAIN: (
        f"the leading figure has less than {CONSENSUS_CONFIDENCE:.0%} confidence or fewer than "
        f"{CONSENSUS_MIN_REPORTS} independent sources behind it"
    ),
    Status.INSUFFICIENT: "only one independent source: nothing to reconcile it against",
    Status.NO_REPORTS: "no source has reported a figure for this event yet",
}

_STATUS_CODES: tuple[Status, ...] = (
    Status.CONSENSUS,
    Status.CONTESTED,
    Status.UNCERTAIN,
    Status.INSUFFICIENT,
    Status.NO_REPORTS,
)
_CONSENSUS, _CONTESTED, _UNCERTAIN, _INSUFFICIENT, _NO_REPORTS = range(5)


@dataclass(frozen=True, slots=True)
class NumericClaim:
    """A figure one source reported for one event: ``value``, or ``low``-``high`` (with an
    optional best ``value`` inside).

    ``copy_group`` marks claims that are not independent (a wire story and its syndicated copies,
    outlets with one owner): claims of one event sharing it count as one vote. ``party`` marks a
    source that is party to the conflict the figure is about. ``time`` (any increasing number,
    e.g. a timestamp) orders one source's claims on one event: only the latest counts.
    """

    source: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    copy_group: str | None = None
    party: bool = False
    time: float | None = None

    def __post_init__(self) -> None:
        self.figure  # noqa: B018 - validates

    @property
    def figure(self) -> Figure:
        return Figure(value=self.value, low=self.low, high=self.high)

    @property
    def bounds(self) -> tuple[float, float]:
        return self.figure.bounds

    @property
    def point(self) -> float:
        return self.figure.point


@dataclass(frozen=True, slots=True)
class CategoricalClaim:
    """A categorical answer (a name, a list of authors normalised to one string, yes/no)."""

    source: str
    value: str
    copy_group: str | None = None
    party: bool = False
    time: float | None = None


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
    """One claim measured against its event's consensus.

    ``weight`` is the vote it cast (0 when superseded); ``own_share`` the part of its vote that
    was its own after learned dependence (1: independent); ``depends_on`` the source with the
    same figure it most likely depends on (copies or is copied by), with that ``dependence``
    probability.
    ``discounts`` say in words why its vote counted less than a full one.
    """

    source: str
    value: float | str
    low: float | None
    high: float | None
    agreement: float
    relative_distance: float
    weight: float
    party: bool
    copy_group: str | None
    superseded: bool
    own_share: float
    depends_on: str | None
    dependence: float
    in_leading_cluster: bool
    corroboration: Corroboration
    credibility: int
    discounts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CompetingFigure:
    """One cluster of figures of a contested event, with its posterior support."""

    estimate: float | str
    low: float | None
    high: float | None
    support: float
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DependentGroup:
    """Sources judged to copy one another here (learned), counted as one voice.

    ``probability`` is the weakest link's posterior probability of dependence, ``copier`` the
    source most likely copying where the data tells the direction (else None).
    """

    sources: tuple[str, ...]
    probability: float
    copier: str | None


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The reconciled view of one event.

    ``estimate`` is the best-supported claimed figure, None when contested (see ``competing``);
    ``confidence`` the posterior probability that the truth lies in its cluster, ``interval`` the
    span of the credible reports around it (every competing cluster when contested). ``claims``
    follow the input order; ``source_weights`` are the votes the sources actually cast here
    (after party discount, supersession and copies); ``independent_reports`` counts independent
    sources (copy groups), never claims.
    """

    kind: Literal["numeric", "categorical"]
    estimate: float | str | None
    interval: tuple[float, float] | None
    status: Status
    confidence: float
    claims: tuple[ClaimAssessment, ...]
    source_weights: Mapping[str, float]
    parties: tuple[str, ...]
    independent_reports: int
    competing: tuple[CompetingFigure, ...]
    dependent_groups: tuple[DependentGroup, ...]
    tolerance: float
    leading_figure: float | str

    @property
    def agreements(self) -> tuple[float, ...]:
        return tuple(claim.agreement for claim in self.claims)

    @property
    def relative_distances(self) -> tuple[float, ...]:
        return tuple(claim.relative_distance for claim in self.claims)

    @property
    def supporting_sources(self) -> tuple[str, ...]:
        """Independent sources whose current figure lies in the leading cluster."""
        seen: list[str] = []
        for claim in self.claims:
            if claim.in_leading_cluster and not claim.superseded and claim.source not in seen:
                seen.append(claim.source)
        return tuple(seen)


@dataclass(frozen=True)
class ClaimTable:
    """Claims of many events as flat arrays: what the estimator works on.

    Codes index ``events``, ``sources`` and ``copy_groups`` (-1: no copy group). Categorical events
    carry their answers as codes into ``categories`` in both ``low`` and ``high``. Optional:
    ``point`` (the figure a range stands for, default its middle), ``time`` (orders one source's
    claims on one event; only the latest counts) and ``event_property`` (per event, a code into
    ``properties``: the kind of quantity, whose tolerance is learned separately). Loaders of large
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
    point: FloatArray | None = None
    time: FloatArray | None = None
    event_property: IntArray | None = None
    properties: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = self.event.shape[0]
        for name in ("source", "low", "high", "copy_group", "party"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} must have one entry per claim")
        for name in ("point", "time"):
            array = getattr(self, name)
            if array is not None and (array.shape != (n,) or not np.isfinite(array).all()):
                raise ValueError(f"{name} must have one finite entry per claim")
        if self.categorical_events.shape != (len(self.events),):
            raise ValueError("categorical_events must have one entry per event")
        if self.event_property is not None:
            if self.event_property.shape != (len(self.events),):
                raise ValueError("event_property must have one entry per event")
            if len(self.events) and (
                self.event_property.min() < 0 or self.event_property.max() >= len(self.properties)
            ):
                raise ValueError("event_property codes out of range")
        if n and (self.event.min() < 0 or self.event.max() >= len(self.events)):
            raise ValueError("event codes out of range")
        if n and (self.source.min() < 0 or self.source.max() >= len(self.sources)):
            raise ValueError("source codes out of range")
        if not (np.isfinite(self.low).all() and np.isfinite(self.high).all()):
            raise ValueError("claim values must be finite")
        if (self.low > self.high).any():
            raise ValueError("low must not exceed high")
        if self.point is not None and ((self.point < self.low) | (self.point > self.high)).any():
            raise ValueError("point must lie within low..high")

    @property
    def n_claims(self) -> int:
        return int(self.event.shape[0])

    def points(self) -> FloatArray:
        """The figure each claim stands for: its point, else the middle of its range."""
        if self.point is not None:
            return self.point
        middle: FloatArray = (self.low + self.high) / 2.0
        return middle

    def superseded(self) -> BoolArray:
        """Claims followed by a later claim of the same source on the same event."""
        n = self.n_claims
        if self.time is None or n == 0:
            return np.zeros(n, dtype=bool)
        # Latest last within each (event, source); equal times: the later row is the later claim.
        order = sort_order(self.event, self.source, self.time)
        event = self.event[order]
        source = self.source[order]
        last = np.ones(n, dtype=bool)
        last[:-1] = (event[1:] != event[:-1]) | (source[1:] != source[:-1])
        superseded = np.zeros(n, dtype=bool)
        superseded[order] = ~last
        return superseded

    def subset(self, keep: BoolArray) -> ClaimTable:
        """The same events, sources and groups with only the ``keep`` claims."""
        return ClaimTable(
            event=self.event[keep],
            source=self.source[keep],
            low=self.low[keep],
            high=self.high[keep],
            copy_group=self.copy_group[keep],
            party=self.party[keep],
            events=self.events,
            sources=self.sources,
            copy_groups=self.copy_groups,
            categorical_events=self.categorical_events,
            categories=self.categories,
            point=None if self.point is None else self.point[keep],
            time=None if self.time is None else self.time[keep],
            event_property=self.event_property,
            properties=self.properties,
        )

    @classmethod
    def from_events(
        cls,
        events: Mapping[Any, Sequence[Claim]],
        properties: Mapping[Any, str] | None = None,
    ) -> ClaimTable:
        """Flatten ``{event: [claims]}``; one event's claims are all numeric or all categorical.

        ``properties`` names each event's kind of quantity (events it does not name share one
        unnamed property).
        """
        event_keys = tuple(events)
        source_index: dict[str, int] = {}
        group_index: dict[str, int] = {}
        category_index: dict[str, int] = {}
        property_index: dict[str, int] = {}
        event_codes: list[int] = []
        source_codes: list[int] = []
        lows: list[float] = []
        highs: list[float] = []
        points: list[float] = []
        times: list[float] = []
        groups: list[int] = []
        parties: list[bool] = []
        has_time = False
        categorical = np.zeros(len(event_keys), dtype=bool)
        event_property = np.zeros(len(event_keys), dtype=np.int64)
        for code, key in enumerate(event_keys):
            claims = events[key]
            kinds = {isinstance(claim, CategoricalClaim) for claim in claims}
            if len(kinds) > 1:
                raise ValueError(f"event {key!r} mixes numeric and categorical claims")
            categorical[code] = kinds == {True}
            name = (properties or {}).get(key, "")
            event_property[code] = property_index.setdefault(name, len(property_index))
            for claim in claims:
                event_codes.append(code)
                source_codes.append(source_index.setdefault(claim.source, len(source_index)))
                if isinstance(claim, CategoricalClaim):
                    low = high = point = float(
                        category_index.setdefault(claim.value, len(category_index))
                    )
                else:
                    low, high = claim.bounds
                    point = claim.point
                lows.append(low)
                highs.append(high)
                points.append(point)
                has_time = has_time or claim.time is not None
                times.append(claim.time if claim.time is not None else -math.inf)
                groups.append(
                    -1
                    if claim.copy_group is None
                    else group_index.setdefault(claim.copy_group, len(group_index))
                )
                parties.append(claim.party)
        time = None
        if has_time:
            raw = np.asarray(times, dtype=np.float64)
            # Undated claims count as older than every dated one.
            floor = raw[np.isfinite(raw)].min() - 1.0
            time = np.where(np.isfinite(raw), raw, floor)
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
            point=np.asarray(points, dtype=np.float64),
            time=time,
            event_property=event_property,
            properties=tuple(property_index) or ("",),
        )


def _relative_gap(a: FloatArray, b: FloatArray) -> FloatArray:
    """``figures.relative_gap`` on arrays: |a - b| relative to the larger magnitude."""
    scale = np.maximum(np.abs(a), np.abs(b))
    diff = np.abs(a - b)
    gap: FloatArray = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
    return gap


@dataclass(frozen=True)
class _Structure:
    """Everything about the claims that does not change between iterations."""

    order: IntArray  # canonical claim order -> index in the fitted table
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
    event_tolerance: FloatArray
    slot: IntArray  # (event, source) of each claim: one source's report on one event
    slot_informative: FloatArray  # informative claims per slot
    informative: FloatArray  # 1 where the claim's event has another independent report
    # Interval support: sorted claim orders and, per candidate, positions in them.
    lo_order: IntArray
    hi_order: IntArray
    exact_lo_pos: IntArray
    exact_hi_pos: IntArray
    near_lo_pos: IntArray
    near_hi_pos: IntArray
    lo_event_start: IntArray
    hi_event_start: IntArray


@dataclass(frozen=True, slots=True)
class Dependency:
    """A learned dependence between two sources that co-report on ``common_items`` events.

    ``probability``: posterior probability that they are dependent; ``first_copies``: given that
    they are, the probability that ``first`` copies ``second`` (near 0.5: the data does not tell
    the direction).
    """

    first: str
    second: str
    probability: float
    first_copies: float
    common_items: int


@dataclass
class _Pooling:
    """Sources that learn their prior from a group: the group of each source (-1: none), the
    group's pooled evidence and successes of the last round, and per claim its (event, group)
    slot (-1: ungrouped), so that a claim's own event can be left out of its group's mean."""

    group: IntArray
    slot: IntArray
    evidence: FloatArray
    correct: FloatArray


class TruthDiscovery(BaseEstimator):  # type: ignore[misc]
    """Learn source accuracies, source dependence and per-event consensus together.

    Parameters
    ----------
    prior_strength:
        Pseudo-observations behind a prior that does not state its own evidence, and behind the
        neutral prior of sources without a record.
    party_factor:
        Multiplier on the vote of a claim marked as coming from a party to the conflict.
    tolerance:
        Relative distance under which two figures are the same figure up to rounding or noise;
        such neighbours lend each other ``near_support`` of their vote, and corroborate each
        other. ``None`` (the default) learns it per property from the claims' spread
        (``scoring.closeness``), falling back to ``default_tolerance`` where there are too few
        events to tell.
    near_support:
        Share of a vote that counts for figures within the tolerance (exact matches count fully).
    cluster_tolerance:
        Relative gap that separates clusters of figures ("far apart"); also where a claim's
        agreement with the consensus falls to zero.
    contested_ratio:
        An event is contested when another cluster weighs more than this share of the leading one.
    consensus_confidence:
        The confidence the leading cluster needs for the status "consensus".
    dependence_prior, copy_rate:
        Source dependence learned from shared values (``scoring.dependence``; Dong,
        Berti-Equille and Srivastava, VLDB 2009): ``dependence_prior`` is the largest prior
        probability that two co-reporting sources are dependent (the prior itself is learned as
        the share of pairs found dependent), ``copy_rate`` the share of items a copier copies. A
        copy's vote is cut by ``copy_rate`` times the probability that it depends on a more
        accurate source that gave the same value. ``dependence_prior=0`` turns it off.
    min_common_items:
        Pairs of sources that share fewer items than this are not analysed for dependence.
    dependence_every:
        After the first two rounds, dependence is re-learned every this many rounds (it moves
        slowly, and the pairwise step is the costliest of a round).
    max_item_reports:
        Items with more reports than this are left out of the pairwise dependence analysis
        (their pairs grow with the square of their size); they still count for the estimate.
    leave_event_out:
        A source's vote on an event uses its accuracy learned from its *other* events, so a
        source known only from this event cannot vouch for its own figure here.
    pool_unknown:
        Sources with neither a prior nor a group start from the accuracy learned for sources of
        like activity (claims in powers of two) instead of the neutral prior.
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
        tolerance: float | None = None,
        default_tolerance: float = closeness.DEFAULT_TOLERANCE,
        near_support: float = 0.5,
        cluster_tolerance: float = 0.25,
        contested_ratio: float = 0.5,
        consensus_confidence: float = CONSENSUS_CONFIDENCE,
        dependence_prior: float = 0.2,
        copy_rate: float = 0.8,
        max_item_reports: int = 200,
        min_common_items: int = 2,
        dependence_every: int = 3,
        leave_event_out: bool = True,
        pool_unknown: bool = True,
        min_vote: float = 1e-3,
        max_iter: int = 100,
        tol: float = 1e-3,
    ) -> None:
        self.prior_strength = prior_strength
        self.party_factor = party_factor
        self.tolerance = tolerance
        self.default_tolerance = default_tolerance
        self.near_support = near_support
        self.cluster_tolerance = cluster_tolerance
        self.contested_ratio = contested_ratio
        self.consensus_confidence = consensus_confidence
        self.dependence_prior = dependence_prior
        self.copy_rate = copy_rate
        self.max_item_reports = max_item_reports
        self.min_common_items = min_common_items
        self.dependence_every = dependence_every
        self.leave_event_out = leave_event_out
        self.pool_unknown = pool_unknown
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
        full = claims if isinstance(claims, ClaimTable) else ClaimTable.from_events(claims)
        if full.n_claims == 0:
            raise ValueError("nothing to fit: no claims")
        superseded = full.superseded()
        table = full.subset(~superseded) if superseded.any() else full
        property_tolerance, event_tolerance = self._tolerances(table)
        structure = self._structure(table, event_tolerance)
        prior_mean, prior_strength, learned_group = self._priors(table, priors, source_groups)
        n_sources = structure.n_sources
        n_claims = structure.event.shape[0]
        accuracy = prior_mean.copy()
        group_mean = np.full(int(learned_group.max(initial=-1)) + 1, NEUTRAL_RELIABILITY)
        has_group = learned_group >= 0
        evidence: FloatArray = np.zeros(n_sources)
        correct: FloatArray = np.zeros(n_sources)
        informative = structure.informative
        # What each source (and group) can be judged on does not change between rounds.
        informative_per_source = np.bincount(
            structure.source, informative, minlength=n_sources
        ).astype(np.float64)
        group_evidence = np.bincount(
            learned_group[has_group],
            informative_per_source[has_group],
            minlength=group_mean.shape[0],
        ).astype(np.float64)
        own_correct: FloatArray = np.zeros(n_claims)
        pooled = self._pooling(structure, learned_group, group_mean.shape[0])
        co = self._co_reports(structure)
        copy_weight: FloatArray = np.ones(n_claims)
        dependent: FloatArray = np.zeros(co.n_pairs if co is not None else 0)
        direction: FloatArray = np.full(dependent.shape[0], 0.5)
        dependence_rate = self.dependence_prior

        def vote_accuracy() -> FloatArray:
            return self._claim_accuracy(
                structure,
                accuracy,
                correct,
                evidence,
                prior_mean,
                prior_strength,
                own_correct,
                pooled,
            )

        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):
            claim_accuracy = vote_accuracy()
            votes = self._votes(structure, claim_accuracy, copy_weight)
            support = self._support(structure, votes)
            posterior, loo = self._posteriors(structure, votes, support)
            # Dependence is learned from the first round on: with accuracies not yet learned,
            # every pair that agrees more often than chance starts out as one voice, and the
            # rounds that follow separate the sources that are right from those that copy.
            # After two rounds it moves slowly and is re-learned every few.
            if co is not None and (n_iter <= 2 or n_iter % self.dependence_every == 0):
                value_truth = posterior[structure.cand]
                coincidence = dependence.false_coincidence(co, value_truth, dependent)
                ratios = dependence.pair_log_likelihood_ratios(
                    co, claim_accuracy, value_truth, coincidence, self.copy_rate
                )
                dependence_rate = dependence.learn_dependence_rate(
                    *ratios, start=dependence_rate, ceiling=self.dependence_prior
                )
                dependent, direction = dependence.dependence_posterior(*ratios, dependence_rate)
                copy_weight = dependence.copy_discount(co, dependent, self.copy_rate, n_claims)
            own_correct = informative * loo
            evidence = informative_per_source
            correct = np.bincount(structure.source, own_correct, minlength=n_sources).astype(
                np.float64
            )
            if group_mean.shape[0]:
                # A group's mean is pooled over its members' claims, shrunk to neutral.
                group_correct = np.bincount(
                    learned_group[has_group], correct[has_group], minlength=group_mean.shape[0]
                ).astype(np.float64)
                group_mean = (group_correct + self.prior_strength * NEUTRAL_RELIABILITY) / (
                    group_evidence + self.prior_strength
                )
                pooled.evidence, pooled.correct = group_evidence, group_correct
                prior_mean = np.where(
                    has_group, group_mean[np.maximum(learned_group, 0)], prior_mean
                )
            new_accuracy = (correct + prior_strength * prior_mean) / (evidence + prior_strength)
            new_accuracy = np.clip(new_accuracy, _ACCURACY_FLOOR, 1.0 - _ACCURACY_FLOOR)
            change = float(np.max(np.abs(new_accuracy - accuracy), initial=0.0))
            accuracy = new_accuracy
            if change <= self.tol:
                break
        claim_accuracy = vote_accuracy()
        votes = self._votes(structure, claim_accuracy, copy_weight)
        support = self._support(structure, votes)
        self.n_iter_ = n_iter
        self.table_ = full
        self.sources_ = full.sources
        self.source_accuracy_ = accuracy
        self.source_evidence_ = evidence
        self.source_prior_strength_ = prior_strength
        self.group_accuracy_ = group_mean
        self.property_tolerance_ = dict(
            zip(table.properties or ("",), property_tolerance.tolist(), strict=True)
        )
        self.event_tolerance_ = event_tolerance
        self.dependence_rate_ = dependence_rate if co is not None else 0.0
        if co is not None:
            self.pair_sources_ = co.pairs
            self.pair_common_ = co.common
            self.pair_dependence_ = dependent
            self.pair_direction_ = direction
        else:
            self.pair_sources_ = np.zeros((0, 2), dtype=np.int64)
            self.pair_common_ = np.zeros(0, dtype=np.int64)
            self.pair_dependence_ = np.zeros(0)
            self.pair_direction_ = np.zeros(0)
        self.source_weights_ = dict(
            zip(
                full.sources,
                np.maximum(np.log(accuracy / (1.0 - accuracy)), 0.0).tolist(),
                strict=True,
            )
        )
        self._summarise(full, superseded, structure, votes, support, copy_weight, claim_accuracy)
        return self

    def _tolerances(self, table: ClaimTable) -> tuple[FloatArray, FloatArray]:
        """Per property and per event: the tolerance under which figures are the same."""
        n_properties = max(len(table.properties), 1)
        event_property = (
            table.event_property
            if table.event_property is not None
            else np.zeros(len(table.events), dtype=np.int64)
        )
        if self.tolerance is not None:
            per_property = np.full(n_properties, float(self.tolerance))
        else:
            numeric = ~table.categorical_events[table.event]
            per_property = closeness.learn_tolerances(
                table.event[numeric],
                table.points()[numeric],
                np.where(table.categorical_events, -1, event_property),
                n_properties,
                default=self.default_tolerance,
                ceiling=self.cluster_tolerance,
            )
        per_event = np.where(table.categorical_events, 0.0, per_property[event_property])
        return per_property, per_event

    def _pooling(self, s: _Structure, learned_group: IntArray, n_groups: int) -> _Pooling:
        claim_group = learned_group[s.source]
        slot = np.full(s.event.shape[0], -1, dtype=np.int64)
        grouped = claim_group >= 0
        if grouped.any():
            _, slot[grouped] = factorize(
                s.event[grouped] * np.int64(n_groups) + claim_group[grouped]
            )
        return _Pooling(
            group=learned_group, slot=slot, evidence=np.zeros(n_groups), correct=np.zeros(n_groups)
        )

    def _co_reports(self, s: _Structure) -> dependence.CoReports | None:
        if self.dependence_prior <= 0:
            return None
        return dependence.co_reports(
            s.event,
            s.source,
            s.cand,
            s.indep,
            s.n_sources,
            self.max_item_reports,
            self.min_common_items,
        )

    def _claim_accuracy(
        self,
        s: _Structure,
        accuracy: FloatArray,
        correct: FloatArray,
        evidence: FloatArray,
        prior_mean: FloatArray,
        prior_strength: FloatArray,
        own_correct: FloatArray,
        pooled: _Pooling,
    ) -> FloatArray:
        """The accuracy each claim's vote uses: its source's, learned without this event when
        ``leave_event_out`` (a source does not vouch for itself with its own figure here, nor
        through the group mean its figure here helped to learn)."""
        if not self.leave_event_out:
            return accuracy[s.source]
        src = s.source
        if not evidence.any():
            # Before the first round nothing was learned: the prior stands.
            return accuracy[src]
        prior = prior_mean[src]
        grouped = pooled.slot >= 0
        if grouped.any():
            slot = pooled.slot[grouped]
            group = pooled.group[src[grouped]]
            slot_evidence = np.bincount(slot, s.informative[grouped])[slot]
            slot_correct = np.bincount(slot, own_correct[grouped])[slot]
            prior = prior.copy()
            prior[grouped] = (
                pooled.correct[group] - slot_correct + self.prior_strength * NEUTRAL_RELIABILITY
            ) / (pooled.evidence[group] - slot_evidence + self.prior_strength)
        # The claims of one source on one event are left out together.
        own_evidence = s.slot_informative[s.slot]
        own = np.bincount(s.slot, own_correct)[s.slot]
        left_out = (correct[src] - own + prior_strength[src] * prior) / (
            evidence[src] - own_evidence + prior_strength[src]
        )
        result: FloatArray = np.clip(left_out, _ACCURACY_FLOOR, 1.0 - _ACCURACY_FLOOR)
        return result

    def _check_params(self) -> None:
        if not self.prior_strength > 0:
            raise ValueError("prior_strength must be positive")
        if not 0.0 <= self.party_factor <= 1.0:
            raise ValueError("party_factor must lie in [0, 1]")
        if self.tolerance is not None and not 0 <= self.tolerance <= self.cluster_tolerance:
            raise ValueError("need 0 <= tolerance <= cluster_tolerance")
        if not 0 <= self.default_tolerance <= self.cluster_tolerance:
            raise ValueError("need 0 <= default_tolerance <= cluster_tolerance")
        if not 0.0 <= self.near_support <= 1.0:
            raise ValueError("near_support must lie in [0, 1]")
        if not self.contested_ratio > 0:
            raise ValueError("contested_ratio must be positive")
        if not 0.0 < self.consensus_confidence < 1.0:
            raise ValueError("consensus_confidence must lie in (0, 1)")
        if self.min_vote < 0 or self.max_iter < 1:
            raise ValueError("min_vote must be non-negative and max_iter at least 1")
        if not (0.0 <= self.dependence_prior < 1.0 and 0.0 <= self.copy_rate < 1.0):
            raise ValueError("dependence_prior and copy_rate must lie in [0, 1)")
        if self.max_item_reports < 2:
            raise ValueError("max_item_reports must be at least 2")
        if self.min_common_items < 1 or self.dependence_every < 1:
            raise ValueError("min_common_items and dependence_every must be at least 1")

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
        # Sources nobody vouches for start from what sources of like activity are seen to get
        # right: a one-edit account is not a coin until shown otherwise, it is like other one-edit
        # accounts.
        activity = np.floor(np.log2(np.maximum(np.bincount(table.source, minlength=n_sources), 1)))
        for code, name in enumerate(table.sources):
            prior = priors.get(name) if priors else None
            if prior is not None:
                mean[code] = prior.reliability
                if prior.evidence is not None:
                    strength[code] = prior.evidence
            elif source_groups and name in source_groups:
                group[code] = group_index.setdefault(source_groups[name], len(group_index))
            elif self.pool_unknown:
                key = f"\x00activity:{int(activity[code])}"
                group[code] = group_index.setdefault(key, len(group_index))
        return mean, strength, group

    def _structure(self, table: ClaimTable, event_tolerance: FloatArray) -> _Structure:
        # Canonical order makes every sum, and so every tie-break, independent of input order.
        points = table.points()
        order = np.lexsort(
            (
                table.party,
                table.copy_group,
                points,
                table.high,
                table.low,
                table.source,
                table.event,
            )
        ).astype(np.int64)
        event = table.event[order]
        source = table.source[order]
        low = table.low[order]
        high = table.high[order]
        point = points[order]
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
        _, indep = factorize(event * key_space + report_key)
        indep_size = np.bincount(indep).astype(np.float64)
        indep_event = np.zeros(indep_size.shape[0], dtype=np.int64)
        indep_event[indep] = event
        indep_count = np.bincount(indep_event, minlength=n_events).astype(np.int64)

        # Candidates: each claim's point, distinct per event.
        cand_order = sort_order(event, point)
        sorted_event = event[cand_order]
        sorted_point = point[cand_order]
        new = np.ones(n_claims, dtype=bool)
        new[1:] = (sorted_event[1:] != sorted_event[:-1]) | (sorted_point[1:] != sorted_point[:-1])
        cand_sorted = np.cumsum(new) - 1
        cand = np.empty(n_claims, dtype=np.int64)
        cand[cand_order] = cand_sorted
        cand_event = sorted_event[new]
        cand_value = sorted_point[new]
        cand_starts = segment_starts(cand_event)
        cand_segment = np.cumsum(np.isin(np.arange(cand_event.shape[0]), cand_starts)) - 1
        n_cand_event = np.bincount(cand_event, minlength=n_events)
        # ACCU's n is the number of false values a source could have given. The claimed figures
        # other than the true one are a lower bound; one more stands for those nobody claimed.
        # With n = distinct - 1, fresh sources in a two-figure event would cast no vote at all,
        # and agreement among them could never teach the estimator anything.
        n_false = n_cand_event[event].astype(np.float64)
        _, indep_cand = factorize(indep * np.int64(cand_value.shape[0]) + cand)
        _, slot = factorize(event * np.int64(n_sources) + source)
        informative = (indep_count[event] >= 2).astype(np.float64)

        # Support of a candidate v from claim [lo, hi] of its event: full when lo <= v <= hi,
        # near_support when the claim lies within tolerance of v. Counting claims with lo <= x
        # minus claims with hi < y turns both into cumulative sums over two sort orders, with
        # every bound ranked once (events offset so one searchsorted serves all of them).
        spread = event_tolerance[cand_event] * np.abs(cand_value)
        near_low = cand_value - spread
        near_high = cand_value + spread
        exact_only = not spread.any()
        bounds = (low, high) if exact_only else (low, high, near_low, near_high)
        ranks_of = sorted_unique(np.concatenate(bounds))
        stride = np.int64(ranks_of.shape[0] + 1)

        def key(events: IntArray, values: FloatArray) -> IntArray:
            return events * stride + np.searchsorted(ranks_of, values).astype(np.int64)

        lo_keys = key(event, low)
        hi_keys = lo_keys if (low == high).all() else key(event, high)
        lo_order = np.argsort(lo_keys, kind="stable").astype(np.int64)
        hi_order = lo_order if hi_keys is lo_keys else np.argsort(hi_keys, kind="stable")
        hi_order = hi_order.astype(np.int64)
        lo_sorted = lo_keys[lo_order]
        hi_sorted = hi_keys[hi_order]
        event_base = cand_event * stride
        cand_keys = key(cand_event, cand_value)
        exact_lo_pos = np.searchsorted(lo_sorted, cand_keys, side="right")
        exact_hi_pos = np.searchsorted(hi_sorted, cand_keys, side="left")
        if exact_only:
            # No tolerance anywhere: "near" is "exact", no second pair of searches.
            near_lo_pos, near_hi_pos = exact_lo_pos, exact_hi_pos
        else:
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
            indep_cand=indep_cand,
            event_tolerance=event_tolerance,
            slot=slot,
            slot_informative=np.bincount(slot, informative).astype(np.float64),
            informative=informative,
            lo_order=lo_order,
            hi_order=hi_order,
            exact_lo_pos=exact_lo_pos.astype(np.int64),
            exact_hi_pos=exact_hi_pos.astype(np.int64),
            near_lo_pos=near_lo_pos.astype(np.int64),
            near_hi_pos=near_hi_pos.astype(np.int64),
            lo_event_start=lo_event_start.astype(np.int64),
            hi_event_start=hi_event_start.astype(np.int64),
        )

    def _votes(
        self, s: _Structure, claim_accuracy: FloatArray, copy_weight: FloatArray
    ) -> FloatArray:
        """Each claim's share of its report's vote, after party and learned-copy discounts."""
        a = claim_accuracy
        vote = np.maximum(np.log(s.n_false) + np.log(a) - np.log1p(-a), 0.0) + self.min_vote
        vote = np.where(s.party, vote * self.party_factor, vote)
        vote = vote * copy_weight
        # A report's vote is the mean of its copies' votes, split between the copies.
        report_vote = np.bincount(s.indep, vote) / s.indep_size
        votes: FloatArray = report_vote[s.indep] / s.indep_size[s.indep]
        return votes

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

    # -- summaries -------------------------------------------------------------------------------

    def _summarise(
        self,
        full: ClaimTable,
        superseded: BoolArray,
        s: _Structure,
        votes: FloatArray,
        support: FloatArray,
        copy_weight: FloatArray,
        claim_accuracy: FloatArray,
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
        estimate[has_claims] = s.cand_value[best[has_claims]]

        # Posterior over the claimed figures and "none of them" (support 0): one source alone
        # is believed as far as its record goes, never with certainty.
        mass = np.exp(support - top)
        event_top = np.zeros(n_events)
        event_top[s.cand_event] = top
        total = np.bincount(s.cand_event, mass, minlength=n_events) + np.exp(-event_top)
        posterior = mass / total[s.cand_event]

        cluster = self._clusters(s)
        n_clusters = int(cluster.max(initial=-1)) + 1
        cand_cluster = np.zeros(s.cand_value.shape[0], dtype=np.int64)
        cand_cluster[s.cand] = cluster
        cluster_mass = np.bincount(cand_cluster, posterior, minlength=n_clusters)
        cluster_weight = np.bincount(cluster, votes, minlength=n_clusters)
        cluster_event = np.zeros(n_clusters, dtype=np.int64)
        cluster_event[cluster] = s.event
        lead = np.full(n_events, -1, dtype=np.int64)
        lead[has_claims] = cand_cluster[best[has_claims]]
        confidence = np.zeros(n_events)
        confidence[has_claims] = cluster_mass[lead[has_claims]]
        lead_weight = np.zeros(n_events)
        lead_weight[has_claims] = cluster_weight[lead[has_claims]]
        rival = cluster_weight > self.contested_ratio * lead_weight[cluster_event]
        rival[lead[has_claims]] = False
        contested = np.bincount(cluster_event[rival], minlength=n_events) > 0

        # Independent reports behind the leading cluster: each mostly its own voice, with a
        # vote above the floor (a source known to be wrong does not back anything).
        in_lead = cluster == lead[s.event]
        weighty = votes > self.min_vote * 1.5
        backing = (
            np.bincount(
                s.indep[in_lead & weighty & (copy_weight >= 0.5)],
                minlength=s.indep_size.shape[0],
            )
            > 0
        )
        report_event = np.zeros(s.indep_size.shape[0], dtype=np.int64)
        report_event[s.indep] = s.event
        lead_reports = np.bincount(report_event[backing], minlength=n_events)

        status = np.full(n_events, _UNCERTAIN, dtype=np.int64)
        status[
            (confidence >= self.consensus_confidence) & (lead_reports >= CONSENSUS_MIN_REPORTS)
        ] = _CONSENSUS
        status[contested] = _CONTESTED
        status[s.indep_count < 2] = _INSUFFICIENT
        status[~has_claims] = _NO_REPORTS

        # Interval: the credible claims of the leading cluster, and of its rivals if contested.
        in_span = rival.copy()
        in_span[lead[has_claims]] = True
        span_claim = in_span[cluster] & ~s.categorical_claim
        cluster_has_weight = np.bincount(cluster, weighty.astype(np.float64), minlength=n_clusters)
        span_claim &= weighty | ~(cluster_has_weight[cluster] > 0)
        low = np.full(n_events, np.inf)
        high = np.full(n_events, -np.inf)
        np.minimum.at(low, s.event[span_claim], s.low[span_claim])
        np.maximum.at(high, s.event[span_claim], s.high[span_claim])
        numeric_event = has_claims & ~full.categorical_events
        low = np.where(numeric_event, np.minimum(low, estimate), np.nan)
        high = np.where(numeric_event, np.maximum(high, estimate), np.nan)

        # Per claim of the full table: current claims from the fit, superseded ones measured
        # against the estimate with no vote.
        n_full = full.n_claims
        current = np.flatnonzero(~superseded)
        position = current[s.order]  # canonical position -> row of the full table
        est = estimate[full.event]
        nearest = np.clip(est, full.low, full.high)
        distance = _relative_gap(est, nearest)
        categorical = full.categorical_events[full.event]
        distance = np.where(categorical, (nearest != est).astype(np.float64), distance)
        if self.cluster_tolerance > 0:
            agreement = np.clip(1.0 - distance / self.cluster_tolerance, 0.0, 1.0)
        else:
            agreement = (distance == 0).astype(np.float64)
        agreement = np.where(categorical, 1.0 - distance, agreement)
        claim_votes = np.zeros(n_full)
        claim_votes[position] = votes
        claim_share = np.ones(n_full)
        claim_share[position] = copy_weight
        claim_cluster = np.full(n_full, -1, dtype=np.int64)
        claim_cluster[position] = cluster
        claim_in_lead = agreement > 0
        claim_in_lead[position] = in_lead
        claim_vote_accuracy = np.full(n_full, np.nan)
        claim_vote_accuracy[position] = claim_accuracy

        self.events_ = full.events
        self.estimates_ = estimate
        self.confidence_ = confidence
        self.intervals_ = np.stack((low, high), axis=1)
        self.status_ = status
        self.has_claims_ = has_claims
        self.independent_reports_ = s.indep_count
        self.lead_cluster_ = lead
        self.cluster_mass_ = cluster_mass
        self.cluster_rival_ = rival
        self.claim_agreement_ = agreement
        self.claim_distance_ = distance
        self.claim_votes_ = claim_votes
        self.claim_copy_weight_ = claim_share
        self.claim_superseded_ = superseded
        self.claim_cluster_ = claim_cluster
        self.claim_in_leading_cluster_ = claim_in_lead
        self.claim_vote_accuracy_ = claim_vote_accuracy
        self.claim_support_ = np.zeros(n_full)
        self.claim_support_[position] = support[s.cand]

    def _clusters(self, s: _Structure) -> IntArray:
        """Single-linkage clusters of claims per event, in canonical claim order."""
        by_low = sort_order(s.event, s.low, s.high)
        event = s.event[by_low]
        low = s.low[by_low]
        high = s.high[by_low]
        # Running maximum of `high` within each event: ranks offset by event keep it segmented.
        ranks_of = sorted_unique(high)
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
        """The reconciliation of one fitted event, with every claim assessed and explained."""
        code = self._event_code(event)
        table: ClaimTable = self.table_
        if not self.has_claims_[code]:
            raise ValueError(f"event {event!r} has no claims")
        claim_index = np.flatnonzero(table.event == code).tolist()
        categorical = bool(table.categorical_events[code])
        status = _STATUS_CODES[int(self.status_[code])]
        tolerance = float(self.event_tolerance_[code])
        points = table.points()
        names = table.sources

        def label(i: int) -> float | str:
            if categorical:
                return table.categories[int(table.low[i])]
            return float(points[i])

        def figure(i: int) -> Figure:
            low, high = float(table.low[i]), float(table.high[i])
            if low == high:
                return Figure(value=low)
            return Figure(value=float(points[i]), low=low, high=high)

        def group(i: int) -> str:
            copy = int(table.copy_group[i])
            return (
                f"group:{table.copy_groups[copy]}"
                if copy >= 0
                else f"source:{names[int(table.source[i])]}"
            )

        current = [i for i in claim_index if not self.claim_superseded_[i]]
        reports = {i: Report(figure(i), names[int(table.source[i])], group(i)) for i in claim_index}
        group_sizes: dict[str, int] = {}
        for i in current:
            group_sizes[reports[i].group] = group_sizes.get(reports[i].group, 0) + 1
        assessments = []
        weights: dict[str, float] = {}
        parties: list[str] = []
        for i in claim_index:
            name = names[int(table.source[i])]
            vote = float(self.claim_votes_[i])
            superseded = bool(self.claim_superseded_[i])
            if not superseded:
                weights[name] = weights.get(name, 0.0) + vote
            party = bool(table.party[i])
            if party and name not in parties:
                parties.append(name)
            others = [reports[j] for j in current if j != i]
            corroborated = corroboration(reports[i], others, tolerance, self.dependence_between)
            in_lead = bool(self.claim_in_leading_cluster_[i])
            depends_on, depends, dependence_reason = self._dependent_partner(i, current)
            accuracy = float(self.claim_vote_accuracy_[i])
            discounts: list[str] = []
            if superseded:
                discounts.append("superseded by a later figure from the same source")
            if party:
                discounts.append("party to the conflict")
            if not superseded and group_sizes.get(reports[i].group, 0) > 1:
                count = group_sizes[reports[i].group] - 1
                discounts.append(
                    f"declared copy: shares one vote with {count} other report"
                    + ("s" if count != 1 else "")
                )
            if depends_on is not None:
                discounts.append(dependence_reason)
            if not superseded and accuracy < NEUTRAL_RELIABILITY:
                discounts.append(f"weak record (right {accuracy:.0%} of the time)")
            group_code = int(table.copy_group[i])
            assessments.append(
                ClaimAssessment(
                    source=name,
                    value=label(i),
                    low=None if categorical else float(table.low[i]),
                    high=None if categorical else float(table.high[i]),
                    agreement=float(self.claim_agreement_[i]),
                    relative_distance=float(self.claim_distance_[i]),
                    weight=vote,
                    party=party,
                    copy_group=None if group_code < 0 else table.copy_groups[group_code],
                    superseded=superseded,
                    own_share=float(self.claim_copy_weight_[i]),
                    depends_on=depends_on,
                    dependence=depends,
                    in_leading_cluster=in_lead,
                    corroboration=corroborated,
                    credibility=information_credibility(corroborated, status.value, in_lead),
                    discounts=tuple(discounts),
                )
            )
        leading: float | str = (
            table.categories[int(self.estimates_[code])]
            if categorical
            else float(self.estimates_[code])
        )
        interval: tuple[float, float] | None = None
        if not categorical:
            interval = (float(self.intervals_[code, 0]), float(self.intervals_[code, 1]))
        return Reconciliation(
            kind="categorical" if categorical else "numeric",
            estimate=None if status is Status.CONTESTED else leading,
            interval=interval,
            status=status,
            confidence=float(self.confidence_[code]),
            claims=tuple(assessments),
            source_weights=weights,
            parties=tuple(parties),
            independent_reports=int(self.independent_reports_[code]),
            competing=self._competing(code, current, label) if status is Status.CONTESTED else (),
            dependent_groups=self._dependent_groups(current),
            tolerance=tolerance,
            leading_figure=leading,
        )

    def _competing(self, code: int, current: list[int], label: Any) -> tuple[CompetingFigure, ...]:
        """The leading cluster and its rivals, most supported first."""
        table: ClaimTable = self.table_
        clusters = sorted(
            {int(self.claim_cluster_[i]) for i in current},
            key=lambda c: -float(self.cluster_mass_[c]),
        )
        lead = int(self.lead_cluster_[code])
        figures = []
        for cluster in clusters:
            if cluster != lead and not self.cluster_rival_[cluster]:
                continue
            members = [i for i in current if int(self.claim_cluster_[i]) == cluster]
            best = max(members, key=lambda i: (float(self.claim_support_[i]), -i))
            categorical = bool(table.categorical_events[code])
            sources = []
            for i in members:
                name = table.sources[int(table.source[i])]
                if name not in sources:
                    sources.append(name)
            figures.append(
                CompetingFigure(
                    estimate=label(best),
                    low=None if categorical else float(min(table.low[i] for i in members)),
                    high=None if categorical else float(max(table.high[i] for i in members)),
                    support=float(self.cluster_mass_[cluster]),
                    sources=tuple(sources),
                )
            )
        return tuple(figures)

    def _dependent_partner(self, i: int, current: list[int]) -> tuple[str | None, float, str]:
        """The source with the same figure that claim ``i`` most likely depends on, if above one
        half: its name, the probability and the reason in words (who copies whom where the data
        tells the direction)."""
        table: ClaimTable = self.table_
        if self.claim_superseded_[i]:
            return None, 0.0, ""
        mine = int(table.source[i])
        best_other = -1
        best = 0.0
        for j in current:
            other = int(table.source[j])
            if other == mine or table.low[j] != table.low[i] or table.high[j] != table.high[i]:
                continue
            probability = self.dependence_between(table.sources[mine], table.sources[other])
            if probability > best:
                best, best_other = probability, other
        if best <= 0.5:
            return None, best, ""
        name = table.sources[best_other]
        index = self._pair_index()[(min(mine, best_other), max(mine, best_other))]
        # pair_direction_ is P(the higher code copies the lower | dependent).
        second_copies = float(self.pair_direction_[index])
        i_copies = second_copies if mine > best_other else 1.0 - second_copies
        if i_copies >= 0.8:
            reason = f"likely copies {name} (probability {best:.2f})"
        elif i_copies <= 0.2:
            reason = f"likely copied by {name} (probability {best:.2f}); they share one vote"
        else:
            reason = f"likely dependent on {name}, one copying the other (probability {best:.2f})"
        return name, best, reason

    def _dependent_groups(self, current: list[int]) -> tuple[DependentGroup, ...]:
        """Sources of these claims linked by a learned dependence above one half."""
        table: ClaimTable = self.table_
        members = sorted({int(table.source[i]) for i in current})
        parent = {m: m for m in members}

        def root(m: int) -> int:
            while parent[m] != m:
                parent[m] = parent[parent[m]]
                m = parent[m]
            return m

        links: list[tuple[int, int, float, float]] = []
        for a_pos, a in enumerate(members):
            for b in members[a_pos + 1 :]:
                index = self._pair_index().get((a, b))
                if index is None or self.pair_dependence_[index] <= 0.5:
                    continue
                links.append(
                    (a, b, float(self.pair_dependence_[index]), float(self.pair_direction_[index]))
                )
                parent[root(b)] = root(a)
        groups: dict[int, list[int]] = {}
        for m in members:
            groups.setdefault(root(m), []).append(m)
        result = []
        for group_members in groups.values():
            if len(group_members) < 2:
                continue
            own = [link for link in links if link[0] in group_members]
            copier: str | None = None
            if len(group_members) == 2 and own:
                a, b, _, second_copies = own[0]
                if second_copies >= 0.8:
                    copier = table.sources[b]
                elif second_copies <= 0.2:
                    copier = table.sources[a]
            result.append(
                DependentGroup(
                    sources=tuple(table.sources[m] for m in group_members),
                    probability=min(link[2] for link in own),
                    copier=copier,
                )
            )
        return tuple(result)

    def _pair_index(self) -> dict[tuple[int, int], int]:
        index: dict[tuple[int, int], int] | None = getattr(self, "_pairs", None)
        if index is None:
            index = {
                (int(a), int(b)): position
                for position, (a, b) in enumerate(self.pair_sources_.tolist())
            }
            self._pairs = index
        return index

    def dependence_between(self, source: str, other: str) -> float:
        """The learned probability that two sources are dependent (0 if they never co-reported)."""
        codes = self._source_codes()
        a, b = codes.get(source), codes.get(other)
        if a is None or b is None or a == b:
            return 0.0
        index = self._pair_index().get((min(a, b), max(a, b)))
        return 0.0 if index is None else float(self.pair_dependence_[index])

    def _source_codes(self) -> dict[str, int]:
        codes: dict[str, int] | None = getattr(self, "_source_index", None)
        if codes is None:
            codes = {name: code for code, name in enumerate(self.sources_)}
            self._source_index = codes
        return codes

    def results(self) -> Iterator[tuple[Hashable, Reconciliation]]:
        for code, event in enumerate(self.events_):
            if self.has_claims_[code]:
                yield event, self.result(event)

    def estimate(self, event: Hashable) -> float | str:
        """The best-supported figure of one fitted event (the category for categorical events)."""
        code = self._event_code(event)
        value = float(self.estimates_[code])
        table: ClaimTable = self.table_
        if table.categorical_events[code]:
            return table.categories[int(value)]
        return value

    def dependencies(self, min_probability: float = 0.0) -> list[Dependency]:
        """Source pairs with their probability of being dependent, most likely first."""
        keep = np.flatnonzero(self.pair_dependence_ > min_probability)
        keep = keep[np.argsort(-self.pair_dependence_[keep], kind="stable")]
        names = self.sources_
        return [
            Dependency(
                first=names[int(self.pair_sources_[i, 0])],
                second=names[int(self.pair_sources_[i, 1])],
                probability=float(self.pair_dependence_[i]),
                # pair_direction_ is P(second copies first | dependent).
                first_copies=1.0 - float(self.pair_direction_[i]),
                common_items=int(self.pair_common_[i]),
            )
            for i in keep.tolist()
        ]

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
