"""Source dependence from shared values: hand-worked cases and the synthetic worlds."""

from __future__ import annotations

import numpy as np
import pytest

from scoring import dependence
from scoring.evaluation.synthetic import WORLDS, majority_estimates, score_world
from scoring.reconcile import TruthDiscovery


def test_co_reports_pairs_sources_that_share_items() -> None:
    # Item 0: sources 0, 1, 2; item 1: sources 0, 1; item 2: source 2 alone.
    event = np.array([0, 0, 0, 1, 1, 2], dtype=np.int64)
    source = np.array([0, 1, 2, 0, 1, 2], dtype=np.int64)
    candidate = np.array([0, 0, 1, 2, 3, 4], dtype=np.int64)
    group = np.arange(6, dtype=np.int64)
    co = dependence.co_reports(event, source, candidate, group, 3, 200, 1)
    assert co.pairs.tolist() == [[0, 1], [0, 2], [1, 2]]
    assert co.common.tolist() == [2, 1, 1]
    assert co.differing.tolist() == [1.0, 1.0, 1.0]
    assert co.same.sum() == 1
    pairs_seen_twice = dependence.co_reports(event, source, candidate, group, 3, 200, 2)
    assert pairs_seen_twice.pairs.tolist() == [[0, 1]]


def test_shared_mistakes_are_evidence_of_copying_and_disagreement_against() -> None:
    event = np.repeat(np.arange(4, dtype=np.int64), 2)
    source = np.tile(np.array([0, 1], dtype=np.int64), 4)
    group = np.arange(8, dtype=np.int64)
    accuracy = np.full(8, 0.8)
    copied = dependence.co_reports(event, source, np.repeat(np.arange(4), 2), group, 2, 200, 2)
    apart = dependence.co_reports(event, source, np.arange(8), group, 2, 200, 2)
    wrong = np.full(8, 0.05)  # the shared values are probably false
    shared, _ = dependence.pair_log_likelihood_ratios(copied, accuracy, wrong, 0.1, 0.8)
    disagreeing, _ = dependence.pair_log_likelihood_ratios(apart, accuracy, wrong, 0.1, 0.8)
    assert shared[0] > 5.0
    assert disagreeing[0] == pytest.approx(4 * np.log(0.2))
    dependent, _ = dependence.dependence_posterior(shared, shared, 0.2)
    assert dependent[0] > 0.99


def test_copies_share_a_vote() -> None:
    event = np.zeros(3, dtype=np.int64)
    source = np.arange(3, dtype=np.int64)
    co = dependence.co_reports(event, source, np.zeros(3, dtype=np.int64), source, 3, 200, 1)
    surely = dependence.copy_discount(co, np.ones(co.n_pairs), 0.8, 3)
    # Three sources surely copying one another carry 3 / (1 + 2 x 0.8) votes together.
    assert surely.sum() == pytest.approx(3 / 2.6)
    independent = dependence.copy_discount(co, np.zeros(co.n_pairs), 0.8, 3)
    assert independent.tolist() == [1.0, 1.0, 1.0]


def test_a_cluster_copying_a_bad_source_is_found_and_outvoted() -> None:
    world = WORLDS["bad-cluster"](0)
    result = score_world(world)
    assert result["majority"] < 0.5  # the cluster wins a plain vote
    assert result["credscore"] > result["majority"] + 0.3
    assert result["precision"] >= 0.8
    assert result["recall"] >= 0.9


def test_accurate_independent_sources_are_not_branded_copiers() -> None:
    world = WORLDS["accurate"](0)
    result = score_world(world)
    assert result["credscore"] >= 0.99
    assert result["detected_pairs"] <= 2
    plain = WORLDS["independent"](0)
    model = TruthDiscovery().fit(plain.table)
    assert float(np.mean(model.estimates_ == plain.truth)) > float(
        np.mean(majority_estimates(plain.table) == plain.truth)
    )


def test_dependence_can_be_turned_off() -> None:
    world = WORLDS["bad-cluster"](0)
    assert TruthDiscovery().fit(world.table).dependencies(0.5)
    model = TruthDiscovery(dependence_prior=0.0).fit(world.table)
    assert model.dependencies() == []
    assert (model.claim_copy_weight_ == 1.0).all()


def test_a_copy_says_whom_it_depends_on() -> None:
    world = WORLDS["bad-cluster"](0)
    model = TruthDiscovery().fit(world.table)
    bad = next(i for i, spec in enumerate(world.specs) if spec.accuracy == 0.3)
    copiers = {f"s{i}" for i, spec in enumerate(world.specs) if spec.original == bad}
    explained = 0
    for event in world.table.events[:50]:
        for claim in model.result(event).claims:
            if claim.source in copiers and claim.depends_on is not None:
                assert claim.dependence > 0.5
                assert claim.own_share < 1.0
                assert any(reason.startswith("likely") for reason in claim.discounts)
                explained += 1
    assert explained > 20
