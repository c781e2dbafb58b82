"""Claim-context features taken from the event's consensus."""

from __future__ import annotations

from typing import Any

import pytest

from service.claims.models import Claim
from service.events.models import EventConsensus
from service.outlets.directory import OutletView
from service.scores.inputs import consensus_distance, corroborations


def outlet(outlet_id: int, owner: str | None = None) -> OutletView:
    return OutletView(outlet_id, f"o{outlet_id}", "O", "wire", None, owner, [], {}, None, None)


def row(claim_id: int, outlet_id: int, value: float, group: str) -> dict[str, Any]:
    return {
        "claim_id": claim_id,
        "outlet_id": outlet_id,
        "value": value,
        "low": None,
        "high": None,
        "copy_group": group,
    }


def consensus(*rows: dict[str, Any], estimate: float = 40.0) -> EventConsensus:
    return EventConsensus(estimate=estimate, claims=list(rows))


def test_corroboration_counts_independent_groups_near_the_figure() -> None:
    mine = Claim(id=1, outlet_id=1, figure_value=40.0)
    event = consensus(
        row(1, 1, 40.0, "copy:1"),
        row(2, 2, 41.0, "copy:2"),  # independent, within 10%: counts
        row(3, 3, 39.0, "owner:group"),  # one owner's two outlets count once
        row(4, 4, 39.5, "owner:group"),
        row(5, 5, 40.0, "copy:1"),  # a syndicated copy of this very claim: not independent
        row(6, 1, 40.0, "copy:6"),  # the same outlet again: not independent
        row(7, 7, 78.0, "copy:7"),  # far off: no corroboration
    )
    assert corroborations(mine, outlet(1), event) == 2


def test_same_owner_does_not_corroborate() -> None:
    mine = Claim(id=10, outlet_id=1, figure_value=40.0)
    event = consensus(row(11, 2, 40.0, "owner:chain"))
    assert corroborations(mine, outlet(1, owner="chain"), event) == 0
    assert corroborations(mine, outlet(1), event) == 1


def test_without_consensus_or_figure_the_features_are_unknown() -> None:
    assert corroborations(Claim(id=1, outlet_id=1, figure_value=5.0), outlet(1), None) is None
    assert consensus_distance(Claim(id=1, outlet_id=1), consensus()) is None


@pytest.mark.parametrize(
    ("figure", "expected"),
    [({"figure_value": 50.0}, 0.25), ({"figure_low": 30.0, "figure_high": 45.0}, 0.0)],
)
def test_consensus_distance(figure: dict[str, float], expected: float) -> None:
    claim = Claim(id=1, outlet_id=1, **figure)
    assert consensus_distance(claim, consensus()) == pytest.approx(expected)
