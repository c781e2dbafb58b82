"""Tolerance learned from the spread of the claims."""

from __future__ import annotations

import numpy as np

from scoring.closeness import event_relative_spread, learn_tolerances


def test_spread_of_each_event() -> None:
    event = np.array([0, 0, 0, 1, 1, 2], dtype=np.int64)
    point = np.array([100.0, 100.0, 130.0, 10.0, 12.0, 5.0])
    spread = event_relative_spread(event, point, 3)
    assert spread[0] == 0.0  # two of three agree exactly
    assert spread[1] == np.float64(1.0 / 11.0)  # |10 - 11| / 11
    assert np.isnan(spread[2])  # one claim: nothing to measure


def test_exact_and_noisy_properties_get_their_own_tolerance() -> None:
    rng = np.random.default_rng(0)
    events, points, props = [], [], []
    for e in range(40):
        noisy = e % 2 == 1
        truth = 1000.0 + e
        for _ in range(5):
            events.append(e)
            points.append(truth * (1 + rng.normal(0, 0.01)) if noisy else truth)
        props.append(1 if noisy else 0)
    tolerance = learn_tolerances(
        np.array(events, dtype=np.int64),
        np.array(points),
        np.array(props, dtype=np.int64),
        2,
        default=0.05,
        ceiling=0.25,
    )
    assert tolerance[0] == 0.0
    assert 0.005 < tolerance[1] < 0.05


def test_too_few_events_fall_back_to_the_default() -> None:
    tolerance = learn_tolerances(
        np.array([0, 0], dtype=np.int64),
        np.array([1.0, 2.0]),
        np.array([0], dtype=np.int64),
        1,
        default=0.05,
        ceiling=0.25,
    )
    assert tolerance.tolist() == [0.05]
