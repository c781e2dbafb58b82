"""Reconciliation: hand-worked cases and properties."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.reconcile import (
    CategoricalClaim,
    ClaimTable,
    NumericClaim,
    SourcePrior,
    Status,
    TruthDiscovery,
    reconcile,
)

GOOD = SourcePrior(0.85, 20.0)
POOR = SourcePrior(0.25, 20.0)


def test_raqqa_estimate_sits_with_the_credible_independent_figures() -> None:
    claims = [
        NumericClaim("Raqqa Is Being Slaughtered Silently", 37),
        NumericClaim("Syrian Observatory for Human Rights", 42),
        NumericClaim("SANA", 78, party=True),
    ]
    priors = {
        "Raqqa Is Being Slaughtered Silently": GOOD,
        "Syrian Observatory for Human Rights": GOOD,
        "SANA": POOR,
    }
    result = reconcile(claims, priors)
    assert result.kind == "numeric"
    assert isinstance(result.estimate, float)
    assert 37 <= result.estimate <= 42
    assert result.interval == (37.0, 42.0)
    assert result.status is Status.CONSENSUS
    assert result.parties == ("SANA",)
    weights = result.source_weights
    assert weights["SANA"] < 0.1 * weights["Syrian Observatory for Human Rights"]
    by_source = {claim.source: claim for claim in result.claims}
    assert by_source["SANA"].agreement == 0.0
    assert by_source["SANA"].relative_distance == pytest.approx((78 - 37) / 78)
    assert by_source["Raqqa Is Being Slaughtered Silently"].agreement == 1.0
    assert 0.0 < by_source["Syrian Observatory for Human Rights"].agreement < 1.0


def test_party_factor_discounts_a_party_with_a_good_record() -> None:
    claims = [NumericClaim("a", 10), NumericClaim("b", 10), NumericClaim("c", 30, party=True)]
    priors = {"a": GOOD, "b": GOOD, "c": GOOD}
    discounted = reconcile(claims, priors, party_factor=0.25)
    undiscounted = reconcile(claims, priors, party_factor=1.0)
    assert discounted.source_weights["c"] == pytest.approx(
        0.25 * undiscounted.source_weights["c"], rel=0.2
    )
    assert discounted.source_weights["c"] < discounted.source_weights["a"]


def test_two_equally_credible_far_apart_figures_are_contested() -> None:
    result = reconcile([NumericClaim("a", 10), NumericClaim("b", 100)], {"a": GOOD, "b": GOOD})
    assert result.status is Status.CONTESTED
    # Contested: no single answer, the competing figures with their support instead.
    assert result.estimate is None
    assert result.interval == (10.0, 100.0)
    assert {figure.estimate for figure in result.competing} == {10.0, 100.0}
    supports = [figure.support for figure in result.competing]
    assert supports[0] == pytest.approx(supports[1])
    # Each is less likely than not: the truth may also be a figure nobody gave.
    assert result.confidence == pytest.approx(supports[0])
    assert result.confidence < 0.5


def test_close_figures_are_not_contested() -> None:
    result = reconcile([NumericClaim("a", 100), NumericClaim("b", 110)], {"a": GOOD, "b": GOOD})
    assert result.status is Status.CONSENSUS


def test_one_source_is_insufficient_and_never_certain() -> None:
    result = reconcile([NumericClaim("a", 12)], {"a": GOOD})
    assert result.status is Status.INSUFFICIENT
    assert result.estimate == 12.0
    assert result.independent_reports == 1
    # One source is believed as far as its record goes: its vote log(A / (1 - A)) against
    # "some other figure" is a confidence of exactly its reliability.
    assert result.confidence == pytest.approx(GOOD.reliability, abs=1e-3)
    unrated = reconcile([NumericClaim("a", 12)])
    assert unrated.confidence < 0.6


def test_one_source_repeating_itself_is_still_insufficient() -> None:
    result = reconcile([NumericClaim("a", 12), NumericClaim("a", 14)])
    assert result.status is Status.INSUFFICIENT


def test_syndicated_copies_count_once() -> None:
    copies = [NumericClaim(f"outlet{i}", 90, copy_group="wire story") for i in range(10)]
    independent = [NumericClaim("x", 40), NumericClaim("y", 40)]
    priors = {claim.source: SourcePrior(0.7, 5.0) for claim in copies + independent}
    result = reconcile(copies + independent, priors)
    assert result.leading_figure == 40.0
    assert result.independent_reports == 3
    copy_weight = sum(c.weight for c in result.claims if c.copy_group == "wire story")
    independent_weight = sum(c.weight for c in result.claims if c.copy_group is None)
    # Ten copies together cast at most what one independent source casts.
    assert copy_weight <= independent_weight / 2 + 1e-9
    # Without the copy group the ten copies would win: the grouping is what decides.
    ungrouped = [NumericClaim(c.source, c.value) for c in copies]
    assert reconcile(ungrouped + independent, priors).leading_figure == 90.0


def test_one_vandal_value_does_not_move_the_estimate() -> None:
    honest = [NumericClaim("a", 1200), NumericClaim("b", 1200), NumericClaim("c", 1187)]
    base = reconcile(honest)
    vandalised = reconcile([*honest, NumericClaim("vandal", 99_999_999)])
    assert base.estimate == vandalised.estimate == 1200.0
    assert vandalised.interval == base.interval
    vandal = next(c for c in vandalised.claims if c.source == "vandal")
    assert vandal.agreement == 0.0


def test_near_figures_support_each_other() -> None:
    # 1200 and 1201 are one report up to a typo; together they outweigh 1500 from one source.
    result = reconcile(
        [NumericClaim("a", 1200), NumericClaim("b", 1201), NumericClaim("c", 1500)],
        {"a": GOOD, "b": GOOD, "c": GOOD},
    )
    assert result.estimate in (1200.0, 1201.0)
    assert result.status is Status.CONSENSUS


def test_ranges_support_the_figures_inside_them() -> None:
    result = reconcile(
        [
            NumericClaim("a", low=30, high=50),
            NumericClaim("b", low=40, high=60),
            NumericClaim("c", 44),
            NumericClaim("d", 90),
        ],
        dict.fromkeys("abcd", GOOD),
    )
    assert result.estimate == 44.0
    assert result.interval == (30.0, 60.0)
    by_source = {claim.source: claim for claim in result.claims}
    assert by_source["a"].agreement == 1.0
    assert by_source["a"].relative_distance == 0.0
    assert by_source["d"].agreement == 0.0


def test_a_range_alone_estimates_its_midpoint() -> None:
    result = reconcile([NumericClaim("a", low=10, high=20)])
    assert result.estimate == 15.0
    assert result.interval == (10.0, 20.0)


def test_categorical_majority_of_credible_sources() -> None:
    claims = [
        CategoricalClaim("a", "coalition"),
        CategoricalClaim("b", "coalition"),
        CategoricalClaim("c", "russia", party=True),
    ]
    result = reconcile(claims, {"a": GOOD, "b": GOOD, "c": GOOD})
    assert result.kind == "categorical"
    assert result.estimate == "coalition"
    assert result.interval is None
    assert result.agreements == (1.0, 1.0, 0.0)
    assert result.relative_distances == (0.0, 0.0, 1.0)


def test_a_reliable_source_outvotes_two_unreliable_ones() -> None:
    result = reconcile(
        [CategoricalClaim("good", "x"), CategoricalClaim("p1", "y"), CategoricalClaim("p2", "z")],
        {"good": SourcePrior(0.95, 50.0), "p1": POOR, "p2": POOR},
    )
    assert result.estimate == "x"


def test_mixed_event_is_rejected() -> None:
    with pytest.raises(ValueError, match="mixes numeric and categorical"):
        reconcile([NumericClaim("a", 1), CategoricalClaim("b", "x")])


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"value": 5.0, "low": 0.0, "high": 2.0},
        {"low": 3.0, "high": 2.0},
        {"value": math.nan},
        {"low": 1.0},
    ],
)
def test_invalid_numeric_claims_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"value|low|high|range"):
        NumericClaim("a", **kwargs)


def test_prior_must_be_strictly_inside_unit_interval() -> None:
    with pytest.raises(ValueError, match="reliability"):
        SourcePrior(1.0)
    with pytest.raises(ValueError, match="evidence"):
        SourcePrior(0.5, evidence=0.0)


def _events_with_a_reliable_and_an_unreliable_source() -> dict[str, list[NumericClaim]]:
    """Twenty events where "steady" sides with a crowd and "erratic" does not, then one event
    where the two stand alone against each other."""
    events: dict[str, list[NumericClaim]] = {}
    for i in range(20):
        truth = 1000.0 + 17 * i
        events[f"e{i}"] = [
            NumericClaim("steady", truth),
            NumericClaim(f"crowd{i}a", truth),
            NumericClaim(f"crowd{i}b", truth),
            NumericClaim("erratic", truth * 1.3),
        ]
    events["duel"] = [NumericClaim("steady", 500.0), NumericClaim("erratic", 650.0)]
    return events


def test_fit_learns_source_accuracy_across_events() -> None:
    model = TruthDiscovery().fit(_events_with_a_reliable_and_an_unreliable_source())
    accuracy = dict(zip(model.sources_, model.source_accuracy_, strict=True))
    # Worked by hand: "steady" is right in 20 of 21 contested events, its left-out posterior
    # there about 0.94 against two fresh sources and "erratic"; on a prior of 0.5 x 2 that is
    # about 0.87.
    assert accuracy["steady"] > 0.85
    assert accuracy["erratic"] < 0.1
    assert model.estimate("duel") == 500.0
    assert model.source_weights_["steady"] > model.source_weights_["erratic"] == 0.0
    duel = model.result("duel")
    # Strong evidence for 500, but from one source: not a consensus.
    assert duel.status is Status.UNCERTAIN
    assert duel.confidence > 0.9


def test_learned_priors_carry_over_to_a_single_event() -> None:
    model = TruthDiscovery().fit(_events_with_a_reliable_and_an_unreliable_source())
    claims = [NumericClaim("steady", 70.0), NumericClaim("erratic", 95.0)]
    assert reconcile(claims).status is Status.CONTESTED
    informed = reconcile(claims, model.learned_priors())
    assert informed.estimate == 70.0
    assert informed.status is Status.UNCERTAIN
    assert informed.confidence > 0.9


def test_sklearn_conventions() -> None:
    from sklearn.base import clone

    model = TruthDiscovery(party_factor=0.3, tolerance=0.02)
    assert model.get_params()["party_factor"] == 0.3
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    events = {"e": [NumericClaim("a", 1.0), NumericClaim("b", 1.0)]}
    assert model.fit(events) is model
    assert not hasattr(copy, "estimates_")


def test_claim_table_validates_shapes() -> None:
    with pytest.raises(ValueError, match="one entry per claim"):
        ClaimTable(
            event=np.zeros(2, dtype=np.int64),
            source=np.zeros(1, dtype=np.int64),
            low=np.zeros(2),
            high=np.zeros(2),
            copy_group=np.full(2, -1, dtype=np.int64),
            party=np.zeros(2, dtype=bool),
            events=("e",),
            sources=("a",),
            copy_groups=(),
            categorical_events=np.zeros(1, dtype=bool),
        )


def test_empty_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="no claims"):
        reconcile([])


# -- properties ----------------------------------------------------------------------------------

values = st.integers(min_value=-1_000, max_value=1_000_000).map(float)


@st.composite
def numeric_claims(draw: st.DrawFn) -> list[NumericClaim]:
    n = draw(st.integers(min_value=1, max_value=12))
    claims = []
    for _ in range(n):
        source = draw(st.sampled_from([f"s{i}" for i in range(8)]))
        group = draw(st.sampled_from([None, None, "g1", "g2"]))
        party = draw(st.booleans())
        if draw(st.booleans()):
            claims.append(NumericClaim(source, draw(values), copy_group=group, party=party))
        else:
            a, b = sorted((draw(values), draw(values)))
            claims.append(NumericClaim(source, low=a, high=b, copy_group=group, party=party))
    return claims


priors_strategy = st.dictionaries(
    st.sampled_from([f"s{i}" for i in range(8)]),
    st.builds(
        SourcePrior,
        st.floats(min_value=0.01, max_value=0.99),
        st.one_of(st.none(), st.floats(min_value=0.1, max_value=100.0)),
    ),
)


@settings(max_examples=60, deadline=None)
@given(numeric_claims(), priors_strategy)
def test_estimate_and_interval_lie_within_the_claims(
    claims: list[NumericClaim], priors: dict[str, SourcePrior]
) -> None:
    result = reconcile(claims, priors)
    lowest = min(c.bounds[0] for c in claims)
    highest = max(c.bounds[1] for c in claims)
    assert isinstance(result.leading_figure, float)
    assert lowest <= result.leading_figure <= highest
    assert (result.estimate is None) == (result.status is Status.CONTESTED)
    assert result.interval is not None
    low, high = result.interval
    assert lowest <= low <= result.leading_figure <= high <= highest


@settings(max_examples=60, deadline=None)
@given(numeric_claims(), priors_strategy)
def test_weights_agreements_and_distances_are_well_formed(
    claims: list[NumericClaim], priors: dict[str, SourcePrior]
) -> None:
    result = reconcile(claims, priors)
    assert len(result.claims) == len(claims)
    for claim, assessed in zip(claims, result.claims, strict=True):
        assert assessed.source == claim.source
        assert 0.0 <= assessed.agreement <= 1.0
        assert assessed.relative_distance >= 0.0
        assert math.isfinite(assessed.weight)
        assert assessed.weight >= 0.0
        # A claim whose range holds the estimate agrees fully.
        if claim.bounds[0] <= float(result.leading_figure) <= claim.bounds[1]:
            assert assessed.agreement == 1.0
        assert 0.0 < assessed.own_share <= 1.0
        assert 1 <= assessed.credibility <= 6
    assert all(math.isfinite(w) and w >= 0.0 for w in result.source_weights.values())
    assert 0.0 < result.confidence < 1.0
    if result.independent_reports < 2:
        assert result.status is Status.INSUFFICIENT


@settings(max_examples=60, deadline=None)
@given(numeric_claims(), priors_strategy, st.randoms(use_true_random=False))
def test_claim_order_does_not_matter(
    claims: list[NumericClaim], priors: dict[str, SourcePrior], random: object
) -> None:
    shuffled = list(claims)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    first = reconcile(claims, priors)
    second = reconcile(shuffled, priors)
    assert first.leading_figure == second.leading_figure
    assert first.estimate == second.estimate
    assert first.interval == second.interval
    assert first.status == second.status
    assert first.confidence == pytest.approx(second.confidence)
    assert first.source_weights == pytest.approx(second.source_weights)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["x", "y", "z"])),
        min_size=1,
        max_size=10,
    )
)
def test_categorical_estimate_is_a_claimed_value(pairs: list[tuple[str, str]]) -> None:
    result = reconcile([CategoricalClaim(source, value) for source, value in pairs])
    assert result.leading_figure in {value for _, value in pairs}
    assert all(a in (0.0, 1.0) for a in result.agreements)


# -- one source, one vote ------------------------------------------------------------------------

ACTIVIST, MONITOR, STATE = "activist network", "monitoring group", "state media"
DESK_PRIORS = {ACTIVIST: GOOD, MONITOR: GOOD, STATE: SourcePrior(0.4, 20.0)}


def test_repetition_by_one_source_is_one_vote() -> None:
    # The scenario that captured the consensus before: 30, 31 and a party's 90, then the party
    # posts its figure eight more times.
    claims = [
        NumericClaim(ACTIVIST, 30, time=1.0),
        NumericClaim(MONITOR, 31, time=2.0),
        *[NumericClaim(STATE, 90, party=True, time=3.0 + i) for i in range(9)],
    ]
    result = reconcile(claims, DESK_PRIORS)
    assert result.status is Status.CONSENSUS
    assert result.estimate in (30.0, 31.0)
    assert result.interval == (30.0, 31.0)
    assert result.independent_reports == 3
    state = [claim for claim in result.claims if claim.source == STATE]
    assert [claim.superseded for claim in state] == [True] * 8 + [False]
    assert all(claim.weight == 0.0 for claim in state[:8])
    assert "superseded by a later figure from the same source" in state[0].discounts
    assert "party to the conflict" in state[-1].discounts
    # The same repetition without times is still one report, its vote split between copies.
    undated = reconcile(
        [NumericClaim(c.source, c.value, party=c.party) for c in claims], DESK_PRIORS
    )
    assert undated.estimate == result.estimate
    assert undated.independent_reports == 3
    assert undated.source_weights[STATE] == pytest.approx(result.source_weights[STATE])


def test_a_revised_figure_replaces_the_earlier_one() -> None:
    claims = [
        NumericClaim(ACTIVIST, 20, time=1.0),
        NumericClaim(MONITOR, 42, time=2.0),
        NumericClaim(ACTIVIST, 40, time=3.0),  # the activists revise their toll upwards
    ]
    result = reconcile(claims, DESK_PRIORS)
    assert result.interval == (40.0, 42.0)
    assert [claim.superseded for claim in result.claims] == [True, False, False]
    assert result.claims[0].agreement == 0.0


# -- statuses that mean what they say -----------------------------------------------------------


def test_every_status() -> None:
    consensus = reconcile([NumericClaim("a", 30), NumericClaim("b", 31)], {"a": GOOD, "b": GOOD})
    assert consensus.status is Status.CONSENSUS
    assert consensus.confidence >= 0.8
    contested = reconcile([NumericClaim("a", 10), NumericClaim("b", 100)], {"a": GOOD, "b": GOOD})
    assert contested.status is Status.CONTESTED
    # Two unrated sources agreeing: the evidence leans, it does not settle.
    uncertain = reconcile([NumericClaim("a", 30), NumericClaim("b", 30)])
    assert uncertain.status is Status.UNCERTAIN
    assert uncertain.confidence < 0.8
    insufficient = reconcile([NumericClaim("a", 30)], {"a": GOOD})
    assert insufficient.status is Status.INSUFFICIENT
    assert {status.value for status in Status} == {
        "consensus",
        "contested",
        "uncertain",
        "insufficient",
        "no_reports",
    }


def test_claims_carry_corroboration_credibility_and_reasons() -> None:
    claims = [
        NumericClaim(ACTIVIST, 30),
        NumericClaim(MONITOR, 31),
        NumericClaim(STATE, 90, party=True, copy_group="state"),
        NumericClaim("state wire copy", 90, party=True, copy_group="state"),
        NumericClaim(STATE + " english", 90, party=True, copy_group="state"),
    ]
    result = reconcile(claims, DESK_PRIORS)
    assert result.status is Status.CONSENSUS
    by_source = {claim.source: claim for claim in result.claims}
    activist = by_source[ACTIVIST]
    assert activist.corroboration.confirmations == 1
    assert activist.credibility == 1
    assert activist.in_leading_cluster
    state = by_source[STATE]
    assert not state.in_leading_cluster
    assert state.credibility == 5  # contradicted by the independent consensus
    assert state.corroboration.confirmations == 0
    assert state.corroboration.copies_ignored == 2
    copy = by_source["state wire copy"]
    assert any(reason.startswith("declared copy") for reason in copy.discounts)
    assert result.supporting_sources == (ACTIVIST, MONITOR)


# -- learned tolerance ---------------------------------------------------------------------------


def test_tolerance_is_learned_per_property() -> None:
    rng = np.random.default_rng(3)
    events: dict[str, list[NumericClaim]] = {}
    properties: dict[str, str] = {}
    for i in range(30):
        truth = 1000.0 + 50 * i
        # Counts: sources agree to the unit or not at all.
        events[f"count{i}"] = [NumericClaim(f"c{j}", truth) for j in range(4)] + [
            NumericClaim("c9", truth + 100)
        ]
        properties[f"count{i}"] = "count"
        # Readings: every source has its own noise of about 1%.
        events[f"reading{i}"] = [
            NumericClaim(f"r{j}", round(truth * (1 + rng.normal(0, 0.01)), 1)) for j in range(5)
        ]
        properties[f"reading{i}"] = "reading"
    model = TruthDiscovery().fit(ClaimTable.from_events(events, properties))
    assert model.property_tolerance_["count"] == 0.0
    assert 0.005 < model.property_tolerance_["reading"] < 0.05
