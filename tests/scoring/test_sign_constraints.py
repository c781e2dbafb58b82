"""The directions a desk expects hold for any claim, even when the training data points the other
way: a better track record never lowers a score; being party to the conflict, a figure far from
the consensus or dependence on another source never raises it; independent corroboration never
lowers it. The reasons carry the same signs."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.claim_model import ClaimModel
from scoring.claim_model._calibration import keep_calibration_increasing
from scoring.features import (
    CONSENSUS,
    CONSENSUS_AGREEMENT,
    CORROBORATION,
    DEPENDENCE,
    PARTY_TO_CONFLICT,
    ClaimContext,
)
from scoring.reliability import Reliability, posterior

WORDS = ("troops", "civilians", "killed", "village", "strike", "convoy", "reportedly", "said")
KINDS = ("wire", "state_media", "ngo_monitor", "activist_network")
TOLERANCE = 1e-9


def adversarial_claims(n: int, seed: int, *, dated: bool) -> tuple[list[ClaimContext], list[str]]:
    """Claims in which every directional fact points the wrong way, besides a true signal from
    the track record and the wording: a constrained model must not learn the wrong directions."""
    rng = np.random.default_rng(seed)
    contexts: list[ClaimContext] = []
    labels: list[str] = []
    start = datetime(2021, 1, 1)
    for i in range(n):
        party = rng.choice([True, False, None])
        corroborations = None if rng.random() < 0.3 else int(rng.integers(0, 5))
        distance = None if rng.random() < 0.3 else float(rng.exponential(0.6))
        dependence = None if rng.random() < 0.4 else float(rng.random())
        record = posterior(float(rng.integers(0, 40)), float(rng.integers(0, 40)), 0.5)
        words = list(rng.choice(WORDS, size=5))
        logit = (
            4.0 * (record.mean - 0.5)
            - 1.0 * ("reportedly" in words)
            + 1.2 * (party is True)
            - 1.0 * bool(corroborations)
            + 1.0 * (distance is not None and distance > 0.5)
            + 1.5 * (dependence or 0.0)
        )
        held = rng.random() < 1.0 / (1.0 + np.exp(-logit))
        labels.append(
            str(rng.choice(["true", "mostly-true"]))
            if held
            else str(rng.choice(["mixed", "mostly-false", "false"]))
        )
        contexts.append(
            ClaimContext(
                text=" ".join(words) + f", {rng.integers(2, 90)} people",
                outlet=f"outlet-{i % 30}",
                outlet_kind=str(rng.choice(KINDS)),
                topics=("conflict",),
                published_at=start + timedelta(hours=i) if dated else None,
                party_to_conflict=None if party is None else bool(party),
                outlet_record=record,
                topic_records={"conflict": posterior(float(rng.integers(0, 9)), 2.0, 0.5)}
                if rng.random() < 0.5
                else {},
                independent_corroborations=corroborations,
                consensus_distance=distance,
                source_dependence=dependence,
            )
        )
    return contexts, labels


@pytest.fixture(scope="module")
def training() -> tuple[list[ClaimContext], list[str]]:
    return adversarial_claims(1600, seed=11, dated=True)


@pytest.fixture(scope="module")
def constrained(training: tuple[list[ClaimContext], list[str]]) -> ClaimModel:
    contexts, labels = training
    return ClaimModel(cv=3).fit(contexts, labels)


@pytest.fixture(scope="module")
def isotonic(training: tuple[list[ClaimContext], list[str]]) -> ClaimModel:
    contexts, labels = training
    model = ClaimModel(cv=2, isotonic_min_samples=500)
    return model.fit(contexts, labels)


@pytest.fixture(scope="module", params=["constrained", "isotonic"])
def model(request: pytest.FixtureRequest) -> ClaimModel:
    """Each property is checked on both calibrations: sigmoid and isotonic."""
    fitted: ClaimModel = request.getfixturevalue(request.param)
    assert (
        fitted.calibration_method_
        == {"constrained": "sigmoid", "isotonic": "isotonic"}[request.param]
    )
    return fitted


def with_changes(context: ClaimContext, **changes: Any) -> ClaimContext:
    fields: dict[str, Any] = {name: getattr(context, name) for name in context.__slots__}
    fields.update(changes)
    return ClaimContext(**fields)


def record_with(evidence: int, held: int) -> Reliability:
    return posterior(float(held), float(evidence - held), 0.5)


claims = st.builds(
    lambda words, figure, kind, evidence, share, topic, party, corroborations, distance, dep: (
        ClaimContext(
            text=" ".join(words) + f" {figure} people",
            outlet=f"outlet-{figure % 40}",
            outlet_kind=kind,
            topics=("conflict",),
            party_to_conflict=party,
            outlet_record=record_with(evidence, round(share * evidence)),
            topic_records={"conflict": posterior(*topic, 0.5)} if topic else {},
            independent_corroborations=corroborations,
            consensus_distance=distance,
            source_dependence=dep,
        )
    ),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=8),
    st.integers(0, 500),
    st.sampled_from((*KINDS, "unknown-kind", None)),
    st.integers(0, 200),
    st.floats(0.0, 1.0),
    st.one_of(st.none(), st.tuples(st.floats(0.0, 30.0), st.floats(0.0, 30.0))),
    st.sampled_from((True, False, None)),
    st.one_of(st.none(), st.integers(0, 20)),
    st.one_of(st.none(), st.floats(-20.0, 20.0)),
    st.one_of(st.none(), st.floats(0.0, 1.0)),
)


def probability(model: ClaimModel, context: ClaimContext) -> float:
    return model.score_claim(context, explain=0).probability


def reasons(model: ClaimModel, context: ClaimContext) -> dict[str, float]:
    return {c.group: c.effect for c in model.score_claim(context, explain=30).contributions}


@given(claim=claims, data=st.data())
def test_a_better_track_record_never_lowers_the_score(
    model: ClaimModel, claim: ClaimContext, data: st.DataObject
) -> None:
    record = claim.outlet_record
    assert record is not None
    evidence = round(record.evidence)
    worse = data.draw(st.integers(0, evidence))
    better = data.draw(st.integers(worse, evidence))
    low = probability(model, with_changes(claim, outlet_record=record_with(evidence, worse)))
    high = probability(model, with_changes(claim, outlet_record=record_with(evidence, better)))
    assert high >= low - TOLERANCE
    # The same for the outlet's record on the claim's topic.
    topic_low = probability(
        model, with_changes(claim, topic_records={"conflict": posterior(2.0, 9.0, 0.5)})
    )
    topic_high = probability(
        model, with_changes(claim, topic_records={"conflict": posterior(9.0, 2.0, 0.5)})
    )
    assert topic_high >= topic_low - TOLERANCE


@given(claim=claims)
def test_being_party_to_the_conflict_never_raises_the_score(
    model: ClaimModel, claim: ClaimContext
) -> None:
    party, unknown, not_party = (
        probability(model, with_changes(claim, party_to_conflict=value))
        for value in (True, None, False)
    )
    assert party <= unknown + TOLERANCE
    assert unknown <= not_party + TOLERANCE
    assert (
        reasons(model, with_changes(claim, party_to_conflict=True)).get(PARTY_TO_CONFLICT, 0.0)
        <= TOLERANCE
    )
    assert (
        reasons(model, with_changes(claim, party_to_conflict=False)).get(PARTY_TO_CONFLICT, 0.0)
        >= -TOLERANCE
    )


@given(claim=claims, near=st.floats(0.0, 50.0), further=st.floats(0.0, 50.0))
def test_a_figure_far_from_the_consensus_never_raises_the_score(
    model: ClaimModel, claim: ClaimContext, near: float, further: float
) -> None:
    far = near + further
    p_near = probability(model, with_changes(claim, consensus_distance=near))
    p_far = probability(model, with_changes(claim, consensus_distance=-far))
    assert p_far <= p_near + TOLERANCE
    if far > CONSENSUS_AGREEMENT:
        assert p_far <= probability(model, with_changes(claim, consensus_distance=None)) + (
            TOLERANCE
        )
        effect = reasons(model, with_changes(claim, consensus_distance=far)).get(CONSENSUS, 0.0)
        assert effect <= TOLERANCE


@given(claim=claims, low=st.floats(0.0, 1.0), high=st.floats(0.0, 1.0))
def test_dependence_on_another_source_never_raises_the_score(
    model: ClaimModel, claim: ClaimContext, low: float, high: float
) -> None:
    low, high = min(low, high), max(low, high)
    p_low = probability(model, with_changes(claim, source_dependence=low))
    p_high = probability(model, with_changes(claim, source_dependence=high))
    assert p_high <= p_low + TOLERANCE
    assert p_low <= probability(model, with_changes(claim, source_dependence=None)) + TOLERANCE
    effect = reasons(model, with_changes(claim, source_dependence=high)).get(DEPENDENCE, 0.0)
    assert effect <= TOLERANCE


@given(claim=claims, fewer=st.integers(0, 30), more=st.integers(0, 30))
def test_independent_corroboration_never_lowers_the_score(
    model: ClaimModel, claim: ClaimContext, fewer: int, more: int
) -> None:
    p_fewer = probability(model, with_changes(claim, independent_corroborations=fewer))
    p_more = probability(model, with_changes(claim, independent_corroborations=fewer + more))
    assert p_more >= p_fewer - TOLERANCE
    p_none = probability(model, with_changes(claim, independent_corroborations=0))
    p_unknown = probability(model, with_changes(claim, independent_corroborations=None))
    assert p_none <= p_unknown + TOLERANCE
    corroborated = with_changes(claim, independent_corroborations=fewer + more + 1)
    assert reasons(model, corroborated).get(CORROBORATION, 0.0) >= -TOLERANCE
    alone = with_changes(claim, independent_corroborations=0)
    assert reasons(model, alone).get(CORROBORATION, 0.0) <= TOLERANCE


def test_the_compiled_and_scikit_learn_paths_keep_the_directions(constrained: ClaimModel) -> None:
    base = adversarial_claims(200, seed=12, dated=False)[0]
    party = [with_changes(c, party_to_conflict=True) for c in base]
    not_party = [with_changes(c, party_to_conflict=False) for c in base]
    compiled = np.array([probability(constrained, c) for c in party])
    assert np.all(
        compiled <= np.array([probability(constrained, c) for c in not_party]) + TOLERANCE
    )
    slow = constrained.predict_holds_up(party)
    assert np.all(slow <= constrained.predict_holds_up(not_party) + TOLERANCE)


def test_without_constraints_the_same_data_teaches_the_wrong_directions(
    training: tuple[list[ClaimContext], list[str]],
) -> None:
    # The check above could not fail if the data never pointed the wrong way: it does.
    contexts, labels = training
    free = ClaimModel(cv=3, sign_constraints=False).fit(contexts, labels)
    claim = with_changes(contexts[0], independent_corroborations=None, source_dependence=None)
    party = probability(free, with_changes(claim, party_to_conflict=True))
    not_party = probability(free, with_changes(claim, party_to_conflict=False))
    assert party > not_party
    copied = probability(free, with_changes(claim, source_dependence=1.0))
    assert copied > probability(free, with_changes(claim, source_dependence=0.0))


def test_a_calibration_map_fitted_decreasing_is_flattened(
    constrained: ClaimModel, training: tuple[list[ClaimContext], list[str]]
) -> None:
    # A fold that ranks its calibration claims backwards would turn every sign around.
    model = copy.deepcopy(constrained)
    pairs = model.binary_.calibrated_classifiers_
    reversed_map = pairs[0].calibrators[0]
    reversed_map.a_ = 2.0
    b_before = reversed_map.b_
    untouched = [(pair.calibrators[0].a_, pair.calibrators[0].b_) for pair in pairs[1:]]
    contexts = training[0][:300]
    _, matrix = model.design_.transform(contexts)
    folds = [(np.arange(0), np.arange(300))] * len(pairs)
    decisions = pairs[0].estimator.decision_function(matrix)
    fold_mean = float(np.mean(1.0 / (1.0 + np.exp(2.0 * decisions + b_before))))
    keep_calibration_increasing(model.binary_, matrix, folds)
    assert reversed_map.a_ == 0.0
    assert 0.0 < 1.0 / (1.0 + np.exp(reversed_map.b_)) < 1.0
    # The constant it becomes is what the decreasing map gave on average on its own fold.
    np.testing.assert_allclose(reversed_map.predict(np.array([-5.0, 0.0, 5.0])), fold_mean)
    assert [(pair.calibrators[0].a_, pair.calibrators[0].b_) for pair in pairs[1:]] == untouched
