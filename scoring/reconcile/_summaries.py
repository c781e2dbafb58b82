"""Per-event summaries of a fitted reconciliation: estimate, confidence, status, interval,
clusters and each claim's agreement (``TruthDiscovery``'s summaries, as a mixin)."""

from __future__ import annotations

import numpy as np

from scoring.arrays import sort_order, sorted_unique
from scoring.reconcile._claims import (
    _CONSENSUS,
    _CONTESTED,
    _INSUFFICIENT,
    _NO_REPORTS,
    _UNCERTAIN,
    CONSENSUS_MIN_REPORTS,
    BoolArray,
    ClaimTable,
    FloatArray,
    IntArray,
    _relative_gap,
)
from scoring.reconcile._structure import Structure


class EventSummaries:
    """Summarises the last round of ``TruthDiscovery.fit`` into its fitted attributes."""

    contested_ratio: float
    consensus_confidence: float
    min_vote: float
    cluster_tolerance: float

    # -- summaries -------------------------------------------------------------------------------

    def _summarise(
        self,
        full: ClaimTable,
        superseded: BoolArray,
        s: Structure,
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

    def _clusters(self, s: Structure) -> IntArray:
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
