"""Claim-context features taken from the event's consensus: one figure rule, independent sources."""

from __future__ import annotations

from typing import Any

import pytest

from scoring.reliability import Reliability
from service.claims.models import Claim
from service.events.models import EventConsensus
from service.outlets.directory import OutletView
from service.scores.inputs import (
    ScoringInput,
    admiralty,
    consensus_distance,
    standing,
)


def outlet(outlet_id: int, owner: str | None = None) -> OutletView:
    return OutletView(outlet_id, f"o{outlet_id}", "O", "wire", None, owner, [], {}, None, None)


def corroborations(claim: Claim, owner: OutletView, event: EventConsensus) -> int:
    found = standing(claim, owner, event)
    assert found is not None
    return found.corroboration.confirmations


def row(
    claim_id: int,
    outlet_id: int,
    value: float,
    group: str | None = None,
    *,
    superseded: bool = False,
) -> dict[str, Any]:
    return {
        "claim_id": claim_id,
        "outlet_id": outlet_id,
        "outlet_slug": f"o{outlet_id}",
        "value": value,
        "low": None,
        "high": None,
        "copy_group": group,
        "superseded": superseded,
    }


def consensus(
    *rows: dict[str, Any],
    estimate: float | None = 40.0,
    status: str = "consensus",
    tolerance: float = 0.05,
    dependent_groups: list[dict[str, Any]] | None = None,
) -> EventConsensus:
    return EventConsensus(
        estimate=estimate,
        low=estimate,
        high=estimate,
        status=status,
        tolerance=tolerance,
        claims=list(rows),
        dependent_groups=dependent_groups or [],
    )


def test_corroboration_counts_independent_sources_giving_the_same_figure() -> None:
    mine = Claim(id=1, outlet_id=1, figure_value=40.0)
    event = consensus(
        row(1, 1, 40.0),
        row(2, 2, 41.0),  # another independent outlet within the tolerance: counts
        row(3, 3, 39.0, "owner:group"),  # one owner's two outlets count once
        row(4, 4, 39.5, "owner:group"),
        row(6, 1, 40.0),  # the same outlet again: not independent
        row(7, 7, 78.0),  # far off: no corroboration
        row(8, 8, 40.0, superseded=True),  # replaced by the outlet's later figure below
        row(9, 8, 60.0),
        row(10, 10, 43.0),  # 7% away: beyond the learned tolerance of 5%
    )
    assert corroborations(mine, outlet(1), event) == 2
    found = standing(mine, outlet(1), event)
    assert found is not None
    # o2, the owner's group, o7, o8 (its latest figure) and o10 reported figures.
    assert found.corroboration.independent_others == 5


def test_a_declared_copy_and_the_same_owner_do_not_corroborate() -> None:
    original = Claim(id=10, outlet_id=1, figure_value=40.0)
    event = consensus(row(10, 1, 40.0, "copy:10"), row(11, 2, 40.0, "copy:10"))
    assert corroborations(original, outlet(1), event) == 0
    copy = Claim(id=12, outlet_id=3, figure_value=40.0, copy_of_claim_id=10)
    assert corroborations(copy, outlet(3), event) == 0
    owned = consensus(row(11, 2, 40.0, "owner:chain"))
    assert corroborations(original, outlet(1, owner="chain"), owned) == 0
    assert corroborations(original, outlet(1), owned) == 1


def test_outlets_learned_to_depend_on_each_other_count_once() -> None:
    mine = Claim(id=1, outlet_id=1, figure_value=40.0)
    rows = (row(2, 2, 40.0), row(3, 3, 40.0))
    independent = consensus(*rows)
    copying = consensus(
        *rows, dependent_groups=[{"outlet_slugs": ["o2", "o3"], "probability": 0.9}]
    )
    assert corroborations(mine, outlet(1), independent) == 2
    assert corroborations(mine, outlet(1), copying) == 1


def test_dependence_on_another_outlet_reaches_the_claim_model() -> None:
    copying = consensus(
        row(2, 2, 40.0), dependent_groups=[{"outlet_slugs": ["o1", "o2"], "probability": 0.9}]
    )
    # A new claim repeating the figure of an outlet it was learned to copy.
    repeat = standing(Claim(id=1, outlet_id=1, figure_value=40.0), outlet(1), copying)
    assert repeat is not None
    assert repeat.dependence == 0.9
    # A figure of its own is not a copy.
    own = standing(Claim(id=1, outlet_id=1, figure_value=55.0), outlet(1), copying)
    assert own is not None
    assert own.dependence == 0.0
    # A claim the consensus already assessed keeps the dependence it was given there.
    assessed = consensus(row(1, 1, 40.0) | {"dependence": 0.7}, row(2, 2, 40.0))
    found = standing(Claim(id=1, outlet_id=1, figure_value=40.0), outlet(1), assessed)
    assert found is not None
    assert found.dependence == 0.7


def test_without_consensus_or_figure_the_features_are_unknown() -> None:
    assert standing(Claim(id=1, outlet_id=1, figure_value=5.0), outlet(1), None) is None
    assert standing(Claim(id=1, outlet_id=1), outlet(1), consensus(row(2, 2, 40.0))) is None
    assert consensus_distance(Claim(id=1, outlet_id=1), consensus()) is None
    contested = consensus(row(2, 2, 40.0), estimate=None, status="contested")
    assert consensus_distance(Claim(id=1, outlet_id=1, figure_value=40.0), contested) is None


@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        ({"figure_value": 50.0}, 0.2),  # Figure.distance_to: relative to the larger figure
        ({"figure_value": 32.0}, 0.2),
        ({"figure_low": 30.0, "figure_high": 45.0}, 0.0),
        ({"figure_low": 45.0, "figure_high": 50.0}, 5.0 / 45.0),
    ],
)
def test_consensus_distance(figure: dict[str, float], expected: float) -> None:
    claim = Claim(id=1, outlet_id=1, **figure)
    assert consensus_distance(claim, consensus()) == pytest.approx(expected)


def _admiralty(claim: Claim, event: EventConsensus | None, mean: float, rated: bool) -> str:
    record = Reliability(
        mean=mean,
        low=0.0,
        high=1.0,
        alpha=1.0,
        beta=1.0,
        evidence=3.0,
        prior_mean=0.5,
        prior_strength=2.0,
        rated=rated,
    )
    item = ScoringInput(claim, outlet(1), None, event, standing(claim, outlet(1), event))
    return admiralty(item, record).code


def test_admiralty_code_from_record_and_corroboration() -> None:
    confirmed = consensus(row(1, 1, 40.0), row(2, 2, 40.0), row(3, 3, 90.0))
    claim = Claim(id=1, outlet_id=1, figure_value=40.0)
    assert _admiralty(claim, confirmed, 0.9, True) == "A1"
    outlier = Claim(id=9, outlet_id=1, figure_value=90.0)
    assert _admiralty(outlier, consensus(row(2, 2, 40.0)), 0.4, True) == "D5"
    assert _admiralty(claim, None, 0.5, False) == "F6"
    no_figure = Claim(id=5, outlet_id=1)
    assert _admiralty(no_figure, confirmed, 0.7, True) == "B6"
