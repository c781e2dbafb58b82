"""Source dependence: which sources copy one another, learned from the values they share.

Dong, Berti-Equille and Srivastava (VLDB 2009, "Integrating conflicting data: the role of source
dependence"): two independent sources seldom make the *same mistake*, so sources that keep
sharing false (or rare) values are probably copying, and a value a copier repeats is not new
evidence. Sharing *true* values is weak evidence either way: accurate independent sources agree
on the truth all the time.

For a pair of sources that report on common items, with accuracies ``A1``, ``A2`` and ``q`` the
probability that a shared value is true, one item gives:

* independent: same value ``q A1 A2 + (1 - q) (1 - A1)(1 - A2) r``; different values otherwise;
  ``r`` is how often two independent wrong reports coincide, measured on the data (Dong's
  ``1 / n`` assumes wrong values are uniform; real mistakes cluster on a few figures);
* source 2 copies source 1 on a share ``c`` of items: same value
  ``q (c A1 + (1 - c) A1 A2) + (1 - q) (c (1 - A1) + (1 - c)(1 - A1)(1 - A2) r)``, and different
  values only when it did not copy, ``(1 - c)`` times the independent probability.

The log-likelihood ratios add up over the pair's common items, one sum per direction; with a
prior probability ``alpha`` of dependence (split between the two directions) they give the
posterior probability that the pair is dependent and, separately, that the copying runs one way
rather than the other. Sources that gave the same value then share their votes in proportion to
their dependence (``copy_discount``), as declared copies share one vote.

Only pairs that actually co-report are ever looked at: the pairs come from a self-join of each
item's reports, so the cost grows with the claims, not with the square of the sources. A pair
that shares fewer than ``min_common_items`` items is not analysed (one shared item is not a
pattern); items with more than ``max_item_reports`` reports are left out of the self-join (their
pairs grow with the square of their size) and still count as evidence for the estimate.

Pure numpy: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scoring.arrays import factorize

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_TINY = 1e-300


@dataclass(frozen=True)
class CoReports:
    """Every pair of claims by two different sources on one item, grouped by source pair.

    ``first`` and ``second`` index claims, ``first`` the one of the lower source code, so one
    source pair has one orientation everywhere; ``same`` marks instances where both gave the same
    value. ``pairs`` holds the (lower, higher) source codes of each distinct pair, ``common`` how
    many items the pair shares and ``differing`` on how many of them they gave different values.
    """

    first: IntArray
    second: IntArray
    pair: IntArray
    same: BoolArray
    pairs: IntArray
    common: IntArray
    differing: FloatArray
    # The instances with the same value, kept apart: every round works on them alone.
    same_first: IntArray
    same_second: IntArray
    same_pair: IntArray

    @property
    def n_pairs(self) -> int:
        return int(self.pairs.shape[0])


def co_reports(
    event: IntArray,
    source: IntArray,
    candidate: IntArray,
    group: IntArray,
    n_sources: int,
    max_item_reports: int,
    min_common_items: int,
) -> CoReports:
    """All co-reporting claim pairs, for claims sorted by (event, source).

    ``group`` is each claim's independent report: claims of one report (declared copies, one
    source's figures) are never compared with each other.
    """
    n = event.shape[0]
    unsorted = (event[1:] < event[:-1]) | ((event[1:] == event[:-1]) & (source[1:] < source[:-1]))
    if n and unsorted.any():
        raise ValueError("claims must be sorted by event, then source")
    starts = np.flatnonzero(np.concatenate(([True], event[1:] != event[:-1])) if n else [])
    sizes = np.diff(np.concatenate((starts, [n]))).astype(np.int64)
    # Per claim: its position in its item and how many claims follow it there.
    size_of = np.repeat(sizes, sizes)
    position = np.arange(n, dtype=np.int64) - np.repeat(starts, sizes)
    partners = np.where(size_of <= max_item_reports, size_of - 1 - position, 0)
    total = int(partners.sum())
    first = np.repeat(np.arange(n, dtype=np.int64), partners)
    offset = np.repeat(np.cumsum(partners) - partners, partners)
    second = first + 1 + (np.arange(total, dtype=np.int64) - offset)
    keep = (source[first] != source[second]) & (group[first] != group[second])
    first = first[keep]
    second = second[keep]
    distinct, pair = factorize(source[first] * np.int64(n_sources) + source[second])
    # One item counts once per pair even when a source gave it several figures: each instance
    # counts 1 / (figures of the one source there x figures of the other).
    report_start = np.concatenate(([True], (event[1:] != event[:-1]) | (source[1:] != source[:-1])))
    report = np.cumsum(report_start) - 1
    figures = np.bincount(report).astype(np.float64)
    share = 1.0 / (figures[report[first]] * figures[report[second]])
    common = np.rint(np.bincount(pair, share, minlength=distinct.shape[0])).astype(np.int64)
    wanted = common >= min_common_items
    kept = wanted[pair]
    renumber = np.cumsum(wanted) - 1
    first, second, pair = first[kept], second[kept], renumber[pair[kept]]
    distinct, common = distinct[wanted], common[wanted]
    same = candidate[first] == candidate[second]
    same_index = np.flatnonzero(same)
    return CoReports(
        same_first=first[same_index],
        same_second=second[same_index],
        same_pair=pair[same_index],
        first=first,
        second=second,
        pair=pair,
        same=same,
        pairs=np.stack((distinct // n_sources, distinct % n_sources), axis=1).astype(np.int64),
        common=common.astype(np.int64),
        differing=np.bincount(pair[~same], minlength=distinct.shape[0]).astype(np.float64),
    )


def false_coincidence(co: CoReports, value_truth: FloatArray, dependent: FloatArray) -> float:
    """How often two independent wrong reports of one item give the same wrong value.

    Wrong values are not uniform: a near miss or an outdated figure is made by many sources at
    once. Measured over co-reporting pairs, each weighted by the probability that both values are
    false and that the pair is independent (from the previous round), with one pseudo-pair of
    each kind so that it stays inside (0, 1).
    """
    both_false = (1.0 - value_truth[co.first]) * (1.0 - value_truth[co.second])
    if dependent.shape[0]:
        both_false = both_false * (1.0 - dependent[co.pair])
    agree = float(both_false[co.same].sum())
    return (agree + 1.0) / (float(both_false.sum()) + 2.0)


def pair_log_likelihood_ratios(
    co: CoReports,
    accuracy: FloatArray,
    value_truth: FloatArray,
    coincidence: float,
    copy_rate: float,
) -> tuple[FloatArray, FloatArray]:
    """Summed log-likelihood ratios (dependent / independent) per source pair, one per direction.

    Returns ``(second_copies_first, first_copies_second)``, where "first" is the pair's lower
    source code. ``accuracy`` is per claim (the accuracy of the claim's source), ``value_truth``
    per claim the probability that its value is true, ``coincidence`` the probability that two
    independent wrong reports agree (``false_coincidence``).
    """
    c = copy_rate
    first, second = co.same_first, co.same_second
    a1 = accuracy[first]
    a2 = accuracy[second]
    q = np.clip(value_truth[first], 0.0, 1.0)
    same_true = a1 * a2
    same_false = (1.0 - a1) * (1.0 - a2) * coincidence
    independent = np.log(np.maximum(q * same_true + (1.0 - q) * same_false, _TINY))
    keep = (1.0 - c) * same_false
    # The copier repeats its original's value, true with the original's accuracy.
    copies_first = q * (c * a1 + (1.0 - c) * same_true) + (1.0 - q) * (c * (1.0 - a1) + keep)
    copies_second = q * (c * a2 + (1.0 - c) * same_true) + (1.0 - q) * (c * (1.0 - a2) + keep)
    # Different values: the copier did not copy there, (1 - c) times the independent chance.
    differing = co.differing * math.log1p(-c)
    pair = co.same_pair
    return (
        differing
        + np.bincount(
            pair, np.log(np.maximum(copies_first, _TINY)) - independent, minlength=co.n_pairs
        ),
        differing
        + np.bincount(
            pair, np.log(np.maximum(copies_second, _TINY)) - independent, minlength=co.n_pairs
        ),
    )


def dependence_posterior(
    second_copies_first: FloatArray, first_copies_second: FloatArray, prior: float
) -> tuple[FloatArray, FloatArray]:
    """P(dependent) per pair and P(the second source copies the first | dependent)."""
    half = math.log(prior / 2.0)
    log_one = half + second_copies_first
    log_two = half + first_copies_second
    log_none = math.log1p(-prior)
    top = np.maximum(np.maximum(log_one, log_two), log_none)
    one = np.exp(log_one - top)
    two = np.exp(log_two - top)
    none = np.exp(log_none - top)
    dependent = (one + two) / (one + two + none)
    direction = one / np.maximum(one + two, _TINY)
    return dependent, direction


def learn_dependence_rate(
    second_copies_first: FloatArray,
    first_copies_second: FloatArray,
    *,
    start: float,
    ceiling: float,
    rounds: int = 30,
) -> float:
    """The prior share of dependent pairs, by empirical Bayes: the fixed point of "the prior is
    the mean posterior" for these likelihood ratios (EM on a two-part mixture), within
    [1e-4, ceiling]. A data set where few pairs look dependent gets a small prior, so that one or
    two shared values between rarely co-reporting sources do not brand them copiers."""
    rate = start
    if second_copies_first.shape[0] == 0:
        return rate
    # Either direction, each half the prior: the log-likelihood ratio of "dependent". One scalar
    # is learned, so an evenly spaced sample of at most 50,000 pairs serves as well as all.
    step = max(1, second_copies_first.shape[0] // 50_000)
    combined = np.logaddexp(second_copies_first[::step], first_copies_second[::step]) - math.log(
        2.0
    )
    for _ in range(rounds):
        logit = math.log(rate) - math.log1p(-rate)
        updated = float(
            np.clip(np.mean(0.5 * (1.0 + np.tanh(0.5 * (combined + logit)))), 1e-4, ceiling)
        )
        if abs(updated - rate) < 1e-5:
            return updated
        rate = updated
    return rate


def copy_discount(
    co: CoReports,
    dependent: FloatArray,
    copy_rate: float,
    n_claims: int,
) -> FloatArray:
    """Per claim, the share of its vote that is its own: ``1 / (1 + sum c P(dependent))`` over
    the sources that gave the same value.

    Sources that copy one another share a vote, as declared copies do: ``k`` sources that surely
    copy one another carry ``k / (1 + (k - 1) c)`` votes together (about 1.2 for any ``k`` at
    ``c = 0.8``, the part above one being what copiers add of their own), never less than one.
    No source is singled out as the original, so the cut cannot swing between two of near-equal
    accuracy from one round to the next.
    """
    p = copy_rate * dependent[co.same_pair]
    overlap = np.bincount(co.same_first, p, minlength=n_claims) + np.bincount(
        co.same_second, p, minlength=n_claims
    )
    factor: FloatArray = (1.0 / (1.0 + overlap)).astype(np.float64)
    return factor
