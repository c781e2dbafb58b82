"""The fixed structure of a reconciliation's claims (candidates, independent reports, sort orders
for interval support), built once per fit, and the round maths that reads no parameter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.arrays import factorize, segment_starts, sort_order, sorted_unique
from scoring.reconcile._claims import BoolArray, ClaimTable, FloatArray, IntArray


@dataclass(frozen=True)
class Structure:
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


@dataclass
class Pooling:
    """Sources that learn their prior from a group: the group of each source (-1: none), the
    group's pooled evidence and successes of the last round, and per claim its (event, group)
    slot (-1: ungrouped), so that a claim's own event can be left out of its group's mean."""

    group: IntArray
    slot: IntArray
    evidence: FloatArray
    correct: FloatArray


def build_structure(table: ClaimTable, event_tolerance: FloatArray) -> Structure:
    """The claims in canonical order with everything each round of the fit reuses."""
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
    return Structure(
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


def pooling(s: Structure, learned_group: IntArray, n_groups: int) -> Pooling:
    """Each claim's (event, learned group) slot, for leaving its own event out of the group."""
    claim_group = learned_group[s.source]
    slot = np.full(s.event.shape[0], -1, dtype=np.int64)
    grouped = claim_group >= 0
    if grouped.any():
        _, slot[grouped] = factorize(s.event[grouped] * np.int64(n_groups) + claim_group[grouped])
    return Pooling(
        group=learned_group, slot=slot, evidence=np.zeros(n_groups), correct=np.zeros(n_groups)
    )


def posteriors(
    s: Structure, votes: FloatArray, support: FloatArray
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
