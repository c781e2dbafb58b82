"""The EM fit of reconciliation: source accuracies, source dependence and per-event consensus
learned together (see the package docstring)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
from sklearn.base import BaseEstimator

from scoring import closeness, dependence
from scoring.reconcile._claims import (
    _ACCURACY_FLOOR,
    CONSENSUS_CONFIDENCE,
    NEUTRAL_RELIABILITY,
    Claim,
    ClaimTable,
    FloatArray,
    IntArray,
    SourcePrior,
)
from scoring.reconcile._explain import Explanations
from scoring.reconcile._results import (
    Reconciliation,
)
from scoring.reconcile._structure import Pooling, Structure, build_structure, pooling, posteriors


class TruthDiscovery(Explanations, BaseEstimator):  # type: ignore[misc]
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
        structure = build_structure(table, event_tolerance)
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
        pooled = pooling(structure, learned_group, group_mean.shape[0])
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
            posterior, loo = posteriors(structure, votes, support)
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

    def _co_reports(self, s: Structure) -> dependence.CoReports | None:
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
        s: Structure,
        accuracy: FloatArray,
        correct: FloatArray,
        evidence: FloatArray,
        prior_mean: FloatArray,
        prior_strength: FloatArray,
        own_correct: FloatArray,
        pooled: Pooling,
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

    def _votes(
        self, s: Structure, claim_accuracy: FloatArray, copy_weight: FloatArray
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

    def _support(self, s: Structure, votes: FloatArray) -> FloatArray:
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
